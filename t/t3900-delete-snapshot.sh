#!/bin/bash
# delete-snapshot: snapshots used by a registered image (a disabled or deprecated one too), shared,
# protected or, with --orphans, not orphans are skipped with the reason; the rest are deleted;
# --max, --dry-run as a plan, the audit log; the same answers when the endpoint refuses the
# block-device-mapping.snapshot-id filter; a failed read deletes nothing in its region.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

ami () { printf 'ami-0a%015d\n' "$1"; }
gone () { printf 'ami-0f%015d\n' "$1"; }
snap () { printf 'snap-0b%015d\n' "$1"; }
for i in $(seq 1 12); do
	eval "ami$i=$(ami $i) gone$i=$(gone $i) snap$i=$(snap $i)"
done
created () { echo "Created by CreateImage(i-0c000000000000001) for $1 from vol-0d000000000000001"; }

# Images 1 (available), 2 (disabled), 3 (deprecated) and 5 (deregistered in the first test, its
# snapshot kept) each use their own snapshot. Snapshots 4, 6, 8, 9 and 10 were made for images
# that never were here (6 by CopyImage), 7 is a volume backup, 11 was made for image 1 but is not
# in it; 8 is shared with an account, 9 public, 10 tagged Keep.
jq -n --arg a1 $ami1 --arg a2 $ami2 --arg a3 $ami3 --arg a5 $ami5 \
	--arg s1 $snap1 --arg s2 $snap2 --arg s3 $snap3 --arg s4 $snap4 --arg s5 $snap5 \
	--arg s6 $snap6 --arg s7 $snap7 --arg s8 $snap8 --arg s9 $snap9 --arg s10 $snap10 \
	--arg s11 $snap11 \
	--arg d1 "$(created $ami1)" --arg d2 "$(created $ami2)" --arg d3 "$(created $ami3)" \
	--arg d4 "$(created $gone4)" --arg d5 "$(created $ami5)" --arg d8 "$(created $gone8)" \
	--arg d9 "$(created $gone9)" --arg d10 "$(created $gone10)" --arg d11 "$(created $ami1)" \
	--arg d6 "Copied for DestinationAmi $gone6 from SourceAmi $(gone 16) for SourceSnapshot $(snap 16). Task created on 1,704,067,200,000." '
	def img($id; $s): {ImageId: $id, Name: $id, CreationDate: "2024-01-01T00:00:00.000Z",
		BlockDeviceMappings: [{DeviceName: "/dev/xvda", Ebs: {SnapshotId: $s, VolumeSize: 8}}]};
	def snap($id; $d): {SnapshotId: $id, VolumeSize: 8, Description: $d,
		StartTime: "2024-01-01T00:00:00.000Z"};
	{Regions: {"us-east-1": {
	  Images: [img($a1; $s1), (img($a2; $s2) + {State: "disabled"}),
		(img($a3; $s3) + {DeprecationTime: "2024-06-01T00:00:00.000Z"}), img($a5; $s5)],
	  Snapshots: [snap($s1; $d1), snap($s2; $d2), snap($s3; $d3), snap($s4; $d4), snap($s5; $d5),
		snap($s6; $d6), snap($s7; "nightly backup of vol-0d000000000000007"),
		(snap($s8; $d8) + {CreateVolumePermissions: [{UserId: "111122223333"}]}),
		(snap($s9; $d9) + {CreateVolumePermissions: [{Group: "all"}]}),
		(snap($s10; $d10) + {Tags: [{Key: "Keep", Value: "yes"}]}), snap($s11; $d11)]}}}' >seed.json ||
	{ echo "Bail out! cannot write the seed"; exit 1; }
jq '.Settings.UnsupportedFilters = {DescribeImages: ["block-device-mapping.snapshot-id"]}' seed.json >nofilter.json

results () {
	jq -r '[.SnapshotId, .Result.Status, (.Result.Reason // "-")] | @tsv' "$1"
}

left () {
	ec2_state us-east-1 | jq -r '.Regions["us-east-1"].Snapshots[].SnapshotId'
}

# Seeds FILE, then deregisters image 5 with its snapshot kept: an image gone, as EC2 has it.
reseed () {
	ec2_seed "$1" &&
	echo "{\"ImageId\":\"$ami5\"}" | deregister --keep-snapshots >/dev/null &&
	ec2_reset_counts
}

