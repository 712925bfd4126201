#!/bin/bash
# The leaks inside libjq and libssh2 that t/lsan.supp names: bad input still exits as documented
# under the sanitizer build (make SANITIZE=1), with no leak report. Any build runs these.
. "$(dirname "$0")"/test-lib.sh

test_expect_success 'lsan.supp names library frames only' '
	sed -n "s/^leak://p" "$TEST_DIR/lsan.supp" >frames &&
	test_line_count = 2 frames &&
	for f in $(cat frames); do
		if grep -rqw -- "$f" "$SRC_DIR/lib" "$SRC_DIR/bin"; then
			echo "$f is amicycle code too" >&2
			return 1
		fi
	done
'

test_expect_success 'libjq drops a value on "Expected separator": still exit 3, one line' '
	printf "{\"a\":\"b\" \"c\"}\n" >bad.jsonl &&
	for cmd in "sort-by-date -k (.CreationDate)" "sort-by-date" "keep-last -n 1" \
		"keep-last -n 1 -g .Region" "ami-from-manifest"; do
		test_expect_code 3 $cmd bad.jsonl >out 2>err &&
		test_line_count = 1 err &&
		test_grep "bad.jsonl:1: not valid JSON: Expected separator between values" err ||
		return 1
	done
'

test_expect_success 'a separator missing inside an array: exit 3 too' '
	printf "{\"a\":[1] [2]}\n" >bad2.jsonl &&
	test_expect_code 3 sort-by-date -k "(.CreationDate)" bad2.jsonl >out 2>err &&
	test_line_count = 1 err
'

test_expect_success 'libssh2 leaks an HMAC context on a hashed known_hosts entry of the wrong size' '
	port=$("$PYTHON" -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	ssh-keygen -q -t ed25519 -N "" -f user &&
	echo "|1|abc=|def= $(cut -d" " -f1,2 user.pub)" >kh &&
	echo "{\"InstanceId\":\"i-0a1b2c3d\",\"PublicIpAddress\":\"127.0.0.1\"}" >inst.jsonl &&
	test_expect_code 1 ssh-probe -u nobody -i user --port "$port" --known-hosts kh \
		--timeout 1s -c true inst.jsonl >out 2>err &&
	test_grep "no SSH on 127.0.0.1:$port" err &&
	test_grep -v Sanitizer err
'

test_done
