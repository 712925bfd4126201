#!/bin/bash
# deregister under faults: a throttling burst in the middle of 200 deregistrations, answers lost
# to dropped connections, 5xx errors past the retries; nothing is done twice and the audit log
# has every call.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-dereg.sh

dereg_seed 200 >seed200.json &&
dereg_seed 3 >seed3.json &&
jq '.Settings.UnknownParameters = ["DeregisterImage.DeleteAssociatedSnapshots"]' seed3.json >old3.json ||
	{ echo "Bail out! cannot write the seeds"; exit 1; }
jq -c '.Regions["us-east-1"].Images[] | {ImageId, Region: "us-east-1"}' seed200.json >in200
jq -c '.Regions["us-east-1"].Images[] | {ImageId}' seed3.json >in3
ami1=$(dereg_ami 1) ami2=$(dereg_ami 2) ami3=$(dereg_ami 3)
snap1=$(dereg_snap 1) snap2=$(dereg_snap 2) snap3=$(dereg_snap 3)
lost="gone by the time EC2 answered: deregistered by an attempt whose answer was lost, or by another caller"

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed200.json
'

test_expect_success 'a throttling burst in the middle of 200 deregistrations: all done, none twice' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"throttle\",\"Action\":\"DeregisterImage\",\"Skip\":100,\"Count\":5}" &&
	AWS_MAX_ATTEMPTS=6 deregister --max 200 --audit audit.log in200 >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.Result.Status, .State] | @tsv" out | sort | uniq -c | sed "s/^ *//" >actual &&
	printf "200 done\tderegistered\n" >expect &&
	test_cmp expect actual &&
	jq -r .ImageId out >ids &&
	jq -r .ImageId in200 >expect &&
	test_cmp expect ids &&
	test "$(ec2_count DeregisterImage)" = 205 &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"DeregisterImage\") | .Code // \"ok\"" reqs | sort | uniq -c | sed "s/^ *//" >actual &&
	printf "5 RequestLimitExceeded\n200 ok\n" >expect &&
	test_cmp expect actual &&
	jq -r ".[] | select(.Action == \"DeregisterImage\" and .Code == null) | .Params.ImageId" reqs | sort >done &&
	sort -u done >once &&
	test_cmp once done &&
	sort ids >expect &&
	test_cmp expect done
'

test_expect_success 'the endpoint shows all 200 images and their snapshots gone' '
	ec2_state us-east-1 >state &&
	jq -r ".Regions[\"us-east-1\"] | [(.Images | length), (.Snapshots | length), (.DeregisteredImageIds | length)] | @tsv" state >actual &&
	printf "0\t0\t200\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the audit log: 200 lines, one per image, each done with its request id' '
	test_line_count = 200 audit.log &&
	jq -r "[.Action, .Outcome] | @tsv" audit.log | sort | uniq -c | sed "s/^ *//" >actual &&
	printf "200 DeregisterImage\tdone\n" >expect &&
	test_cmp expect actual &&
	jq -r "[.Resources[0], .RequestId] | @tsv" audit.log | sort >actual &&
	jq -r "[.ImageId, .Result.RequestId] | @tsv" out | sort >expect &&
	test_cmp expect actual &&
	jq -r "select(.Attempts > 1) | .Resources[0]" audit.log >retried &&
	test_line_count -ge 1 retried &&
	test_line_count -le 5 retried
'

test_expect_success 'a lost answer: the retry finds the image gone, and it is reported done' '
	ec2_seed seed3.json &&
	ec2_reset_counts &&
	rm -f audit.log &&
	ec2_fault "{\"Kind\":\"drop-after\",\"Action\":\"DeregisterImage\",\"Count\":1}" &&
	deregister --audit audit.log in3 >out 2>err &&
	test_line_count = 0 err &&
	dereg_results out >actual &&
	cat >expect <<-EOF &&
	$ami1	done	$lost
	$ami2	done	-
	$ami3	done	-
	EOF
	test_cmp expect actual &&
	jq -c "[.State, .Result.DeletedSnapshots, .Result.KeptSnapshots]" out >actual &&
	cat >expect <<-EOF &&
	["deregistered",["$snap1"],[]]
	["deregistered",["$snap2"],[]]
	["deregistered",["$snap3"],[]]
	EOF
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 4 &&
	test "$(ec2_count DeleteSnapshot)" = 0 &&
	test "$(dereg_left | wc -l)" = 0
