#!/bin/bash
# share: launch permissions for an account, an organization and an OU, added and removed, with the
# snapshots' createVolumePermission; only what is missing is called for (a second run changes
# nothing); the dry run is the plan; the audit log; the AWS-managed-key refusal, before any call
# and from EC2's own answer; the customer-managed-key reminder; --public only with --allow-public;
# bad input changes nothing. Against the local endpoint with three accounts.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-share.sh

CMK=arn:aws:kms:us-east-1:$A:key/1234abcd-12ab-34cd-56ef-1234567890ab
cat >seed.json <<EOF
{"AccountId": "$A",
 $share_accounts,
 "Regions": {"us-east-1": {
  "Images": [
   {"ImageId": "ami-0a000000000000001", "Name": "web-1",
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000001"}},
                            {"DeviceName": "/dev/xvdb", "Ebs": {"SnapshotId": "snap-0a000000000000011"}}]},
   {"ImageId": "ami-0a000000000000002", "Name": "web-2-default-key",
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000002",
      "Encrypted": true}}]},
   {"ImageId": "ami-0a000000000000003", "Name": "web-3-cmk",
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000003",
      "Encrypted": true}}]}],
  "Snapshots": [
   {"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8, "Encrypted": false},
   {"SnapshotId": "snap-0a000000000000011", "VolumeSize": 8, "Encrypted": false},
   {"SnapshotId": "snap-0a000000000000002", "VolumeSize": 8, "Encrypted": true, "KmsKeyId": "alias/aws/ebs"},
   {"SnapshotId": "snap-0a000000000000003", "VolumeSize": 8, "Encrypted": true, "KmsKeyId": "$CMK"}]}}}
EOF

