#!/bin/bash
# make image-promote ENV=production FROM=staging: promotion found by tags in EC2, not in .amicycle/.
# Staging is account A (us-east-1), production account B (us-east-1 and us-west-2, reached through
# AMICYCLE_ROLE_production); each make runs in a fresh directory that holds only the project's
# Makefile, as a separate, approval-gated job on another runner would.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

A=111111111111 B=222222222222
ROLE=arn:aws:iam::$B:role/prod-deploy

# image N NAME DATE TAGS: an image of account A in us-east-1, with its own snapshot.
image () {
	printf '{"ImageId": "ami-0a00000000000000%s", "Name": "%s", "CreationDate": "%s", "Tags": %s,
	  "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a00000000000000%s"}}]}' \
		"$1" "$2" "$3" "$4" "$1"
}
tags () {
	jq -c -n --arg p "$1" --arg sha "$2" --arg tested "$3" '[{Key: "Project", Value: $p},
		{Key: "Environment", Value: "staging"}, {Key: "GitSha", Value: $sha}, {Key: "Version", Value: $sha}]
		+ if $tested == "" then [] else [{Key: "Tested", Value: $tested}] end'
}
cat >seed.json <<EOF
{"AccountId": "$A",
 "Accounts": {"$A": {"Roles": {"staging-read": {}}},
  "$B": {"Credentials": [{"AccessKeyId": "AKIAAMICYCLEACCTB001", "SecretAccessKey": "amicycle-secret-b"}],
         "Roles": {"prod-deploy": {}}}},
 "Regions": {"us-east-1": {
  "Images": [
   $(image 1 web-1 2026-11-01T00:00:00.000Z "$(tags web aaaa111 passed)"),
   $(image 2 web-2 2026-11-20T00:00:00.000Z "$(tags web bbbb222 passed)"),
   $(image 3 web-3 2026-11-25T00:00:00.000Z "$(tags web cccc333 "")"),
   $(image 4 web-4 2026-11-22T00:00:00.000Z "$(tags web dddd444 failed)"),
   $(image 6 web-6 2026-10-01T00:00:00.000Z "$(tags web 6666666 passed)"),
   $(image 5 api-1 2026-11-30T00:00:00.000Z "$(tags api eeee555 passed)")],
  "Snapshots": [$(for n in 1 2 3 4 5 6; do printf '{"SnapshotId": "snap-0a00000000000000%s", "VolumeSize": 8}' $n
	[ $n = 6 ] || printf ,; done)]},
  "us-west-2": {}}}
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
	include $SRC_DIR/mk/amicycle.mk
	EOF
}
promote () {
	PATH=$AMICYCLE_BUILD/bin:$PATH make --no-print-directory -C "$@"
}

# b_images: B's images in both regions: region, source image, and the tags production relies on.
b_images () {
	{ ec2_state us-east-1; ec2_state us-west-2; } | jq -s "{Regions: (map(.Regions) | add)}" >state &&
	jq -r --arg b $B '.Regions | to_entries[] | .key as $r | .value.Images[]? | select(.OwnerId == $b)
		| [$r, (.Tags | from_entries | .SourceImageId, .SourceAccount, .GitSha, .Environment,
		   .Promoted, .Project)] | @tsv' state | sort
}

# changes: the calls that change something since the last ec2_reset_counts, one a line.
changes () {
	ec2_requests | jq -r '.[] | select(.Action | test("^(CopyImage|ModifyImageAttribute|ModifySnapshotAttribute|CreateTags|DeleteTags)$")) | .Action'
}

test_expect_success 'setup' '
	ec2_start seed.json
'

test_expect_success 'the approval-gated job: the newest image staging tested goes to B in two regions' '
	project job1 &&
	GITHUB_STEP_SUMMARY=$PWD/step-summary.md \
		promote job1 image-promote ENV=production FROM=staging GIT_SHA= >out 2>err &&
	b_images >actual &&
	for r in us-east-1 us-west-2; do
		printf "%s\tami-0a000000000000002\t$A\tbbbb222\tproduction\ttrue\tweb\n" $r || return 1
	done >expect &&
	test_cmp expect actual &&
	test_grep "^amicycle: image-promote: found ami-0a000000000000002 (us-east-1, account $A)$" out &&
	test_grep "^amicycle: image-promote: sharing it and its snapshots with account $B$" out &&
	test_grep "^amicycle: image-promote: production: 2 new copies, 0 already there" out &&
	jq -r "[.Region, .Result.Status, .Result.Account] | @tsv" job1/.amicycle/promote-production.jsonl | sort >actual &&
	printf "%s\tdone\t$B\n" us-east-1 us-west-2 >expect &&
	test_cmp expect actual
'

