# lib-ec2.sh: start, drive and stop the local EC2 endpoint (t/ec2-endpoint.py) from a test script.
# Source it after test-lib.sh:
#
#   . "$(dirname "$0")"/test-lib.sh
#   . "$TEST_DIR"/lib-ec2.sh
#   ec2_start seed.json                    (or no seed: an empty account)
#   ec2_start seed.json --bucket DeregisterImage=20/5 --rtt 40    (more `serve` options: EC2's token
#                                          buckets, --throttle for all of them, added latency)
#   ec2_fault DescribeImages throttle 2    (or a JSON fault: ec2_fault '{"Kind":"drop-after","Action":"CopyImage"}')
#   ec2_count DescribeImages [REGION]      prints how many DescribeImages requests arrived
#   ec2_await CopyImage [REGION]           waits for the first CopyImage request
#
# ec2_start exports EC2_URL (the endpoint, http://127.0.0.1:PORT), AWS_ENDPOINT_URL_EC2,
# AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL_AUTO_SCALING and AWS_ENDPOINT_URL_SSM (all EC2_URL: the one
# port serves EC2, STS, Auto Scaling and SSM), AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the test key the
# endpoint always knows), AWS_REGION=us-east-1, and EC2_DIR (the endpoint's port, pid and log files).
# The endpoint is stopped when the script ends (test_atexit), or by ec2_stop. A start that fails is
# reported on stderr with the endpoint's own messages, and ec2_start returns 1: it never hangs.

# Outside the test harness (share/demo), TEST_DIR, TRASH and PYTHON may be unset: then this file's
# directory, a fresh temporary directory and /usr/bin/python3, and nothing is stopped automatically.
EC2_ENDPOINT=${TEST_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}/ec2-endpoint.py
EC2_TEST_ACCESS_KEY_ID=AKIAAMICYCLETEST0001
EC2_TEST_SECRET_ACCESS_KEY=amicycle-secret-test-0001

