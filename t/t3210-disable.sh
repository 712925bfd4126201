#!/bin/bash
# disable: DisableImage for the images not disabled yet (read first), EnableImage with --undo;
# records carry the State (and launch permissions) as they now are, the AWS CLI reads them back;
# a second run makes no mutating call; ec2-describe keeps listing disabled images; --dry-run;
# refusals (pending, another account's), gone images, throttling, a describe that fails (before
# the calls, or after them) and bad input.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

# us-east-1: 1 public and shared with an account, 2 and 3 plain, 4 pending, 5 another account's
# shared with ours; eu-west-1: 6.
jq -n 'def ami(n): "ami-0c00000000000000\(n)";
{Regions: {
	"us-east-1": {Images: [
		{ImageId: ami(1), Name: "web-1", Public: true, LaunchPermissions: [{UserId: "111122223333"}]},
		{ImageId: ami(2), Name: "web-2"}, {ImageId: ami(3), Name: "web-3"},
		{ImageId: ami(4), Name: "web-4", State: "pending"},
		{ImageId: ami(5), Name: "theirs", OwnerId: "111122223333",
		 LaunchPermissions: [{UserId: "123456789012"}]}]},
	"eu-west-1": {Images: [{ImageId: ami(6), Name: "web-eu"}]}}}' >seed.json

# states: "REGION ID STATE PUBLIC PERMISSIONS" for every image in the endpoint's state.
states () {
	ec2_state >state.json &&
	jq -r '.Regions | to_entries[] | .key as $r | .value.Images[]? |
		"\($r) \(.ImageId) \(.State) \(.Public // false) \(.LaunchPermissions // [] | length)"' state.json | sort
}

# results FILE: "ID STATUS STATE REASON" for each record.
results () {
	jq -r '[.ImageId, .Result.Status, .State, .Result.Reason // "-"] | join(" ")' "$1"
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	ec2-describe images --region us-east-1 --region eu-west-1 --owner self >mine.jsonl &&
	jq -c "select(.State == \"available\")" mine.jsonl >ours.jsonl &&
	test_line_count = 4 ours.jsonl
'

test_expect_success 'disable: each image disabled and made private, the records say so' '
	ec2_reset_counts &&
	disable --audit audit.log <ours.jsonl >out 2>err &&
	test_line_count = 0 err &&
	results out >actual &&
	cat >expect <<-\EOF &&
	ami-0c000000000000001 done disabled -
	ami-0c000000000000002 done disabled -
	ami-0c000000000000003 done disabled -
	ami-0c000000000000006 done disabled -
	EOF
	test_cmp expect actual &&
	jq -r ".Public" out | sort -u >actual &&
	echo false >expect &&
	test_cmp expect actual &&
	jq -r .Result.Action out | sort -u >actual &&
	echo disable >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DisableImage us-east-1)" = 3 &&
	test "$(ec2_count DisableImage eu-west-1)" = 1 &&
	states >actual &&
	cat >expect <<-\EOF &&
	eu-west-1 ami-0c000000000000006 disabled false 0
	us-east-1 ami-0c000000000000001 disabled false 0
	us-east-1 ami-0c000000000000002 disabled false 0
	us-east-1 ami-0c000000000000003 disabled false 0
	us-east-1 ami-0c000000000000004 pending false 0
	us-east-1 ami-0c000000000000005 available false 1
	EOF
	test_cmp expect actual &&
	jq -r "[.Program, .Action, .Resources[0], .Outcome] | join(\" \")" audit.log | sort >actual &&
	for i in 1 2 3 6; do echo "disable DisableImage ami-0c00000000000000$i done"; done >expect &&
	test_cmp expect actual
'

