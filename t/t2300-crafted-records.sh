#!/bin/bash
# Input is data an attacker may have written: every filter that takes records and turns them into
# requests refuses a crafted Region or a malformed id with exit 3, before any request is sent.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

SQ="'"

test_expect_success 'setup: the endpoint, a key file' '
	ec2_start &&
	ssh-keygen -q -t ed25519 -N "" -f key
'

# Each filter with what it needs to run, and the id field its records carry.
filters='
tag -t K=V	ImageId	ami-0123456789abcdef0
deregister	ImageId	ami-0123456789abcdef0
image-users	ImageId	ami-0123456789abcdef0
copy-image --to eu-west-1	ImageId	ami-0123456789abcdef0
deprecate --in 7d	ImageId	ami-0123456789abcdef0
ec2-launch --instance-type t3.micro	ImageId	ami-0123456789abcdef0
ec2-wait --available	ImageId	ami-0123456789abcdef0
ec2-terminate	InstanceId	i-0123456789abcdef0
ssh-probe -u u -i key --console	InstanceId	i-0123456789abcdef0
ec2-describe images -	ImageId	ami-0123456789abcdef0
'

# refused ID REGION: (ID - for a good one) every filter ends with exit 3 naming stdin:1, and the endpoint saw nothing.
refused () {
	ec2_reset_counts &&
	while IFS='	' read -r cmd field good; do
		[ -n "$cmd" ] || continue
		id=$1; [ "$id" != - ] || id=$good
		printf "{\"%s\":\"%s\",\"Name\":\"n\",\"PublicIpAddress\":\"127.0.0.1\",\"Region\":%s}\n" \
			"$field" "$id" "$2" >in &&
		{ $cmd <in >out 2>err; rc=$?; } &&
		if [ $rc != 3 ] || [ -s out ] || ! grep -q "^${cmd%% *}: stdin:1: " err; then
			echo "$cmd: exit $rc for $(cat in):" >&2; cat out err >&2; return 1
		fi || return 1
	done <<<"$filters" &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
}

test_expect_success 'a Region that would move the host: attacker.example/#' '
	refused - "\"attacker.example/#\""
'

test_expect_success 'a Region with a dot: us-east-1.evil' '
	refused - "\"us-east-1.evil\""
'

test_expect_success 'Regions of dots, upper case, spaces, hyphens out of place, or nothing' '
	refused - "\"..\"" && refused - "\"US-EAST-1\"" && refused - "\"\"" &&
	refused - "\"us east 1\"" && refused - "\"-us-east-1\"" && refused - "\"us--east-1\"" &&
	refused - "\"us-east-1-\"" && refused - "\"1-east-1\"" && refused - "\"useast\"" &&
	refused - "\"us-east-1\\n\""
'

test_expect_success 'the message names the bad Region without replaying a newline' '
	echo "{\"InstanceId\":\"i-0123456789abcdef0\",\"Region\":\"x\\nforged: line\"}" >in &&
	test_expect_code 3 ec2-terminate in >out 2>err &&
	test_line_count = 1 err &&
	echo "ec2-terminate: in:1: Region ${SQ}x forged: line${SQ} is not a region name" >expect &&
	test_cmp expect err
'

test_expect_success 'malformed ids: a wrong prefix, a wrong length, upper case, junk after' '
	for id in x-01234567 ami-0123456 ami-012345678 ami-0123456789ABCDEF0 ami-0123456789abcdef0/x \
		ami-0123456789abcdef01 "ami-01234567&Action=x" ""; do
		refused "$id" "\"us-east-1\"" || return 1
	done
'

test_expect_success 'ids of 8 and 17 hex digits and a region name pass the reader' '
	echo "{\"ImageId\":\"ami-01234567\",\"Region\":\"us-gov-west-1\"}" >in &&
	ec2_reset_counts &&
	test_expect_code 0 deprecate --in 7d --dry-run <in >out 2>err ||
	test_expect_code 1 deprecate --in 7d --dry-run <in >out 2>err &&
	test "$(ec2_count DisableImageDeprecation)$(ec2_count EnableImageDeprecation)" = 01
'

test_done
