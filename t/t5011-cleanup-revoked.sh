#!/bin/bash
# make image-cleanup with revoked images (tagged Revoked=true, as image-revoke leaves them:
# deprecated and disabled too): they do not count among the newest AMICYCLE_KEEP, so the newest good
# images are kept and the revoked ones retired, with their snapshots; AMICYCLE_MIN_AGE, the protect
# tags and the in-use check still hold for them. The dry run changes nothing.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

# image N AGE_DAYS EXTRA: an image of project web in us-east-1, N days old, with its own snapshot;
# EXTRA is more members (a leading comma) and its tags after Project's.
days_ago () {
	date -u -d "-$1" +%Y-%m-%dT%H:%M:%S.000Z
}
image () {
	printf '{"ImageId": "ami-0a00000000000000%s", "Name": "web-%s", "CreationDate": "%s",
	  "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a00000000000000%s"}}],
	  "Tags": [{"Key": "Project", "Value": "%s"}%s]%s}' "$1" "$1" "$(days_ago "$2")" "$1" "${5:-web}" "$3" "$4"
}
revoked=', {"Key": "Revoked", "Value": "true"}, {"Key": "RevokedReason", "Value": "CVE-2026-0001"}'
retired=', "State": "disabled", "DeprecationTime": "2026-01-01T00:00:00.000Z"'
cat >seed.json <<EOF
{"Regions": {"us-east-1": {
  "Images": [
   $(image 1 "50 days" ""),
   $(image 2 "40 days" "$revoked" "$retired"),
   $(image 3 "30 days" ""),
   $(image 4 "20 days" "$revoked, {\"Key\": \"Environment\", \"Value\": \"production\"}" "$retired"),
   $(image 5 "10 days" ""),
   $(image 6 "5 days" "$revoked" "$retired"),
   $(image 7 "2 hours" "$revoked" "$retired"),
   $(image 8 "3 days" "$revoked"),
   $(image 9 "60 days" "$revoked" "" other)],
  "Snapshots": [$(for n in 1 2 3 4 5 6 7 8 9; do printf '{"SnapshotId": "snap-0a00000000000000%s", "VolumeSize": 8}' $n
	[ $n = 9 ] || printf ,; done)],
  "Instances": [{"InstanceId": "i-0a000000000000006", "ImageId": "ami-0a000000000000006",
    "InstanceType": "t3.micro", "LaunchTime": "2026-11-01T00:00:00.000Z"}]}}}
EOF

mkdir project &&
cat >project/Makefile <<EOF
AMICYCLE_PROJECT = web
AMICYCLE_REGIONS = us-east-1
AMICYCLE_KEEP = 2
AMICYCLE_MIN_AGE = 1d
include $SRC_DIR/mk/amicycle.mk
EOF
cleanup () {
	PATH=$AMICYCLE_BUILD/bin:$PATH make --no-print-directory -C project image-cleanup "$@"
}
# images: the images and snapshots EC2 still has, by number.
images () {
	ec2_state us-east-1 >state &&
	jq -r '.Regions["us-east-1"] | [(.Images[].ImageId), (.Snapshots[].SnapshotId)]
		| map(.[-1:]) | join(" ")' state
}
D=project/.amicycle

test_expect_success 'setup' '
	ec2_start seed.json &&
	images >actual &&
	echo "1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9" >expect &&
	test_cmp expect actual
'

test_expect_success 'DRY_RUN=1: the revoked images are planned for retirement, nothing changes' '
	cleanup DRY_RUN=1 >out 2>err &&
	test_grep "^amicycle: image-cleanup: us-east-1: 8 image(s) of web, 5 past the newest 2 or revoked$" out &&
	jq -r "[.ImageId[-1:], .Result.Status] | @tsv" $D/cleanup-us-east-1.jsonl >actual &&
	printf "%s\n" "1	dry-run" "2	dry-run" "4	skipped" "6	skipped" "8	dry-run" >expect &&
	test_cmp expect actual &&
	images >actual &&
	echo "1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9" >expect &&
	test_cmp expect actual
'

test_expect_success 'image-cleanup: the newest two good images kept, the revoked ones retired' '
	cleanup >out 2>err &&
	jq -r "[.ImageId[-1:], .Result.Status] | @tsv" $D/cleanup-us-east-1.jsonl >actual &&
	printf "%s\n" "1	done" "2	done" "4	skipped" "6	skipped" "8	done" >expect &&
	test_cmp expect actual &&
	images >actual &&
	echo "3 4 5 6 7 9 3 4 5 6 7 9" >expect &&
	test_cmp expect actual &&
	jq -r "select(.Action == \"DeregisterImage\" and .DryRun == false) | .Resources[0][-1:]" \
		$D/audit.jsonl | sort | paste -s -d " " >actual &&
	echo "1 2 8" >expect &&
	test_cmp expect actual
'

test_expect_success 'a revoked image is still protected by its tag, and kept while in use' '
	jq -r "select(.Result.Status == \"skipped\") | [.ImageId[-1:], .Result.Reason] | @tsv" \
		$D/cleanup-us-east-1.jsonl >actual &&
	test_line_count = 2 actual &&
	test_grep "^4	.*Environment=production" actual &&
	test_grep "^6	.*i-0a000000000000006" actual
'

test_expect_success AWSCLI 'the AWS CLI sees the kept images, disabled ones included; the retired ones are gone' '
	ec2_aws_model ec2 describe-images --owners self --include-disabled >out &&
	jq -r "[.Images[].Name] | sort | join(\" \")" out >actual &&
	echo "web-3 web-4 web-5 web-6 web-7 web-9" >expect &&
	test_cmp expect actual &&
	ec2_aws ec2 describe-images --image-ids ami-0a000000000000002 ami-0a000000000000008 >out &&
	jq -e ".Images == []" out >/dev/null
'

test_done
