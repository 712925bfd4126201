#!/bin/bash
# Where credentials could leak or a filter hang: plain http:// endpoints for EC2 and STS (refused
# but on loopback), and a credential_process that never closes its output or inherits sockets.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-creds.sh

test_expect_success 'setup: the local endpoint' '
	ec2_creds_seed &&
	ec2_start seed.json
'

test_expect_success 'EC2: http:// to a host that is not loopback is a usage error naming the host' '
	ec2_reset_counts &&
	AWS_ENDPOINT_URL_EC2=http://ec2.example.invalid:8080/ test_expect_code 2 images &&
	test_line_count = 0 out &&
	echo "ec2-describe: endpoint URL: http:// to ec2.example.invalid:8080: plain http is only allowed to a loopback address (127.0.0.0/8, ::1, localhost); use https://" >expect &&
	echo "Try '"'"'ec2-describe --help'"'"'" >>expect &&
	test_cmp expect err &&
	test_expect_code 2 images --endpoint-url http://10.1.2.3/ &&
	test_grep "^ec2-describe: endpoint URL: http:// to 10.1.2.3: plain http is only allowed" err &&
	test_line_count = 2 err &&
	(unset AWS_ENDPOINT_URL_EC2 && AWS_ENDPOINT_URL=http://192.168.0.1:80 test_expect_code 2 images) &&
	test_grep "http:// to 192.168.0.1:80: " err &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success 'EC2: http:// to 127.0.0.0/8, localhost and [::1] passes the check' '
	AWS_ENDPOINT_URL_EC2=http://localhost:$EC2_PORT images &&
	test_cmp expect.ids ids &&
	AWS_ENDPOINT_URL_EC2=http://LocalHost:$EC2_PORT/ images &&
	test_cmp expect.ids ids &&
	AWS_MAX_ATTEMPTS=1 AWS_ENDPOINT_URL_EC2=http://127.255.0.1:1/ test_expect_code 1 images &&
	test_grep "RequestError" err &&
	AWS_MAX_ATTEMPTS=1 AWS_ENDPOINT_URL_EC2=http://[::1]:1/ test_expect_code 1 images &&
	test_grep "RequestError" err
'

test_expect_success 'STS: http:// to a host that is not loopback is a usage error naming the host' '
	ec2_reset_counts &&
	AWS_ENDPOINT_URL_STS=http://sts.example.invalid webid test_expect_code 2 images &&
	test_line_count = 0 out &&
	echo "ec2-describe: sts: endpoint URL: http:// to sts.example.invalid: plain http is only allowed to a loopback address (127.0.0.0/8, ::1, localhost); use https://" >expect &&
	echo "Try '"'"'ec2-describe --help'"'"'" >>expect &&
	test_cmp expect err &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success 'STS: web identity over http:// to loopback still works' '
	ec2_reset_counts &&
	AWS_ENDPOINT_URL_STS=http://localhost:$EC2_PORT/ webid images &&
	test_cmp expect.ids ids &&
	test "$(ec2_count AssumeRoleWithWebIdentity)" = 1
'

# nokeys CMD...: CMD without the keys ec2_start put in the environment, so that the profile counts.
nokeys () {
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY && "$@")
}

# A credential_process, run with sh, that notes its own descriptors and its parent's (the filter's).
cat >fds.sh <<\EOT
ls -l /proc/$$/fd/ >"$TRASH/fds.child" 2>&1
ls -l /proc/$PPID/fd/ >"$TRASH/fds.parent" 2>&1
exp=$(date -u -d "+1 hour" +%Y-%m-%dT%H:%M:%SZ)
printf '{"Version":1,"AccessKeyId":"%s","SecretAccessKey":"%s","Expiration":"%s"}\n' \
	"$EC2_TEST_ACCESS_KEY_ID" "$EC2_TEST_SECRET_ACCESS_KEY" "$exp"
EOT

test_expect_success 'a credential_process inherits no socket of the filter'"'"'s' '
	cat >.aws-config <<-EOT &&
	[profile proc]
	credential_process = exec sh $TRASH/fds.sh
	[profile deploy]
	role_arn = arn:aws:iam::123456789012:role/deploy
	source_profile = proc
	EOT
	ec2_reset_counts &&
	(export EC2_TEST_ACCESS_KEY_ID EC2_TEST_SECRET_ACCESS_KEY &&
	 AWS_PROFILE=deploy AMICYCLE_CREDS_REFRESH_SECONDS=7200 nokeys probe fds --twice) &&
	test_line_count = 2 fds.out &&
	test "$(ec2_count AssumeRole)" = 2 &&
	test_grep "socket:" fds.parent &&
	test_grep -v "socket:" fds.child
'

# gone PID: PID ends (or is a zombie waiting for init) within 5 s.
gone () {
	gone_i_=0
	while [ -e /proc/$1 ] && ! grep -q ") Z " /proc/$1/stat 2>/dev/null; do
		[ $gone_i_ -lt 50 ] || return 1
		gone_i_=$((gone_i_ + 1))
		sleep 0.1
	done
}

# slow.sh: a credential_process that never finishes: its child keeps stdout open (pid in slow.pid).
cat >slow.sh <<\EOT
sleep 1000 &
echo $! >"$TRASH/slow.pid"
wait
EOT

test_expect_success 'a credential_process that never closes its output is killed after the timeout' '
	printf "[profile slow]\ncredential_process = sh %s\n" "$TRASH/slow.sh" >.aws-config &&
	rm -f slow.pid &&
	AWS_PROFILE=slow AMICYCLE_CREDENTIAL_PROCESS_TIMEOUT=1 \
		nokeys test_expect_code 1 timeout 30 "$PROBE" >slow.out 2>slow.err &&
	echo "creds-probe: process: profile slow: credential_process did not finish within 1 s (the timeout): killed" >expect &&
	test_cmp expect slow.err &&
	test_line_count = 0 slow.out &&
	test -s slow.pid &&
	gone "$(cat slow.pid)"
'

test_expect_success 'one that closes its output but does not exit is killed after the timeout too' '
	printf "[profile shut]\ncredential_process = exec sleep 1000 >/dev/null\n" >.aws-config &&
	AWS_PROFILE=shut AMICYCLE_CREDENTIAL_PROCESS_TIMEOUT=1 \
		nokeys test_expect_code 1 timeout 30 "$PROBE" >shut.out 2>shut.err &&
	echo "creds-probe: process: profile shut: credential_process did not finish within 1 s (the timeout): killed" >expect &&
	test_cmp expect shut.err
'

test_expect_success 'the timeout hook takes whole seconds, 1..3600' '
	AWS_PROFILE=shut AMICYCLE_CREDENTIAL_PROCESS_TIMEOUT=0 nokeys test_expect_code 2 "$PROBE" >bad.out 2>bad.err &&
	echo "creds-probe: AMICYCLE_CREDENTIAL_PROCESS_TIMEOUT: bad value '"'"'0'"'"' (expected 1..3600)" >expect &&
	echo "Try '"'"'creds-probe --help'"'"'" >>expect &&
	test_cmp expect bad.err
'

test_expect_success 'no secret or token in any output or error' '
	grep -rl -e amicycle-secret . | grep -v -e "^./seed.json$" -e "^./token$" -e "^./.ec2-endpoint/" \
		-e "^./fds.sh$" >leaks;
	test_line_count = 0 leaks
'

test_done
