#!/bin/bash
# t/ec2-endpoint.py faults: error statuses, a dropped connection (before and after the action is
# applied), a truncated body, a slow answer, Skip and Region targeting, and the counts that include
# every faulted request.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {"Images": [{"ImageId": "ami-00000000000000001", "Name": "web-01",
    "CreationDate": "2024-05-01T12:00:00.000Z",
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-00000000000000001"}}]}],
    "Snapshots": [{"SnapshotId": "snap-00000000000000001"}]},
  "us-west-2": {}}}
EOF

# ask [REGION] ACTION [NAME=VALUE]...: curl's exit status and the HTTP status, one line, into "got";
# the body into "body", curl's messages into "err".
ask () {
	r=us-east-1
	case "$1" in us-*|eu-*) r=$1; shift ;; esac
	ec2_query -r $r "$@" >body 2>err
	echo "$(ec2_curl_exit) $(ec2_status)" >got
}

test_expect_success 'throttle, internal, unavailable and error: EC2 codes with their statuses' '
	ec2_start seed.json &&
	ec2_fault "[{\"Kind\":\"throttle\"},{\"Kind\":\"internal\"},{\"Kind\":\"unavailable\"},
		{\"Kind\":\"error\",\"Code\":\"InvalidParameterValue\",\"Message\":\"no\",\"Status\":400}]" &&
	for want in "503 RequestLimitExceeded" "500 InternalError" "503 Unavailable" "400 InvalidParameterValue"
	do
		ask DescribeImages &&
		echo "0 ${want% *}" >expect && test_cmp expect got &&
		test_grep "<Code>${want#* }</Code>" body || return 1
	done &&
	ask DescribeImages &&
	echo "0 200" >expect && test_cmp expect got &&
	test "$(ec2_count DescribeImages)" = 5
'

test_expect_success 'Skip lets requests through first; Action and Region pick the requests' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"throttle\",\"Action\":\"DescribeImages\",\"Region\":\"us-west-2\",\"Skip\":1,\"Count\":2}" &&
	ask DescribeImages && echo "0 200" >expect && test_cmp expect got &&
	ask DescribeSnapshots && echo "0 200" >expect && test_cmp expect got &&
	ask us-west-2 DescribeImages && echo "0 200" >expect && test_cmp expect got &&
	ask us-west-2 DescribeImages && echo "0 503" >expect && test_cmp expect got &&
	ask us-west-2 DescribeImages && echo "0 503" >expect && test_cmp expect got &&
	ask us-west-2 DescribeImages && echo "0 200" >expect && test_cmp expect got &&
	test "$(ec2_count DescribeImages us-west-2)" = 4 &&
	test "$(ec2_count DescribeImages us-east-1)" = 1 &&
	ec2_admin GET /_admin/faults >faults &&
	echo "[]" >expect && test_cmp expect faults
'

test_expect_success 'drop: no answer at all, and nothing done' '
	ec2_fault DeleteSnapshot drop &&
	ask DeleteSnapshot SnapshotId=snap-00000000000000001 &&
	echo "52 000" >expect && test_cmp expect got &&
	ec2_state >state &&
	jq -e ".Regions[\"us-east-1\"].Snapshots | length == 1" state
'

test_expect_success 'drop-after: CopyImage is done but the answer is lost; the retry with the token finds it' '
	ec2_fault CopyImage drop-after &&
	ask us-west-2 CopyImage SourceRegion=us-east-1 SourceImageId=ami-00000000000000001 Name=web-01 ClientToken=p-1 &&
	echo "52 000" >expect && test_cmp expect got &&
	ec2_state us-west-2 >state &&
	jq -r ".Regions[\"us-west-2\"].Images[].ImageId" state >made &&
	test_line_count = 1 made &&
	ask us-west-2 CopyImage SourceRegion=us-east-1 SourceImageId=ami-00000000000000001 Name=web-01 ClientToken=p-1 &&
	echo "0 200" >expect && test_cmp expect got &&
	echo "<imageId>$(cat made)</imageId>" >expect &&
	sed -n "s/^ *\(<imageId>.*\)/\1/p" body >actual &&
	test_cmp expect actual &&
	ec2_state us-west-2 >state &&
	jq -e ".Regions[\"us-west-2\"].Images | length == 1" state &&
	test "$(ec2_count CopyImage us-west-2)" = 2
'

test_expect_success 'truncate: the full Content-Length is declared, half the body comes, the action is done' '
	ec2_fault DeregisterImage truncate &&
	ask DeregisterImage ImageId=ami-00000000000000001 &&
	echo "18 200" >expect && test_cmp expect got &&
	test_grep "transfer closed with [0-9]* bytes remaining" err &&
	test_grep "<DeregisterImageResponse" body &&
	test_grep -v "</DeregisterImageResponse>" body &&
	ec2_state >state &&
	jq -e ".Regions[\"us-east-1\"].Images == []" state
'

test_expect_success 'slow: the answer comes after the delay, complete' '
	ec2_fault "{\"Kind\":\"slow\",\"DelayMs\":300}" &&
	start=$(date +%s%N) &&
	ask DescribeSnapshots &&
	end=$(date +%s%N) &&
	echo "0 200" >expect && test_cmp expect got &&
	test_grep "</DescribeSnapshotsResponse>" body &&
	test $(( (end - start) / 1000000 )) -ge 300
'

test_expect_success 'bad faults are refused; DELETE clears the pending ones' '
	test_must_fail ec2_admin POST /_admin/faults "{\"Kind\":\"explode\"}" >out &&
	test_grep "unknown fault kind" out &&
	ec2_fault DescribeImages throttle 5 &&
	ec2_admin DELETE /_admin/faults >out &&
	echo "[]" >expect && test_cmp expect out &&
	ask DescribeImages && echo "0 200" >expect && test_cmp expect got
'

test_expect_success 'the log has one line per request, faults named, no secret' '
	test_grep "DeleteSnapshot 0 - .* fault=drop$" "$EC2_DIR/log" &&
	test_grep "CopyImage 200 - .* fault=drop-after" "$EC2_DIR/log" &&
	test_grep -v amicycle-secret "$EC2_DIR/log"
'

test_done