# perms: the image's launch permissions and its snapshots' createVolumePermission in the state.
perms () {
	ec2_state us-east-1 >state &&
	jq -c ".Regions[\"us-east-1\"] | [(.Images[] | select(.ImageId == \"$1\") | .LaunchPermissions // []),
		[.Snapshots[] | select(.SnapshotId | startswith(\"snap-0a00000000000000$2\") or startswith(\"snap-0a00000000000001$2\"))
		 | .CreateVolumePermissions // []]]" state
}

echo '{"ImageId":"ami-0a000000000000001"}' >web1.jsonl

test_expect_success 'setup: B does not see the image' '
	ec2_start seed.json &&
	as_b ec2-describe images --owner $A >out &&
	test_line_count = 0 out
'

test_expect_success 'the dry run is the plan: every call with DryRun, nothing changed' '
	ec2_reset_counts &&
	share --account $B --snapshots --dry-run web1.jsonl >plan &&
	jq -c "[.Result.Status, .LaunchPermissions, .CreateVolumePermissions]" plan >actual &&
	echo "[\"dry-run\",[{\"UserId\":\"$B\"}],{\"snap-0a000000000000001\":[{\"UserId\":\"$B\"}],\"snap-0a000000000000011\":[{\"UserId\":\"$B\"}]}]" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count ModifySnapshotAttribute)" = 2 &&
	test "$(ec2_count ModifyImageAttribute)" = 1 &&
	ec2_requests >reqs &&
	jq -e "[.[] | select(.Action | startswith(\"Modify\")) | .Params.DryRun] | all(. == \"true\")" reqs >/dev/null &&
	perms ami-0a000000000000001 1 >actual &&
	echo "[[],[[],[]]]" >expect &&
	test_cmp expect actual
'

test_expect_success 'an account, with the snapshots: B sees the image and may copy it; audited' '
	ec2_reset_counts &&
	share --account $B --snapshots --audit audit.log plan >out &&
	jq -c "[.ImageId, .Result.Status, .LaunchPermissions]" out >actual &&
	echo "[\"ami-0a000000000000001\",\"done\",[{\"UserId\":\"$B\"}]]" >expect &&
	test_cmp expect actual &&
	perms ami-0a000000000000001 1 >actual &&
	echo "[[{\"UserId\":\"$B\"}],[[{\"UserId\":\"$B\"}],[{\"UserId\":\"$B\"}]]]" >expect &&
	test_cmp expect actual &&
	as_b ec2-describe images --owner $A >out &&
	jq -r .ImageId out >actual &&
	echo ami-0a000000000000001 >expect &&
	test_cmp expect actual &&
	jq -r ".Action" audit.log | sort >actual &&
	printf "%s\n" ModifyImageAttribute ModifySnapshotAttribute ModifySnapshotAttribute >expect &&
	test_cmp expect actual &&
	ec2_requests >reqs &&
	jq -r "[.[] | select(.Action | startswith(\"Modify\")) | .Action] | .[]" reqs >order &&
	tail -n 1 order >actual &&
	echo ModifyImageAttribute >expect &&
	test_cmp expect actual
'

test_expect_success 'sharing again changes nothing: skipped, no Modify call' '
	ec2_reset_counts &&
	share --account $B --snapshots web1.jsonl >out &&
	jq -r "[.Result.Status, .Result.Reason] | @tsv" out >actual &&
	printf "skipped\talready shared with account $B, snapshots included\n" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count ModifyImageAttribute)" = 0 &&
	test "$(ec2_count ModifySnapshotAttribute)" = 0
'

test_expect_success 'an organization and an OU: C (in both) sees the image until they are removed' '
	share --organization $ORG web1.jsonl >out &&
	jq -r .Result.Status out >actual &&
	echo done >expect &&
	test_cmp expect actual &&
	as_c ec2-describe images --owner $A >out &&
	test_line_count = 1 out &&
	share --ou $OU web1.jsonl >out &&
	share --remove --organization $ORG web1.jsonl >out &&
	as_c ec2-describe images --owner $A >out &&
	test_line_count = 1 out &&
	share --remove --ou $OU web1.jsonl >out &&
	jq -c "[.Result.Status, .LaunchPermissions]" out >actual &&
	echo "[\"done\",[{\"UserId\":\"$B\"}]]" >expect &&
	test_cmp expect actual &&
	as_c ec2-describe images --owner $A >out &&
	test_line_count = 0 out
'

test_expect_success '--remove takes the account away, image first, snapshots after' '
	ec2_reset_counts &&
	share --remove --account $B --snapshots web1.jsonl >out &&
	jq -r .Result.Status out >actual &&
	echo done >expect &&
	test_cmp expect actual &&
	perms ami-0a000000000000001 1 >actual &&
	echo "[[],[[],[]]]" >expect &&
	test_cmp expect actual &&
	ec2_requests >reqs &&
	jq -r "[.[] | select(.Action | startswith(\"Modify\")) | .Action] | .[0]" reqs >actual &&
	echo ModifyImageAttribute >expect &&
	test_cmp expect actual &&
	share --remove --account $B web1.jsonl >out &&
	jq -r "[.Result.Status, .Result.Reason] | @tsv" out >actual &&
	printf "skipped\tnot shared with account $B\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the AWS-managed key: refused before any call when share knows the key' '
	ec2_state >state &&
	key=$(jq -r ".Accounts[\"$A\"].AwsManagedKeys[\"us-east-1\"]" state) &&
	ec2_reset_counts &&
	echo "{\"ImageId\":\"ami-0a000000000000002\"}" >web2.jsonl &&
	test_expect_code 1 share --account $B --snapshots --aws-managed-key "$key" web2.jsonl >out 2>err &&
	jq -r "[.Result.Status, .Result.Reason] | @tsv" out >actual &&
	printf "failed\tsnap-0a000000000000002 is encrypted with the AWS-managed key aws/ebs (%s), which EC2 lets no other account use: copy the image to a customer-managed key first (copy-image --encrypted --kms-key us-east-1=KEY), let the accounts use that key in its key policy, and share the copy\n" "$key" >expect &&
	test_cmp expect actual &&
	test_grep "^share: us-east-1 ami-0a000000000000002: snap-0a000000000000002 is encrypted with the AWS-managed key" err &&
	test "$(ec2_count ModifyImageAttribute)" = 0 &&
	test "$(ec2_count ModifySnapshotAttribute)" = 0
'

test_expect_success 'the AWS-managed key: EC2 refuses, the Reason names the fix; nothing is shared' '
	test_expect_code 1 share --account $B --snapshots web2.jsonl >out 2>err &&
	jq -r .Result.Status out >actual &&
	echo failed >expect &&
	test_cmp expect actual &&
	jq -r .Result.Reason out >reason &&
	test_grep "^snap-0a000000000000002 is encrypted with the AWS-managed key aws/ebs (EC2 says OperationNotPermitted: Encrypted snapshots with EBS default key cannot be shared)" reason &&
	test_grep "copy-image --encrypted --kms-key us-east-1=KEY" reason &&
	test_expect_code 1 share --account $B web2.jsonl >out 2>err &&
	jq -r .Result.Reason out >reason &&
	test_grep "EC2 says InvalidParameter: Snapshots encrypted with the AWS Managed CMK" reason &&
	perms ami-0a000000000000002 2 >actual &&
	echo "[[],[[]]]" >expect &&
	test_cmp expect actual
'

test_expect_success 'a customer-managed key: shared, with the reminder about its key policy' '
	echo "{\"ImageId\":\"ami-0a000000000000003\"}" | share --account $B --snapshots >out &&
	jq -r "[.Result.Status, .Result.Reason] | @tsv" out >actual &&
	printf "done\tthe snapshots are encrypted with KMS key %s: its key policy must let the accounts use it (amicycle does not edit key policies)\n" $CMK >expect &&
	test_cmp expect actual
'

test_expect_success '--public is refused without --allow-public; an unknown image fails' '
	test_expect_code 2 share --public web1.jsonl >out 2>err &&
	test_line_count = 0 out &&
	test_grep "refused unless --allow-public" err &&
	test_expect_code 2 share web1.jsonl 2>err &&
	test_grep "with whom" err &&
	test_expect_code 2 share --ou $ORG web1.jsonl 2>err &&
	test_expect_code 2 share --organization $ORG --snapshots web1.jsonl 2>err &&
	test_grep "accounts only" err &&
	echo "{\"ImageId\":\"ami-0a0000000000000ff\"}" >none.jsonl &&
	test_expect_code 1 share --account $B none.jsonl >out 2>err &&
	jq -r .Result.Status out >actual &&
	echo failed >expect &&
	test_cmp expect actual
'

test_expect_success '--public --allow-public makes the unencrypted image public' '
	share --public --allow-public --snapshots web1.jsonl >out &&
	jq -c "[.Result.Status, .LaunchPermissions]" out >actual &&
	echo "[\"done\",[{\"Group\":\"all\"}]]" >expect &&
	test_cmp expect actual &&
	as_b ec2-describe images --owner $A >out &&
	jq -r .ImageId out >actual &&
	printf "%s\n" ami-0a000000000000001 ami-0a000000000000003 >expect &&
	test_cmp expect actual &&
	share --remove --public --snapshots web1.jsonl >out &&
	as_b ec2-describe images --owner $A >out &&
	jq -r .ImageId out >actual &&
	echo ami-0a000000000000003 >expect &&
	test_cmp expect actual
'

test_expect_success 'bad input changes nothing (exit 3, FILE:LINE)' '
	ec2_reset_counts &&
	printf "%s\n" "{\"ImageId\":\"ami-0a000000000000001\"}" "{\"InstanceId\":\"i-0123456789abcdef0\",\"ImageId\":\"ami-0a000000000000001\"}" >bad.jsonl &&
	test_expect_code 3 share --account $B bad.jsonl >out 2>err &&
	test_grep "^share: bad.jsonl:2: " err &&
	test "$(ec2_count ModifyImageAttribute)" = 0
'

test_expect_success 'no secret in outputs, the audit log or the endpoint log' '
	! grep -r amicycle-secret out err audit.log "$EC2_DIR/log"
'

test_done
