#!/bin/bash
# copy-image from another account: staging (account A) shares an image and its snapshots with
# production (account B, reached with --profile prod, a role assumed from A's keys, or --role-arn);
# copy-image copies it into B, in the record's region and with --to in others, tagged with its
# lineage (SourceImageId, SourceRegion, SourceAccount, and the source's GitSha, Version and BuildUrl,
# which B cannot see in EC2: they come from the record); the same run again makes nothing new.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-xacct.sh

# b_images REGION: B's images there, as the state has them: id, name, and the lineage tags.
b_images () {
	ec2_state "$1" >state &&
	jq -c ".Regions[\"$1\"].Images[] | select(.OwnerId == \"$B\")
		| [.ImageId, .Name, (.Tags | from_entries | [.SourceImageId, .SourceRegion, .SourceAccount,
		   .GitSha, .Version, .BuildUrl, .Project])]" state
}

test_expect_success 'setup: staging shares the image and its snapshots with production' '
	xacct_share
'

test_expect_success 'copy-image --profile prod: into B, in the record region and in --to, with lineage' '
	ec2_reset_counts &&
	copy-image --profile prod --to us-east-1,us-west-2 shared.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.Region, .OwnerId, .SourceImageId, .SourceRegion, .SourceAccount, .Result.Status, .Result.Account] | @tsv" \
		out >actual &&
	printf "%s\t$B\tami-0a000000000000001\tus-east-1\t$A\tdone\t$B\n" us-east-1 us-west-2 >expect &&
	test_cmp expect actual &&
	for r in us-east-1 us-west-2; do
		b_images $r >actual &&
		id=$(jq -r "select(.Region == \"$r\") | .ImageId" out) &&
		echo "[\"$id\",\"web-1\",[\"ami-0a000000000000001\",\"us-east-1\",\"$A\",\"0123abcd\",\"1.4.2\",\"https://ci.example.com/b/42\",null]]" >expect &&
		test_cmp expect actual || return 1
	done &&
	ec2_requests >reqs &&
	jq -r "[.[] | select(.Action == \"CopyImage\") | .AccessKeyId] | unique | .[]" reqs >keys &&
	test_line_count = 1 keys &&
	grep -q "^ASIA" keys &&
	jq -r ".[] | select(.Action == \"CopyImage\") | [.Region, .Params.ClientToken] | @tsv" reqs | sort >tokens1
'

test_expect_success 'the same copy again, with --role-arn: one image per region, the same tokens' '
	ec2_reset_counts &&
	copy-image --role-arn $ROLE --to us-east-1,us-west-2 shared.jsonl >out2 &&
	jq -r ".ImageId" out >expect &&
	jq -r ".ImageId" out2 >actual &&
	test_cmp expect actual &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"CopyImage\") | [.Region, .Params.ClientToken] | @tsv" reqs | sort >tokens2 &&
	test_cmp tokens1 tokens2 &&
	for r in us-east-1 us-west-2; do
		b_images $r >imgs &&
		test_line_count = 1 imgs || return 1
	done
'

test_expect_success 'without --to, the copy goes to the record region' '
	copy-image --profile prod shared.jsonl >out3 &&
	jq -r "[.Region, .ImageId, .Result.Status] | @tsv" out3 >actual &&
	printf "us-east-1\t%s\tdone\n" "$(jq -r "select(.Region == \"us-east-1\") | .ImageId" out)" >expect &&
	test_cmp expect actual
'

test_expect_success 'the dry run plans the copy into B; applying the plan makes it once' '
	copy-image --profile prod --dry-run --to us-west-2 shared.jsonl >plan &&
	jq -r "[.Region, .SourceAccount, .Result.Status, .Result.Account, (.Tags | from_entries | .GitSha)] | @tsv" plan >actual &&
	printf "us-west-2\t$A\tdry-run\t$B\t0123abcd\n" >expect &&
	test_cmp expect actual &&
	copy-image --profile prod plan >applied &&
	jq -r ".ImageId" applied >actual &&
	jq -r "select(.Region == \"us-west-2\") | .ImageId" out >expect &&
	test_cmp expect actual
'

test_expect_success 'an image shared without its snapshots cannot be copied: failed, with EC2 reason' '
	echo "{\"ImageId\":\"ami-0a000000000000002\",\"Region\":\"us-east-1\"}" | share --account $B >shared2.jsonl &&
	test_expect_code 1 copy-image --profile prod shared2.jsonl >out 2>err &&
	jq -r "[.Result.Status, .Result.Reason] | @tsv" out >actual &&
	test_grep "^failed	us-east-1: CopyImage: InvalidRequest: You do not have permission to access the storage of this ami" actual &&
	b_images us-east-1 >imgs &&
	test_line_count = 1 imgs
'

test_expect_success 'an image not shared with B: failed, nothing copied' '
	echo "{\"ImageId\":\"ami-0a000000000000002\",\"Region\":\"us-east-1\"}" | share --remove --account $B >/dev/null &&
	test_expect_code 1 copy-image --profile prod shared2.jsonl >out 2>err &&
	jq -r .Result.Status out >actual &&
	echo failed >expect &&
	test_cmp expect actual
'

test_expect_success 'no secret in outputs or the log' '
	! grep -r amicycle-secret out out2 out3 plan applied err "$EC2_DIR/log"
'

test_done
