#!/bin/bash
# lib/aws/creds.c and lib/aws/awsconfig.c agree with the AWS CLI on which credentials a setup gives.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-creds.sh

test_have_prereq AWSCLI || test_skip_all "no /usr/bin/aws"

cfg=$TRASH/.aws-config
crd=$TRASH/.aws-credentials
SQ="'"

# restart_counts: the stand-in, if any, counts its credentials from 1 again.
restart_counts () {
	if [ -f stub.json ]; then
		cp stub.json stub.json.new && mv stub.json.new stub.json
	fi
}

# same NAME: creds-probe and "aws configure export-credentials" both fail, or both find the same
# access key id and agree on whether there is a session token.
same () {
	restart_counts
	"$PROBE" >"$1.out" 2>"$1.err"
	probe_=$?
	restart_counts
	/usr/bin/aws configure export-credentials --format process >"$1.cli" 2>"$1.clierr"
	cli_=$?
	if [ $probe_ != 0 ] && [ $cli_ != 0 ]; then
		return 0
	fi
	if [ $probe_ != 0 ] || [ $cli_ != 0 ]; then
		echo "creds-probe exited $probe_, aws $cli_" >&2
		cat "$1.err" "$1.clierr" >&2
		return 1
	fi
	jq -r '[.AccessKeyId, (.SessionToken | tostring)] | join(" ")' "$1.out" >"$1.mine" &&
	jq -r '[.AccessKeyId, (has("SessionToken") | tostring)] | join(" ")' "$1.cli" >"$1.theirs" &&
	test_cmp "$1.theirs" "$1.mine"
}

test_expect_success AWSCLI 'setup: profiles in both files' '
	cat >"$crd" <<-\EOT &&
	[default]
	aws_access_key_id = AKIDDEFAULT
	aws_secret_access_key = Sekrit-default
	[dev]
	AWS_ACCESS_KEY_ID = AKIDDEVCREDS
	aws_secret_access_key = Sekrit-devcreds
	aws_session_token = Tokn-devcreds
	EOT
	cat >"$cfg" <<-EOT
	[profile dev]
	aws_access_key_id = AKIDDEVCONFIG
	aws_secret_access_key = Sekrit-devconfig
	s3 =
	    max_concurrent_requests = 10
	[profile "two words"]
	aws_access_key_id = AKIDTWOWORDS
	aws_secret_access_key = Sekrit-two
	[profile proc]
	credential_process = printf %s ${SQ}{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "Sekrit ; proc", "SessionToken": "Tokn-proc", "Expiration": "2099-01-01T00:00:00Z"}${SQ}
	[profile empty]
	EOT
'

test_expect_success AWSCLI 'the default profile, and env keys over it' '
	same default &&
	AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env same env
'

test_expect_success AWSCLI 'a named profile: the credentials file wins; nested keys; a quoted name' '
	AWS_PROFILE=dev same dev &&
	AWS_PROFILE="two words" same two-words
'

test_expect_success AWSCLI 'credential_process, with a " ; " in the command' '
	AWS_PROFILE=proc same proc
'

test_expect_success AWSCLI 'a missing profile, an empty one' '
	AWS_PROFILE=nope same nope &&
	AWS_PROFILE=empty same empty &&
	AWS_PROFILE=empty AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env same empty-env
'

test_expect_success AWSCLI 'IMDSv2 and container credentials from the stand-in' '
	printf "{\"container_token\": \"Tokn-container\"}\n" >stub.json &&
	start_creds_stub stub.json &&
	rm "$crd" &&
	AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$STUB/ same imds &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$STUB/container/creds \
		AWS_CONTAINER_AUTHORIZATION_TOKEN=Tokn-container same container
'

test_expect_success AWSCLI 'no secret or token in our output or errors' '
	test_no_secrets
'

test_done
