#!/bin/bash
# t/ec2-endpoint.py with several accounts, proved with the real AWS CLI: access keys mapped to
# accounts, STS AssumeRole per account (with an ExternalId), images another account sees only through
# launch permissions (an account, an organization, an OU, all), createVolumePermission on snapshots,
# CopyImage of a shared image (which needs its snapshots shared too), and the AWS-managed EBS key,
# whose snapshots cannot be shared.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

A=111111111111 B=222222222222 C=333333333333
ORG=arn:aws:organizations::999999999999:organization/o-amicycle01
OU=arn:aws:organizations::999999999999:ou/o-amicycle01/ou-ab12-amicycle
cat >seed.json <<EOF
{"AccountId": "$A",
 "Accounts": {
  "$B": {"Credentials": [{"AccessKeyId": "AKIAAMICYCLEACCTB001", "SecretAccessKey": "amicycle-secret-b"}],
         "OrganizationArn": "$ORG", "Roles": {"prod-deploy": {"ExternalId": "amicycle-ext"}, "prod-open": {}}},
  "$C": {"Credentials": [{"AccessKeyId": "AKIAAMICYCLEACCTC001", "SecretAccessKey": "amicycle-secret-c"}],
         "OrganizationArn": "$ORG", "OrganizationalUnitArns": ["$OU"]}},
 "Regions": {"us-east-1": {
  "Images": [
   {"ImageId": "ami-0a000000000000001", "Name": "web-1", "CreationDate": "2026-01-01T00:00:00.000Z",
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000001"}}]},
   {"ImageId": "ami-0a000000000000002", "Name": "web-2-default-key", "CreationDate": "2026-01-01T00:00:00.000Z",
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000002",
      "Encrypted": true}}]}],
  "Snapshots": [
   {"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8, "Encrypted": false},
   {"SnapshotId": "snap-0a000000000000002", "VolumeSize": 8, "Encrypted": true, "KmsKeyId": "alias/aws/ebs"}]},
  "eu-west-1": {}}}
EOF

as_b () {
	AWS_ACCESS_KEY_ID=AKIAAMICYCLEACCTB001 AWS_SECRET_ACCESS_KEY=amicycle-secret-b "$@"
}
as_c () {
	AWS_ACCESS_KEY_ID=AKIAAMICYCLEACCTC001 AWS_SECRET_ACCESS_KEY=amicycle-secret-c "$@"
}

test_expect_success 'each access key acts as its own account' '
	ec2_start seed.json &&
	ec2_aws sts get-caller-identity --query Account --output text >actual &&
	as_b ec2_aws sts get-caller-identity --query Account --output text >>actual &&
	as_c ec2_aws sts get-caller-identity --query Account --output text >>actual &&
	printf "%s\n" $A $B $C >expect &&
	test_cmp expect actual
'

test_expect_success 'AssumeRole of a role of B gives credentials of B; its ExternalId is required' '
	test_expect_code 254 ec2_aws sts assume-role --role-arn arn:aws:iam::$B:role/prod-deploy \
		--role-session-name ci-run 2>err &&
	grep -q AccessDenied err &&
	test_expect_code 254 ec2_aws sts assume-role --role-arn arn:aws:iam::$B:role/nosuch \
		--role-session-name ci-run 2>err &&
	grep -q AccessDenied err &&
	ec2_aws sts assume-role --role-arn arn:aws:iam::$B:role/prod-deploy --external-id amicycle-ext \
		--role-session-name ci-run >creds.json &&
	AWS_ACCESS_KEY_ID=$(jq -r .Credentials.AccessKeyId creds.json) \
	AWS_SECRET_ACCESS_KEY=$(jq -r .Credentials.SecretAccessKey creds.json) \
	AWS_SESSION_TOKEN=$(jq -r .Credentials.SessionToken creds.json) \
		ec2_aws sts get-caller-identity >who.json &&
	jq -r ".Account, .Arn" who.json >actual &&
	printf "%s\n" $B arn:aws:sts::$B:assumed-role/prod-deploy/ci-run >expect &&
	test_cmp expect actual
'

test_expect_success 'another account does not see a private image, by listing or by id' '
	as_b ec2_aws ec2 describe-images --owners $A >out &&
	jq -e ".Images == []" out >/dev/null &&
	test_expect_code 254 as_b ec2_aws ec2 describe-images --image-ids ami-0a000000000000001 2>err &&
	grep -q InvalidAMIID.NotFound err &&
	test_expect_code 254 as_b ec2_aws ec2 describe-snapshots --snapshot-ids snap-0a000000000000001 2>err &&
	grep -q InvalidSnapshot.NotFound err
'

test_expect_success 'a launch permission for B: B sees the image, C does not, B cannot change it' '
	ec2_aws ec2 modify-image-attribute --image-id ami-0a000000000000001 \
		--launch-permission "Add=[{UserId=$B}]" &&
	as_b ec2_aws ec2 describe-images --owners $A --query "Images[].ImageId" --output text >actual &&
	echo ami-0a000000000000001 >expect &&
	test_cmp expect actual &&
	as_c ec2_aws ec2 describe-images --owners $A --query "Images[].ImageId" --output text >actual &&
	test_line_count = 0 actual &&
	ec2_aws ec2 describe-image-attribute --image-id ami-0a000000000000001 --attribute launchPermission \
		--query LaunchPermissions --output json >actual &&
	jq -c . actual >actual.c &&
	echo "[{\"UserId\":\"$B\"}]" >expect &&
	test_cmp expect actual.c &&
	test_expect_code 254 as_b ec2_aws ec2 modify-image-attribute --image-id ami-0a000000000000001 \
		--launch-permission "Add=[{UserId=$C}]" 2>err &&
	grep -q AuthFailure err
