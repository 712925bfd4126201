#!/bin/bash
# The adaptive retry mode (the default) against the endpoint's EC2-like token buckets: a cleanup
# of 150 images behind DeregisterImage's bucket at 20 tokens, 5 a second, finishes, every image
# retired once; the calls slow down at the first throttle and speed up once the throttling
# stops, as the request log's order and spacing show (never a wall-clock bound); copies made
# under throttling are made once; AWS_RETRY_MODE=standard and a profile's retry_mode=standard
# turn the pacing off.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-dereg.sh

dereg_seed 150 >seed150.json &&
jq -c '.Regions["us-east-1"].Images[] | {ImageId, Region: "us-east-1"}' seed150.json >in150 ||
	{ echo "Bail out! cannot write the seeds"; exit 1; }

# gaps.py REQUESTS ACTION: one line per request of ACTION, in the order the endpoint got them:
# "SEQ GAP THROTTLED", GAP the seconds since the one before (0 for the first).
cat >gaps.py <<'EOF'
import json
import sys

last = None
for r in json.load(open(sys.argv[1])):
	if r["Action"] != sys.argv[2]:
		continue
	print(r["Seq"], "%.4f" % (0 if last is None else r["Time"] - last), int(r["Throttled"]))
	last = r["Time"]
EOF

# median FILE FROM COUNT: the median of the gaps (column 2) of COUNT lines from line FROM on.
median () {
	sed -n "$2,$(($2 + $3 - 1))p" "$1" | cut -d" " -f2 | sort -n | sed -n "$((($3 + 1) / 2))p"
}

# less A B: A < B (decimal numbers).
less () {
	awk -v a="$1" -v b="$2" "BEGIN { exit !(a < b) }"
}

test_expect_success '150 images behind DeregisterImage=20/5: every image retired, exit 0' '
	ec2_start seed150.json --bucket DeregisterImage=20/5 &&
	deregister -P 8 --max 150 --audit audit.log in150 >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.Result.Status, .State] | @tsv" out | sort | uniq -c | sed "s/^ *//" >actual &&
	printf "150 done\tderegistered\n" >expect &&
	test_cmp expect actual &&
	ec2_state us-east-1 >state &&
	jq -r ".Regions[\"us-east-1\"] | [(.Images | length), (.Snapshots | length), (.DeregisteredImageIds | length)] | @tsv" state >actual &&
	printf "0\t0\t150\n" >expect &&
	test_cmp expect actual &&
	ec2_requests >reqs &&
	test "$(ec2_throttled DeregisterImage)" -gt 0
'

test_expect_success 'nothing done twice: one successful DeregisterImage per image, none after it' '
	jq -r ".[] | select(.Action == \"DeregisterImage\" and .Status == 200) | .Params.ImageId" reqs | sort >done &&
	jq -r .ImageId in150 | sort >expect &&
	test_cmp expect done &&
	jq -r "[.[] | select(.Action == \"DeregisterImage\")] | group_by(.Params.ImageId)[] |
		select(.[-1].Status != 200 or ([.[] | select(.Status == 200)] | length) != 1) | .[0].Params.ImageId" \
		reqs >twice &&
	test_line_count = 0 twice &&
	test_line_count = 150 audit.log
'

# The gaps between DeregisterImage requests, in the order the endpoint got them. Up to -P (8, set above)
# requests after the first throttle were sent before its answer came: the pacing shows after them.
test_expect_success 'the calls slow down at the first throttle: the gaps after it are far longer' '
	/usr/bin/python3 gaps.py reqs DeregisterImage >gaps &&
	first=$(awk "\$3 == 1 { print NR; exit }" gaps) &&
	test -n "$first" && test "$first" -gt 10 &&
	before=$(median gaps 2 $((first - 2))) &&
	slow=$(median gaps $((first + 8)) 3) &&
	echo "first throttle: request $first; median gap before it $before s, after it $slow s" &&
	less "$(awk -v b="$before" "BEGIN { print b * 10 }")" "$slow"
'

