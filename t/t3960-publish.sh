#!/bin/bash
# publish: an image to an SSM parameter in two regions (a new version labelled git-SHA, read back by
# the AWS CLI), to a launch template (a new version from the default with only ImageId changed, made
# the default with --set-default), the same image again (skipped, no call), the dry run (the plan,
# nothing changed), an unknown parameter (exit 1, nothing created) unless --create, the audit log,
# and bad input and usage errors that change nothing.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

P=/amicycle/web/production
jq -n --arg p $P '
def img(id; sha): {ImageId: id, Name: "web-\(sha)", Tags: [{Key: "GitSha", Value: sha}]};
def prm(v): {Name: $p, DataType: "aws:ec2:image", Value: v};
{Regions: {
	"us-east-1": {Images: [img("ami-0e000000000000001"; "aaa"), img("ami-0e000000000000002"; "bbb")],
		Parameters: [prm("ami-0e000000000000009") + {Labels: ["git-old"]}],
		LaunchTemplates: [{LaunchTemplateId: "lt-0e000000000000001", LaunchTemplateName: "web",
			DefaultVersionNumber: 1,
			Versions: [{LaunchTemplateData: {ImageId: "ami-0e000000000000009", InstanceType: "t3.micro",
				    KeyName: "ops"}},
				   {LaunchTemplateData: {ImageId: "ami-0e000000000000008", InstanceType: "t3.large"}}]}]},
	"us-west-2": {Images: [img("ami-0f000000000000001"; "aaa")],
		Parameters: [prm("ami-0f000000000000009")]}}}' >seed.json || exit 1

cat >release.jsonl <<EOF
{"ImageId":"ami-0e000000000000001","Region":"us-east-1","Tags":[{"Key":"GitSha","Value":"aaa"}]}
{"ImageId":"ami-0f000000000000001","Region":"us-west-2","Tags":[{"Key":"GitSha","Value":"aaa"}]}
EOF

# history REGION: each version of $P there as [Version, Value, Labels], read by the AWS CLI.
history () {
	ec2_aws --region "$1" ssm get-parameter-history --name "$2" >hist.json &&
	jq -c ".Parameters[] | [.Version, .Value, .Labels]" hist.json
}

test_expect_success 'the dry run is the plan: no PutParameter (SSM has no DryRun), nothing changed' '
	ec2_start seed.json &&
	ec2_reset_counts &&
	publish --parameter $P --dry-run release.jsonl >out &&
	jq -c "[.Region, .Result.Status, .Published]" out >actual &&
	cat >expect <<-EOF &&
	["us-east-1","dry-run",{"Parameter":"$P","Version":2,"Label":"git-aaa","PreviousVersion":1,"PreviousImageId":"ami-0e000000000000009"}]
	["us-west-2","dry-run",{"Parameter":"$P","Version":2,"Label":"git-aaa","PreviousVersion":1,"PreviousImageId":"ami-0f000000000000009"}]
	EOF
	test_cmp expect actual &&
	test "$(ec2_count GetParameterHistory)" = 2 &&
	test "$(ec2_count DescribeImages)" = 2 &&
	test "$(ec2_total)" = 4 &&
	history us-east-1 $P >actual &&
	echo "[1,\"ami-0e000000000000009\",[\"git-old\"]]" >expect &&
	test_cmp expect actual
'

test_expect_success 'to a parameter in two regions: a new version each, labelled git-SHA; audited' '
	ec2_reset_counts &&
	publish --parameter $P --audit audit.log release.jsonl >out &&
	jq -c "[.ImageId, .Result.Action, .Result.Status, .Published.Version, .Published.Label]" out >actual &&
	cat >expect <<-\EOF &&
	["ami-0e000000000000001","publish","done",2,"git-aaa"]
	["ami-0f000000000000001","publish","done",2,"git-aaa"]
	EOF
	test_cmp expect actual &&
	history us-east-1 $P >actual &&
	cat >expect <<-\EOF &&
	[1,"ami-0e000000000000009",["git-old"]]
	[2,"ami-0e000000000000001",["git-aaa"]]
	EOF
	test_cmp expect actual &&
	history us-west-2 $P >actual &&
	cat >expect <<-\EOF &&
	[1,"ami-0f000000000000009",[]]
	[2,"ami-0f000000000000001",["git-aaa"]]
	EOF
	test_cmp expect actual &&
	ec2_aws ssm get-parameters --names "$P:git-aaa" >got &&
	test "$(jq -c "[.Parameters[0].Value, .Parameters[0].DataType]" got)" = "[\"ami-0e000000000000001\",\"aws:ec2:image\"]" &&
	jq -c "[.Service, .Region, .Action, .Resources, .Parameters.Value // .Parameters.Labels]" audit.log | sort >actual &&
	cat >expect <<-EOF &&
	["ssm","us-east-1","LabelParameterVersion",["$P"],["git-aaa"]]
	["ssm","us-east-1","PutParameter",["$P"],"ami-0e000000000000001"]
	["ssm","us-west-2","LabelParameterVersion",["$P"],["git-aaa"]]
	["ssm","us-west-2","PutParameter",["$P"],"ami-0f000000000000001"]
	EOF
	test_cmp expect actual
