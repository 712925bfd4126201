#!/bin/bash
# keep-last: usage errors (exit 2), bad or unsorted input (exit 3, FILE:LINE, nothing printed), I/O.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-dated.sh

good='{"ImageId":"ami-1","Role":"web","CreationDate":"2024-05-01T00:00:00Z"}'

# refuses LINE MESSAGE [OPTION...]: the line, after a good one, is bad data named in2:2; nothing printed.
refuses () {
	line_=$1 msg_=$2
	shift 2
	printf "%s\n" "$good" >in1 &&
	printf "%s\n%s\n" "$good" "$line_" >in2 &&
	test_expect_code 3 keep-last -n 0 --allow-zero "$@" in1 in2 >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "^keep-last: in2:2: $msg_" err
}

# usage_error ARG...: keep-last ARG... exits 2, says why on stderr, then how to get help, and
# prints nothing on stdout.
usage_error () {
	test_expect_code 2 keep-last "$@" <"$TRASH/sorted" >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^keep-last: " err &&
	tail -n 1 err >last &&
	test_grep "^Try 'keep-last --help'\$" last
}

test_expect_success 'setup' '
	printf "%s\n" "$good" >sorted
'

test_expect_success '-h prints usage on stdout and succeeds; --version' '
	keep-last -h >out 2>err &&
	test_grep "^usage: keep-last " out &&
	test_line_count = 0 err &&
	keep-last --help >out &&
	test_grep "^usage: keep-last " out &&
	keep-last --version >out &&
	test_grep "^keep-last (amicycle) [0-9]" out
'

test_expect_success 'unknown options and missing arguments' '
	usage_error --bogus &&
	test_grep "^keep-last: unrecognized option '\''--bogus'\''$" err &&
	usage_error -n &&
	test_grep "^keep-last: option requires an argument -- '\''n'\''$" err &&
	usage_error -x
'

test_expect_success '-n must be a number from 0 up' '
	usage_error -n -1 &&
	test_grep "^keep-last: -n: bad value .-1. (expected 0\.\.2147483647)$" err &&
	usage_error -n abc &&
	test_grep "^keep-last: -n: bad value .abc." err &&
	usage_error -n 5x &&
	usage_error -n "" &&
	usage_error -n 2147483648 &&
	usage_error -n 99999999999999999999
'

test_expect_success '-n 0 needs --allow-zero' '
	usage_error -n 0 &&
	test_grep "^keep-last: -n 0: no record is kept by count" err &&
	usage_error --count=0 --min-age 7d &&
	usage_error -n 00 &&
	keep-last -n 0 --allow-zero <sorted >out &&
	test_cmp sorted out
'

test_expect_success 'bad --min-age and --now values' '
	usage_error --min-age 7 &&
	test_grep "^keep-last: --min-age: bad value .7. (expected a duration" err &&
	usage_error --min-age 7x &&
	usage_error --min-age -7d &&
	usage_error --min-age "" &&
	usage_error --min-age 99999999999999999999d &&
	usage_error --now yesterday &&
	test_grep "^keep-last: --now: bad value .yesterday. (expected an RFC 3339 time" err &&
	usage_error --now 2024-05-01 &&
	usage_error --now 2024-02-30T00:00:00Z
'

test_expect_success '--kept and --explain together' '
	usage_error --kept --explain &&
	test_grep "^keep-last: --kept and --explain cannot be used together$" err
'

test_expect_success 'a lone high surrogate escape: nothing printed, also with --explain and -k' '
	bad="{\"ImageId\":\"ami-2\",\"Role\":\"\\ud800\",\"CreationDate\":\"2024-05-02T00:00:00Z\"}" &&
	refuses "$bad" "not valid JSON: Invalid .uXXXX.uXXXX surrogate pair escape" &&
	refuses "$bad" "not valid JSON" --explain &&
	refuses "$bad" "not valid JSON" -k "(.CreationDate)" &&
	refuses "$bad" "not valid JSON" -g .Role --explain
'

test_expect_success 'expressions jq cannot compile' '
	test_expect_code 2 keep-last -g ".Role |" <sorted >out 2>err &&
	test_grep "^keep-last: -g: .Role |: " err &&
	test_expect_code 2 keep-last -k "][" <sorted >out 2>err &&
	test_grep "^keep-last: -k: \]\[: " err &&
	test_line_count = 0 out
'

test_expect_success 'records out of date order are refused, naming both' '
	cat >unsorted <<-\EOF &&
	{"ImageId":"ami-1","CreationDate":"2024-05-01T00:00:00Z"}
	{"ImageId":"ami-2","CreationDate":"2024-05-03T00:00:00Z"}
	{"ImageId":"ami-3","CreationDate":"2024-05-02T00:00:00Z"}
	EOF
	test_expect_code 3 keep-last -n 1 unsorted >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^keep-last: unsorted:3: older than the record at unsorted:2: each group must be in ascending date order (sort-by-date)$" err &&
	test_expect_code 3 keep-last -n 1 --kept unsorted >out 2>err &&
	test_line_count = 0 out &&
	test_expect_code 3 keep-last -n 1 --explain unsorted >out 2>err &&
	test_line_count = 0 out
'

test_expect_success 'newest first (sort-by-date -r output) is refused' '
	sort-by-date -r unsorted >reversed &&
	test_expect_code 3 keep-last -n 1 reversed >out 2>err &&
	test_grep "^keep-last: reversed:2: older than the record at reversed:1" err &&
	test_line_count = 0 out
'

test_expect_success 'order is checked by instant, not as strings' '
	cat >offsets <<-\EOF &&
	{"ImageId":"ami-1","CreationDate":"2024-05-01T11:00:00Z"}
	{"ImageId":"ami-2","CreationDate":"2024-05-01T12:30:00+02:00"}
	EOF
	test_expect_code 3 keep-last -n 1 offsets >out 2>err &&
	test_grep "^keep-last: offsets:2: older than the record at offsets:1" err &&
	test_line_count = 0 out