# ec2_start [SEEDFILE [SERVE-OPTION]...]   (SEEDFILE may be "" for none)
ec2_start () {
	ec2_stop
	EC2_DIR=${TRASH:-$(mktemp -d)}/.ec2-endpoint
	rm -rf "$EC2_DIR" && mkdir -p "$EC2_DIR" || return 1
	ec2_seed_=${1:-}
	[ $# -gt 0 ] && shift
	"${PYTHON:-/usr/bin/python3}" "$EC2_ENDPOINT" serve --port-file "$EC2_DIR/port" --pid-file "$EC2_DIR/pid" \
		--log "$EC2_DIR/log" ${ec2_seed_:+--seed "$ec2_seed_"} "$@" </dev/null >"$EC2_DIR/stderr" 2>&1 &
	EC2_PID=$!
	if command -v test_atexit >/dev/null; then
		test_atexit ec2_stop
	fi
	# Up to 10 s for the port file, which appears only once the server listens.
	ec2_i_=0
	while ! [ -s "$EC2_DIR/port" ]; do
		if ! kill -0 "$EC2_PID" 2>/dev/null; then
			echo "ec2_start: the endpoint exited before listening:" >&2
			cat "$EC2_DIR/stderr" >&2
			return 1
		fi
		ec2_i_=$((ec2_i_ + 1))
		if [ $ec2_i_ -gt 200 ]; then
			echo "ec2_start: the endpoint did not start within 10 s:" >&2
			cat "$EC2_DIR/stderr" >&2
			return 1
		fi
		sleep 0.05
	done
	EC2_PORT=$(cat "$EC2_DIR/port")
	EC2_URL=http://127.0.0.1:$EC2_PORT
	if ! ec2_admin GET /_admin/ping >/dev/null; then
		echo "ec2_start: the endpoint does not answer on $EC2_URL:" >&2
		cat "$EC2_DIR/stderr" >&2
		return 1
	fi
	AWS_ENDPOINT_URL_EC2=$EC2_URL
	AWS_ENDPOINT_URL_STS=$EC2_URL
	AWS_ENDPOINT_URL_AUTO_SCALING=$EC2_URL
	AWS_ENDPOINT_URL_SSM=$EC2_URL
	AWS_ACCESS_KEY_ID=$EC2_TEST_ACCESS_KEY_ID
	AWS_SECRET_ACCESS_KEY=$EC2_TEST_SECRET_ACCESS_KEY
	AWS_REGION=us-east-1
	export EC2_URL EC2_PORT EC2_DIR AWS_ENDPOINT_URL_EC2 AWS_ENDPOINT_URL_STS AWS_ENDPOINT_URL_AUTO_SCALING \
		AWS_ENDPOINT_URL_SSM AWS_ACCESS_KEY_ID \
		AWS_SECRET_ACCESS_KEY AWS_REGION
}

# ec2_stop: SIGTERM, then up to 5 s for a clean exit, then SIGKILL. Only the endpoint this script started.
ec2_stop () {
	[ -n "$EC2_PID" ] || return 0
	kill "$EC2_PID" 2>/dev/null
	ec2_i_=0
	while kill -0 "$EC2_PID" 2>/dev/null && [ $ec2_i_ -lt 100 ]; do
		sleep 0.05
		ec2_i_=$((ec2_i_ + 1))
	done
	kill -9 "$EC2_PID" 2>/dev/null
	wait "$EC2_PID" 2>/dev/null
	EC2_PID=
	return 0
}

# ec2_admin METHOD PATH [JSON]: one admin call; prints the answer; fails on an HTTP error.
ec2_admin () {
	if [ $# -ge 3 ]; then
		curl -sS --fail-with-body --noproxy '*' --max-time 20 -X "$1" -H 'Content-Type: application/json' \
			--data-binary "$3" "$EC2_URL$2"
	else
		curl -sS --fail-with-body --noproxy '*' --max-time 20 -X "$1" "$EC2_URL$2"
	fi
}

# ec2_seed FILE [merge]: load a seed (replacing the state, or merged into it).
ec2_seed () {
	ec2_admin POST "/_admin/seed${2:+?merge=1}" "@$1" >/dev/null
}

# ec2_settings JSON: merge keys into the seed's Settings.
ec2_settings () {
	ec2_admin POST /_admin/settings "$1" >/dev/null
}

# ec2_fault JSON | ec2_fault ACTION KIND [COUNT]
ec2_fault () {
	if [ $# -ge 2 ]; then
		set -- "{\"Action\":\"$1\",\"Kind\":\"$2\",\"Count\":${3:-1}}"
	fi
	ec2_admin POST /_admin/faults "$1" >/dev/null
}

# ec2_count ACTION [REGION]: the number of ACTION requests so far (all regions, or REGION).
ec2_count () {
	ec2_admin GET "/_admin/counts?action=$1${2:+&region=$2}"
}

# ec2_await ACTION [REGION]: waits up to 10 s for the first ACTION request (since the counts were
# reset); fails if none came. For sending a signal to a filter once it is at work.
ec2_await () {
	ec2_i_=0
	while [ "$(ec2_count "$@")" = 0 ]; do
		ec2_i_=$((ec2_i_ + 1))
		[ $ec2_i_ -le 200 ] || return 1
		sleep 0.05
	done
}

# ec2_reset_counts: zero the counts and forget the recorded requests.
ec2_reset_counts () {
	ec2_admin DELETE /_admin/counts >/dev/null
}

# ec2_state [REGION]: the endpoint's state as JSON.
ec2_state () {
	ec2_admin GET "/_admin/state${1:+?region=$1}"
}

# ec2_requests: the requests received so far, as a JSON array (secrets redacted).
ec2_requests () {
	ec2_admin GET /_admin/requests
}

# ec2_throttled [ACTION]: the number of requests (of ACTION) refused by the endpoint's token buckets.
ec2_throttled () {
	ec2_admin GET /_admin/requests | jq --arg a "${1:-}" '[.[] | select(.Throttled and ($a == "" or .Action == $a))] | length'
}

# ec2_buckets [JSON]: the token buckets' settings and levels; with JSON ({"Throttle": true|false,
# "Buckets": {"ACTION": "CAPACITY/RATE"}}), change them first. Every change refills every bucket.
ec2_buckets () {
	if [ $# -ge 1 ]; then
		ec2_admin POST /_admin/buckets "$1"
	else
		ec2_admin GET /_admin/buckets
	fi
}

# ec2_console ID TEXT: console output for an instance id, an image id (its instances) or "default".
ec2_console () {
	jq -n --arg id "$1" --arg out "$2" '{Id: $id, Output: $out}' >"$EC2_DIR/console.json" &&
	ec2_admin POST /_admin/console "@$EC2_DIR/console.json" >/dev/null
}

# ec2_aws ARGS...: the real AWS CLI against the endpoint (no pager, JSON output).
ec2_aws () {
	AWS_PAGER= /usr/bin/aws --no-cli-pager --output json --endpoint-url "$EC2_URL" "$@"
}

# ec2_aws_model ARGS...: ec2_aws with the EC2 model the endpoint serves ($AMICYCLE_SHARED's, else
# t/data's) put before the CLI's own through AWS_DATA_PATH: Debian's aws-cli 2.9 bundles an EC2 model
# without DescribeImageReferences, LastLaunchedTime and the organization launch permissions.
ec2_aws_model () {
	ec2_models_=${AMICYCLE_SHARED:-${TEST_DIR:-$(dirname "$EC2_ENDPOINT")}/data}/aws/models
	mkdir -p "$EC2_DIR/cli-data/ec2/2016-11-15" &&
	cp "$ec2_models_/ec2-2016-11-15/service-2.json" "$EC2_DIR/cli-data/ec2/2016-11-15/" &&
	AWS_DATA_PATH=$EC2_DIR/cli-data ec2_aws "$@"
}

# ec2_query [-r REGION] [-s ec2|sts|autoscaling] ACTION [NAME=VALUE]...: one Query request signed by curl's own
# SigV4 (--aws-sigv4: an implementation independent of botocore's, which the endpoint verifies with).
# Prints the response body; returns 0 on HTTP 200, 1 otherwise; ec2_status prints the HTTP status
# and ec2_curl_exit curl's exit status.
# Uses AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), kept off the command line.
ec2_query () {
	ec2_region_=$AWS_REGION ec2_service_=ec2
	while :; do
		case "$1" in
		-r) ec2_region_=$2; shift 2 ;;
		-s) ec2_service_=$2; shift 2 ;;
		*) break ;;
		esac
	done
	ec2_version_=2016-11-15
	[ "$ec2_service_" = sts ] && ec2_version_=2011-06-15
	[ "$ec2_service_" = autoscaling ] && ec2_version_=2011-01-01
	ec2_action_=$1
	shift
	{
		printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
		if [ -n "$AWS_SESSION_TOKEN" ]; then
			printf 'header = "X-Amz-Security-Token: %s"\n' "$AWS_SESSION_TOKEN"
		fi
		printf 'data = "Action=%s&Version=%s"\n' "$ec2_action_" "$ec2_version_"
		for ec2_p_; do
			printf 'data-urlencode = "%s"\n' "$(printf '%s' "$ec2_p_" | sed 's/[\\"]/\\&/g')"
		done
	} >"$EC2_DIR/curl.conf" &&
	ec2_signed_ "$ec2_service_" </dev/null
}

