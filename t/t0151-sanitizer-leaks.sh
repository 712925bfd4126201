#!/bin/bash
# The leaks inside libjq and libssh2 that t/lsan.supp names, and the exits around them: bad input
# still exits as documented under the sanitizer build (make SANITIZE=1), with no leak report, and
# so do failures (exit 1), which are leak-checked. Any build runs these.
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

test_expect_success 'the same libjq leak where it is checked: a credential_process answer, exit 1' '
	printf "#!/bin/sh\nprintf \"{\\\"Version\\\":1 \\\"x\\\"}\"\n" >cp.sh &&
	chmod +x cp.sh &&
	printf "[default]\ncredential_process = %s/cp.sh\n" "$PWD" >"$AWS_CONFIG_FILE" &&
	test_expect_code 1 env AWS_REGION=us-east-1 AWS_ENDPOINT_URL_EC2=http://127.0.0.1:9 \
		ec2-describe images --owner self >out 2>err &&
	test_grep "credential_process: the output is not a JSON object" err &&
	test_grep -v Sanitizer err
'

test_expect_success 'bad input leaves at once (data_errx): exit 3, one line, no leak report' '
	echo "{\"ImageId\":\"ami-12345678\",\"Region\":\"us-east-1\"}" >ids.jsonl &&
	echo "{\"ImageId\":\"i-12345678\"}" >>ids.jsonl &&
	for cmd in deregister "deprecate --undo" "deprecate --now" disable protect "tag -t a=b" \
		"ec2-wait --available" "copy-image --to us-west-2" image-users image-lineage \
		"publish --parameter /amicycle/web/production" "share --remove --all"; do
		test_expect_code 3 env AWS_REGION=us-east-1 $cmd ids.jsonl >out 2>err &&
		test_line_count = 1 err &&
		test_grep "ids.jsonl:2: ImageId .i-12345678. is not an id" err &&
		test_line_count = 0 out || return 1
	done
'

test_expect_success 'an input that cannot be read once a jq key has run: exit 1, no leak report' '
	echo "{\"CreationDate\":\"2024-01-01T00:00:00Z\"}" >ok.jsonl &&
	test_expect_code 1 sort-by-date -k "(.CreationDate)" ok.jsonl missing.jsonl >out 2>err &&
	test_line_count = 1 err &&
	test_expect_code 1 keep-last -n 1 -g "(.Region)" ok.jsonl missing.jsonl >out 2>err &&
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
