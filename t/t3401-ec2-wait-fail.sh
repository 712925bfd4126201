#!/bin/bash
# ec2-wait when things do not get there: the timeout names what is still waiting and still
# prints every record; a state that cannot be left ends the wait at once; a failed describe;
# records of the wrong kind and other bad input (exit 3); usage errors (exit 2).
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {
    "Images": [
      {"ImageId": "ami-0a000000000000001", "Name": "web-1", "CreationDate": "2024-05-01T12:00:00.000Z"},
      {"ImageId": "ami-0a000000000000002", "Name": "web-2", "CreationDate": "2024-05-01T12:00:00.000Z",
       "State": "failed", "StateReason": {"Code": "Client.InternalError", "Message": "Client.InternalError: snapshot copy failed"}}
    ],
    "Instances": [{"InstanceId": "i-0a000000000000001", "ImageId": "ami-0a000000000000001",
                   "State": {"Code": 16, "Name": "running"}, "PublicIpAddress": "127.0.0.1"}]
  }
}}
EOF

# launch N: starts N instances in us-east-1; prints one record a line.
launch () {
	ec2_query RunInstances ImageId=ami-0a000000000000001 "MinCount=$1" "MaxCount=$1" >launch.xml &&
	sed -n "s/.*<instanceId>\(i-[0-9a-f]*\)<\/instanceId>.*/\1/p" launch.xml >launch.ids &&
	test_line_count = "$1" launch.ids &&
	while read -r id; do
		printf "{\"InstanceId\":\"%s\",\"Region\":\"us-east-1\"}\n" "$id"
	done <launch.ids
}

test_expect_success 'start the local EC2 endpoint; new instances stay pending' '
	ec2_start seed.json &&
	ec2_settings "{\"InstancePendingDescribes\":1000}"
'

test_expect_success 'the timeout: exit 1, one line per instance still waiting, every record printed' '
	launch 2 >pending &&
	cat pending >input &&
	echo "{\"InstanceId\":\"i-0a000000000000001\",\"Region\":\"us-east-1\"}" >>input &&
	test_expect_code 1 ec2-wait --running --timeout 2s input >out 2>err &&
	jq -r "\"ec2-wait: us-east-1 \(.InstanceId): still pending after 2s\"" pending >expect &&
	test_cmp expect err &&
	jq -r "[.InstanceId, .State.Name, .Result.Status, .Result.Reason] | @tsv" out >actual &&
	{ jq -r "[.InstanceId, \"pending\", \"failed\", \"still pending after 2s\"] | @tsv" pending &&
	  printf "i-0a000000000000001\trunning\tdone\t\n"; } >expect &&
	test_cmp expect actual
'

test_expect_success 'the timeout bounds the wait: a few describes, never one a second' '
	ec2_reset_counts &&
	test_expect_code 1 ec2-wait --running --timeout 3s pending >out 2>err &&
	n=$(ec2_count DescribeInstances) &&
	test "$n" -ge 1 && test "$n" -le 4
'

test_expect_success '--timeout 0s: one describe' '
	ec2_reset_counts &&
	test_expect_code 1 ec2-wait --running --timeout 0s pending >out 2>err &&
	test "$(ec2_count DescribeInstances)" = 1 &&
	test_line_count = 2 out
'

test_expect_success 'terminated while waited for running: exit 1 at once, naming it' '
	launch 2 >two &&
	first=$(jq -r .InstanceId two | head -n 1) &&
	ec2_query TerminateInstances "InstanceId.1=$first" >/dev/null &&
	test_expect_code 1 timeout 60 ec2-wait --running two >out 2>err &&
	test_line_count = 1 err &&
	test_grep "^ec2-wait: us-east-1 $first: instance shutting-down: " err &&
	jq -r "[.InstanceId, .State.Name, .Result.Status] | @tsv" out >actual &&
	{ jq -r "[.InstanceId, \"shutting-down\", \"failed\"] | @tsv" two | head -n 1 &&
	  jq -r "[.InstanceId, \"pending\", \"failed\"] | @tsv" two | tail -n 1; } >expect &&
	test_cmp expect actual &&
	jq -r .Result.Reason out | tail -n 1 >actual &&
	echo "still pending when the wait stopped" >expect &&
	test_cmp expect actual
