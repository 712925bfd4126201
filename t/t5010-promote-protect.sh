#!/bin/bash
# make image-promote with AMICYCLE_PROTECT_<env>=1 protects from deregistration what it promoted:
# the tested image and its copy (one account), or the copies in production's account through its
# role (FROM=staging); the AWS CLI reads the protection back, deregister is refused, a second run
# protects nothing again, another environment is left alone, and a bad value stops make at once.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

A=111111111111 B=222222222222
ROLE=arn:aws:iam::$B:role/prod-deploy

# Account A: ami-...1 (us-east-1, tested in this run: the simple form), ami-...2 (staging, tested:
# FROM=staging), each with its snapshot. Account B is production, reached through its role.
tags () {
	jq -c -n --arg env "$1" --arg sha "$2" '[{Key: "Project", Value: "web"}, {Key: "GitSha", Value: $sha}]
		+ if $env == "" then [] else [{Key: "Environment", Value: $env}, {Key: "Tested", Value: "passed"}] end'
}
image () {
	printf '{"ImageId": "ami-0e00000000000000%s", "Name": "web-%s", "CreationDate": "2026-11-2%sT00:00:00.000Z",
	  "Tags": %s, "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0e00000000000000%s"}}]}' \
		"$1" "$1" "$1" "$2" "$1"
}
cat >seed.json <<EOF
{"AccountId": "$A",
 "Accounts": {"$B": {"Credentials": [{"AccessKeyId": "AKIAAMICYCLEACCTB001", "SecretAccessKey": "amicycle-secret-b"}],
		     "Roles": {"prod-deploy": {}}}},
 "Regions": {"us-east-1": {
  "Images": [$(image 1 "$(tags "" 1111aaa)"), $(image 2 "$(tags staging 2222bbb)")],
  "Snapshots": [{"SnapshotId": "snap-0e000000000000001", "VolumeSize": 8},
		{"SnapshotId": "snap-0e000000000000002", "VolumeSize": 8}]},
  "us-west-2": {}}}
EOF

# project DIR: the project's Makefile; with a tested.jsonl (and what it is made from, older) naming
# image 1 as image-test leaves it, so that image-promote's simple form starts from it.
project () {
	mkdir -p "$1/.amicycle" &&
	cat >"$1/Makefile" <<-EOF &&
	AMICYCLE_PROJECT = web
	AMICYCLE_REGIONS = us-east-1
	AMICYCLE_PROMOTE_REGIONS = us-west-2
	AMICYCLE_ACCOUNT_production = $B
	AMICYCLE_ROLE_production = $ROLE
	AMICYCLE_REGIONS_production = us-east-1 us-west-2
	include $SRC_DIR/mk/amicycle.mk
	EOF
	now=$(date +%s) &&
	echo "{}" >"$1/manifest.json" && echo "{}" >"$1/checks.jsonl" &&
	ec2-describe images ami-0e000000000000001 >"$1/.amicycle/images.jsonl" &&
	cp "$1/.amicycle/images.jsonl" "$1/.amicycle/tested.jsonl" &&
	touch -d "@$((now - 120))" "$1/manifest.json" "$1/checks.jsonl" &&
	touch -d "@$((now - 60))" "$1/.amicycle/images.jsonl" &&
	touch -d "@$((now - 30))" "$1/.amicycle/tested.jsonl"
}
promote () {
	PATH=$AMICYCLE_BUILD/bin:$PATH make --no-print-directory -C "$@"
}

