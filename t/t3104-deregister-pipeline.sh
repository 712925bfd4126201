#!/bin/bash
# The cleanup pipeline end to end against the local EC2 endpoint:
#   ec2-describe images --owner self --filter Name=tag:Project,Values=web | sort-by-date
#     | keep-last -n 5 | deregister
# retires exactly the older images of the project, with their snapshots.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-dereg.sh

for p in sort-by-date keep-last; do
	[ -x "$AMICYCLE_BUILD/bin/$p" ] ||
		test_skip_all "$p is not built (it comes from the offline filters' branch)"
done

# Project web: images 1..12, a day apart; project db: images 13..18, interleaved in time with
# web's (days 2, 4, ... 12). Listed in an order that is not by date, as EC2 lists.
{ dereg_images 12 1 web; dereg_images 6 13 db; } | jq -s '
	(.[0] + (.[1] | to_entries | map(.value + {CreationDate:
		(1704067200 + (.key + 1) * 2 * 86400 + 3600 | todate | sub("Z$"; ".000Z"))}))) |
	sort_by(.Name | split("-")[1] | tonumber | (. * 7) % 19) |
	{Regions: {"us-east-1": {Images: ., Snapshots: [.[].BlockDeviceMappings[].Ebs.SnapshotId |
		{SnapshotId: .}]}}}' >seed.json ||
	{ echo "Bail out! cannot write the seed"; exit 1; }

# What must be left: the newest 5 of web (8..12) and all of db, each with its snapshot.
{
	for i in 8 9 10 11 12 13 14 15 16 17 18; do dereg_ami $i; dereg_snap $i; done
} | sort >expect.left

cleanup () {
	(set -o pipefail
	 ec2-describe images --owner self --filter Name=tag:Project,Values=web |
		sort-by-date | keep-last -n 5 | deregister "$@")
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'dry run of the pipeline: the seven oldest images of web, and nothing changes' '
	ec2_reset_counts &&
	cleanup --dry-run >plan 2>err &&
	test_line_count = 0 err &&
	jq -r "[.ImageId, .Name, .Result.Status, (.Result.DeletedSnapshots | join(\",\"))] | @tsv" plan >actual &&
	for i in 1 2 3 4 5 6 7; do
		printf "%s\tweb-%d\tdry-run\t%s\n" $(dereg_ami $i) $i $(dereg_snap $i)
	done >expect &&
	test_cmp expect actual &&
	test "$(dereg_left | wc -l)" = 36
'

test_expect_success 'the pipeline: exactly the older images of web go, with their snapshots' '
	ec2_reset_counts &&
	cleanup --audit audit.log >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.ImageId, .Result.Status, .State] | @tsv" out >actual &&
	for i in 1 2 3 4 5 6 7; do printf "%s\tdone\tderegistered\n" $(dereg_ami $i); done >expect &&
	test_cmp expect actual &&
	dereg_left | sort >actual &&
	test_cmp expect.left actual &&
	test_line_count = 7 audit.log
'

test_expect_success 'its requests: one listing page, one refresh, a read per source, one call per image' '
	ec2_admin GET /_admin/counts | jq -c .Actions >counts &&
	# Launch permissions are the one source EC2 reads per image only.
	cat >expect <<-\EOF &&
	{"DescribeImages": 2, "DescribeImageReferences": 1, "DescribeLaunchTemplateVersions": 1,
	 "DescribeAutoScalingGroups": 1, "DescribeLaunchConfigurations": 1, "DescribeParameters": 1,
	 "DescribeImageAttribute": 7, "DeregisterImage": 7}
	EOF
	jq -S -c . expect >expect.s && jq -S -c . counts >actual &&
	test_cmp expect.s actual
'

test_expect_success 'run again: nothing left to retire, nothing sent to change anything' '
	ec2_reset_counts &&
	cleanup >again 2>err &&
	test_line_count = 0 again &&
	test_line_count = 0 err &&
	test "$(ec2_count DeregisterImage)" = 0 &&
	dereg_left | sort >actual &&
	test_cmp expect.left actual
'

test_expect_success 'the dry-run plan, applied later, finds everything done already' '
	deregister plan >out &&
	jq -r .Result.Status out | sort | uniq -c | sed "s/^ *//" >actual &&
	echo "7 skipped" >expect &&
	test_cmp expect actual
'

test_done
