#!/bin/bash
# Regions fan out as make targets: make -j4 over three regions promotes and cleans up exactly as
# make -j1 does. Two endpoints, seeded alike, one run each.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-sshd.sh
. "$TEST_DIR"/lib-pipeline.sh

test_have_prereq SSHD || test_skip_all "no sshd"

REGIONS="us-east-1 eu-west-1 ap-southeast-2"
PROMOTE="us-west-2 eu-central-1"

# outcome: what a run left: each region's images and snapshots, and the records without request ids.
outcome () {
	for r in $REGIONS $PROMOTE; do
		ec2_state "$r" | jq -c --arg r "$r" '{region: $r,
			images: [.Regions[$r].Images[]? | [(if .SourceImageId then "copy of \(.SourceImageId)" else .ImageId end), .Name, ([.Tags[]? | select(.Key == "Environment") | .Value] | join(""))]] | sort,
			snapshots: [.Regions[$r].Snapshots[]? | select(.SnapshotId | test("^snap-0[0-9]{4}")) | .SnapshotId] | sort,
			copied_snapshots: [.Regions[$r].Snapshots[]?] | length}'
	done &&
	for f in "$PIPELINE_DIR"/.amicycle/cleanup-*.jsonl "$PIPELINE_DIR"/.amicycle/promoted-*.jsonl; do
		echo "$(basename "$f")" &&
		jq -c 'del(.Result.RequestId) | {ImageId: (if .SourceImageId then "copy of \(.SourceImageId)" else .ImageId end), Region, Result}' "$f" | sort
	done
}

# run_with JOBS: a fresh endpoint and project; the tested images promoted to two regions and the
# three build regions cleaned up, with make -jJOBS; the outcome in outcome-JOBS.
run_with () {
	pipeline_setup "$TRASH/p$1" $REGIONS &&
	sed -i "/^AMICYCLE_PROMOTE_REGIONS/d; /^include/i\\
AMICYCLE_PROMOTE_REGIONS = $PROMOTE\\
AMICYCLE_COPY_FLAGS = --name {name}-from-{source_region}" "$PIPELINE_DIR/Makefile" &&
	pipeline_make .amicycle/images.jsonl >out 2>err &&
	cp "$PIPELINE_DIR/.amicycle/images.jsonl" "$PIPELINE_DIR/.amicycle/tested.jsonl" &&
	pipeline_make -j"$1" image-promote ENV=qa >out 2>err &&
	pipeline_make -j"$1" image-cleanup >out 2>err &&
	outcome >"outcome-$1" &&
	ec2_stop && sshd_stop
}

test_expect_success 'make -j1: promote to two regions, clean up three' '
	run_with 1 &&
	test_grep "cleanup-ap-southeast-2.jsonl" outcome-1 &&
	test_grep "promoted-qa-eu-central-1.jsonl" outcome-1
'

test_expect_success 'make -j4: the same outcome' '
	run_with 4 &&
	test_cmp outcome-1 outcome-4
'

test_expect_success 'the outcome is the intended one: three kept and the one in use, per region' '
	for r in $REGIONS; do
		grep "^{\"region\":\"$r\"" outcome-4 | jq ".images | length" >n &&
		echo 5 >expect &&
		test_cmp expect n || return 1
	done
'

test_done
