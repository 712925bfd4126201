#!/bin/bash
# image-test's rough edges: a bad SSH key, no manifest, terminations that fail, temporaries left by
# a failure, and manifest regions the project does not know.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-sshd.sh
. "$TEST_DIR"/lib-pipeline.sh

test_have_prereq SSHD || test_skip_all "no sshd"
[ "$(id -u)" != 0 ] && test_set_prereq NONROOT	# root reads a file of mode 000

# running_instances REGION: the ids of the instances still pending or running there.
running_instances () {
	ec2_state "$1" | jq -r --arg r "$1" '.Regions[$r].Reservations[]?.Instances[]
		| select(.State.Name == "pending" or .State.Name == "running") | .InstanceId'
}

test_expect_success 'a project on the fragments, the endpoint and sshd' '
	pipeline_setup "$TRASH/project" us-east-1 &&
	D=$TRASH/project/.amicycle &&
	running_instances us-east-1 >seeded-instances
'

test_expect_success 'AMICYCLE_SSH_KEY names no file: one line, nothing launched' '
	ec2_reset_counts &&
	test_must_fail pipeline_make image-test AMICYCLE_SSH_KEY="$TRASH/nonesuch" >out 2>err &&
	test_grep "image-test: AMICYCLE_SSH_KEY: cannot read $TRASH/nonesuch" err &&
	grep "^amicycle:" err >lines &&
	test_line_count = 1 lines &&
	test "$(ec2_count RunInstances)" = 0 &&
	! test -f "$D/tested.jsonl"
'

test_expect_success NONROOT 'AMICYCLE_SSH_KEY unreadable: refused the same way' '
	cp "$SSHD_USER_KEY" unreadable-key && chmod 000 unreadable-key &&
	ec2_reset_counts &&
	test_must_fail pipeline_make image-test AMICYCLE_SSH_KEY="$PWD/unreadable-key" >out 2>err &&
	test_grep "AMICYCLE_SSH_KEY: cannot read $PWD/unreadable-key" err &&
	test "$(ec2_count RunInstances)" = 0
'

test_expect_success 'no manifest: make image-test says to run make image-build first' '
	rm -rf "$D" &&
	mv "$TRASH/project/manifest.json" manifest.saved &&
	ec2_reset_counts &&
	test_must_fail pipeline_make image-test >out 2>err &&
	mv manifest.saved "$TRASH/project/manifest.json" &&
	test_grep "no Packer manifest at manifest.json: run make image-build first" err &&
	test_grep -v "No rule to make target" err &&
	test "$(ec2_count RunInstances)" = 0 &&
	! test -f "$D/images.jsonl"
'

test_expect_success 'no manifest: image-promote says the same' '
	rm -rf "$D" &&
	mv "$TRASH/project/manifest.json" manifest.saved &&
	test_must_fail pipeline_make image-promote ENV=staging >out 2>err &&
	mv manifest.saved "$TRASH/project/manifest.json" &&
	test_grep "run make image-build first" err
'

test_expect_success 'terminations that fail: not counted as terminated, the target fails' '
	rm -rf "$D" &&
	ec2_reset_counts &&
	ec2_fault "{\"Action\":\"TerminateInstances\",\"Kind\":\"error\",\"Code\":\"UnauthorizedOperation\",\"Count\":20}" &&
	test_must_fail pipeline_make image-test >out 2>err &&
	cat out err >all &&
	test_grep "could not terminate every test instance" all &&
	test_grep "image-test: test instances terminated: 0$" all &&
	test_grep -v "image-test: passed" all &&
	! test -f "$D/tested.jsonl" &&
	ec2_admin DELETE /_admin/faults >/dev/null &&
	PATH=$AMICYCLE_BUILD/bin:$PATH ec2-terminate <"$D/test-instances.jsonl" >/dev/null &&
	running_instances us-east-1 >actual &&
	test_cmp seeded-instances actual
'

test_expect_success 'image-cleanup and image-deprecate failing: no temporary left behind' '
	rm -rf "$D" &&
	ec2_fault "{\"Action\":\"DescribeImages\",\"Kind\":\"error\",\"Code\":\"UnauthorizedOperation\",\"Count\":20}" &&
	test_must_fail pipeline_make image-cleanup >out 2>err &&
	test_must_fail pipeline_make image-deprecate >out 2>err &&
	ec2_admin DELETE /_admin/faults >/dev/null &&
	(cd "$D" && ls -A) >left &&
	test_grep -v "\.all$" left &&
	test_grep -v "\.tmp$" left &&
	test_grep -v "^images-" left &&
	pipeline_make image-cleanup DRY_RUN=1 >out 2>err &&
	(cd "$D" && ls -A) >left &&
	test_grep -v "\.all$" left &&
	test_grep "^images-us-east-1.jsonl$" left
'

test_expect_success 'a manifest region not among AMICYCLE_REGIONS: refused before launching' '
	rm -rf "$D" &&
	ec2_reset_counts &&
	test_must_fail pipeline_make image-test AMICYCLE_REGIONS=eu-west-1 >out 2>err &&
	test_grep "image-test: the manifest has images in us-east-1, which is not among AMICYCLE_REGIONS (eu-west-1)" err &&
	grep "^amicycle:" err >lines &&
	test_line_count = 1 lines &&
	test "$(ec2_count RunInstances)" = 0
'

test_expect_success 'the sweep searches where the instances were launched, not the other regions' '
	rm -rf "$D" &&
	ec2_reset_counts &&
	ec2_fault RunInstances drop-after &&
	pipeline_make image-test AMICYCLE_REGIONS="eu-west-1 us-east-1" >out 2>err &&
	test_grep "image-test: passed: 1 image" out &&
	test "$(ec2_count DescribeInstances eu-west-1)" = 0 &&
	test "$(ec2_count DescribeInstances us-east-1)" -ge 1 &&
	running_instances us-east-1 >actual &&
	test_cmp seeded-instances actual
'

test_done