used="not an orphan: made for $ami1, which still exists"
cat >expect.orphans <<EOF
$snap1	skipped	used by image $ami1; $used
$snap2	skipped	used by image $ami2 (disabled); not an orphan: made for $ami2, which still exists
$snap3	skipped	used by image $ami3; not an orphan: made for $ami3, which still exists
$snap4	done	-
$snap5	done	-
$snap6	done	-
$snap7	skipped	not an orphan: not made by CreateImage or CopyImage for an image (a volume backup is not ours to delete)
$snap8	skipped	shared with account 111122223333
$snap9	skipped	shared publicly (create volume permission group all)
$snap10	skipped	protect tag Keep
$snap11	skipped	$used
EOF
cat >expect.all <<EOF
$snap1	skipped	used by image $ami1
$snap2	skipped	used by image $ami2 (disabled)
$snap3	skipped	used by image $ami3
$snap4	done	-
$snap5	done	-
$snap6	done	-
$snap7	done	-
$snap8	skipped	shared with account 111122223333
$snap9	skipped	shared publicly (create volume permission group all)
$snap10	skipped	protect tag Keep
$snap11	done	-
EOF

test_expect_success 'start the local EC2 endpoint; image 5 deregistered, its snapshot kept' '
	ec2_start seed.json &&
	reseed seed.json &&
	ec2-describe snapshots --owner self >in &&
	test_line_count = 11 in &&
	left | sort >all
'

test_expect_success 'dry run --orphans: a plan that says what would happen, nothing deleted' '
	delete-snapshot --orphans --protect-tag Keep --dry-run --audit audit.log in >plan 2>err &&
	test_line_count = 0 err &&
	results plan >actual &&
	awk -F "\t" -v OFS="\t" "\$2 == \"done\" { \$2 = \"dry-run\"; \$3 = \"would delete \" \$1 } 1" \
		expect.orphans >expect &&
	test_cmp expect actual &&
	test_grep -v "not deleted" plan &&
	left | sort >actual &&
	test_cmp all actual &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"DeleteSnapshot\") | [.Params.SnapshotId, .Params.DryRun, .Code] | @tsv" reqs | sort >actual &&
	printf "%s\ttrue\tDryRunOperation\n" $snap4 $snap5 $snap6 >expect &&
	test_cmp expect actual &&
	jq -r "[.Action, .Resources[0], .DryRun, .Outcome] | @tsv" audit.log | sort >actual &&
	printf "DeleteSnapshot\t%s\ttrue\tdry-run\n" $snap4 $snap5 $snap6 >expect &&
	test_cmp expect actual
'