# ec2_signed_ SERVICE: sends the request $EC2_DIR/curl.conf describes (and stdin's bytes, if any,
# as the body), signed for SERVICE in $ec2_region_; prints the body, keeps the status for ec2_status
# and ec2_curl_exit; returns 0 on HTTP 200.
ec2_signed_ () {
	ec2_code_=$(curl -sS --noproxy '*' --max-time 30 --aws-sigv4 "aws:amz:$ec2_region_:$1" \
		-K "$EC2_DIR/curl.conf" -o "$EC2_DIR/body" -w '%{http_code}' "$EC2_URL/")
	ec2_rc_=$?
	rm -f "$EC2_DIR/curl.conf"
	echo "$ec2_code_" >"$EC2_DIR/http_status"
	echo "$ec2_rc_" >"$EC2_DIR/curl_exit"
	[ -f "$EC2_DIR/body" ] && cat "$EC2_DIR/body"
	rm -f "$EC2_DIR/body"
	[ $ec2_rc_ = 0 ] && [ "$ec2_code_" = 200 ]
}

# ec2_status: the HTTP status of the last ec2_query (000 when no answer came).
ec2_status () {
	cat "$EC2_DIR/http_status"
}

# ec2_curl_exit: curl's exit status in the last ec2_query (52: no answer; 18: a truncated body).
ec2_curl_exit () {
	cat "$EC2_DIR/curl_exit"
}

# ec2_ssm [-r REGION] ACTION JSON: one SSM (JSON 1.1) request, X-Amz-Target AmazonSSM.ACTION, signed by
# curl's own SigV4 for service ssm. Prints the body; returns 0 on HTTP 200; ec2_status as for ec2_query.
ec2_ssm () {
	ec2_region_=$AWS_REGION
	if [ "$1" = -r ]; then
		ec2_region_=$2
		shift 2
	fi
	{
		printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
		if [ -n "$AWS_SESSION_TOKEN" ]; then
			printf 'header = "X-Amz-Security-Token: %s"\n' "$AWS_SESSION_TOKEN"
		fi
		printf 'header = "X-Amz-Target: AmazonSSM.%s"\n' "$1"
		printf 'header = "Content-Type: application/x-amz-json-1.1"\n'
		printf 'data-binary = "@-"\n'
	} >"$EC2_DIR/curl.conf" &&
	printf '%s' "$2" | ec2_signed_ ssm
}
