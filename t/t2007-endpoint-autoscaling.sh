#!/bin/bash
# t/ec2-endpoint.py's Auto Scaling (the Query protocol, 2011-01-01), proved with the real AWS CLI:
# describe-auto-scaling-groups and describe-launch-configurations give back what was seeded, by name,
# by tag filter and in pages; a wrong secret and a bad page token are refused as Auto Scaling refuses.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

# Five groups (asg-1..asg-5): asg-1 pins version 3 of a template by id, asg-2 a mixed-instances policy
# naming the template by name (no Version: $Default), asg-3 a launch configuration, asg-4 and asg-5
# tagged team=api; three launch configurations, lc-2 and lc-3 attached to no group; one group in
# us-west-2.
jq -n '
def group(n): {AutoScalingGroupName: "asg-\(n)", MinSize: 1, MaxSize: 4, DesiredCapacity: 2,
	DefaultCooldown: 300, AvailabilityZones: ["us-east-1a", "us-east-1b"], HealthCheckType: "EC2",
	CreatedTime: "2026-11-0\(n)T10:00:00+00:00", Instances: [], ServiceLinkedRoleARN:
	"arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
	Tags: [{ResourceId: "asg-\(n)", ResourceType: "auto-scaling-group", Key: "team",
		Value: (if n >= 4 then "api" else "web" end), PropagateAtLaunch: true}]};
{Regions: {"us-east-1": {
	AutoScalingGroups: [
		group(1) + {LaunchTemplate: {LaunchTemplateId: "lt-0123456789abcdef0", LaunchTemplateName: "web",
			Version: "3"}},
		group(2) + {MixedInstancesPolicy: {LaunchTemplate: {LaunchTemplateSpecification:
			{LaunchTemplateName: "web"}, Overrides: [{InstanceType: "t3.micro"}, {InstanceType: "m5.large",
			LaunchTemplateSpecification: {LaunchTemplateId: "lt-0123456789abcdef1", Version: "$Latest"}}]},
			InstancesDistribution: {OnDemandBaseCapacity: 1, OnDemandPercentageAboveBaseCapacity: 50,
			SpotAllocationStrategy: "price-capacity-optimized"}}},
		group(3) + {LaunchConfigurationName: "lc-1"},
		group(4) + {LaunchTemplate: {LaunchTemplateId: "lt-0123456789abcdef1", Version: "$Latest"}},
		group(5) + {LaunchTemplate: {LaunchTemplateId: "lt-0123456789abcdef1", Version: "$Default"}}],
	LaunchConfigurations: [range(1; 4) | {LaunchConfigurationName: "lc-\(.)",
		ImageId: "ami-0000000000000000\(.)", InstanceType: "t3.small", KeyName: "ci",
		SecurityGroups: ["sg-0123456789abcdef0"], BlockDeviceMappings: [{DeviceName: "/dev/xvda",
		Ebs: {SnapshotId: "snap-0000000000000000\(.)", VolumeSize: 8, VolumeType: "gp3"}}],
		CreatedTime: "2026-10-0\(.)T09:00:00+00:00", EbsOptimized: false,
		LaunchConfigurationARN: "arn:aws:autoscaling:us-east-1:123456789012:launchConfiguration:0000000\(.)-1111-2222-3333-444444444444:launchConfigurationName/lc-\(.)"}]},
	"us-west-2": {AutoScalingGroups: [{AutoScalingGroupName: "west-1",
		LaunchConfigurationName: "lc-west"}]}}}' >seed.json || exit 1

test_expect_success 'describe-auto-scaling-groups gives the seeded groups, field for field' '
	ec2_start seed.json &&
	ec2_aws autoscaling describe-auto-scaling-groups >out &&
	jq -S "[.Regions[\"us-east-1\"].AutoScalingGroups[] | del(.AutoScalingGroupARN)]" seed.json >expect &&
	jq -S "[.AutoScalingGroups[] | del(.AutoScalingGroupARN)]" out >actual &&
	test_cmp expect actual &&
	jq -r ".AutoScalingGroups[].AutoScalingGroupARN" out >arns &&
	test_line_count = 5 arns &&
	grep -c "^arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:[-0-9a-f]\{36\}:autoScalingGroupName/asg-[1-5]\$" \
		arns >n &&
	echo 5 >expect-n &&
	test_cmp expect-n n &&
	test "$(ec2_count DescribeAutoScalingGroups)" = 1 &&
	ec2_requests >requests &&
	jq -r ".[] | \"\(.Service) \(.Action) \(.Region) \(.Status)\"" requests >actual &&
	echo "autoscaling DescribeAutoScalingGroups us-east-1 200" >expect &&
	test_cmp expect actual
