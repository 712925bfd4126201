#!/bin/bash
# ec2-describe against a hostile endpoint: garbage, cut, oversized, endless and dripping bodies, a
# repeated NextToken, line breaks in error messages, timestamps past year 9999. Every reader (images,
# instances, snapshots, and the refresh by id) ends with exit 1, one diagnostic line, nothing on stdout,
# and a bounded peak RSS (never a bounded time: the drip is ended by AMICYCLE_HTTP_TIMEOUT_MS).
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {
    "Images": [{"ImageId": "ami-0a000000000000001", "Name": "web-1", "CreationDate": "2024-05-01T12:00:00.000Z"}],
    "Snapshots": [{"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8, "StartTime": "2024-05-01T11:00:00.000Z"}],
    "Instances": [{"InstanceId": "i-0a000000000000001", "ImageId": "ami-0a000000000000001",
                   "InstanceType": "t3.micro", "LaunchTime": "2024-05-02T10:00:00.000Z"}]
  },
  "eu-west-1": {}, "eu-central-1": {}, "ap-south-1": {}
}}
EOF

# Peak RSS bounds, in kB: a small answer, and one stopped at the 256 MiB cap on held bodies.
SMALL=65536
CAPPED=327680

# rss_under BOUND: the peak RSS /usr/bin/time wrote to ./rss is under BOUND kB. Under the sanitizers
# (make check SANITIZE=1) it is AddressSanitizer's memory that is measured (its realloc always copies,
# its quarantine keeps what was freed), so there only the behaviour is checked.
if ldd "$AMICYCLE_BUILD/bin/ec2-describe" | grep -q libasan; then
	rss_under () { :; }
else
	rss_under () {
		rss_=$(tail -n 1 rss)
		if [ "$rss_" -ge "$1" ]; then
			echo "peak RSS $rss_ kB, over $1 kB" >&2
			return 1
		fi
	}
fi

# hostile READER FAULT PATTERN [BOUND]: with FAULT (JSON) on every request, READER (images, instances,
# snapshots, or refresh-KIND for `ec2-describe KIND -`) exits 1, prints nothing, says PATTERN after
# "ec2-describe: us-east-1: ACTION: " on its one line of stderr, and peaks under BOUND kB.
hostile () {
	ec2_admin DELETE /_admin/faults >/dev/null &&
	ec2_fault "$2" &&
	case $1 in
	refresh-*)
		test_expect_code 1 /usr/bin/time -f %M -o rss ec2-describe "${1#refresh-}" - \
			<"${1#refresh-}.jsonl" >out 2>err ;;
	*)
		test_expect_code 1 /usr/bin/time -f %M -o rss ec2-describe "$1" >out 2>err ;;
	esac &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "^ec2-describe: us-east-1: Describe[A-Za-z]*: $3" err &&
	rss_under "${4:-$SMALL}"
}

READERS="images instances snapshots refresh-images refresh-instances refresh-snapshots"

test_expect_success 'start the local EC2 endpoint; records to refresh' '
	ec2_start seed.json &&
	ec2-describe images >images.jsonl &&
	ec2-describe instances >instances.jsonl &&
	ec2-describe snapshots >snapshots.jsonl &&
	test_line_count = 1 images.jsonl &&
	test_line_count = 1 instances.jsonl &&
	test_line_count = 1 snapshots.jsonl
'

test_expect_success 'a body that is not XML' '
	for r in $READERS; do
		hostile $r "{\"Kind\":\"garbage\",\"Count\":10}" \
			"MalformedResponse: malformed XML response: not well-formed" || return 1
	done
'

test_expect_success 'a complete response holding half an XML document' '
	for r in $READERS; do
		hostile $r "{\"Kind\":\"cut\",\"Count\":10}" "MalformedResponse: malformed XML response: " ||
			return 1
	done
'

test_expect_success 'a body cut short of its Content-Length, after retries' '
	for r in $READERS; do
		hostile $r "{\"Kind\":\"truncate\",\"Count\":10}" "RequestError: response cut short: " ||
			return 1
	done
'

test_expect_success 'a 300 MiB body stops at the 256 MiB cap, without taking more memory' '
	for r in $READERS; do
		hostile $r "{\"Kind\":\"oversized\",\"Count\":10}" \
			"ResponseTooLarge: response larger than 256 MiB (request id " $CAPPED || return 1
	done
'

test_expect_success 'a body that never ends stops at the cap too' '
	for r in $READERS; do
		hostile $r "{\"Kind\":\"endless\",\"Count\":10}" "ResponseTooLarge: response larger than 256 MiB" \
			$CAPPED || return 1
	done
