#!/bin/bash
# lib/ec2/ec2.h calls Auto Scaling (the Query protocol) and SSM (JSON 1.1) as it calls EC2: action
# names with a service prefix, each service's endpoint variable, signatures the endpoint checks with
# botocore, every page of a listing, the CLI's JSON out (the same as the AWS CLI prints), retries of
# each service's throttling, and errors named "REGION: ACTION: CODE: MESSAGE (request id ID)".
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

CALL=$AMICYCLE_BUILD/t/call-probe

jq -n '{Regions: {"us-east-1": {
	AutoScalingGroups: [range(3) | {AutoScalingGroupName: "asg-\(.)",
		LaunchTemplate: {LaunchTemplateId: "lt-0123456789abcdef\(.)", Version: "3"}}],
	LaunchConfigurations: [range(3) | {LaunchConfigurationName: "lc-\(.)",
		ImageId: "ami-0123456789abcdef\(.)", InstanceType: "t3.micro"}],
	Parameters: ([range(3) | {Name: "/images/app-\(.)", Type: "String", DataType: "aws:ec2:image",
		Value: "ami-0123456789abcdef\(.)"}] + [{Name: "/secret", Type: "SecureString",
		Value: "hunter2"}, {Name: "/images/app-0", Type: "String", DataType: "aws:ec2:image",
		Value: "ami-0fedcba9876543210", Labels: ["prod"]}])}}}' >seed.json

test_expect_success 'start the local endpoint (EC2, Auto Scaling, SSM)' '
	ec2_start seed.json
'

test_expect_success 'autoscaling:DescribeAutoScalingGroups pages (MaxRecords 1) and is what the CLI prints' '
	ec2_reset_counts &&
	"$CALL" --all autoscaling:DescribeAutoScalingGroups "{\"MaxRecords\":1}" >out &&
	test "$(ec2_count DescribeAutoScalingGroups)" = 3 &&
	jq -r ".AutoScalingGroups[].AutoScalingGroupName" out >names &&
	printf "asg-%s\n" 0 1 2 >expect &&
	test_cmp expect names
'

test_expect_success AWSCLI 'the groups are those aws autoscaling describe-auto-scaling-groups prints' '
	"$CALL" autoscaling:DescribeAutoScalingGroups >out &&
	ec2_aws autoscaling describe-auto-scaling-groups | jq -c . >expect &&
	test_cmp expect out
'

test_expect_success AWSCLI 'launch configurations, as aws autoscaling describe-launch-configurations prints them' '
	"$CALL" --all autoscaling:DescribeLaunchConfigurations "{\"MaxRecords\":2}" >out &&
	ec2_aws autoscaling describe-launch-configurations | jq -c . >expect &&
	test_cmp expect out
'

test_expect_success 'ssm:DescribeParameters pages (MaxResults 1) with a Type filter' '
	ec2_reset_counts &&
	"$CALL" --all ssm:DescribeParameters \
		"{\"ParameterFilters\":[{\"Key\":\"Type\",\"Values\":[\"String\"]}],\"MaxResults\":1}" >out &&
	test "$(ec2_count DescribeParameters)" = 3 &&
	jq -r ".Parameters[] | [.Name, .Type, .DataType, .Version] | @tsv" out >got &&
	printf "%s\tString\taws:ec2:image\t%s\n" /images/app-0 2 /images/app-1 1 /images/app-2 1 >expect &&
	test_cmp expect got
'

# Debian's awscli 2.9 bundles an older SSM model, without ParameterMetadata.ARN (t/README).
test_expect_success AWSCLI 'the parameters are those aws ssm describe-parameters prints' '
	"$CALL" --all ssm:DescribeParameters >out &&
	jq -c "del(.Parameters[].ARN)" out >got &&
	test "$(jq -r ".Parameters[0].ARN" out)" = arn:aws:ssm:us-east-1:123456789012:parameter/images/app-0 &&
	ec2_aws ssm describe-parameters | jq -c . >expect &&
	test_cmp expect got
'

test_expect_success AWSCLI 'ssm:GetParameters: versions, labels, unknown names, as aws ssm get-parameters' '
	names="[\"/images/app-0:1\",\"/images/app-0:prod\",\"/images/app-1\",\"/nope\"]" &&
	"$CALL" ssm:GetParameters "{\"Names\":$names}" >out &&
	ec2_aws ssm get-parameters --names /images/app-0:1 /images/app-0:prod /images/app-1 /nope |
		jq -c . >expect &&
	test_cmp expect out &&
	jq -r ".Parameters[].Value, .InvalidParameters[]" out >got &&
	printf "%s\n" ami-0123456789abcdef0 ami-0fedcba9876543210 ami-0123456789abcdef1 /nope >expect &&
	test_cmp expect got
