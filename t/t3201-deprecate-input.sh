#!/bin/bash
# deprecate refuses, before any call: a mode that is not exactly one of --at, --in, --now and
# --undo, a time EC2 would refuse (past, more than 10 years ahead), and bad input anywhere (exit 3).
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

jq -n '{Regions: {"us-east-1": {Images: [range(100) | {ImageId: ("ami-0\(1000000000000000 + .)")}]}}}' >seed.json
year=$(( $(date -u +%Y) + 2 ))

# usage_error PATTERN ARGS...: deprecate ARGS images.jsonl is a usage error, and calls nothing.
usage_error () {
	expect_usage_error "$1" deprecate "${@:2}" images.jsonl
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	ec2-describe images >images.jsonl &&
	test_line_count = 100 images.jsonl
'

test_expect_success 'exactly one of --at, --in and --undo' '
	usage_error "^deprecate: give one of --at, --in, --now and --undo$" &&
	test_grep "^Try '\''deprecate --help'\''$" err &&
	usage_error "^deprecate: give one of --at, --in, --now and --undo$" --undo --in 1d &&
	usage_error "^deprecate: give one of --at, --in, --now and --undo$" --at "$year-01-01T00:00:00Z" --in 1d
'

test_expect_success '--at: not a time, in the past, more than 10 years ahead' '
	usage_error "^deprecate: --at '\''$year-01-01'\'': not a time like 2026-05-01T12:00:00Z$" --at "$year-01-01" &&
	usage_error "^deprecate: --at '\''tomorrow'\'': not a time" --at tomorrow &&
	usage_error "^deprecate: --at 2020-01-01T00:00:00Z: in the past$" --at 2020-01-01T00:00:00Z &&
	usage_error "^deprecate: --at $((year + 9))-01-01T00:00:00Z: more than 10 years from now$" \
		--at "$((year + 9))-01-01T00:00:00Z"
'

test_expect_success '--in: not a duration, or more than 10 years' '
	usage_error "^deprecate: --in '\''30'\'': not a duration like 30d, 12h or 1w2d$" --in 30 &&
	usage_error "^deprecate: --in '\''-1d'\'': not a duration" --in -1d &&
	usage_error "^deprecate: --in 3653d: more than 10 years from now$" --in 3653d &&
	usage_error "^deprecate: --in '\''99999999999999999999d'\'': not a duration" --in 99999999999999999999d
'

test_expect_success 'bad -P and --endpoint-url' '
	usage_error "^deprecate: -P: bad value '\''0'\''" -P 0 --undo &&
	usage_error "^deprecate: endpoint URL '\''ftp://x'\'': not http:// or https://$" --endpoint-url ftp://x --undo
'

for bad in '{"ImageId":' '"ami-0123456789abcdef0"' '{"InstanceId":"i-0123456789abcdef0"}' \
	'{"ImageId":null}' '{"ImageId":"snap-0123456789abcdef0"}' '{"ImageId":"ami-XYZ"}' \
	'{"ImageId":"ami-0123456789abcdef0","Region":""}'
do
	test_expect_success "bad input at line 50 of 100 ($bad): exit 3, no call at all" '
		bad_line_at_50 images.jsonl "$bad" &&
		ec2_reset_counts &&
		rm -f audit.log &&
		test_expect_code 3 deprecate --in 1d --audit audit.log <in.jsonl >out 2>err &&
		test_line_count = 0 out &&
		test_line_count = 1 err &&
		test_grep "^deprecate: stdin:50: " err &&
		test "$(ec2_total)" = 0 &&
		! test -s audit.log &&
		ec2_state us-east-1 >state.json &&
		test "$(jq "[.Regions[\"us-east-1\"].Images[] | select(.DeprecationTime)] | length" state.json)" = 0
	'
done

test_expect_success 'the same records, good, are all done' '
	deprecate --in 1d <images.jsonl >out &&
	jq -r .Result.Status out | sort | uniq -c >actual &&
	echo "    100 done" >expect &&
	test_cmp expect actual
'

test_done
