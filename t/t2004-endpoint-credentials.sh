#!/bin/bash
# t/ec2-endpoint.py as a credential source: STS AssumeRoleWithWebIdentity (the CLI's own call),
# its temporary credentials accepted for EC2 and STS until they expire, AssumeRole, the IMDSv2 and
# container credential stand-ins (used by the real CLI's credential chain), and no secret in the log.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

cat >seed.json <<'EOF'
{"WebIdentityTokens": [
   {"Token": "eyJhbGciOiJSUzI1NiJ9.amicycle-secret-oidc.sig", "Subject": "repo:amicycle/demo:ref:refs/heads/main",
    "RoleArn": "arn:aws:iam::123456789012:role/ci"},
   {"Token": "eyJhbGciOiJSUzI1NiJ9.amicycle-secret-expired.sig", "Expired": true}],
 "Credentials": [{"AccessKeyId": "ASIAEXPIREDEXPIRED00", "SecretAccessKey": "amicycle-secret-old",
                  "SessionToken": "amicycle-secret-token-old", "Expiration": "2020-01-01T00:00:00Z"}],
 "Container": {"AuthorizationToken": "amicycle-secret-container-auth"},
 "Regions": {"us-east-1": {"Images": [{"ImageId": "ami-00000000000000001", "Name": "web-01",
   "CreationDate": "2024-05-01T12:00:00.000Z"}]}}}
EOF

# The images the CLI sees with whatever credentials the environment gives it.
images () {
	AWS_PAGER= /usr/bin/aws --no-cli-pager --output text --endpoint-url "$EC2_URL" \
		ec2 describe-images --owners self --query "Images[].ImageId"
}

