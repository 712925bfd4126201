#!/bin/bash
# tag in batches: one CreateTags per 1000 resource ids of a region, throttling survived, a failing
# batch failing only its records, and bad input anywhere changing nothing at all.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

# 2,500 images in us-east-1; 600 in eu-west-1, each with its own snapshot.
jq -n '{Regions: {
	"us-east-1": {Images: [range(2500) | {ImageId: ("ami-0\(1000000000000000 + .)"), Name: "img-\(.)"}]},
	"eu-west-1": {Images: [range(600) | {ImageId: ("ami-0\(2000000000000000 + .)"), Name: "eu-\(.)",
		BlockDeviceMappings: [{DeviceName: "/dev/xvda", Ebs: {SnapshotId: "snap-0\(2000000000000000 + .)"}}]}],
		Snapshots: [range(600) | {SnapshotId: "snap-0\(2000000000000000 + .)"}]}}}' >seed.json

# tagged REGION KEY=VALUE: how many images and snapshots of REGION carry the tag.
tagged () {
	ec2_state "$1" >state.json &&
	jq --arg r "$1" --arg t "$2" '[.Regions[$r] | (.Images[], .Snapshots[]) |
		select((.Tags // []) | map(.Key + "=" + .Value) | index($t))] | length' state.json
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	ec2-describe images >us.jsonl &&
	ec2-describe images --region eu-west-1 >eu.jsonl &&
	cat us.jsonl eu.jsonl >all.jsonl &&
	test_line_count = 3100 all.jsonl
'

test_expect_success '2,500 images in one region: three CreateTags calls; another region: its own' '
	ec2_reset_counts &&
	tag -t Batch=1 --audit audit1.log all.jsonl >out 2>err &&
	test_line_count = 0 err &&
	test_line_count = 3100 out &&
	test "$(ec2_count CreateTags us-east-1)" = 3 &&
	test "$(ec2_count CreateTags eu-west-1)" = 1 &&
	jq -r "[.Region, (.Resources | length)] | join(\" \")" audit1.log | sort >actual &&
	printf "eu-west-1 600\nus-east-1 1000\nus-east-1 1000\nus-east-1 500\n" >expect &&
	test_cmp expect actual &&
	jq -r .Resources[] audit1.log | sort >sent &&
	jq -r .ImageId all.jsonl | sort >ids &&
	test_cmp ids sent &&
	test "$(tagged us-east-1 Batch=1)" = 2500 &&
	test "$(tagged eu-west-1 Batch=1)" = 600
'

test_expect_success 'every record out, in input order, done, with the request id of its batch' '
	jq -r .ImageId out >actual &&
	jq -r .ImageId all.jsonl >expect &&
	test_cmp expect actual &&
	jq -r .Result.Status out | sort | uniq -c >actual &&
	echo "   3100 done" >expect &&
	test_cmp expect actual &&
	jq -r .Result.RequestId out | sort -u >req-out &&
	jq -r .RequestId audit1.log | sort -u >req-audit &&
	test_cmp req-audit req-out &&
	test_line_count = 4 req-out
'

test_expect_success '--snapshots: snapshots count toward the 1000 ids of a call' '
	ec2_reset_counts &&
	tag --snapshots -t Snap=1 --audit audit2.log eu.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r ".Resources | length" audit2.log | sort -n >actual &&
	printf "200\n1000\n" >expect &&
	test_cmp expect actual &&
	test "$(tagged eu-west-1 Snap=1)" = 1200
'

test_expect_success 'a throttling burst: all tagged, each throttled call sent once more' '
	ec2_reset_counts &&
	ec2_fault CreateTags throttle 2 &&
	tag -t Batch=2 --audit audit3.log all.jsonl >out 2>err &&
	test_line_count = 0 err &&
	test "$(ec2_count CreateTags)" = 6 &&
	test_line_count = 4 audit3.log &&
	jq -r .Outcome audit3.log | sort -u >actual &&
	echo done >expect &&
	test_cmp expect actual &&
	test "$(tagged us-east-1 Batch=2)" = 2500 &&
	test "$(tagged eu-west-1 Batch=2)" = 600
'

test_expect_success 'a failing batch fails its records only: exit 1, the other batches done' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"CreateTags\",\"Region\":\"eu-west-1\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"You are not authorized to perform this operation.\",\"Status\":403}" &&
	test_expect_code 1 tag -t Batch=3 --audit audit4.log all.jsonl >out 2>err &&
	test_line_count = 3100 out &&
	test_line_count = 1 err &&
	test_grep "^tag: eu-west-1: CreateTags: UnauthorizedOperation: You are not authorized to perform this operation. (request id " err &&
	jq -r "[.Region, .Result.Status] | join(\" \")" out | sort | uniq -c >actual &&
	printf "    600 eu-west-1 failed\n   2500 us-east-1 done\n" >expect &&
	test_cmp expect actual &&
	jq -r "select(.Result.Status == \"failed\") | .Result.Reason" out | sort -u >reasons &&
	test_line_count = 1 reasons &&
	test_grep "^eu-west-1: CreateTags: UnauthorizedOperation: " reasons &&
	jq -r "select(.Result.Status == \"failed\") | .Tags" out | sort -u >tags &&
	echo null >expect &&
	test_cmp expect tags &&
	test "$(tagged us-east-1 Batch=3)" = 2500 &&
	test "$(tagged eu-west-1 Batch=3)" = 0 &&
	jq -r "[.Region, .Outcome, .Code // \"-\"] | join(\" \")" audit4.log | sort >actual &&
	printf "eu-west-1 failed UnauthorizedOperation\nus-east-1 done -\nus-east-1 done -\nus-east-1 done -\n" >expect &&
	test_cmp expect actual &&
	jq -r .RequestId audit4.log | grep -c -E "^[0-9a-f-]{36}$" >n &&
	echo 4 >expect &&
	test_cmp expect n
'

test_expect_success '-t with --delete: a CreateTags and a DeleteTags per batch' '
	ec2_reset_counts &&
	tag -t Batch=4 --delete Snap us.jsonl >out &&
	test "$(ec2_count CreateTags)" = 3 &&
	test "$(ec2_count DeleteTags)" = 3
'

for bad in 'not json' '[1,2]' '{"Name":"no id"}' '{"ImageId":42}' '{"ImageId":""}' \
	'{"ImageId":"i-0123456789abcdef0"}' '{"ImageId":"ami-0123456789abcdef0","Region":7}' \
	'{"ImageId":"ami-0123456789abcdef0","Region":"us-east-1/x"}' \
	'{"ImageId":"ami-0123456789abcdef0","Tags":{"Key":"a"}}' \
	'{"ImageId":"ami-0123456789abcdef0","Tags":[{"Key":1,"Value":"a"}]}' \
	'{"ImageId":"ami-0123456789abcdef0","BlockDeviceMappings":[{"Ebs":{"SnapshotId":3}}]}'
do
	test_expect_success "bad input at line 50 of 100 ($bad): exit 3, no call at all" '
		bad_line_at_50 us.jsonl "$bad" &&
		ec2_reset_counts &&
		rm -f audit5.log &&
		test_expect_code 3 tag --snapshots -t Bad=1 --audit audit5.log in.jsonl >out 2>err &&
		test_line_count = 0 out &&
		test_line_count = 1 err &&
		test_grep "^tag: in.jsonl:50: " err &&
		test "$(ec2_total)" = 0 &&
		! test -s audit5.log
	'
done

test_expect_success 'a record without Region and no region configured: exit 3, no call' '
	head -n 49 us.jsonl >in.jsonl &&
	echo "{\"ImageId\":\"ami-0123456789abcdef0\"}" >>in.jsonl &&
	ec2_reset_counts &&
	(unset AWS_REGION && test_expect_code 3 tag -t Bad=1 <in.jsonl >out 2>err) &&
	test_line_count = 0 out &&
	test_grep "^tag: stdin:50: no Region, and no region configured" err &&
	test "$(ec2_total)" = 0
'

test_expect_success 'a record that would carry more than 50 tags fails alone, without a call' '
	jq -c "{ImageId: \"ami-01000000000000000\", Tags: [range(49) | {Key: \"k\(.)\", Value: \"v\"}]}" -n >many.jsonl &&
	head -n 3 us.jsonl >>many.jsonl &&
	ec2_reset_counts &&
	test_expect_code 1 tag -t New1=1 -t New2=2 -t k0=replaced many.jsonl >out 2>err &&
	test_line_count = 1 err &&
	test_grep "^tag: us-east-1: ami-01000000000000000: would carry 51 tags; EC2 allows 50 on a resource$" err &&
	jq -r .Result.Status out >actual &&
	printf "failed\ndone\ndone\ndone\n" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count CreateTags)" = 1
'

test_expect_success 'no secret in any output or audit line' '
	cat out err audit*.log >all &&
	test_grep -v amicycle-secret all
'

test_done
