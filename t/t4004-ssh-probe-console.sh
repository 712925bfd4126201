#!/bin/bash
# ssh-probe --console: host keys from the console output, served by the local EC2 endpoint.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-sshd.sh

test_have_prereq SSHD || test_skip_all 'no /usr/sbin/sshd'

probe () {
	ssh-probe -u "$SSHD_USER" -i "$SSHD_USER_KEY" --port "$SSHD_PORT" -c "echo in" "$@"
}

fp () {
	ssh-keygen -l -f "$1" | cut -d" " -f2
}

# seed CONSOLE-FILE ID...: running instances at 127.0.0.1 whose console output is the file's text.
seed () {
	seed_console_=$1
	shift
	printf "%s\n" "$@" |
	jq -R -s --rawfile console "$seed_console_" 'split("\n") | map(select(. != "")) | {
		Regions: {"us-east-1": {Instances: map({InstanceId: ., ImageId: "ami-0a1b2c3d4e5f60718",
			PublicIpAddress: "127.0.0.1", PrivateIpAddress: "127.0.0.1"})}},
		ConsoleOutput: (map({key: ., value: $console}) | from_entries)}' >seed.json &&
	ec2_seed seed.json
}

test_expect_success 'setup: sshd, the endpoint, an instance record' '
	sshd_setup &&
	sshd_start &&
	ec2_start &&
	echo "{\"InstanceId\":\"i-0a1b2c3d4e5f60718\",\"PublicIpAddress\":\"127.0.0.1\",\"Region\":\"us-east-1\"}" \
		>inst.jsonl
'

test_expect_success 'the console lists the server'\''s real keys: accepted, without options' '
	seed "$SSHD_CONSOLE" i-0a1b2c3d4e5f60718 &&
	probe inst.jsonl >out 2>err &&
	jq -c "[.Check, .Passed]" out >actual &&
	printf "[\"ssh\",true]\n[\"echo in\",true]\n" >expect &&
	test_cmp expect actual &&
	test_line_count = 0 err
'

test_expect_success 'the key the server presented is one the console listed' '
	jq -r "select(.Check == \"ssh\") | .HostKey" out >actual &&
	{ fp "$SSHD_HOSTKEY_PUB" && fp "$SSHD_DIR/host_ecdsa.pub"; } >listed &&
	grep -F -x -f actual listed
'

test_expect_success 'GetConsoleOutput was asked with Latest' '
	ec2_requests >requests.json &&
	jq -c "[.[] | select(.Action == \"GetConsoleOutput\") | .Params][-1]" requests.json >actual &&
	jq -e "(.InstanceId == \"i-0a1b2c3d4e5f60718\") and (.Latest == \"true\" or .Latest == true)" actual
'

test_expect_success '--console said explicitly is the same' '
	probe --console inst.jsonl >out &&
	jq -s -e "all(.[]; .Passed)" out
'

test_expect_success 'a console with the fingerprints block only' '
	sed "/BEGIN SSH HOST KEY KEYS/,/END SSH HOST KEY KEYS/d" "$SSHD_CONSOLE" >fps.txt &&
	test_grep -v "KEY KEYS" fps.txt &&
	seed fps.txt i-0a1b2c3d4e5f60718 &&
	probe inst.jsonl >out &&
	jq -s -e "all(.[]; .Passed)" out
'

test_expect_success 'a console block with another key: refused, both fingerprints shown' '
	ssh-keygen -q -t ed25519 -N "" -C root@impostor -f impostor &&
	sshd_console impostor.pub >impostor.txt &&
	seed impostor.txt i-0a1b2c3d4e5f60718 &&
	test_expect_code 1 probe inst.jsonl >out 2>err &&
	test_grep "^ssh-probe: i-0a1b2c3d4e5f60718: host key mismatch: 127.0.0.1:$SSHD_PORT presented .* SHA256:.*; the console lists ED25519 $(fp impostor.pub)\$" err &&
	jq -r .Reason out >actual &&
	test_grep "^host key mismatch" actual &&
	test_grep "^not run: ssh failed" actual
'

test_expect_success 'a block listing another key of the type the server presents: refused' '
	sshd_console "$SSHD_DIR/host_ecdsa.pub" impostor.pub >mixed.txt &&
	seed mixed.txt i-0a1b2c3d4e5f60718 &&
	test_expect_code 1 probe inst.jsonl >out 2>err &&
	test_grep "presented ED25519 $(fp "$SSHD_HOSTKEY_PUB"); the console lists ECDSA $(fp "$SSHD_DIR/host_ecdsa.pub"), ED25519 $(fp impostor.pub)\$" err
'

