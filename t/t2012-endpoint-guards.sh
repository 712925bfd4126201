#!/bin/bash
# t/ec2-endpoint.py's guards, driven and read back with the real AWS CLI (given the endpoint's EC2
# model: ec2_aws_model): DisableImage makes an image private and hides it from listings without
# IncludeDisabled, EnableImage does not share it again, a disabled image cannot be shared; a
# pending image or another account's cannot be disabled; deregistration protection, with and
# without the cooldown, and DeregisterImage refusing until the cooldown is over; DryRun.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

# Images: 1 public and shared with an account; 2 plain; 3 pending; 4 another account's, shared with
# ours; 5 protection disabled until a time past; 6 until two years from now.
year=$(( $(date -u +%Y) + 2 ))
jq -n --arg later "disabled-until $year-01-01T00:00:00.000Z" '
def ami(n): "ami-0b00000000000000\(n)";
{Regions: {"us-east-1": {Images: [
	{ImageId: ami(1), Name: "img-1", Public: true, LaunchPermissions: [{UserId: "111122223333"}]},
	{ImageId: ami(2), Name: "img-2"},
	{ImageId: ami(3), Name: "img-3", State: "pending"},
	{ImageId: ami(4), Name: "img-4", OwnerId: "111122223333", LaunchPermissions: [{UserId: "123456789012"}]},
	{ImageId: ami(5), Name: "img-5", DeregistrationProtection: "disabled-until 2020-01-01T00:00:00.000Z"},
	{ImageId: ami(6), Name: "img-6", DeregistrationProtection: $later}]}}}' >seed.json || exit 1

ami1=ami-0b000000000000001 ami2=ami-0b000000000000002 ami3=ami-0b000000000000003
ami4=ami-0b000000000000004 ami5=ami-0b000000000000005 ami6=ami-0b000000000000006

# field ID FIELD: the image's FIELD as describe-images by id prints it.
field () {
	ec2_aws_model ec2 describe-images --image-ids "$1" >img.json &&
	jq -r --arg f "$2" '.Images[0] | if has($f) then .[$f] else "-" end' img.json
}

