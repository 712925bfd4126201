#!/bin/bash
# image-users: each image record with its Users, every kind, deleting nothing; a region whose
# reads fail prints nothing (exit 1); bad input is exit 3 before any call. And a page failing in
# any read of the usage lookup stops deregister before it changes anything.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-dereg.sh
. "$TEST_DIR"/lib-users.sh

users_seed || { echo "Bail out! cannot write the seeds"; exit 1; }

# The users as a user would list them: image, kind, id, detail, source.
users_tsv () {
	jq -r '.ImageId as $i | if .Users == [] then [$i, "-"] | @tsv
		else .Users[] | [$i, .Kind, .Id, (.Detail // "-"), .Source] | @tsv end' "$1"
}

cat >expect.refs <<EOF
$ami1	auto-scaling-group	pinned-asg	launch template lt-0a000000000000001 (pinned) version 3	DescribeAutoScalingGroups
$ami2	auto-scaling-group	mixed-asg	mixed instances policy, override m6g.large, launch template lt-0a000000000000002 (mixed) version 2	DescribeAutoScalingGroups
$ami3	launch-configuration	orphan-lc	attached to no Auto Scaling group	DescribeLaunchConfigurations
$ami4	launch-template	lt-0a000000000000003	ssm, version 1 (default, latest), image resolve:ssm:/images/web/prod	DescribeLaunchTemplateVersions
$ami4	ssm-parameter	/images/web/prod	text	GetParameters
$ami5	ssm-parameter	/images/base	aws:ec2:image	GetParameters
$ami6	instance	i-0a000000000000006	-	DescribeImageReferences
$ami7	shared	111122223333	account	DescribeImageAttribute
$ami8	shared	$ou	organizational unit	DescribeImageAttribute
$ami9	-
$ami10	-
$ami11	-
$ami12	-
$ami13	image-recipe	$recipe	image recipe	DescribeImageReferences
EOF

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'every kind of user, each image in input order, nothing deleted' '
	ec2_state us-east-1 >before &&
	ec2_reset_counts &&
	image-users all.jsonl >out 2>err &&
	test_line_count = 0 err &&
	users_tsv out >actual &&
	test_cmp expect.refs actual &&
	jq -r .ImageId out >ids &&
	jq -r .ImageId all.jsonl >expect &&
	test_cmp expect ids &&
	ec2_state us-east-1 >after &&
	test_cmp before after &&
	ec2_requests >reqs &&
	jq -r ".[].Action" reqs | sort -u >actions &&
	test_grep -v "^Deregister\|^Delete\|^Create\|^Modify" actions
'

test_expect_success 'LastLaunchedTime when EC2 knows it; the record is otherwise as read' '
	jq -c "[.ImageId, .LastLaunchedTime]" out >actual &&
	for i in $(seq 1 13); do
		case $i in
		9) echo "[\"$ami9\",\"$recent\"]" ;;
		11) echo "[\"$ami11\",\"$old\"]" ;;
		*) echo "[\"$(dereg_ami $i)\",null]" ;;
		esac
	done >expect &&
	test_cmp expect actual &&
	jq -c "del(.Users, .LastLaunchedTime)" out >actual &&
	jq -c ". + {Region: \"us-east-1\"}" all.jsonl >expect &&
	test_cmp expect actual
'

test_expect_success 'without DescribeImageReferences: the same users, but no recipe, and stderr says so' '
	ec2_seed seed-norefs.json &&
	image-users all.jsonl >out 2>err &&
	echo "image-users: us-east-1: DescribeImageReferences: InvalidAction: without it, Image Builder recipes that name these images cannot be seen" >expect &&
	test_cmp expect err &&
	users_tsv out >actual &&
	sed -e "s/\[DescribeImageReferences\]/[DescribeInstances]/" \
	    -e "s/	DescribeImageReferences$/	DescribeInstances/" \
	    -e "s/^\($ami13\)	image-recipe.*/\1	-/" expect.refs >expect &&
	test_cmp expect actual
'

test_expect_success '--launch-template-versions all: every version counts, both ways' '
	for mode in refs norefs; do
		ec2_seed seed-$mode.json &&
		grep "$ami12" all.jsonl >in &&
		image-users --launch-template-versions all in >out.$mode 2>err &&
		jq -c ".Users | map(del(.Source))" out.$mode >actual.$mode || return 1
	done &&
	echo "[{\"Kind\":\"launch-template\",\"Id\":\"lt-0a000000000000004\",\"Detail\":\"old, version 1\"}]" >expect &&
	test_cmp expect actual.refs &&
	test_cmp expect actual.norefs
'