test_expect_success 'a block with only the ECDSA key: that key is negotiated and accepted' '
	sshd_console "$SSHD_DIR/host_ecdsa.pub" >ecdsa.txt &&
	seed ecdsa.txt i-0a1b2c3d4e5f60718 &&
	probe inst.jsonl >out &&
	jq -r "select(.Check == \"ssh\") | .HostKey" out >actual &&
	fp "$SSHD_DIR/host_ecdsa.pub" >expect &&
	test_cmp expect actual
'

test_expect_success 'no block at all: polls until --timeout, then fails closed' '
	printf "[    0.000000] Linux version 6.1\nlogin: \n" >booting.txt &&
	seed booting.txt i-0a1b2c3d4e5f60718 &&
	ec2_reset_counts &&
	test_expect_code 1 probe --timeout 3s inst.jsonl >out 2>err &&
	jq -r .Reason out >actual &&
	printf "%s\n" "no SSH host key block in the console output after 3s" "not run: ssh failed" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count GetConsoleOutput)" -ge 2 &&
	test_grep "^ssh-probe: i-0a1b2c3d4e5f60718: no SSH host key block in the console output after 3s" err
'

test_expect_success 'no console output yet, then the block: it waits for it' '
	seed "$SSHD_CONSOLE" i-0a1b2c3d4e5f60718 &&
	ec2_settings "{\"ConsoleOutputAfterCalls\": 1}" &&
	ec2_reset_counts &&
	probe --timeout 30s inst.jsonl >out &&
	jq -s -e "all(.[]; .Passed)" out &&
	test "$(ec2_count GetConsoleOutput)" = 2 &&
	ec2_settings "{\"ConsoleOutputAfterCalls\": 0}"
'

test_expect_success 'an EC2 error fails the instance at once, with its diagnostic' '
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"GetConsoleOutput\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"You are not authorized\",\"Status\":403}" &&
	test_expect_code 1 probe inst.jsonl >out 2>err &&
	test_grep "^ssh-probe: i-0a1b2c3d4e5f60718: console output: us-east-1: GetConsoleOutput: UnauthorizedOperation: You are not authorized" err
'

test_expect_success 'an instance EC2 does not know: asked again until --timeout, then its error' '
	echo "{\"InstanceId\":\"i-0ffffffffffffffff\",\"PublicIpAddress\":\"127.0.0.1\"}" >ghost.jsonl &&
	ec2_reset_counts &&
	test_expect_code 1 probe --timeout 3s ghost.jsonl >out 2>err &&
	test_grep "console output: .*InvalidInstanceID.NotFound" err &&
	test "$(ec2_count GetConsoleOutput)" -ge 2
'

test_expect_success 'the region: the record'\''s, else --region, else the environment' '
	seed "$SSHD_CONSOLE" i-0a1b2c3d4e5f60718 &&
	echo "{\"InstanceId\":\"i-0a1b2c3d4e5f60718\",\"PublicIpAddress\":\"127.0.0.1\"}" >noregion.jsonl &&
	probe noregion.jsonl >out &&
	(unset AWS_REGION && probe --region us-east-1 noregion.jsonl >out2) &&
	jq -s -e "all(.[]; .Passed)" out out2 &&
	echo "{\"InstanceId\":\"i-0a1b2c3d4e5f60718\",\"PublicIpAddress\":\"127.0.0.1\",\"Region\":\"eu-west-1\"}" \
		>elsewhere.jsonl &&
	test_expect_code 1 probe --timeout 1s elsewhere.jsonl 2>err &&
	test_grep "eu-west-1: GetConsoleOutput: InvalidInstanceID.NotFound" err
'

test_expect_success 'no region anywhere is bad input naming the record' '
	(unset AWS_REGION && test_expect_code 3 probe noregion.jsonl 2>err) &&
	test_grep "^ssh-probe: noregion.jsonl:1: no Region, and no region configured" err
'

test_expect_success 'several instances, each verified through its own console' '
	seed "$SSHD_CONSOLE" i-0a1b2c3d4e5f60718 i-0a1b2c3d4e5f60719 i-0a1b2c3d4e5f6071a \
		i-0a1b2c3d4e5f6071b &&
	for i in 18 19 1a 1b; do
		echo "{\"InstanceId\":\"i-0a1b2c3d4e5f607$i\",\"PublicIpAddress\":\"127.0.0.1\"}" || return 1
	done >four.jsonl &&
	ec2_reset_counts &&
	probe -P 3 four.jsonl >out &&
	jq -r "select(.Passed) | .InstanceId" out | sort | uniq -c | awk "{ print \$1 }" | sort -u >actual &&
	echo 2 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count GetConsoleOutput)" = 4
'

test_expect_success '--endpoint-url reaches the endpoint without the environment' '
	(unset AWS_ENDPOINT_URL_EC2 && probe --endpoint-url "$EC2_URL" inst.jsonl >out) &&
	jq -s -e "all(.[]; .Passed)" out
'

test_done
