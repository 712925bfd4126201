#!/bin/bash
# ec2-launch when things go wrong: a lost answer and throttling (retried with the same client token:
# one instance each, never two), a failing image among good ones, a run id whose instances were
# terminated, and an interrupt (the launches in flight are still printed, nothing more starts).
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

jq -n '{Regions: {
	"us-east-1": {Images: [range(6) | {ImageId: "ami-0a00000000000000\(.)", Name: "web-\(.)"}]},
	"eu-west-1": {Images: [{ImageId: "ami-0e000000000000001", Name: "web-1"}]}}}' >seed.json
jq -c -n 'range(6) | {ImageId: "ami-0a00000000000000\(.)", Region: "us-east-1"}' >six.jsonl
printf '%s\n' '{"ImageId":"ami-0a000000000000001","Region":"us-east-1"}' \
	'{"ImageId":"ami-0e000000000000001","Region":"eu-west-1"}' >two.jsonl

# ninstances: how many instances the endpoint has, in any state.
ninstances () {
	ec2_state | jq '[.Regions[].Reservations[]?.Instances[]] | length'
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'an answer lost after the launch: the retry returns the same, one instance' '
	ec2_reset_counts &&
	ec2_fault RunInstances drop-after 1 &&
	ec2-launch --instance-type t3.micro --run-id drop --audit audit.jsonl two.jsonl >out 2>err &&
	test_line_count = 0 err &&
	test_line_count = 2 out &&
	test "$(ec2_count RunInstances)" = 3 &&
	test "$(ninstances)" = 2 &&
	ec2_state | jq -r "[.Regions[].Reservations[]?.Instances[].InstanceId] | sort[]" >actual &&
	jq -r .InstanceId out | sort >expect &&
	test_cmp expect actual &&
	ec2_requests >requests.json &&
	jq -r ".[] | select(.Action == \"RunInstances\") | .Params.ClientToken" requests.json |
		sort | uniq -c | awk "{ print \$1 }" | sort >actual &&
	printf "1\n2\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a throttling burst: all launched, each once' '
	ec2_reset_counts &&
	ec2_fault RunInstances throttle 2 &&
	ec2-launch --instance-type t3.micro --run-id throttle -P 2 six.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r .Result.Status out | sort | uniq -c | awk "{ print \$1, \$2 }" >actual &&
	echo "6 done" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count RunInstances)" = 8 &&
	jq -r .InstanceId out | sort -u >ids &&
	test_line_count = 6 ids &&
	test "$(ninstances)" = 8
'

test_expect_success 'records are printed in input order' '
	jq -r .ImageId six.jsonl >expect &&
	jq -r .ImageId out >actual &&
	test_cmp expect actual
'

test_expect_success 'one image fails: the others are launched, exit 1, one line on stderr' '
	ec2_reset_counts &&
	printf "%s\n" "{\"ImageId\":\"ami-0a000000000000002\"}" \
		"{\"ImageId\":\"ami-0a0000000000000ff\"}" \
		"{\"ImageId\":\"ami-0a000000000000003\"}" >some.jsonl &&
	test_expect_code 1 ec2-launch --instance-type t3.micro --run-id some some.jsonl >out 2>err &&
	jq -r "[.ImageId, .Result.Status, has(\"InstanceId\")] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	ami-0a000000000000002	done	true
	ami-0a0000000000000ff	failed	false
	ami-0a000000000000003	done	true
	EOF
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^ec2-launch: us-east-1: RunInstances: InvalidAMIID.NotFound: .*(request id [-0-9a-f]*)$" err &&
	jq -r "select(.Result.Status == \"failed\") | .Result.Reason" out >reason &&
	test_grep "^us-east-1: RunInstances: InvalidAMIID.NotFound: " reason &&
	test "$(ec2_count RunInstances)" = 3
'

