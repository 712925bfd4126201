#!/bin/bash
# The snapshot sweep, as a project runs it: a deregister whose DeleteSnapshot failed leaves a
# snapshot (FailedSnapshots), and image-sweep-snapshots (mk/lifecycle.mk) finds it and deletes it,
# while snapshots younger than a week, those of images still there and volume backups stay.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

ami () { printf 'ami-0a%015d\n' "$1"; }
snap () { printf 'snap-0b%015d\n' "$1"; }
for i in 1 2 3 4 5; do
	eval "ami$i=$(ami $i) snap$i=$(snap $i)"
done
days_ago () { date -u -d "-$1 days" +%Y-%m-%dT%H:%M:%S.000Z; }
created () { echo "Created by CreateImage(i-0c000000000000001) for $1 from vol-0d000000000000001"; }

# Images 1, 2 and 3, a month old, each with its snapshot; snapshot 4 is a month-old volume
# backup; snapshot 5 was made a day ago for an image already gone. The endpoint does not know
# DeleteAssociatedSnapshots, so deregister deletes the snapshots itself.
jq -n --arg old "$(days_ago 30)" --arg new "$(days_ago 1)" \
	--arg a1 $ami1 --arg a2 $ami2 --arg a3 $ami3 --arg a5 $ami5 \
	--arg s1 $snap1 --arg s2 $snap2 --arg s3 $snap3 --arg s4 $snap4 --arg s5 $snap5 \
	--arg d1 "$(created $ami1)" --arg d2 "$(created $ami2)" --arg d3 "$(created $ami3)" \
	--arg d5 "$(created $ami5)" '
	def img($id; $s): {ImageId: $id, Name: $id, CreationDate: $old,
		Tags: [{Key: "Project", Value: "web"}],
		BlockDeviceMappings: [{DeviceName: "/dev/xvda", Ebs: {SnapshotId: $s, VolumeSize: 8}}]};
	def snap($id; $d; $t): {SnapshotId: $id, VolumeSize: 8, Description: $d, StartTime: $t};
	{Settings: {UnknownParameters: ["DeregisterImage.DeleteAssociatedSnapshots"]},
	 Regions: {"us-east-1": {
	  Images: [img($a1; $s1), img($a2; $s2), img($a3; $s3)],
	  Snapshots: [snap($s1; $d1; $old), snap($s2; $d2; $old), snap($s3; $d3; $old),
		snap($s4; "nightly backup of vol-0d000000000000004"; $old), snap($s5; $d5; $new)]}}}' >seed.json ||
	{ echo "Bail out! cannot write the seed"; exit 1; }

mkdir project &&
cat >project/Makefile <<EOF || { echo "Bail out! cannot write the project"; exit 1; }
AMICYCLE_PROJECT = web
AMICYCLE_REGIONS = us-east-1
AMICYCLE_BIN = $AMICYCLE_BUILD/bin
AMICYCLE_PROTECT_TAGS = Keep
include $SRC_DIR/mk/amicycle.mk
EOF
D=project/.amicycle

left () {
	ec2_state us-east-1 | jq -r '.Regions["us-east-1"].Snapshots[].SnapshotId' | sort
}

