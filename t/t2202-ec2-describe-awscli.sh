#!/bin/bash
# ec2-describe and the real AWS CLI (Debian's awscli) read the same endpoint into the same records:
# the same names, the same types, the same timestamps, plus Region.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF_'
{"Regions": {"us-east-1": {
  "Images": [
    {"ImageId": "ami-0c000000000000001", "Name": "web-1", "Description": "web image",
     "CreationDate": "2024-05-01T12:00:00.000Z", "Architecture": "x86_64", "Public": false,
     "EnaSupport": true, "RootDeviceName": "/dev/xvda", "RootDeviceType": "ebs",
     "VirtualizationType": "hvm", "Hypervisor": "xen", "ImageType": "machine",
     "Tags": [{"Key": "Project", "Value": "web"}, {"Key": "GitSha", "Value": "4e1c2a9"}],
     "BlockDeviceMappings": [
       {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0c000000000000001", "VolumeSize": 8,
        "VolumeType": "gp3", "DeleteOnTermination": true, "Encrypted": false}},
       {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"}]},
    {"ImageId": "ami-0c000000000000002", "Name": "web-2", "CreationDate": "2024-06-01T12:00:00.000Z",
     "DeprecationTime": "2024-09-01T00:00:00.000Z", "State": "available"}
  ],
  "Snapshots": [
    {"SnapshotId": "snap-0c000000000000001", "VolumeId": "vol-0c000000000000001", "VolumeSize": 8,
     "StartTime": "2024-05-01T11:58:03.512Z", "Progress": "100%", "Encrypted": false,
     "Description": "Created by CreateImage", "Tags": [{"Key": "Project", "Value": "web"}]}
  ],
  "Instances": [
    {"InstanceId": "i-0c000000000000001", "ImageId": "ami-0c000000000000001", "InstanceType": "t3.micro",
     "LaunchTime": "2024-05-02T10:00:00.000Z", "PublicIpAddress": "203.0.113.7",
     "PrivateIpAddress": "10.0.0.7", "Tags": [{"Key": "Purpose", "Value": "image-test"}],
     "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"}}
  ]}}}
EOF_

test_expect_success AWSCLI 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success AWSCLI 'images: the same records as aws ec2 describe-images' '
	ec2_aws ec2 describe-images --owners self >cli.json &&
	jq -c ".Images[] | . + {Region: \"us-east-1\"}" cli.json >expect &&
	test_line_count = 2 expect &&
	ec2-describe images >actual &&
	test_json_eq expect actual
'

test_expect_success AWSCLI 'instances: the same records as aws ec2 describe-instances' '
	ec2_aws ec2 describe-instances >cli.json &&
	jq -c ".Reservations[].Instances[] | . + {Region: \"us-east-1\"}" cli.json >expect &&
	test_line_count = 1 expect &&
	jq -e ".LaunchTime == \"2024-05-02T10:00:00+00:00\"" expect &&
	ec2-describe instances >actual &&
	test_json_eq expect actual
'

test_expect_success AWSCLI 'snapshots: the same records as aws ec2 describe-snapshots' '
	ec2_aws ec2 describe-snapshots --owner-ids self >cli.json &&
	jq -c ".Snapshots[] | . + {Region: \"us-east-1\"}" cli.json >expect &&
	test_line_count = 1 expect &&
	ec2-describe snapshots >actual &&
	test_json_eq expect actual
'

test_done
