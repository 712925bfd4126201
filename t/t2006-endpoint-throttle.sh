#!/bin/bash
# t/ec2-endpoint.py's token buckets: off by default; --bucket and --throttle refuse a request that
# finds its bucket empty with EC2's RequestLimitExceeded (503, with a request id), mark it in the
# request record and the counts, and keep one bucket per action, region and account; the unfiltered
# and unpaginated Describe* draw from their own smaller bucket; the AWS CLI reads the refusal; --rtt
# and bad options.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF'
{"Credentials": [{"AccessKeyId": "AKIAAMICYCLEOTHER001", "SecretAccessKey": "amicycle-secret-other-0001",
   "Arn": "arn:aws:iam::210987654321:user/other"}],
 "Regions": {"us-east-1": {"Snapshots": [{"SnapshotId": "snap-00000000000000001"}]}, "us-west-2": {}}}
EOF

# ask [REGION] ACTION [NAME=VALUE]...: the HTTP status into "got", the body into "body".
ask () {
	r=us-east-1
	case "$1" in us-*) r=$1; shift ;; esac
	ec2_query -r $r "$@" >body 2>err
	ec2_status >>got
}

test_expect_success 'off by default: no bucket, nothing refused' '
	ec2_start seed.json &&
	: >got &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do ask DescribeImages || return 1; done &&
	sort -u got >statuses && echo 200 >expect && test_cmp expect statuses &&
	ec2_requests >requests &&
	jq -e "all(.[]; .Throttled == false and (has(\"Bucket\") | not))" requests &&
	ec2_buckets >buckets &&
	jq -e ".Throttle == false and .Buckets == {}" buckets &&
	! grep "bucket=" "$EC2_DIR/log"
'

# A bucket that hardly refills (one token in 1000 s), so the test does not depend on timing.
test_expect_success '--bucket: capacity requests pass, the next is refused as EC2 refuses it' '
	ec2_start seed.json --bucket DescribeImages=3/0.001 &&
	: >got &&
	for i in 1 2 3 4 5; do ask DescribeImages; done &&
	printf "200\n200\n200\n503\n503\n" >expect && test_cmp expect got &&
	test_grep "<Code>RequestLimitExceeded</Code>" body &&
	test_grep "<Message>Request limit exceeded.</Message>" body &&
	grep -E "<RequestID>[0-9a-f-]{36}</RequestID>" body &&
	ec2_requests >requests &&
	jq -c "[.[] | [.Seq, .Action, .Bucket, .Throttled, .Status, (.Code // \"-\")]]" requests >actual &&
	cat >expect <<-\EOF &&
	[[1,"DescribeImages","DescribeImages",false,200,"-"],[2,"DescribeImages","DescribeImages",false,200,"-"],[3,"DescribeImages","DescribeImages",false,200,"-"],[4,"DescribeImages","DescribeImages",true,503,"RequestLimitExceeded"],[5,"DescribeImages","DescribeImages",true,503,"RequestLimitExceeded"]]
	EOF
	test_cmp expect actual &&
	jq -e "[.[].Time] | . == sort and all(.[]; type == \"number\" and . > 0)" requests &&
	test "$(ec2_throttled DescribeImages)" = 2 &&
	ec2_admin GET /_admin/counts >counts &&
	jq -e ".Throttled == {\"DescribeImages\": 2}" counts &&
	grep -c "DescribeImages 503 RequestLimitExceeded .* bucket=DescribeImages throttled=1$" "$EC2_DIR/log" >n &&
	echo 2 >expect && test_cmp expect n
'

test_expect_success 'only the named action is limited; other regions and accounts have their own buckets' '
	: >got &&
	ask DescribeSnapshots &&
	ask us-west-2 DescribeImages &&
	(
		AWS_ACCESS_KEY_ID=AKIAAMICYCLEOTHER001 AWS_SECRET_ACCESS_KEY=amicycle-secret-other-0001 &&
		ask DescribeImages
	) &&
	ask DescribeImages &&
	printf "200\n200\n200\n503\n" >expect && test_cmp expect got &&
	ec2_buckets >buckets &&
	jq -c ".Levels | map_values(map_values(map_values(.Tokens | floor)))" buckets >actual &&
	echo "{\"123456789012\":{\"us-east-1\":{\"DescribeImages\":0},\"us-west-2\":{\"DescribeImages\":2}},\"210987654321\":{\"us-east-1\":{\"DescribeImages\":2}}}" >expect &&
	test_cmp expect actual
