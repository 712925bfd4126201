#!/bin/bash
# amicycle-summary over a promotion into another account: the Promotions table names the account
# of each image, tagged in place or copied (its OwnerId, else its Result's Account, as a failed
# copy has no owner), and a copy from another account names the source's account as well. The
# records are the filters' own, run against the local endpoint: staging (account A) shares an
# image with production (account B), copy-image --profile prod copies it into B in two regions,
# tag --profile prod marks the copies Environment=production.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-xacct.sh

$PYTHON -c 'import markdown' 2>/dev/null || test_skip_all "no python3-markdown"

test_expect_success 'setup: staging shares the image and its snapshots with production' '
	xacct_share
'

test_expect_success 'production copies the shared image into B, and tags the copies there' '
	{ cat shared.jsonl && ec2-describe images --owner self ami-0a000000000000002; } >sources.jsonl &&
	test_expect_code 1 copy-image --profile prod --to us-east-1,us-west-2 sources.jsonl >copies.jsonl 2>err &&
	jq -r "[.SourceImageId, .Region, .Result.Status, .Result.Account] | @tsv" copies.jsonl >actual &&
	printf "ami-0a000000000000001\t%s\tdone\t$B\n" us-east-1 us-west-2 >expect &&
	printf "ami-0a000000000000002\t%s\tfailed\t$B\n" us-east-1 us-west-2 >>expect &&
	test_cmp expect actual &&
	jq -c "select(.Result.Status == \"done\")" copies.jsonl |
		tag --profile prod -t Environment=production >tagged.jsonl &&
	jq -r "[.Region, .OwnerId, .Result.Status] | @tsv" tagged.jsonl >actual &&
	printf "%s\t$B\tdone\n" us-east-1 us-west-2 >expect &&
	test_cmp expect actual
'

test_expect_success 'the Promotions table: each image with its account and region, copies (tagged or not) with their source account' '
	amicycle-summary -t promotion copies.jsonl tagged.jsonl >summary.md &&
	$PYTHON "$TEST_DIR"/markdown-parse.py summary.md >parsed &&
	jq -r ".sections.Promotions[] | join(\"\t\")" parsed >actual &&
	{ printf "Environment\tAccount\tRegion\tImage\tCopied from\n" &&
	  jq -r "[(.Tags // [] | from_entries | .Environment // \"\"), (.OwnerId // .Result.Account),
		.Region, (.ImageId // \"\"), \"\(.SourceImageId) in \(.SourceRegion) of \(.SourceAccount)\"] | @tsv" \
		copies.jsonl | sort -t "	" -k 3,3 -k 4,4 &&
	  jq -r "[\"production\", .OwnerId, .Region, .ImageId,
		\"\(.SourceImageId) in \(.SourceRegion) of \(.SourceAccount)\"] | @tsv" tagged.jsonl | sort -t "	" -k 3,3; } >expect &&
	cut -f 1-5 actual >actual.rows &&
	test_cmp expect actual.rows &&
	cut -f 6 actual | cut -d " " -f 1 >status &&
	printf "%s\n" Status failed: done failed: done done done >expect &&
	test_cmp expect status
'

test_done
