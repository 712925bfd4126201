#!/bin/bash
# ec2-describe against the local EC2 endpoint: listings, filters, paging, regions, refresh by id.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

# Images of two projects in us-east-1, one in eu-west-1; an instance; a snapshot.
cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {
    "Images": [
      {"ImageId": "ami-0a000000000000001", "Name": "web-1", "CreationDate": "2024-05-01T12:00:00.000Z",
       "Tags": [{"Key": "Project", "Value": "web"}],
       "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8, "DeleteOnTermination": true}}]},
      {"ImageId": "ami-0a000000000000002", "Name": "web-2", "CreationDate": "2024-06-01T12:00:00.000Z",
       "Tags": [{"Key": "Project", "Value": "web"}], "DeprecationTime": "2024-07-01T00:00:00.000Z"},
      {"ImageId": "ami-0a000000000000003", "Name": "db-1", "CreationDate": "2024-06-02T12:00:00.000Z",
       "Tags": [{"Key": "Project", "Value": "db"}]}
    ],
    "Snapshots": [{"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8, "StartTime": "2024-05-01T11:00:00.000Z"}],
    "Instances": [{"InstanceId": "i-0a000000000000001", "ImageId": "ami-0a000000000000001",
                   "InstanceType": "t3.micro", "LaunchTime": "2024-05-02T10:00:00.000Z"}]
  },
  "eu-west-1": {
    "Images": [
      {"ImageId": "ami-0e000000000000001", "Name": "web-1", "CreationDate": "2024-05-01T13:00:00.000Z",
       "Tags": [{"Key": "Project", "Value": "web"}]}
    ]
  }
}}
EOF

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'images owned by the account, each with its Region' '
	ec2-describe images >out &&
	jq -r "[.Region, .ImageId, .Name, .State] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	us-east-1	ami-0a000000000000001	web-1	available
	us-east-1	ami-0a000000000000002	web-2	available
	us-east-1	ami-0a000000000000003	db-1	available
	EOF
	test_cmp expect actual
'

test_expect_success 'records are typed as the AWS CLI prints them' '
	ec2-describe images ami-0a000000000000001 >out &&
	jq -c ".BlockDeviceMappings[0].Ebs, .Tags" out >actual &&
	cat >expect <<-\EOF &&
	{"DeleteOnTermination":true,"SnapshotId":"snap-0a000000000000001","VolumeSize":8}
	[{"Key":"Project","Value":"web"}]
	EOF
	jq -S -c . actual >actual.s && jq -S -c . expect >expect.s &&
	test_cmp expect.s actual.s
'

test_expect_success 'the request asked for deprecated and disabled images, 1000 a page' '
	ec2_reset_counts &&
	ec2-describe images >out &&
	ec2_requests >reqs &&
	jq -S -c ".[0].Params" reqs >actual &&
	echo "{\"IncludeDeprecated\":\"true\",\"IncludeDisabled\":\"true\",\"MaxResults\":\"1000\",\"Owner.1\":\"self\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'a filter in the CLI shorthand' '
	ec2-describe images --filter Name=tag:Project,Values=db,nothing >out &&
	jq -r .ImageId out >actual &&
	echo ami-0a000000000000003 >expect &&
	test_cmp expect actual
'

test_expect_success 'several regions at once, in the order given' '
	ec2-describe images --region eu-west-1 --region us-east-1 \
		--filter Name=name,Values=web-1 >out &&
	jq -r "[.Region, .ImageId] | @tsv" out >actual &&
	printf "eu-west-1\tami-0e000000000000001\nus-east-1\tami-0a000000000000001\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'instances come one a line, out of their reservations' '
	ec2-describe instances >out &&
	jq -r "[.Region, .InstanceId, .ImageId, .State.Name] | @tsv" out >actual &&
	printf "us-east-1\ti-0a000000000000001\tami-0a000000000000001\trunning\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'snapshots' '
	ec2-describe snapshots >out &&
	jq -r "[.Region, .SnapshotId, .VolumeSize] | @tsv" out >actual &&
	printf "us-east-1\tsnap-0a000000000000001\t8\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'an id that does not exist is an error, as with the AWS CLI' '
	test_expect_code 1 ec2-describe images ami-0ffffffffffffffff >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^ec2-describe: us-east-1: DescribeImages: InvalidAMIID.NotFound: .* (request id [-0-9a-f]*)$" err
'

test_expect_success 'refresh: records from stdin, as they are now, keeping what the pipeline added' '
	cat >in <<-\EOF &&
	{"ImageId":"ami-0e000000000000001","Region":"eu-west-1","Name":"stale","Packer":{"BuildName":"web"}}
	{"ImageId":"ami-0a000000000000003","Region":"us-east-1","Result":{"Action":"tag","Status":"done"}}
	EOF
	ec2-describe images - <in >out &&
	jq -c "[.ImageId, .Region, .Name, .Packer, .Result.Status]" out >actual &&
	cat >expect <<-\EOF &&
	["ami-0e000000000000001","eu-west-1","web-1",{"BuildName":"web"},null]
	["ami-0a000000000000003","us-east-1","db-1",null,"done"]
	EOF
	test_cmp expect actual
'

test_expect_success 'refresh reports an id that no longer exists, and exits 1' '
	cat >in <<-\EOF &&
	{"ImageId":"ami-0a000000000000001"}
	{"ImageId":"ami-0dddddddddddddddd"}
	EOF
	test_expect_code 1 ec2-describe images - <in >out 2>err &&
	jq -r .ImageId out >actual &&
	echo ami-0a000000000000001 >expect &&
	test_cmp expect actual &&
	echo "ec2-describe: us-east-1 ami-0dddddddddddddddd: no longer exists" >expect &&
	test_cmp expect err
'

test_expect_success 'refresh batches ids: one call per region for many records' '
	ec2_reset_counts &&
	for i in $(seq 1 150); do echo "{\"ImageId\":\"ami-0a000000000000001\"}"; done >in &&
	ec2-describe images - <in >out &&
	test_line_count = 150 out &&
	test "$(ec2_count DescribeImages)" = 1
'

test_expect_success 'refresh: bad input is exit 3 naming the line, and nothing is asked' '
	ec2_reset_counts &&
	printf "{\"ImageId\":\"ami-0a000000000000001\"}\n{\"Name\":\"x\"}\n" >in &&
	test_expect_code 3 ec2-describe images - <in >out 2>err &&
	test_line_count = 0 out &&
	echo "ec2-describe: stdin:2: no ImageId" >expect &&
	test_cmp expect err &&
	printf "[1]\n" >in &&
	test_expect_code 3 ec2-describe images - <in 2>err &&
	test_grep "stdin:1: not a JSON object" err &&
	test "$(ec2_count DescribeImages)" = 0
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 ec2-describe volumes 2>err &&
	test_grep "volumes: not images, instances or snapshots" err &&
	test_expect_code 2 ec2-describe images --filter tag:Project=web 2>err &&
	test_grep "expected Name=NAME,Values=V1,V2" err &&
	test_expect_code 2 ec2-describe instances --owner self 2>err &&
	test_expect_code 2 ec2-describe images -P 0 2>err &&
	test_expect_code 2 ec2-describe images - ami-0a000000000000001 2>err &&
	test_expect_code 2 ec2-describe 2>err &&
	(unset AWS_REGION; test_expect_code 2 ec2-describe images 2>err) &&
	test_grep "no region" err
'

test_done
