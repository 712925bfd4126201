#!/bin/bash
# CI's way in: an OIDC token file and a role (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN), exchanged with
# STS (the local endpoint plays STS) for temporary credentials that sign the EC2 calls. No static keys.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

jq -n '{WebIdentityTokens: ["amicycle-secret-oidc-token-1"],
	Regions: {"us-east-1": {Images: [range(1200) | {ImageId: ("ami-0\(1000000000000000 + .)"),
		Name: "img-\(.)", CreationDate: "2024-01-01T00:00:00.000Z"}]},
		"eu-west-1": {Images: [{ImageId: "ami-0e000000000000001", Name: "eu",
		CreationDate: "2024-01-01T00:00:00.000Z"}]}}}' >seed.json

test_expect_success 'start the local EC2 endpoint (also STS)' '
	ec2_start seed.json &&
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	printf %s amicycle-secret-oidc-token-1 >token &&
	AWS_WEB_IDENTITY_TOKEN_FILE=$PWD/token &&
	AWS_ROLE_ARN=arn:aws:iam::123456789012:role/ci-images &&
	AWS_ROLE_SESSION_NAME=ci-run-42 &&
	export AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME
'

test_expect_success 'one token exchange serves every page of every region' '
	ec2_reset_counts &&
	ec2-describe images --region us-east-1 --region eu-west-1 >out &&
	test_line_count = 1201 out &&
	test "$(ec2_count AssumeRoleWithWebIdentity)" = 1 &&
	test "$(ec2_count DescribeImages)" = 3 &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"DescribeImages\") | .AccessKeyId" reqs | sort -u >keys &&
	test_line_count = 1 keys &&
	test_grep -v AKIAAMICYCLETEST0001 keys
'

test_expect_success 'a token STS refuses: a clear error, no output, exit 1' '
	printf %s amicycle-secret-oidc-token-stale >token &&
	test_expect_code 1 ec2-describe images >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "AssumeRoleWithWebIdentity: InvalidIdentityToken" err
'

test_expect_success 'the token and the secrets it bought appear in no output, error or log' '
	grep -rl -e amicycle-secret . | grep -v -e "^./seed.json$" -e "^./token$" >leaks;
	test_line_count = 0 leaks
'

test_done
