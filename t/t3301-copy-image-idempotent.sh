#!/bin/bash
# copy-image never copies twice: a re-run returns the same images, a call retried after its
# answer was lost (drop-after) makes one image, throttled calls are retried once each.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

jq -n '{Regions: {"us-east-1": {Images: [range(1; 5) | {ImageId: ("ami-0a00000000000000\(.)"),
	Name: "web-\(.)", CreationDate: "2024-05-01T12:00:00.000Z",
	Tags: [{Key: "Project", Value: "web"}]}]}, "us-west-2": {}, "eu-west-1": {}}}' >seed.json

# images_named REGION NAME: the ids of the images called NAME in REGION, as the endpoint has them.
images_named () {
	ec2_state "$1" >state.json &&
	jq -r --arg r "$1" --arg n "$2" '.Regions[$r].Images[] | select(.Name == $n) | .ImageId' state.json
}

# copy_tokens: the ClientToken of each CopyImage request since the counts were reset, by region.
copy_tokens () {
	ec2_requests >reqs.json &&
	jq -r '.[] | select(.Action == "CopyImage") | [.Region, .Params.ClientToken] | @tsv' reqs.json | sort
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	echo "{\"ImageId\":\"ami-0a000000000000001\",\"Region\":\"us-east-1\"}" >web1.jsonl
'

test_expect_success 'the first run copies to two regions' '
	ec2_reset_counts &&
	copy-image --to us-west-2,eu-west-1 --audit audit.log web1.jsonl >first &&
	jq -r "[.Region, .ImageId] | @tsv" first >first.ids &&
	test_line_count = 2 first.ids &&
	copy_tokens >first.tokens
'

test_expect_success 'a second run creates nothing: the same images, the same tokens' '
	ec2_reset_counts &&
	copy-image --to us-west-2,eu-west-1 --audit audit.log web1.jsonl >second &&
	jq -r "[.Region, .ImageId] | @tsv" second >second.ids &&
	test_cmp first.ids second.ids &&
	jq -r "[.Result.Status] | @tsv" second >actual &&
	printf "done\ndone\n" >expect &&
	test_cmp expect actual &&
	copy_tokens >second.tokens &&
	test_cmp first.tokens second.tokens &&
	for r in us-west-2 eu-west-1; do
		images_named $r web-1 >ids &&
		grep "^$r	" first.ids | cut -f2 >expect &&
		test_cmp expect ids || return 1
	done
'

test_expect_success 'nor a third, with --wait' '
	copy-image --to us-west-2,eu-west-1 --wait web1.jsonl >third &&
	jq -r "[.Region, .ImageId] | @tsv" third >third.ids &&
	test_cmp first.ids third.ids &&
	for r in us-west-2 eu-west-1; do
		images_named $r web-1 >ids &&
		test_line_count = 1 ids || return 1
	done
'

test_expect_success 'the audit log has every call of both runs, each with its request id' '
	test_line_count = 4 audit.log &&
	jq -r "[.Region, .Outcome, (.RequestId | test(\"^[-0-9a-f]+$\"))] | @tsv" audit.log | sort >actual &&
	printf "eu-west-1\tdone\ttrue\neu-west-1\tdone\ttrue\nus-west-2\tdone\ttrue\nus-west-2\tdone\ttrue\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the answer is lost after the copy was made: the retry returns the same image' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"drop-after\",\"Action\":\"CopyImage\"}" &&
	echo "{\"ImageId\":\"ami-0a000000000000002\"}" >web2.jsonl &&
	copy-image --to eu-west-1 --audit drop.log web2.jsonl >out 2>err &&
	test_line_count = 0 err &&
	test "$(ec2_count CopyImage)" = 2 &&
	copy_tokens >tokens &&
	cut -f2 tokens | sort -u >distinct &&
	test_line_count = 1 distinct &&
	ec2_requests >reqs.json &&
	jq -r "[.[] | select(.Action == \"CopyImage\") | .Fault] | @tsv" reqs.json >faults &&
	test_grep "drop-after" faults &&
	images_named eu-west-1 web-2 >ids &&
	test_line_count = 1 ids &&
	jq -r .ImageId out >actual &&
	test_cmp ids actual &&
	jq -r .Result.Status out >actual &&
	echo done >expect &&
	test_cmp expect actual &&
	test_line_count = 1 drop.log &&
	jq -r "[.Outcome, .Resources[1]] | @tsv" drop.log >actual &&
	printf "done\t%s\n" "$(cat ids)" >expect &&
	test_cmp expect actual
'

test_expect_success 'a throttling burst: every copy done once, one retry per throttle' '
	ec2_reset_counts &&
	ec2_fault CopyImage throttle 2 &&
	printf "%s\n" "{\"ImageId\":\"ami-0a000000000000003\"}" "{\"ImageId\":\"ami-0a000000000000004\"}" >two.jsonl &&
	copy-image --to us-west-2,eu-west-1 --audit throttle.log two.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.SourceImageId, .Region, .Result.Status] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	ami-0a000000000000003	us-west-2	done
	ami-0a000000000000003	eu-west-1	done
	ami-0a000000000000004	us-west-2	done
	ami-0a000000000000004	eu-west-1	done
	EOF
	test_cmp expect actual &&
	test "$(ec2_count CopyImage)" = 6 &&
	for r in us-west-2 eu-west-1; do
		for n in web-3 web-4; do
			images_named $r $n >ids &&
			test_line_count = 1 ids || return 1
		done
	done &&
	test_line_count = 4 throttle.log
