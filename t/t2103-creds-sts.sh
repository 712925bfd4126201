#!/bin/bash
# lib/aws/creds.c: STS AssumeRole (signed, verified with botocore) and AssumeRoleWithWebIdentity.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-creds.sh

cfg=$TRASH/.aws-config
crd=$TRASH/.aws-credentials
role=arn:aws:iam::123456789012:role/deploy

# stub_config [JSON]: the keys STS knows, plus JSON's members; counts start afresh.
stub_config () {
	printf '{"keys": {"AKIDSOURCE": "Sekrit-source", "ASIAROLE0001": "Sekrit-role-1"}%s}\n' \
		"${1:+, $1}" >stub.json
}

test_expect_success 'setup: the STS stand-in and a source profile' '
	stub_config &&
	start_creds_stub stub.json &&
	cat >"$crd" <<-\EOT &&
	[base]
	aws_access_key_id = AKIDSOURCE
	aws_secret_access_key = Sekrit-source
	[wrong]
	aws_access_key_id = AKIDSOURCE
	aws_secret_access_key = Sekrit-not-the-one
	EOT
	cat >"$cfg" <<-EOT
	[profile deploy]
	role_arn = $role
	source_profile = base
	role_session_name = ci-run
	external_id = Ext-1
	duration_seconds = 1800
	[profile wrong]
	role_arn = $role
	source_profile = wrong
	[profile chained]
	role_arn = arn:aws:iam::123456789012:role/next
	source_profile = deploy
	role_session_name = hop
	[profile loop1]
	role_arn = $role
	source_profile = loop2
	[profile loop2]
	role_arn = $role
	source_profile = loop1
	[profile lost]
	role_arn = $role
	source_profile = nowhere
	[profile bare]
	role_arn = $role
	[profile fromenv]
	role_arn = $role
	credential_source = Environment
	role_session_name = env-source
	[profile regional]
	region = sa-east-1
	role_arn = $role
	source_profile = base
	role_session_name = regional
	[profile oidc]
	role_arn = arn:aws:iam::123456789012:role/oidc
	web_identity_token_file = $TRASH/token
	role_session_name = from-profile
	EOT
'

test_expect_success 'role_arn + source_profile: AssumeRole signed with the source keys' '
	stub_config "\"region\": \"eu-central-1\", \"expiration\": \"2099-01-01T00:00:00Z\"" &&
	AWS_PROFILE=deploy AWS_ENDPOINT_URL_STS=$STUB probe role --region eu-central-1 &&
	echo "{\"Source\":\"assume-role\",\"AccessKeyId\":\"ASIAROLE0001\",\"SessionToken\":true,\"Expiration\":\"2099-01-01T00:00:00.000Z\"}" >expect &&
	test_cmp expect role.out &&
	test_line_count = 0 role.err &&
	echo "POST / AssumeRole signature=ok akid=AKIDSOURCE region=eu-central-1 security-token=none role=$role session=ci-run DurationSeconds=1800 ExternalId=Ext-1" >expect &&
	test_cmp expect stub.log
'

test_expect_success 'a wrong secret: the signature does not match' '
	stub_config && : >stub.log &&
	AWS_PROFILE=wrong AWS_ENDPOINT_URL_STS=$STUB test_expect_code 1 probe wrong --region eu-central-1 &&
	echo "creds-probe: sts: eu-central-1: AssumeRole: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. (request id sts-signaturedoesnotmatch)" >expect &&
	test_cmp expect wrong.err &&
	test_line_count = 0 wrong.out &&
	test_grep "AssumeRole signature=signature mismatch akid=AKIDSOURCE" stub.log
'

test_expect_success 'env keys win over a profile'"'"'s role, as with the AWS CLI' '
	stub_config && : >stub.log &&
	AWS_PROFILE=deploy AWS_ENDPOINT_URL_STS=$STUB \
		AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env probe env-wins &&
	test_grep "\"Source\":\"env\"" env-wins.out &&
	test_line_count = 0 stub.log
'

test_expect_success 'credential_source = Environment without env keys' '
	AWS_PROFILE=fromenv AWS_ENDPOINT_URL_STS=$STUB test_expect_code 1 probe fromenv-none &&
	echo "creds-probe: profile fromenv: credential_source Environment has no credentials" >expect &&
	test_cmp expect fromenv-none.err