test_expect_success 'standard mode, throttled past the attempts: that record fails, the others do not' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"throttle\",\"Action\":\"RunInstances\",\"Region\":\"eu-west-1\",\"Count\":3}" &&
	AWS_RETRY_MODE=standard test_expect_code 1 ec2-launch --instance-type t3.micro --run-id exhausted two.jsonl >out 2>err &&
	jq -r "[.Region, .Result.Status] | @tsv" out >actual &&
	printf "us-east-1\tdone\neu-west-1\tfailed\n" >expect &&
	test_cmp expect actual &&
	test_grep "^ec2-launch: eu-west-1: RunInstances: RequestLimitExceeded: " err
'

test_expect_success 'a run id whose instances were terminated cannot launch again: it says so' '
	ec2-launch --instance-type t3.micro --run-id used two.jsonl >first &&
	ec2-terminate first >terminated &&
	test_expect_code 1 ec2-launch --instance-type t3.micro --run-id used two.jsonl >out 2>err &&
	jq -r "[.Result.Status, .State.Name] | @tsv" out >actual &&
	printf "failed\tshutting-down\nfailed\tshutting-down\n" >expect &&
	test_cmp expect actual &&
	test_line_count = 2 err &&
	test_grep "has already ended: a new test run needs a new run id (--run-id, AMICYCLE_RUN_ID)" err &&
	jq -r .InstanceId first >a && jq -r .InstanceId out >b && test_cmp a b &&
	ec2-launch --instance-type t3.micro --run-id used-2 two.jsonl >out &&
	jq -r .Result.Status out | sort -u >actual &&
	echo done >expect && test_cmp expect actual
'

test_expect_success 'EC2 answering IdempotentInstanceTerminated: the same advice' '
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"RunInstances\",\"Code\":\"IdempotentInstanceTerminated\",\"Message\":\"The client token has already been used by a terminated instance.\"}" &&
	test_expect_code 1 ec2-launch --instance-type t3.micro --run-id other -P 1 \
		--region us-east-1 some.jsonl >out 2>err &&
	test_line_count = 2 err &&
	test_grep "IdempotentInstanceTerminated: .*: a new test run needs a new run id" err
'

test_expect_success 'interrupted: the launch in flight is printed, nothing more starts, death by the signal' '
	ec2_reset_counts &&
	n=$(ninstances) &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"RunInstances\",\"DelayMs\":1500}" &&
	{ ec2-launch --instance-type t3.micro --run-id intr -P 1 six.jsonl >out 2>err & } &&
	pid=$! &&
	i=0 && while [ "$(ec2_count RunInstances)" = 0 ] && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 143 &&
	test "$(ec2_count RunInstances)" = 1 &&
	test "$(ninstances)" = $((n + 1)) &&
	jq -r "[.ImageId, .Result.Status, .Result.Reason // \"-\", has(\"InstanceId\")] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	ami-0a000000000000000	done	-	true
	ami-0a000000000000001	interrupted	interrupted before launch	false
	ami-0a000000000000002	interrupted	interrupted before launch	false
	ami-0a000000000000003	interrupted	interrupted before launch	false
	ami-0a000000000000004	interrupted	interrupted before launch	false
	ami-0a000000000000005	interrupted	interrupted before launch	false
	EOF
	test_cmp expect actual &&
	echo "ec2-launch: interrupted: 5 launches not started" >expect &&
	test_cmp expect err
'

test_expect_success 'the audit log: one line per call, however many attempts it took' '
	jq -r "[.Region, .Action, .Outcome] | @tsv" audit.jsonl >actual &&
	printf "us-east-1\tRunInstances\tdone\neu-west-1\tRunInstances\tdone\n" >expect &&
	sort expect >expect.s && sort actual >actual.s &&
	test_cmp expect.s actual.s &&
	jq -r .RequestId audit.jsonl | grep -c "^[-0-9a-f]\{36\}$" >count &&
	echo 2 >expect && test_cmp expect count
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./seed.json$" >leaks;
	test_line_count = 0 leaks
'

test_done
