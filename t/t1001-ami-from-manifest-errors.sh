#!/bin/bash
# ami-from-manifest: every exit status, malformed manifests (exit 3, nothing printed), usage.
. "$(dirname "$0")"/test-lib.sh

P=$SHARED/samples/packer
RUN=1d7c3e5a-0b9f-4a2e-9c6d-8e4f2a1b3c57

# bad_input MESSAGE: bad.json is bad input: exit 3, nothing on stdout, "PROG: bad.json: MESSAGE".
bad_input () {
	test_expect_code 3 ami-from-manifest bad.json >out 2>err &&
	test_cmp /dev/null out &&
	printf "ami-from-manifest: %s\n" "$1" >expect-err &&
	test_cmp expect-err err
}

# edit JQ: bad.json is the multi-run sample edited by the jq program JQ.
edit () {
	jq "$1" "$P/multi-run.json" >bad.json
}

test_expect_success '--help prints the usage on stdout and exits 0' '
	ami-from-manifest --help >out 2>err &&
	test_grep "^usage: ami-from-manifest \[--all-runs\] \[--build NAME\]\.\.\. \[FILE\]$" out &&
	test_cmp /dev/null err &&
	ami-from-manifest -h >out-h &&
	test_cmp out out-h
'

test_expect_success '--version' '
	ami-from-manifest --version >out &&
	test_grep "^ami-from-manifest (amicycle) [0-9]" out
'

test_expect_success 'usage errors exit 2, say why and how to get help on stderr, nothing on stdout' '
	test_expect_code 2 ami-from-manifest --no-such-option "$P/multi-run.json" >out 2>err &&
	test_cmp /dev/null out &&
	test_grep "^ami-from-manifest: unrecognized option '\''--no-such-option'\''$" err &&
	test_grep "^Try '\''ami-from-manifest --help'\''$" err &&
	test_expect_code 2 ami-from-manifest "$P/multi-run.json" "$P/multi-run.json" >out 2>err &&
	test_cmp /dev/null out &&
	test_grep "^ami-from-manifest: one manifest at most (2 files given)$" err &&
	test_grep "^Try '\''ami-from-manifest --help'\''$" err &&
	test_expect_code 2 ami-from-manifest "$P/multi-run.json" --build >out 2>err &&
	test_grep "requires an argument" err
'

test_expect_success 'a file that does not exist is an operation failure: exit 1' '
	test_expect_code 1 ami-from-manifest no-such.json >out 2>err &&
	test_cmp /dev/null out &&
	echo "ami-from-manifest: no-such.json: No such file or directory" >expect-err &&
	test_cmp expect-err err
'

test_expect_success 'a directory cannot be read: exit 1' '
	mkdir dir &&
	test_expect_code 1 ami-from-manifest dir >out 2>err &&
	echo "ami-from-manifest: dir: Is a directory" >expect-err &&
	test_cmp expect-err err
'

test_expect_success 'a write error on stdout is reported: exit 1' '
	test_expect_code 1 ami-from-manifest "$P/multi-run.json" >/dev/full 2>err &&
	test_grep "^ami-from-manifest: stdout: No space left on device$" err
'

test_expect_success 'a reader that stops early is no error' '
	jq "{builds: [range(3000) as \$i | .builds[2] | .name = \"b\(\$i)\"], last_run_uuid}" \
		"$P/multi-run.json" >many.json &&
	ami-from-manifest many.json >all &&
	test_line_count = 9000 all &&
	{ ami-from-manifest many.json; echo $? >status; } | head -n 1 >out &&
	head -n 1 all >expect &&
	test_cmp expect out &&
	echo 0 >expect-status &&
	test_cmp expect-status status
'

test_expect_success 'CRLF line ends are fine' '
	sed "s/\$/\r/" "$P/multi-run.json" >crlf.json &&
	test_grep "$(printf "\r")" crlf.json &&
	ami-from-manifest "$P/multi-run.json" >expect &&
	ami-from-manifest crlf.json >actual &&
	test_cmp expect actual
'

test_expect_success 'the manifest compact on one line, without a final newline' '
	jq -c . "$P/multi-run.json" | tr -d "\n" >one.json &&
	ami-from-manifest one.json >actual &&
	test_cmp expect actual
'

test_expect_success 'a 10 MB custom_data value passes through' '
	head -c 10000000 /dev/zero | tr "\0" x >big &&
	jq --rawfile big big ".builds[2] |= (.custom_data = {blob: \$big} |
		.artifact_id = \"us-east-1:ami-0c5d1e3f4a6b8c0d2\")" "$P/multi-run.json" >big.json &&
	ami-from-manifest --build worker big.json >actual &&
	test_line_count = 1 actual &&
	jq -j .Packer.CustomData.blob actual >blob &&
	cmp big blob