test_expect_success AWSCLI 'the AWS CLI reads back the disabled state, hidden unless asked for' '
	ec2_aws_model ec2 describe-images --region us-east-1 --owners self --include-disabled >cli.json &&
	jq -r ".Images[] | \"\(.ImageId) \(.State)\"" cli.json | sort >actual &&
	cat >expect <<-\EOF &&
	ami-0c000000000000001 disabled
	ami-0c000000000000002 disabled
	ami-0c000000000000003 disabled
	ami-0c000000000000004 pending
	EOF
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-images --region us-east-1 --owners self >cli.json &&
	jq -r ".Images[].ImageId" cli.json >actual &&
	echo ami-0c000000000000004 >expect &&
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-image-attribute --region us-east-1 --image-id ami-0c000000000000001 \
		--attribute launchPermission >cli.json &&
	test "$(jq ".LaunchPermissions | length" cli.json)" = 0
'

test_expect_success 'ec2-describe keeps listing the disabled images' '
	ec2-describe images --region us-east-1 --region eu-west-1 --owner self >listed.jsonl &&
	jq -r "\"\(.ImageId) \(.State)\"" listed.jsonl | sort >actual &&
	cat >expect <<-\EOF &&
	ami-0c000000000000001 disabled
	ami-0c000000000000002 disabled
	ami-0c000000000000003 disabled
	ami-0c000000000000004 pending
	ami-0c000000000000006 disabled
	EOF
	test_cmp expect actual
'

test_expect_success 'again, on the old records: each skipped, and no mutating call at all' '
	ec2_reset_counts &&
	disable --audit audit2.log <ours.jsonl >again 2>err &&
	test_line_count = 0 err &&
	results again >actual &&
	for i in 1 2 3 6; do echo "ami-0c00000000000000$i skipped disabled already disabled"; done >expect &&
	test_cmp expect actual &&
	test "$(ec2_total)" = "$(ec2_count DescribeImages)" &&
	test "$(ec2_count DescribeImages)" = 2 &&
	! test -s audit2.log
'

test_expect_success '--dry-run --undo: DryRun=true, the plan shows available, nothing changes' '
	states >before &&
	ec2_reset_counts &&
	disable --undo --dry-run <ours.jsonl >plan 2>err &&
	test_line_count = 0 err &&
	results plan >actual &&
	for i in 1 2 3 6; do echo "ami-0c00000000000000$i dry-run available -"; done >expect &&
	test_cmp expect actual &&
	ec2_requests >requests &&
	jq -r ".[] | select(.Action != \"DescribeImages\") | [.Action, .Params.DryRun, .Status] | join(\" \")" \
		requests | sort | uniq -c >actual &&
	echo "      4 EnableImage true 412" >expect &&
	test_cmp expect actual &&
	states >after &&
	test_cmp before after
'

test_expect_success '--undo: enabled again, still private; again, skipped with no call' '
	disable --undo <ours.jsonl >out 2>err &&
	test_line_count = 0 err &&
	results out >actual &&
	for i in 1 2 3 6; do echo "ami-0c00000000000000$i done available -"; done >expect &&
	test_cmp expect actual &&
	states >actual &&
	test_grep "^us-east-1 ami-0c000000000000001 available false 0\$" actual &&
	ec2_reset_counts &&
	disable --undo <out >again 2>err &&
	results again >actual &&
	for i in 1 2 3 6; do
		echo "ami-0c00000000000000$i skipped available not disabled (available)"
	done >expect &&
	test_cmp expect actual &&
	test "$(ec2_total)" = "$(ec2_count DescribeImages)"
'

