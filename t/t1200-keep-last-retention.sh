#!/bin/bash
# keep-last: which records are kept and which printed: -n, -g, --min-age with --now, --kept, --explain.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-dated.sh

# img I ROLE DATE: an image record.
img () {
	printf '{"ImageId":"ami-%s","Role":"%s","CreationDate":"%s"}\n' "$1" "$2" "$3"
}

test_expect_success 'setup: eight images of two roles, oldest first' '
	{
		img 1 web 2024-01-01T00:00:00.000Z &&
		img 2 api 2024-01-02T00:00:00.000Z &&
		img 3 web 2024-01-03T00:00:00.000Z &&
		img 4 web 2024-01-04T00:00:00.000Z &&
		img 5 api 2024-01-05T00:00:00.000Z &&
		img 6 web 2024-01-06T00:00:00.000Z &&
		img 7 web 2024-01-07T00:00:00.000Z &&
		img 8 web 2024-01-08T00:00:00.000Z
	} >in &&
	test_line_count = 8 in
'

test_expect_success 'by default the newest 5 are kept and the rest printed, byte for byte' '
	keep-last in >out &&
	head -3 in >expect &&
	test_cmp expect out
'

test_expect_success '-n N keeps the newest N' '
	keep-last -n 2 in >out &&
	head -6 in >expect &&
	test_cmp expect out &&
	keep-last --count=7 in >out &&
	head -1 in >expect &&
	test_cmp expect out
'

test_expect_success 'a group smaller than N: nothing printed' '
	keep-last -n 8 in >out &&
	test_line_count = 0 out &&
	keep-last -n 2147483647 in >out &&
	test_line_count = 0 out
'

test_expect_success '--kept prints the kept records instead, in input order' '
	keep-last -n 2 --kept in >out &&
	tail -2 in >expect &&
	test_cmp expect out
'

test_expect_success '-g groups: the newest N of each group are kept' '
	keep-last -n 2 -g .Role in >out &&
	test_ids out ImageId ami-1 ami-3 ami-4 ami-6 &&
	keep-last -n 2 --group=.Role --kept in >out &&
	test_ids out ImageId ami-2 ami-5 ami-7 ami-8
'

test_expect_success '-g with any jq expression, through libjq' '
	keep-last -n 1 -g ".ImageId | ltrimstr(\"ami-\") | tonumber % 2" in >out &&
	test_ids out ImageId ami-1 ami-2 ami-3 ami-4 ami-5 ami-6 &&
	keep-last -n 2 -g "{r: .Role}" in >a &&
	keep-last -n 2 -g ".Role" in >b &&
	test_cmp a b
'

test_expect_success 'groups compare as JSON: types differ, null is a group, escapes do not' '
	cat >g <<-\EOF &&
	{"i":1,"G":"1","CreationDate":"2024-01-01T00:00:00Z"}
	{"i":2,"G":1,"CreationDate":"2024-01-02T00:00:00Z"}
	{"i":3,"CreationDate":"2024-01-03T00:00:00Z"}
	{"i":4,"G":null,"CreationDate":"2024-01-04T00:00:00Z"}
	{"i":5,"G":"\u0031","CreationDate":"2024-01-05T00:00:00Z"}
	{"i":6,"G":1.0,"CreationDate":"2024-01-06T00:00:00Z"}
	{"i":7,"G":"a\u007f","CreationDate":"2024-01-07T00:00:00Z"}
	{"i":8,"G":"a","CreationDate":"2024-01-08T00:00:00Z"}
	EOF
	printf "{\"i\":9,\"G\":\"a\\177\",\"CreationDate\":\"2024-01-09T00:00:00Z\"}\n" >>g &&
	keep-last -n 1 -g .G g >out &&
	test_ids out i 1 2 3 7
'

test_expect_success 'equal dates are in order; ties go by input position' '
	{
		img 1 web 2024-01-01T00:00:00Z &&
		img 2 web 2024-01-01T00:00:00.000Z &&
		img 3 web 2024-01-01T01:00:00+01:00
	} >ties &&
	keep-last -n 1 ties >out &&
	test_ids out ImageId ami-1 ami-2
'

test_expect_success 'order is checked by instant: mixed offsets and fractions' '
	{
		img 1 web 2024-01-01T11:00:00Z &&
		img 2 web 2024-01-01T13:30:00+02:00 &&
		img 3 web 2024-01-01T11:30:00.5Z &&
		img 4 web 2024-01-01T06:31:00-05:00
	} >mixed &&
	keep-last -n 1 mixed >out &&
	test_ids out ImageId ami-1 ami-2 ami-3
'

test_expect_success '--min-age keeps young records, measured from --now' '
	keep-last -n 1 --min-age 3d --now 2024-01-08T12:00:00Z in >out &&
	test_ids out ImageId ami-1 ami-2 ami-3 ami-4 ami-5 &&
	keep-last -n 1 --min-age=85h --now=2024-01-08T12:00:00Z --kept in >out &&
	test_ids out ImageId ami-5 ami-6 ami-7 ami-8
'

test_expect_success '--min-age: exactly that old is not young; --now takes offsets' '
	keep-last -n 1 --min-age 2d --now 2024-01-08T00:00:00Z --kept in >out &&
	test_ids out ImageId ami-7 ami-8 &&
	keep-last -n 1 --min-age 2d --now 2024-01-08T00:00:00.000000001Z --kept in >out &&
	test_ids out ImageId ami-7 ami-8 &&
	keep-last -n 1 --min-age 2d --now 2024-01-07T23:59:59.999-00:00 --kept in >out &&
	test_ids out ImageId ami-6 ami-7 ami-8 &&
	keep-last -n 1 --min-age 1d12h --now 2024-01-08T01:00:00+01:00 --kept in >out &&
	test_ids out ImageId ami-7 ami-8