# Until the next throttle (or the end), CUBIC raises the rate: the gaps shrink. (The five gaps
# before it come after the three above.)
test_expect_success 'and speed up once the throttling stops' '
	next=$(awk -v f=$((first + 15)) "NR > f && \$3 == 1 { print NR; exit }" gaps) &&
	: ${next:=$(($(wc -l <gaps) + 1))} &&
	fast=$(median gaps $((next - 5)) 5) &&
	echo "median gap after the first throttle $slow s, before the next (request $next) $fast s" &&
	less "$(awk -v f="$fast" "BEGIN { print f * 2 }")" "$slow"
'

test_expect_success 'copies under throttling are made once: one image and one token per copy' '
	jq -n "{Regions: {\"us-east-1\": {Images: [range(1; 13) | {ImageId: (\"ami-0\" + (2000000000000000 + . | tostring)),
		Name: \"app-\(.)\", CreationDate: \"2024-05-01T12:00:00.000Z\"}]}, \"us-west-2\": {}}}" >seedc.json &&
	jq -c ".Regions[\"us-east-1\"].Images[] | {ImageId, Region: \"us-east-1\"}" seedc.json >inc &&
	ec2_start seedc.json --bucket CopyImage=4/2 &&
	copy-image --to us-west-2 inc >out 2>err &&
	test_line_count = 0 err &&
	jq -r .Result.Status out | sort | uniq -c | sed "s/^ *//" >actual &&
	echo "12 done" >expect && test_cmp expect actual &&
	test "$(ec2_throttled CopyImage)" -gt 0 &&
	ec2_state us-west-2 >state &&
	jq -r ".Regions[\"us-west-2\"].Images[].Name" state | sort >names &&
	jq -r ".Regions[\"us-east-1\"].Images[].Name" seedc.json | sort >expect &&
	test_cmp expect names &&
	ec2_requests >reqs3 &&
	jq -r ".[] | select(.Action == \"CopyImage\" and .Status == 200) | .Params.ClientToken" reqs3 | sort >ok-tokens &&
	sort -u ok-tokens >once && test_cmp once ok-tokens && test_line_count = 12 ok-tokens &&
	jq -r ".[] | select(.Action == \"CopyImage\") | .Params.ClientToken" reqs3 | sort -u >all-tokens &&
	test_cmp ok-tokens all-tokens
'

# The first throttle turns the limiter on with an empty bucket: the next attempt is always paced.
test_expect_success 'the default paces after a throttle; AWS_RETRY_MODE=standard and retry_mode=standard do not' '
	dereg_seed 6 >seed6.json &&
	jq -c ".Regions[\"us-east-1\"].Images[] | {ImageId, Region: \"us-east-1\"}" seed6.json >in6 &&
	for mode in adaptive default standard profile
	do
		ec2_start seed6.json &&
		ec2_fault DeregisterImage throttle 1 &&
		case $mode in
		adaptive) AWS_RETRY_MODE=adaptive deregister --debug -P 1 in6 >out 2>err ;;
		default) deregister --debug -P 1 in6 >out 2>err ;;
		standard) AWS_RETRY_MODE=standard deregister --debug -P 1 in6 >out 2>err ;;
		profile) printf "[default]\nretry_mode = standard\n" >.aws-config &&
			deregister --debug -P 1 in6 >out 2>err && rm .aws-config ;;
		esac &&
		jq -r .Result.Status out | sort | uniq -c | sed "s/^ *//" >actual &&
		echo "6 done" >expect && test_cmp expect actual &&
		grep "DeregisterImage: attempt [0-9]* paced: starts in [0-9]* ms (adaptive retry mode, [0-9.]* requests a second)$" err >paced || :
		case $mode in
		adaptive|default) test -s paced ;;
		*) test_line_count = 0 paced ;;
		esac || return 1
	done
'

test_expect_success 'a call throttled past its max attempts is still retried in adaptive mode' '
	ec2_start seed6.json &&
	ec2_fault DescribeImages throttle 3 &&
	ec2-describe images --owner self >out 2>err &&
	test_line_count = 0 err &&
	test_line_count = 6 out &&
	test "$(ec2_count DescribeImages)" = 4 &&
	ec2_reset_counts &&
	ec2_fault DescribeImages throttle 3 &&
	AWS_RETRY_MODE=standard test_expect_code 1 ec2-describe images --owner self >out 2>err &&
	test_grep "DescribeImages: RequestLimitExceeded: " err &&
	test "$(ec2_count DescribeImages)" = 3
'

test_done
