#!/bin/bash
# ssh-probe: checks against a real OpenSSH server: results, failures, timeouts, TAP and JUnit.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-sshd.sh

test_have_prereq SSHD || test_skip_all 'no /usr/sbin/sshd'

probe () {
	ssh-probe -u "$SSHD_USER" -i "$SSHD_USER_KEY" --port "$SSHD_PORT" \
		--known-hosts "$SSHD_KNOWN_HOSTS" --timeout 20s "$@"
}

# The records without what changes from run to run.
stable () {
	jq -c 'del(.DurationMs, .Address, .HostKey)' "$1"
}

test_expect_success 'setup: a running sshd, and an instance record for it' '
	sshd_setup &&
	sshd_start &&
	echo "{\"InstanceId\":\"i-0a1b2c3d\",\"PublicIpAddress\":\"127.0.0.1\",\"Region\":\"eu-west-1\"}" \
		>inst.jsonl
'

test_expect_success 'checks pass: one JSON line for the ssh step and for each check, exit 0' '
	cat >checks.jsonl <<-\EOF &&
	{"Name":"greets","Run":"echo hello; echo note >&2","ExpectStdout":"^hello$"}
	{"Name":"exits 3 as it should","Run":"exit 3","ExpectExit":3,"Timeout":"10s"}
	EOF
	probe -c "uname -s" --checks checks.jsonl inst.jsonl >out 2>err &&
	stable out >actual &&
	cat >expect <<-\EOF &&
	{"InstanceId":"i-0a1b2c3d","Check":"ssh","Passed":true}
	{"InstanceId":"i-0a1b2c3d","Check":"uname -s","ExitStatus":0,"Stdout":"Linux\n","Stderr":"","Passed":true}
	{"InstanceId":"i-0a1b2c3d","Check":"greets","ExitStatus":0,"Stdout":"hello\n","Stderr":"note\n","Passed":true}
	{"InstanceId":"i-0a1b2c3d","Check":"exits 3 as it should","ExitStatus":3,"Stdout":"","Stderr":"","Passed":true}
	EOF
	test_cmp expect actual &&
	test_line_count = 0 err
'

test_expect_success 'the ssh record names the address and the host key it verified' '
	jq -r "select(.Check == \"ssh\") | .Address, .HostKey" out >actual &&
	{ echo "127.0.0.1:$SSHD_PORT" && ssh-keygen -l -f "$SSHD_HOSTKEY_PUB" | cut -d" " -f2; } >expect &&
	test_cmp expect actual &&
	jq -s -e "all(.[]; (.DurationMs | type) == \"number\" and .DurationMs >= 0)" out
'

test_expect_success 'a failing check: exit 1, and the result says why' '
	cat >checks.jsonl <<-\EOF &&
	{"Name":"wrong status","Run":"echo out; echo err >&2; exit 2"}
	{"Name":"wrong output","Run":"echo 1.2.3","ExpectStdout":"^2\\."}
	{"Name":"killed","Run":"kill -TERM $$"}
	{"Name":"still runs","Run":"echo fine"}
	EOF
	test_expect_code 1 probe --checks checks.jsonl inst.jsonl >out 2>err &&
	stable out >actual &&
	cat >expect <<-\EOF &&
	{"InstanceId":"i-0a1b2c3d","Check":"ssh","Passed":true}
	{"InstanceId":"i-0a1b2c3d","Check":"wrong status","ExitStatus":2,"Stdout":"out\n","Stderr":"err\n","Passed":false,"Reason":"exit status 2, expected 0"}
	{"InstanceId":"i-0a1b2c3d","Check":"wrong output","ExitStatus":0,"Stdout":"1.2.3\n","Stderr":"","Passed":false,"Reason":"stdout does not match \"^2\\.\""}
	{"InstanceId":"i-0a1b2c3d","Check":"killed","ExitStatus":null,"ExitSignal":"TERM","Stdout":"","Stderr":"","Passed":false,"Reason":"killed by signal TERM"}
	{"InstanceId":"i-0a1b2c3d","Check":"still runs","ExitStatus":0,"Stdout":"fine\n","Stderr":"","Passed":true}
	EOF
	test_cmp expect actual
'

