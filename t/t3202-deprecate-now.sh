#!/bin/bash
# deprecate --now: deprecated at the next whole minute (EC2 refuses the past), read back by the AWS
# CLI; an image deprecated by then already is skipped without a call, so running it again makes
# no call at all; a later deprecation is brought forward; --dry-run plans; bad input changes nothing.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

year=$(( $(date -u +%Y) + 2 ))
# Images 1..3 not deprecated; 4 deprecated in 2020; 5 deprecated in two years.
jq -n --arg later "$year-01-01T00:00:00.000Z" '{Regions: {"us-east-1": {Images: ([
	range(3) | {ImageId: "ami-0a00000000000000\(. + 1)", Name: "web-\(. + 1)"}] + [
	{ImageId: "ami-0a000000000000004", Name: "web-4", DeprecationTime: "2020-01-01T00:00:00.000Z"},
	{ImageId: "ami-0a000000000000005", Name: "web-5", DeprecationTime: $later}])}}}' >seed.json

# deprecations: "ID TIME" for each image in the endpoint's state.
deprecations () {
	ec2_state us-east-1 >state.json &&
	jq -r '.Regions["us-east-1"].Images[] | "\(.ImageId) \(.DeprecationTime // "-")"' state.json
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	ec2-describe images >images.jsonl &&
	test_line_count = 5 images.jsonl &&
	head -n 3 images.jsonl >fresh.jsonl
'

test_expect_success '--now: the next whole minute, as EC2 keeps it and the AWS CLI reads it back' '
	ec2_reset_counts &&
	before=$(date -u +%s) &&
	deprecate --now --audit audit.log <fresh.jsonl >out 2>err &&
	after=$(date -u +%s) &&
	test_line_count = 0 err &&
	jq -r .DeprecationTime out | sort -u >times &&
	test_line_count = 1 times &&
	at=$(cat times) &&
	t=$(date -u -d "$at" +%s) &&
	test $((t % 60)) = 0 &&
	test $t -ge $before &&
	test $t -le $((after + 60)) &&
	jq -r "[.ImageId, .DeprecationTime, .Result.Action, .Result.Status] | join(\" \")" out >actual &&
	for i in 1 2 3; do echo "ami-0a00000000000000$i $at deprecate done"; done >expect &&
	test_cmp expect actual &&
	test "$(ec2_count EnableImageDeprecation)" = 3 &&
	jq -r "[.Action, .Parameters.DeprecateAt, .Outcome] | join(\" \")" audit.log | sort -u >actual &&
	echo "EnableImageDeprecation $at done" >expect &&
	test_cmp expect actual &&
	deprecations >actual &&
	{ for i in 1 2 3; do echo "ami-0a00000000000000$i $at"; done &&
	  echo "ami-0a000000000000004 2020-01-01T00:00:00.000Z" &&
	  echo "ami-0a000000000000005 $year-01-01T00:00:00.000Z"; } >expect &&
	test_cmp expect actual
'

test_expect_success AWSCLI 'the AWS CLI reads the deprecation time back' '
	ec2_aws ec2 describe-images --region us-east-1 --image-ids ami-0a000000000000001 \
		ami-0a000000000000002 ami-0a000000000000003 >cli.json &&
	jq -r ".Images[] | .DeprecationTime" cli.json | sort -u >actual &&
	test_cmp times actual
'

test_expect_success 'again on fresh records: each skipped, already deprecated, and no call at all' '
	ec2-describe images - <fresh.jsonl >refreshed.jsonl &&
	ec2_reset_counts &&
	deprecate --now --audit audit2.log <refreshed.jsonl >again 2>err &&
	test_line_count = 0 err &&
	test "$(ec2_total)" = 0 &&
	! test -s audit2.log &&
	at=$(cat times) &&
	jq -r "[.ImageId, .DeprecationTime, .Result.Status, .Result.Reason] | join(\" \")" again >actual &&
	for i in 1 2 3; do
		echo "ami-0a00000000000000$i $at skipped already deprecated at $at"
	done >expect &&
	test_cmp expect actual
'

test_expect_success 'one deprecated long ago is skipped; one deprecated later is brought forward' '
	ec2_reset_counts &&
	sed -n 4,5p images.jsonl >old-and-later.jsonl &&
	deprecate --now <old-and-later.jsonl >out 2>err &&
	test_line_count = 0 err &&
	test "$(ec2_count EnableImageDeprecation)" = 1 &&
	jq -r "[.ImageId, .Result.Status, .Result.Reason // \"-\"] | join(\" \")" out >actual &&
	cat >expect <<-\EOF &&
	ami-0a000000000000004 skipped already deprecated at 2020-01-01T00:00:00.000Z
	ami-0a000000000000005 done -
	EOF
	test_cmp expect actual &&
	now5=$(jq -r "select(.ImageId == \"ami-0a000000000000005\") | .DeprecationTime" out) &&
	test $(date -u -d "$now5" +%s) -le $(( $(date -u +%s) + 60 )) &&
	deprecations >state &&
	test_grep "^ami-0a000000000000005 $now5\$" state &&
	test_grep "^ami-0a000000000000004 2020-01-01T00:00:00.000Z\$" state
'

test_expect_success '--dry-run --now: DryRun=true, the plan shows the time, nothing changes' '
	deprecate --undo <fresh.jsonl >/dev/null &&
	deprecations >before &&
	ec2_reset_counts &&
	deprecate --now --dry-run <fresh.jsonl >plan 2>err &&
	test_line_count = 0 err &&
	jq -r .Result.Status plan | sort | uniq -c >actual &&
	echo "      3 dry-run" >expect &&
	test_cmp expect actual &&
	test "$(jq -r .DeprecationTime plan | sort -u | wc -l)" = 1 &&
	ec2_requests >requests &&
	jq -r ".[] | [.Action, .Params.DryRun, .Status] | join(\" \")" requests | sort -u >actual &&
	echo "EnableImageDeprecation true 412" >expect &&
	test_cmp expect actual &&
	deprecations >after &&
	test_cmp before after
'

test_expect_success '--now with another mode is a usage error, with no call' '
	expect_usage_error "^deprecate: give one of --at, --in, --now and --undo$" \
		deprecate --now --undo fresh.jsonl &&
	expect_usage_error "^deprecate: give one of --at, --in, --now and --undo$" \
		deprecate --now --in 1d fresh.jsonl
'

test_expect_success 'an id of the wrong form: exit 3, FILE:LINE, nothing changed' '
	{ cat fresh.jsonl && echo "{\"ImageId\":\"ami-0A000000000000001\"}"; } >bad.jsonl &&
	expect_bad_input bad.jsonl:4 deprecate --now bad.jsonl
'

test_done