'

test_expect_success 'order is checked within groups only; the group is named' '
	cat >groups <<-\EOF &&
	{"ImageId":"ami-1","Role":"web","CreationDate":"2024-05-03T00:00:00Z"}
	{"ImageId":"ami-2","Role":"api","CreationDate":"2024-05-01T00:00:00Z"}
	{"ImageId":"ami-3","Role":"web","CreationDate":"2024-05-04T00:00:00Z"}
	{"ImageId":"ami-4","Role":"api","CreationDate":"2024-05-02T00:00:00Z"}
	EOF
	keep-last -n 1 -g .Role groups >out &&
	test_ids out ImageId ami-1 ami-2 &&
	test_expect_code 3 keep-last -n 1 groups >out 2>err &&
	test_grep "^keep-last: groups:2: older than the record at groups:1: " err &&
	echo "{\"ImageId\":\"ami-5\",\"Role\":\"api\",\"CreationDate\":\"2024-05-01T12:00:00Z\"}" >>groups &&
	test_expect_code 3 keep-last -n 1 -g .Role groups >out 2>err &&
	test_grep "^keep-last: groups:5: older than the record at groups:4 in group \"api\": " err &&
	test_line_count = 0 out
'

test_expect_success 'an unsorted record late in a large input: still nothing printed' '
	{ dated_records 20000 && echo "{\"CreationDate\":\"2024-05-01T00:00:00Z\"}"; } >late &&
	test_expect_code 3 keep-last -n 1 late >out 2>err &&
	test_grep "^keep-last: late:20001: older than the record at late:20000" err &&
	test_line_count = 0 out
'

test_expect_success 'the unsorted record in a second file is named by that file' '
	sort-by-date unsorted >s1 &&
	echo "{\"ImageId\":\"ami-0\",\"CreationDate\":\"2024-04-01T00:00:00Z\"}" >s2 &&
	test_expect_code 3 keep-last -n 1 s1 s2 >out 2>err &&
	test_grep "^keep-last: s2:1: older than the record at s1:3" err
'

test_expect_success 'lines that are not JSON objects' '
	refuses "{\"CreationDate\":" "not valid JSON" &&
	refuses "[\"2024-05-01T00:00:00Z\"]" "not a JSON object (a JSON array)$" &&
	refuses "\"2024-05-01T00:00:00Z\"" "not a JSON object (a JSON string)$" &&
	refuses "{} {}" "not valid JSON"
'

test_expect_success 'a missing, null, wrongly typed or unparseable date' '
	refuses "{\"ImageId\":\"ami-2\"}" "-k .CreationDate: null or missing$" &&
	refuses "{\"CreationDate\":null}" "-k .CreationDate: null or missing$" &&
	refuses "{\"CreationDate\":1714521600}" "-k .CreationDate: a number, not an RFC 3339 time$" &&
	refuses "{\"CreationDate\":\"2024-05-02\"}" "-k .CreationDate: not an RFC 3339 time: \"2024-05-02\"$"
'

test_expect_success 'a group expression that fails or yields nothing' '
	refuses "{\"CreationDate\":\"2024-05-02T00:00:00Z\",\"Role\":5}" \
		"-g .Role | ascii_downcase: explode input must be a string$" -g ".Role | ascii_downcase" &&
	refuses "{\"CreationDate\":\"2024-05-02T00:00:00Z\"}" "-g .Role // empty produced no value$" -g ".Role // empty"
'

test_expect_success 'invalid UTF-8' '
	refuses "$(printf "{\"CreationDate\":\"2024-05-02T00:00:00Z\",\"Name\":\"\\200\"}")" "not valid UTF-8$" &&
	refuses "$(printf "{\"CreationDate\":\"2024-05-02T00:00:00Z\",\"Name\":\"\\364\\220\\200\\200\"}")" "not valid UTF-8$" -g .Name
'

test_expect_success 'a bad 10 MB line is named with a short message' '
	big_line "{\"Blob\":\"" "\",\"CreationDate\":\"2024-05-01T00:00:00Z\"" >big &&
	test_expect_code 3 keep-last big >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^keep-last: big:1: not valid JSON" err &&
	test $(wc -c <err) -lt 300
'

test_expect_success 'an input that cannot be opened exits 1' '
	test_expect_code 1 keep-last sorted no-such-file >out 2>err &&
	test_grep "^keep-last: no-such-file: No such file or directory$" err &&
	test_line_count = 0 out
'

test_expect_success 'a reader that stops early is not an error, also with --explain' '
	dated_records 50000 >many &&
	{ keep-last -n 1 many 2>err; echo $? >status; } | head -1 >out &&
	echo 0 >expect &&
	test_cmp expect status &&
	test_line_count = 0 err &&
	head -1 many >expect &&
	test_cmp expect out &&
	{ keep-last -n 1 --explain many 2>err; echo $? >status; } | head -1 >out &&
	echo 0 >expect &&
	test_cmp expect status &&
	test_line_count = 0 err &&
	test_line_count = 1 out
'

test_expect_success 'a write error on stdout exits 1 with a message' '
	test_expect_code 1 keep-last -n 1 many >/dev/full 2>err &&
	test_grep "^keep-last: stdout: No space left on device$" err &&
	test_expect_code 1 keep-last -n 1 --explain many >/dev/full 2>err &&
	test_grep "^keep-last: stdout: No space left on device$" err &&
	test_expect_code 1 keep-last -n 0 --allow-zero sorted >/dev/full 2>err &&
	test_grep "^keep-last: stdout: No space left on device$" err
'

test_done