'

test_expect_success 'standard mode, throttled past the attempts: that copy fails, exit 1, the others are done' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"throttle\",\"Action\":\"CopyImage\",\"Region\":\"eu-west-1\",\"Count\":3}" &&
	echo "{\"ImageId\":\"ami-0a000000000000001\",\"Region\":\"us-east-1\"}" >again.jsonl &&
	AWS_RETRY_MODE=standard test_expect_code 1 copy-image --to us-west-2,eu-west-1 --name "{name}-again" again.jsonl >out 2>err &&
	jq -r "[.Region, .Result.Status] | @tsv" out >actual &&
	printf "us-west-2\tdone\neu-west-1\tfailed\n" >expect &&
	test_cmp expect actual &&
	test_grep "^copy-image: eu-west-1: CopyImage: RequestLimitExceeded: " err &&
	test "$(ec2_count CopyImage eu-west-1)" = 3 &&
	images_named eu-west-1 web-1-again >ids &&
	test_line_count = 0 ids
'

test_expect_success 'interrupted: the copy in flight is printed, no more start, death by the signal' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"CopyImage\",\"DelayMs\":1500}" &&
	printf "%s\n" "{\"ImageId\":\"ami-0a000000000000003\"}" "{\"ImageId\":\"ami-0a000000000000004\"}" >intr.jsonl &&
	{ copy-image --to us-west-2 --name "{name}-intr" -P 1 intr.jsonl >out 2>err & } &&
	pid=$! &&
	ec2_await CopyImage &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 143 &&
	test "$(ec2_count CopyImage)" = 1 &&
	jq -r "[.SourceImageId, .Result.Status, .Result.Reason // \"-\", has(\"ImageId\")] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	ami-0a000000000000003	done	-	true
	ami-0a000000000000004	interrupted	interrupted before its call was sent	false
	EOF
	test_cmp expect actual &&
	echo "copy-image: interrupted: 1 copy not started" >expect &&
	test_cmp expect err
'

test_expect_success 'interrupted while waiting: the copies are printed as they are' '
	ec2_settings "{\"ImagePendingDescribes\":1000}" &&
	ec2_reset_counts &&
	{ copy-image --to eu-west-1 --name "{name}-intr" --wait intr.jsonl >out 2>err & } &&
	pid=$! &&
	ec2_await DescribeImages eu-west-1 &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 143 &&
	jq -r "[.SourceImageId, .State, .Result.Status, .Result.Reason] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	ami-0a000000000000003	pending	failed	still pending when interrupted
	ami-0a000000000000004	pending	failed	still pending when interrupted
	EOF
	test_cmp expect actual &&
	test_line_count = 0 err
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . >leaks;
	test_line_count = 0 leaks
'

test_done
