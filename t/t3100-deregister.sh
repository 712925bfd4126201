#!/bin/bash
# deregister against the local EC2 endpoint: images and their snapshots go, a shared snapshot
# stays, --keep-snapshots, re-runs, the dry run and its plan, bad input, and the audit log.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-dereg.sh

# Images 1..7 in us-east-1, each with its own snapshot; image 7 also uses image 6's snapshot.
# Image 21 in eu-west-1.
dereg_seed 7 >seed7.json &&
dereg_seed 1 21 >seed21.json &&
jq --slurpfile eu seed21.json '.Regions["us-east-1"].Images[6].BlockDeviceMappings += [{DeviceName:
	"/dev/xvdb", Ebs: {SnapshotId: "snap-01000000000000006"}}] |
	.Regions["eu-west-1"] = $eu[0].Regions["us-east-1"]' seed7.json >seed.json ||
	{ echo "Bail out! cannot write the seed"; exit 1; }

for i in 1 2 3 4 5 6 7; do
	eval "ami$i=$(dereg_ami $i) snap$i=$(dereg_snap $i)"
done
ami21=$(dereg_ami 21) snap21=$(dereg_snap 21)

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'images and their snapshots go; one DeregisterImage each, EC2 deletes the snapshots' '
	ec2_reset_counts &&
	printf "{\"ImageId\":\"%s\"}\n" $ami1 $ami2 >in &&
	deregister --audit audit.log in >out 2>err &&
	test_line_count = 0 err &&
	dereg_results out >actual &&
	printf "%s\tdone\t-\n" $ami1 $ami2 >expect &&
	test_cmp expect actual &&
	jq -c "[.State, .Result.DeletedSnapshots, .Result.KeptSnapshots]" out >actual &&
	cat >expect <<-EOF &&
	["deregistered",["$snap1"],[]]
	["deregistered",["$snap2"],[]]
	EOF
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 2 &&
	test "$(ec2_count DeleteSnapshot)" = 0 &&
	ec2_requests >reqs &&
	jq -c ".[] | select(.Action == \"DeregisterImage\") | .Params" reqs >actual &&
	cat >expect <<-EOF &&
	{"ImageId":"$ami1","DeleteAssociatedSnapshots":"true"}
	{"ImageId":"$ami2","DeleteAssociatedSnapshots":"true"}
	EOF
	jq -S -c . expect >expect.s && jq -S -c . actual | sort >actual.s && sort expect.s >expect.ss &&
	test_cmp expect.ss actual.s &&
	dereg_left >left &&
	test_grep -v "$ami1\|$ami2\|$snap1\|$snap2" left &&
	test_grep "$ami3" left && test_grep "$snap3" left
'

test_expect_success 'the output is the image as it is now, with the fields the pipeline added' '
	echo "{\"ImageId\":\"$ami5\",\"Name\":\"stale\",\"Packer\":{\"BuildName\":\"web\"},\"Result\":{\"Action\":\"tag\",\"Status\":\"done\"}}" >in &&
	deregister --audit audit.log in >out &&
	jq -c "del(.Result.RequestId)" out >actual &&
	jq -c --arg ami $ami5 --arg snap $snap5 ".Regions[\"us-east-1\"].Images[] | select(.ImageId == \$ami) |
		. + {OwnerId: \"123456789012\", State: \"deregistered\", Packer: {BuildName: \"web\"},
		Region: \"us-east-1\", Result: {Action: \"deregister\", Status: \"done\",
		DeletedSnapshots: [\$snap], KeptSnapshots: []}}" seed.json >expect &&
	test_json_eq expect actual &&
	jq -r .Result.RequestId out >reqid &&
	test_grep "^[-0-9a-f]\{36\}$" reqid
'

