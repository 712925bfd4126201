#!/bin/bash
# deregister against an endpoint older than DeleteAssociatedSnapshots: DeregisterImage alone,
# then DeleteSnapshot for each snapshot no other image uses; shared snapshots are kept.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-dereg.sh

for i in $(seq 1 7); do
	eval "ami$i=$(dereg_ami $i) snap$i=$(dereg_snap $i)"
done
snapx=$(dereg_snap 100) snap45=$(dereg_snap 45) snap67=$(dereg_snap 67)

# Images 1..7, each with its own snapshot, except: 1 and 3 also share snapshot 100; 4 and 5 use
# snapshot 45 only; 6 (disabled) and 7 use snapshot 67 only.
dereg_seed 7 | jq --arg x $snapx --arg s45 $snap45 --arg s67 $snap67 '
	def ebs($s): {DeviceName: "/dev/xvdb", Ebs: {SnapshotId: $s}};
	.Settings.UnknownParameters = ["DeregisterImage.DeleteAssociatedSnapshots"] |
	.Regions["us-east-1"] |= (
	  .Images[0].BlockDeviceMappings += [ebs($x)] | .Images[2].BlockDeviceMappings += [ebs($x)] |
	  .Images[3].BlockDeviceMappings = [ebs($s45)] | .Images[4].BlockDeviceMappings = [ebs($s45)] |
	  .Images[5].BlockDeviceMappings = [ebs($s67)] | .Images[6].BlockDeviceMappings = [ebs($s67)] |
	  .Images[5].State = "disabled" |
	  .Snapshots = ([.Images[].BlockDeviceMappings[].Ebs.SnapshotId] | unique | map({SnapshotId: .})))' >seed.json ||
	{ echo "Bail out! cannot write the seed"; exit 1; }

# The input is an old plan: image 2's record names a snapshot it no longer has.
{
	echo "{\"ImageId\":\"$ami1\"}"
	echo "{\"ImageId\":\"$ami2\",\"BlockDeviceMappings\":[{\"Ebs\":{\"SnapshotId\":\"snap-0ffffffffffffffff\"}}]}"
	echo "{\"ImageId\":\"$ami4\"}"
	echo "{\"ImageId\":\"$ami5\"}"
	echo "{\"ImageId\":\"$ami7\"}"
} >in

cat >expect.summary <<EOF
$ami1	["$snap1"]	["$snapx"]	kept $snapx: used by $ami3
$ami2	["$snap2"]	[]	-
$ami4	["$snap45"]	[]	-
$ami5	["$snap45"]	[]	-
$ami7	[]	["$snap67"]	kept $snap67: used by $ami6
EOF
# The plan says what a run would do with each snapshot.
cat >expect.plan <<EOF
$ami1	["$snap1"]	["$snapx"]	would delete $snap1; would keep $snapx: used by $ami3
$ami2	["$snap2"]	[]	would delete $snap2
$ami4	["$snap45"]	[]	would delete $snap45
$ami5	["$snap45"]	[]	would delete $snap45
$ami7	[]	["$snap67"]	would keep $snap67: used by $ami6
EOF

summary () {
	jq -r "[.ImageId, (.Result.DeletedSnapshots | tojson), (.Result.KeptSnapshots | tojson),
		.Result.Reason // \"-\"] | @tsv" "$1"
}

test_expect_success 'start the local EC2 endpoint, as one that does not know DeleteAssociatedSnapshots' '
	ec2_start seed.json
'

test_expect_success 'dry run: refused once for the parameter, then DryRun without it; a plan of the snapshots' '
	ec2_reset_counts &&
	dereg_left >before &&
	deregister --dry-run --audit audit.log in >plan 2>err &&
	test_line_count = 0 err &&
	jq -r .Result.Status plan | sort -u >actual &&
	echo dry-run >expect &&
	test_cmp expect actual &&
	summary plan >actual &&
	test_cmp expect.plan actual &&
	dereg_left >after &&
	test_cmp before after &&
	ec2_requests >reqs &&
	jq -c ".[] | select(.Action == \"DeregisterImage\") | [.Params.DeleteAssociatedSnapshots, .Code]" reqs >actual &&
	{
		echo "[\"true\",\"UnknownParameter\"]" &&
		for i in 1 2 3 4 5; do echo "[null,\"DryRunOperation\"]"; done
	} >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeleteSnapshot)" = 0
'

