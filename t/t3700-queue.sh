#!/bin/bash
# The queue every filter's calls go through (lib/core/runq.h): -P 1 sends calls in input order;
# interrupted, a filter starts no more calls, lets those in flight finish, prints every record
# (the held call with its real outcome, the rest "interrupted"), audits only what was sent, and
# dies by the signal. copy-image, ec2-launch, deregister, ec2-wait and ec2-terminate have their
# own interrupt tests (t3301, t3501, t3103, t3401, t3601); here are tag, deprecate and the order.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

jq -n '{Regions: {
	"us-east-1": {Images: [range(6) | {ImageId: ("ami-0a00000000000000\(. + 1)"), Name: "web-\(. + 1)"}]},
	"eu-west-1": {Images: [{ImageId: "ami-0e000000000000001", Name: "web-eu"}]},
	"us-west-2": {Images: [{ImageId: "ami-0b000000000000001", Name: "web-w2"}]}}}' >seed.json

# interrupt SIG PID ACTION: waits for ACTION's first request to arrive, then sends SIG to PID and
# waits for it; leaves its exit status in rc. (A background job of a script ignores SIGINT, as
# the shell set it up: the filters leave an ignored signal ignored. SIGTERM and SIGHUP it is.)
interrupt () {
	ec2_await "$3" &&
	kill -"$1" "$2" &&
	{ wait "$2"; rc=$?; }
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	for r in us-east-1 eu-west-1 us-west-2; do
		ec2-describe images --region $r || return 1
	done >all.jsonl &&
	test_line_count = 8 all.jsonl
'

test_expect_success '-P 1: deprecate calls in input order' '
	jq -c . all.jsonl | tac >rev.jsonl &&
	ec2_admin DELETE /_admin/counts >/dev/null &&
	deprecate --in 30d -P 1 rev.jsonl >out &&
	ec2_requests >requests.json &&
	jq -r ".[] | select(.Action == \"EnableImageDeprecation\") | .Params.ImageId" requests.json >actual &&
	jq -r .ImageId rev.jsonl >expect &&
	test_cmp expect actual
'

test_expect_success '-P 1: copy-image calls in input order' '
	grep us-east-1 all.jsonl | tac >east.jsonl &&
	ec2_reset_counts &&
	copy-image --to eu-west-1 --name "{name}-fifo" -P 1 east.jsonl >out &&
	ec2_requests >requests.json &&
	jq -r ".[] | select(.Action == \"CopyImage\") | .Params.SourceImageId" requests.json >actual &&
	jq -r .ImageId east.jsonl >expect &&
	test_cmp expect actual
'

test_expect_success 'tag interrupted: the held call finishes, the rest are interrupted, death by SIGTERM' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"CreateTags\",\"DelayMs\":1500}" &&
	{ tag -t Stage=test -P 1 --audit tag-audit.log all.jsonl >out 2>err & } &&
	pid=$! &&
	interrupt TERM $pid CreateTags &&
	test $rc = 143 &&
	test "$(ec2_count CreateTags)" = 1 &&
	jq -r "[.Region, .Result.Status] | @tsv" out | sort | uniq -c |
		awk "{ print \$1, \$2, \$3 }" >actual &&
	printf "%s\n" "1 eu-west-1 interrupted" "6 us-east-1 done" "1 us-west-2 interrupted" >expect &&
	test_cmp expect actual &&
	test_line_count = 1 tag-audit.log &&
	jq -r "[.Region, .Action, .Outcome] | @tsv" tag-audit.log >actual &&
	printf "us-east-1\tCreateTags\tdone\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'tag interrupted between its two calls: the second is not sent, and says so' '
	grep us-west-2 all.jsonl >w2.jsonl &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"CreateTags\",\"DelayMs\":1500}" &&
	{ tag -t Stage=two --delete Old -P 1 w2.jsonl >out 2>err & } &&
	pid=$! &&
	interrupt TERM $pid CreateTags &&
	test $rc = 143 &&
	test "$(ec2_count DeleteTags)" = 0 &&
	jq -r "[.Result.Status, .Result.Reason] | @tsv" out >actual &&
	printf "interrupted\tinterrupted after its first call: the second was not sent\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'deprecate interrupted: the held calls finish, the rest are interrupted, death by SIGHUP' '
	grep us-east-1 all.jsonl >east.jsonl &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"DisableImageDeprecation\",\"Count\":2,\"DelayMs\":1500}" &&
	{ deprecate --undo -P 2 --audit dep-audit.log east.jsonl >out 2>err & } &&
	pid=$! &&
	interrupt $HUP_SIG $pid DisableImageDeprecation &&
	test $rc = $HUP_RC &&
	test "$(ec2_count DisableImageDeprecation)" = 2 &&
	jq -r "[.ImageId, .Result.Status, .Result.Reason // \"-\"] | @tsv" out >actual &&
	{
		printf "ami-0a00000000000000%d\tdone\t-\n" 1 2 &&
		for i in 3 4 5 6; do
			printf "ami-0a00000000000000%d\tinterrupted\tinterrupted before its call was sent\n" $i
		done
	} >expect &&
	test_cmp expect actual &&
	jq -r .Parameters.ImageId dep-audit.log | sort >actual &&
	printf "ami-0a00000000000000%d\n" 1 2 >expect &&
	test_cmp expect actual
'

test_expect_success 'a second signal ends the program at once' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"CreateTags\",\"DelayMs\":3000}" &&
	{ tag -t Stage=again -P 1 all.jsonl >out 2>err & } &&
	pid=$! &&
	ec2_await CreateTags &&
	kill -TERM $pid && sleep 0.2 && kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 143 &&
	test_line_count = 0 out
'

test_done
