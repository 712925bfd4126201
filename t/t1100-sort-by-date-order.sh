#!/bin/bash
# sort-by-date: the order it prints, stability, -r, -k, --undated, and bytes passed through.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-dated.sh

test_expect_success 'sorts oldest first, records passed through byte for byte' '
	cat >in <<-\EOF &&
	{"ImageId":"ami-c","CreationDate":"2024-05-03T00:00:00.000Z"}
	{ "ImageId" : "ami-a",  "CreationDate":"2024-05-01T00:00:00.000Z", "Name":"caf\u00e9 \u2603 é"}
	{"ImageId":"ami-b","Tags":[{"Key":"Role","Value":"web"}],"CreationDate":"2024-05-02T00:00:00.000Z","n":1.50}
	EOF
	sort-by-date in >out &&
	cat >expect <<-\EOF &&
	{ "ImageId" : "ami-a",  "CreationDate":"2024-05-01T00:00:00.000Z", "Name":"caf\u00e9 \u2603 é"}
	{"ImageId":"ami-b","Tags":[{"Key":"Role","Value":"web"}],"CreationDate":"2024-05-02T00:00:00.000Z","n":1.50}
	{"ImageId":"ami-c","CreationDate":"2024-05-03T00:00:00.000Z"}
	EOF
	test_cmp expect out
'

test_expect_success 'offsets compare by instant, not as strings' '
	cat >in <<-\EOF &&
	{"ImageId":"ami-1","CreationDate":"2024-05-01T12:30:00+02:00"}
	{"ImageId":"ami-2","CreationDate":"2024-05-01T11:00:00Z"}
	{"ImageId":"ami-3","CreationDate":"2024-05-01T05:00:00-05:00"}
	{"ImageId":"ami-4","CreationDate":"2024-04-30T23:59:59-01:00"}
	EOF
	sort-by-date in >out &&
	test_ids out ImageId ami-4 ami-3 ami-1 ami-2
'

test_expect_success 'fractional seconds of any length order correctly' '
	cat >in <<-\EOF &&
	{"i":1,"CreationDate":"2024-05-01T12:00:00.5Z"}
	{"i":2,"CreationDate":"2024-05-01T12:00:00.123456789Z"}
	{"i":3,"CreationDate":"2024-05-01T12:00:00Z"}
	{"i":4,"CreationDate":"2024-05-01T12:00:00.05Z"}
	{"i":5,"CreationDate":"2024-05-01T11:59:59.999Z"}
	EOF
	sort-by-date in >out &&
	test_ids out i 5 3 4 2 1
'

test_expect_success 'equal instants keep their input order (stable), also with -r' '
	cat >in <<-\EOF &&
	{"i":1,"CreationDate":"2024-05-02T00:00:00Z"}
	{"i":2,"CreationDate":"2024-05-01T00:00:00Z"}
	{"i":3,"CreationDate":"2024-05-02T02:00:00+02:00"}
	{"i":4,"CreationDate":"2024-05-01T00:00:00.000Z"}
	{"i":5,"CreationDate":"2024-05-02T00:00:00.0Z"}
	{"i":6,"CreationDate":"2024-05-01T00:00:00Z"}
	EOF
	sort-by-date in >out &&
	test_ids out i 2 4 6 1 3 5 &&
	sort-by-date -r in >out &&
	test_ids out i 1 3 5 2 4 6 &&
	sort-by-date --reverse in >out2 &&
	test_cmp out out2
'

test_expect_success 'stable on many equal keys, as jq sort_by is' '
	awk "BEGIN { for (i = 0; i < 3000; i++)
		printf \"{\\\"i\\\":%d,\\\"CreationDate\\\":\\\"2024-05-%02dT00:00:00.000Z\\\"}\n\", i, 1 + (i * 7) % 5 }" >in &&
	test_line_count = 3000 in &&
	sort-by-date in >out &&
	jq -c -s "sort_by(.CreationDate)[]" in >expect &&
	test_cmp expect out
'

test_expect_success 'matches jq sort_by on a larger set' '
	awk "BEGIN { srand(7); for (i = 0; i < 5000; i++)
		printf \"{\\\"ImageId\\\":\\\"ami-%05d\\\",\\\"CreationDate\\\":\\\"20%02d-%02d-%02dT%02d:%02d:%02d.000Z\\\"}\n\",
		i, 20 + int(rand() * 5), 1 + int(rand() * 12), 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60) }" >in &&
	sort-by-date in >out &&
	jq -c -s "sort_by(.CreationDate)[]" in >expect &&
	test_cmp expect out &&
	sort-by-date -r in >out &&
	jq -c -s "reverse | sort_by(.CreationDate) | reverse[]" in >expect &&
	test_cmp expect out