test_expect_success 'pending, another account'\''s, gone: failed or skipped alone; exit 1, a line each' '
	ec2_query DeregisterImage ImageId=ami-0c000000000000003 >/dev/null &&
	ec2-describe images --region us-east-1 ami-0c000000000000005 >theirs.jsonl &&
	{ sed -n 1,3p ours.jsonl && grep ami-0c000000000000004 mine.jsonl && cat theirs.jsonl; } >mixed.jsonl &&
	test_expect_code 1 disable <mixed.jsonl >out 2>err &&
	jq -r "[.ImageId, .Result.Status] | join(\" \")" out >actual &&
	cat >expect <<-\EOF &&
	ami-0c000000000000001 done
	ami-0c000000000000002 done
	ami-0c000000000000003 skipped
	ami-0c000000000000004 failed
	ami-0c000000000000005 failed
	EOF
	test_cmp expect actual &&
	jq -r "select(.ImageId == \"ami-0c000000000000003\") | .Result.Reason" out >actual &&
	echo "already gone: no image ami-0c000000000000003 in us-east-1" >expect &&
	test_cmp expect actual &&
	test_line_count = 2 err &&
	test_grep "^disable: us-east-1: DisableImage: IncorrectState: .*(request id " err &&
	test_grep "^disable: us-east-1: DisableImage: AuthFailure: .*(request id " err &&
	states >actual &&
	test_grep "^us-east-1 ami-0c000000000000004 pending " actual &&
	test_grep "^us-east-1 ami-0c000000000000005 available false 1\$" actual
'

test_expect_success 'a throttling burst: all done, each throttled call sent once more' '
	disable --undo <ours.jsonl >/dev/null &&
	ec2_reset_counts &&
	ec2_fault DisableImage throttle 2 &&
	sed -n 1,2p ours.jsonl >two.jsonl &&
	disable <two.jsonl >out 2>err &&
	test_line_count = 0 err &&
	results out >actual &&
	printf "%s done disabled -\n" ami-0c000000000000001 ami-0c000000000000002 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DisableImage)" = 4
'

test_expect_success 'a describe that fails: exit 1, one line, nothing changed' '
	disable --undo <ours.jsonl >/dev/null &&
	states >before &&
	ec2_reset_counts &&
	ec2_fault "{\"Action\":\"DescribeImages\",\"Kind\":\"error\",\"Code\":\"UnauthorizedOperation\",\"Status\":403}" &&
	test_expect_code 1 disable <ours.jsonl >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "^disable: us-east-1: DescribeImages: UnauthorizedOperation: " err &&
	test "$(ec2_count DisableImage)" = 0 &&
	states >after &&
	test_cmp before after
'

test_expect_success 'the read back fails after the calls: exit 1, one line, the records as planned' '
	ec2_reset_counts &&
	ec2_fault "{\"Action\":\"DescribeImages\",\"Kind\":\"error\",\"Code\":\"UnauthorizedOperation\",\"Status\":403,\"Skip\":1}" &&
	test_expect_code 1 disable <two.jsonl >out 2>err &&
	results out >actual &&
	printf "%s done disabled -\n" ami-0c000000000000001 ami-0c000000000000002 >expect &&
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^disable: us-east-1: DescribeImages: UnauthorizedOperation: .*: the images are changed, but not read back$" err &&
	test "$(ec2_count DisableImage)" = 2 &&
	test "$(ec2_count DescribeImages)" = 2 &&
	states >actual &&
	test_grep "^us-east-1 ami-0c000000000000002 disabled false 0\$" actual
'

for bad in '{"ImageId":"ami-0C000000000000001"}' '{"ImageId":"ami-0c00000000000001"}' \
	'{"ImageId":"snap-0c000000000000001"}' '{"InstanceId":"i-0c000000000000001","ImageId":"ami-0c000000000000001"}' \
	'{"ImageId":"ami-0c000000000000001","Region":"us east 1"}' '{"ImageId":'
do
	test_expect_success "bad input at line 2 ($bad): exit 3, FILE:LINE, no call at all" '
		{ head -n 1 ours.jsonl && printf "%s\n" "$bad" && tail -n 1 ours.jsonl; } >bad.jsonl &&
		expect_bad_input bad.jsonl:2 disable bad.jsonl
	'
done

test_expect_success 'empty input: no call, exit 0' '
	ec2_reset_counts &&
	disable </dev/null >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 0 err &&
	test "$(ec2_total)" = 0
'

test_done
