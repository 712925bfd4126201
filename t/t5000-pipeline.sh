#!/bin/bash
# The make fragments end to end, as a project uses them: image-test, image-promote ENV=staging and
# image-cleanup against the local EC2 endpoint, with a local sshd playing the test instance.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-sshd.sh
. "$TEST_DIR"/lib-pipeline.sh

test_have_prereq SSHD || test_skip_all "no sshd"

# running_instances REGION: the ids of the instances still pending or running there.
running_instances () {
	ec2_state "$1" | jq -r --arg r "$1" '.Regions[$r].Reservations[]?.Instances[]
		| select(.State.Name == "pending" or .State.Name == "running") | .InstanceId'
}

# images REGION: the ids of the images there.
images () {
	ec2_state "$1" | jq -r --arg r "$1" '.Regions[$r].Images[]?.ImageId' | sort
}

test_expect_success 'a project on the fragments, the endpoint and sshd' '
	pipeline_setup "$TRASH/project" us-east-1 &&
	D=$TRASH/project/.amicycle &&
	new=$(jq -r .New "$TRASH/project/.seed.json" | cut -d: -f2) &&
	running_instances us-east-1 >seeded-instances
'

test_expect_success 'image-test: the new image passes its checks, its instance is gone' '
	(unset AMICYCLE_PROGRESS && pipeline_make image-test >out 2>err) &&
	jq -r .ImageId "$D/tested.jsonl" >actual &&
	echo "$new" >expect &&
	test_cmp expect actual &&
	jq -r "[.Check, .Passed] | @tsv" "$D/test-results.jsonl" | sort >actual &&
	printf "%s\t%s\n" "ssh is up" true "sshd is running" true "the operating system" true ssh true >expect &&
	sort expect >expect.sorted &&
	test_cmp expect.sorted actual &&
	running_instances us-east-1 >actual &&
	test_cmp seeded-instances actual &&
	test_grep "image-test: test instances terminated: 1$" out &&
	test_grep "image-test: passed: 1 image" out &&
	# Each wait says what it waits for, and its progress reaches the stderr of make.
	test_grep "^amicycle: image-test: waiting up to 2m for the instances to run$" out &&
	test_grep "^amicycle: image-test: probing over SSH, waiting up to 30s for each SSH server$" out &&
	test_grep "^ec2-wait: 1 of 1 running [0-9hms]* / 2m$" err &&
	test_grep "^ssh-probe: 1 of 1 done [0-9hms]* / 30s$" err &&
	# The verdict is on the image in EC2, for a later job elsewhere (image-promote FROM=...).
	ec2_state us-east-1 | jq -r --arg id "$new" ".Regions[\"us-east-1\"].Images[] | select(.ImageId == \$id)
		| .Tags | from_entries | [.Tested, .TestedAt] | @tsv" >actual &&
	test_grep "^passed	[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z$" actual &&
	jq -r "[.ImageId, .Result.Status] | @tsv" "$D/test-tagged.jsonl" >actual &&
	printf "%s\tdone\n" "$new" >expect &&
	test_cmp expect actual
'

test_expect_success 'image-test is done: a second make launches nothing' '
	ec2_reset_counts &&
	pipeline_make image-test >out 2>err &&
	test "$(ec2_count RunInstances)" = 0
'

