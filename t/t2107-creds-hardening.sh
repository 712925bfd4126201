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
	test_cmp expect err &&
	test_expect_code 2 images --endpoint-url http://10.1.2.3/ &&
	test_grep "^ec2-describe: endpoint URL: http:// to 10.1.2.3: plain http is only allowed" err &&
	test_line_count = 1 err &&
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
	test_cmp expect err &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success 'STS: web identity over http:// to loopback still works' '
	ec2_reset_counts &&
	AWS_ENDPOINT_URL_STS=http://localhost:$EC2_PORT/ webid images &&
	test_cmp expect.ids ids &&
	test "$(ec2_count AssumeRoleWithWebIdentity)" = 1
'

test_expect_success 'no secret or token in any output or error' '
	grep -rl -e amicycle-secret . | grep -v -e "^./seed.json$" -e "^./token$" -e "^./.ec2-endpoint/" >leaks;
	test_line_count = 0 leaks
'

test_done
