#!/bin/bash
# deregister on more records than it refreshes at once (1,000: it keeps its records as text and
# parses them again a slice at a time, to bound its memory): every record still comes back once, in
# input order, with the right result, whichever slice it is in.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-dereg.sh

# 1,199 images; image 1105 (in the second slice) carries the protect tag keep.
dereg_images 1199 | jq '(.[] | select(.Name == "web-1105") | .Tags) += [{Key: "keep", Value: "yes"}] |
	{Regions: {"us-east-1": {Images: ., Snapshots: [.[].BlockDeviceMappings[].Ebs.SnapshotId |
		{SnapshotId: ., VolumeSize: 8}]}}}' >seed.json ||
	{ echo "Bail out! cannot write the seed"; exit 1; }
# The input: every image (lines 1-1199), then one never seen (1200) and image 3 again (1201).
{
	jq -c '.Regions["us-east-1"].Images[] | . + {Region: "us-east-1"}' seed.json
	dereg_images 1 5000 | jq -c '.[] | . + {Region: "us-east-1"}'
	dereg_images 1 3 | jq -c '.[] | . + {Region: "us-east-1"}'
} >input.jsonl

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	test_line_count = 1201 input.jsonl
'

test_expect_success 'every record once, in input order, with its result in either slice' '
	ec2_reset_counts &&
	deregister --max 2000 --protect-tag keep input.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r .ImageId out >actual &&
	jq -r .ImageId input.jsonl >expect &&
	test_cmp expect actual &&
	dereg_results out >results &&
	{
		for i in $(seq 1 1199); do
			if [ $i = 1105 ]; then
				printf "%s\tskipped\tprotect tag keep\n" $(dereg_ami $i)
			else
				printf "%s\tdone\t-\n" $(dereg_ami $i)
			fi
		done
		printf "%s\tskipped\talready deregistered\n" $(dereg_ami 5000)
		printf "%s\tskipped\tthe same image as input.jsonl:3\n" $(dereg_ami 3)
	} >expect &&
	test_cmp expect results
'

test_expect_success 'the images done are printed as they are now, with their snapshots deleted' '
	jq -c "select(.Name == \"web-1100\") | [.State, .Result.DeletedSnapshots, .Tags]" out >actual &&
	printf "[\"deregistered\",[\"%s\"],[{\"Key\":\"Project\",\"Value\":\"web\"}]]\n" \
		$(dereg_snap 1100) >expect &&
	test_cmp expect actual
'

test_expect_success 'only the protected image and its snapshot are left' '
	dereg_left >actual &&
	printf "%s\n%s\n" $(dereg_ami 1105) $(dereg_snap 1105) >expect &&
	test_cmp expect actual
'

# 1,200 distinct ids in one refresh would be 6 calls; in slices, 1,000 ids (5 calls), then the
# other 201 (2: image 3, in the first slice, is asked again).
test_expect_success 'the refresh: 200 ids a call, a slice of 1,000 records at a time' '
	test "$(ec2_count DescribeImages)" = 7 &&
	test "$(ec2_count DeregisterImage)" = 1198
'

test_done