# protections [ACCESS-KEY SECRET]: "REGION SOURCE-OR-ID PROTECTION" of each image of the caller's
# account, as the AWS CLI describes it in both regions.
protections () {
	for r in us-east-1 us-west-2; do
		AWS_ACCESS_KEY_ID=${1:-$AWS_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${2:-$AWS_SECRET_ACCESS_KEY} \
			ec2_aws_model ec2 describe-images --region $r --owners self >cli.json &&
		jq -r --arg r $r '.Images[] | "\($r) \(if .SourceImageId then "copy-of-\(.SourceImageId)" else .ImageId end) \(.DeregistrationProtection // "disabled")"' cli.json ||
		return 1
	done | sort
}

# mutations: the calls that changed something since the last ec2_reset_counts, one a line.
mutations () {
	ec2_requests | jq -r '.[] | select(.Action | test("^(Describe|AssumeRole|GetCallerIdentity)") | not) | .Action' | sort
}

test_expect_success 'setup' '
	ec2_start seed.json
'

test_expect_success 'a value that is neither 1 nor 0 stops make before anything runs' '
	project bad &&
	ec2_reset_counts &&
	test_expect_code 2 promote bad image-promote ENV=staging AMICYCLE_PROTECT_staging=yes >out 2>err &&
	test_grep "image-promote: AMICYCLE_PROTECT_staging .yes. is neither 1 (protect) nor 0 or empty" err &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success AWSCLI 'image-promote ENV=qa AMICYCLE_PROTECT_qa=1: the image and its copy protected' '
	project job1 &&
	ec2_reset_counts &&
	promote job1 image-promote ENV=qa AMICYCLE_PROTECT_qa=1 >out 2>err &&
	test_grep "^amicycle: image-promote: qa: 2 image(s) protected, 0 protected already$" out &&
	protections >actual &&
	cat >expect <<-\EOF &&
	us-east-1 ami-0e000000000000001 enabled
	us-east-1 ami-0e000000000000002 disabled
	us-west-2 copy-of-ami-0e000000000000001 enabled
	EOF
	test_cmp expect actual &&
	jq -r "[.Region, .Result.Action, .Result.Status, .DeregistrationProtection] | join(\" \")" \
		job1/.amicycle/protected-qa.jsonl | sort >actual &&
	printf "%s protect done enabled\n" us-east-1 us-west-2 >expect &&
	test_cmp expect actual &&
	jq -r "select(.Action == \"EnableImageDeregistrationProtection\") | .Region" job1/.amicycle/audit.jsonl \
		| sort >actual &&
	printf "%s\n" us-east-1 us-west-2 >expect &&
	test_cmp expect actual
'

test_expect_success 'deregister refuses them; a second make changes nothing' '
	cat job1/.amicycle/promoted-qa*.jsonl >promoted.jsonl &&
	ec2_reset_counts &&
	deregister <promoted.jsonl >dereg 2>err &&
	jq -r .Result.Reason dereg | sort -u >actual &&
	echo "deregistration protection (enabled)" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 0 &&
	promote job1 image-promote ENV=qa AMICYCLE_PROTECT_qa=1 >out 2>err &&
	mutations >actual &&
	test_line_count = 0 actual
'

test_expect_success 'without the knob (or with 0), nothing is protected' '
	project job2 &&
	ec2_reset_counts &&
	promote job2 image-promote ENV=dev AMICYCLE_PROTECT_dev=0 >out 2>err &&
	test "$(ec2_count EnableImageDeregistrationProtection)" = 0 &&
	! test -e job2/.amicycle/protected-dev.jsonl &&
	test_grep -v "protect" out
'

test_expect_success AWSCLI 'FROM=staging: the copies in production'\''s account protected through its role' '
	project job3 &&
	ec2_reset_counts &&
	promote job3 image-promote ENV=production FROM=staging AMICYCLE_PROTECT_production=1 >out 2>err &&
	test_grep "^amicycle: image-promote: production: 2 image(s) protected, 0 protected already$" out &&
	protections AKIAAMICYCLEACCTB001 amicycle-secret-b >actual &&
	printf "%s copy-of-ami-0e000000000000002 enabled\n" us-east-1 us-west-2 >expect &&
	test_cmp expect actual &&
	protections >actual &&
	test_grep "^us-east-1 ami-0e000000000000002 disabled$" actual &&
	jq -r "[.Region, .Result.Status, .Result.Account, .DeregistrationProtection] | join(\" \")" \
		job3/.amicycle/promote-production.d/step-protected.jsonl | sort >actual &&
	printf "%s done $B enabled\n" us-east-1 us-west-2 >expect &&
	test_cmp expect actual &&
	jq -r "[.Region, .Result.Status] | join(\" \")" job3/.amicycle/promote-production.jsonl | sort >actual &&
	printf "%s done\n" us-east-1 us-west-2 >expect &&
	test_cmp expect actual
'

test_expect_success 'the same promotion again, in a fresh directory: protected already, no change' '
	project job4 &&
	ec2_reset_counts &&
	promote job4 image-promote ENV=production FROM=staging AMICYCLE_PROTECT_production=1 >out 2>err &&
	test_grep "^amicycle: image-promote: production: 0 image(s) protected, 2 protected already$" out &&
	mutations >actual &&
	test_line_count = 0 actual
'

test_expect_success 'no secret in outputs or the audit logs' '
	! grep -r amicycle-secret out err job*/.amicycle
'

test_done
