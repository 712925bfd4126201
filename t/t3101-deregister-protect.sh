#!/bin/bash
# deregister refuses, before it changes anything, every image still in use or protected:
# instances not terminated, launch templates' default and latest versions, protect tags,
# deregistration protection; --max; and a check it cannot read stops everything. (Each other
# source of use has its scenario in t3106.)
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-dereg.sh

for i in $(seq 1 13); do
	eval "ami$i=$(dereg_ami $i)"
done

# Images 1..13. Instances: running (1), stopped (2), terminated (3), pending (4), stopping (5).
# Template web: version 1 names image 8 (neither default nor latest), 2 image 6 (default),
# 3 image 7 (latest). Template ssm: its image is an SSM parameter. Tags: Keep on 1 and 9,
# Env=production on 10, Env=staging on 11. Image 12 has deregistration protection.
dereg_seed 13 | jq --arg a1 $ami1 --arg a2 $ami2 --arg a3 $ami3 --arg a4 $ami4 --arg a5 $ami5 \
	--arg a6 $ami6 --arg a7 $ami7 --arg a8 $ami8 '
	def inst($id; $ami; $state; $code): {InstanceId: $id, ImageId: $ami, State: {Name: $state, Code: $code}};
	def tag($k; $v): .Tags += [{Key: $k, Value: $v}];
	.Regions["us-east-1"] |= (
	  .Instances = [inst("i-0a000000000000001"; $a1; "running"; 16),
			inst("i-0a000000000000002"; $a2; "stopped"; 80),
			inst("i-0a000000000000003"; $a3; "terminated"; 48),
			inst("i-0a000000000000004"; $a4; "pending"; 0),
			inst("i-0a000000000000005"; $a5; "stopping"; 64)] |
	  .LaunchTemplates = [
		{LaunchTemplateId: "lt-0a000000000000001", LaunchTemplateName: "web", DefaultVersionNumber: 2,
		 Versions: [{LaunchTemplateData: {ImageId: $a8}}, {LaunchTemplateData: {ImageId: $a6}},
			    {LaunchTemplateData: {ImageId: $a7}}]},
		{LaunchTemplateId: "lt-0a000000000000002", LaunchTemplateName: "ssm",
		 Versions: [{LaunchTemplateData: {ImageId: "resolve:ssm:/amicycle/web/latest"}}]}] |
	  .Images[0] |= tag("Keep"; "yes") | .Images[8] |= tag("Keep"; "") |
	  .Images[9] |= tag("Env"; "production") | .Images[10] |= tag("Env"; "staging") |
	  .Images[11].DeregistrationProtection = "enabled-with-cooldown")' >seed.json ||
	{ echo "Bail out! cannot write the seed"; exit 1; }

# The input is an old plan: it says nothing of tags or protection.
for i in $(seq 1 13); do
	echo "{\"ImageId\":\"$(dereg_ami $i)\",\"DeregistrationProtection\":\"disabled\",\"Tags\":[]}"
done >all.jsonl

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

cat >expect.refusals <<EOF
$ami1	skipped	used by instance i-0a000000000000001 [DescribeImageReferences]; protect tag Keep
$ami2	skipped	used by instance i-0a000000000000002 [DescribeImageReferences]
$ami3	done	-
$ami4	skipped	used by instance i-0a000000000000004 [DescribeImageReferences]
$ami5	skipped	used by instance i-0a000000000000005 [DescribeImageReferences]
$ami6	skipped	named in launch template lt-0a000000000000001: web, version 2 (default) [DescribeLaunchTemplateVersions]
$ami7	skipped	named in launch template lt-0a000000000000001: web, version 3 (latest) [DescribeLaunchTemplateVersions]
$ami8	done	-
$ami9	skipped	protect tag Keep
$ami10	skipped	protect tag Env=production
$ami11	done	-
$ami12	skipped	deregistration protection (enabled-with-cooldown)
$ami13	done	-
EOF

