#!/bin/bash
# ec2-terminate as a cleanup trap runs it: input cut short by a writer that was killed, scripts that
# fail or are interrupted after ec2-launch (no test instance is left running), and an interrupt of
# ec2-terminate itself (it finishes first).
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {"Images": [{"ImageId": "ami-0a000000000000001", "Name": "web"},
                           {"ImageId": "ami-0a000000000000002", "Name": "db"}]},
  "eu-west-1": {"Images": [{"ImageId": "ami-0e000000000000001", "Name": "web"}]}
}}
EOF
printf '%s\n' '{"ImageId":"ami-0a000000000000001","Region":"us-east-1","Packer":{"Note":"h\u00e9llo"}}' \
	'{"ImageId":"ami-0e000000000000001","Region":"eu-west-1"}' \
	'{"ImageId":"ami-0a000000000000002","Region":"us-east-1"}' >images.jsonl

# live: the instances still pending or running, as "REGION ID" lines.
live () {
	ec2_state | jq -r '.Regions | to_entries[] | .key as $r | .value.Reservations[]?.Instances[] |
		select(.State.Name == "pending" or .State.Name == "running") | "\($r) \(.InstanceId)"'
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'a last line cut short: the instance it begins with is terminated too' '
	ec2-launch --instance-type t3.micro --run-id cut images.jsonl >inst.jsonl &&
	live >before && test_line_count = 3 before &&
	head -n 2 inst.jsonl >cut.jsonl &&
	sed -n 3p inst.jsonl | head -c 80 >>cut.jsonl &&
	ec2-terminate cut.jsonl >out 2>err &&
	id=$(sed -n 3p inst.jsonl | jq -r .InstanceId) &&
	echo "ec2-terminate: cut.jsonl:3: line cut short; terminating $id, the instance it begins with" >expect &&
	test_cmp expect err &&
	jq -c "[.InstanceId, .Region, .State.Name, .Result.Status]" out >actual &&
	jq -c "[.InstanceId, .Region, \"shutting-down\", \"done\"]" inst.jsonl >expect &&
	test_cmp expect actual &&
	jq -c "keys_unsorted" out | sed -n 3p >actual &&
	echo "[\"InstanceId\",\"Region\",\"State\",\"Result\"]" >expect &&
	test_cmp expect actual &&
	live >after && test_line_count = 0 after
'

test_expect_success 'a line cut before the ids: reported and ignored, the rest terminated, exit 0' '
	ec2-launch --instance-type t3.micro --run-id cut-2 images.jsonl >inst.jsonl &&
	head -n 2 inst.jsonl >cut.jsonl &&
	sed -n 3p inst.jsonl | head -c 30 >>cut.jsonl &&
	ec2-terminate cut.jsonl >out 2>err &&
	echo "ec2-terminate: cut.jsonl:3: line cut short, without an instance id at its start: ignored" >expect &&
	test_cmp expect err &&
	test_line_count = 2 out &&
	live >after &&
	sed -n 3p inst.jsonl | jq -r "\"\(.Region) \(.InstanceId)\"" >expect &&
	test_cmp expect after &&
	ec2-terminate inst.jsonl >/dev/null
'

test_expect_success 'a line cut inside a UTF-8 character is forgiven as well' '
	ec2-launch --instance-type t3.micro --run-id cut-3 images.jsonl >inst.jsonl &&
	sed -n 2p inst.jsonl >cut.jsonl &&
	sed -n 1p inst.jsonl | sed "s/h\xc3\xa9llo.*/h\xc3/" | tr -d "\n" >>cut.jsonl &&
	! iconv -f UTF-8 -t UTF-8 cut.jsonl >/dev/null 2>&1 &&
	ec2-terminate cut.jsonl >out 2>err &&
	test_grep "cut.jsonl:2: line cut short; terminating " err &&
	test_line_count = 2 out &&
	ec2-terminate inst.jsonl >/dev/null &&
	live >after && test_line_count = 0 after
'

test_expect_success 'a whole last line without a newline is a record like any other' '
	ec2-launch --instance-type t3.micro --run-id nolf images.jsonl >inst.jsonl &&
	printf "%s" "$(cat inst.jsonl)" >nolf.jsonl &&
	ec2-terminate nolf.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r .Result.Status out | sort -u >actual &&
	echo done >expect && test_cmp expect actual &&
	live >after && test_line_count = 0 after
'

test_expect_success 'a cut line at the end of one input of several: the next input is read' '
	ec2-launch --instance-type t3.micro --run-id files images.jsonl >inst.jsonl &&
	sed -n 1p inst.jsonl >a.jsonl && sed -n 2p inst.jsonl | head -c 70 >>a.jsonl &&
	sed -n 3p inst.jsonl >b.jsonl &&
	ec2-terminate a.jsonl b.jsonl >out 2>err &&
	test_grep "^ec2-terminate: a.jsonl:2: line cut short; terminating " err &&
	test_line_count = 3 out &&
	live >after && test_line_count = 0 after
'

test_expect_success 'a bad line that is not cut short is bad input: exit 3, nothing terminated' '
	ec2-launch --instance-type t3.micro --run-id bad images.jsonl >inst.jsonl &&
	head -n 2 inst.jsonl >bad.jsonl &&
	sed -n 3p inst.jsonl | head -c 80 >>bad.jsonl && echo >>bad.jsonl &&
	ec2_reset_counts &&
	test_expect_code 3 ec2-terminate bad.jsonl >out 2>err &&
	test_grep "^ec2-terminate: bad.jsonl:3: not valid JSON" err &&
	test_line_count = 0 out &&
	test "$(ec2_count TerminateInstances)" = 0 &&
	head -c 80 inst.jsonl >mid.jsonl && echo >>mid.jsonl && sed -n 2,3p inst.jsonl >>mid.jsonl &&
	test_expect_code 3 ec2-terminate mid.jsonl >out 2>err &&
	test_grep "^ec2-terminate: mid.jsonl:1: not valid JSON" err &&
	test "$(ec2_count TerminateInstances)" = 0 &&
	ec2-terminate inst.jsonl >/dev/null &&
	live >after && test_line_count = 0 after
'

# A test script as a CI job would run it: launch, then a check; the trap cleans up.
cat >image-test.sh <<'EOF'
trap 'ec2-terminate --audit audit.jsonl inst.jsonl >terminated.jsonl 2>terminate.err' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ec2-launch --instance-type t3.micro --audit audit.jsonl -P 1 images.jsonl >inst.jsonl || exit 1
echo launched >progress
${CHECK:-false}
EOF

test_expect_success 'a failing check: the trap terminates every test instance' '
	rm -f audit.jsonl progress &&
	test_expect_code 1 bash image-test.sh &&
	test -f progress &&
	test_line_count = 3 inst.jsonl &&
	jq -r .Result.Status terminated.jsonl | sort -u >actual &&
	echo done >expect && test_cmp expect actual &&
	test_line_count = 0 terminate.err &&
	live >after && test_line_count = 0 after
'

test_expect_success 'the audit log shows each launch and its termination' '
	jq -r "[.Program, .Action, .Outcome] | @tsv" audit.jsonl | sort | uniq -c |
		awk "{ print \$1, \$2, \$3, \$4 }" >actual &&
	cat >expect <<-\EOF &&
	3 ec2-launch RunInstances done
	2 ec2-terminate TerminateInstances done
	EOF
	test_cmp expect actual
'

test_expect_success 'a launch that fails for one image: the others are terminated all the same' '
	printf "%s\n" "{\"ImageId\":\"ami-0a0000000000000ff\",\"Region\":\"us-east-1\"}" >>images.jsonl &&
	rm -f progress &&
	test_expect_code 1 env CHECK=true bash image-test.sh 2>err &&
	test ! -f progress &&
	test_line_count = 4 inst.jsonl &&
	jq -r "[.Result.Action, .Result.Status] | @tsv" terminated.jsonl >actual &&
	cat >expect <<-\EOF &&
	ec2-terminate	done
	ec2-terminate	done
	ec2-terminate	done
	ec2-launch	failed
	EOF
	test_cmp expect actual &&
	live >after && test_line_count = 0 after
'

test_expect_success 'the script interrupted during ec2-launch: what was launched is terminated' '
	sed -i "\$d" images.jsonl &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"RunInstances\",\"Skip\":1,\"DelayMs\":1500}" &&
	{ setsid bash image-test.sh >/dev/null 2>&1 & } &&
	pid=$! &&
	i=0 && while [ "$(ec2_count RunInstances)" -lt 2 ] && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done &&
	kill -TERM -- -$pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 143 &&
	test "$(ec2_count RunInstances)" = 2 &&
	jq -r .Result.Status inst.jsonl >actual &&
	printf "done\ndone\ninterrupted\n" >expect &&
	test_cmp expect actual &&
	jq -r "[.Result.Action, .Result.Status] | @tsv" terminated.jsonl >actual &&
	printf "ec2-terminate\tdone\nec2-terminate\tdone\nec2-launch\tinterrupted\n" >expect &&
	test_cmp expect actual &&
	live >after && test_line_count = 0 after
'

test_expect_success 'ec2-terminate interrupted once: it finishes, then dies by the signal' '
	ec2-launch --instance-type t3.micro --run-id intr images.jsonl >inst.jsonl &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"TerminateInstances\",\"DelayMs\":1500}" &&
	{ ec2-terminate -P 1 inst.jsonl >out 2>err & } &&
	pid=$! &&
	i=0 && while [ "$(ec2_count TerminateInstances)" = 0 ] && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 143 &&
	test "$(ec2_count TerminateInstances)" = 2 &&
	jq -r .Result.Status out | sort -u >actual &&
	echo done >expect && test_cmp expect actual &&
	live >after && test_line_count = 0 after
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./seed.json$" >leaks;
	test_line_count = 0 leaks
'

test_done