'

test_expect_success 'interrupted: every record printed as it is, then death by the signal' '
	ec2_reset_counts &&
	{ ec2-wait --running pending >out 2>err & } &&
	pid=$! &&
	ec2_await DescribeInstances &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 143 &&
	test_line_count = 0 err &&
	jq -r "[.InstanceId, .State.Name, .Result.Status, .Result.Reason] | @tsv" out >actual &&
	jq -r "[.InstanceId, \"pending\", \"interrupted\", \"still pending when interrupted\"] | @tsv" pending >expect &&
	test_cmp expect actual
'

test_expect_success 'an image that failed: exit 1 at once, with its reason' '
	printf "%s\n" "{\"ImageId\":\"ami-0a000000000000002\",\"Region\":\"us-east-1\"}" \
		"{\"ImageId\":\"ami-0a000000000000001\",\"Region\":\"us-east-1\"}" >images &&
	test_expect_code 1 timeout 60 ec2-wait --available images >out 2>err &&
	echo "ec2-wait: us-east-1 ami-0a000000000000002: image failed: Client.InternalError: snapshot copy failed" >expect &&
	test_cmp expect err &&
	jq -r "[.ImageId, .State, .Result.Status] | @tsv" out >actual &&
	printf "ami-0a000000000000002\tfailed\tfailed\nami-0a000000000000001\tavailable\tdone\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a failed image whose reason spans lines: one diagnostic line' '
	cat >forged.json <<-\EOF &&
	{"Regions": {"us-east-1": {"Images": [
	  {"ImageId": "ami-0a000000000000003", "Name": "web-3", "CreationDate": "2024-05-01T12:00:00.000Z",
	   "State": "failed", "StateReason": {"Code": "Client.InternalError",
	   "Message": "copy failed\nec2-wait: us-east-1 ami-0a000000000000001: forged\r\tline"}}]}}}
	EOF
	ec2_seed forged.json merge &&
	echo "{\"ImageId\":\"ami-0a000000000000003\",\"Region\":\"us-east-1\"}" >forged &&
	test_expect_code 1 timeout 60 ec2-wait --available forged >out 2>err &&
	echo "ec2-wait: us-east-1 ami-0a000000000000003: image failed: copy failed ec2-wait: us-east-1 ami-0a000000000000001: forged  line" >expect &&
	test_cmp expect err
'

test_expect_success 'a running instance without a public address: the timeout says so' '
	echo "{\"InstanceId\":\"i-0a000000000000009\",\"Region\":\"us-east-1\",\"State\":{\"Code\":16,\"Name\":\"running\"},\"PrivateIpAddress\":\"10.0.0.9\"}" >noip.json &&
	jq -c "{Regions: {\"us-east-1\": {Instances: [.]}}}" noip.json >noip-seed.json &&
	ec2_seed noip-seed.json merge &&
	test_expect_code 1 ec2-wait --running --timeout 1s noip.json >out 2>err &&
	echo "ec2-wait: us-east-1 i-0a000000000000009: running, but no PublicIpAddress yet after 1s" >expect &&
	test_cmp expect err &&
	ec2-wait --running --private --timeout 1s noip.json >out &&
	jq -r .Result.Status out >actual &&
	echo done >expect &&
	test_cmp expect actual
'

test_expect_success 'an image not found: waited for, then reported at the timeout' '
	echo "{\"ImageId\":\"ami-0a0000000000000ff\",\"Region\":\"us-east-1\"}" >nosuch &&
	test_expect_code 1 ec2-wait --available --timeout 1s nosuch >out 2>err &&
	echo "ec2-wait: us-east-1 ami-0a0000000000000ff: not found yet after 1s" >expect &&
	test_cmp expect err &&
	jq -c . out >actual &&
	echo "{\"ImageId\":\"ami-0a0000000000000ff\",\"Region\":\"us-east-1\",\"Result\":{\"Action\":\"wait\",\"Status\":\"failed\",\"Reason\":\"not found yet after 1s\"}}" >expect &&
	test_cmp expect actual
'