test_expect_success '--max counts what is left after the refusals: one more and nothing changes' '
	ec2_reset_counts &&
	test_expect_code 1 deregister --protect-tag Keep --protect-tag Env=production --max 3 \
		all.jsonl >out 2>err &&
	sed "s/	done	-$/	failed	not deregistered: 4 images to deregister, more than --max 3/" \
		expect.refusals >expect &&
	dereg_results out >actual &&
	test_cmp expect actual &&
	grep -v "^deregister: us-east-1: launch template lt-0a000000000000002" err >actual &&
	echo "deregister: 4 images to deregister, more than --max 3: nothing deregistered" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 0 &&
	test "$(ec2_count DeleteSnapshot)" = 0
'

test_expect_success '--max 0 and one image: the count agrees with its noun' '
	grep "\"$ami8\"" all.jsonl >one &&
	test_line_count = 1 one &&
	ec2_reset_counts &&
	test_expect_code 1 deregister --max 0 one >out 2>err &&
	grep -v "^deregister: us-east-1: launch template lt-0a000000000000002" err >actual &&
	echo "deregister: 1 image to deregister, more than --max 0: nothing deregistered" >expect &&
	test_cmp expect actual &&
	jq -r .Result.Reason out >actual &&
	echo "not deregistered: 1 image to deregister, more than --max 0" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 0
'

test_expect_success 'every protection refuses, with every reason; the others go' '
	ec2_reset_counts &&
	deregister --protect-tag Keep --protect-tag Env=production --max 4 all.jsonl >out 2>err &&
	dereg_results out >actual &&
	test_cmp expect.refusals actual &&
	test "$(ec2_count DeregisterImage)" = 4 &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"DeregisterImage\") | .Params.ImageId" reqs | sort >actual &&
	printf "%s\n" $ami3 $ami8 $ami11 $ami13 | sort >expect &&
	test_cmp expect actual
'

test_expect_success 'a launch template image naming no SSM parameter is reported as unknown' '
	echo "deregister: us-east-1: launch template lt-0a000000000000002 (ssm) version 1 (default, latest): image '"'"'resolve:ssm:/amicycle/web/latest'"'"': no SSM parameter of that name; cannot tell which image it launches" >expect &&
	test_cmp expect err
'

test_expect_success 'every read came before the first change' '
	jq -r ".[].Action" reqs >actions &&
	first=$(grep -n "^DeregisterImage$" actions | head -n 1 | cut -d: -f1) &&
	head -n $((first - 1)) actions | sort | uniq -c | sed "s/^ *//" >actual &&
	cat >expect <<-\EOF &&
	1 DescribeAutoScalingGroups
	13 DescribeImageAttribute
	2 DescribeImageReferences
	1 DescribeImages
	1 DescribeLaunchConfigurations
	1 DescribeLaunchTemplateVersions
	1 DescribeParameters
	1 GetParameters
	EOF
	test_cmp expect actual &&
	tail -n +$first actions | sort -u >actual &&
	echo DeregisterImage >expect &&
	test_cmp expect actual
'

test_expect_success 'the reads: instances in every state but terminated; default and latest versions of every template' '
	jq -c ".[] | select(.Action == \"DescribeImageReferences\") | .Params | with_entries(select(.key | test(\"^ResourceType\")))" reqs | sort -u >actual &&
	echo "{\"ResourceType.1.ResourceType\":\"ec2:Instance\",\"ResourceType.1.ResourceTypeOption.1.OptionName\":\"state-name\",\"ResourceType.1.ResourceTypeOption.1.OptionValue.1\":\"pending\",\"ResourceType.1.ResourceTypeOption.1.OptionValue.2\":\"running\",\"ResourceType.1.ResourceTypeOption.1.OptionValue.3\":\"shutting-down\",\"ResourceType.1.ResourceTypeOption.1.OptionValue.4\":\"stopping\",\"ResourceType.1.ResourceTypeOption.1.OptionValue.5\":\"stopped\",\"ResourceType.2.ResourceType\":\"imagebuilder:ImageRecipe\",\"ResourceType.3.ResourceType\":\"imagebuilder:ContainerRecipe\"}" >expect &&
	test_cmp expect actual &&
	jq -c ".[] | select(.Action == \"DescribeLaunchTemplateVersions\") | .Params" reqs >actual &&
	echo "{\"LaunchTemplateVersion.1\":\"\$Default\",\"LaunchTemplateVersion.2\":\"\$Latest\",\"MaxResults\":\"200\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'without protect tags, tagged images go' '
	ec2_seed seed.json &&
	printf "{\"ImageId\":\"%s\"}\n" $ami9 $ami10 >in &&
	deregister in >out &&
	dereg_results out >actual &&
	printf "%s\tdone\t-\n" $ami9 $ami10 >expect &&
	test_cmp expect actual