'

test_expect_success 'the same image again: skipped, no mutating call' '
	ec2_reset_counts &&
	publish --parameter $P release.jsonl >out &&
	jq -c "[.Result.Status, .Result.Reason, .Published.Version]" out >actual &&
	cat >expect <<-EOF &&
	["skipped","already published: $P holds ami-0e000000000000001 in us-east-1 (version 2)",2]
	["skipped","already published: $P holds ami-0f000000000000001 in us-west-2 (version 2)",2]
	EOF
	test_cmp expect actual &&
	test "$(ec2_count PutParameter)" = 0 &&
	test "$(ec2_count LabelParameterVersion)" = 0
'

test_expect_success 'an unknown parameter: exit 1, one line, nothing created; --create creates it' '
	ec2_reset_counts &&
	echo "{\"ImageId\":\"ami-0e000000000000002\",\"Tags\":[{\"Key\":\"GitSha\",\"Value\":\"bbb\"}]}" >bbb.jsonl &&
	test_expect_code 1 publish --parameter /amicycle/web/prodution bbb.jsonl >out 2>err &&
	test_line_count = 1 err &&
	test_grep "^publish: us-east-1: GetParameterHistory: ParameterNotFound: Parameter /amicycle/web/prodution not found. (request id " err &&
	test "$(jq -r .Result.Status out)" = failed &&
	test "$(ec2_count PutParameter)" = 0 &&
	test_expect_code 254 ec2_aws ssm get-parameter-history --name /amicycle/web/prodution >/dev/null 2>&1 &&
	publish --parameter /amicycle/web/staging --create bbb.jsonl >out &&
	test "$(jq -c "[.Result.Status, .Published.Version, .Published.PreviousVersion]" out)" = "[\"done\",1,null]" &&
	history us-east-1 /amicycle/web/staging >actual &&
	echo "[1,\"ami-0e000000000000002\",[\"git-bbb\"]]" >expect &&
	test_cmp expect actual
'

test_expect_success 'to a launch template with --set-default: a new version from the default, only ImageId changed' '
	ec2_reset_counts &&
	publish --launch-template web --set-default --audit audit.log bbb.jsonl >out &&
	jq -c "[.Result.Status, .Published]" out >actual &&
	echo "[\"done\",{\"LaunchTemplateId\":\"lt-0e000000000000001\",\"LaunchTemplateName\":\"web\",\"VersionNumber\":3,\"Default\":true,\"PreviousVersion\":1,\"PreviousImageId\":\"ami-0e000000000000009\"}]" >expect &&
	test_cmp expect actual &&
	ec2_aws ec2 describe-launch-template-versions --launch-template-name web --versions "\$Default" >got &&
	jq -c ".LaunchTemplateVersions[] | [.VersionNumber, .DefaultVersion, .VersionDescription,
		.LaunchTemplateData]" got >actual &&
	echo "[3,true,\"ami-0e000000000000002 git bbb\",{\"ImageId\":\"ami-0e000000000000002\",\"InstanceType\":\"t3.micro\",\"KeyName\":\"ops\"}]" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count CreateLaunchTemplateVersion)" = 1 &&
	test "$(ec2_count ModifyLaunchTemplate)" = 1 &&
	jq -c "select(.Action == \"ModifyLaunchTemplate\") | [.Service, .Resources, .Parameters.DefaultVersion]" audit.log >actual &&
	echo "[\"ec2\",[\"lt-0e000000000000001\"],\"3\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'the launch template again: skipped, no call; by its id too' '
	ec2_reset_counts &&
	publish --launch-template lt-0e000000000000001 --set-default bbb.jsonl >out &&
	test "$(jq -c "[.Result.Status, .Published.VersionNumber]" out)" = "[\"skipped\",3]" &&
	test "$(ec2_count CreateLaunchTemplateVersion)" = 0 &&
	test "$(ec2_count ModifyLaunchTemplate)" = 0
'