'

test_expect_success 'four regions of 1 GiB bodies at once: 256 MiB for them all' '
	ec2_admin DELETE /_admin/faults >/dev/null &&
	ec2_fault "{\"Kind\":\"oversized\",\"Size\":1073741824,\"Count\":4}" &&
	test_expect_code 1 /usr/bin/time -f %M -o rss ec2-describe images --region us-east-1 \
		--region eu-west-1 --region eu-central-1 --region ap-south-1 >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^ec2-describe: [a-z0-9-]*: DescribeImages: ResponseTooLarge: response larger than " err &&
	rss_under $CAPPED
'

test_expect_success 'a body that drips forever ends at AMICYCLE_HTTP_TIMEOUT_MS' '
	for r in $READERS; do
		AWS_MAX_ATTEMPTS=1 AMICYCLE_HTTP_TIMEOUT_MS=1000 \
		hostile $r "{\"Kind\":\"drip\",\"DelayMs\":50,\"Count\":10}" \
			"RequestError: Operation timed out after 1[0-9][0-9][0-9] milliseconds" || return 1
	done
'

test_expect_success 'a NextToken that comes back again ends the listing' '
	for r in $READERS; do
		hostile $r "{\"Kind\":\"repeat-token\",\"Count\":10}" \
			"PaginationError: the endpoint sent the same NextToken twice (request id " || return 1
	done &&
	ec2_admin DELETE /_admin/faults >/dev/null &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"repeat-token\",\"Count\":10}" &&
	test_expect_code 1 ec2-describe images >out 2>err &&
	test "$(ec2_count DescribeImages)" = 2
'

test_expect_success 'a listing whose every page has a new NextToken ends at the page cap' '
	for r in images instances snapshots; do
		AMICYCLE_MAX_PAGES=5 \
		hostile $r "{\"Kind\":\"fresh-token\",\"Count\":100}" \
			"PaginationError: more than 5 pages: the endpoint does not stop paging" || return 1
	done &&
	ec2_admin DELETE /_admin/faults >/dev/null &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"fresh-token\",\"Count\":100}" &&
	AMICYCLE_MAX_PAGES=5 test_expect_code 1 ec2-describe images >out 2>err &&
	test "$(ec2_count DescribeImages)" = 5 &&
	test_line_count = 0 out
'

test_expect_success 'line breaks in an error message, code or request id stay on one line' '
	for r in $READERS; do
		hostile $r "{\"Kind\":\"newlines\",\"Count\":10}" \
			"Injected Code: first line ec2-describe: us-east-1: DescribeImages: Forged: a second diagnostic  and a third (request id [-0-9a-f]* forged)$" ||
			return 1
	done
'

test_expect_success 'timestamps past year 9999 are a bad response' '
	for r in instances snapshots refresh-instances refresh-snapshots; do
		hostile $r "{\"Kind\":\"bad-time\",\"Count\":10}" \
			"MalformedResponse: bad response: a timestamp expected, got \"99999999999999\"" || return 1
	done
'

test_expect_success 'an image has no timestamp in the model: its dates are strings, as the CLI shows them' '
	ec2_admin DELETE /_admin/faults >/dev/null &&
	ec2_fault "{\"Kind\":\"bad-time\",\"Count\":10}" &&
	ec2-describe images >out &&
	test "$(jq -r .CreationDate out)" = 99999999999999
'

test_expect_success 'a valid listing of ten pages is held as its text, not as jv (9 MB of output)' '
	ec2_admin DELETE /_admin/faults >/dev/null &&
	jq -n "{Regions: {\"eu-west-1\": {Images: [range(10000) | {ImageId: (\"ami-0\\(1000000000000000 + .)\"),
		Name: \"img-\\(.)\", CreationDate: \"2024-01-01T00:00:00.000Z\",
		Tags: [range(20) | {Key: \"key-\\(.)\", Value: \"value-\\(.)\"}]}]}}}" >big.json &&
	ec2_seed big.json merge &&
	ec2_reset_counts &&
	/usr/bin/time -f %M -o rss ec2-describe images --region eu-west-1 >out &&
	test_line_count = 10000 out &&
	test "$(ec2_count DescribeImages)" = 10 &&
	rss_under 81920
'

test_expect_success 'without faults, every reader works again' '
	ec2_admin DELETE /_admin/faults >/dev/null &&
	for r in images instances snapshots; do
		ec2-describe $r >out &&
		test_cmp $r.jsonl out || return 1
	done
'

test_done