'

test_expect_success 'a protect tag KEY=VALUE matches that value only, exactly' '
	ec2_seed seed.json &&
	printf "{\"ImageId\":\"%s\"}\n" $ami10 $ami11 >in &&
	deregister --protect-tag Env=Production --protect-tag Env=staging --protect-tag env in >out &&
	dereg_results out >actual &&
	printf "%s\tdone\t-\n%s\tskipped\tprotect tag Env=staging\n" $ami10 $ami11 >expect &&
	test_cmp expect actual
'

test_expect_success 'deregistration protection EC2 reports at the call is a refusal too' '
	ec2_seed seed.json &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DeregisterImage\",\"Code\":\"OperationNotPermitted\",\"Message\":\"Image $ami13 has deregistration protection enabled.\"}" &&
	echo "{\"ImageId\":\"$ami13\"}" >in &&
	deregister in >out &&
	dereg_results out >actual &&
	printf "%s\tskipped\tderegistration protection: Image %s has deregistration protection enabled.\n" \
		$ami13 $ami13 >expect &&
	test_cmp expect actual
'

test_expect_success 'the default --max is 50' '
	dereg_seed 51 101 >many.json &&
	ec2_seed many.json &&
	jq -c ".Regions[\"us-east-1\"].Images[] | {ImageId}" many.json >in &&
	ec2_reset_counts &&
	test_expect_code 1 deregister in >out 2>err &&
	echo "deregister: 51 images to deregister, more than --max 50: nothing deregistered" >expect &&
	test_cmp expect err &&
	jq -r .Result.Status out | sort | uniq -c | sed "s/^ *//" >actual &&
	echo "51 failed" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 0 &&
	test_expect_code 1 deregister --dry-run in >out 2>err &&
	test "$(ec2_count DeregisterImage)" = 0 &&
	head -n 50 in >in50 &&
	deregister in50 >out &&
	jq -r .Result.Status out | sort | uniq -c | sed "s/^ *//" >actual &&
	echo "50 done" >expect &&
	test_cmp expect actual
'