'

test_expect_success 'an empty file, or one of white space: exit 3' '
	: >bad.json &&
	bad_input "bad.json: empty input" &&
	printf " \r\n\t\n" >bad.json &&
	bad_input "bad.json: empty input"
'

test_expect_success 'not JSON: exit 3, naming the line jq names' '
	head -n 5 "$P/multi-run.json" >bad.json &&
	bad_input "bad.json:6: not valid JSON: Unfinished JSON term at EOF at line 6, column 0" &&
	sed "24s/\$/,/" "$P/multi-run.json" >bad.json &&
	bad_input "bad.json:25: not valid JSON: Expected another key-value pair at line 25, column 7"
'

# jq 1.6 leaks the value after a missing separator (value() in src/jv_parse.c returns its error
# without freeing it); the program exits at once, so only the sanitizers' leak check minds.
test_expect_success 'not JSON: a missing comma' '
	sed "9s/,\$//" "$P/multi-run.json" >bad.json &&
	ASAN_OPTIONS=detect_leaks=0 bad_input \
		"bad.json:10: not valid JSON: Expected separator between values at line 10, column 19"
'

test_expect_success 'a 10 MB bad manifest: the message does not quote the input' '
	{ printf "{\"builds\":[\""; head -c 10000000 /dev/zero | tr "\0" x; } >bad.json &&
	bad_input "bad.json:1: not valid JSON: Unfinished string at EOF at line 1, column 10000012"
'

test_expect_success 'two JSON documents in one file: exit 3' '
	cat "$P/multi-run.json" "$P/multi-run.json" >bad.json &&
	bad_input "bad.json: not valid JSON: Unexpected extra JSON values"
'

test_expect_success 'not a JSON object: a JSON array, a string' '
	jq .builds "$P/multi-run.json" >bad.json &&
	bad_input "bad.json: not a JSON object (a JSON array)" &&
	echo "\"manifest\"" >bad.json &&
	bad_input "bad.json: not a JSON object (a JSON string)"
'

test_expect_success 'invalid UTF-8 names its line; a NUL byte too' '
	sed "11s/4e1c2a9/4e1c\xff2a9/" "$P/multi-run.json" >bad.json &&
	bad_input "bad.json:11: not valid UTF-8" &&
	sed "3s/^/\xc0\xaf/" "$P/multi-run.json" >bad.json &&
	bad_input "bad.json:3: not valid UTF-8" &&
	sed "12s/\"version\"/\"ver\x00sion\"/" "$P/multi-run.json" >bad.json &&
	bad_input "bad.json:12: NUL byte in line"
'

test_expect_success 'builds missing, not an array, or empty' '
	edit "del(.builds)" &&
	bad_input "bad.json: .builds: missing" &&
	edit ".builds = {}" &&
	bad_input "bad.json: .builds: not a JSON array (a JSON object)" &&
	edit ".builds = []" &&
	bad_input "bad.json: .builds: no builds"
'

test_expect_success 'last_run_uuid missing, not a string, or matching no build' '
	edit "del(.last_run_uuid)" &&
	bad_input "bad.json: .last_run_uuid: missing" &&
	edit ".last_run_uuid = null" &&
	bad_input "bad.json: .last_run_uuid: not a JSON string (a JSON null)" &&
	edit ".last_run_uuid = \"00000000-0000-0000-0000-000000000000\"" &&
	bad_input "bad.json: .last_run_uuid: no build has packer_run_uuid \"00000000-0000-0000-0000-000000000000\"" &&
	test_expect_code 3 ami-from-manifest --all-runs bad.json >out &&
	test_cmp /dev/null out
'

test_expect_success 'a build that is not an object' '
	edit ".builds[0] = \"web\"" &&
	bad_input "bad.json: .builds[0]: not an object (a JSON string)"
'

test_expect_success 'a build field missing or of the wrong type, in any run' '
	edit "del(.builds[0].name)" &&
	bad_input "bad.json: .builds[0].name: missing" &&
	edit ".builds[1].name = 7" &&
	bad_input "bad.json: .builds[1].name: not a JSON string (a JSON number)" &&
	edit ".builds[2].builder_type = null" &&
	bad_input "bad.json: .builds[2].builder_type: not a JSON string (a JSON null)" &&
	edit "del(.builds[1].artifact_id)" &&
	bad_input "bad.json: .builds[1].artifact_id: missing" &&
	edit ".builds[1].artifact_id = [\"eu-west-1:ami-0d2e5f3a9b8c7d6e5\"]" &&
	bad_input "bad.json: .builds[1].artifact_id: not a JSON string (a JSON array)" &&
	edit "del(.builds[2].packer_run_uuid)" &&
	bad_input "bad.json: .builds[2].packer_run_uuid: missing"