test_expect_success 'the reads: users with deprecated and disabled images; the images made for, by id, then by filter' '
	jq -c ".[] | select(.Action == \"DescribeImages\" and .Params[\"Filter.1.Name\"] == \"block-device-mapping.snapshot-id\") |
		[.Params.IncludeDisabled, .Params.IncludeDeprecated, .Params[\"Owner.1\"]]" reqs >actual &&
	echo "[\"true\",\"true\",\"self\"]" >expect &&
	test_cmp expect actual &&
	jq -c ".[] | select(.Action == \"DescribeImages\" and .Params[\"Filter.1.Name\"] != \"block-device-mapping.snapshot-id\") |
		[.Code, .Params[\"Filter.1.Name\"], .Params.IncludeDisabled,
		 ([.Params | to_entries[] | select(.key | test(\"^(ImageId|Filter[.]1[.]Value)[.]\")) | .value] | sort | join(\" \"))]" reqs >actual &&
	ids=$(printf "%s\n" $ami1 $ami2 $ami3 $ami5 $gone4 $gone6 $gone8 $gone9 $gone10 | sort | tr "\n" " " | sed "s/ \$//") &&
	cat >expect <<-EOF &&
	["InvalidAMIID.NotFound",null,"true","$ids"]
	[null,"image-id","true","$ids"]
	EOF
	test_cmp expect actual &&
	jq -r ".[] | select(.Action == \"DescribeSnapshotAttribute\") | .Params.SnapshotId" reqs | sort >actual &&
	printf "%s\n" $snap4 $snap5 $snap6 $snap8 $snap9 | sort >expect &&
	test_cmp expect actual
'

test_expect_success 'applying the plan --orphans: only the orphans go, each refusal says why' '
	rm -f audit.log &&
	ec2_reset_counts &&
	delete-snapshot --orphans --protect-tag Keep --audit audit.log plan >out 2>err &&
	test_line_count = 0 err &&
	results out >actual &&
	test_cmp expect.orphans actual &&
	left | sort >actual &&
	grep -v -e $snap4 -e $snap5 -e $snap6 all >expect &&
	test_cmp expect actual &&
	jq -r "[.Action, .Resources[0], .DryRun, .Outcome, .RequestId] | @tsv" audit.log | sort >actual &&
	jq -r "select(.Result.Status == \"done\") | [\"DeleteSnapshot\", .SnapshotId, false, \"done\", .Result.RequestId] | @tsv" out | sort >expect &&
	test_line_count = 3 expect &&
	test_cmp expect actual
'

test_expect_success 'the output is each snapshot as read now, in input order' '
	jq -r .SnapshotId in >expect &&
	jq -r .SnapshotId out >actual &&
	test_cmp expect actual &&
	jq -r "select(.SnapshotId == \"$snap10\") | [.Region, .Description, .Tags[0].Key] | @tsv" out >actual &&
	printf "us-east-1\t%s\tKeep\n" "$(created $gone10)" >expect &&
	test_cmp expect actual
'

test_expect_success 'a second run: the deleted ones are already gone, nothing is deleted' '
	ec2_reset_counts &&
	delete-snapshot --orphans --protect-tag Keep plan >out2 &&
	jq -r "select(.Result.Status == \"skipped\" and (.Result.Reason | startswith(\"already gone\"))) | .SnapshotId" out2 >actual &&
	printf "%s\n" $snap4 $snap5 $snap6 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeleteSnapshot)" = 0
'

test_expect_success '--allow-shared: the shared orphans go too, and sharing is not read' '
	reseed seed.json &&
	delete-snapshot --orphans --allow-shared --protect-tag Keep in >out &&
	results out >actual &&
	sed -e "s/	skipped	shared .*/	done	-/" expect.orphans >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeSnapshotAttribute)" = 0
'

test_expect_success 'without --orphans: every snapshot no image uses goes, a volume backup too' '
	reseed seed.json &&
	delete-snapshot --protect-tag Keep in >out &&
	results out >actual &&
	test_cmp expect.all actual &&
	left | sort >actual &&
	printf "%s\n" $snap1 $snap2 $snap3 $snap8 $snap9 $snap10 | sort >expect &&
	test_cmp expect actual
'

test_expect_success 'the endpoint refusing the filter: the same answers, from one read of all the images' '
	reseed nofilter.json &&
	delete-snapshot --protect-tag Keep in >out 2>err &&
	test_line_count = 0 err &&
	results out >actual &&
	test_cmp expect.all actual &&
	ec2_requests >reqs &&
	jq -c "[.[] | select(.Action == \"DescribeImages\") | [.Code, .Params[\"Filter.1.Name\"], .Params.IncludeDisabled]]" reqs >actual &&
	echo "[[\"InvalidParameterValue\",\"block-device-mapping.snapshot-id\",\"true\"],[null,null,\"true\"]]" >expect &&
	test_cmp expect actual &&
	reseed nofilter.json &&
	delete-snapshot --orphans --protect-tag Keep in >out 2>err &&
	test_line_count = 0 err &&
	results out >actual &&
	test_cmp expect.orphans actual
'

test_expect_success '--max: more candidates than N and nothing is deleted, exit 1' '
	reseed seed.json &&
	test_expect_code 1 delete-snapshot --orphans --protect-tag Keep --max 2 in >out 2>err &&
	echo "delete-snapshot: 3 snapshots to delete, more than --max 2: nothing deleted" >expect &&
	test_cmp expect err &&
	jq -r "select(.Result.Status == \"failed\") | [.SnapshotId, .Result.Reason] | @tsv" out >actual &&
	printf "%s\tnot deleted: 3 snapshots to delete, more than --max 2\n" $snap4 $snap5 $snap6 >expect &&
	test_cmp expect actual &&
	test_expect_code 1 delete-snapshot --orphans --protect-tag Keep --max 2 --dry-run in >out 2>err &&
	jq -r "select(.Result.Status == \"failed\") | .Result.Reason" out | sort -u >actual &&
	echo "would delete nothing: 3 snapshots to delete, more than --max 2" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeleteSnapshot)" = 0 &&
	delete-snapshot --orphans --protect-tag Keep --max 3 in >out &&
	test "$(ec2_count DeleteSnapshot)" = 3
'

test_expect_success 'interrupted: the call in flight finishes, no more start, every record is printed' '
	reseed seed.json &&
	rm -f audit.log &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"DeleteSnapshot\",\"DelayMs\":1000,\"Count\":7}" &&
	{ delete-snapshot -P 1 --allow-shared --protect-tag Keep --audit audit.log in >out 2>err & pid=$!; } &&
	i=0 &&
	while [ "$(ec2_count DeleteSnapshot)" -lt 2 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done &&
	kill -TERM $pid &&
	{ wait $pid; echo $? >rc; } &&
	echo 143 >expect &&
	test_cmp expect rc &&
	results out >actual &&
	{
		grep -e "	skipped	" expect.all &&
		printf "%s\tdone\t-\n" $snap4 $snap5 &&
		printf "%s\tinterrupted\tinterrupted before its call was sent\n" $snap6 $snap7 $snap8 $snap9 $snap11
	} | grep -v "	shared " | sort >expect &&
	sort actual >sorted &&
	test_cmp expect sorted &&
	test "$(ec2_count DeleteSnapshot)" = 2 &&
	test_line_count = 2 audit.log &&
	left | sort >actual &&
	grep -v -e $snap4 -e $snap5 all >expect &&
	test_cmp expect actual &&
	ec2_admin DELETE /_admin/faults >/dev/null
'

test_expect_success 'a snapshot an image took since the check is kept with EC2 saying why' '
	reseed seed.json &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DeleteSnapshot\",\"Code\":\"InvalidSnapshot.InUse\",\"Message\":\"The snapshot $snap4 is currently in use by $ami1\"}" &&
	echo "{\"SnapshotId\":\"$snap4\"}" | delete-snapshot >out &&
	results out >actual &&
	printf "%s\tskipped\tin use: The snapshot %s is currently in use by %s\n" $snap4 $snap4 $ami1 >expect &&
	test_cmp expect actual
'

for action in DescribeImages DescribeSnapshots DescribeSnapshotAttribute; do
	test_expect_success "$action failing: nothing is deleted, every record failed, exit 1" '
		reseed seed.json &&
		ec2_fault "{\"Kind\":\"error\",\"Action\":\"$action\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"no\",\"Status\":403}" &&
		test_expect_code 1 delete-snapshot --orphans --protect-tag Keep in >out 2>err &&
		test_grep "^delete-snapshot: us-east-1: $action: UnauthorizedOperation: no" err &&
		jq -r "select(.Result.Status == \"failed\") | .Result.Reason" out | sort | uniq -c >actual &&
		test_grep "not deleted: a read the safety checks need failed" actual &&
		test "$(ec2_count DeleteSnapshot)" = 0 &&
		left | sort >actual &&
		test_cmp all actual
	'
done

test_expect_success 'the read without the filter failing: nothing is deleted, exit 1' '
	reseed nofilter.json &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DescribeImages\",\"Skip\":1,\"Code\":\"UnauthorizedOperation\",\"Message\":\"no\",\"Status\":403}" &&
	test_expect_code 1 delete-snapshot --protect-tag Keep in >out 2>err &&
	test_line_count = 1 err &&
	test_grep "^delete-snapshot: us-east-1: DescribeImages: UnauthorizedOperation: no" err &&
	jq -r .Result.Status out | sort -u >actual &&
	echo failed >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeleteSnapshot)" = 0
'

test_expect_success 'a read failing in one region deletes nothing there, the other region goes on' '
	reseed seed.json &&
	jq -c "{SnapshotId: .SnapshotId, Region: \"eu-west-1\"}" in >in2 &&
	jq -c . in >>in2 &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DescribeSnapshots\",\"Region\":\"eu-west-1\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"no\",\"Status\":403}" &&
	test_expect_code 1 delete-snapshot --orphans --protect-tag Keep in2 >out 2>err &&
	test_grep "^delete-snapshot: eu-west-1: DescribeSnapshots: UnauthorizedOperation: no" err &&
	jq -r "select(.Region == \"eu-west-1\") | .Result.Status" out | sort -u >actual &&
	echo failed >expect &&
	test_cmp expect actual &&
	jq -c "select(.Region == \"us-east-1\")" out >us &&
	results us >actual &&
	test_cmp expect.orphans actual
'

test_expect_success 'the same snapshot twice: the second record names the first' '
	reseed seed.json &&
	printf "{\"SnapshotId\":\"%s\"}\n" $snap4 $snap4 >twice &&
	delete-snapshot twice >out &&
	results out >actual &&
	printf "%s\tdone\t-\n%s\tskipped\tthe same snapshot as twice:1\n" $snap4 $snap4 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeleteSnapshot)" = 1
'

test_expect_success 'bad input is exit 3 naming the line, and not one request' '
	ec2_reset_counts &&
	printf "{\"SnapshotId\":\"%s\"}\n{\"ImageId\":\"%s\"}\n" $snap4 $ami1 >bad &&
	test_expect_code 3 delete-snapshot bad >out 2>err &&
	test_grep "^delete-snapshot: bad:2: no SnapshotId" err &&
	printf "{\"SnapshotId\":\"%s\"}\n" $ami1 >bad &&
	test_expect_code 3 delete-snapshot bad >out 2>err &&
	test_grep "^delete-snapshot: bad:1: SnapshotId .ami-" err &&
	test_line_count = 0 out &&
	test "$(ec2_total)" = 0
'

test_expect_success 'no input (a sweep that found nothing old enough): nothing to do, exit 0, no request' '
	ec2_reset_counts &&
	delete-snapshot --orphans </dev/null >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 0 err &&
	test "$(ec2_total)" = 0
'

test_expect_success 'usage errors exit 2' '
	expect_usage_error "--max" delete-snapshot --max -1 &&
	expect_usage_error "--protect-tag" delete-snapshot --protect-tag =x &&
	expect_usage_error "unexpected\|unrecognized" delete-snapshot --orphan-s
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./\(no\)\?\(seed\|filter\).json$" >leaks;
	test_line_count = 0 leaks
'

test_done
