# lib-xacct.sh: two accounts on the local endpoint, as the cross-account tests share them (t3303
# copy-image, t3801 amicycle-summary). Source it after lib-ec2.sh. It sets A (staging, the
# environment's keys' account), B (production) and ROLE (B's prod-deploy role), writes seed.json
# (in A: ami-0a...01, tagged with a build's lineage, and ami-0a...02, each with a snapshot, in
# us-east-1; us-west-2 empty) and points AWS_CONFIG_FILE at a config whose profile prod assumes
# ROLE from profile ci (A's keys).
#
#   xacct_share   starts the endpoint with seed.json; A shares ami-0a...01 and its snapshots with
#                 B: share's records in shared.jsonl

A=111111111111 B=222222222222
ROLE=arn:aws:iam::$B:role/prod-deploy
cat >seed.json <<EOF
{"AccountId": "$A",
 "Accounts": {"$B": {"Roles": {"prod-deploy": {}}}},
 "Regions": {"us-east-1": {
  "Images": [
   {"ImageId": "ami-0a000000000000001", "Name": "web-1", "Description": "web server",
    "CreationDate": "2026-11-01T00:00:00.000Z",
    "Tags": [{"Key": "Project", "Value": "web"}, {"Key": "GitSha", "Value": "0123abcd"},
             {"Key": "Version", "Value": "1.4.2"}, {"Key": "BuildUrl", "Value": "https://ci.example.com/b/42"},
             {"Key": "Environment", "Value": "staging"}],
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000001"}}]},
   {"ImageId": "ami-0a000000000000002", "Name": "web-2",
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000002"}}]}],
  "Snapshots": [{"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8},
                {"SnapshotId": "snap-0a000000000000002", "VolumeSize": 8}]},
  "us-west-2": {}}}
EOF

export AWS_CONFIG_FILE=$TRASH/aws-config AWS_SHARED_CREDENTIALS_FILE=$TRASH/none
cat >"$AWS_CONFIG_FILE" <<EOF
[profile prod]
role_arn = $ROLE
source_profile = ci
role_session_name = promote
[profile ci]
aws_access_key_id = AKIAAMICYCLETEST0001
aws_secret_access_key = amicycle-secret-test-0001
EOF

xacct_share () {
	ec2_start seed.json &&
	ec2-describe images --owner self ami-0a000000000000001 | share --account $B --snapshots >shared.jsonl &&
	jq -r .Result.Status shared.jsonl >actual &&
	echo done >expect &&
	test_cmp expect actual
}