'

test_expect_success 'build_time: a number of whole seconds from 1970 to 9999' '
	edit ".builds[1].build_time = \"1720512000\"" &&
	bad_input "bad.json: .builds[1].build_time: not a JSON number (a JSON string)" &&
	edit ".builds[1].build_time = 1720512000.5" &&
	bad_input "bad.json: .builds[1].build_time: not Unix seconds (1720512000.5)" &&
	edit ".builds[1].build_time = -1" &&
	bad_input "bad.json: .builds[1].build_time: not Unix seconds (-1)" &&
	edit ".builds[1].build_time = 253402300800" &&
	bad_input "bad.json: .builds[1].build_time: not Unix seconds (253402300800)" &&
	edit ".builds[1].build_time = 0 | .builds[2].build_time = 253402300799" &&
	ami-from-manifest bad.json >actual &&
	jq -r .Packer.BuildTime actual >times &&
	printf "%s\n" 1970-01-01T00:00:00.000Z 1970-01-01T00:00:00.000Z 1970-01-01T00:00:00.000Z \
		9999-12-31T23:59:59.000Z 9999-12-31T23:59:59.000Z 9999-12-31T23:59:59.000Z >expect &&
	test_cmp expect times
'

test_expect_success 'custom_data: an object or null; absent is null' '
	edit ".builds[1].custom_data = \"v1.4.0\"" &&
	bad_input "bad.json: .builds[1].custom_data: not a JSON object or null (a JSON string)" &&
	edit ".builds[1].custom_data = []" &&
	bad_input "bad.json: .builds[1].custom_data: not a JSON object or null (a JSON array)" &&
	edit "del(.builds[1].custom_data)" &&
	ami-from-manifest --build web bad.json >actual &&
	jq -c .Packer.CustomData actual >cd &&
	printf "null\nnull\nnull\n" >expect &&
	test_cmp expect cd
'

test_expect_success 'malformed region:ami-id pairs: exit 3, nothing printed' '
	for id in "us-east-1:" "ami-0b4c0d2e3f5a7b9c1" ":ami-0b4c0d2e3f5a7b9c1" \
		"US-EAST-1:ami-0b4c0d2e3f5a7b9c1" "us-east:ami-0b4c0d2e3f5a7b9c1" \
		"us-east-1a:ami-0b4c0d2e3f5a7b9c1" "us-east-1:ami-0B4C0D2E3F5A7B9C1" \
		"us-east-1:ami-xyz" "us-east-1:ami-0b4c0d2e3f5a7b9c" "us-east-1:ami-0b4c0d2e3f5a7b9c12" \
		"us-east-1:snap-0b4c0d2e3f5a7b9c1" "us-east-1 :ami-0b4c0d2e3f5a7b9c1" \
		"us-east-1:ami-0b4c0d2e3f5a7b9c1:x"
	do
		edit ".builds[2].artifact_id = \"eu-west-1:ami-0e3f6a4b0c9d8e7f6,$id\"" &&
		bad_input "bad.json: .builds[2].artifact_id: bad region:ami-id pair \"$id\"" ||
		failed="$failed [$id]"
	done &&
	test -z "$failed" &&
	edit ".builds[2].artifact_id = \"eu-west-1:ami-0e3f6a4b0c9d8e7f6,\"" &&
	bad_input "bad.json: .builds[2].artifact_id: bad region:ami-id pair \"\""
'

test_expect_success 'an empty artifact_id from an amazon builder is malformed' '
	edit ".builds[2].artifact_id = \"\"" &&
	bad_input "bad.json: .builds[2].artifact_id: bad region:ami-id pair \"\""
'

test_expect_success 'region and AMI id shapes that are fine' '
	edit ".builds[2].artifact_id = \"us-gov-west-1:ami-12345678,cn-north-1:ami-0123456789abcdef0\"" &&
	ami-from-manifest --build worker bad.json >actual &&
	jq -r "[.Region, .ImageId] | join(\" \")" actual >pairs &&
	printf "%s\n" "us-gov-west-1 ami-12345678" "cn-north-1 ami-0123456789abcdef0" >expect &&
	test_cmp expect pairs
'

