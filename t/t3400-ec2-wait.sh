#!/bin/bash
# ec2-wait against the local EC2 endpoint: instances running with an address, images available,
# instances terminated; refreshed records in input order; batches per region; the progress line.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {"Images": [{"ImageId": "ami-0a000000000000001", "Name": "web-1", "CreationDate": "2024-05-01T12:00:00.000Z"}]},
  "eu-west-1": {"Images": [{"ImageId": "ami-0e000000000000001", "Name": "web-1", "CreationDate": "2024-05-01T12:00:00.000Z"}]}
}}
EOF

# launch REGION IMAGE N: starts N instances; prints one record a line, {"InstanceId","Region"}.
launch () {
	ec2_query -r "$1" RunInstances "ImageId=$2" "MinCount=$3" "MaxCount=$3" >launch.xml &&
	sed -n "s/.*<instanceId>\(i-[0-9a-f]*\)<\/instanceId>.*/\1/p" launch.xml >launch.ids &&
	test_line_count = "$3" launch.ids &&
	while read -r id; do
		printf "{\"InstanceId\":\"%s\",\"Region\":\"%s\",\"Probe\":\"ok\"}\n" "$id" "$1"
	done <launch.ids
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	ec2_settings "{\"InstancePendingDescribes\":2,\"ImagePendingDescribes\":2}"
'

test_expect_success '--running: each instance printed running, with its public address' '
	launch us-east-1 ami-0a000000000000001 3 >launched &&
	ec2_reset_counts &&
	ec2-wait --running launched >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.InstanceId, .Region, .State.Name, .PublicIpAddress, .ImageId, .Probe, .Result.Action, .Result.Status] | @tsv" out >actual &&
	jq -r "[.InstanceId, .Region, \"running\", \"127.0.0.1\", \"ami-0a000000000000001\", \"ok\", \"wait\", \"done\"] | @tsv" launched >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeInstances)" = 3
'

test_expect_success 'records come out in input order, whatever order EC2 answers in' '
	ec2_settings "{\"InstancePendingDescribes\":1}" &&
	tac launched >reversed &&
	ec2-wait --running <reversed >out &&
	jq -r .InstanceId out >actual &&
	jq -r .InstanceId reversed >expect &&
	test_cmp expect actual
'

test_expect_success 'instances in two regions: one describe a poll per region' '
	launch us-east-1 ami-0a000000000000001 2 >east &&
	launch eu-west-1 ami-0e000000000000001 2 >west &&
	cat east west east >both &&
	ec2_reset_counts &&
	ec2-wait --running both >out &&
	test_line_count = 6 out &&
	jq -r "[.Region, .State.Name] | @tsv" out | sort | uniq -c | sed "s/^ *//" >actual &&
	printf "2 eu-west-1\trunning\n4 us-east-1\trunning\n" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeInstances us-east-1)" = 2 &&
	test "$(ec2_count DescribeInstances eu-west-1)" = 2 &&
	ec2_requests >reqs.json &&
	jq -c "[.[] | select(.Action == \"DescribeInstances\") | .Params | to_entries | map(select(.key | startswith(\"Filter.1.Value\"))) | length] | unique" reqs.json >actual &&
	echo "[2]" >expect &&
	test_cmp expect actual
'

test_expect_success 'records without Region are looked up in --region' '
	jq -c "del(.Region)" west >noregion &&
	ec2-wait --running --region eu-west-1 noregion >out &&
	jq -r "[.Region, .State.Name] | @tsv" out >actual &&
	printf "eu-west-1\trunning\neu-west-1\trunning\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--running --private: the private address is enough' '
	ec2_settings "{\"Launch\":{\"PublicIpAddress\":null}}" &&
	launch us-east-1 ami-0a000000000000001 1 >private &&
	ec2-wait --running --private private >out &&
	jq -r "[.State.Name, .PrivateIpAddress, .PublicIpAddress, .Result.Status] | @tsv" out >actual &&
	printf "running\t127.0.0.1\t\tdone\n" >expect &&
	test_cmp expect actual &&
	ec2_settings "{\"Launch\":{\"PublicIpAddress\":\"127.0.0.1\"}}"
'

test_expect_success '--available: copies are printed once available' '
	ec2_query -r eu-west-1 CopyImage SourceImageId=ami-0a000000000000001 SourceRegion=us-east-1 \
		Name=web-copy >copy.xml &&
	id=$(sed -n "s/.*<imageId>\(ami-[0-9a-f]*\)<\/imageId>.*/\1/p" copy.xml) &&
	test -n "$id" &&
	printf "{\"ImageId\":\"%s\",\"Region\":\"eu-west-1\",\"Packer\":{\"Version\":\"3\"}}\n" "$id" >copies &&
	ec2_reset_counts &&
	ec2-wait --available copies >out &&
	jq -r "[.ImageId, .Name, .State, .Packer.Version, .Result.Status] | @tsv" out >actual &&
	printf "%s\tweb-copy\tavailable\t3\tdone\n" "$id" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeImages eu-west-1)" = 3
'

test_expect_success '--terminated: terminated instances, and one no longer described at all' '
	launch us-east-1 ami-0a000000000000001 2 >doomed &&
	ec2-wait --running doomed >running &&
	args=$(jq -r .InstanceId doomed | awk "{ printf \"InstanceId.%d=%s \", NR, \$0 }") &&
	ec2_query TerminateInstances $args >/dev/null &&
	echo "{\"InstanceId\":\"i-0ffffffffffffffff\",\"Region\":\"us-east-1\"}" >>running &&
	ec2-wait --terminated running >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.InstanceId, .State.Name, .Result.Status] | @tsv" out >actual &&
	{ jq -r "[.InstanceId, \"terminated\", \"done\"] | @tsv" doomed &&
	  printf "i-0ffffffffffffffff\t\tdone\n"; } >expect &&
	test_cmp expect actual
'

test_expect_success 'instances already running: one describe, nothing more' '
	ec2_reset_counts &&
	ec2-wait --running launched >out &&
	test_line_count = 3 out &&
	test "$(ec2_count DescribeInstances)" = 1
'

test_expect_success 'no input: no output, no request' '
	ec2_reset_counts &&
	ec2-wait --available </dev/null >out &&
	test_line_count = 0 out &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success 'without a terminal, a plain line at each change (progress.h)' '
	launch us-east-1 ami-0a000000000000001 1 >one &&
	(unset AMICYCLE_PROGRESS && ec2-wait --running one >out 2>err) &&
	id=$(jq -r .InstanceId one) &&
	sed "s/ [0-9hms]* \/ / T \/ /" err >actual &&
	cat >expect <<-EOF &&
	ec2-wait: 0 of 1 running, 1 pending (us-east-1 $id) T / 10m
	ec2-wait: 1 of 1 running T / 10m
	EOF
	test_cmp expect actual
'

command -v script >/dev/null 2>&1 && test_set_prereq SCRIPT

test_expect_success SCRIPT 'on a terminal, a progress line rewritten in place, then cleared' '
	launch us-east-1 ami-0a000000000000001 2 >two &&
	(unset AMICYCLE_PROGRESS && script -qec "ec2-wait --running two >out" /dev/null >typescript) &&
	test_line_count = 2 out &&
	first=$(jq -r .InstanceId two | head -n 1) &&
	test_grep "ec2-wait: 0 of 2 running, 2 pending (us-east-1 $first) [0-9hms]* / 10m" typescript &&
	esc=$(printf "\033") &&
	test_grep "$(printf "\r")${esc}\[K\$" typescript
'

test_done