'

test_expect_success '-k takes any jq expression; fast and libjq paths agree' '
	cat >in <<-\EOF &&
	{"i":1,"Packer":{"BuildTime":"2024-05-03T00:00:00Z"},"CreationDate":"2024-05-01T00:00:00Z"}
	{"i":2,"Packer":{"BuildTime":"2024-05-01T00:00:00Z"},"CreationDate":"2024-05-03T00:00:00Z"}
	{"i":3,"Packer":{"BuildTime":"2024-05-02T00:00:00Z"},"CreationDate":"2024-05-02T00:00:00Z"}
	EOF
	sort-by-date -k .Packer.BuildTime in >out &&
	test_ids out i 2 3 1 &&
	sort-by-date --key=".CreationDate" in >fast &&
	sort-by-date -k ".CreationDate | ." in >slow &&
	test_cmp fast slow &&
	test_ids fast i 1 3 2
'

test_expect_success 'a key written with escapes or duplicated is read as jq reads it' '
	cat >in <<-\EOF &&
	{"i":1,"CreationDate":"2024-05-03T00:00:00Z"}
	{"i":2,"CreationDate":"2024\u002d05\u002d01T00:00:00Z"}
	{"i":3,"CreationDate":"2024-05-09T00:00:00Z","CreationDate":"2024-05-02T00:00:00Z"}
	{"i":4,"Creation\u0044ate":"2024-04-30T00:00:00Z"}
	EOF
	sort-by-date in >out &&
	test_ids out i 4 2 3 1
'

test_expect_success 'operands are read in order; - is stdin; blank lines are skipped' '
	echo "{\"i\":1,\"CreationDate\":\"2024-05-02T00:00:00Z\"}" >a &&
	printf "\n  \n{\"i\":2,\"CreationDate\":\"2024-05-02T00:00:00Z\"}\n\n" >b &&
	echo "{\"i\":3,\"CreationDate\":\"2024-05-01T00:00:00Z\"}" >c &&
	sort-by-date a - c <b >out &&
	test_ids out i 3 1 2
'

test_expect_success 'CRLF line ends are dropped; a last line without a newline is fine' '
	printf "{\"i\":1,\"CreationDate\":\"2024-05-02T00:00:00Z\"}\r\n{\"i\":2,\"CreationDate\":\"2024-05-01T00:00:00Z\"}" >in &&
	sort-by-date in >out &&
	printf "%s\n" "{\"i\":2,\"CreationDate\":\"2024-05-01T00:00:00Z\"}" "{\"i\":1,\"CreationDate\":\"2024-05-02T00:00:00Z\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'empty input prints nothing and succeeds' '
	sort-by-date </dev/null >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 0 err &&
	printf "\n\n" | sort-by-date >out &&
	test_line_count = 0 out
'

test_expect_success 'a 10 MB line is sorted like any other' '
	{
		big_line "{\"i\":1,\"Blob\":\"" "\",\"CreationDate\":\"2024-05-02T00:00:00Z\"}" &&
		echo "{\"i\":2,\"CreationDate\":\"2024-05-01T00:00:00Z\"}"
	} >in &&
	test $(wc -c <in) -gt 10000000 &&
	sort-by-date in >out &&
	jq -c -s "sort_by(.CreationDate)[]" in >expect &&
	cmp expect out
'

test_expect_success '--undated=first and last place records without a date, in input order' '
	cat >in <<-\EOF &&
	{"i":1,"CreationDate":"2024-05-02T00:00:00Z"}
	{"i":2}
	{"i":3,"CreationDate":"2024-05-01T00:00:00Z"}
	{"i":4,"CreationDate":null}
	{"i":5,"CreationDate":"yesterday"}
	{"i":6,"CreationDate":17}
	EOF
	sort-by-date --undated=first in >out &&
	test_ids out i 2 4 5 6 3 1 &&
	sort-by-date --undated=last in >out &&
	test_ids out i 3 1 2 4 5 6 &&
	sort-by-date -r --undated=last in >out &&
	test_ids out i 1 3 2 4 5 6 &&
	sort-by-date -r --undated=first -k ".CreationDate|ascii_downcase" in >out &&
	test_ids out i 2 4 5 6 1 3
'

test_expect_success '--undated=error is the default' '
	test_expect_code 3 sort-by-date in >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^sort-by-date: in:2: -k .CreationDate: null or missing$" err &&
	test_expect_code 3 sort-by-date --undated=error in >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^sort-by-date: in:2: -k .CreationDate: null or missing$" err
'

test_done
