#!/bin/bash
# lib/aws/creds.c and lib/aws/awsconfig.c: environment keys, the shared config and credentials files.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-creds.sh

cfg=$TRASH/.aws-config
crd=$TRASH/.aws-credentials

test_expect_success 'environment keys' '
	AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env probe env &&
	echo "{\"Source\":\"env\",\"AccessKeyId\":\"AKIDENV\",\"SessionToken\":false,\"Expiration\":null}" >expect &&
	test_cmp expect env.out &&
	test_line_count = 0 env.err
'

test_expect_success 'environment keys with a session token' '
	AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env AWS_SESSION_TOKEN=Tokn-env \
		probe env-token &&
	echo "{\"Source\":\"env\",\"AccessKeyId\":\"AKIDENV\",\"SessionToken\":true,\"Expiration\":null}" >expect &&
	test_cmp expect env-token.out
'

test_expect_success 'long-term keys are kept: --wait asks again after a pause' '
	AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env probe env-wait --wait 1 &&
	echo "{\"Source\":\"env\",\"AccessKeyId\":\"AKIDENV\",\"SessionToken\":false,\"Expiration\":null}" >expect &&
	cat expect expect >expect2 &&
	test_cmp expect2 env-wait.out
'

test_expect_success 'half of the environment keys is an error' '
	AWS_ACCESS_KEY_ID=AKIDENV test_expect_code 1 probe env-half &&
	echo "creds-probe: env: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" >expect &&
	test_cmp expect env-half.err &&
	test_line_count = 0 env-half.out &&
	AWS_SECRET_ACCESS_KEY=Sekrit-env test_expect_code 1 probe env-half2 &&
	test_grep "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not" env-half2.err
'

test_expect_success 'no credentials anywhere: one line saying what was tried' '
	test_expect_code 1 probe none &&
	echo "creds-probe: no credentials: tried env (AWS_ACCESS_KEY_ID unset), web-identity (AWS_WEB_IDENTITY_TOKEN_FILE unset), profile default (no keys, role_arn or credential_process in $cfg or $crd), container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI unset), imds (AWS_EC2_METADATA_DISABLED=true)" >expect &&
	test_cmp expect none.err &&
	test_line_count = 0 none.out
'

test_expect_success 'static keys of the default profile in the credentials file' '
	cat >"$crd" <<-\EOT &&
	[default]
	aws_access_key_id = AKIDDEFAULT
	aws_secret_access_key = Sekrit-default
	EOT
	probe default &&
	echo "{\"Source\":\"profile default\",\"AccessKeyId\":\"AKIDDEFAULT\",\"SessionToken\":false,\"Expiration\":null}" >expect &&
	test_cmp expect default.out
'

test_expect_success 'environment keys win over the profile' '
	AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env probe env-first &&
	test_grep "\"Source\":\"env\",\"AccessKeyId\":\"AKIDENV\"" env-first.out
'

test_expect_success 'AWS_PROFILE selects a [profile NAME] of the config file' '
	cat >"$cfg" <<-\EOT &&
	# comments and blank lines are fine

	[default]
	region = eu-west-1
	[profile dev]
	region = us-west-2
	aws_access_key_id = AKIDDEV
	aws_secret_access_key = Sekrit-dev
	s3 =
	    max_concurrent_requests = 10
	[sso-session corp]
	sso_region = us-east-1
	EOT
	AWS_PROFILE=dev probe dev &&
	echo "{\"Source\":\"profile dev\",\"AccessKeyId\":\"AKIDDEV\",\"SessionToken\":false,\"Expiration\":null}" >expect &&
	test_cmp expect dev.out
'

test_expect_success 'AWS_DEFAULT_PROFILE when AWS_PROFILE is unset' '
	AWS_DEFAULT_PROFILE=dev probe dev-default &&
	test_grep "\"AccessKeyId\":\"AKIDDEV\"" dev-default.out
'

test_expect_success 'the credentials file wins for a key set in both files' '
	cat >>"$crd" <<-\EOT &&
	[dev]
	aws_access_key_id = AKIDDEVCREDS
	AWS_Secret_Access_Key = Sekrit-devcreds
	aws_session_token = Tokn-devcreds
	EOT
	AWS_PROFILE=dev probe both &&
	echo "{\"Source\":\"profile dev\",\"AccessKeyId\":\"AKIDDEVCREDS\",\"SessionToken\":true,\"Expiration\":null}" >expect &&
	test_cmp expect both.out
'

