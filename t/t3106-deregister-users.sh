#!/bin/bash
# deregister keeps every image something can still launch, one scenario per source of use, each
# run twice: with DescribeImageReferences and without it (the endpoint answers InvalidAction, as
# one without that action does), and both runs must agree on who uses what. Also
# --launch-template-versions all, and the Reason naming the user and the read that answered.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-dereg.sh
. "$TEST_DIR"/lib-users.sh

users_seed || { echo "Bail out! cannot write the seeds"; exit 1; }

# The refusals with DescribeImageReferences; without it only image 6's source differs.
cat >expect.refs <<EOF
$ami1	skipped	used by Auto Scaling group pinned-asg: launch template lt-0a000000000000001 (pinned) version 3 [DescribeAutoScalingGroups]
$ami2	skipped	used by Auto Scaling group mixed-asg: mixed instances policy, override m6g.large, launch template lt-0a000000000000002 (mixed) version 2 [DescribeAutoScalingGroups]
$ami3	skipped	named in launch configuration orphan-lc: attached to no Auto Scaling group [DescribeLaunchConfigurations]
$ami4	skipped	named in launch template lt-0a000000000000003: ssm, version 1 (default, latest), image resolve:ssm:/images/web/prod [DescribeLaunchTemplateVersions]; held by SSM parameter /images/web/prod: text [GetParameters]
$ami5	skipped	held by SSM parameter /images/base: aws:ec2:image [GetParameters]
$ami6	skipped	used by instance i-0a000000000000006 [DescribeImageReferences]
$ami7	skipped	shared with account 111122223333 [DescribeImageAttribute]
$ami8	skipped	shared with organizational unit $ou [DescribeImageAttribute]
$ami9	skipped	launched $recent, within --protect-launched-within 30d [DescribeImages]
$ami10	done	-
$ami11	done	-
EOF
sed "s/\[DescribeImageReferences\]/[DescribeInstances]/" expect.refs >expect.norefs

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

for mode in refs norefs; do
	test_expect_success "$mode: every user keeps its image, and the Reason names it and its source" '
		ec2_seed seed-$mode.json &&
		ec2_reset_counts &&
		deregister --protect-launched-within 30d scenarios.jsonl >out.$mode 2>err.$mode &&
		dereg_results out.$mode >actual &&
		test_cmp expect.$mode actual &&
		dereg_left >left &&
		test_grep -v "$ami10" left &&
		test_grep "$ami9" left &&
		test "$(ec2_count DeregisterImage)" = 2
	'
done

test_expect_success 'without DescribeImageReferences, stderr says recipes cannot be seen, once' '
	test_line_count = 0 err.refs &&
	echo "deregister: us-east-1: DescribeImageReferences: InvalidAction: without it, Image Builder recipes that name these images cannot be seen" >expect &&
	test_cmp expect err.norefs
'

test_expect_success 'refs: instances and recipes from DescribeImageReferences, 10 images a call, no DescribeInstances' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	deregister --dry-run --protect-launched-within 30d scenarios.jsonl >out 2>err &&
	test "$(ec2_count DescribeImageReferences)" = 2 &&
	test "$(ec2_count DescribeInstances)" = 0 &&
	test "$(ec2_count DescribeLaunchTemplates)" = 0
'

test_expect_success 'the SSM reads: String parameters only, never decrypted; 10 names a GetParameters' '
	ec2_requests >reqs &&
	jq -c "[.[] | select(.Action == \"DescribeParameters\") | .Params.ParameterFilters]" reqs >actual &&
	echo "[[{\"Key\":\"Type\",\"Option\":\"Equals\",\"Values\":[\"String\"]}],[{\"Key\":\"Type\",\"Option\":\"Equals\",\"Values\":[\"String\"]}]]" >expect &&
	test_cmp expect actual &&
	jq -r ".[] | select(.Action == \"GetParameters\") | .Params | [(.Names | length), (.WithDecryption // false)] | @tsv" reqs | sort | uniq -c | sed "s/^ *//" >actual &&
	printf "1 1\tfalse\n6 10\tfalse\n1 2\tfalse\n" >expect &&
	test_cmp expect actual &&
	jq -r ".[] | select(.Action == \"GetParameters\") | .Params.Names[]" reqs >names &&
	test_grep -v "^/secret" names
'