# cli_error CODE ARGS...: the AWS CLI fails with error CODE (its exit 254: the service said no).
cli_error () {
	test_expect_code 254 ec2_aws_model "${@:2}" >out 2>err &&
	test_grep "($1)" err
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'disable-image: disabled, private, listed only with --include-disabled' '
	ec2_aws_model ec2 disable-image --image-id $ami1 >out &&
	echo "{\"Return\":true}" >expect &&
	jq -c . out >actual &&
	test_cmp expect actual &&
	test "$(field $ami1 State)" = disabled &&
	test "$(field $ami1 Public)" = false &&
	ec2_aws_model ec2 describe-image-attribute --image-id $ami1 --attribute launchPermission >out &&
	test "$(jq ".LaunchPermissions | length" out)" = 0 &&
	ec2_aws_model ec2 describe-images --owners self >out &&
	jq -r ".Images[].ImageId" out | sort >actual &&
	printf "%s\n" $ami2 $ami3 $ami5 $ami6 >expect &&
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-images --owners self --include-disabled >out &&
	jq -r ".Images[].ImageId" out | sort >actual &&
	printf "%s\n" $ami1 $ami2 $ami3 $ami5 $ami6 >expect &&
	test_cmp expect actual
'

test_expect_success 'a disabled image cannot be launched, copied, shared or unshared; disabling again answers true' '
	cli_error InvalidAMIID.Unavailable ec2 run-instances --image-id $ami1 --instance-type t3.micro &&
	cli_error IncorrectState ec2 copy-image --source-image-id $ami1 --source-region us-east-1 \
		--name img-1-copy &&
	cli_error OperationNotPermitted ec2 modify-image-attribute --image-id $ami1 \
		--launch-permission "Add=[{UserId=111122223333}]" &&
	test_grep "is disabled" err &&
	cli_error OperationNotPermitted ec2 modify-image-attribute --image-id $ami1 \
		--launch-permission "Remove=[{UserId=111122223333}]" &&
	ec2_aws_model ec2 disable-image --image-id $ami1 >out &&
	test "$(jq .Return out)" = true &&
	test "$(field $ami1 State)" = disabled
'

test_expect_success 'enable-image: available again, still private' '
	ec2_aws_model ec2 enable-image --image-id $ami1 >out &&
	test "$(jq .Return out)" = true &&
	test "$(field $ami1 State)" = available &&
	test "$(field $ami1 Public)" = false &&
	ec2_aws_model ec2 describe-image-attribute --image-id $ami1 --attribute launchPermission >out &&
	test "$(jq ".LaunchPermissions | length" out)" = 0
'

test_expect_success 'refused: a pending image, another account'\''s, a dry run changes nothing' '
	cli_error IncorrectState ec2 disable-image --image-id $ami3 &&
	test "$(field $ami3 State)" = pending &&
	cli_error AuthFailure ec2 disable-image --image-id $ami4 &&
	cli_error AuthFailure ec2 enable-image-deregistration-protection --image-id $ami4 &&
	test "$(field $ami4 State)" = available &&
	cli_error DryRunOperation ec2 disable-image --image-id $ami2 --dry-run &&
	cli_error DryRunOperation ec2 enable-image-deregistration-protection --image-id $ami2 --dry-run &&
	test "$(field $ami2 State)" = available &&
	test "$(field $ami2 DeregistrationProtection)" = -
'

test_expect_success 'protection without cooldown: deregister refused, then allowed once disabled' '
	ec2_aws_model ec2 enable-image-deregistration-protection --image-id $ami2 >out &&
	echo "{\"Return\":\"true\"}" >expect &&
	jq -c . out >actual &&
	test_cmp expect actual &&
	test "$(field $ami2 DeregistrationProtection)" = enabled &&
	ec2_aws_model ec2 describe-image-attribute --image-id $ami2 --attribute deregistrationProtection >out &&
	test "$(jq -r .DeregistrationProtection.Value out)" = enabled &&
	cli_error OperationNotPermitted ec2 deregister-image --image-id $ami2 &&
	test_grep "deregistration protection enabled" err &&
	ec2_aws_model ec2 disable-image-deregistration-protection --image-id $ami2 >out &&
	test "$(jq -r .Return out)" = true &&
	test "$(field $ami2 DeregistrationProtection)" = disabled &&
	cli_error DryRunOperation ec2 deregister-image --image-id $ami2 --dry-run &&
	ec2_aws_model ec2 enable-image-deregistration-protection --image-id $ami2 --with-cooldown >out &&
	test "$(field $ami2 DeregistrationProtection)" = enabled-with-cooldown
'

test_expect_success 'with cooldown: disabling leaves it protected for 24 hours' '
	before=$(date -u +%s) &&
	ec2_aws_model ec2 disable-image-deregistration-protection --image-id $ami2 >out &&
	after=$(date -u +%s) &&
	v=$(field $ami2 DeregistrationProtection) &&
	case "$v" in "disabled-until "*) ;; *) echo "not disabled-until: $v"; false ;; esac &&
	t=$(date -u -d "${v#disabled-until }" +%s) &&
	test $t -ge $((before + 86400)) &&
	test $t -le $((after + 86400)) &&
	ec2_aws_model ec2 describe-image-attribute --image-id $ami2 --attribute deregistrationProtection >out &&
	test "$(jq -r .DeregistrationProtection.Value out)" = "$v" &&
	cli_error OperationNotPermitted ec2 deregister-image --image-id $ami2 &&
	ec2_aws_model ec2 disable-image-deregistration-protection --image-id $ami2 >out &&
	test "$(field $ami2 DeregistrationProtection)" = "$v"
'

test_expect_success 'a cooldown over reads disabled and lets deregister go; one still running does not' '
	test "$(field $ami6 DeregistrationProtection)" = "disabled-until $year-01-01T00:00:00.000Z" &&
	cli_error OperationNotPermitted ec2 deregister-image --image-id $ami6 &&
	test "$(field $ami5 DeregistrationProtection)" = disabled &&
	ec2_aws_model ec2 deregister-image --image-id $ami5 >out &&
	test "$(jq .Return out)" = true
'

test_done