test_expect_success 'a snapshot another image still uses is kept, and goes with the last image' '
	echo "{\"ImageId\":\"$ami6\"}" >in &&
	deregister --audit audit.log in >out &&
	dereg_results out >actual &&
	printf "%s\tdone\tkept %s: another image uses it\n" $ami6 $snap6 >expect &&
	test_cmp expect actual &&
	jq -c "[.Result.DeletedSnapshots, .Result.KeptSnapshots]" out >actual &&
	echo "[[],[\"$snap6\"]]" >expect &&
	test_cmp expect actual &&
	dereg_left >left &&
	test_grep "$snap6" left &&
	echo "{\"ImageId\":\"$ami7\"}" >in &&
	deregister --audit audit.log in >out &&
	jq -c "[.Result.Status, .Result.DeletedSnapshots, .Result.KeptSnapshots]" out >actual &&
	echo "[\"done\",[\"$snap7\",\"$snap6\"],[]]" >expect &&
	test_cmp expect actual &&
	dereg_left >left &&
	test_grep -v "$snap6\|$snap7" left
'

test_expect_success '--keep-snapshots leaves every snapshot and says so' '
	ec2_reset_counts &&
	echo "{\"ImageId\":\"$ami3\"}" >in &&
	deregister --keep-snapshots --audit audit.log in >out &&
	jq -c "[.ImageId, .Result.Status, .Result.DeletedSnapshots, .Result.KeptSnapshots]" out >actual &&
	echo "[\"$ami3\",\"done\",[],[\"$snap3\"]]" >expect &&
	test_cmp expect actual &&
	ec2_requests >reqs &&
	jq -c ".[] | select(.Action == \"DeregisterImage\") | .Params" reqs >actual &&
	echo "{\"ImageId\":\"$ami3\"}" >expect &&
	test_cmp expect actual &&
	dereg_left >left &&
	test_grep -v "$ami3" left &&
	test_grep "$snap3" left
'

test_expect_success 'a second run skips what is gone, changes nothing and exits 0' '
	ec2_reset_counts &&
	printf "{\"ImageId\":\"%s\"}\n" $ami1 $ami2 $ami3 >in &&
	deregister --audit audit.log in >out 2>err &&
	test_line_count = 0 err &&
	dereg_results out >actual &&
	printf "%s\tskipped\talready deregistered\n" $ami1 $ami2 $ami3 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 0 &&
	test "$(ec2_count DeleteSnapshot)" = 0
'

test_expect_success 'an id EC2 never had is skipped as already gone too' '
	echo "{\"ImageId\":\"ami-0ffffffffffffffff\"}" >in &&
	deregister --audit audit.log in >out &&
	dereg_results out >actual &&
	printf "ami-0ffffffffffffffff\tskipped\talready deregistered\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'dry run: DryRun=true for each image, nothing changes, the plan names the snapshots' '
	ec2_reset_counts &&
	dereg_left >before &&
	printf "{\"ImageId\":\"%s\"}\n{\"ImageId\":\"%s\",\"Region\":\"eu-west-1\"}\n" $ami4 $ami21 >in &&
	deregister --dry-run --audit audit.log in >plan 2>err &&
	test_line_count = 0 err &&
	dereg_results plan >actual &&
	printf "%s\tdry-run\twould delete %s\n" $ami4 $snap4 $ami21 $snap21 >expect &&
	test_cmp expect actual &&
	jq -c "[.Region, .State, .Result.DeletedSnapshots, .Result.KeptSnapshots]" plan >actual &&
	cat >expect <<-EOF &&
	["us-east-1","available",["$snap4"],[]]
	["eu-west-1","available",["$snap21"],[]]
	EOF
	test_cmp expect actual &&
	dereg_left >after &&
	test_cmp before after &&
	ec2_requests >reqs &&
	jq -c ".[] | select(.Action == \"DeregisterImage\") | [.Params.DryRun, .Code]" reqs >actual &&
	printf "[\"true\",\"DryRunOperation\"]\n[\"true\",\"DryRunOperation\"]\n" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeleteSnapshot)" = 0
'

