#!/bin/bash
# ec2-terminate against the local EC2 endpoint: batched per region, idempotent (terminated and
# unknown instances are skipped), one bad id never keeps the others running, a last line cut short
# is forgiven, records that are not instances pass through, dry runs, bad input, the audit log.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

# us-east-1: i-0a...01 to 09 (08 protected from termination); eu-west-1: i-0e...01, 02;
# us-west-2: 1001 instances, for batching.
jq -n '{Regions: {
	"us-east-1": {
		Images: [{ImageId: "ami-0a000000000000001", Name: "web"}],
		Instances: [range(1; 10) | {InstanceId: "i-0a00000000000000\(.)", ImageId: "ami-0a000000000000001",
			InstanceType: "t3.micro"} + (if . == 8 then {_DisableApiTermination: true} else {} end)]},
	"eu-west-1": {Instances: [range(1; 3) | {InstanceId: "i-0e00000000000000\(.)", InstanceType: "t3.micro"}]},
	"us-west-2": {Instances: [range(1001) | {InstanceId: "i-0b\(100000000000000 + .)", InstanceType: "t3.micro"}]}}}' \
	>seed.json

# states REGION ID...: "ID STATE" for each instance, as the endpoint has it.
states () {
	ec2_state "$1" >state.json &&
	shift &&
	for id; do
		jq -r --arg id "$id" '.Regions[].Reservations[]?.Instances[] | select(.InstanceId == $id) |
			"\(.InstanceId) \(.State.Name)"' state.json
	done
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'the instances of two regions: one call each, shutting down' '
	ec2-describe instances i-0a000000000000001 i-0a000000000000002 i-0a000000000000003 >in.jsonl &&
	ec2-describe instances --region eu-west-1 >>in.jsonl &&
	ec2_reset_counts &&
	ec2-terminate --audit audit.jsonl in.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.Region, .InstanceId, .State.Name, .Result.Action, .Result.Status] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	us-east-1	i-0a000000000000001	shutting-down	ec2-terminate	done
	us-east-1	i-0a000000000000002	shutting-down	ec2-terminate	done
	us-east-1	i-0a000000000000003	shutting-down	ec2-terminate	done
	eu-west-1	i-0e000000000000001	shutting-down	ec2-terminate	done
	eu-west-1	i-0e000000000000002	shutting-down	ec2-terminate	done
	EOF
	test_cmp expect actual &&
	test "$(ec2_count TerminateInstances us-east-1)" = 1 &&
	test "$(ec2_count TerminateInstances eu-west-1)" = 1 &&
	states us-east-1 i-0a000000000000001 i-0a000000000000002 i-0a000000000000003 i-0a000000000000004 >actual &&
	cat >expect <<-\EOF &&
	i-0a000000000000001 shutting-down
	i-0a000000000000002 shutting-down
	i-0a000000000000003 shutting-down
	i-0a000000000000004 running
	EOF
	test_cmp expect actual
'

test_expect_success 'the records keep their fields; State and Result are new' '
	jq -c "del(.State, .Result)" in.jsonl >expect &&
	jq -c "del(.State, .Result)" out >actual &&
	test_cmp expect actual &&
	jq -r ".Result.RequestId" out | grep -c "^[-0-9a-f]\{36\}$" >count &&
	echo 5 >expect && test_cmp expect count
'

test_expect_success 'again: skipped, already shutting down; later, already terminated' '
	ec2-terminate --audit audit.jsonl in.jsonl >out &&
	jq -r "[.Result.Status, .Result.Reason] | @tsv" out | sort -u >actual &&
	printf "skipped\talready shutting down\n" >expect &&
	test_cmp expect actual &&
	ec2-describe instances - <in.jsonl >/dev/null &&
	ec2-terminate --audit audit.jsonl in.jsonl >out &&
	jq -r "[.State.Name, .Result.Status, .Result.Reason] | @tsv" out | sort -u >actual &&
	printf "terminated\tskipped\talready terminated\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'an unknown id among known ones: the others terminated, it skipped' '
	printf "%s\n" "{\"InstanceId\":\"i-0a000000000000004\",\"Region\":\"us-east-1\"}" \
		"{\"InstanceId\":\"i-0a0000000000000ff\",\"Region\":\"us-east-1\"}" \
		"{\"InstanceId\":\"i-0a000000000000005\",\"Region\":\"us-east-1\"}" >unknown.jsonl &&
	ec2_reset_counts &&
	ec2-terminate --audit audit.jsonl unknown.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.InstanceId, .State.Name // \"-\", .Result.Status, .Result.Reason // \"-\"] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	i-0a000000000000004	shutting-down	done	-
	i-0a0000000000000ff	-	skipped	already gone (InvalidInstanceID.NotFound)
	i-0a000000000000005	shutting-down	done	-
	EOF
	test_cmp expect actual &&
	test "$(ec2_count TerminateInstances)" = 4 &&
	states us-east-1 i-0a000000000000004 i-0a000000000000005 >actual &&
	printf "%s\n" "i-0a000000000000004 shutting-down" "i-0a000000000000005 shutting-down" >expect &&
	test_cmp expect actual