test_expect_success 'image-promote ENV=staging: tagged, copied to eu-west-1 with the tags' '
	(unset AMICYCLE_PROGRESS && pipeline_make image-promote ENV=staging >out 2>err) &&
	test_grep "^amicycle: image-promote: copying to eu-west-1, waiting up to 45m for the copies to become available$" out &&
	test_grep "^copy-image: 0 of 1 available, 1 pending (eu-west-1 ami-[0-9a-f]*) [0-9hms]* / 45m$" err &&
	test_grep "^copy-image: 1 of 1 available [0-9hms]* / 45m$" err &&
	ec2_state us-east-1 | jq -c --arg id "$new" ".Regions[\"us-east-1\"].Images[] | select(.ImageId == \$id)
		| [.Tags[] | select(.Key == \"Environment\" or .Key == \"Promoted\") | .Value]" >actual &&
	echo "[\"staging\",\"true\"]" >expect &&
	test_cmp expect actual &&
	ec2_state eu-west-1 | jq -c ".Regions[\"eu-west-1\"].Images[] | [.State, .SourceImageId,
		(.Tags[] | select(.Key == \"Environment\") | .Value)]" >actual &&
	echo "[\"available\",\"$new\",\"staging\"]" >expect &&
	test_cmp expect actual &&
	jq -r .State "$D/promoted-staging-eu-west-1.jsonl" >actual &&
	echo available >expect &&
	test_cmp expect actual
'

test_expect_success 'a second make image-promote copies nothing' '
	ec2_reset_counts &&
	pipeline_make image-promote ENV=staging >out 2>err &&
	test "$(ec2_count CopyImage)" = 0 &&
	test "$(ec2_count CreateTags)" = 0 &&
	ec2_state eu-west-1 | jq ".Regions[\"eu-west-1\"].Images | length" >actual &&
	echo 1 >expect &&
	test_cmp expect actual
'

test_expect_success 'image-promote without ENV is refused before anything runs' '
	ec2_reset_counts &&
	test_must_fail pipeline_make image-promote >out 2>err &&
	test_grep "say which environment: make image-promote ENV=staging" err &&
	test "$(ec2_count CreateTags)" = 0
'

test_expect_success 'image-cleanup DRY_RUN=1: a plan, nothing changed' '
	images us-east-1 >before &&
	pipeline_make image-cleanup DRY_RUN=1 >out 2>err &&
	images us-east-1 >after &&
	test_cmp before after &&
	jq -r ".Result.Status" "$D/cleanup-us-east-1.jsonl" | sort | uniq -c >actual &&
	printf "%7d dry-run\n%7d skipped\n" 5 1 >expect &&
	test_cmp expect actual
'

test_expect_success 'image-cleanup: the newest 3 kept, the one in use kept, the rest gone with snapshots' '
	pipeline_make image-cleanup >out 2>err &&
	p=$(printf %s us-east-1 | cksum | cut -c1-4) &&
	images us-east-1 >actual &&
	printf "%s\n" "ami-0${p}10000000000a" "ami-0${p}20000000000a" "ami-0${p}50000000000a" \
		"ami-0${p}90000000000b" "$new" | sort >expect &&
	test_cmp expect actual &&
	ec2_state us-east-1 | jq -r ".Regions[\"us-east-1\"].Snapshots[].SnapshotId" | sort >actual &&
	printf "%s\n" "snap-0${p}10000000000b" "snap-0${p}20000000000b" "snap-0${p}50000000000b" >expect &&
	test_cmp expect actual &&
	jq -r "select(.Result.Status == \"skipped\") | [.ImageId, .Result.Reason] | @tsv" \
		"$D/cleanup-us-east-1.jsonl" >actual &&
	test_grep "ami-0${p}50000000000a.*i-0${p}50000000000d" actual
'

test_expect_success 'every change is in the audit log, with no secret' '
	jq -r .Action "$D/audit.jsonl" | sort | uniq -c >actual &&
	test_grep " RunInstances$" actual &&
	test_grep " TerminateInstances$" actual &&
	test_grep " CopyImage$" actual &&
	test_grep " DeregisterImage$" actual &&
	jq -e "select(.RequestId == null and .Outcome == \"done\")" "$D/audit.jsonl" >nulls;
	test_line_count = 0 nulls &&
	grep -rl amicycle-secret "$TRASH/project" >leaks;
	test_line_count = 0 leaks
'

test_expect_success 'a failing check: make fails, the instance is terminated, nothing promoted' '
	rm -rf "$D" &&
	echo "{\"Name\":\"the service\",\"Run\":\"systemctl is-active nonesuch\",\"ExpectExit\":0}" \
		>>"$TRASH/project/checks.jsonl" &&
	ec2_reset_counts &&
	test_must_fail pipeline_make image-test >out 2>err &&
	test_grep "image-test: FAILED" out &&
	! test -f "$D/tested.jsonl" &&
	jq -r "select(.Passed == false) | .Check" "$D/test-results.jsonl" >actual &&
	echo "the service" >expect &&
	test_cmp expect actual &&
	running_instances us-east-1 >actual &&
	test_cmp seeded-instances actual &&
	ec2_state us-east-1 | jq -r --arg id "$new" ".Regions[\"us-east-1\"].Images[] | select(.ImageId == \$id)
		| .Tags | from_entries | [.Tested, .Environment] | @tsv" >actual &&
	printf "failed\tstaging\n" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count CreateTags)" = 1 &&
	# image-promote makes image-test again, which fails again: no Environment=prod anywhere.
	test_must_fail pipeline_make image-promote ENV=prod >out 2>err &&
	test "$(ec2_count CopyImage)" = 0 &&
	ec2_requests | jq -r ".[] | select(.Action == \"CreateTags\") | .Params | to_entries[]
		| select(.key | test(\"Value\")) | .value" | sort -u >actual &&
	echo failed >expect &&
	test_cmp expect actual &&
	! test -f "$D/promoted-prod.jsonl"
'

test_expect_success 'make interrupted during image-test: the instance is still terminated' '
	rm -rf "$D" &&
	sed -i "\$d" "$TRASH/project/checks.jsonl" &&
	echo "{\"Name\":\"slow\",\"Run\":\"sleep 60\",\"Timeout\":\"90s\"}" >>"$TRASH/project/checks.jsonl" &&
	rm -f make.pgid &&
	opath=$PATH && PATH=$AMICYCLE_BUILD/bin:$PATH &&
	start_job make.pgid make --no-print-directory -C "$TRASH/project" image-test >out 2>err &&
	pid=$! && PATH=$opath &&
	for i in $(seq 1 1200); do
		test -s make.pgid && break
		sleep 0.1
	done &&
	wait_catching "$(cat make.pgid)" ssh-probe INT &&
	test -s "$D/test-running.jsonl" &&
	running_instances us-east-1 >during &&
	! test_cmp seeded-instances during &&
	kill -INT -- -$(cat make.pgid) &&
	{ wait $pid; status=$?; } &&
	test $status != 0 &&
	running_instances us-east-1 >actual &&
	test_cmp seeded-instances actual &&
	! test -f "$D/tested.jsonl"
'

test_done