'

test_expect_success 'role chaining: the second AssumeRole is signed with the first role'"'"'s keys' '
	stub_config "\"region\": \"eu-central-1\"" && : >stub.log &&
	AWS_PROFILE=chained AWS_ENDPOINT_URL_STS=$STUB probe chained --region eu-central-1 &&
	test_grep "\"Source\":\"assume-role\",\"AccessKeyId\":\"ASIAROLE0002\"" chained.out &&
	cat >expect <<-EOT &&
	POST / AssumeRole signature=ok akid=AKIDSOURCE region=eu-central-1 security-token=none role=$role session=ci-run DurationSeconds=1800 ExternalId=Ext-1
	POST / AssumeRole signature=ok akid=ASIAROLE0001 region=eu-central-1 security-token=signed role=arn:aws:iam::123456789012:role/next session=hop
	EOT
	test_cmp expect stub.log
'

test_expect_success 'source_profile loops, missing sources and a bare role_arn are errors' '
	AWS_PROFILE=loop1 AWS_ENDPOINT_URL_STS=$STUB test_expect_code 1 probe loop &&
	echo "creds-probe: profile loop1: source_profile chain longer than 5 (a loop?)" >expect &&
	test_cmp expect loop.err &&
	AWS_PROFILE=lost test_expect_code 1 probe lost &&
	echo "creds-probe: profile lost: source_profile nowhere not found in $cfg or $crd" >expect &&
	test_cmp expect lost.err &&
	AWS_PROFILE=bare test_expect_code 1 probe bare &&
	echo "creds-probe: profile bare: role_arn needs source_profile, credential_source or web_identity_token_file" >expect &&
	test_cmp expect bare.err
'

test_expect_success 'STS is called in AWS_REGION, else the profile'"'"'s region' '
	stub_config && : >stub.log &&
	AWS_PROFILE=deploy AWS_ENDPOINT_URL_STS=$STUB AWS_REGION=ap-south-1 probe env-region &&
	AWS_PROFILE=regional AWS_ENDPOINT_URL_STS=$STUB probe profile-region &&
	sed -n "s/.* region=\([^ ]*\) .*/\1/p" stub.log >actual &&
	printf "ap-south-1\nsa-east-1\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'AWS_ENDPOINT_URL_STS before AWS_ENDPOINT_URL' '
	stub_config && : >stub.log &&
	AWS_PROFILE=deploy AWS_ENDPOINT_URL_STS=$STUB AWS_ENDPOINT_URL=http://127.0.0.1:1 \
		probe endpoint-sts --region eu-central-1 &&
	AWS_PROFILE=deploy AWS_ENDPOINT_URL=$STUB probe endpoint-all --region eu-central-1 &&
	test_line_count = 2 stub.log &&
	AWS_PROFILE=deploy AWS_ENDPOINT_URL=http://127.0.0.1:1 \
		test_expect_code 1 probe endpoint-dead --region eu-central-1 &&
	test_grep "^creds-probe: sts: eu-central-1: AssumeRole: http://127.0.0.1:1: " endpoint-dead.err
'

test_expect_success 'an endpoint that is not an http(s) URL' '
	AWS_PROFILE=deploy AWS_ENDPOINT_URL_STS=http://user:Sekrit-pw@127.0.0.1:1/ \
		test_expect_code 1 probe userinfo --region eu-central-1 &&
	echo "creds-probe: sts: eu-central-1: AssumeRole: the endpoint is not an http(s) URL without user@" >expect &&
	test_cmp expect userinfo.err
'

test_expect_success 'an answer that is not STS XML (one attempt: a 502 is retried, t2106)' '
	stub_config "\"sts_http\": [502, \"<html><body>Bad Gateway\"]" &&
	AWS_MAX_ATTEMPTS=1 AWS_PROFILE=deploy AWS_ENDPOINT_URL_STS=$STUB \
		test_expect_code 1 probe notxml --region eu-central-1 &&
	echo "creds-probe: sts: eu-central-1: AssumeRole: HTTP 502: the response is not XML (request id req-0001)" >expect &&
	test_cmp expect notxml.err
'