test_expect_success 'aws sts assume-role-with-web-identity: temporary credentials' '
	ec2_start seed.json &&
	jq -n "{RoleArn: \"arn:aws:iam::123456789012:role/ci\", RoleSessionName: \"gha-42\",
		WebIdentityToken: \"eyJhbGciOiJSUzI1NiJ9.amicycle-secret-oidc.sig\", DurationSeconds: 900}" >in.json &&
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	 AWS_PAGER= /usr/bin/aws --no-cli-pager --output json --endpoint-url "$EC2_URL" \
		sts assume-role-with-web-identity --cli-input-json file://in.json >creds) &&
	jq -r "[.AssumedRoleUser.Arn, .SubjectFromWebIdentityToken, (.Credentials.AccessKeyId | test(\"^ASIA\")),
		(.Credentials.SecretAccessKey | test(\"amicycle-secret\"))] | @tsv" creds >actual &&
	printf "arn:aws:sts::123456789012:assumed-role/ci/gha-42\trepo:amicycle/demo:ref:refs/heads/main\ttrue\ttrue\n" >expect &&
	test_cmp expect actual &&
	exp=$(jq -r .Credentials.Expiration creds) &&
	left=$(( $(date -u -d "$exp" +%s) - $(date -u +%s) )) &&
	test $left -gt 800 && test $left -le 900
'

test_expect_success 'the temporary credentials sign EC2 and STS calls' '
	AWS_ACCESS_KEY_ID=$(jq -r .Credentials.AccessKeyId creds) &&
	AWS_SECRET_ACCESS_KEY=$(jq -r .Credentials.SecretAccessKey creds) &&
	AWS_SESSION_TOKEN=$(jq -r .Credentials.SessionToken creds) &&
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN &&
	images >actual &&
	echo ami-00000000000000001 >expect &&
	test_cmp expect actual &&
	ec2_query -s sts GetCallerIdentity >out &&
	test_grep "<Arn>arn:aws:sts::123456789012:assumed-role/ci/gha-42</Arn>" out &&
	AWS_SESSION_TOKEN=amicycle-secret-forged test_must_fail ec2_query DescribeImages >out &&
	test "$(ec2_status)" = 401 &&
	(unset AWS_SESSION_TOKEN && test_must_fail ec2_query DescribeImages >out) &&
	test_grep "<Code>AuthFailure</Code>" out
'

test_expect_success 'expired credentials: RequestExpired (EC2), ExpiredToken (STS)' '
	AWS_ACCESS_KEY_ID=ASIAEXPIREDEXPIRED00 AWS_SECRET_ACCESS_KEY=amicycle-secret-old \
		AWS_SESSION_TOKEN=amicycle-secret-token-old test_must_fail ec2_query DescribeImages >out &&
	test "$(ec2_status)" = 400 &&
	test_grep "<Code>RequestExpired</Code>" out &&
	AWS_ACCESS_KEY_ID=ASIAEXPIREDEXPIRED00 AWS_SECRET_ACCESS_KEY=amicycle-secret-old \
		AWS_SESSION_TOKEN=amicycle-secret-token-old test_must_fail ec2_query -s sts GetCallerIdentity >out &&
	test_grep "<Code>ExpiredToken</Code>" out
'

test_expect_success 'web identity refusals: unknown token, expired token, another role' '
	test_must_fail ec2_query -s sts AssumeRoleWithWebIdentity RoleArn=arn:aws:iam::123456789012:role/ci \
		RoleSessionName=x1 WebIdentityToken=amicycle-secret-nope >out &&
	test_grep "<Code>InvalidIdentityToken</Code>" out &&
	test_must_fail ec2_query -s sts AssumeRoleWithWebIdentity RoleArn=arn:aws:iam::123456789012:role/ci \
		RoleSessionName=x1 WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.amicycle-secret-expired.sig >out &&
	test_grep "<Code>ExpiredTokenException</Code>" out &&
	test_must_fail ec2_query -s sts AssumeRoleWithWebIdentity RoleArn=arn:aws:iam::123456789012:role/admin \
		RoleSessionName=x1 WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.amicycle-secret-oidc.sig >out &&
	test "$(ec2_status)" = 403 &&
	test_grep "<Type>Sender</Type>" out &&
	test_grep "<Code>AccessDenied</Code>" out
'

test_expect_success 'short-lived STS credentials (Settings.StsCredentialSeconds) and AssumeRole' '
	ec2_settings "{\"StsCredentialSeconds\": 60}" &&
	ec2_query -s sts AssumeRole RoleArn=arn:aws:iam::123456789012:role/deploy RoleSessionName=cd >out &&
	exp=$(sed -n "s|.*<Expiration>\(.*\)</Expiration>|\1|p" out) &&
	left=$(( $(date -u -d "$exp" +%s) - $(date -u +%s) )) &&
	test $left -gt 0 && test $left -le 60 &&
	test_grep "<Arn>arn:aws:sts::123456789012:assumed-role/deploy/cd</Arn>" out
'

test_expect_success 'IMDSv2: a token first, 401 without it; the CLI takes its credentials there' '
	test_must_fail curl -sSf "$EC2_URL/latest/meta-data/iam/security-credentials/" 2>err &&
	test_grep "401" err &&
	test_must_fail curl -sSf -X PUT "$EC2_URL/latest/api/token" 2>err &&
	test_grep "400" err &&
	tok=$(curl -sSf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "$EC2_URL/latest/api/token") &&
	curl -sSf -H "X-aws-ec2-metadata-token: $tok" "$EC2_URL/latest/meta-data/iam/security-credentials/" >role &&
	echo amicycle-test-role >expect && echo >>role && test_cmp expect role &&
	curl -sSf -H "X-aws-ec2-metadata-token: $tok" \
		"$EC2_URL/latest/meta-data/iam/security-credentials/amicycle-test-role" >imds.json &&
	jq -r "[.Code, .Type, (.AccessKeyId | test(\"^ASIA\"))] | @tsv" imds.json >actual &&
	printf "Success\tAWS-HMAC\ttrue\n" >expect &&
	test_cmp expect actual &&
	ec2_reset_counts &&
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_EC2_METADATA_DISABLED &&
	 AWS_EC2_METADATA_SERVICE_ENDPOINT=$EC2_URL/ images >actual) &&
	echo ami-00000000000000001 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count IMDS.PutToken)" -ge 1 &&
	test "$(ec2_count IMDS.Get)" -ge 2
'

test_expect_success 'container credentials: the Authorization token is checked; the CLI uses them' '
	test_must_fail curl -sSf "$EC2_URL/_container/credentials" 2>err &&
	test_grep "401" err &&
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN &&
	 AWS_CONTAINER_CREDENTIALS_FULL_URI=$EC2_URL/_container/credentials \
	 AWS_CONTAINER_AUTHORIZATION_TOKEN=amicycle-secret-container-auth images >actual) &&
	echo ami-00000000000000001 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count Container.GetCredentials)" = 2
'

test_expect_success 'no secret, token or key of any kind in the endpoint log' '
	test_grep "AssumeRoleWithWebIdentity 200" "$EC2_DIR/log" &&
	test_grep -v amicycle-secret "$EC2_DIR/log" &&
	test_grep -v eyJhbGci "$EC2_DIR/log" &&
	ec2_requests >requests &&
	test_grep -v amicycle-secret requests
'

test_done