test_expect_success 'a record without Region goes to --region; its own Region wins' '
	printf "{\"ImageId\":\"%s\",\"Region\":\"us-east-1\"}\n{\"ImageId\":\"%s\"}\n" $ami4 $ami21 >in &&
	deregister --dry-run --region eu-west-1 in >plan2 &&
	jq -r "[.Region, .Result.Status] | @tsv" plan2 >actual &&
	printf "us-east-1\tdry-run\neu-west-1\tdry-run\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'applying the dry-run plan does what it said' '
	ec2_reset_counts &&
	deregister --audit audit.log plan2 >out &&
	jq -c "[.ImageId, .Region, .Result.Status, .Result.DeletedSnapshots, .Result.KeptSnapshots]" plan2 >planned &&
	sed "s/\"dry-run\"/\"done\"/" planned >expect &&
	jq -c "[.ImageId, .Region, .Result.Status, .Result.DeletedSnapshots, .Result.KeptSnapshots]" out >actual &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 2 &&
	ec2_state >state &&
	jq -r ".Regions[] | (.Images[].ImageId), (.Snapshots[].SnapshotId)" state >left &&
	test_grep -v "$ami4\|$snap4\|$ami21\|$snap21" left
'

test_expect_success 'the same image twice: deregistered once, the second record skipped' '
	ec2_reset_counts &&
	printf "{\"ImageId\":\"%s\"}\n" $ami5 >in1 &&
	ec2_seed seed.json merge &&
	printf "{\"ImageId\":\"%s\"}\n{\"ImageId\":\"%s\"}\n" $ami5 $ami5 >in &&
	deregister --audit audit.log in1 in >out &&
	dereg_results out >actual &&
	printf "%s\tdone\t-\n%s\tskipped\tthe same image as in1:1\n%s\tskipped\tthe same image as in1:1\n" \
		$ami5 $ami5 $ami5 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 1
'

test_expect_success 'a call EC2 refuses fails that image only: exit 1, one line on stderr' '
	ec2_seed seed.json &&
	echo "{\"Deny\":[{\"Action\":\"DeregisterImage\",\"ResourceId\":\"$ami2\"}]}" >deny.json &&
	ec2_seed deny.json merge &&
	printf "{\"ImageId\":\"%s\"}\n" $ami1 $ami2 $ami3 >in &&
	test_expect_code 1 deregister --audit audit.log in >out 2>err &&
	jq -r "[.ImageId, .Result.Status, .State] | @tsv" out >actual &&
	printf "%s\tdone\tderegistered\n%s\tfailed\tavailable\n%s\tdone\tderegistered\n" \
		$ami1 $ami2 $ami3 >expect &&
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^deregister: us-east-1: DeregisterImage: UnauthorizedOperation: .* (request id [-0-9a-f]*)$" err &&
	jq -r "select(.ImageId == \"$ami2\") | .Result.Reason" out >reason &&
	test_grep "^us-east-1: DeregisterImage: UnauthorizedOperation: " reason
'

test_expect_success 'the audit log: one line per DeregisterImage, with its request id and outcome' '
	ec2_seed seed.json &&
	rm -f audit.log &&
	ec2_reset_counts &&
	printf "{\"ImageId\":\"%s\"}\n" $ami4 >in &&
	deregister --dry-run --audit audit.log in >plan &&
	printf "{\"ImageId\":\"%s\"}\n" $ami1 $ami4 >in &&
	deregister --audit audit.log in >out &&
	ec2_seed deny.json merge &&
	printf "{\"ImageId\":\"%s\"}\n" $ami2 >in &&
	test_expect_code 1 deregister --audit audit.log in >>out 2>err &&
	test "$(ec2_count DeregisterImage)" = 4 &&
	test_line_count = 4 audit.log &&
	jq -r "[.Program, .Action, .Region, (.Resources | join(\",\")), .DryRun, .Outcome, .Code // \"-\"] | @tsv" audit.log >actual &&
	cat >expect <<-EOF &&
	deregister	DeregisterImage	us-east-1	$ami4	true	dry-run	DryRunOperation
	deregister	DeregisterImage	us-east-1	$ami1,$snap1	false	done	-
	deregister	DeregisterImage	us-east-1	$ami4,$snap4	false	done	-
	deregister	DeregisterImage	us-east-1	$ami2	false	failed	UnauthorizedOperation
	EOF
	sort expect >expect.s && sort actual >actual.s &&
	test_cmp expect.s actual.s &&
	cat plan out | jq -r "[.ImageId, .Result.RequestId] | @tsv" | sort >expect &&
	jq -r "[.Resources[0], .RequestId] | @tsv" audit.log | sort >actual &&
	test_cmp expect actual
