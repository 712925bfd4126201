#!/bin/bash
# lib/aws/creds.c: container credentials and IMDSv2, and where they come in the chain.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-creds.sh

crd=$TRASH/.aws-credentials
cfg=$TRASH/.aws-config

# stub_config [JSON]: the stub's configuration; counts start afresh.
stub_config () {
	printf '{"keys": {"ASIAIMDS0001": "Sekrit-imds-1"}, "container_token": "Tokn-container"%s}\n' \
		"${1:+, $1}" >stub.json
}

test_expect_success 'setup: the container and IMDS stand-in' '
	stub_config &&
	start_creds_stub stub.json &&
	HOSTPORT=${STUB#http://} &&
	FULL=$STUB/container/v1/credentials
'

test_expect_success 'container: FULL_URI on loopback with AWS_CONTAINER_AUTHORIZATION_TOKEN' '
	stub_config "\"expiration\": \"2099-01-01T00:00:00Z\"" && : >stub.log &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FULL AWS_CONTAINER_AUTHORIZATION_TOKEN=Tokn-container \
		probe container &&
	echo "{\"Source\":\"container\",\"AccessKeyId\":\"ASIACONT0001\",\"SessionToken\":true,\"Expiration\":\"2099-01-01T00:00:00.000Z\"}" >expect &&
	test_cmp expect container.out &&
	echo "GET container auth=ok" >expect &&
	test_cmp expect stub.log
'

test_expect_success 'container: the token file wins over the token variable, and is read each time' '
	stub_config && : >stub.log &&
	echo Tokn-container >ctoken &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FULL AWS_CONTAINER_AUTHORIZATION_TOKEN=Tokn-wrong \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TRASH/ctoken AMICYCLE_CREDS_REFRESH_SECONDS=7200 \
		probe ctokenfile --twice &&
	jq -r .AccessKeyId ctokenfile.out >actual &&
	printf "ASIACONT0001\nASIACONT0002\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'container: a refused token, a failing endpoint' '
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FULL AWS_CONTAINER_AUTHORIZATION_TOKEN=Tokn-wrong \
		test_expect_code 1 probe crefused &&
	echo "creds-probe: container: $HOSTPORT: HTTP 403" >expect &&
	test_cmp expect crefused.err &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FULL test_expect_code 1 probe cnotoken &&
	test_cmp expect cnotoken.err &&
	stub_config "\"container_status\": 500" &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FULL AWS_CONTAINER_AUTHORIZATION_TOKEN=Tokn-container \
		test_expect_code 1 probe c500 &&
	echo "creds-probe: container: $HOSTPORT: HTTP 500" >expect &&
	test_cmp expect c500.err
'

test_expect_success 'container: FULL_URI over http only to loopback or container hosts' '
	stub_config && : >stub.log &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.10/creds test_expect_code 1 probe cremote &&
	echo "creds-probe: container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback or container host, not 192.0.2.10" >expect &&
	test_cmp expect cremote.err &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.attacker.example/creds test_expect_code 1 probe cname &&
	test_grep "must be https, or http to a loopback or container host, not 127.attacker.example\$" cname.err &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=ftp://127.0.0.1/creds test_expect_code 1 probe cftp &&
	echo "creds-probe: container: AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL" >expect &&
	test_cmp expect cftp.err &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1@192.0.2.10/creds test_expect_code 1 probe cuser &&
	test_cmp expect cuser.err &&
	test_line_count = 0 stub.log
'

test_expect_success 'container: a token with a line break is refused before sending' '
	: >stub.log &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FULL AWS_CONTAINER_AUTHORIZATION_TOKEN="Tokn-a
X-Injected: 1" test_expect_code 1 probe cbreak &&
	echo "creds-probe: container: the authorization token has a line break" >expect &&
	test_cmp expect cbreak.err &&
	test_line_count = 0 stub.log
'

imds () {
	AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$STUB "$@"
}

test_expect_success 'IMDSv2: a token, then the role, then its credentials' '
	stub_config "\"expiration\": \"2099-01-01T00:00:00Z\"" && : >stub.log &&
	imds probe imds &&
	echo "{\"Source\":\"imds\",\"AccessKeyId\":\"ASIAIMDS0001\",\"SessionToken\":true,\"Expiration\":\"2099-01-01T00:00:00.000Z\"}" >expect &&
	test_cmp expect imds.out &&
	cat >expect <<-\EOT &&
	PUT /latest/api/token ttl=21600
	GET /latest/meta-data/iam/security-credentials/ token=ok
	GET /latest/meta-data/iam/security-credentials/amicycle-role token=ok
	EOT
	test_cmp expect stub.log
'

test_expect_success 'IMDSv2: never through a proxy' '
	stub_config && : >stub.log &&
	http_proxy=http://127.0.0.1:1 imds probe imds-proxy &&
	test_grep "\"Source\":\"imds\"" imds-proxy.out &&
	test_line_count = 3 stub.log
'

test_expect_success 'IMDSv2: a refused token (401) is an error' '
	stub_config "\"imds_reject_tokens\": true" && : >stub.log &&
	imds test_expect_code 1 probe imds401 &&
	echo "creds-probe: imds: $STUB: security-credentials: HTTP 401" >expect &&
	test_cmp expect imds401.err &&
	test_grep "security-credentials/ token=refused" stub.log
'

test_expect_success 'IMDSv2: a role whose credentials are not there' '
	stub_config "\"imds_code\": \"AssumeRoleUnauthorizedAccess\"" &&
	imds test_expect_code 1 probe imdscode &&
	echo "creds-probe: imds: $STUB: role amicycle-role: AssumeRoleUnauthorizedAccess" >expect &&
	test_cmp expect imdscode.err
'

test_expect_success 'IMDSv2: no token, no instance profile or no IMDS: no credentials, and why' '
	stub_config "\"imds_token_status\": 403" &&
	imds test_expect_code 1 probe imds403 &&
	test_grep "^creds-probe: no credentials: tried .*, imds ($STUB: token: HTTP 403)\$" imds403.err &&
	stub_config "\"imds_role\": null" &&
	imds test_expect_code 1 probe imdsnorole &&
	test_grep ", imds ($STUB: no instance profile)\$" imdsnorole.err &&
	AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1/ \
		test_expect_code 1 probe noimds &&
	test_grep ", imds (http://127.0.0.1:1: .*[Cc]onnect.*)\$" noimds.err
'

test_expect_success 'AWS_EC2_METADATA_DISABLED=true skips IMDS' '
	stub_config && : >stub.log &&
	AWS_EC2_METADATA_DISABLED=TRUE AWS_EC2_METADATA_SERVICE_ENDPOINT=$STUB \
		test_expect_code 1 probe disabled &&
	test_grep ", imds (AWS_EC2_METADATA_DISABLED=true)\$" disabled.err &&
	test_line_count = 0 stub.log
'

test_expect_success 'IMDSv2 credentials near expiry are fetched again' '
	stub_config && : >stub.log &&
	AMICYCLE_CREDS_REFRESH_SECONDS=7200 imds probe imds-refresh --twice &&
	jq -r .AccessKeyId imds-refresh.out >actual &&
	printf "ASIAIMDS0001\nASIAIMDS0002\n" >expect &&
	test_cmp expect actual &&
	grep -c "^PUT /latest/api/token" stub.log >actual &&
	echo 2 >expect &&
	test_cmp expect actual
'

test_expect_success 'precedence: env, then the profile, then the container, then IMDS' '
	stub_config && : >stub.log &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FULL AWS_CONTAINER_AUTHORIZATION_TOKEN=Tokn-container \
		imds probe p-container &&
	test_grep "\"Source\":\"container\"" p-container.out &&
	printf "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = Sekrit-profile\n" >"$crd" &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FULL AWS_CONTAINER_AUTHORIZATION_TOKEN=Tokn-container \
		imds probe p-profile &&
	test_grep "\"Source\":\"profile default\"" p-profile.out &&
	AWS_CONTAINER_CREDENTIALS_FULL_URI=$FULL AWS_CONTAINER_AUTHORIZATION_TOKEN=Tokn-container \
		AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=Sekrit-env imds probe p-env &&
	test_grep "\"Source\":\"env\"" p-env.out &&
	rm "$crd" &&
	echo "GET container auth=ok" >expect &&
	test_cmp expect stub.log
'

test_expect_success 'credential_source = Ec2InstanceMetadata: AssumeRole signed with the instance role' '
	stub_config && : >stub.log &&
	printf "[default]\nrole_arn = arn:aws:iam::123456789012:role/deploy\ncredential_source = Ec2InstanceMetadata\nrole_session_name = from-imds\n" >"$cfg" &&
	AWS_ENDPOINT_URL_STS=$STUB imds probe imds-role --region eu-west-3 &&
	rm "$cfg" &&
	test_grep "\"Source\":\"assume-role\",\"AccessKeyId\":\"ASIAROLE0001\"" imds-role.out &&
	test_grep "^POST / AssumeRole signature=ok akid=ASIAIMDS0001 region=eu-west-3 security-token=signed role=arn:aws:iam::123456789012:role/deploy session=from-imds\$" stub.log
'

# The real addresses, 169.254.170.2 and 169.254.169.254, in a network namespace of our own.
unshare -n true 2>/dev/null && test_set_prereq NETNS

cat >netns.sh <<\EOT
# netns.sh ADDRESS: in a new network namespace, serve the stub on ADDRESS:80 and run the probe.
ip link set lo up && ip addr add "$1/32" dev lo || exit 1
rm -f ns.port
"$PYTHON" "$SRC_DIR/t/creds-stub.py" stub.json ns.port stub.log "$1" 80 2>ns.stderr &
pid=$!
n=0
while [ ! -s ns.port ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
"$PROBE" >ns.out 2>ns.err
status=$?
kill $pid
exit $status
EOT

test_expect_success NETNS 'container: RELATIVE_URI on 169.254.170.2, not through a proxy' '
	stub_config && : >stub.log &&
	AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/container/v2/credentials/0f1e2d \
		AWS_CONTAINER_AUTHORIZATION_TOKEN=Tokn-container http_proxy=http://127.0.0.1:1 \
		PROBE=$PROBE unshare -n /bin/bash netns.sh 169.254.170.2 &&
	mv ns.out relative.out && mv ns.err relative.err &&
	test_grep "\"Source\":\"container\",\"AccessKeyId\":\"ASIACONT0001\"" relative.out &&
	echo "GET container auth=ok" >expect &&
	test_cmp expect stub.log
'

test_expect_success NETNS 'IMDSv2 at its default address, 169.254.169.254' '
	stub_config && : >stub.log &&
	AWS_EC2_METADATA_DISABLED=false PROBE=$PROBE unshare -n /bin/bash netns.sh 169.254.169.254 &&
	mv ns.out default-imds.out && mv ns.err default-imds.err &&
	test_grep "\"Source\":\"imds\",\"AccessKeyId\":\"ASIAIMDS0001\"" default-imds.out &&
	test_line_count = 3 stub.log
'

test_expect_success 'no secret or token in any output or error' '
	test_no_secrets
'

test_done