test_expect_success 'an AMI artifact of another builder (after amazon-import) is read, and checked' '
	edit ".builds[2].builder_type = \"qemu\"" &&
	ami-from-manifest --build worker bad.json >actual &&
	test_line_count = 3 actual &&
	edit ".builds[2].builder_type = \"qemu\" | .builds[2].artifact_id = \"eu-west-1:ami-0e3f6a4b0c9d8e7f6,us-east-1\"" &&
	bad_input "bad.json: .builds[2].artifact_id: bad region:ami-id pair \"us-east-1\""
'

test_expect_success 'a malformed pair in a run not printed is not read' '
	edit ".builds[0].artifact_id = \"us-east-1:\"" &&
	ami-from-manifest bad.json >actual &&
	test_line_count = 6 actual &&
	test_expect_code 3 ami-from-manifest --all-runs bad.json >out &&
	test_cmp /dev/null out
'

test_expect_success 'no AMI in the current run (only null/docker builds): exit 1, warnings, nothing printed' '
	edit ".builds[1] |= (.builder_type = \"null\" | .artifact_id = \"Null\") | .builds[2] |= (.builder_type = \"docker\" | .artifact_id = \"sha256:ab\")" &&
	test_expect_code 1 ami-from-manifest bad.json >out 2>err &&
	test_cmp /dev/null out &&
	cat >expect-err <<-EOF &&
	ami-from-manifest: bad.json: .builds[1]: skipping build "web" of type "null": artifact_id "Null" names no AMI
	ami-from-manifest: bad.json: .builds[2]: skipping build "worker" of type "docker": artifact_id "sha256:ab" names no AMI
	ami-from-manifest: bad.json: no AMI in run "$RUN"
	EOF
	test_cmp expect-err err &&
	ami-from-manifest --all-runs bad.json >out 2>err &&
	test_line_count = 2 out &&
	test_line_count = 2 err
'

test_expect_success 'amazon-ebsvolume makes volumes, not AMIs: skipped' '
	edit ".builds[2] |= (.builder_type = \"amazon-ebsvolume\" | .artifact_id = \"us-east-1:vol-0123456789abcdef0\")" &&
	ami-from-manifest bad.json >actual 2>err &&
	test_line_count = 3 actual &&
	echo "ami-from-manifest: bad.json: .builds[2]: skipping build \"worker\" of type \"amazon-ebsvolume\": artifact_id \"us-east-1:vol-0123456789abcdef0\" names no AMI" >expect-err &&
	test_cmp expect-err err
'

test_expect_success '"ami-" inside another word names no AMI' '
	edit ".builds[2] |= (.builder_type = \"docker\" | .artifact_id = \"registry.example.com/miami-web:1.0\")" &&
	ami-from-manifest bad.json >actual 2>err &&
	test_line_count = 3 actual &&
	test_grep "skipping build \"worker\" of type \"docker\": artifact_id \"registry.example.com/miami-web:1.0\" names no AMI\$" err
'

test_expect_success 'names from the input are quoted in warnings: one line each' '
	edit ".builds[2] |= (.name = \"a\\nb\" | .builder_type = \"null\" | .artifact_id = \"Nu\\u001bll\")" &&
	ami-from-manifest bad.json >actual 2>err &&
	echo "ami-from-manifest: bad.json: .builds[2]: skipping build \"a\\nb\" of type \"null\": artifact_id \"Nu\\u001bll\" names no AMI" >expect-err &&
	test_cmp expect-err err
'

test_expect_success '--build NAME that matches no build: exit 1, nothing printed' '
	test_expect_code 1 ami-from-manifest --build web --build nosuch "$P/multi-run.json" >out 2>err &&
	test_cmp /dev/null out &&
	echo "ami-from-manifest: $P/multi-run.json: no build named \"nosuch\" in run \"$RUN\"" >expect-err &&
	test_cmp expect-err err &&
	test_expect_code 1 ami-from-manifest --all-runs --build nosuch "$P/multi-run.json" >out 2>err &&
	test_cmp /dev/null out &&
	echo "ami-from-manifest: $P/multi-run.json: no build named \"nosuch\" in any run" >expect-err &&
	test_cmp expect-err err
'

test_expect_success '--build selecting only a build without AMIs: exit 1' '
	test_expect_code 1 ami-from-manifest --build smoke "$P/mixed-builders.json" >out 2>err &&
	test_cmp /dev/null out &&
	test_grep "skipping build \"smoke\"" err &&
	test_grep "no AMI in the builds --build selects in run \"a0c4d2e6-8f1b-4a3c-9e5d-7b2f0c6a4e18\"$" err
'

test_done