test_expect_success 'ExpectStdout matches any line, as grep -E does' '
	cat >checks.jsonl <<-\EOF &&
	{"Name":"line","Run":"printf \"a\\nactive\\nb\\n\"","ExpectStdout":"^active$"}
	{"Name":"alternation","Run":"echo nginx/1.22.1","ExpectStdout":"nginx/1\\.(22|24)\\."}
	EOF
	probe --checks checks.jsonl inst.jsonl >out &&
	jq -s -e "length == 3 and all(.[]; .Passed)" out
'

test_expect_success 'a command that hangs times out; the checks after it still run' '
	cat >checks.jsonl <<-\EOF &&
	{"Name":"hangs","Run":"while :; do echo tick; sleep 0.2; done","Timeout":"1s"}
	{"Name":"after","Run":"echo after"}
	EOF
	test_expect_code 1 probe --checks checks.jsonl inst.jsonl >out 2>err &&
	jq -c "select(.Check == \"hangs\") | [.ExitStatus, .Passed, .Reason, (.Stdout | startswith(\"tick\n\"))]" \
		out >actual &&
	echo "[null,false,\"timed out after 1s\",true]" >expect &&
	test_cmp expect actual &&
	jq -c "select(.Check == \"after\") | [.Stdout, .Passed]" out >actual &&
	echo "[\"after\\n\",true]" >expect &&
	test_cmp expect actual
'

test_expect_success '--command-timeout is the default Timeout of -c and of check lines' '
	# Commands that end themselves once ssh-probe has closed their channel (their output).
	hang="while :; do echo; sleep 0.2; done" &&
	echo "{\"Run\":\"$hang\"}" >checks.jsonl &&
	test_expect_code 1 probe --command-timeout 1s -c "$hang" --checks checks.jsonl inst.jsonl >out &&
	jq -r "select(.Check != \"ssh\") | .Reason" out >actual &&
	printf "timed out after 1s\ntimed out after 1s\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'output is capped at --max-output, and the cut is noted' '
	probe --max-output 10 -c "seq 1 1000; seq 1 1000 >&2" -c "echo short" inst.jsonl >out &&
	jq -c "select(.Check != \"ssh\") | [.Stdout, .StdoutTruncated, .Stderr, .StderrTruncated]" \
		out >actual &&
	cat >expect <<-\EOF &&
	["1\n2\n3\n4\n5\n",true,"1\n2\n3\n4\n5\n",true]
	["short\n",null,"",null]
	EOF
	test_cmp expect actual
'

test_expect_success 'output that is not UTF-8 or holds NULs still makes valid JSON' '
	probe -c "printf \"a\\377b\\000c\"" inst.jsonl >out &&
	jq -c "select(.Check != \"ssh\") | .Stdout | explode" out >actual &&
	echo "[97,65533,98,0,99]" >expect &&
	test_cmp expect actual
'

test_expect_success 'several instances are probed concurrently, each with all its results' '
	for i in 1 2 3 4 5; do
		echo "{\"InstanceId\":\"i-0000000$i\",\"PublicIpAddress\":\"127.0.0.1\"}" || return 1
	done >five.jsonl &&
	probe -P 3 -c "echo ok" -c "exit 1" five.jsonl >out; test $? = 1 &&
	jq -r "[.InstanceId, .Check, .Passed] | @tsv" out | sort >actual &&
	for i in 1 2 3 4 5; do
		printf "i-0000000$i\\techo ok\\ttrue\\ni-0000000$i\\texit 1\\tfalse\\ni-0000000$i\\tssh\\ttrue\\n" || return 1
	done >expect &&
	test_cmp expect actual &&
	jq -r .InstanceId out | uniq -c | awk "{ print \$1 }" | sort -u >counts &&
	echo 3 >expect &&
	test_cmp expect counts
'

test_expect_success 'wrong user key: exit 1, the ssh step says so, no check runs' '
	ssh-keygen -q -t ed25519 -N "" -f stranger &&
	test_expect_code 1 ssh-probe -u "$SSHD_USER" -i stranger --port "$SSHD_PORT" \
		--known-hosts "$SSHD_KNOWN_HOSTS" -c "echo hi" inst.jsonl >out 2>err &&
	stable out >actual &&
	cat >expect <<-EOF &&
	{"InstanceId":"i-0a1b2c3d","Check":"ssh","Passed":false,"Reason":"login as $SSHD_USER refused with the key stranger"}
	{"InstanceId":"i-0a1b2c3d","Check":"echo hi","ExitStatus":null,"Stdout":"","Stderr":"","Passed":false,"Reason":"not run: ssh failed"}
	EOF
	test_cmp expect actual &&
	test_grep "^ssh-probe: i-0a1b2c3d: login as $SSHD_USER refused with the key stranger" err