'

test_expect_success '--min-age without --now uses the clock: future records are young' '
	{
		img 1 web 2020-01-01T00:00:00Z &&
		img 2 web 2020-01-02T00:00:00Z &&
		img 3 web 2999-01-01T00:00:00Z
	} >future &&
	keep-last -n 0 --allow-zero --min-age 1s future >out &&
	test_ids out ImageId ami-1 ami-2
'

test_expect_success '-n 0 --allow-zero prints everything not young' '
	keep-last -n 0 --allow-zero in >out &&
	test_cmp in out &&
	keep-last -n 0 --allow-zero --min-age 3d --now 2024-01-08T12:00:00Z -g .Role in >out &&
	test_ids out ImageId ami-1 ami-2 ami-3 ami-4 ami-5
'

test_expect_success '--explain prints every record with its reason' '
	keep-last -n 2 -g .Role --min-age 3d --now 2024-01-08T12:00:00Z --explain in >out &&
	cat >expect <<-\EOF &&
	{"ImageId":"ami-1","Role":"web","CreationDate":"2024-01-01T00:00:00.000Z","Retention":{"Keep":false,"Reason":"older than the newest 2 in group \"web\", and not younger than 3d"}}
	{"ImageId":"ami-2","Role":"api","CreationDate":"2024-01-02T00:00:00.000Z","Retention":{"Keep":true,"Reason":"newest 2 in group \"api\""}}
	{"ImageId":"ami-3","Role":"web","CreationDate":"2024-01-03T00:00:00.000Z","Retention":{"Keep":false,"Reason":"older than the newest 2 in group \"web\", and not younger than 3d"}}
	{"ImageId":"ami-4","Role":"web","CreationDate":"2024-01-04T00:00:00.000Z","Retention":{"Keep":false,"Reason":"older than the newest 2 in group \"web\", and not younger than 3d"}}
	{"ImageId":"ami-5","Role":"api","CreationDate":"2024-01-05T00:00:00.000Z","Retention":{"Keep":true,"Reason":"newest 2 in group \"api\""}}
	{"ImageId":"ami-6","Role":"web","CreationDate":"2024-01-06T00:00:00.000Z","Retention":{"Keep":true,"Reason":"younger than 3d"}}
	{"ImageId":"ami-7","Role":"web","CreationDate":"2024-01-07T00:00:00.000Z","Retention":{"Keep":true,"Reason":"newest 2 in group \"web\""}}
	{"ImageId":"ami-8","Role":"web","CreationDate":"2024-01-08T00:00:00.000Z","Retention":{"Keep":true,"Reason":"newest 2 in group \"web\""}}
	EOF
	test_cmp expect out
'

test_expect_success '--explain without groups or --min-age, and with -n 0' '
	keep-last -n 7 --explain in >out &&
	jq -c .Retention out >got &&
	{
		echo "{\"Keep\":false,\"Reason\":\"older than the newest 7\"}" &&
		for i in 2 3 4 5 6 7 8; do echo "{\"Keep\":true,\"Reason\":\"newest 7\"}"; done
	} >expect &&
	test_cmp expect got &&
	keep-last -n 0 --allow-zero --explain ties >out &&
	jq -c .Retention out >got &&
	for i in 1 2 3; do echo "{\"Keep\":false,\"Reason\":\"-n 0 keeps none\"}"; done >expect &&
	test_cmp expect got
'

test_expect_success '--explain re-serialises compactly and replaces an old Retention' '
	printf "%s\n" "{ \"ImageId\" : \"ami-1\", \"Retention\": 1, \"n\": 1.50, \"CreationDate\": \"2024-01-01T00:00:00Z\" }" >spaced &&
	keep-last --explain spaced >out &&
	echo "{\"ImageId\":\"ami-1\",\"Retention\":{\"Keep\":true,\"Reason\":\"newest 5\"},\"n\":1.5,\"CreationDate\":\"2024-01-01T00:00:00Z\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'the date key can be another field (-k), fast or through libjq' '
	cat >k <<-\EOF &&
	{"i":1,"CreationDate":"2024-01-09T00:00:00Z","Packer":{"BuildTime":"2024-01-01T00:00:00Z"}}
	{"i":2,"CreationDate":"2024-01-01T00:00:00Z","Packer":{"BuildTime":"2024-01-02T00:00:00Z"}}
	{"i":3,"CreationDate":"2024-01-05T00:00:00Z","Packer":{"BuildTime":"2024-01-03T00:00:00Z"}}
	EOF
	keep-last -n 1 -k .Packer.BuildTime k >out &&
	test_ids out i 1 2 &&
	test_expect_code 3 keep-last -n 1 --key=.CreationDate k >out 2>err &&
	test_grep "^keep-last: k:2: " err
'

test_expect_success 'CRLF input; output lines end in LF' '
	sed "s/\$/\r/" in >crlf &&
	keep-last -n 2 crlf >out &&
	head -6 in >expect &&
	test_cmp expect out
'

test_expect_success 'empty input: nothing printed, success' '
	keep-last </dev/null >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 0 err &&
	keep-last --explain </dev/null >out &&
	test_line_count = 0 out
'

test_expect_success 'a 10 MB record passes through' '
	{
		big_line "{\"ImageId\":\"ami-big\",\"Blob\":\"" "\",\"CreationDate\":\"2024-01-01T00:00:00Z\"}" &&
		img 2 web 2024-01-02T00:00:00Z
	} >big &&
	keep-last -n 1 big >out &&
	head -1 big >expect &&
	cmp expect out
'

test_done