# Web identity from the environment, as GitHub Actions and EKS set it up.
webid () {
	AWS_WEB_IDENTITY_TOKEN_FILE=$TRASH/token AWS_ROLE_ARN=arn:aws:iam::123456789012:role/oidc \
	AWS_ROLE_SESSION_NAME=gh-run AWS_ENDPOINT_URL_STS=$STUB "$@"
}

test_expect_success 'web identity: AssumeRoleWithWebIdentity, unsigned' '
	echo Tokn-oidc-jwt >token &&
	stub_config "\"web_identity_token\": \"Tokn-oidc-jwt\", \"expiration\": \"2099-01-01T00:00:00Z\"" &&
	: >stub.log &&
	webid probe webid --region us-west-2 &&
	echo "{\"Source\":\"web-identity\",\"AccessKeyId\":\"ASIAWEBID0001\",\"SessionToken\":true,\"Expiration\":\"2099-01-01T00:00:00.000Z\"}" >expect &&
	test_cmp expect webid.out &&
	echo "POST / AssumeRoleWithWebIdentity auth=none token=ok role=arn:aws:iam::123456789012:role/oidc session=gh-run" >expect &&
	test_cmp expect stub.log
'

test_expect_success 'web identity comes before the profile' '
	AWS_PROFILE=deploy webid probe webid-first --region us-west-2 &&
	test_grep "\"Source\":\"web-identity\"" webid-first.out
'

test_expect_success 'web identity: the token file is read again at each refresh' '
	echo Tokn-first >token &&
	stub_config "\"rotate_token_file\": \"$TRASH/token\"" && : >stub.log &&
	AMICYCLE_CREDS_REFRESH_SECONDS=7200 webid probe rotate --twice --region us-west-2 &&
	jq -r .AccessKeyId rotate.out >actual &&
	printf "ASIAWEBID0001\nASIAWEBID0002\n" >expect &&
	test_cmp expect actual &&
	grep -c "AssumeRoleWithWebIdentity auth=none token=ok" stub.log >actual &&
	echo 2 >expect &&
	test_cmp expect actual
'

test_expect_success 'web identity: STS errors in one line' '
	echo Tokn-oidc-jwt >token &&
	stub_config "\"web_identity_token\": \"Tokn-oidc-jwt\", \"sts_error\": {\"code\": \"InvalidIdentityToken\", \"message\": \"Incorrect token audience\"}" &&
	webid test_expect_code 1 probe webid-error --region us-west-2 &&
	echo "creds-probe: sts: us-west-2: AssumeRoleWithWebIdentity: InvalidIdentityToken: Incorrect token audience (request id sts-invalididentitytoken)" >expect &&
	test_cmp expect webid-error.err &&
	test_line_count = 0 webid-error.out
'

test_expect_success 'web identity: a missing token file, a missing role, a role alone' '
	AWS_WEB_IDENTITY_TOKEN_FILE=$TRASH/no-token AWS_ROLE_ARN=$role test_expect_code 1 probe notoken &&
	echo "creds-probe: web-identity: AWS_WEB_IDENTITY_TOKEN_FILE $TRASH/no-token: No such file or directory" >expect &&
	test_cmp expect notoken.err &&
	AWS_WEB_IDENTITY_TOKEN_FILE=$TRASH/token test_expect_code 1 probe norole &&
	echo "creds-probe: web-identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not" >expect &&
	test_cmp expect norole.err &&
	AWS_ROLE_ARN=$role test_expect_code 1 probe roleonly &&
	test_grep "^creds-probe: no credentials: tried env (AWS_ACCESS_KEY_ID unset), web-identity (AWS_WEB_IDENTITY_TOKEN_FILE unset), " roleonly.err
'

test_expect_success 'web identity from a profile'"'"'s web_identity_token_file' '
	echo Tokn-oidc-jwt >token &&
	stub_config "\"web_identity_token\": \"Tokn-oidc-jwt\"" && : >stub.log &&
	AWS_PROFILE=oidc AWS_ENDPOINT_URL_STS=$STUB probe webid-profile --region us-west-2 &&
	test_grep "\"Source\":\"web-identity\",\"AccessKeyId\":\"ASIAWEBID0001\"" webid-profile.out &&
	test_grep "auth=none token=ok role=arn:aws:iam::123456789012:role/oidc session=from-profile" stub.log
'

test_expect_success 'no secret or token in any output or error' '
	test_no_secrets
'

test_done