'

test_expect_success 'a protected id among others: it fails, exit 1, the others terminated' '
	printf "%s\n" "{\"InstanceId\":\"i-0a000000000000006\",\"Region\":\"us-east-1\"}" \
		"{\"InstanceId\":\"i-0a000000000000008\",\"Region\":\"us-east-1\"}" \
		"{\"InstanceId\":\"i-0a000000000000007\",\"Region\":\"us-east-1\"}" >protected.jsonl &&
	test_expect_code 1 ec2-terminate --audit audit.jsonl protected.jsonl >out 2>err &&
	jq -r "[.InstanceId, .Result.Status] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	i-0a000000000000006	done
	i-0a000000000000008	failed
	i-0a000000000000007	done
	EOF
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^ec2-terminate: us-east-1: TerminateInstances: OperationNotPermitted: The instance .i-0a000000000000008. may not be terminated" err &&
	jq -r "select(.InstanceId == \"i-0a000000000000008\") | .Result.Reason" out >reason &&
	test_grep "OperationNotPermitted" reason &&
	states us-east-1 i-0a000000000000006 i-0a000000000000007 i-0a000000000000008 >actual &&
	printf "%s\n" "i-0a000000000000006 shutting-down" "i-0a000000000000007 shutting-down" \
		"i-0a000000000000008 running" >expect &&
	test_cmp expect actual
'

test_expect_success 'records that are not instances pass through untouched, without a call' '
	ec2_reset_counts &&
	printf "%s\n" "{\"ImageId\":\"ami-0a000000000000001\",\"Region\":\"us-east-1\",\"Result\":{\"Action\":\"ec2-launch\",\"Status\":\"dry-run\"}}" \
		"{\"ImageId\":\"ami-0a0000000000000ff\",\"Region\":\"us-east-1\",\"Result\":{\"Action\":\"ec2-launch\",\"Status\":\"failed\",\"Reason\":\"x\"}}" \
		"{}" "{\"InstanceId\":null,\"Note\":\"n\"}" >plans.jsonl &&
	ec2-terminate plans.jsonl >out 2>err &&
	test_cmp plans.jsonl out &&
	test_line_count = 0 err &&
	test "$(ec2_count TerminateInstances)" = 0
'

test_expect_success 'an empty input: nothing to do, exit 0' '
	ec2_reset_counts &&
	ec2-terminate </dev/null >out 2>err &&
	test_line_count = 0 out && test_line_count = 0 err &&
	: >empty.jsonl &&
	ec2-terminate empty.jsonl >out 2>err &&
	test_line_count = 0 out && test_line_count = 0 err &&
	printf "\n  \n\n" >blank.jsonl &&
	ec2-terminate blank.jsonl >out 2>err &&
	test_line_count = 0 out && test_line_count = 0 err &&
	ec2_admin GET /_admin/counts | jq .Total >total &&
	echo 0 >expect && test_cmp expect total
'

test_expect_success 'the same instance twice: one id in the call, both records printed' '
	ec2_reset_counts &&
	echo "{\"InstanceId\":\"i-0a000000000000009\",\"Region\":\"us-east-1\"}" >one.jsonl &&
	cat one.jsonl one.jsonl >twice.jsonl &&
	ec2-terminate --dry-run twice.jsonl >out &&
	test_line_count = 2 out &&
	ec2_requests >requests.json &&
	jq -c "[.[] | .Params | del(.DryRun)]" requests.json >actual &&
	echo "[{\"InstanceId.1\":\"i-0a000000000000009\"}]" >expect &&
	test_cmp expect actual