'

test_expect_success 'the audit log says what EC2 answered to the call' '
	jq -r "[.Resources[0], .Outcome, .Code // \"-\"] | @tsv" audit.log | sort >actual &&
	cat >expect <<-EOF &&
	$ami1	failed	InvalidAMIID.Unavailable
	$ami2	done	-
	$ami3	done	-
	EOF
	test_cmp expect actual
'

test_expect_success 'a cut-short answer: retried by deregister, the image gone, done; the audit counts 2 attempts' '
	ec2_seed seed3.json &&
	ec2_reset_counts &&
	rm -f audit.log &&
	ec2_fault DeregisterImage truncate 1 &&
	deregister -P 1 --audit audit.log in3 >out 2>err &&
	test_line_count = 0 err &&
	dereg_results out | grep -c "	done	$lost$" >actual &&
	echo 1 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 4 &&
	test "$(dereg_left | wc -l)" = 0 &&
	jq -r "select(.Outcome == \"failed\") | [.Code, .Attempts] | @tsv" audit.log >actual &&
	printf "InvalidAMIID.Unavailable\t2\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a lost answer on an older endpoint: the snapshot is deleted after all' '
	ec2_seed old3.json &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"drop-after\",\"Action\":\"DeregisterImage\",\"Skip\":1,\"Count\":1}" &&
	deregister in3 >out 2>err &&
	test_line_count = 0 err &&
	jq -r .Result.Status out | sort | uniq -c | sed "s/^ *//" >actual &&
	echo "3 done" >expect &&
	test_cmp expect actual &&
	dereg_results out | grep -c "	done	$lost$" >actual &&
	echo 1 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeleteSnapshot)" = 3 &&
	test "$(dereg_left | wc -l)" = 0
'

test_expect_success 'a DeleteSnapshot whose answer is lost: the retry finds it gone, it counts as deleted' '
	ec2_seed old3.json &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"drop-after\",\"Action\":\"DeleteSnapshot\",\"Count\":1}" &&
	deregister in3 >out 2>err &&
	test_line_count = 0 err &&
	jq -c "[.Result.Status, .Result.DeletedSnapshots]" out >actual &&
	cat >expect <<-EOF &&
	["done",["$snap1"]]
	["done",["$snap2"]]
	["done",["$snap3"]]
	EOF
	test_cmp expect actual &&
	test "$(ec2_count DeleteSnapshot)" = 4 &&
	test "$(dereg_left | wc -l)" = 0
'

test_expect_success 'a connection dropped before EC2 acted, and a 500: retried, done once' '
	ec2_seed seed3.json &&
	ec2_reset_counts &&
	ec2_fault DeregisterImage drop 1 &&
	ec2_fault DeregisterImage internal 1 &&
	deregister in3 >out 2>err &&
	test_line_count = 0 err &&
	dereg_results out >actual &&
	printf "%s\tdone\t-\n" $ami1 $ami2 $ami3 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 5
'