test_expect_success 'one paged read per source for all the images, launch permissions per image' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	image-users all.jsonl >out 2>err &&
	ec2_admin GET /_admin/counts | jq -S -c .Actions >actual &&
	# 13 images: 2 DescribeImageReferences (10 a call); 2 pages of 125 groups (100 a page) and
	# of 63 String parameters (50); 7 GetParameters: 62 values, 10 a call, and 1 resolve:ssm:;
	# template versions: default and latest of all in one, and 2 that groups name by number.
	echo "{\"DescribeAutoScalingGroups\":2,\"DescribeImageAttribute\":13,\"DescribeImageReferences\":2,\"DescribeImages\":1,\"DescribeLaunchConfigurations\":1,\"DescribeLaunchTemplateVersions\":3,\"DescribeParameters\":2,\"GetParameters\":8}" >expect &&
	test_cmp expect actual
'

test_expect_success 'two regions: one whose read fails prints nothing, the other everything; exit 1' '
	jq ".Regions[\"eu-west-1\"] = .Regions[\"us-east-1\"]" seed.json >two.json &&
	ec2_seed two.json &&
	{ cat all.jsonl && jq -c ". + {Region: \"eu-west-1\"}" all.jsonl; } >in &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DescribeLaunchConfigurations\",\"Region\":\"eu-west-1\",\"Code\":\"AccessDenied\",\"Message\":\"no\",\"Status\":403}" &&
	test_expect_code 1 image-users in >out 2>err &&
	cat >expect <<-\EOF &&
	image-users: eu-west-1: DescribeLaunchConfigurations: AccessDenied: no
	image-users: eu-west-1: a read of who uses the images failed: none of this region'"'"'s records printed
	EOF
	sed "s/ (request id [-0-9a-f]*)$//" err >actual &&
	test_cmp expect actual &&
	jq -r .Region out | sort | uniq -c | sed "s/^ *//" >actual &&
	echo "13 us-east-1" >expect &&
	test_cmp expect actual
'

test_expect_success 'bad input: exit 3, not one request' '
	ec2_reset_counts &&
	echo "{\"ImageId\":\"ami-nothex\"}" >bad1 &&
	echo "{\"InstanceId\":\"i-0a000000000000006\",\"ImageId\":\"$ami6\"}" >bad2 &&
	echo "not json" >bad3 &&
	for f in bad1 bad2 bad3; do
		test_expect_code 3 image-users $f >out 2>err &&
		test_line_count = 0 out &&
		test_grep "^image-users: $f:1: " err || return 1
	done &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0 &&
	test_expect_code 2 image-users --launch-template-versions newest all.jsonl 2>err &&
	test_grep "^image-users: --launch-template-versions: bad value .newest." err
'

# A page failing in any read of the lookup: deregister deletes nothing, exits 1, and the
# endpoint's state is as it was. The paged reads fail on their second page where the seed gives
# them two; DescribeImageAttribute and GetParameters (a call per image, per 10 names) on a later
# call. DescribeInstances and DescribeLaunchTemplates are read only without DescribeImageReferences
# (and the latter for --launch-template-versions all).
while read -r action skip mode opts; do
	test_expect_success "deregister, $action failing (call $((skip + 1)), $mode): nothing changes, exit 1" '
		ec2_seed seed-$mode.json &&
		ec2_state >before &&
		ec2_reset_counts &&
		code=UnauthorizedOperation &&
		if [ $action = DescribeImageReferences ]; then code=AuthFailure; fi &&
		ec2_fault "{\"Kind\":\"error\",\"Action\":\"$action\",\"Skip\":$skip,\"Code\":\"$code\",\"Message\":\"denied\",\"Status\":403}" &&
		test_expect_code 1 deregister --max 100 --protect-launched-within 30d $opts all.jsonl >out 2>err &&
		test_grep "^deregister: us-east-1: $action: $code: denied" err &&
		jq -r .Result.Status out | sort -u >actual &&
		echo failed >expect &&
		test_cmp expect actual &&
		test "$(ec2_count DeregisterImage)" = 0 &&
		test "$(ec2_count DeleteSnapshot)" = 0 &&
		ec2_state >after &&
		test_cmp before after
	'
done <<EOF
DescribeImages 0 refs
DescribeImageReferences 1 refs
DescribeInstances 0 norefs
DescribeLaunchTemplates 0 norefs --launch-template-versions=all
DescribeLaunchTemplateVersions 1 refs
DescribeLaunchTemplateVersions 2 norefs --launch-template-versions=all
DescribeAutoScalingGroups 1 refs
DescribeLaunchConfigurations 0 refs
DescribeParameters 1 refs
GetParameters 3 refs
DescribeImageAttribute 5 refs
EOF

test_expect_success 'the last launch from DescribeImageAttribute where DescribeImages does not tell' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	printf "{\"ImageId\":\"%s\"}\n" $ami10 >in &&
	deregister --dry-run --protect-launched-within 30d in >out 2>err &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"DescribeImageAttribute\") | .Params.Attribute" reqs | sort >actual &&
	printf "%s\n" lastLaunchedTime launchPermission >expect &&
	test_cmp expect actual
'

test_done
