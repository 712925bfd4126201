#!/bin/bash
# t/ec2-endpoint.py write side, proved with the real AWS CLI: create-tags, delete-tags, copy-image
# (idempotent by client token), deregister-image, run-instances (dry run, then for real),
# get-console-output and terminate-instances.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {
    "Images": [
      {"ImageId": "ami-00000000000000001", "Name": "web-01", "State": "available", "Architecture": "x86_64",
       "CreationDate": "2024-05-01T12:00:00.000Z", "RootDeviceName": "/dev/xvda", "RootDeviceType": "ebs",
       "VirtualizationType": "hvm", "EnaSupport": true,
       "Tags": [{"Key": "Project", "Value": "web"}, {"Key": "Build", "Value": "1"}],
       "BlockDeviceMappings": [{"DeviceName": "/dev/xvda",
         "Ebs": {"SnapshotId": "snap-00000000000000001", "VolumeSize": 8, "VolumeType": "gp3",
                 "DeleteOnTermination": true, "Encrypted": false}}]},
      {"ImageId": "ami-00000000000000002", "Name": "web-02", "State": "available",
       "CreationDate": "2024-05-02T12:00:00.000Z"}],
    "Snapshots": [{"SnapshotId": "snap-00000000000000001", "VolumeSize": 8, "StartTime": "2024-05-01T11:00:00+00:00"}]},
  "us-west-2": {}},
 "ConsoleOutput": {"default": "cloud-init: booting\n-----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 AAAAC3Nza test\n-----END SSH HOST KEY KEYS-----\n"}}
EOF

test_expect_success 'create-tags on an image and its snapshot' '
	ec2_start seed.json &&
	ec2_aws ec2 create-tags --resources ami-00000000000000001 snap-00000000000000001 \
		--tags Key=Environment,Value=staging Key=Build,Value=2 &&
	ec2_state us-east-1 >state &&
	jq -c ".Regions[\"us-east-1\"] | [.Images[0].Tags, .Snapshots[0].Tags]" state >actual &&
	echo "[[{\"Key\":\"Project\",\"Value\":\"web\"},{\"Key\":\"Build\",\"Value\":\"2\"},{\"Key\":\"Environment\",\"Value\":\"staging\"}],[{\"Key\":\"Environment\",\"Value\":\"staging\"},{\"Key\":\"Build\",\"Value\":\"2\"}]]" >expect &&
	test_cmp expect actual
'

test_expect_success 'delete-tags: a key alone deletes, a key with another value does not' '
	ec2_aws ec2 delete-tags --resources ami-00000000000000001 --tags Key=Build,Value=1 Key=Environment &&
	ec2_state us-east-1 >state &&
	jq -c ".Regions[\"us-east-1\"].Images[0].Tags" state >actual &&
	echo "[{\"Key\":\"Project\",\"Value\":\"web\"},{\"Key\":\"Build\",\"Value\":\"2\"}]" >expect &&
	test_cmp expect actual
'

test_expect_success 'copy-image to us-west-2 twice with one client token: one image' '
	ec2_aws --region us-west-2 ec2 copy-image --source-region us-east-1 --source-image-id ami-00000000000000001 \
		--name web-01-copy --copy-image-tags --client-token promote-web-01 >first &&
	ec2_aws --region us-west-2 ec2 copy-image --source-region us-east-1 --source-image-id ami-00000000000000001 \
		--name web-01-copy --copy-image-tags --client-token promote-web-01 >second &&
	test_cmp first second &&
	id=$(jq -r .ImageId first) &&
	ec2_state us-west-2 >state &&
	jq -r ".Regions[\"us-west-2\"].Images[] | [.ImageId, .State, .SourceImageId, .SourceImageRegion, (.Tags | map(.Key + \"=\" + .Value) | join(\",\"))] | @tsv" state >actual &&
	printf "%s\tpending\tami-00000000000000001\tus-east-1\tProject=web,Build=2\n" "$id" >expect &&
	test_cmp expect actual &&
	jq -r ".Regions[\"us-west-2\"].Snapshots[] | .State + \" \" + .SnapshotId" state >snaps &&
	test_line_count = 1 snaps &&
	snap=$(jq -r ".Regions[\"us-west-2\"].Images[0].BlockDeviceMappings[0].Ebs.SnapshotId" state) &&
	echo "pending $snap" >expect &&
	test_cmp expect snaps
'