'

test_expect_success 'the template versions a user checks: pinned 3, mixed $Default, override $Latest' '
	jq -r ".AutoScalingGroups[] | [.AutoScalingGroupName, (.LaunchTemplate.Version // \"-\"),
		(.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version // \"-\"),
		(.MixedInstancesPolicy.LaunchTemplate.Overrides // [] | map(.LaunchTemplateSpecification.Version // \"-\") | join(\",\") | if . == \"\" then \"-\" else . end),
		(.LaunchConfigurationName // \"-\")] | join(\" \")" out >actual &&
	cat >expect <<-\EOT &&
	asg-1 3 - - -
	asg-2 - - -,$Latest -
	asg-3 - - - lc-1
	asg-4 $Latest - - -
	asg-5 $Default - - -
	EOT
	test_cmp expect actual
'

test_expect_success 'by name (unknown names left out) and by tag filter' '
	ec2_aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names asg-3 nope asg-1 >out &&
	jq -r ".AutoScalingGroups[].AutoScalingGroupName" out >actual &&
	printf "asg-1\nasg-3\n" >expect &&
	test_cmp expect actual &&
	ec2_aws autoscaling describe-auto-scaling-groups --filters Name=tag:team,Values=api >out &&
	jq -r ".AutoScalingGroups[].AutoScalingGroupName" out >actual &&
	printf "asg-4\nasg-5\n" >expect &&
	test_cmp expect actual &&
	ec2_aws autoscaling describe-auto-scaling-groups --filters Name=tag-value,Values=web \
		Name=tag-key,Values=team >out &&
	jq -r ".AutoScalingGroups[].AutoScalingGroupName" out >actual &&
	printf "asg-%s\n" 1 2 3 >expect &&
	test_cmp expect actual
'

test_expect_success 'an unknown filter name: ValidationError' '
	test_expect_code 254 ec2_aws autoscaling describe-auto-scaling-groups \
		--filters Name=instance-type,Values=t3.micro >out 2>err &&
	test_grep "(ValidationError) when calling the DescribeAutoScalingGroups operation: Filter name .instance-type. is not a valid" err
'

test_expect_success 'paging: --page-size 2 makes three requests with MaxRecords 2, all five groups' '
	ec2_reset_counts &&
	ec2_aws autoscaling describe-auto-scaling-groups --page-size 2 >out &&
	jq -r ".AutoScalingGroups[].AutoScalingGroupName" out >actual &&
	printf "asg-%s\n" 1 2 3 4 5 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeAutoScalingGroups)" = 3 &&
	ec2_requests >requests &&
	jq -r ".[] | .Params.MaxRecords" requests >sizes &&
	printf "2\n2\n2\n" >expect-sizes &&
	test_cmp expect-sizes sizes
'

test_expect_success 'paging: --max-items 3 stops with a token that resumes at asg-4' '
	ec2_aws autoscaling describe-auto-scaling-groups --max-items 3 --page-size 2 >out &&
	jq -r ".AutoScalingGroups[].AutoScalingGroupName" out >actual &&
	printf "asg-%s\n" 1 2 3 >expect &&
	test_cmp expect actual &&
	token=$(jq -r .NextToken out) &&
	test -n "$token" && test "$token" != null &&
	ec2_aws autoscaling describe-auto-scaling-groups --starting-token "$token" --page-size 2 >out &&
	jq -r ".AutoScalingGroups[].AutoScalingGroupName" out >actual &&
	printf "asg-4\nasg-5\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a MaxRecords over 100 and a forged NextToken are refused' '
	ec2_query -s autoscaling DescribeAutoScalingGroups MaxRecords=101 >out.xml;
	test "$(ec2_status)" = 400 &&
	test_grep "<Code>ValidationError</Code>" out.xml &&
	test_grep "<ErrorResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">" out.xml &&
	ec2_query -s autoscaling DescribeAutoScalingGroups NextToken=forged >out.xml;
	test "$(ec2_status)" = 400 &&
	test_grep "<Code>InvalidNextToken</Code>" out.xml
'

test_expect_success 'the Query wire form: lists as member.N, the answer inside DescribeAutoScalingGroupsResult' '
	ec2_query -s autoscaling DescribeAutoScalingGroups AutoScalingGroupNames.member.1=asg-3 >out.xml &&
	test_grep "<DescribeAutoScalingGroupsResult>" out.xml &&
	test_grep "<AutoScalingGroupName>asg-3</AutoScalingGroupName>" out.xml &&
	test_grep "<member>" out.xml &&
	test_grep "<RequestId>" out.xml
'

test_expect_success 'describe-launch-configurations gives all three, attached or not, by name, in pages' '
	ec2_aws autoscaling describe-launch-configurations >out &&
	jq -S "[.Regions[\"us-east-1\"].LaunchConfigurations[]]" seed.json >expect &&
	jq -S .LaunchConfigurations out >actual &&
	test_cmp expect actual &&
	ec2_aws autoscaling describe-launch-configurations --launch-configuration-names lc-3 lc-9 >out &&
	jq -r ".LaunchConfigurations[] | \"\(.LaunchConfigurationName) \(.ImageId)\"" out >actual &&
	echo "lc-3 ami-00000000000000003" >expect &&
	test_cmp expect actual &&
	ec2_reset_counts &&
	ec2_aws autoscaling describe-launch-configurations --page-size 1 --max-items 2 >out &&
	jq -r ".LaunchConfigurations[].LaunchConfigurationName" out >actual &&
	printf "lc-1\nlc-2\n" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeLaunchConfigurations)" = 2
'

test_expect_success 'regions apart; fields the model requires are filled in as Auto Scaling would' '
	ec2_aws autoscaling describe-auto-scaling-groups --region us-west-2 >out &&
	jq -r ".AutoScalingGroups[] | [.AutoScalingGroupName, .LaunchConfigurationName, .MinSize, .MaxSize,
		.DesiredCapacity, .HealthCheckType, (.AvailabilityZones | join(\",\"))] | join(\" \")" out >actual &&
	echo "west-1 lc-west 0 1 0 EC2 us-west-2a" >expect &&
	test_cmp expect actual
'

test_expect_success 'a fault on one page of DescribeAutoScalingGroups: throttled as Auto Scaling, retried' '
	ec2_reset_counts &&
	ec2_fault "{\"Action\":\"DescribeAutoScalingGroups\",\"Kind\":\"throttle\",\"Skip\":1}" &&
	AWS_MAX_ATTEMPTS=3 ec2_aws autoscaling describe-auto-scaling-groups --page-size 2 >out &&
	jq -r ".AutoScalingGroups | length" out >actual &&
	echo 5 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeAutoScalingGroups)" = 4 &&
	ec2_requests >requests &&
	jq -r "[.[] | select(.Fault) | \"\(.Code) \(.Status)\"] | .[]" requests >actual &&
	echo "Throttling 400" >expect &&
	test_cmp expect actual
'

test_expect_success 'a wrong secret: SignatureDoesNotMatch from the CLI, counted, secret not logged' '
	ec2_reset_counts &&
	test_expect_code 254 env AWS_SECRET_ACCESS_KEY=amicycle-secret-wrong \
		/usr/bin/aws --no-cli-pager --endpoint-url "$EC2_URL" autoscaling describe-launch-configurations \
		>out 2>err &&
	test_grep "(SignatureDoesNotMatch) when calling the DescribeLaunchConfigurations operation" err &&
	test "$(ec2_count DescribeLaunchConfigurations)" = 1 &&
	test_grep -v amicycle-secret "$EC2_DIR/log"
'

test_done