'

test_expect_success 'dry run: DryRun=true, nothing changes, a plan that applies unchanged' '
	ec2_reset_counts &&
	cat one.jsonl unknown.jsonl >dry.jsonl &&
	ec2-terminate --dry-run --audit audit.jsonl dry.jsonl >plan 2>err &&
	test_line_count = 0 err &&
	jq -r "[.InstanceId, .Result.Status] | @tsv" plan >actual &&
	cat >expect <<-\EOF &&
	i-0a000000000000009	dry-run
	i-0a000000000000004	dry-run
	i-0a0000000000000ff	skipped
	i-0a000000000000005	dry-run
	EOF
	test_cmp expect actual &&
	states us-east-1 i-0a000000000000009 >actual &&
	echo "i-0a000000000000009 running" >expect &&
	test_cmp expect actual &&
	ec2_requests >requests.json &&
	jq -r ".[] | .Params.DryRun" requests.json | sort -u >actual &&
	echo true >expect && test_cmp expect actual &&
	ec2-terminate plan >out &&
	jq -r "[.InstanceId, .Result.Status] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	i-0a000000000000009	done
	i-0a000000000000004	skipped
	i-0a0000000000000ff	skipped
	i-0a000000000000005	skipped
	EOF
	test_cmp expect actual &&
	states us-east-1 i-0a000000000000009 >actual &&
	echo "i-0a000000000000009 shutting-down" >expect &&
	test_cmp expect actual
'

test_expect_success '1001 instances in a region: two calls, all terminated' '
	ec2-describe instances --region us-west-2 >many.jsonl &&
	test_line_count = 1001 many.jsonl &&
	ec2_reset_counts &&
	ec2-terminate many.jsonl >out &&
	test "$(ec2_count TerminateInstances us-west-2)" = 2 &&
	jq -r "[.State.Name, .Result.Status] | @tsv" out | sort | uniq -c |
		awk "{ print \$1, \$2, \$3 }" >actual &&
	echo "1001 shutting-down done" >expect &&
	test_cmp expect actual &&
	ec2_requests >requests.json &&
	jq -r ".[] | .Params | length" requests.json | sort -n >actual &&
	printf "1\n1000\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a region failing after retries: its records fail, the other region is done' '
	ec2_seed seed.json &&
	printf "%s\n" "{\"InstanceId\":\"i-0e000000000000001\",\"Region\":\"eu-west-1\"}" \
		"{\"InstanceId\":\"i-0a000000000000001\",\"Region\":\"us-east-1\"}" \
		"{\"InstanceId\":\"i-0e000000000000002\",\"Region\":\"eu-west-1\"}" >regions.jsonl &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"internal\",\"Action\":\"TerminateInstances\",\"Region\":\"eu-west-1\",\"Count\":3}" &&
	test_expect_code 1 ec2-terminate --audit audit.jsonl regions.jsonl >out 2>err &&
	jq -r "[.InstanceId, .Result.Status] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	i-0e000000000000001	failed
	i-0a000000000000001	done
	i-0e000000000000002	failed
	EOF
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^ec2-terminate: eu-west-1: TerminateInstances: InternalError: " err &&
	test "$(ec2_count TerminateInstances eu-west-1)" = 3
'

test_expect_success 'records without Region go to --region, else the configured region' '
	echo "{\"InstanceId\":\"i-0e000000000000001\"}" >noregion.jsonl &&
	ec2-terminate --region eu-west-1 noregion.jsonl >out &&
	jq -r "[.Region, .Result.Status] | @tsv" out >actual &&
	printf "eu-west-1\tdone\n" >expect &&
	test_cmp expect actual &&
	echo "{\"InstanceId\":\"i-0a000000000000002\",\"Region\":null}" | ec2-terminate >out &&
	jq -r "[.Region, .Result.Status] | @tsv" out >actual &&
	printf "us-east-1\tdone\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'bad input in line 50 of 100: exit 3, nothing terminated' '
	for i in $(seq 1 100); do
		if [ $i = 50 ]; then
			echo "{\"InstanceId\":42,\"Region\":\"us-east-1\"}"
		else
			echo "{\"InstanceId\":\"i-0a000000000000003\",\"Region\":\"us-east-1\"}"
		fi
	done >hundred.jsonl &&
	ec2_reset_counts &&
	test_expect_code 3 ec2-terminate hundred.jsonl >out 2>err &&
	test_line_count = 0 out &&
	echo "ec2-terminate: hundred.jsonl:50: InstanceId is not a string" >expect &&
	test_cmp expect err &&
	printf "%s\n" "{\"InstanceId\":\"i-0a000000000000003\"}" "not json" "{}" >notjson.jsonl &&
	test_expect_code 3 ec2-terminate notjson.jsonl >out 2>err &&
	test_grep "^ec2-terminate: notjson.jsonl:2: not valid JSON" err &&
	(unset AWS_REGION; test_expect_code 3 ec2-terminate noregion.jsonl >out 2>err) &&
	test_grep "^ec2-terminate: noregion.jsonl:1: no Region, and no region configured" err &&
	test "$(ec2_count TerminateInstances)" = 0
