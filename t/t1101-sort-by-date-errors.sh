#!/bin/bash
# sort-by-date: usage errors (exit 2), bad input (exit 3, FILE:LINE, nothing printed), I/O (exit 0 and 1).
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-dated.sh

good='{"ImageId":"ami-1","CreationDate":"2024-05-01T00:00:00Z"}'

# refuses LINE MESSAGE: the line, after a good one, is bad data named in2:2, and nothing is printed.
refuses () {
	printf "%s\n" "$good" >in1 &&
	printf "%s\n%s\n" "$good" "$1" >in2 &&
	test_expect_code 3 sort-by-date in1 in2 >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "^sort-by-date: in2:2: $2" err
}

test_expect_success '-h prints usage on stdout and succeeds; --version' '
	sort-by-date -h >out 2>err &&
	test_grep "^usage: sort-by-date " out &&
	test_line_count = 0 err &&
	sort-by-date --help >out &&
	test_grep "^usage: sort-by-date " out &&
	sort-by-date --version >out &&
	test_grep "^sort-by-date (amicycle) [0-9]" out
'

test_expect_success 'usage errors exit 2, say why and how to get help on stderr' '
	test_expect_code 2 sort-by-date --bogus </dev/null >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^Try '\''sort-by-date --help'\''$" err &&
	test_expect_code 2 sort-by-date -k </dev/null >out 2>err &&
	test_grep "^sort-by-date: option requires an argument -- '\''k'\''$" err &&
	test_grep "^Try '\''sort-by-date --help'\''$" err &&
	test_expect_code 2 sort-by-date --undated=sometimes </dev/null >out 2>err &&
	test_grep "^sort-by-date: --undated: bad value .sometimes." err &&
	test_line_count = 0 out
'

test_expect_success 'a key expression jq cannot compile exits 2 before reading' '
	test_expect_code 2 sort-by-date -k ".CreationDate |" no-such-file >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^sort-by-date: -k: .CreationDate |: " err &&
	test_expect_code 2 sort-by-date -k "nosuchfunction(1)" </dev/null 2>err &&
	test_grep "nosuchfunction" err
'

test_expect_success 'a line that is not JSON' '
	refuses "{\"ImageId\":\"ami-2\",\"CreationDate\":" "not valid JSON" &&
	refuses "ami-2 2024-05-01" "not valid JSON"
'

test_expect_success 'a lone high surrogate escape, as libjq refuses it, with and without -k' '
	bad="{\"Name\":\"\\ud800\",\"CreationDate\":\"2024-05-02T00:00:00Z\"}" &&
	refuses "$bad" "not valid JSON: Invalid .uXXXX.uXXXX surrogate pair escape" &&
	test_expect_code 3 sort-by-date -k "(.CreationDate)" in1 in2 >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^sort-by-date: in2:2: not valid JSON" err
'

test_expect_success 'a lone low surrogate escape is taken, as libjq takes it' '
	printf "%s\n" "{\"Name\":\"\\udc00\",\"CreationDate\":\"2024-05-02T00:00:00Z\"}" >low &&
	sort-by-date low >out &&
	test_line_count = 1 out
'

test_expect_success 'a JSON array, string, number or null line' '
	refuses "[1,2]" "not a JSON object (a JSON array)" &&
	refuses "\"ami-2\"" "not a JSON object (a JSON string)" &&
	refuses "42" "not a JSON object (a JSON number)" &&
	refuses "null" "not a JSON object (a JSON null)"
'

test_expect_success 'two values on one line' '
	refuses "$good $good" "not valid JSON"
'

test_expect_success 'a missing, null or wrongly typed key' '
	refuses "{\"ImageId\":\"ami-2\"}" "-k .CreationDate: null or missing$" &&
	refuses "{\"ImageId\":\"ami-2\",\"CreationDate\":null}" "-k .CreationDate: null or missing$" &&
	refuses "{\"CreationDate\":1714521600}" "-k .CreationDate: a number, not an RFC 3339 time$" &&
	refuses "{\"CreationDate\":[\"2024-05-01T00:00:00Z\"]}" "-k .CreationDate: a array, not an RFC 3339 time$" &&
	refuses "{\"CreationDate\":{}}" "-k .CreationDate: a object, not an RFC 3339 time$" &&
	refuses "{\"CreationDate\":true}" "-k .CreationDate: a boolean, not an RFC 3339 time$"
'

test_expect_success 'a key that is not an RFC 3339 time' '
	refuses "{\"CreationDate\":\"2024-05-01\"}" "-k .CreationDate: not an RFC 3339 time: \"2024-05-01\"$" &&
	refuses "{\"CreationDate\":\"2024-05-01 00:00:00Z\"}" "-k .CreationDate: not an RFC 3339 time" &&
	refuses "{\"CreationDate\":\"2024-02-30T00:00:00Z\"}" "-k .CreationDate: not an RFC 3339 time" &&
	refuses "{\"CreationDate\":\"2024-05-01T00:00:00\"}" "-k .CreationDate: not an RFC 3339 time" &&
	refuses "{\"CreationDate\":\"\"}" "-k .CreationDate: not an RFC 3339 time: \"\"$" &&
	refuses "{\"CreationDate\":\"tab\\there\"}" "-k .CreationDate: not an RFC 3339 time: \"tab\\\\there\"$"
'

test_expect_success 'a long bad key is quoted shortly' '
	long=$(printf "%0200d" 0) &&
	refuses "{\"CreationDate\":\"$long\"}" "-k .CreationDate: not an RFC 3339 time: \"0\{64\}\"\.\.\.$"
'