test_expect_success 'applying the plan: DeregisterImage alone, then DeleteSnapshot once per unshared snapshot' '
	ec2_reset_counts &&
	deregister --audit audit.log plan >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.Result.Status, .State] | @tsv" out | sort -u >actual &&
	printf "done\tderegistered\n" >expect &&
	test_cmp expect actual &&
	summary out >actual &&
	test_cmp expect.summary actual &&
	test "$(ec2_count DeregisterImage)" = 6 &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"DeleteSnapshot\") | .Params.SnapshotId" reqs | sort >actual &&
	printf "%s\n" $snap1 $snap2 $snap45 | sort >expect &&
	test_cmp expect actual &&
	dereg_left | sort >actual &&
	printf "%s\n" $ami3 $ami6 $snap3 $snapx $snap67 | sort >expect &&
	test_cmp expect actual
'

test_expect_success 'the reads behind the deletions: other images (disabled ones too) and what still exists' '
	jq -c ".[] | select(.Action == \"DescribeImages\" and .Params[\"Filter.1.Name\"] == \"block-device-mapping.snapshot-id\") |
		[.Params.IncludeDisabled, .Params.IncludeDeprecated, .Params[\"Owner.1\"]]" reqs >actual &&
	echo "[\"true\",\"true\",\"self\"]" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeSnapshots)" = 1 &&
	jq -r "[.[] | .Action] | index(\"DeleteSnapshot\") > (map(. == \"DeregisterImage\") | rindex(true))" reqs >actual &&
	echo true >expect &&
	test_cmp expect actual
'

test_expect_success 'the audit log: every DeregisterImage and DeleteSnapshot, the refused one too' '
	jq -r "select(.DryRun == false) | [.Action, (.Resources | join(\",\")), .Outcome, .Code // \"-\"] | @tsv" audit.log | sort >actual &&
	{
		printf "DeleteSnapshot\t%s\tdone\t-\n" $snap1 $snap2 $snap45 &&
		printf "DeregisterImage\t%s\tdone\t-\n" $ami1 $ami2 $ami4 $ami5 $ami7 &&
		jq -r "[.[] | select(.Action == \"DeregisterImage\" and .Code == \"UnknownParameter\")][0] |
			\"DeregisterImage\t\(.Params.ImageId)\tfailed\tUnknownParameter\"" reqs
	} | sort >expect &&
	test_cmp expect actual &&
	jq -r "select(.Action == \"DeleteSnapshot\") | .RequestId" audit.log >ids &&
	test_line_count = 3 ids &&
	test_grep -v null ids
'

test_expect_success 'a second run skips every image and deletes nothing' '
	ec2_reset_counts &&
	deregister plan >out &&
	jq -r .Result.Status out | sort -u >actual &&
	echo skipped >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 0 &&
	test "$(ec2_count DeleteSnapshot)" = 0
'

test_expect_success '--keep-snapshots: the parameter is never sent, no snapshot is touched' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	deregister --keep-snapshots in >out &&
	jq -r .Result.Status out | sort -u >actual &&
	echo done >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 5 &&
	test "$(ec2_count DeleteSnapshot)" = 0 &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"DeregisterImage\") | .Code" reqs | sort -u >actual &&
	echo null >expect &&
	test_cmp expect actual
'

test_expect_success 'a snapshot EC2 says is in use at DeleteSnapshot is kept' '
	ec2_seed seed.json &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DeleteSnapshot\",\"Code\":\"InvalidSnapshot.InUse\",\"Message\":\"The snapshot $snap2 is currently in use by ami-0eeeeeeeeeeeeeeee\"}" &&
	echo "{\"ImageId\":\"$ami2\"}" >in2 &&
	deregister in2 >out &&
	summary out >actual &&
	printf "%s\t[]\t[\"%s\"]\tkept %s: The snapshot %s is currently in use by ami-0eeeeeeeeeeeeeeee\n" \
		$ami2 $snap2 $snap2 $snap2 >expect &&
	test_cmp expect actual
'

test_expect_success 'a DeleteSnapshot that fails: the image is deregistered, the record failed, exit 1' '
	ec2_seed seed.json &&
	echo "{\"Deny\":[{\"Action\":\"DeleteSnapshot\",\"ResourceId\":\"$snap2\"}]}" >deny.json &&
	ec2_seed deny.json merge &&
	rm -f audit.log &&
	printf "{\"ImageId\":\"%s\"}\n" $ami1 $ami2 >in2 &&
	test_expect_code 1 deregister --audit audit.log in2 >out 2>err &&
	jq -c "[.ImageId, .State, .Result.Status, .Result.DeletedSnapshots, .Result.FailedSnapshots]" out >actual &&
	cat >expect <<-EOF &&
	["$ami1","deregistered","done",["$snap1"],null]
	["$ami2","deregistered","failed",[],["$snap2"]]
	EOF
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^deregister: us-east-1: DeleteSnapshot: UnauthorizedOperation: " err &&
	jq -r "select(.ImageId == \"$ami2\") | .Result.Reason" out >actual &&
	test_grep "^$snap2 not deleted: us-east-1: DeleteSnapshot: UnauthorizedOperation: " actual &&
	jq -r "select(.Action == \"DeleteSnapshot\") | [.Resources[0], .Outcome, .Code // \"-\"] | @tsv" audit.log | sort >actual &&
	printf "%s\tdone\t-\n%s\tfailed\tUnauthorizedOperation\n" $snap1 $snap2 | sort >expect &&
	test_cmp expect actual
'

for action in DescribeImages DescribeSnapshots; do
	test_expect_success "the $action before the deletions failing: no snapshot is deleted, exit 1" '
		ec2_seed seed.json &&
		ec2_reset_counts &&
		skip=0 &&
		if [ $action = DescribeImages ]; then skip=1; fi &&
		ec2_fault "{\"Kind\":\"error\",\"Action\":\"$action\",\"Skip\":$skip,\"Code\":\"UnauthorizedOperation\",\"Message\":\"no\",\"Status\":403}" &&
		printf "{\"ImageId\":\"%s\"}\n" $ami2 >in2 &&
		test_expect_code 1 deregister in2 >out 2>err &&
		test_grep "^deregister: us-east-1: $action: UnauthorizedOperation: no" err &&
		jq -c "[.State, .Result.Status, .Result.Reason, .Result.DeletedSnapshots, .Result.FailedSnapshots]" out >actual &&
		echo "[\"deregistered\",\"failed\",\"$snap2 not deleted: cannot tell whether another image uses it\",[],[\"$snap2\"]]" >expect &&
		test_cmp expect actual &&
		test "$(ec2_count DeleteSnapshot)" = 0 &&
		dereg_left >left &&
		test_grep "$snap2" left
	'
done

test_expect_success 'an endpoint that refuses the snapshot-id filter: one read of all the images, the same plan and result' '
	jq ".Settings.UnsupportedFilters = {DescribeImages: [\"block-device-mapping.snapshot-id\"]}" seed.json >nofilter.json &&
	ec2_seed nofilter.json &&
	ec2_reset_counts &&
	deregister --dry-run in >plan2 2>err &&
	test_line_count = 0 err &&
	summary plan2 >actual &&
	test_cmp expect.plan actual &&
	deregister plan2 >out 2>err &&
	test_line_count = 0 err &&
	summary out >actual &&
	test_cmp expect.summary actual &&
	dereg_left | sort >actual &&
	printf "%s\n" $ami3 $ami6 $snap3 $snapx $snap67 | sort >expect &&
	test_cmp expect actual &&
	ec2_requests >reqs &&
	jq -c "[.[] | select(.Action == \"DescribeImages\" and (.Params[\"ImageId.1\"] // .Params[\"Filter.1.Name\"]) != \"image-id\") |
		[.Code, .Params[\"Filter.1.Name\"], .Params.IncludeDisabled]]" reqs >actual &&
	r="[\"InvalidParameterValue\",\"block-device-mapping.snapshot-id\",\"true\"],[null,null,\"true\"]" &&
	echo "[$r,$r]" >expect &&
	test_cmp expect actual
'

test_expect_success 'that read of all the images failing: no snapshot is deleted, exit 1' '
	ec2_seed nofilter.json &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DescribeImages\",\"Skip\":2,\"Code\":\"UnauthorizedOperation\",\"Message\":\"no\",\"Status\":403}" &&
	printf "{\"ImageId\":\"%s\"}\n" $ami2 >in2 &&
	test_expect_code 1 deregister in2 >out 2>err &&
	test_grep "^deregister: us-east-1: DescribeImages: UnauthorizedOperation: no" err &&
	jq -c "[.State, .Result.Status, .Result.Reason, .Result.DeletedSnapshots, .Result.FailedSnapshots]" out >actual &&
	echo "[\"deregistered\",\"failed\",\"$snap2 not deleted: cannot tell whether another image uses it\",[],[\"$snap2\"]]" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeleteSnapshot)" = 0 &&
	ec2_requests >reqs &&
	jq -c "[.[] | select(.Action == \"DescribeImages\") | [.Code, .Params[\"Filter.1.Name\"]]]" reqs >actual &&
	echo "[[null,\"image-id\"],[\"InvalidParameterValue\",\"block-device-mapping.snapshot-id\"],[\"UnauthorizedOperation\",null]]" >expect &&
	test_cmp expect actual
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./\(seed\|nofilter\).json$" >leaks;
	test_line_count = 0 leaks
'

test_done