test_expect_success 'the copy becomes available after one describe, and so does its snapshot' '
	ec2_query -r us-west-2 DescribeImages Owner.1=self >first.xml &&
	test_grep "<imageState>pending</imageState>" first.xml &&
	ec2_query -r us-west-2 DescribeImages Owner.1=self >second.xml &&
	test_grep "<imageState>available</imageState>" second.xml &&
	ec2_state us-west-2 >state &&
	jq -r ".Regions[\"us-west-2\"].Snapshots[].State" state >actual &&
	echo completed >expect &&
	test_cmp expect actual
'

test_expect_success 'deregister-image, then again: InvalidAMIID.Unavailable' '
	ec2_aws ec2 deregister-image --image-id ami-00000000000000002 &&
	test_expect_code 254 ec2_aws ec2 deregister-image --image-id ami-00000000000000002 2>err &&
	test_grep "(InvalidAMIID.Unavailable) when calling the DeregisterImage operation" err &&
	ec2_state us-east-1 >state &&
	jq -r ".Regions[\"us-east-1\"] | [(.Images | map(.ImageId) | join(\",\")), (.DeregisteredImageIds | join(\",\"))] | @tsv" state >actual &&
	printf "ami-00000000000000001\tami-00000000000000002\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'run-instances --dry-run: DryRunOperation, nothing launched' '
	test_expect_code 254 ec2_aws ec2 run-instances --image-id ami-00000000000000001 --instance-type t3.micro \
		--count 1 --dry-run 2>err &&
	test_grep "(DryRunOperation) when calling the RunInstances operation: Request would have succeeded, but DryRun flag is set." err &&
	ec2_state us-east-1 >state &&
	jq -e ".Regions[\"us-east-1\"].Reservations == []" state
'

test_expect_success 'run-instances: pending, with every parameter the launcher sends' '
	printf "#!/bin/sh" >user-data &&
	ec2_aws ec2 run-instances --image-id ami-00000000000000001 --instance-type t3.micro --count 1 \
		--key-name ci --subnet-id subnet-0123456789abcdef0 --security-group-ids sg-0123456789abcdef0 \
		--iam-instance-profile Name=image-test --user-data file://user-data \
		--metadata-options HttpTokens=required --instance-initiated-shutdown-behavior terminate \
		--tag-specifications "ResourceType=instance,Tags=[{Key=Purpose,Value=image-test},{Key=SourceImageId,Value=ami-00000000000000001}]" \
		--client-token launch-1 >run &&
	jq -r ".Instances[] | [.State.Name, .ImageId, .InstanceType, .KeyName, .SubnetId, .SecurityGroups[0].GroupId, .MetadataOptions.HttpTokens, .IamInstanceProfile.Arn, (.Tags | map(.Key + \"=\" + .Value) | join(\",\"))] | @tsv" run >actual &&
	printf "pending\tami-00000000000000001\tt3.micro\tci\tsubnet-0123456789abcdef0\tsg-0123456789abcdef0\trequired\tarn:aws:iam::123456789012:instance-profile/image-test\tPurpose=image-test,SourceImageId=ami-00000000000000001\n" >expect &&
	test_cmp expect actual &&
	ec2_state us-east-1 >state &&
	jq -r ".Regions[\"us-east-1\"].Reservations[0].Instances[0] | [._InstanceInitiatedShutdownBehavior, (._UserData | @base64d)] | @tsv" state >actual &&
	printf "terminate\t#!/bin/sh\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the instance runs after one describe, at the seeded address' '
	id=$(jq -r ".Instances[0].InstanceId" run) &&
	ec2_query DescribeInstances InstanceId.1=$id >first.xml &&
	test_grep "<name>pending</name>" first.xml &&
	ec2_aws ec2 describe-instances --instance-ids $id >out &&
	jq -r ".Reservations[].Instances[] | [.State.Name, .PublicIpAddress, .PrivateIpAddress] | @tsv" out >actual &&
	printf "running\t127.0.0.1\t127.0.0.1\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'get-console-output gives the seeded console text' '
	id=$(jq -r ".Instances[0].InstanceId" run) &&
	ec2_aws ec2 get-console-output --instance-id $id --latest >out &&
	jq -r .Output out >actual &&
	jq -r .ConsoleOutput.default seed.json >expect &&
	test_cmp expect actual
'

test_expect_success 'terminate-instances: running to shutting-down' '
	id=$(jq -r ".Instances[0].InstanceId" run) &&
	ec2_aws ec2 terminate-instances --instance-ids $id >out &&
	jq -r ".TerminatingInstances[] | [.InstanceId, .PreviousState.Name, .PreviousState.Code, .CurrentState.Name, .CurrentState.Code] | @tsv" out >actual &&
	printf "%s\trunning\t16\tshutting-down\t32\n" $id >expect &&
	test_cmp expect actual
'

test_done
