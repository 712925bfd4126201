#!/bin/bash
# make image-publish ENV=production: the images image-promote released go to production's SSM
# parameter (created the first time, a version per release, labelled git-SHA) and launch template
# (a new default version) in each of its regions, in production's account (as its role); read back
# with the AWS CLI as that account.
# Running it again changes nothing; DRY_RUN=1 changes nothing; nothing released fails with one
# line; the FROM-less form publishes promoted-ENV.jsonl and its copies' records.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

A=111111111111 B=222222222222
ROLE=arn:aws:iam::$B:role/prod-deploy
P=/amicycle/web/production

# image N SHA DATE: an image of account A in us-east-1 that staging tested, with its own snapshot.
image () {
	jq -c -n --arg n "$1" --arg sha "$2" --arg date "$3" '{ImageId: "ami-0a00000000000000\($n)",
		Name: "web-\($n)", CreationDate: $date, BlockDeviceMappings: [{DeviceName: "/dev/xvda",
		Ebs: {SnapshotId: "snap-0a00000000000000\($n)"}}],
		Tags: [{Key: "Project", Value: "web"}, {Key: "Environment", Value: "staging"},
		       {Key: "GitSha", Value: $sha}, {Key: "Tested", Value: "passed"}]}'
}
template () {
	printf '{"LaunchTemplateName": "web-prod", "OwnerId": "%s", "Versions": [{"LaunchTemplateData": {"ImageId": "%s", "InstanceType": "t3.micro"}}]}' $B "$1"
}
cat >seed.json <<EOF
{"AccountId": "$A",
 "Accounts": {"$B": {"Credentials": [{"AccessKeyId": "AKIAAMICYCLEACCTB001", "SecretAccessKey": "amicycle-secret-b"}],
         "Roles": {"prod-deploy": {}}}},
 "Regions": {"us-east-1": {
  "Images": [$(image 1 aaaa111 2026-11-01T00:00:00.000Z), $(image 2 bbbb222 2026-11-20T00:00:00.000Z)],
  "Snapshots": [{"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8},
                {"SnapshotId": "snap-0a000000000000002", "VolumeSize": 8}],
  "LaunchTemplates": [$(template ami-0e000000000000001)]},
  "us-west-2": {"Images": [{"ImageId": "ami-0b000000000000002", "Name": "web-2"}],
   "LaunchTemplates": [$(template ami-0e000000000000002)]}}}
EOF

# project DIR: a fresh directory with the project's Makefile and nothing else.
project () {
	mkdir "$1" &&
	cat >"$1/Makefile" <<-EOF
	AMICYCLE_PROJECT = web
	AMICYCLE_REGIONS = us-east-1
	AMICYCLE_ACCOUNT_production = $B
	AMICYCLE_ROLE_production = $ROLE
	AMICYCLE_REGIONS_production = us-east-1 us-west-2
	AMICYCLE_LAUNCH_TEMPLATE_production = web-prod
	include $SRC_DIR/mk/amicycle.mk
	EOF
}
run_make () {
	PATH=$AMICYCLE_BUILD/bin:$PATH make --no-print-directory -C "$@"
}
# copy_in REGION GITSHA: B's copy of staging's image of that sha in REGION.
copy_in () {
	ec2_state "$1" >state &&
	jq -r --arg b $B --arg r "$1" --arg sha "$2" '.Regions[$r].Images[] | select(.OwnerId == $b)
		| select(any(.Tags[]; .Key == "GitSha" and .Value == $sha)) | .ImageId' state
}
as_b () {
	AWS_ACCESS_KEY_ID=AKIAAMICYCLEACCTB001 AWS_SECRET_ACCESS_KEY=amicycle-secret-b "$@"
}
# channels REGION: production's parameter history and template default, read by the AWS CLI as B.
channels () {
	as_b ec2_aws --region "$1" ssm get-parameter-history --name $P >hist.json &&
	jq -c ".Parameters[] | [.Version, .Value, .Labels]" hist.json &&
	as_b ec2_aws --region "$1" ec2 describe-launch-template-versions --launch-template-name web-prod \
		--versions "\$Default" >lt.json &&
	jq -c ".LaunchTemplateVersions[] | [.VersionNumber, .LaunchTemplateData.ImageId, .LaunchTemplateData.InstanceType]" lt.json
}
writes () {
	ec2_requests | jq -r '.[] | select(.Action | test("^(PutParameter|LabelParameterVersion|CreateLaunchTemplateVersion|ModifyLaunchTemplate)$")) | .Action'
}

test_expect_success 'setup' '
	ec2_start seed.json
'

test_expect_success 'promote and publish: production parameter and template hold the copies, as B' '
	project job &&
	run_make job image-promote image-publish ENV=production FROM=staging >out 2>err &&
	for r in us-east-1 us-west-2; do
		c=$(copy_in $r bbbb222) &&
		test -n "$c" &&
		channels $r >actual &&
		printf "[1,\"%s\",[\"git-bbbb222\"]]\n[2,\"%s\",\"t3.micro\"]\n" $c $c >expect &&
		test_cmp expect actual || return 1
	done &&
	jq -r "[.Region, (.Published.Parameter // .Published.LaunchTemplateName), .Result.Status, .Result.Account] | @tsv" \
		job/.amicycle/publish-production.jsonl >actual &&
	cat >expect <<-EOF &&
	us-east-1	$P	done	$B
	us-west-2	$P	done	$B
	us-east-1	web-prod	done	$B
	us-west-2	web-prod	done	$B
	EOF
	sort expect >e && sort actual >a && test_cmp e a &&
	test_grep "^amicycle: image-publish: production: 2 image(s) to $P and launch template web-prod$" out &&
	jq -r ".Action" job/.amicycle/audit.jsonl | grep -c -e PutParameter -e LabelParameterVersion \
		-e CreateLaunchTemplateVersion -e ModifyLaunchTemplate >count &&
	echo 8 >expect &&
	test_cmp expect count
'

test_expect_success 'the parameter is B'"'"'s: A has none of that name' '
	test_expect_code 254 ec2_aws ssm get-parameter-history --name $P >out 2>err &&
	test_grep "(ParameterNotFound)" err
'

test_expect_success 'the same again: promote and publish change nothing' '
	ec2_reset_counts &&
	run_make job image-promote image-publish ENV=production FROM=staging >out 2>err &&
	writes >actual &&
	test_line_count = 0 actual &&
	jq -r .Result.Status job/.amicycle/publish-production.jsonl | sort -u >actual &&
	echo skipped >expect &&
	test_cmp expect actual
'

test_expect_success 'DRY_RUN=1 plans the next release and changes nothing; then it is published' '
	run_make job image-promote ENV=production FROM=staging GIT_SHA=aaaa111 >out 2>err &&
	ec2_reset_counts &&
	run_make job image-publish ENV=production FROM=staging DRY_RUN=1 >out 2>err &&
	jq -r .Result.Status job/.amicycle/publish-production.jsonl | sort -u >actual &&
	echo dry-run >expect &&
	test_cmp expect actual &&
	test "$(ec2_count PutParameter)" = 0 &&
	test "$(ec2_count ModifyLaunchTemplate)" = 0 &&
	ec2_requests | jq -r ".[] | select(.Action == \"CreateLaunchTemplateVersion\") | .Params.DryRun" >actual &&
	printf "true\ntrue\n" >expect &&
	test_cmp expect actual &&
	run_make job image-publish ENV=production FROM=staging >out 2>err &&
	c=$(copy_in us-west-2 aaaa111) &&
	channels us-west-2 >actual &&
	test "$(tail -n 1 actual)" = "[3,\"$c\",\"t3.micro\"]" &&
	test "$(sed -n 2p actual)" = "[2,\"$c\",[\"git-aaaa111\"]]"
'

test_expect_success 'nothing released: the recipe fails with one line (make exits 2), no call' '
	project empty &&
	ec2_reset_counts &&
	test_expect_code 2 run_make empty image-publish ENV=production >out 2>err &&
	test_grep "^amicycle: image-publish: no image released to production in" err &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0 &&
	test_expect_code 2 run_make empty image-publish >out 2>err &&
	test_grep "image-publish: say which environment" err
'

test_expect_success 'without FROM: promoted-ENV.jsonl and its copies go to AMICYCLE_PARAMETER_<env>, created' '
	project local &&
	echo "AMICYCLE_PARAMETER_staging = /web/staging-image" >>local/Makefile &&
	mkdir local/.amicycle &&
	image 1 aaaa111 x | jq -c ". + {Region: \"us-east-1\", Result: {Action: \"tag\", Status: \"done\"}}" \
		>local/.amicycle/promoted-staging.jsonl &&
	image 2 bbbb222 x | jq -c ". + {ImageId: \"ami-0b000000000000002\", Region: \"us-west-2\",
		Result: {Action: \"copy-image\", Status: \"done\"}}" >local/.amicycle/promoted-staging-us-west-2.jsonl &&
	run_make local image-publish ENV=staging >out 2>err &&
	ec2_aws ssm get-parameters --names /web/staging-image:git-aaaa111 >got &&
	test "$(jq -r ".Parameters[0].Value" got)" = ami-0a000000000000001 &&
	ec2_aws --region us-west-2 ssm get-parameters --names /web/staging-image >got &&
	test "$(jq -r ".Parameters[0].Value" got)" = ami-0b000000000000002
'

test_expect_success 'no secret in outputs or the audit logs' '
	! grep -r amicycle-secret out err job/.amicycle local/.amicycle
'

test_done