test_expect_success 'every page of instances and templates is read' '
	jq -n --arg a1 $ami1 --arg a2 $ami2 --arg a3 $ami3 "{Regions: {\"us-east-1\": {
		Instances: [range(1001) | {InstanceId: \"i-0b\(100000000000000 + .)\",
			ImageId: (if . == 1000 then \$a1 else \$a3 end), State: {Name: \"running\", Code: 16}}],
		LaunchTemplates: [range(201) | {LaunchTemplateId: \"lt-0b\(100000000000000 + .)\",
			Versions: [{LaunchTemplateData: {ImageId: (if . == 200 then \$a2 else \"ami-0ffffffffffffffff\" end)}}]}]}}}" \
		>pages.json &&
	jq "del(.Regions[\"us-east-1\"].Instances, .Regions[\"us-east-1\"].LaunchTemplates)" seed.json >bare.json &&
	ec2_seed bare.json &&
	ec2_seed pages.json merge &&
	ec2_reset_counts &&
	printf "{\"ImageId\":\"%s\"}\n" $ami1 $ami2 $ami3 >in &&
	deregister in >out &&
	dereg_results out >actual &&
	cat >expect.pages <<-EOF &&
	$ami1	skipped	used by instance i-0b100000000001000 [DescribeImageReferences]
	$ami2	skipped	named in launch template lt-0b100000000000200: version 1 (default, latest) [DescribeLaunchTemplateVersions]
	$ami3	skipped	used by 1000 instances: i-0b100000000000000, i-0b100000000000001, i-0b100000000000002, ... [DescribeImageReferences]
	EOF
	test_cmp expect.pages actual &&
	test "$(ec2_count DescribeImageReferences)" = 2 &&
	test "$(ec2_count DescribeLaunchTemplateVersions)" = 2
'

test_expect_success 'without DescribeImageReferences, the same from every page of DescribeInstances' '
	ec2_settings "{\"UnknownActions\": [\"DescribeImageReferences\"]}" &&
	ec2_reset_counts &&
	deregister in >out 2>err &&
	echo "deregister: us-east-1: DescribeImageReferences: InvalidAction: without it, Image Builder recipes that name these images cannot be seen" >expect &&
	test_cmp expect err &&
	dereg_results out | sed "s/\[DescribeInstances\]/[DescribeImageReferences]/" >actual &&
	test_cmp expect.pages actual &&
	test "$(ec2_count DescribeImageReferences)" = 1 &&
	test "$(ec2_count DescribeInstances)" = 2 &&
	ec2_settings "{\"UnknownActions\": []}"
'

for action in DescribeImages DescribeImageReferences DescribeLaunchTemplateVersions DescribeAutoScalingGroups \
	DescribeLaunchConfigurations DescribeParameters GetParameters DescribeImageAttribute; do
	# UnauthorizedOperation on DescribeImageReferences is no failure: the direct reads answer.
	test_expect_success "$action failing: nothing is deregistered, exit 1" '
		code=UnauthorizedOperation &&
		if [ $action = DescribeImageReferences ]; then code=AuthFailure; fi &&
		ec2_seed seed.json &&
		ec2_reset_counts &&
		ec2_fault "{\"Kind\":\"error\",\"Action\":\"$action\",\"Code\":\"$code\",\"Message\":\"You are not authorized to perform this operation.\",\"Status\":403}" &&
		printf "{\"ImageId\":\"%s\"}\n" $ami3 $ami8 >in &&
		test_expect_code 1 deregister --audit audit.log in >out 2>err &&
		test_grep "^deregister: us-east-1: $action: $code: You are not authorized to perform this operation. (request id [-0-9a-f]*)$" err &&
		dereg_results out >actual &&
		printf "%s\tfailed\tnot deregistered: a read the safety checks need failed\n" $ami3 $ami8 >expect &&
		test_cmp expect actual &&
		test "$(ec2_count DeregisterImage)" = 0 &&
		test "$(ec2_count DeleteSnapshot)" = 0
	'
done

test_expect_success 'standard mode, a check read throttled past its attempts: nothing is deregistered' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	ec2_fault DescribeLaunchTemplateVersions throttle 2 &&
	printf "{\"ImageId\":\"%s\"}\n" $ami3 >in &&
	AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=2 test_expect_code 1 deregister in >out 2>err &&
	test_grep "^deregister: us-east-1: DescribeLaunchTemplateVersions: RequestLimitExceeded: " err &&
	test "$(ec2_count DescribeLaunchTemplateVersions)" = 2 &&
	test "$(ec2_count DeregisterImage)" = 0
'

test_expect_success 'a check read throttled once is retried, and the run goes on' '
	ec2_reset_counts &&
	ec2_fault DescribeImageReferences throttle 1 &&
	deregister in >out 2>err &&
	dereg_results out >actual &&
	printf "%s\tdone\t-\n" $ami3 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeImageReferences)" = 2
'

test_expect_success 'the audit log has no line for runs that changed nothing' '
	test -f audit.log &&
	test_line_count = 0 audit.log
'

test_done