'

test_expect_success 'a key file libssh2 cannot read: the ssh step says so' '
	echo "not a key" >garbage &&
	test_expect_code 1 ssh-probe -u "$SSHD_USER" -i garbage --port "$SSHD_PORT" \
		--known-hosts "$SSHD_KNOWN_HOSTS" inst.jsonl >out 2>err &&
	test_grep "garbage: cannot use the key" err
'

test_expect_success '--tap: a plan, one test per result, reasons and output as comments' '
	cat >checks.jsonl <<-\EOF &&
	{"Name":"passes","Run":"true"}
	{"Name":"fails # not a directive","Run":"echo why; echo because >&2; exit 4"}
	EOF
	test_expect_code 1 probe --tap --checks checks.jsonl inst.jsonl >out &&
	cat >expect <<-\EOF &&
	1..3
	ok 1 - i-0a1b2c3d: ssh
	ok 2 - i-0a1b2c3d: passes
	not ok 3 - i-0a1b2c3d: fails \# not a directive
	#   exit status 4, expected 0
	#   Stdout: why
	#   Stderr: because
	EOF
	test_cmp expect out
'

test_expect_success '--tap output of several instances is read by a TAP parser' '
	test_expect_code 1 probe --tap --checks checks.jsonl inst.jsonl five.jsonl >out &&
	perl -MTAP::Parser -e "
		my \$p = TAP::Parser->new({ tap => do { local \$/; <> } });
		while (my \$r = \$p->next) { }
		printf \"%d %d %d %d %s\\n\", \$p->tests_planned, \$p->tests_run,
			scalar(\$p->passed), scalar(\$p->failed), \$p->parse_errors ? \"errors\" : \"clean\";
	" out >actual &&
	echo "18 18 12 6 clean" >expect &&
	test_cmp expect actual
'

test_expect_success '--junit FILE: a real XML parser reads it; one testsuite per instance' '
	cat >checks.jsonl <<-\EOF &&
	{"Name":"<escaped> & \"quoted\"\tname","Run":"printf \"x<y&z\\001\\n\" >&2; exit 1"}
	{"Name":"plain","Run":"echo \"]]> <!-- ok\""}
	EOF
	test_expect_code 1 probe --junit junit.xml --checks checks.jsonl inst.jsonl five.jsonl >out &&
	"$PYTHON" - junit.xml >actual <<-\EOF &&
	import json, sys, xml.etree.ElementTree as ET
	root = ET.parse(sys.argv[1]).getroot()
	print(root.tag, root.get("tests"), root.get("failures"))
	for s in sorted(root.findall("testsuite"), key=lambda s: s.get("name")):
	    print(s.get("name"), s.get("tests"), s.get("failures"), s.get("hostname"))
	    if s.get("name") != "i-0a1b2c3d":
	        continue
	    for c in s.findall("testcase"):
	        f = c.find("failure")
	        print(json.dumps([c.get("classname"), c.get("name"),
	            f.get("message") if f is not None else None,
	            c.findtext("system-out"), c.findtext("system-err")]))
	EOF
	port=$SSHD_PORT &&
	cat >expect <<-EOF &&
	testsuites 18 6
	i-00000001 3 1 127.0.0.1:$port
	i-00000002 3 1 127.0.0.1:$port
	i-00000003 3 1 127.0.0.1:$port
	i-00000004 3 1 127.0.0.1:$port
	i-00000005 3 1 127.0.0.1:$port
	i-0a1b2c3d 3 1 127.0.0.1:$port
	["i-0a1b2c3d", "ssh", null, null, null]
	["i-0a1b2c3d", "<escaped> & \"quoted\"\tname", "exit status 1, expected 0", null, "x<y&z\ufffd\n"]
	["i-0a1b2c3d", "plain", null, "]]> <!-- ok\n", null]
	EOF
	test_cmp expect actual
'

test_expect_success '--junit does not change what stdout gets' '
	test_expect_code 1 probe --checks checks.jsonl inst.jsonl >plain &&
	test_expect_code 1 probe --junit j2.xml --checks checks.jsonl inst.jsonl >withjunit &&
	stable plain >a && stable withjunit >b &&
	test_cmp a b
'

test_done