'

test_expect_success 'a refused request does nothing; a refill through the admin API lets it through' '
	ec2_buckets "{\"Buckets\": {\"DeleteSnapshot\": \"1/0.001\"}}" >/dev/null &&
	: >got &&
	ask DescribeImages &&
	ask DeleteSnapshot SnapshotId=snap-00000000000000001 DryRun=true &&
	ask DeleteSnapshot SnapshotId=snap-00000000000000001 &&
	printf "200\n412\n503\n" >expect && test_cmp expect got &&
	ec2_state us-east-1 >state &&
	jq -e ".Regions[\"us-east-1\"].Snapshots | length == 1" state &&
	ec2_buckets "{}" >/dev/null &&
	: >got &&
	ask DeleteSnapshot SnapshotId=snap-00000000000000001 &&
	echo 200 >expect && test_cmp expect got
'

test_expect_success '--throttle: EC2s documented sizes; unfiltered, unpaginated describes have their own bucket' '
	ec2_start seed.json --throttle &&
	: >got &&
	ask DescribeSnapshots &&
	ask DescribeSnapshots MaxResults=5 &&
	ask DescribeSnapshots Filter.1.Name=status Filter.1.Value.1=completed &&
	ask DeregisterImage ImageId=ami-00000000000000009 &&
	ask CopyImage SourceRegion=us-east-1 SourceImageId=ami-00000000000000009 Name=x &&
	ask EnableImageDeprecation ImageId=ami-00000000000000009 DeprecateAt=2030-01-01T00:00:00Z &&
	ask RunInstances ImageId=ami-00000000000000009 MinCount=1 MaxCount=3 &&
	ec2_requests >requests &&
	jq -r ".[] | .Bucket" requests >actual &&
	cat >expect <<-\EOF &&
	DescribeSnapshots.Unfiltered
	DescribeSnapshots
	DescribeSnapshots
	DeregisterImage
	CopyImage
	EnableImageDeprecation
	RunInstances
	EOF
	test_cmp expect actual &&
	ec2_buckets >buckets &&
	jq -r ".Levels[\"123456789012\"][\"us-east-1\"] | to_entries[] | \"\(.key) \(.value.Capacity)/\(.value.Rate)\"" \
		buckets >actual &&
	cat >expect <<-\EOF &&
	CopyImage 100/1
	DeregisterImage 100/5
	DescribeSnapshots 100/20
	DescribeSnapshots.Unfiltered 50/10
	EnableImageDeprecation 50/5
	RunInstances 5/2
	RunInstances.Resource 1000/2
	EOF
	test_cmp expect actual
'

test_expect_success AWSCLI 'the AWS CLI reads the refusal as RequestLimitExceeded' '
	ec2_start seed.json --bucket DescribeImages=1/0.001 &&
	AWS_MAX_ATTEMPTS=1 ec2_aws ec2 describe-images --owners self >out &&
	jq -e ".Images == []" out &&
	test_expect_code 254 env AWS_MAX_ATTEMPTS=1 AWS_PAGER= /usr/bin/aws --no-cli-pager --output json \
		--endpoint-url "$EC2_URL" ec2 describe-images --owners self >out 2>err &&
	test_grep "RequestLimitExceeded" err
'

test_expect_success '--rtt: requests still answer; bad --bucket and --rtt values refuse to start' '
	ec2_start seed.json --rtt 20 &&
	: >got && ask DescribeImages && echo 200 >expect && test_cmp expect got &&
	test_grep "rtt=20ms" "$EC2_DIR/log" &&
	for bad in "--bucket DescribeImages" "--bucket DescribeImages=0/5" "--bucket DescribeImages=5/0" \
		"--bucket =5/5" "--bucket DescribeImages=5" "--rtt -1"
	do
		test_expect_code 2 /usr/bin/python3 "$TEST_DIR"/ec2-endpoint.py serve --port-file p $bad 2>err &&
		! test -e p || return 1
	done
'

test_done
