#!/bin/bash
# --profile and --role-arn (--external-id, --role-session-name) on the filters that call AWS, against
# the local endpoint with two accounts: the profile's credentials win over the environment's keys;
# the role is assumed (with its ExternalId) with whatever the chain found, and again when due; a
# filter acting in the other account names it in every Result.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

A=111111111111 B=222222222222
ROLE=arn:aws:iam::$B:role/prod-deploy
cat >seed.json <<EOF
{"AccountId": "$A",
 "Accounts": {"$B": {
   "Credentials": [{"AccessKeyId": "AKIAAMICYCLEACCTB001", "SecretAccessKey": "amicycle-secret-b"}],
   "Roles": {"prod-deploy": {"ExternalId": "amicycle-ext"}}}},
 "Regions": {"us-east-1": {"Images": [
   {"ImageId": "ami-0a000000000000001", "Name": "staging-1", "OwnerId": "$A"},
   {"ImageId": "ami-0b000000000000001", "Name": "prod-1", "OwnerId": "$B"}]},
  "eu-west-1": {"Images": [
   {"ImageId": "ami-0b000000000000002", "Name": "prod-2", "OwnerId": "$B"}]}}}
EOF

export AWS_CONFIG_FILE=$TRASH/aws-config AWS_SHARED_CREDENTIALS_FILE=$TRASH/aws-credentials
cat >"$AWS_SHARED_CREDENTIALS_FILE" <<EOF
[prod-keys]
aws_access_key_id = AKIAAMICYCLEACCTB001
aws_secret_access_key = amicycle-secret-b
EOF
cat >"$AWS_CONFIG_FILE" <<EOF
[profile prod]
role_arn = $ROLE
source_profile = ci
external_id = amicycle-ext
[profile ci]
aws_access_key_id = AKIAAMICYCLETEST0001
aws_secret_access_key = amicycle-secret-test-0001
EOF

test_expect_success 'setup: the endpoint with accounts A (the environment keys) and B' '
	ec2_start seed.json &&
	ec2-describe images --owner self >out &&
	jq -r .ImageId out >actual &&
	echo ami-0a000000000000001 >expect &&
	test_cmp expect actual
'

test_expect_success '--role-arn with --external-id lists the role account images, signed as the role' '
	ec2_reset_counts &&
	ec2-describe images --owner self --region us-east-1 --region eu-west-1 --role-arn $ROLE \
		--external-id amicycle-ext --role-session-name ci-promote >out &&
	jq -r "[.ImageId, .OwnerId] | @tsv" out | sort >actual &&
	printf "ami-0b000000000000001\t$B\nami-0b000000000000002\t$B\n" >expect &&
	test_cmp expect actual &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"AssumeRole\") | [.AccessKeyId, .Params.RoleArn, .Params.ExternalId, .Params.RoleSessionName] | @tsv" \
		reqs >actual &&
	printf "AKIAAMICYCLETEST0001\t$ROLE\tamicycle-ext\tci-promote\n" >expect &&
	test_cmp expect actual &&
	jq -r ".[] | select(.Action == \"DescribeImages\") | .AccessKeyId" reqs | sort -u >keys &&
	test_line_count = 1 keys &&
	grep -q "^ASIA" keys
'

test_expect_success 'the role is assumed again when its credentials are due' '
	ec2_reset_counts &&
	AMICYCLE_CREDS_REFRESH_SECONDS=100000 ec2-describe images --owner self --region us-east-1 \
		--region eu-west-1 -P 1 --role-arn $ROLE --external-id amicycle-ext >out &&
	test_line_count = 2 out &&
	test "$(ec2_count AssumeRole)" -ge 2
'

test_expect_success 'without the ExternalId the role is refused: exit 1, STS says why' '
	test_expect_code 1 ec2-describe images --owner self --role-arn $ROLE >out 2>err &&
	test_line_count = 0 out &&
	test_grep "AccessDenied" err
'

test_expect_success 'bad uses of the options are usage errors (exit 2)' '
	test_expect_code 2 ec2-describe images --external-id x 2>err &&
	test_grep "only with --role-arn" err &&
	test_expect_code 2 tag -t A=b --role-session-name ci 2>err </dev/null &&
	test_grep "only with --role-arn" err &&
	test_expect_code 2 ec2-describe images --role-arn arn:aws:iam::12:user/x 2>err &&
	test_grep "not a role.s ARN" err &&
	test_expect_code 2 ec2-describe images --role-arn $ROLE --role-session-name "a b" 2>err &&
	test_grep "role-session-name" err
'

test_expect_success '--profile: its keys, not the environment keys' '
	ec2-describe images --owner self --profile prod-keys >out &&
	jq -r .ImageId out >actual &&
	echo ami-0b000000000000001 >expect &&
	test_cmp expect actual &&
	test_expect_code 1 ec2-describe images --owner self --profile nosuch >out 2>err &&
	test_grep "profile nosuch not found" err
'

test_expect_success 'a profile with role_arn and source_profile: the role, through the chain' '
	ec2-describe images --owner self --profile prod >out &&
	jq -r .ImageId out >actual &&
	echo ami-0b000000000000001 >expect &&
	test_cmp expect actual
'

test_expect_success 'a filter acting in another account names it in every Result' '
	echo "{\"ImageId\":\"ami-0b000000000000001\",\"Region\":\"us-east-1\"}" >in &&
	ec2_reset_counts &&
	tag -t Promoted=yes --role-arn $ROLE --external-id amicycle-ext in >out &&
	jq -r "[.Result.Status, .Result.Account] | @tsv" out >actual &&
	printf "done\t$B\n" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count GetCallerIdentity)" = 0 &&
	tag -t Checked=yes --profile prod-keys in >out &&
	jq -r "[.Result.Status, .Result.Account] | @tsv" out >actual &&
	test_cmp expect actual &&
	test "$(ec2_count GetCallerIdentity)" = 1 &&
	tag -t Plain=yes --profile prod in >out &&
	jq -r "[.Result.Status, .Result.Account] | @tsv" out >actual &&
	test_cmp expect actual &&
	test "$(ec2_count GetCallerIdentity)" = 1 &&
	ec2_state us-east-1 >state &&
	jq -c "[.Regions[\"us-east-1\"].Images[] | select(.ImageId == \"ami-0b000000000000001\") | .Tags[].Key]" \
		state >actual &&
	echo "[\"Promoted\",\"Checked\",\"Plain\"]" >expect &&
	test_cmp expect actual &&
	echo "{\"ImageId\":\"ami-0a000000000000001\",\"Region\":\"us-east-1\"}" | tag -t Own=yes >out &&
	jq -e ".Result | has(\"Account\") | not" out >/dev/null
'

test_expect_success 'no secret in outputs or the log' '
	! grep -r amicycle-secret out err "$EC2_DIR/log"
'

test_done