test_expect_success 'both runs name the same users of every image (image-users, the Source aside)' '
	for mode in refs norefs; do
		ec2_seed seed-$mode.json &&
		image-users scenarios.jsonl >users.$mode 2>err &&
		jq -c "[.ImageId, (.Users | map(del(.Source)))]" users.$mode >cmp.$mode || return 1
	done &&
	test_cmp cmp.refs cmp.norefs &&
	jq -r ".Users[].Source" users.refs | sort -u >actual &&
	printf "%s\n" DescribeAutoScalingGroups DescribeImageAttribute DescribeImageReferences \
		DescribeLaunchConfigurations DescribeLaunchTemplateVersions GetParameters >expect &&
	test_cmp expect actual
'

test_expect_success '--launch-template-versions all: an old version keeps its image, both ways' '
	for mode in refs norefs; do
		ec2_seed seed-$mode.json &&
		printf "{\"ImageId\":\"%s\"}\n" $ami12 >in &&
		deregister --dry-run in >out 2>err &&
		dereg_results out >actual &&
		printf "%s\tdry-run\twould delete %s\n" $ami12 $(dereg_snap 12) >expect &&
		test_cmp expect actual &&
		ec2_reset_counts &&
		deregister --dry-run --launch-template-versions all in >out 2>err &&
		dereg_results out >actual.$mode || return 1
	done &&
	printf "%s\tskipped\tnamed in launch template lt-0a000000000000004: old, version 1 [DescribeImageReferences]\n" $ami12 >expect &&
	test_cmp expect actual.refs &&
	sed "s/DescribeImageReferences/DescribeLaunchTemplateVersions/" expect >expect.norefs &&
	test_cmp expect.norefs actual.norefs &&
	test "$(ec2_count DescribeLaunchTemplates)" = 1 &&
	test "$(ec2_count DescribeLaunchTemplateVersions)" = 5
'

test_expect_success '--launch-template-versions all with DescribeImageReferences: version-depth 10000, and every version of the templates it names' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	deregister --dry-run --launch-template-versions all in >out 2>err &&
	ec2_requests >reqs &&
	jq -c ".[] | select(.Action == \"DescribeImageReferences\") | .Params | [.[\"ResourceType.4.ResourceType\"], .[\"ResourceType.4.ResourceTypeOption.1.OptionName\"], .[\"ResourceType.4.ResourceTypeOption.1.OptionValue.1\"]]" reqs >actual &&
	echo "[\"ec2:LaunchTemplate\",\"version-depth\",\"10000\"]" >expect &&
	test_cmp expect actual &&
	jq -r ".[] | select(.Action == \"DescribeLaunchTemplateVersions\") | .Params.LaunchTemplateId // \"every template\"" reqs | sort >actual &&
	printf "%s\n" "every template" lt-0a000000000000001 lt-0a000000000000002 lt-0a000000000000004 >expect &&
	test_cmp expect actual
'

test_expect_success 'allowed shared images go with --allow-shared, and their permissions are not read' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	printf "{\"ImageId\":\"%s\"}\n" $ami7 $ami8 >in &&
	deregister --allow-shared in >out 2>err &&
	dereg_results out >actual &&
	printf "%s\tdone\t-\n" $ami7 $ami8 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeImageAttribute)" = 0
'

test_expect_success 'a public image is refused, by DescribeImages and by its launch permission' '
	jq ".Regions[\"us-east-1\"].Images[9].LaunchPermissions = [{Group: \"all\"}]" seed.json >public.json &&
	ec2_seed public.json &&
	printf "{\"ImageId\":\"%s\"}\n" $ami10 >in &&
	deregister in >out 2>err &&
	dereg_results out >actual &&
	printf "%s\tskipped\tshared publicly (launch permission group all) [DescribeImageAttribute]\n" $ami10 >expect.a &&
	printf "%s\tskipped\tshared publicly (launch permission group all) [DescribeImages]\n" $ami10 >expect.b &&
	{ test_cmp expect.a actual || test_cmp expect.b actual; }
'

test_expect_success '--protect-launched-within must be a duration, --launch-template-versions default or all' '
	test_expect_code 2 deregister --protect-launched-within soon in >out 2>err &&
	test_grep "^deregister: --protect-launched-within: bad value .soon." err &&
	test_expect_code 2 deregister --launch-template-versions some in >out 2>err &&
	test_grep "^deregister: --launch-template-versions: bad value .some. (expected default or all)" err
'

test_done
