#!/bin/bash
# share --remove --all: every launch permission an image has (accounts, an organization, an OU,
# public), and with --snapshots every createVolumePermission of its snapshots, taken away without
# naming whom; read back by EC2's state, by the other accounts' own view and by the AWS CLI. The dry
# run changes nothing; an image shared with no one is skipped with no call (a second run changes
# nothing); --all is a usage error without --remove or with a --account; bad input changes nothing.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-share.sh

cat >seed.json <<EOF
{"AccountId": "$A",
 $share_accounts,
 "Regions": {"us-east-1": {
  "Images": [
   {"ImageId": "ami-0a000000000000001", "Name": "web-1",
    "LaunchPermissions": [{"UserId": "$B"}, {"OrganizationArn": "$ORG"}, {"OrganizationalUnitArn": "$OU"},
                          {"Group": "all"}],
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000001"}},
                            {"DeviceName": "/dev/xvdb", "Ebs": {"SnapshotId": "snap-0a000000000000011"}}]},
   {"ImageId": "ami-0a000000000000002", "Name": "web-2",
    "LaunchPermissions": [{"UserId": "$C"}],
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000002"}}]},
   {"ImageId": "ami-0a000000000000003", "Name": "web-3-private",
    "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000003"}}]}],
  "Snapshots": [
   {"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8,
    "CreateVolumePermissions": [{"UserId": "$B"}, {"Group": "all"}]},
   {"SnapshotId": "snap-0a000000000000011", "VolumeSize": 8, "CreateVolumePermissions": [{"UserId": "$B"}]},
   {"SnapshotId": "snap-0a000000000000002", "VolumeSize": 8, "CreateVolumePermissions": [{"UserId": "$C"}]},
   {"SnapshotId": "snap-0a000000000000003", "VolumeSize": 8}]}}}
EOF