'

test_expect_success 'AMICYCLE_AUDIT_LOG names the log when there is no --audit' '
	ec2_seed seed.json &&
	echo "{\"ImageId\":\"$ami1\"}" >in &&
	AMICYCLE_AUDIT_LOG=env-audit.log deregister in >out &&
	test_line_count = 1 env-audit.log &&
	test_grep "\"Outcome\":\"done\"" env-audit.log
'

test_expect_success 'bad input at line 50 of 100: exit 3, FILE:LINE, and not one request' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	for i in $(seq 1 100); do
		if [ $i = 50 ]; then echo "{\"Name\":\"no id\"}"; else echo "{\"ImageId\":\"$ami1\"}"; fi
	done >in &&
	test_expect_code 3 deregister --audit audit.log in >out 2>err &&
	test_line_count = 0 out &&
	echo "deregister: in:50: no ImageId" >expect &&
	test_cmp expect err &&
	test "$(ec2_count DeregisterImage)" = 0 &&
	test "$(ec2_count DeleteSnapshot)" = 0 &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success 'every kind of bad input is exit 3 naming the line' '
	ec2_reset_counts &&
	check_bad () {
		printf "{\"ImageId\":\"%s\"}\n%s\n" $ami1 "$1" >in &&
		test_expect_code 3 deregister in >out 2>err &&
		test_line_count = 0 out &&
		test_line_count = 1 err &&
		test_grep "^deregister: in:2: $2" err
	} &&
	check_bad "not json" "" &&
	check_bad "[1]" "not a JSON object" &&
	check_bad "{\"Name\":\"x\"}" "no ImageId$" &&
	check_bad "{\"ImageId\":7}" "ImageId is not a string$" &&
	check_bad "{\"ImageId\":\"i-0123456789abcdef0\"}" "ImageId .i-0123456789abcdef0. is not an id: ami- and 8 or 17 hex digits$" &&
	check_bad "{\"ImageId\":\"ami-\"}" "ImageId .ami-. is not an id: ami- and 8 or 17 hex digits$" &&
	check_bad "{\"ImageId\":\"ami-0xyz\"}" "ImageId .ami-0xyz. is not an id: ami- and 8 or 17 hex digits$" &&
	check_bad "{\"ImageId\":\"$ami2\",\"InstanceId\":\"i-0123456789abcdef0\"}" "an instance record (InstanceId), not an image record$" &&
	check_bad "{\"ImageId\":\"$ami2\",\"Region\":7}" "Region is not a string$" &&
	check_bad "{\"ImageId\":\"$ami2\",\"Region\":\"\"}" "Region .. is not a region name$" &&
	check_bad "{\"ImageId\":\"$ami2\",\"Region\":\"evil.example.com/\"}" "Region .evil.example.com/. is not a region name$" &&
	(unset AWS_REGION; echo "{\"ImageId\":\"$ami2\"}" >in &&
	 test_expect_code 3 deregister in 2>err) &&
	echo "deregister: in:1: no Region, and no region configured (--region, AWS_REGION)" >expect &&
	test_cmp expect err &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success 'no input: nothing to do, exit 0' '
	deregister </dev/null >out &&
	test_line_count = 0 out
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 deregister --max -1 </dev/null 2>err &&
	test_grep "max" err &&
	test_expect_code 2 deregister --max lots </dev/null 2>err &&
	test_expect_code 2 deregister --protect-tag "" </dev/null 2>err &&
	test_expect_code 2 deregister --protect-tag =x </dev/null 2>err &&
	test_grep "expected KEY or KEY=VALUE" err &&
	test_expect_code 2 deregister -P 0 </dev/null 2>err &&
	test_expect_code 2 deregister --endpoint-url ftp://x </dev/null 2>err
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./seed.*\.json$" >leaks;
	test_line_count = 0 leaks
'

test_done