test_expect_success 'a describe that fails: exit 1 at once, said once, every record printed' '
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DescribeInstances\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"You are not authorized to perform this operation.\",\"Status\":403}" &&
	test_expect_code 1 timeout 60 ec2-wait --running pending >out 2>err &&
	test_line_count = 1 err &&
	test_grep "^ec2-wait: us-east-1: DescribeInstances: UnauthorizedOperation: You are not authorized to perform this operation. (request id " err &&
	jq -r "[.InstanceId, .Result.Status] | @tsv" out >actual &&
	jq -r "[.InstanceId, \"failed\"] | @tsv" pending >expect &&
	test_cmp expect actual
'

test_expect_success 'a record an earlier filter failed on is passed on as it is, exit 1' '
	{ echo "{\"ImageId\":\"ami-0a000000000000001\",\"Result\":{\"Action\":\"launch\",\"Status\":\"failed\",\"Reason\":\"InsufficientInstanceCapacity\"}}" &&
	  echo "{\"InstanceId\":\"i-0a000000000000001\",\"Region\":\"us-east-1\"}"; } >upstream &&
	test_expect_code 1 ec2-wait --running upstream >out 2>err &&
	test_line_count = 0 err &&
	head -n 1 upstream | jq -c . >expect &&
	head -n 1 out >actual &&
	test_cmp expect actual &&
	tail -n 1 out | jq -r .Result.Status >actual &&
	echo done >expect &&
	test_cmp expect actual
'

test_expect_success 'records of the wrong kind, or without an id or region: exit 3, nothing described' '
	ec2_reset_counts &&
	check_bad () {
		want=$1 && shift &&
		test_expect_code 3 ec2-wait "$@" bad >out 2>err &&
		test_line_count = 0 out &&
		test_line_count = 1 err &&
		test_grep "^ec2-wait: bad:2: $want" err
	} &&
	printf "%s\n" "{\"InstanceId\":\"i-0a000000000000001\"}" "{\"ImageId\":\"ami-0a000000000000001\"}" >bad &&
	check_bad "ami-0a000000000000001: an image record (ImageId), but --running waits for instances" --running &&
	check_bad "ami-0a000000000000001: an image record (ImageId), but --terminated waits for instances" --terminated &&
	printf "%s\n" "{\"ImageId\":\"ami-0a000000000000001\"}" "{\"InstanceId\":\"i-0a000000000000001\",\"ImageId\":\"ami-0a000000000000001\"}" >bad &&
	check_bad "i-0a000000000000001: an instance record (InstanceId), but --available waits for images" --available &&
	printf "%s\n" "{\"InstanceId\":\"i-0a000000000000001\"}" "{\"Name\":\"x\"}" >bad &&
	check_bad "no InstanceId or ImageId string" --running &&
	printf "%s\n" "{\"InstanceId\":\"i-0a000000000000001\"}" "{\"InstanceId\":\"\"}" >bad &&
	check_bad "InstanceId .. is not an id: i- and 8 or 17 hex digits" --running &&
	printf "%s\n" "{\"InstanceId\":\"i-0a000000000000001\"}" "{\"InstanceId\":\"i-0a000000000000001\",\"Region\":[1]}" >bad &&
	check_bad "Region is not a string" --running &&
	printf "%s\n" "{\"InstanceId\":\"i-0a000000000000001\"}" "not json" >bad &&
	check_bad "" --running &&
	ec2_admin GET /_admin/counts >counts &&
	test "$(jq .Total counts)" = 0
'

test_expect_success 'no Region and no region configured: exit 3' '
	echo "{\"InstanceId\":\"i-0a000000000000001\"}" >noregion &&
	(unset AWS_REGION; test_expect_code 3 ec2-wait --running noregion >out 2>err) &&
	test_grep "^ec2-wait: noregion:1: no Region, and no region configured" err
'

test_expect_success 'usage errors: exit 2' '
	test_expect_code 2 ec2-wait pending 2>err &&
	test_grep "one of --running, --available or --terminated" err &&
	test_expect_code 2 ec2-wait --running --terminated pending 2>err &&
	test_expect_code 2 ec2-wait --available --private pending 2>err &&
	test_grep "only with --running" err &&
	test_expect_code 2 ec2-wait --running --timeout 10 pending 2>err &&
	test_grep "bad duration .10." err &&
	test_expect_code 2 ec2-wait --running -P 0 pending 2>err &&
	test_expect_code 2 ec2-wait --running --dry-run pending 2>err
'

test_done