test_expect_success 'a profile AWS_PROFILE names that neither file has is an error' '
	AWS_PROFILE=nope test_expect_code 1 probe nope &&
	echo "creds-probe: profile nope not found in $cfg or $crd" >expect &&
	test_cmp expect nope.err &&
	test_line_count = 0 nope.out &&
	AWS_PROFILE=nope AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env \
		test_expect_code 1 probe nope-env &&
	test_cmp expect nope-env.err
'

test_expect_success 'a profile with a section and no keys exists' '
	printf "[profile empty]\n" >>"$cfg" &&
	AWS_PROFILE=empty AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env probe empty &&
	test_grep "\"AccessKeyId\":\"AKIDENV\"" empty.out &&
	AWS_PROFILE=empty test_expect_code 1 probe empty-none &&
	test_grep "profile empty (no keys, role_arn or credential_process in" empty-none.err
'

test_expect_success 'half of a profile'"'"'s keys is an error' '
	cat >half.ini <<-\EOT &&
	[default]
	aws_access_key_id = AKIDHALF
	EOT
	AWS_SHARED_CREDENTIALS_FILE=$TRASH/half.ini test_expect_code 1 probe half &&
	echo "creds-probe: profile default: aws_access_key_id without aws_secret_access_key" >expect &&
	test_cmp expect half.err
'

test_expect_success 'a malformed config file is an error naming FILE:LINE' '
	printf "[default]\nregion = us-east-1\nthis line is not ini\n" >bad.ini &&
	AWS_CONFIG_FILE=$TRASH/bad.ini test_expect_code 1 probe bad &&
	echo "creds-probe: $TRASH/bad.ini:3: not a [section] or KEY = VALUE line" >expect &&
	test_cmp expect bad.err &&
	test_line_count = 0 bad.out &&
	printf "[default]\nregion = us-east-1\n[profile broken\n" >bad2.ini &&
	AWS_CONFIG_FILE=$TRASH/bad2.ini AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env \
		test_expect_code 1 probe bad2 &&
	echo "creds-probe: $TRASH/bad2.ini:3: not a [section] or KEY = VALUE line" >expect &&
	test_cmp expect bad2.err
'

test_expect_success 'a key outside a section and a repeated key are errors' '
	printf "region = us-east-1\n[default]\n" >bad3.ini &&
	AWS_CONFIG_FILE=$TRASH/bad3.ini test_expect_code 1 probe bad3 &&
	echo "creds-probe: $TRASH/bad3.ini:1: a key outside any [section]" >expect &&
	test_cmp expect bad3.err &&
	printf "[x]\naws_access_key_id = A\naws_secret_access_key = Sekrit-1\nAWS_SECRET_ACCESS_KEY = Sekrit-2\n" >bad4.ini &&
	AWS_SHARED_CREDENTIALS_FILE=$TRASH/bad4.ini test_expect_code 1 probe bad4 &&
	echo "creds-probe: $TRASH/bad4.ini:4: aws_secret_access_key set twice, or an indented line that is not SUBKEY = VALUE" >expect &&
	test_cmp expect bad4.err
'

test_expect_success 'an unreadable file is an error; a missing one is empty' '
	mkdir dir.ini &&
	AWS_CONFIG_FILE=$TRASH/dir.ini test_expect_code 1 probe dir &&
	echo "creds-probe: $TRASH/dir.ini: read error" >expect &&
	test_cmp expect dir.err &&
	AWS_CONFIG_FILE=$TRASH/missing.ini probe missing &&
	test_grep "\"Source\":\"profile default\"" missing.out
'

test_expect_success 'a session token longer than any line inih reads by default' '
	tok=$(printf "Tokn%01000d" 0) &&
	printf "[long]\naws_access_key_id = AKIDLONG\naws_secret_access_key = Sekrit-long\naws_session_token = %s\n" "$tok" >long.ini &&
	AWS_SHARED_CREDENTIALS_FILE=$TRASH/long.ini AWS_PROFILE=long probe long &&
	echo "{\"Source\":\"profile long\",\"AccessKeyId\":\"AKIDLONG\",\"SessionToken\":true,\"Expiration\":null}" >expect &&
	test_cmp expect long.out
'

test_expect_success 'file names with ~/ are under HOME' '
	mkdir -p sub &&
	printf "[default]\naws_access_key_id = AKIDTILDE\naws_secret_access_key = Sekrit-tilde\n" >sub/creds &&
	AWS_SHARED_CREDENTIALS_FILE="~/sub/creds" probe tilde &&
	test_grep "\"AccessKeyId\":\"AKIDTILDE\"" tilde.out
'

test_expect_success 'no secret or token in any output or error' '
	test_no_secrets
'

test_done
