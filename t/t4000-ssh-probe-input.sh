#!/bin/bash
# ssh-probe: usage, options and bad input, all refused before any connection is made.
. "$(dirname "$0")"/test-lib.sh

# Nothing listens on this port: a probe that got as far as connecting would say so.
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

test_expect_success 'setup' '
	ssh-keygen -q -t ed25519 -N "" -f key &&
	: >known_hosts &&
	echo "{\"InstanceId\":\"i-11111111\",\"PublicIpAddress\":\"127.0.0.1\"}" >one.jsonl
'

probe () {
	ssh-probe -u "$(id -un)" -i key --port "$PORT" --known-hosts known_hosts --timeout 1s "$@"
}

test_expect_success '-h prints the usage on stdout and exits 0' '
	ssh-probe -h >out 2>err &&
	test_grep "^usage: ssh-probe -u USER -i KEYFILE" out &&
	test_line_count = 0 err
'

test_expect_success '--version' '
	ssh-probe --version >out &&
	test_grep "^ssh-probe (amicycle) " out
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 ssh-probe --no-such-option one.jsonl 2>err &&
	test_grep "^Try '\''ssh-probe --help'\''$" err &&
	test_expect_code 2 ssh-probe -i key --known-hosts known_hosts one.jsonl 2>err &&
	test_grep "USER" err &&
	test_expect_code 2 ssh-probe -u me --known-hosts known_hosts one.jsonl 2>err &&
	test_expect_code 2 probe --console one.jsonl 2>err &&
	test_grep "console" err &&
	test_expect_code 2 probe --accept-new --console one.jsonl 2>err &&
	test_expect_code 2 probe --timeout 5 one.jsonl 2>err &&
	test_grep "ssh-probe: --timeout: bad duration .5." err &&
	test_expect_code 2 probe --timeout 0s one.jsonl 2>err &&
	test_expect_code 2 probe --command-timeout soon one.jsonl 2>err &&
	test_grep "command-timeout" err &&
	test_expect_code 2 probe --port 0 one.jsonl 2>err &&
	test_grep "ssh-probe: --port: bad value .0." err &&
	test_expect_code 2 probe --port 65536 one.jsonl 2>err &&
	test_expect_code 2 probe -P 0 one.jsonl 2>err &&
	test_expect_code 2 probe --max-output -1 one.jsonl 2>err
'

test_expect_success 'a key file that cannot be read exits 1 naming it' '
	test_expect_code 1 ssh-probe -u me -i no-such-key --known-hosts known_hosts one.jsonl 2>err &&
	test_grep "ssh-probe: no-such-key: No such file" err
'

test_expect_success 'a known_hosts file that does not exist exits 1 naming it' '
	test_expect_code 1 ssh-probe -u me -i key --known-hosts nowhere one.jsonl 2>err &&
	test_grep "ssh-probe: nowhere: No such file" err
'

test_expect_success 'no instance records at all is a failure, not a pass' '
	test_expect_code 1 probe -c true </dev/null >out 2>err &&
	test_grep "no instance records" err &&
	test_line_count = 0 out
'

test_expect_success 'a record without the address field: exit 3 naming FILE:LINE' '
	cat >recs.jsonl <<-\EOF &&
	{"InstanceId":"i-11111111","PublicIpAddress":"127.0.0.1"}

	{"InstanceId":"i-22222222","PrivateIpAddress":"10.0.0.2","State":{"Name":"running"}}
	EOF
	test_expect_code 3 probe -c true recs.jsonl >out 2>err &&
	test_grep "^ssh-probe: recs.jsonl:3: no PublicIpAddress" err &&
	test_grep "needs --private" err &&
	test_line_count = 0 out
'

test_expect_success '--private reads PrivateIpAddress instead' '
	test_expect_code 3 probe --private -c true recs.jsonl >out 2>err &&
	test_grep "^ssh-probe: recs.jsonl:1: no PrivateIpAddress" err
'

test_expect_success 'records read from stdin are named so' '
	echo "{\"PublicIpAddress\":\"127.0.0.1\"}" >noid.jsonl &&
	test_expect_code 3 probe -c true <noid.jsonl 2>err &&
	test_grep "^ssh-probe: stdin:1: no InstanceId" err
'

test_expect_success 'fields of the wrong kind, and lines that are not objects' '
	echo "{\"InstanceId\":\"i-11111111\",\"PublicIpAddress\":42}" >bad.jsonl &&
	test_expect_code 3 probe bad.jsonl 2>err &&
	test_grep "bad.jsonl:1: PublicIpAddress is not a non-empty string" err &&
	echo "{\"InstanceId\":\"\",\"PublicIpAddress\":\"127.0.0.1\"}" >bad.jsonl &&
	test_expect_code 3 probe bad.jsonl 2>err &&
	test_grep "bad.jsonl:1: InstanceId is not a non-empty string" err &&
	echo "{\"InstanceId\":\"i-11111111\",\"PublicIpAddress\":\"127.0.0.1\",\"Region\":[]}" >bad.jsonl &&
	test_expect_code 3 probe bad.jsonl 2>err &&
	test_grep "bad.jsonl:1: Region is not" err &&
	echo "[1,2]" >bad.jsonl &&
	test_expect_code 3 probe bad.jsonl 2>err &&
	test_grep "bad.jsonl:1: not a JSON object" err &&
	echo "{\"InstanceId\":" >bad.jsonl &&
	test_expect_code 3 probe bad.jsonl 2>err &&
	test_grep "bad.jsonl:1: not valid JSON" err
'

test_expect_success 'a bad check line: exit 3 naming FILE:LINE, before any connection' '
	cat >checks.jsonl <<-\EOF &&
	{"Name":"fine","Run":"true"}
	{"Name":"typo","Run":"true","ExpectStdOut":"x"}
	EOF
	test_expect_code 3 probe --checks checks.jsonl one.jsonl >out 2>err &&
	test_grep "^ssh-probe: checks.jsonl:2: unknown key \"ExpectStdOut\"" err &&
	test_line_count = 0 out
'

test_expect_success 'each field of a check is checked' '
	for line in \
		"{\"Name\":\"no run\"}|no Run" \
		"{\"Run\":\"\"}|Run is not a non-empty string" \
		"{\"Run\":\"true\",\"Name\":3}|Name is not" \
		"{\"Run\":\"true\",\"ExpectExit\":\"0\"}|ExpectExit is not a number" \
		"{\"Run\":\"true\",\"ExpectExit\":256}|ExpectExit: 256 is not an exit status" \
		"{\"Run\":\"true\",\"ExpectExit\":1.5}|ExpectExit: 1.5 is not" \
		"{\"Run\":\"true\",\"ExpectStdout\":\"(\"}|ExpectStdout: bad regular expression" \
		"{\"Run\":\"true\",\"Timeout\":\"30\"}|Timeout: bad duration \"30\"" \
		"{\"Run\":\"true\",\"Timeout\":\"0s\"}|Timeout: bad duration \"0s\""
	do
		echo "${line%|*}" >check.jsonl &&
		test_expect_code 3 probe --checks check.jsonl one.jsonl 2>err &&
		test_grep "^ssh-probe: check.jsonl:1: ${line#*|}" err || return 1
	done
'

test_expect_success 'a --junit file that cannot be written exits 1 before probing' '
	test_expect_code 1 probe --junit no/such/dir/junit.xml one.jsonl >out 2>err &&
	test_grep "no/such/dir/junit.xml" err &&
	test_line_count = 0 out
'

test_done