test_expect_success 'a key expression that fails or yields nothing' '
	printf "%s\n" "$good" >in &&
	test_expect_code 3 sort-by-date -k empty in >out 2>err &&
	test_grep "^sort-by-date: in:1: -k empty produced no value$" err &&
	test_expect_code 3 sort-by-date -k "error(\"no date\")" in >out 2>err &&
	test_grep "^sort-by-date: in:1: -k error(\"no date\"): no date$" err &&
	test_line_count = 0 out
'

test_expect_success 'a -k path through a string fails with the message of jq' '
	printf "%s\n" "{\"CreationDate\":\"2024-05-01T00:00:00Z\",\"Packer\":\"p\"}" >in &&
	test_expect_code 3 sort-by-date -k .Packer.BuildTime in >out 2>err &&
	test_grep "^sort-by-date: in:1: -k .Packer.BuildTime: Cannot index string with string \"BuildTime\"$" err &&
	test_line_count = 0 out
'

test_expect_success 'invalid UTF-8 and NUL bytes' '
	refuses "$(printf "{\"CreationDate\":\"2024-05-01T00:00:00Z\",\"Name\":\"\\377\"}")" "not valid UTF-8" &&
	refuses "$(printf "{\"CreationDate\":\"2024-05-01T00:00:00Z\",\"Name\":\"\\300\\200\"}")" "not valid UTF-8" &&
	refuses "$(printf "{\"CreationDate\":\"2024-05-01T00:00:00Z\",\"Name\":\"\\355\\240\\200\"}")" "not valid UTF-8" &&
	printf "{\"CreationDate\":\"2024-05-01T00:00:00Z\",\"N\":\"a\\000b\"}\n" >in &&
	test_expect_code 3 sort-by-date in >out 2>err &&
	test_grep "^sort-by-date: in:1: NUL byte in line$" err &&
	test_line_count = 0 out
'

test_expect_success 'a bad line after many good ones: still nothing printed' '
	{ dated_records 20000 && echo "[]"; } >in &&
	test_expect_code 3 sort-by-date in >out 2>err &&
	test_grep "^sort-by-date: in:20001: not a JSON object" err &&
	test_line_count = 0 out
'

test_expect_success 'a bad 10 MB line is named with a short message' '
	big_line "{\"Blob\":\"" "\",\"CreationDate\":}" >in &&
	test_expect_code 3 sort-by-date in >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^sort-by-date: in:1: not valid JSON" err &&
	test $(wc -c <err) -lt 300
'

test_expect_success 'CRLF on a bad line: the message still names it' '
	printf "%s\r\n[1]\r\n" "$good" >in &&
	test_expect_code 3 sort-by-date in >out 2>err &&
	test_grep "^sort-by-date: in:2: not a JSON object (a JSON array)$" err
'

test_expect_success 'an input that cannot be opened or read exits 1' '
	test_expect_code 1 sort-by-date no-such-file >out 2>err &&
	test_grep "^sort-by-date: no-such-file: No such file or directory$" err &&
	mkdir adir &&
	test_expect_code 1 sort-by-date adir >out 2>err &&
	test_grep "^sort-by-date: adir: Is a directory$" err &&
	test_line_count = 0 out
'

test_expect_success 'a reader that stops early is not an error' '
	dated_records 50000 >in &&
	{ sort-by-date in 2>err; echo $? >status; } | head -1 >out &&
	echo 0 >expect &&
	test_cmp expect status &&
	test_line_count = 0 err &&
	head -1 in >expect &&
	test_cmp expect out
'

test_expect_success 'a write error on stdout exits 1 with a message' '
	test_expect_code 1 sort-by-date in >/dev/full 2>err &&
	test_grep "^sort-by-date: stdout: No space left on device$" err &&
	printf "%s\n" "$good" >small &&
	test_expect_code 1 sort-by-date small >/dev/full 2>err &&
	test_grep "^sort-by-date: stdout: No space left on device$" err
'

test_expect_success 'a whole AWS CLI document, not lines: the error says how to get lines' '
	jq -n "{Images: [{ImageId: \"ami-1\", CreationDate: \"2024-05-01T00:00:00Z\"}]}" >images.json &&
	test_expect_code 3 sort-by-date images.json >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "^sort-by-date: images.json:1: not valid JSON: .*; this is one whole JSON document, not JSON lines: pipe it through jq -c '\''\.Images\[\]'\''$" err &&
	jq -n "{Reservations: [{Instances: []}]}" >res.json &&
	test_expect_code 3 sort-by-date <res.json 2>err &&
	test_grep "^sort-by-date: stdin:1: .*pipe it through jq -c '\''\.Reservations\[\]\.Instances\[\]'\''$" err &&
	jq -n "{Snapshots: []}" | test_expect_code 3 sort-by-date 2>err &&
	test_grep "pipe it through jq -c '\''\.Snapshots\[\]'\''$" err &&
	jq -n "{Other: []}" >other.json &&
	test_expect_code 3 sort-by-date other.json 2>err &&
	test_grep "one whole JSON document, not JSON lines: pipe it through jq -c with the path to its records" err &&
	jq -n "[{}]" >array.json &&
	test_expect_code 3 sort-by-date array.json 2>err &&
	test_grep "such as '\''\.\[\]'\''$" err
'

test_expect_success 'a leading UTF-8 byte-order mark (of each input) is stripped, not passed on' '
	printf "\357\273\277%s\n" "$good" >bom.jsonl &&
	sort-by-date bom.jsonl >out &&
	printf "%s\n" "$good" >expect &&
	test_cmp expect out &&
	sort-by-date bom.jsonl - <bom.jsonl >out &&
	printf "%s\n%s\n" "$good" "$good" >expect &&
	test_cmp expect out
'

test_done
