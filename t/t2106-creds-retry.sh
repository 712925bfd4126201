#!/bin/bash
# lib/retry.c for the credential providers: STS (AssumeRoleWithWebIdentity, AssumeRole), the IMDSv2
# token PUT and credential GETs, and the container credentials GET retry as EC2 calls do (the SDKs'
# standard mode: throttling and transient errors, AWS_MAX_ATTEMPTS), against the local endpoint.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-creds.sh

# imds CMD... / container CMD...: CMD with only IMDSv2, or only container credentials, on the endpoint.
imds () {
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED &&
	 AWS_EC2_METADATA_SERVICE_ENDPOINT=$EC2_URL/ "$@")
}
container () {
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	 AWS_CONTAINER_CREDENTIALS_FULL_URI=$EC2_URL/_container/credentials "$@")
}

test_expect_success 'setup: the local endpoint (EC2, STS, IMDS, container credentials)' '
	ec2_creds_seed &&
	ec2_start seed.json
'

test_expect_success 'a throttled AssumeRoleWithWebIdentity is retried, and succeeds' '
	ec2_reset_counts &&
	ec2_fault AssumeRoleWithWebIdentity throttle 2 &&
	webid images &&
	test_cmp expect.ids ids &&
	test_line_count = 0 err &&
	test "$(ec2_count AssumeRoleWithWebIdentity)" = 3 &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"AssumeRoleWithWebIdentity\") | \"\(.Status) \(.Code // \"-\")\"" \
		reqs >actual &&
	printf "400 Throttling\n400 Throttling\n200 -\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the throttling answer is STS'"'"'s own: HTTP 400, ErrorResponse, Code Throttling' '
	ec2_fault AssumeRoleWithWebIdentity throttle 1 &&
	test_expect_code 1 "$PYTHON" "$EC2_ENDPOINT" call --unsigned --service sts "$EC2_URL" \
		AssumeRoleWithWebIdentity RoleArn=arn:aws:iam::123456789012:role/ci RoleSessionName=x \
		WebIdentityToken=amicycle-secret-oidc-token-1 >answer &&
	test_grep "^400 " answer &&
	test_grep "<ErrorResponse" answer &&
	test_grep "<Code>Throttling</Code>" answer
'

test_expect_success 'AWS_MAX_ATTEMPTS=1: the throttling error, in one line, after one request' '
	ec2_reset_counts &&
	ec2_fault AssumeRoleWithWebIdentity throttle 1 &&
	AWS_MAX_ATTEMPTS=1 webid test_expect_code 1 images &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "^ec2-describe: .*sts: us-east-1: AssumeRoleWithWebIdentity: Throttling: Rate exceeded (request id " err &&
	test "$(ec2_count AssumeRoleWithWebIdentity)" = 1
'

test_expect_success 'STS errors that persist: three attempts (the default), then the error' '
	ec2_reset_counts &&
	ec2_fault AssumeRoleWithWebIdentity internal 5 &&
	webid test_expect_code 1 images &&
	test_line_count = 1 err &&
	test_grep "AssumeRoleWithWebIdentity: InternalError: " err &&
	test "$(ec2_count AssumeRoleWithWebIdentity)" = 3 &&
	ec2_admin DELETE /_admin/faults >/dev/null
'

test_expect_success 'an error another attempt will not change is not retried' '
	ec2_reset_counts &&
	printf %s amicycle-secret-oidc-token-stale >stale &&
	webid test_expect_code 1 env AWS_WEB_IDENTITY_TOKEN_FILE=$TRASH/stale \
		ec2-describe images --owner self >out 2>err &&
	test_grep "AssumeRoleWithWebIdentity: InvalidIdentityToken" err &&
	test "$(ec2_count AssumeRoleWithWebIdentity)" = 1
'

test_expect_success 'a throttled AssumeRole (signed with a profile'"'"'s source keys) is retried' '
	cat >.aws-credentials <<-EOT &&
	[base]
	aws_access_key_id = $EC2_TEST_ACCESS_KEY_ID
	aws_secret_access_key = $EC2_TEST_SECRET_ACCESS_KEY
	EOT
	cat >.aws-config <<-\EOT &&
	[profile deploy]
	role_arn = arn:aws:iam::123456789012:role/deploy
	source_profile = base
	EOT
	ec2_reset_counts &&
	ec2_fault AssumeRole throttle 1 &&
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY && AWS_PROFILE=deploy images) &&
	test_cmp expect.ids ids &&
	test "$(ec2_count AssumeRole)" = 2 &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"DescribeImages\") | .AccessKeyId" reqs >keys &&
	test_grep -v "^$EC2_TEST_ACCESS_KEY_ID\$" keys &&
	rm .aws-config .aws-credentials
'

test_expect_success 'a throttled (503) IMDS token PUT is retried, and succeeds' '
	ec2_reset_counts &&
	ec2_fault IMDS.PutToken throttle 2 &&
	imds images &&
	test_cmp expect.ids ids &&
	test "$(ec2_count IMDS.PutToken)" = 3 &&
	test "$(ec2_count DescribeImages)" = 1
'

test_expect_success 'an IMDS credential GET that fails (500) is retried, and succeeds' '
	ec2_reset_counts &&
	ec2_fault IMDS.Get internal 1 &&
	imds images &&
	test_cmp expect.ids ids &&
	test "$(ec2_count IMDS.PutToken)" = 1 &&
	test "$(ec2_count IMDS.Get)" = 3
'

test_expect_success 'an IMDS token PUT that keeps failing: three attempts, then the chain ends there' '
	ec2_reset_counts &&
	ec2_fault IMDS.PutToken unavailable 5 &&
	imds test_expect_code 1 images &&
	test_grep "no credentials: tried .*imds (http://127.0.0.1:$EC2_PORT: token: HTTP 503)" err &&
	test "$(ec2_count IMDS.PutToken)" = 3 &&
	ec2_admin DELETE /_admin/faults >/dev/null
'

test_expect_success 'a container credentials GET that meets a 503 is retried, and succeeds' '
	ec2_reset_counts &&
	ec2_fault Container.GetCredentials unavailable 1 &&
	container images &&
	test_cmp expect.ids ids &&
	test "$(ec2_count Container.GetCredentials)" = 2
'

test_expect_success 'no secret or token in any output, error or endpoint log' '
	grep -rl -e amicycle-secret . "$EC2_DIR/log" | grep -v -e "^./seed.json$" -e "^./token$" -e "^./stale$" \
		-e "^./.ec2-endpoint/" >leaks;
	test_line_count = 0 leaks
'

test_done
