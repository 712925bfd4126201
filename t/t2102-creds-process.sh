#!/bin/bash
# lib/aws/creds.c: credential_process in a profile.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-creds.sh

cfg=$TRASH/.aws-config

# use_process COMMAND: the default profile runs COMMAND.
use_process () {
	printf "[default]\ncredential_process = %s\n" "$1" >"$cfg"
}

test_expect_success 'credential_process with a session token and an expiration' '
	cat >proc.sh <<-\EOT &&
	echo "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"Sekrit-proc\",
	  \"SessionToken\": \"Tokn-proc\", \"Expiration\": \"2099-01-01T00:00:00Z\"}"
	EOT
	use_process "sh $TRASH/proc.sh" &&
	probe ok &&
	echo "{\"Source\":\"process\",\"AccessKeyId\":\"AKIDPROC\",\"SessionToken\":true,\"Expiration\":\"2099-01-01T00:00:00.000Z\"}" >expect &&
	test_cmp expect ok.out &&
	test_line_count = 0 ok.err
'

test_expect_success 'credential_process with long-term keys' '
	use_process "printf %s \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"AKIDLONG\\\",\\\"SecretAccessKey\\\":\\\"Sekrit-long\\\"}\"" &&
	probe long &&
	echo "{\"Source\":\"process\",\"AccessKeyId\":\"AKIDLONG\",\"SessionToken\":false,\"Expiration\":null}" >expect &&
	test_cmp expect long.out
'

test_expect_success 'a credential_process in a named profile of the config file' '
	printf "[profile ci]\ncredential_process = sh %s\n" "$TRASH/proc.sh" >"$cfg" &&
	AWS_PROFILE=ci probe named &&
	test_grep "\"AccessKeyId\":\"AKIDPROC\"" named.out
'

test_expect_success 'a failing credential_process: its stderr, then one line' '
	use_process "echo cannot reach the vault >&2; exit 3" &&
	test_expect_code 1 probe fails &&
	cat >expect <<-\EOT &&
	cannot reach the vault
	creds-probe: process: profile default: credential_process exited with status 3
	EOT
	test_cmp expect fails.err &&
	test_line_count = 0 fails.out
'

test_expect_success 'a credential_process killed by a signal' '
	use_process "kill -9 \$\$" &&
	test_expect_code 1 probe killed &&
	echo "creds-probe: process: profile default: credential_process killed by signal 9" >expect &&
	test_cmp expect killed.err
'

test_expect_success 'output that is not JSON is reported without quoting it' '
	use_process "echo \"{\\\"SecretAccessKey\\\": \\\"Sekrit-partial\"" &&
	test_expect_code 1 probe badjson &&
	echo "creds-probe: process: profile default: credential_process: the output is not a JSON object" >expect &&
	test_cmp expect badjson.err
'

test_expect_success 'a process that writes without end is cut off' '
	use_process "yes Sekrit-endless" &&
	test_expect_code 1 probe endless &&
	test_grep "^creds-probe: process: profile default: credential_process wrote more than 1048576 bytes\$" endless.err
'

test_expect_success 'Version, the keys and Expiration are checked' '
	use_process "echo \"{\\\"Version\\\":2,\\\"AccessKeyId\\\":\\\"A\\\",\\\"SecretAccessKey\\\":\\\"Sekrit-v2\\\"}\"" &&
	test_expect_code 1 probe version &&
	test_grep "credential_process: Version is not 1\$" version.err &&
	use_process "echo \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"A\\\"}\"" &&
	test_expect_code 1 probe nosecret &&
	test_grep "credential_process: no AccessKeyId and SecretAccessKey strings\$" nosecret.err &&
	use_process "echo \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"A\\\",\\\"SecretAccessKey\\\":\\\"Sekrit-x\\\",\\\"Expiration\\\":\\\"tomorrow\\\"}\"" &&
	test_expect_code 1 probe badexp &&
	test_grep "credential_process: Expiration is not an RFC 3339 time\$" badexp.err
'

test_expect_success 'credentials that have already expired are an error' '
	use_process "echo \"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"A\\\",\\\"SecretAccessKey\\\":\\\"Sekrit-old\\\",\\\"Expiration\\\":\\\"2000-01-01T00:00:00Z\\\"}\"" &&
	test_expect_code 1 probe expired &&
	echo "creds-probe: process: the credentials expired at 2000-01-01T00:00:00.000Z" >expect &&
	test_cmp expect expired.err
'

test_expect_success 'a ; inside the command is not a comment (as with the AWS CLI)' '
	use_process "false ; sh $TRASH/proc.sh" &&
	probe semicolon &&
	test_grep "\"AccessKeyId\":\"AKIDPROC\"" semicolon.out
'

test_expect_success 'the process reads /dev/null, not the caller'"'"'s input' '
	use_process "if read line; then exit 4; fi; sh $TRASH/proc.sh" &&
	echo "a record the filter must still read" >input &&
	"$PROBE" <input >stdin.out 2>stdin.err &&
	test_grep "\"AccessKeyId\":\"AKIDPROC\"" stdin.out
'

# A process that counts its runs in the access key id and expires in an hour.
cat >count.sh <<\EOT
n=$(($(cat runs 2>/dev/null || echo 0) + 1))
echo $n >runs
[ -e fail-after-first ] && [ $n -gt 1 ] && exit 1
exp=$(date -u -d "+1 hour" +%Y-%m-%dT%H:%M:%SZ)
printf '{"Version":1,"AccessKeyId":"AKIDRUN%d","SecretAccessKey":"Sekrit-run","SessionToken":"Tokn-run","Expiration":"%s"}\n' $n "$exp"
EOT

test_expect_success 'credentials far from their expiration are kept' '
	use_process "sh $TRASH/count.sh" &&
	rm -f runs &&
	probe keep --twice &&
	jq -r .AccessKeyId keep.out >actual &&
	printf "AKIDRUN1\nAKIDRUN1\n" >expect &&
	test_cmp expect actual &&
	echo 1 >expect &&
	test_cmp expect runs
'

test_expect_success 'credentials within the refresh window are fetched again' '
	rm -f runs &&
	AMICYCLE_CREDS_REFRESH_SECONDS=7200 probe refresh --twice &&
	jq -r .AccessKeyId refresh.out >actual &&
	printf "AKIDRUN1\nAKIDRUN2\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a failed refresh keeps credentials that have not expired' '
	rm -f runs && : >fail-after-first &&
	AMICYCLE_CREDS_REFRESH_SECONDS=7200 probe refresh-fails --twice &&
	rm fail-after-first &&
	jq -r .AccessKeyId refresh-fails.out >actual &&
	printf "AKIDRUN1\nAKIDRUN1\n" >expect &&
	test_cmp expect actual &&
	echo 2 >expect &&
	test_cmp expect runs
'

test_expect_success 'no secret or token in any output or error' '
	test_no_secrets
'

test_done