test_expect_success 'the job summary: the Promotions table names both copies with account B and their regions' '
	$PYTHON "$TEST_DIR"/markdown-parse.py step-summary.md >parsed &&
	jq -r --arg b $B ".sections.Promotions as \$t | \$t[0] as \$h |
		(\$h | index(\"Account\")) as \$a | (\$h | index(\"Region\")) as \$r |
		\$t[1:][] | select(.[\$a] == \$b) | .[\$r]" parsed | sort >actual &&
	printf "%s\n" us-east-1 us-west-2 >expect &&
	test_cmp expect actual
'

test_expect_success 'the image stays staging in A, shared with B with its snapshot' '
	ec2_state us-east-1 >state &&
	jq -r ".Regions[\"us-east-1\"] | (.Images[] | select(.ImageId == \"ami-0a000000000000002\")
		| [.ImageId, (.Tags | from_entries | .Environment), (.LaunchPermissions | map(.UserId) | join(\",\"))]),
		(.Snapshots[] | select(.CreateVolumePermissions) | [.SnapshotId, (.CreateVolumePermissions | map(.UserId) | join(\",\"))])
		| @tsv" state >actual &&
	printf "ami-0a000000000000002\tstaging\t$B\nsnap-0a000000000000002\t$B\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the same promotion again, in another fresh directory: nothing changes' '
	b_images >before &&
	ec2_reset_counts &&
	project job2 &&
	promote job2 image-promote ENV=production FROM=staging >out 2>err &&
	changes >actual &&
	test_line_count = 0 actual &&
	test "$(ec2_count CopyImage)" = 0 &&
	test "$(ec2_count ModifyImageAttribute)" = 0 &&
	b_images >after &&
	test_cmp before after &&
	test_grep "^amicycle: image-promote: production: 0 new copies, 2 already there" out &&
	jq -r "[.Region, .Result.Status, .Result.Reason] | @tsv" job2/.amicycle/promote-production.jsonl | sort >actual &&
	printf "%s\tskipped\talready promoted to production\n" us-east-1 us-west-2 >expect &&
	test_cmp expect actual
'

test_expect_success 'an image that never passed a test is refused with its Reason, nothing changed' '
	ec2_reset_counts &&
	project job3 &&
	test_expect_code 2 promote job3 image-promote ENV=production FROM=staging GIT_SHA=cccc333 >out 2>err &&
	test_grep "^amicycle: image-promote: ami-0a000000000000003 (us-east-1, account $A): refused: never passed image-test (no Tested tag): not promoted to production$" err &&
	jq -r "[.ImageId, .Result.Status, .Result.Reason] | @tsv" job3/.amicycle/promote-production.jsonl >actual &&
	printf "ami-0a000000000000003\trefused\tnever passed image-test (no Tested tag): not promoted to production\n" >expect &&
	test_cmp expect actual &&
	project job4 &&
	test_expect_code 2 promote job4 image-promote ENV=production FROM=staging GIT_SHA=dddd444 >out 2>err &&
	test_grep "refused: never passed image-test (Tested=failed)" err &&
	changes >actual &&
	test_line_count = 0 actual &&
	b_images >actual &&
	test_cmp after actual
'

test_expect_success 'a sha with no image in staging: exit non-zero, nothing changed' '
	project job5 &&
	test_expect_code 2 promote job5 image-promote ENV=production FROM=staging GIT_SHA=ffff999 >out 2>err &&
	test_grep "^amicycle: image-promote: no image Project=web Environment=staging GitSha=ffff999 in us-east-1: nothing promoted$" err &&
	b_images >actual &&
	test_cmp after actual
'

test_expect_success 'a GIT_SHA that is not hex is refused before anything runs, as typed' '
	project job5b &&
	ec2_reset_counts &&
	for sha in "x\x27; touch pwned; \x27" "\$(shell touch pwned)" "aaaa 111" AAAA111; do
		sha=$(printf "$sha") &&
		test_expect_code 2 promote job5b image-promote ENV=production FROM=staging GIT_SHA="$sha" \
			>out 2>err &&
		test_grep "image-promote: GIT_SHA .* is not a git commit sha" err || return 1
	done &&
	! test -e pwned && ! test -e job5b/pwned &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success 'GIT_SHA= selects an older tested image: it is copied to both regions' '
	project job6 &&
	promote job6 image-promote ENV=production FROM=staging GIT_SHA=aaaa111 >out 2>err &&
	b_images | grep ami-0a000000000000001 >actual &&
	for r in us-east-1 us-west-2; do
		printf "%s\tami-0a000000000000001\t$A\taaaa111\tproduction\ttrue\tweb\n" $r || return 1
	done >expect &&
	test_cmp expect actual &&
	b_images >all &&
	test_line_count = 4 all
'

test_expect_success 'a job running as production (B) reads staging through AMICYCLE_ROLE_staging' '
	project job7 &&
	AWS_ACCESS_KEY_ID=AKIAAMICYCLEACCTB001 AWS_SECRET_ACCESS_KEY=amicycle-secret-b \
	promote job7 image-promote ENV=production FROM=staging GIT_SHA=6666666 \
		AMICYCLE_ROLE_staging=arn:aws:iam::$A:role/staging-read AMICYCLE_ROLE_production= >out 2>err &&
	b_images | grep ami-0a000000000000006 >actual &&
	for r in us-east-1 us-west-2; do
		printf "%s\tami-0a000000000000006\t$A\t6666666\tproduction\ttrue\tweb\n" $r || return 1
	done >expect &&
	test_cmp expect actual &&
	test_grep "^amicycle: image-promote: found ami-0a000000000000006 (us-east-1, account $A)$" out
'

test_expect_success 'no secret in outputs or the audit logs' '
	! grep -r amicycle-secret out err job*/.amicycle
'

test_done