test_expect_success 'without --set-default: a new latest version, the default left; the dry run sends DryRun' '
	head -n 1 release.jsonl >aaa.jsonl &&
	ec2_reset_counts &&
	publish --launch-template web --dry-run aaa.jsonl >out &&
	test "$(jq -c "[.Result.Status, .Published.VersionNumber, .Published.Default]" out)" = "[\"dry-run\",4,false]" &&
	ec2_requests >reqs &&
	test "$(jq -r ".[] | select(.Action == \"CreateLaunchTemplateVersion\") | .Params.DryRun" reqs)" = true &&
	publish --launch-template web aaa.jsonl >out &&
	test "$(jq -c "[.Result.Status, .Published.VersionNumber, .Published.Default, .Published.PreviousVersion]" out)" = "[\"done\",4,false,3]" &&
	ec2_aws ec2 describe-launch-templates --launch-template-names web >got &&
	test "$(jq -c ".LaunchTemplates[0] | [.DefaultVersionNumber, .LatestVersionNumber]" got)" = "[3,4]" &&
	ec2_aws ec2 describe-launch-template-versions --launch-template-name web --versions 4 >got &&
	test "$(jq -c ".LaunchTemplateVersions[0].LaunchTemplateData | [.ImageId, .InstanceType]" got)" = "[\"ami-0e000000000000001\",\"t3.micro\"]"
'

test_expect_success 'an unknown launch template: exit 1, one line' '
	test_expect_code 1 publish --launch-template nosuch aaa.jsonl >out 2>err &&
	test_line_count = 1 err &&
	test_grep "^publish: us-east-1: DescribeLaunchTemplates: InvalidLaunchTemplateName.NotFoundException: " err
'

test_expect_success 'an image revoked, disabled or gone is refused: exit 1, nothing published' '
	ec2_reset_counts &&
	ec2_aws ec2 create-tags --resources ami-0e000000000000002 --tags Key=Revoked,Value=true &&
	test_expect_code 1 publish --parameter $P bbb.jsonl >out 2>err &&
	echo "publish: us-east-1: ami-0e000000000000002 is tagged Revoked=true: not published to $P" >expect &&
	test_cmp expect err &&
	test "$(jq -c "[.Result.Status, .Published]" out)" = "[\"failed\",null]" &&
	echo "{\"ImageId\":\"ami-0e000000000000003\"}" >gone.jsonl &&
	test_expect_code 1 publish --launch-template web gone.jsonl >out 2>err &&
	test_grep "^publish: us-east-1: no image ami-0e000000000000003 (or none shared with this account): not published to web$" err &&
	test "$(ec2_count PutParameter)" = 0 &&
	test "$(ec2_count CreateLaunchTemplateVersion)" = 0 &&
	history us-east-1 $P >actual &&
	test_line_count = 2 actual
'

test_expect_success 'bad input: an image id of the wrong form, two images for one region: exit 3, no call' '
	ec2_reset_counts &&
	printf "%s\n" "{\"ImageId\":\"ami-0e000000000000001\"}" "{\"ImageId\":\"ami-XYZ\"}" >bad.jsonl &&
	test_expect_code 3 publish --parameter $P bad.jsonl >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^publish: bad.jsonl:2: " err &&
	test_line_count = 1 err &&
	printf "%s\n" "{\"ImageId\":\"ami-0e000000000000001\"}" "{\"ImageId\":\"ami-0e000000000000002\",\"Region\":\"us-east-1\"}" >two.jsonl &&
	test_expect_code 3 publish --parameter $P two.jsonl >out 2>err &&
	test_grep "^publish: two.jsonl:2: a second image for $P in us-east-1 (the first is on line 1)" err &&
	echo "{\"ImageId\":\"ami-0e000000000000001\",\"Tags\":[{\"Key\":\"GitSha\",\"Value\":\"a b\"}]}" >sha.jsonl &&
	test_expect_code 3 publish --parameter $P sha.jsonl >out 2>err &&
	test_grep "^publish: sha.jsonl:1: tag GitSha .a b.: not what an SSM label can carry" err &&
	test "$(ec2_total)" = 0 &&
	history us-east-1 $P >actual &&
	test_line_count = 2 actual
'

test_expect_success 'usage errors: no channel or both, a bad name, options that do not go together' '
	expect_usage_error "give one of --parameter and --launch-template" publish aaa.jsonl &&
	expect_usage_error "give one of --parameter and --launch-template" publish --parameter $P \
		--launch-template web aaa.jsonl &&
	expect_usage_error "not an SSM parameter name" publish --parameter "a b" aaa.jsonl &&
	expect_usage_error "not an SSM parameter name" publish --parameter amicycle/x aaa.jsonl &&
	expect_usage_error "reserved" publish --parameter /aws/x aaa.jsonl &&
	expect_usage_error "not a launch template id" publish --launch-template lt-1 aaa.jsonl &&
	expect_usage_error "--set-default: only with --launch-template" publish --parameter $P --set-default aaa.jsonl &&
	expect_usage_error "--create: not with --rollback" publish --parameter $P --create --rollback aaa.jsonl
'

test_done