'

test_expect_success 'each service is throttled and retried in its own words' '
	ec2_reset_counts &&
	ec2_fault DescribeParameters throttle 1 &&
	ec2_fault DescribeLaunchConfigurations throttle 1 &&
	"$CALL" ssm:DescribeParameters >ssm.out 2>ssm.err &&
	"$CALL" autoscaling:DescribeLaunchConfigurations >as.out 2>as.err &&
	test_line_count = 0 ssm.err &&
	test_line_count = 0 as.err &&
	test "$(jq ".Parameters | length" ssm.out)" = 4 &&
	test "$(jq ".LaunchConfigurations | length" as.out)" = 3 &&
	test "$(ec2_count DescribeParameters)" = 2 &&
	test "$(ec2_count DescribeLaunchConfigurations)" = 2
'

test_expect_success '--debug names each request by its action, SSM retries included' '
	ec2_fault GetParameters throttle 1 &&
	AMICYCLE_DEBUG=1 "$CALL" ssm:GetParameters "{\"Names\":[\"/images/app-1\"]}" >out 2>err &&
	host=${EC2_URL#http://} &&
	test_grep "^call-probe: debug: POST $host GetParameters: status 400, request id [0-9a-f-]*, attempt 1, retrying: throttled (ThrottlingException), [0-9]* ms, credentials env$" err &&
	test_grep "^call-probe: debug: POST $host GetParameters: status 200, request id [0-9a-f-]*, attempt 2, [0-9]* ms, credentials env$" err
'

test_expect_success 'an SSM error is one line: region, action without its prefix, code, message, request id' '
	ec2_fault "{\"Action\":\"GetParameters\",\"Kind\":\"error\",\"Code\":\"ParameterNotFound\",\"Message\":\"no such parameter\"}" &&
	test_expect_code 1 "$CALL" ssm:GetParameters "{\"Names\":[\"/images/app-0\"]}" >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	grep -E "^call-probe: us-east-1: GetParameters: ParameterNotFound: no such parameter \(request id [^ ]+\)$" err
'

test_expect_success 'an Auto Scaling error likewise' '
	ec2_fault "{\"Action\":\"DescribeAutoScalingGroups\",\"Kind\":\"error\",\"Code\":\"ValidationError\",\"Message\":\"bad group\"}" &&
	test_expect_code 1 "$CALL" autoscaling:DescribeAutoScalingGroups >out 2>err &&
	test_line_count = 1 err &&
	grep -E "^call-probe: us-east-1: DescribeAutoScalingGroups: ValidationError: bad group \(request id [^ ]+\)$" err
'

test_expect_success 'a page failing fails the whole listing: no output' '
	ec2_fault "{\"Action\":\"DescribeParameters\",\"Kind\":\"error\",\"Skip\":1,\"Code\":\"InternalServerError\",\"Status\":400,\"Message\":\"page 2\"}" &&
	test_expect_code 1 "$CALL" --all ssm:DescribeParameters "{\"MaxResults\":1}" >out 2>err &&
	test_line_count = 0 out &&
	grep "DescribeParameters: InternalServerError: page 2" err
'

test_expect_success 'parameters are checked against the model before anything is sent' '
	ec2_reset_counts &&
	test_expect_code 1 "$CALL" ssm:GetParameters "{\"Names\":\"/a\"}" 2>err &&
	grep "GetParameters: InvalidParameter: Names: expected a list, got a string" err &&
	test_expect_code 1 "$CALL" autoscaling:DescribeAutoScalingGroups "{\"MaxRecs\":1}" 2>err &&
	grep "unknown parameter \"MaxRecs\"" err &&
	test "$(ec2_count GetParameters)" = 0 &&
	test "$(ec2_count DescribeAutoScalingGroups)" = 0
'

test_expect_success 'each service has its own endpoint variable' '
	AWS_ENDPOINT_URL_SSM=http://127.0.0.1:1 AWS_MAX_ATTEMPTS=1 \
		test_expect_code 1 "$CALL" ssm:DescribeParameters 2>err &&
	grep "DescribeParameters: RequestError" err &&
	AWS_ENDPOINT_URL_SSM=http://127.0.0.1:1 "$CALL" autoscaling:DescribeLaunchConfigurations >out &&
	test "$(jq ".LaunchConfigurations | length" out)" = 3 &&
	AWS_ENDPOINT_URL_AUTO_SCALING=ftp://x test_expect_code 2 "$CALL" \
		autoscaling:DescribeLaunchConfigurations 2>err &&
	grep "endpoint URL .ftp://x.: not http:// or https://" err
'

test_done