'

test_expect_success 'usage errors: exit 2' '
	test_expect_code 2 ec2-terminate -P 100 one.jsonl >out 2>err &&
	test_grep "^ec2-terminate: -P: bad value" err &&
	test_expect_code 2 ec2-terminate --instance-type t3.micro one.jsonl >out 2>err &&
	test_line_count = 0 out
'

test_expect_success 'the audit log: one line per call, with ids, request id and outcome' '
	jq -r "[.Program, .Region, .Action, .Outcome, .DryRun, (.Resources | unique | join(\",\"))] | @tsv" \
		audit.jsonl >actual &&
	cat >expect <<-\EOF &&
	ec2-terminate	us-east-1	TerminateInstances	done	false	i-0a000000000000001,i-0a000000000000002,i-0a000000000000003
	ec2-terminate	eu-west-1	TerminateInstances	done	false	i-0e000000000000001,i-0e000000000000002
	ec2-terminate	us-east-1	TerminateInstances	done	false	i-0a000000000000001,i-0a000000000000002,i-0a000000000000003
	ec2-terminate	eu-west-1	TerminateInstances	done	false	i-0e000000000000001,i-0e000000000000002
	ec2-terminate	us-east-1	TerminateInstances	done	false	i-0a000000000000001,i-0a000000000000002,i-0a000000000000003
	ec2-terminate	eu-west-1	TerminateInstances	done	false	i-0e000000000000001,i-0e000000000000002
	ec2-terminate	us-east-1	TerminateInstances	failed	false	i-0a000000000000004,i-0a000000000000005,i-0a0000000000000ff
	ec2-terminate	us-east-1	TerminateInstances	done	false	i-0a000000000000004
	ec2-terminate	us-east-1	TerminateInstances	failed	false	i-0a0000000000000ff
	ec2-terminate	us-east-1	TerminateInstances	done	false	i-0a000000000000005
	ec2-terminate	us-east-1	TerminateInstances	failed	false	i-0a000000000000006,i-0a000000000000007,i-0a000000000000008
	ec2-terminate	us-east-1	TerminateInstances	done	false	i-0a000000000000006
	ec2-terminate	us-east-1	TerminateInstances	failed	false	i-0a000000000000008
	ec2-terminate	us-east-1	TerminateInstances	done	false	i-0a000000000000007
	ec2-terminate	us-east-1	TerminateInstances	failed	true	i-0a000000000000004,i-0a000000000000005,i-0a000000000000009,i-0a0000000000000ff
	ec2-terminate	us-east-1	TerminateInstances	dry-run	true	i-0a000000000000009
	ec2-terminate	us-east-1	TerminateInstances	dry-run	true	i-0a000000000000004
	ec2-terminate	us-east-1	TerminateInstances	failed	true	i-0a0000000000000ff
	ec2-terminate	us-east-1	TerminateInstances	dry-run	true	i-0a000000000000005
	ec2-terminate	us-east-1	TerminateInstances	done	false	i-0a000000000000001
	ec2-terminate	eu-west-1	TerminateInstances	failed	false	i-0e000000000000001,i-0e000000000000002
	EOF
	sort expect >expect.s && sort actual >actual.s &&
	test_cmp expect.s actual.s &&
	jq -r "select(.RequestId == null) | .Action" audit.jsonl >norequest &&
	test_line_count = 0 norequest
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./seed.json$" >leaks;
	test_line_count = 0 leaks
'

test_done