'

test_expect_success 'an organization and an OU: their accounts see the image until removed' '
	ec2_aws_model ec2 modify-image-attribute --image-id ami-0a000000000000001 \
		--launch-permission "Add=[{OrganizationalUnitArn=$OU}]" &&
	as_c ec2_aws ec2 describe-images --image-ids ami-0a000000000000001 --query "Images[].ImageId" \
		--output text >actual &&
	echo ami-0a000000000000001 >expect &&
	test_cmp expect actual &&
	ec2_aws_model ec2 modify-image-attribute --image-id ami-0a000000000000001 \
		--launch-permission "Remove=[{OrganizationalUnitArn=$OU},{UserId=$B}]" &&
	test_expect_code 254 as_c ec2_aws ec2 describe-images --image-ids ami-0a000000000000001 2>err &&
	grep -q InvalidAMIID.NotFound err &&
	ec2_aws_model ec2 modify-image-attribute --image-id ami-0a000000000000001 \
		--operation-type add --organization-arns $ORG &&
	as_b ec2_aws ec2 describe-images --image-ids ami-0a000000000000001 --query "Images[].ImageId" \
		--output text >actual &&
	test_cmp expect actual &&
	as_c ec2_aws ec2 describe-images --image-ids ami-0a000000000000001 --query "Images[].ImageId" \
		--output text >actual &&
	test_cmp expect actual &&
	test_expect_code 254 ec2_aws_model ec2 modify-image-attribute --image-id ami-0a000000000000001 \
		--launch-permission "Add=[{OrganizationArn=not-an-arn}]" 2>err &&
	grep -q InvalidParameterValue err
'

test_expect_success 'B copies the shared image only once its snapshot is shared with B' '
	test_expect_code 254 as_b ec2_aws ec2 copy-image --source-image-id ami-0a000000000000001 \
		--source-region us-east-1 --region eu-west-1 --name web-1-prod 2>err &&
	grep -q "InvalidRequest.*storage of this ami" err &&
	ec2_aws ec2 modify-snapshot-attribute --snapshot-id snap-0a000000000000001 \
		--attribute createVolumePermission --operation-type add --user-ids $B &&
	ec2_aws ec2 describe-snapshot-attribute --snapshot-id snap-0a000000000000001 \
		--attribute createVolumePermission --query CreateVolumePermissions >actual &&
	jq -c . actual >actual.c &&
	echo "[{\"UserId\":\"$B\"}]" >expect &&
	test_cmp expect actual.c &&
	as_b ec2_aws ec2 describe-snapshots --snapshot-ids snap-0a000000000000001 \
		--query "Snapshots[].OwnerId" --output text >actual &&
	echo $A >expect &&
	test_cmp expect actual &&
	as_b ec2_aws ec2 copy-image --source-image-id ami-0a000000000000001 --source-region us-east-1 \
		--region eu-west-1 --name web-1-prod --encrypted >copy.json &&
	id=$(jq -r .ImageId copy.json) &&
	as_b ec2_aws ec2 describe-images --region eu-west-1 --owners self --query "Images[].[ImageId,OwnerId]" \
		--output text >actual &&
	printf "%s\t%s\n" $id $B >expect &&
	test_cmp expect actual &&
	ec2_aws ec2 describe-images --region eu-west-1 --owners self --query "Images[]" >actual &&
	jq -e ". == []" actual >/dev/null &&
	ec2_state eu-west-1 >state &&
	jq -r ".Regions[\"eu-west-1\"].Snapshots[] | [.OwnerId, .Encrypted, .KmsKeyId] | @tsv" state >actual &&
	printf "%s\ttrue\t%s\n" $B "$(jq -r ".Accounts[\"$B\"].AwsManagedKeys[\"eu-west-1\"]" state)" >expect &&
	test_cmp expect actual &&
	grep -q "^$B	true	arn:aws:kms:eu-west-1:$B:key/" actual
'

test_expect_success 'a snapshot encrypted with the AWS-managed key cannot be shared, nor its image' '
	ec2_state us-east-1 >state &&
	jq -r ".Regions[\"us-east-1\"].Snapshots[1].KmsKeyId" state >actual &&
	jq -r ".Accounts[\"$A\"].AwsManagedKeys[\"us-east-1\"]" state >expect &&
	test_cmp expect actual &&
	test_expect_code 254 ec2_aws ec2 modify-snapshot-attribute --snapshot-id snap-0a000000000000002 \
		--attribute createVolumePermission --operation-type add --user-ids $B 2>err &&
	grep -q "OperationNotPermitted.*EBS default key cannot be shared" err &&
	test_expect_code 254 ec2_aws ec2 modify-image-attribute --image-id ami-0a000000000000002 \
		--launch-permission "Add=[{UserId=$B}]" 2>err &&
	grep -q "InvalidParameter.*AWS Managed CMK" err &&
	test_expect_code 254 ec2_aws ec2 modify-image-attribute --image-id ami-0a000000000000002 \
		--launch-permission "Add=[{Group=all}]" 2>err &&
	grep -q "InvalidParameter" err &&
	as_b ec2_aws ec2 describe-images --owners $A --query "Images[].ImageId" --output text >actual &&
	echo ami-0a000000000000001 >expect &&
	test_cmp expect actual
'

test_expect_success 'no secret in the log' '
	! grep -r amicycle-secret "$EC2_DIR/log"
'

test_done
