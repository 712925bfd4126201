#!/bin/bash
# --debug and AMICYCLE_DEBUG=1: one line on stderr per HTTP request (method, host, action, status,
# request id, attempt and why another follows, time, credential source), from the EC2 calls and
# from the credential sources' own requests (STS, IMDS); never a secret, signature or token.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

jq -n '{WebIdentityTokens: ["amicycle-secret-oidc-token-1"],
	Imds: {RoleName: "amicycle-test-role", Region: "us-east-1"},
	Regions: {"us-east-1": {Images: [range(3) | {ImageId: ("ami-0000000000000000\(. + 1)"),
		Name: "img-\(.)", CreationDate: "2024-01-01T00:00:00.000Z"}]}}}' >seed.json

# no_secrets FILE...: none of the test key's secret, an issued secret or token, the OIDC token,
# a signature or a session token header is in FILE.
no_secrets () {
	if grep -n -e amicycle-secret -e "$AWS_SECRET_ACCESS_KEY" -e Signature= -e Signature \
	    -e X-Amz-Security-Token -e x-amz-security-token -e SecretAccessKey -e SessionToken "$@"; then
		echo "a secret in the --debug lines" >&2
		return 1
	fi
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	host=${EC2_URL#http://} && host=${host%%/*} &&
	test -n "$host"
'

test_expect_success 'without --debug, no line' '
	ec2-describe images --owner self >out 2>err &&
	test_line_count = 3 out &&
	test_line_count = 0 err
'

test_expect_success '--debug: one line per request, with every field' '
	ec2-describe --debug images --owner self >out 2>err &&
	test_line_count = 3 out &&
	test_line_count = 1 err &&
	test_grep "^ec2-describe: debug: POST $host DescribeImages: status 200, request id [0-9a-f-]*, attempt 1, [0-9]* ms, credentials env$" err &&
	no_secrets err
'

test_expect_success 'AMICYCLE_DEBUG=1 does the same; AMICYCLE_DEBUG=0 does not' '
	AMICYCLE_DEBUG=1 ec2-describe images --owner self >out 2>err &&
	test_line_count = 1 err &&
	test_grep "^ec2-describe: debug: POST .* DescribeImages: status 200" err &&
	AMICYCLE_DEBUG=0 ec2-describe images --owner self >out 2>err &&
	test_line_count = 0 err
'

test_expect_success 'a throttled call: attempt 1 says why it is retried, attempt 2 is paced, then follows' '
	ec2_fault DescribeImages throttle 1 &&
	ec2-describe images --owner self --debug >out 2>err &&
	test_line_count = 3 out &&
	test_line_count = 3 err &&
	head -n 1 err >first &&
	test_grep "^ec2-describe: debug: POST $host DescribeImages: status 503, request id [0-9a-f-]*, attempt 1, retrying: throttled (RequestLimitExceeded), [0-9]* ms, credentials env$" first &&
	sed -n 2p err >paced &&
	test_grep "^ec2-describe: debug: POST $host DescribeImages: attempt 2 paced: starts in [0-9]* ms (adaptive retry mode, [0-9.]* requests a second)$" paced &&
	tail -n 1 err >second &&
	test_grep "DescribeImages: status 200, .*attempt 2, [0-9]* ms, credentials env$" second &&
	no_secrets err
'

test_expect_success 'a call given up: its last attempt has no retry reason' '
	ec2_fault DescribeImages internal 3 &&
	test_expect_code 1 ec2-describe images --owner self --debug >out 2>err &&
	grep -c "debug: POST .* DescribeImages: status 500" err >n &&
	test "$(cat n)" = 3 &&
	test_grep "attempt 2, retrying: transient (InternalError)," err &&
	test_grep "DescribeImages: status 500, .*attempt 3, [0-9]* ms" err &&
	test_grep -v "attempt 3, retrying" err &&
	no_secrets err
'

test_expect_success 'web identity: the STS call, then the EC2 call signed with what it gave' '
	printf %s amicycle-secret-oidc-token-1 >token &&
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	 AWS_WEB_IDENTITY_TOKEN_FILE=$PWD/token AWS_ROLE_ARN=arn:aws:iam::123456789012:role/ci \
	 ec2-describe --debug images --owner self >out 2>err) &&
	test_line_count = 3 out &&
	test_line_count = 2 err &&
	test_grep "^ec2-describe: debug: POST .* AssumeRoleWithWebIdentity: status 200, .*attempt 1, [0-9]* ms, credentials for web-identity$" err &&
	test_grep "^ec2-describe: debug: POST .* DescribeImages: status 200, .*credentials web-identity$" err &&
	no_secrets err
'

test_expect_success 'IMDS: the token and credential requests, unsigned, then EC2' '
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED &&
	 AWS_EC2_METADATA_SERVICE_ENDPOINT=$EC2_URL/ AMICYCLE_DEBUG=1 \
	 ec2-describe images --owner self >out 2>err) &&
	test_line_count = 3 out &&
	test_grep "^ec2-describe: debug: PUT $host /latest/api/token: status 200, attempt 1, [0-9]* ms, credentials for imds$" err &&
	test_grep "^ec2-describe: debug: GET $host /latest/meta-data/iam/security-credentials/.*credentials for imds$" err &&
	test_grep "DescribeImages: status 200, .*credentials imds$" err &&
	no_secrets err
'

test_expect_success 'the mutating filters take --debug too (deregister --dry-run)' '
	ec2-describe images --owner self >images.jsonl &&
	deregister --dry-run --debug images.jsonl >out 2>err &&
	test_grep "^deregister: debug: POST $host DeregisterImage: status 412, .*attempt 1" err &&
	no_secrets err
'

test_expect_success 'ec2-wait takes --debug' '
	ec2-wait --available --debug images.jsonl >out 2>err &&
	test_line_count = 3 out &&
	test_grep "^ec2-wait: debug: POST $host DescribeImages: status 200, .*attempt 1, [0-9]* ms, credentials env$" err &&
	no_secrets err
'

test_done
