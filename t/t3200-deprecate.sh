#!/bin/bash
# deprecate: EnableImageDeprecation at a time (rounded to the minute as EC2 does) or after a
# duration, DisableImageDeprecation with --undo; records carry the new DeprecationTime; gone images
# are skipped; --dry-run plans; failures and throttling; every call audited.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

jq -n '{Regions: {
	"us-east-1": {Images: [range(3) | {ImageId: ("ami-0a00000000000000\(. + 1)"), Name: "web-\(. + 1)"}]},
	"eu-west-1": {Images: [{ImageId: "ami-0e000000000000001", Name: "web-eu"}]}}}' >seed.json

# A time in two years, so that the test does not age.
year=$(( $(date -u +%Y) + 2 ))

# deprecations REGION: "ID TIME" for each image of REGION in the endpoint's state.
deprecations () {
	ec2_state "$1" >state.json &&
	jq -r --arg r "$1" '.Regions[$r].Images[] | "\(.ImageId) \(.DeprecationTime // "-")"' state.json
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	ec2-describe images >images.jsonl &&
	ec2-describe images --region eu-west-1 >eu.jsonl &&
	test_line_count = 3 images.jsonl
'

test_expect_success '--at: seconds rounded up to the next minute from :30' '
	ec2_reset_counts &&
	deprecate --at "$year-06-01T12:34:30Z" --audit audit1.log <images.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.ImageId, .DeprecationTime, .Result.Action, .Result.Status] | join(\" \")" out >actual &&
	for i in 1 2 3; do
		echo "ami-0a00000000000000$i $year-06-01T12:35:00.000Z deprecate done"
	done >expect &&
	test_cmp expect actual &&
	deprecations us-east-1 >actual &&
	for i in 1 2 3; do echo "ami-0a00000000000000$i $year-06-01T12:35:00.000Z"; done >expect &&
	test_cmp expect actual &&
	test "$(ec2_count EnableImageDeprecation)" = 3
'

test_expect_success 'the rest of each record is kept; the audit log has each call' '
	jq -c "del(.DeprecationTime, .Result)" images.jsonl >expect &&
	jq -c "del(.DeprecationTime, .Result)" out >actual &&
	test_cmp expect actual &&
	test_line_count = 3 audit1.log &&
	jq -r "[.Program, .Action, (.Resources | join(\",\")), .Parameters.DeprecateAt, .Outcome] | join(\" \")" audit1.log | sort >actual &&
	for i in 1 2 3; do
		echo "deprecate EnableImageDeprecation ami-0a00000000000000$i $year-06-01T12:35:00.000Z done"
	done >expect &&
	test_cmp expect actual &&
	jq -r .RequestId audit1.log | sort >req-audit &&
	jq -r .Result.RequestId out | sort >req-out &&
	test_cmp req-audit req-out &&
	test_grep -v amicycle-secret audit1.log
'

test_expect_success '--at: seconds below 30 rounded down; another zone converted to UTC' '
	deprecate --at "$year-06-01T14:34:29.999+02:00" <images.jsonl >out &&
	jq -r .DeprecationTime out | sort -u >actual &&
	echo "$year-06-01T12:34:00.000Z" >expect &&
	test_cmp expect actual
'

test_expect_success 'deprecating again is harmless: done again, the same state' '
	deprecations us-east-1 >before &&
	deprecate --at "$year-06-01T12:34:00Z" <out >again &&
	jq -c "del(.Result.RequestId)" out >expect &&
	jq -c "del(.Result.RequestId)" again >actual &&
	test_cmp expect actual &&
	deprecations us-east-1 >after &&
	test_cmp before after
'

test_expect_success '--in DURATION: from now, to the minute' '
	before=$(date -u +%s) &&
	deprecate --in 30d <images.jsonl >out &&
	after=$(date -u +%s) &&
	jq -r .DeprecationTime out | sort -u >times &&
	test_line_count = 1 times &&
	t=$(date -u -d "$(cat times)" +%s) &&
	test $((t % 60)) = 0 &&
	test $t -ge $((before + 30 * 86400 - 30)) &&
	test $t -le $((after + 30 * 86400 + 30)) &&
	deprecations us-east-1 | cut -d" " -f2 | sort -u >actual &&
	test_cmp times actual
'

test_expect_success '--undo: DisableImageDeprecation, DeprecationTime removed' '
	ec2_reset_counts &&
	deprecate --undo <out >undone &&
	test "$(ec2_count DisableImageDeprecation)" = 3 &&
	jq -r "[.ImageId, .DeprecationTime // \"-\", .Result.Status] | join(\" \")" undone >actual &&
	for i in 1 2 3; do echo "ami-0a00000000000000$i - done"; done >expect &&
	test_cmp expect actual &&
	deprecations us-east-1 >actual &&
	for i in 1 2 3; do echo "ami-0a00000000000000$i -"; done >expect &&
	test_cmp expect actual
'

test_expect_success 'records of two regions go to their regions, printed in input order' '
	ec2_reset_counts &&
	cat eu.jsonl images.jsonl >mixed.jsonl &&
	deprecate --in 1w <mixed.jsonl >out &&
	test "$(ec2_count EnableImageDeprecation eu-west-1)" = 1 &&
	test "$(ec2_count EnableImageDeprecation us-east-1)" = 3 &&
	jq -r .ImageId out >actual &&
	jq -r .ImageId mixed.jsonl >expect &&
	test_cmp expect actual &&
	deprecations eu-west-1 >state &&
	test_grep -v " -$" state
'

test_expect_success '--dry-run: DryRun=true, nothing changes, the plan shows the new time' '
	deprecate --undo <mixed.jsonl >/dev/null &&
	ec2_reset_counts &&
	deprecate --dry-run --at "$year-01-01T00:00:00Z" --audit audit2.log <images.jsonl >plan 2>err &&
	test_line_count = 0 err &&
	jq -r "[.DeprecationTime, .Result.Status] | join(\" \")" plan | sort -u >actual &&
	echo "$year-01-01T00:00:00.000Z dry-run" >expect &&
	test_cmp expect actual &&
	deprecations us-east-1 | cut -d" " -f2 | sort -u >actual &&
	echo - >expect &&
	test_cmp expect actual &&
	ec2_requests >requests &&
	jq -r ".[] | [.Action, .Params.DryRun, .Status] | join(\" \")" requests | sort -u >actual &&
	echo "EnableImageDeprecation true 412" >expect &&
	test_cmp expect actual &&
	jq -r "[.DryRun, .Outcome] | join(\" \")" audit2.log | sort | uniq -c >actual &&
	echo "      3 true dry-run" >expect &&
	test_cmp expect actual
'

test_expect_success 'the plan, applied without --dry-run, is done as shown' '
	deprecate --at "$year-01-01T00:00:00Z" <plan >applied &&
	jq -c "del(.Result)" plan >expect &&
	jq -c "del(.Result)" applied >actual &&
	test_cmp expect actual &&
	deprecations us-east-1 | cut -d" " -f2 | sort -u >actual &&
	echo "$year-01-01T00:00:00.000Z" >expect &&
	test_cmp expect actual
'

test_expect_success 'an image already gone, or never there, is skipped with the reason' '
	ec2_query DeregisterImage ImageId=ami-0a000000000000002 >/dev/null &&
	echo "{\"ImageId\":\"ami-0a00000000000000f\"}" >>images.jsonl &&
	deprecate --in 2d <images.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.ImageId, .Result.Status, .Result.Reason // \"-\", .DeprecationTime // \"-\"] | join(\" \")" out >actual &&
	sed -n 1p actual >first &&
	test_grep "^ami-0a000000000000001 done - " first &&
	sed -n 2,4p actual >rest &&
	cat >expect <<-\EOF &&
	ami-0a000000000000002 skipped already gone: InvalidAMIID.Unavailable: The image id '\''[ami-0a000000000000002]'\'' is no longer available -
	EOF
	sed -n 1p rest >actual2 &&
	test_cmp expect actual2 &&
	test_grep "^ami-0a000000000000003 done - " rest &&
	test_grep "^ami-0a00000000000000f skipped already gone: InvalidAMIID.NotFound: The image id '\''\[ami-0a00000000000000f\]'\'' does not exist -$" rest &&
	deprecate --undo --dry-run <images.jsonl >out &&
	jq -r .Result.Status out >actual &&
	printf "dry-run\nskipped\ndry-run\nskipped\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a call refused fails that image only: exit 1, one line on stderr' '
	cat >deny.json <<-\EOF &&
	{"Deny": [{"Action": "EnableImageDeprecation", "ResourceId": "ami-0a000000000000003"}]}
	EOF
	ec2_seed deny.json merge &&
	test_expect_code 1 deprecate --in 3d --audit audit3.log <images.jsonl >out 2>err &&
	jq -r "[.ImageId, .Result.Status] | join(\" \")" out >actual &&
	printf "ami-0a000000000000001 done\nami-0a000000000000002 skipped\nami-0a000000000000003 failed\nami-0a00000000000000f skipped\n" >expect &&
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^deprecate: us-east-1: EnableImageDeprecation: UnauthorizedOperation: .*(request id " err &&
	jq -r "select(.Result.Status == \"failed\") | [.Result.Reason, .DeprecationTime // \"-\"] | join(\" \")" out >reason &&
	test_grep "^us-east-1: EnableImageDeprecation: UnauthorizedOperation: .* -$" reason &&
	jq -r "[.Resources[0], .Outcome] | join(\" \")" audit3.log | sort >actual &&
	printf "ami-0a000000000000001 done\nami-0a000000000000002 failed\nami-0a000000000000003 failed\nami-0a00000000000000f failed\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a throttling burst: all done, each throttled call sent once more' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	ec2_fault EnableImageDeprecation throttle 2 &&
	head -n 3 images.jsonl >three.jsonl &&
	deprecate --in 4d --audit audit4.log <three.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r .Result.Status out | sort | uniq -c >actual &&
	echo "      3 done" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count EnableImageDeprecation)" = 5 &&
	test_line_count = 3 audit4.log &&
	deprecations us-east-1 >state &&
	test_grep -v " -$" state
'

test_expect_success 'empty input: no call, exit 0' '
	ec2_reset_counts &&
	deprecate --undo </dev/null >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 0 err &&
	test "$(ec2_total)" = 0
'

test_done
