#!/bin/bash
# t/ec2-endpoint.py's channels, the places launches read an image id from, driven by the real AWS CLI:
# SSM put-parameter (versions, Overwrite, DataType aws:ec2:image), label-parameter-version (labels that
# move, InvalidLabels) and get-parameter-history (oldest first, paged); EC2
# create-launch-template-version (from a source version, data merged over it) and
# modify-launch-template --default-version, read back with describe-launch-template-versions; each
# account sees and changes its own parameters and templates only.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

# /images/web/prod: one version; a launch template "web" with two versions, 1 the default.
jq -n '{Accounts: {"222222222222": {Credentials: [{AccessKeyId: "AKIAAMICYCLEACCTB001",
		SecretAccessKey: "amicycle-secret-b"}]}},
	Regions: {"us-east-1": {
	Parameters: [{Name: "/images/web/prod", DataType: "aws:ec2:image", Value: "ami-00000000000000001",
		      Labels: ["git-aaa"], LastModifiedDate: "2026-11-01T10:00:00+00:00"}],
	LaunchTemplates: [{LaunchTemplateId: "lt-0aaaaaaaaaaaaaaa1", LaunchTemplateName: "web",
		CreateTime: "2026-11-01T10:00:00+00:00", DefaultVersionNumber: 1,
		Versions: [{VersionNumber: 1, LaunchTemplateData: {ImageId: "ami-00000000000000001",
			     InstanceType: "t3.micro", KeyName: "ops"}},
			   {VersionNumber: 2, LaunchTemplateData: {ImageId: "ami-00000000000000009",
			     InstanceType: "t3.large"}}]}]}}}' >seed.json || exit 1

test_expect_success 'put-parameter: Overwrite makes version 2, the type and data type kept' '
	ec2_start seed.json &&
	ec2_aws ssm put-parameter --name /images/web/prod --value ami-00000000000000002 --overwrite >out &&
	test "$(jq -c "[.Version, .Tier]" out)" = "[2,\"Standard\"]" &&
	ec2_aws ssm get-parameter-history --name /images/web/prod >out &&
	jq -c ".Parameters[] | [.Version, .Value, .Type, .DataType, .Labels]" out >actual &&
	cat >expect <<-\EOT &&
	[1,"ami-00000000000000001","String","aws:ec2:image",["git-aaa"]]
	[2,"ami-00000000000000002","String","aws:ec2:image",[]]
	EOT
	test_cmp expect actual &&
	ec2_aws ssm get-parameters --names /images/web/prod:git-aaa >out &&
	test "$(jq -r ".Parameters[0].Value" out)" = ami-00000000000000001
'

test_expect_success 'put-parameter refuses: no Overwrite, a value that is no image id, a reserved name, no type' '
	test_expect_code 254 ec2_aws ssm put-parameter --name /images/web/prod --value ami-00000000000000003 \
		>out 2>err &&
	test_grep "(ParameterAlreadyExists) when calling the PutParameter operation" err &&
	test_expect_code 254 ec2_aws ssm put-parameter --name /images/web/prod --value latest --overwrite \
		>out 2>err &&
	test_grep "(ValidationException) when calling the PutParameter operation: Parameter value, latest, is not a valid image id" err &&
	test_expect_code 254 ec2_aws ssm put-parameter --name /aws/x --type String --value x >out 2>err &&
	test_grep "(ValidationException) when calling the PutParameter operation: No access to reserved parameter name" err &&
	test_expect_code 254 ec2_aws ssm put-parameter --name images/x --type String --value x >out 2>err &&
	test_grep "(ValidationException)" err &&
	test_expect_code 254 ec2_aws ssm put-parameter --name /images/new --value x >out 2>err &&
	test_grep "A parameter type is required" err &&
	ec2_aws ssm get-parameter-history --name /images/web/prod >out &&
	test "$(jq ".Parameters | length" out)" = 2
'

test_expect_success 'put-parameter creates a new name with version 1, its data type checked' '
	ec2_aws ssm put-parameter --name /images/api/prod --type String --data-type aws:ec2:image \
		--value ami-0bbbbbbbbbbbbbbb1 >out &&
	test "$(jq .Version out)" = 1 &&
	ec2_aws ssm get-parameters --names /images/api/prod >out &&
	test "$(jq -c ".Parameters[0] | [.Value, .DataType, .Version]" out)" = "[\"ami-0bbbbbbbbbbbbbbb1\",\"aws:ec2:image\",1]"
'

test_expect_success 'label-parameter-version: the latest by default, a label moves, bad labels answered back' '
	ec2_aws ssm label-parameter-version --name /images/web/prod --labels git-bbb 1abc awsx ok.1 >out &&
	test "$(jq -c "[.ParameterVersion, .InvalidLabels]" out)" = "[2,[\"1abc\",\"awsx\"]]" &&
	ec2_aws ssm label-parameter-version --name /images/web/prod --parameter-version 1 --labels ok.1 >out &&
	test "$(jq .ParameterVersion out)" = 1 &&
	ec2_aws ssm get-parameter-history --name /images/web/prod >out &&
	jq -c ".Parameters[] | [.Version, .Labels]" out >actual &&
	cat >expect <<-\EOT &&
	[1,["git-aaa","ok.1"]]
	[2,["git-bbb"]]
	EOT
	test_cmp expect actual &&
	test_expect_code 254 ec2_aws ssm label-parameter-version --name /images/nope --labels x >out 2>err &&
	test_grep "(ParameterNotFound) when calling the LabelParameterVersion operation" err &&
	test_expect_code 254 ec2_aws ssm label-parameter-version --name /images/web/prod --parameter-version 7 \
		--labels x >out 2>err &&
	test_grep "(ParameterVersionNotFound) when calling the LabelParameterVersion operation" err