test_expect_success 'a call failing past its attempts: failed, exit 1, 3 attempts in the audit; a re-run finishes' '
	ec2_seed seed3.json &&
	ec2_reset_counts &&
	rm -f audit.log &&
	ec2_fault DeregisterImage internal 3 &&
	echo "{\"ImageId\":\"$ami2\"}" >in1 &&
	AWS_MAX_ATTEMPTS=3 test_expect_code 1 deregister --audit audit.log in1 >out 2>err &&
	jq -r "[.Result.Status, .State] | @tsv" out >actual &&
	printf "failed\tavailable\n" >expect &&
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^deregister: us-east-1: DeregisterImage: InternalError: An internal error has occurred (request id [-0-9a-f]*)$" err &&
	jq -r "[.Resources[0], .Outcome, .Code // \"-\", .Attempts] | @tsv" audit.log >actual &&
	printf "%s\tfailed\tInternalError\t3\n" $ami2 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 3 &&
	cat out in3 >again.in &&
	deregister again.in >again &&
	dereg_results again >actual &&
	printf "%s\tdone\t-\n%s\tdone\t-\n%s\tskipped\tthe same image as again.in:1\n%s\tdone\t-\n" \
		$ami2 $ami1 $ami2 $ami3 >expect &&
	test_cmp expect actual
'

test_expect_success 'a safety read whose endpoint repeats its NextToken: nothing deregistered, exit 1' '
	for action in DescribeImages DescribeImageReferences DescribeLaunchTemplateVersions \
		DescribeAutoScalingGroups DescribeLaunchConfigurations DescribeParameters; do
		ec2_seed seed3.json &&
		ec2_reset_counts &&
		ec2_admin DELETE /_admin/faults >/dev/null &&
		ec2_fault "{\"Kind\":\"repeat-token\",\"Action\":\"$action\",\"Count\":10}" &&
		test_expect_code 1 deregister in3 >out 2>err &&
		jq -r ".Result.Status + \" \" + .Result.Reason" out | sort | uniq -c | sed "s/^ *//" >actual &&
		echo "3 failed not deregistered: a read the safety checks need failed" >expect &&
		test_cmp expect actual &&
		test_line_count = 1 err &&
		test_grep "^deregister: .*$action: PaginationError: the endpoint sent the same NextToken twice" err &&
		test "$(ec2_count DeregisterImage)" = 0 || return 1
	done &&
	ec2_admin DELETE /_admin/faults >/dev/null
'

test_expect_success 'interrupted: the calls in flight finish, no more start, every record is printed' '
	dereg_seed 10 >seed10.json &&
	ec2_seed seed10.json &&
	ec2_reset_counts &&
	rm -f audit.log &&
	jq -c ".Regions[\"us-east-1\"].Images[] | {ImageId}" seed10.json >in10 &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"DeregisterImage\",\"DelayMs\":1000,\"Count\":10}" &&
	{ deregister -P 2 --audit audit.log in10 >out 2>err & pid=$!; } &&
	i=0 &&
	while [ "$(ec2_count DeregisterImage)" -lt 3 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done &&
	kill -TERM $pid &&
	{ wait $pid; echo $? >rc; } &&
	echo 143 >expect &&
	test_cmp expect rc &&
	dereg_results out >actual &&
	{
		for i in 1 2 3; do printf "%s\tdone\t-\n" $(dereg_ami $i); done &&
		for i in 4 5 6 7 8 9 10; do printf "%s\tinterrupted\tnot deregistered: interrupted\n" $(dereg_ami $i); done
	} >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 3 &&
	test_line_count = 3 audit.log &&
	dereg_left >left &&
	test_line_count = 14 left
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./.*\.json$" >leaks;
	test_line_count = 0 leaks
'

test_expect_success 'no credentials: the reason, which names every source tried, is said once' '
	ec2_seed seed3.json &&
	ec2_reset_counts &&
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	 test_expect_code 1 deregister --region us-east-1 in3 >out 2>err) &&
	grep -c "NoCredentials: no credentials: tried env .*, imds " err >n &&
	test "$(cat n)" = 1 &&
	grep -c "NoCredentials: no credentials (the sources tried are listed once, in another error)$" err >n &&
	test "$(cat n)" = $(($(wc -l <err) - 1)) &&
	test "$(cat n)" -ge 2 &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_done