sweep_make () {
	make --no-print-directory -C project "$@"
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'a deregister whose DeleteSnapshot fails leaves the snapshot in FailedSnapshots' '
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DeleteSnapshot\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"no\",\"Status\":403}" &&
	echo "{\"ImageId\":\"$ami2\"}" >in &&
	test_expect_code 1 deregister in >out 2>err &&
	jq -c "[.ImageId, .State, .Result.FailedSnapshots]" out >actual &&
	echo "[\"$ami2\",\"deregistered\",[\"$snap2\"]]" >expect &&
	test_cmp expect actual &&
	left >actual &&
	printf "%s\n" $snap1 $snap2 $snap3 $snap4 $snap5 >expect &&
	test_cmp expect actual
'

test_expect_success 'image-sweep-snapshots DRY_RUN=1: a plan that would delete that snapshot only (its image answers nothing)' '
	ec2_reset_counts &&
	sweep_make image-sweep-snapshots DRY_RUN=1 >out 2>err &&
	jq -r "[.SnapshotId, .Result.Status, .Result.Reason] | @tsv" $D/sweep-us-east-1.jsonl >actual &&
	cat >expect <<-EOF &&
	$snap1	skipped	used by image $ami1; not an orphan: made for $ami1, which still exists
	$snap2	dry-run	would delete $snap2
	$snap3	skipped	used by image $ami3; not an orphan: made for $ami3, which still exists
	$snap4	skipped	not an orphan: not made by CreateImage or CopyImage for an image (a volume backup is not ours to delete)
	EOF
	test_cmp expect actual &&
	test_grep "^amicycle: image-sweep-snapshots: us-east-1: 4 snapshot(s) older than 7d$" out &&
	test_grep "^amicycle: image-sweep-snapshots: us-east-1: plan (DRY_RUN: nothing changed): 0 deleted, 1 planned, 3 skipped$" out &&
	ec2_requests >reqs &&
	jq -c ".[] | select(.Action == \"DescribeImages\" and .Params[\"ImageId.1\"] != null) | [.Code, .Params[\"ImageId.1\"], .Params[\"ImageId.3\"]]" reqs >actual &&
	echo "[null,\"$ami1\",\"$ami3\"]" >expect &&
	test_cmp expect actual &&
	left >actual &&
	printf "%s\n" $snap1 $snap2 $snap3 $snap4 $snap5 >expect &&
	test_cmp expect actual
'

test_expect_success 'image-sweep-snapshots: the snapshot deregister failed to delete is gone, the rest stay' '
	ec2_reset_counts &&
	sweep_make image-sweep-snapshots >out 2>err &&
	test_grep "^amicycle: image-sweep-snapshots: us-east-1: done: 1 deleted, 0 planned, 3 skipped$" out &&
	left >actual &&
	printf "%s\n" $snap1 $snap3 $snap4 $snap5 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeleteSnapshot)" = 1 &&
	jq -r "select(.Action == \"DeleteSnapshot\" and .DryRun == false) | [.Program, .Resources[0], .Outcome] | @tsv" $D/audit.jsonl >actual &&
	printf "delete-snapshot\t%s\tdone\n" $snap2 >expect &&
	test_cmp expect actual
'

test_expect_success 'the summary shows what the sweep did with each snapshot, and its calls' '
	test_grep "^amicycle: image-summary: " out &&
	"$PYTHON" "$TEST_DIR"/markdown-parse.py $D/summary.md >parsed &&
	jq -r ".sections.Snapshots[] | [.[1], .[3], .[4]] | @tsv" parsed >actual &&
	cat >expect <<-EOF &&
	Snapshot	Outcome	Reason
	$snap1	kept	used by image $ami1; not an orphan: made for $ami1, which still exists
	$snap2	deleted	
	$snap3	kept	used by image $ami3; not an orphan: made for $ami3, which still exists
	$snap4	kept	not an orphan: not made by CreateImage or CopyImage for an image (a volume backup is not ours to delete)
	EOF
	test_cmp expect actual &&
	jq -r ".sections[\"Changes (audit log)\"][1:][] | @tsv" parsed >actual &&
	printf "delete-snapshot\tDeleteSnapshot\tus-east-1\t1\t1\t0\n" >expect &&
	test_cmp expect actual &&
	sed -n 3p $D/summary.md >actual &&
	echo "1 of 4 snapshots deleted" >expect &&
	test_cmp expect actual
'

test_expect_success 'a read failing: the target fails, nothing is deleted' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	echo "{\"ImageId\":\"$ami3\"}" | deregister --keep-snapshots >/dev/null &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DescribeSnapshotAttribute\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"no\",\"Status\":403}" &&
	test_expect_code 2 sweep_make image-sweep-snapshots >out 2>err &&
	test_grep "^delete-snapshot: us-east-1: DescribeSnapshotAttribute: UnauthorizedOperation: no" err &&
	test "$(ec2_count DeleteSnapshot)" = 0 &&
	! test -e $D/sweep-us-east-1.jsonl &&
	left >actual &&
	printf "%s\n" $snap1 $snap2 $snap3 $snap4 $snap5 >expect &&
	test_cmp expect actual
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./seed.json$" >leaks;
	test_line_count = 0 leaks
'

test_done