# sharing: each image's launch permissions and each snapshot's createVolumePermission, as EC2 has them.
sharing () {
	ec2_state us-east-1 >state &&
	jq -r '.Regions["us-east-1"] | (.Images[] | [.ImageId, (.Public // false), (.LaunchPermissions // [] | length)]),
		(.Snapshots[] | [.SnapshotId, (.CreateVolumePermissions // [] | length)]) | @tsv' state
}
# modifies: the Modify*Attribute calls since the last ec2_reset_counts.
modifies () {
	echo $(($(ec2_count ModifyImageAttribute) + $(ec2_count ModifySnapshotAttribute)))
}

printf '%s\n' '{"ImageId":"ami-0a000000000000001"}' '{"ImageId":"ami-0a000000000000002"}' \
	'{"ImageId":"ami-0a000000000000003"}' >images.jsonl

test_expect_success 'setup: B and C see the images shared with them' '
	ec2_start seed.json &&
	sharing >before &&
	cat >expect <<-\EOF &&
	ami-0a000000000000001	true	4
	ami-0a000000000000002	false	1
	ami-0a000000000000003	false	0
	snap-0a000000000000001	2
	snap-0a000000000000011	1
	snap-0a000000000000002	1
	snap-0a000000000000003	0
	EOF
	test_cmp expect before &&
	as_b ec2-describe images --owner $A >out &&
	jq -r .ImageId out >actual &&
	echo ami-0a000000000000001 >expect &&
	test_cmp expect actual &&
	as_c ec2-describe images --owner $A >out &&
	test_line_count = 2 out
'

test_expect_success '--all is a usage error without --remove, or with whom to remove' '
	ec2_reset_counts &&
	test_expect_code 2 share --all images.jsonl >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^share: --all: only with --remove" err &&
	test_expect_code 2 share --remove --all --account $B images.jsonl >out 2>err &&
	test_grep "^share: --remove --all takes every permission away: give no --account" err &&
	test_expect_code 2 share --remove images.jsonl >out 2>err &&
	test_grep "or --remove --all" err &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success 'the dry run plans every removal with DryRun and changes nothing' '
	ec2_reset_counts &&
	share --remove --all --snapshots --dry-run images.jsonl >plan &&
	jq -c "[.ImageId, .Result.Status, .LaunchPermissions, .CreateVolumePermissions]" plan >actual &&
	cat >expect <<-\EOF &&
	["ami-0a000000000000001","dry-run",[],{"snap-0a000000000000001":[],"snap-0a000000000000011":[]}]
	["ami-0a000000000000002","dry-run",[],{"snap-0a000000000000002":[]}]
	["ami-0a000000000000003","skipped",[],{"snap-0a000000000000003":[]}]
	EOF
	test_cmp expect actual &&
	ec2_requests >reqs &&
	jq -e "[.[] | select(.Action | startswith(\"Modify\")) | .Params.DryRun] | length == 5 and all(. == \"true\")" reqs >/dev/null &&
	sharing >actual &&
	test_cmp before actual
'

test_expect_success 'without --snapshots only the launch permissions go; B and C no longer see the images' '
	ec2_reset_counts &&
	share --remove --all --audit audit.log images.jsonl >out &&
	jq -r "[.ImageId, .Result.Status, (.LaunchPermissions | length), .Result.Reason // \"\"] | @tsv" out >actual &&
	printf "%s\n" "ami-0a000000000000001	done	0	" "ami-0a000000000000002	done	0	" \
		"ami-0a000000000000003	skipped	0	not shared with anyone" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count ModifySnapshotAttribute)" = 0 &&
	sharing >actual &&
	awk -F "\t" -v OFS="\t" "/^ami-/ { \$2 = \"false\"; \$3 = 0 } 1" before >expect &&
	test_cmp expect actual &&
	as_b ec2-describe images --owner $A >out &&
	test_line_count = 0 out &&
	as_c ec2-describe images --owner $A >out &&
	test_line_count = 0 out &&
	jq -r "[.Action, .Resources[0], .Outcome] | @tsv" audit.log | sort >actual &&
	printf "ModifyImageAttribute\t%s\tdone\n" ami-0a000000000000001 ami-0a000000000000002 >expect &&
	test_cmp expect actual
'

test_expect_success 'the one call took away all four permissions at once' '
	ec2_requests >reqs &&
	jq -c "[.[] | select(.Action == \"ModifyImageAttribute\" and .Params.ImageId == \"ami-0a000000000000001\") | .Params | to_entries | map(select(.key | startswith(\"LaunchPermission.Remove\"))) | from_entries] | .[0] | to_entries | map(.value) | sort" reqs >actual &&
	jq -c -n --arg b $B --arg org $ORG --arg ou $OU "[\$b, \$org, \$ou, \"all\"] | sort" >expect &&
	test_cmp expect actual
'

test_expect_success '--snapshots then takes the snapshots'"'"' createVolumePermission; read back by the AWS CLI' '
	ec2_reset_counts &&
	share --remove --all --snapshots images.jsonl >out &&
	jq -r "[.ImageId, .Result.Status, .Result.Reason // \"\"] | @tsv" out >actual &&
	printf "%s\n" "ami-0a000000000000001	done	" "ami-0a000000000000002	done	" \
		"ami-0a000000000000003	skipped	not shared with anyone, snapshots included" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count ModifyImageAttribute)" = 0 &&
	test "$(ec2_count ModifySnapshotAttribute)" = 3 &&
	sharing >actual &&
	grep "^snap-" actual | cut -f 2 | sort -u >counts &&
	echo 0 >expect &&
	test_cmp expect counts
'

test_expect_success AWSCLI 'the AWS CLI reads back no launch permission and no createVolumePermission' '
	for i in 1 2; do
		ec2_aws ec2 describe-image-attribute --image-id ami-0a00000000000000$i --attribute launchPermission >out &&
		jq -c .LaunchPermissions out || return 1
	done >actual &&
	for s in 1 11 2; do
		ec2_aws ec2 describe-snapshot-attribute --snapshot-id snap-0a0000000000000$(printf %02d $s) \
			--attribute createVolumePermission >out &&
		jq -c .CreateVolumePermissions out || return 1
	done >>actual &&
	printf "[]\n%.0s" 1 2 3 4 5 >expect &&
	test_cmp expect actual
'

test_expect_success 'again: every image skipped, not one Modify call' '
	ec2_reset_counts &&
	share --remove --all --snapshots images.jsonl >out &&
	jq -r "[.Result.Status, .Result.Reason] | @tsv" out | sort -u >actual &&
	printf "skipped\tnot shared with anyone, snapshots included\n" >expect &&
	test_cmp expect actual &&
	test "$(modifies)" = 0
'

test_expect_success 'bad input changes nothing (exit 3, FILE:LINE)' '
	share --account $B --snapshots images.jsonl >out &&
	sharing >before &&
	ec2_reset_counts &&
	printf "%s\n" "{\"ImageId\":\"ami-0a000000000000001\"}" "{\"ImageId\":\"ami-0a00000000000000z\"}" >bad.jsonl &&
	test_expect_code 3 share --remove --all --snapshots bad.jsonl >out 2>err &&
	test_grep "^share: bad.jsonl:2: " err &&
	test_line_count = 1 err &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0 &&
	sharing >actual &&
	test_cmp before actual
'

test_expect_success 'no secret in outputs, the audit log or the endpoint log' '
	! grep -r amicycle-secret out err audit.log "$EC2_DIR/log"
'

test_done