'

test_expect_success 'get-parameter-history pages by MaxResults; an unknown name is ParameterNotFound' '
	for i in 3 4 5 6 7; do
		ec2_aws ssm put-parameter --name /images/web/prod --value ami-0000000000000000$i --overwrite \
			>/dev/null || return 1
	done &&
	ec2_reset_counts &&
	ec2_aws ssm get-parameter-history --name /images/web/prod --page-size 3 >out &&
	test "$(jq -c "[.Parameters[].Version]" out)" = "[1,2,3,4,5,6,7]" &&
	test "$(ec2_count GetParameterHistory)" = 3 &&
	test_expect_code 254 ec2_aws ssm get-parameter-history --name /images/nope >out 2>err &&
	test_grep "(ParameterNotFound) when calling the GetParameterHistory operation" err &&
	test_expect_code 254 ec2_aws ssm get-parameter-history --name /images/web/prod --max-results 51 \
		>out 2>err &&
	test_grep "(ValidationException)" err
'

test_expect_success 'create-launch-template-version: the source version with the ImageId changed' '
	ec2_aws ec2 create-launch-template-version --launch-template-name web --source-version 1 \
		--version-description "ami-00000000000000003 git ccc" \
		--launch-template-data "{\"ImageId\":\"ami-00000000000000003\"}" >out &&
	jq -c ".LaunchTemplateVersion | [.LaunchTemplateId, .VersionNumber, .DefaultVersion,
		.LaunchTemplateData.ImageId, .LaunchTemplateData.InstanceType, .LaunchTemplateData.KeyName]" out >actual &&
	echo "[\"lt-0aaaaaaaaaaaaaaa1\",3,false,\"ami-00000000000000003\",\"t3.micro\",\"ops\"]" >expect &&
	test_cmp expect actual &&
	ec2_aws ec2 describe-launch-templates --launch-template-ids lt-0aaaaaaaaaaaaaaa1 >out &&
	test "$(jq -c ".LaunchTemplates[0] | [.DefaultVersionNumber, .LatestVersionNumber]" out)" = "[1,3]" &&
	ec2_aws ec2 describe-launch-template-versions --launch-template-id lt-0aaaaaaaaaaaaaaa1 \
		--versions 3 >out &&
	test "$(jq -r ".LaunchTemplateVersions[0].VersionDescription" out)" = "ami-00000000000000003 git ccc"
'

test_expect_success 'modify-launch-template --default-version: the new default; refusals change nothing' '
	ec2_aws ec2 modify-launch-template --launch-template-id lt-0aaaaaaaaaaaaaaa1 --default-version 3 >out &&
	test "$(jq .LaunchTemplate.DefaultVersionNumber out)" = 3 &&
	ec2_aws ec2 describe-launch-template-versions --launch-template-name web --versions "\$Default" >out &&
	test "$(jq -c ".LaunchTemplateVersions[] | [.VersionNumber, .LaunchTemplateData.ImageId]" out)" = \
		"[3,\"ami-00000000000000003\"]" &&
	test_expect_code 254 ec2_aws ec2 modify-launch-template --launch-template-name web --default-version 9 \
		>out 2>err &&
	test_grep "(InvalidLaunchTemplateId.VersionNotFound)" err &&
	test_expect_code 254 ec2_aws ec2 create-launch-template-version --launch-template-name web \
		--source-version 8 --launch-template-data "{\"ImageId\":\"ami-00000000000000004\"}" >out 2>err &&
	test_grep "(InvalidLaunchTemplateId.VersionNotFound)" err &&
	test_expect_code 254 ec2_aws ec2 create-launch-template-version --launch-template-name web \
		--launch-template-data "{\"ImageId\":\"ami-xyz\"}" >out 2>err &&
	test_grep "(InvalidAMIID.Malformed)" err &&
	test_expect_code 254 ec2_aws ec2 create-launch-template-version --launch-template-name web --dry-run \
		--launch-template-data "{\"ImageId\":\"ami-00000000000000004\"}" >out 2>err &&
	test_grep "(DryRunOperation)" err &&
	ec2_state >state &&
	test "$(jq -c ".Regions[\"us-east-1\"].LaunchTemplates[0] | [.DefaultVersionNumber, .LatestVersionNumber,
		(.Versions | length)]" state)" = "[3,3,3]"
'

test_expect_success 'each account has its own parameters and templates' '
	as_b () {
		AWS_ACCESS_KEY_ID=AKIAAMICYCLEACCTB001 AWS_SECRET_ACCESS_KEY=amicycle-secret-b "$@"
	} &&
	test_expect_code 254 as_b ec2_aws ssm get-parameter-history --name /images/web/prod >out 2>err &&
	test_grep "(ParameterNotFound)" err &&
	as_b ec2_aws ssm put-parameter --name /images/web/prod --type String --value b-own >out &&
	test "$(jq .Version out)" = 1 &&
	as_b ec2_aws ssm get-parameters --names /images/web/prod >out &&
	test "$(jq -c ".Parameters[0] | [.Value, .ARN]" out)" = \
		"[\"b-own\",\"arn:aws:ssm:us-east-1:222222222222:parameter/images/web/prod\"]" &&
	ec2_aws ssm get-parameter-history --name /images/web/prod >out &&
	test "$(jq ".Parameters | length" out)" = 7 &&
	test_expect_code 254 as_b ec2_aws ec2 modify-launch-template --launch-template-id lt-0aaaaaaaaaaaaaaa1 \
		--default-version 1 >out 2>err &&
	test_grep "(InvalidLaunchTemplateId.NotFound)" err &&
	as_b ec2_aws ec2 describe-launch-templates >out &&
	test "$(jq ".LaunchTemplates | length" out)" = 0
'

test_done
