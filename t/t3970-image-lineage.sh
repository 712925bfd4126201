#!/bin/bash
# image-lineage: the family of a released image across two regions and two accounts. Account A
# (staging) has the root in us-east-1, a build from it (its SourceAMI tag), a copy of the root in
# us-west-2 made by copy-image, and a copy of the build seeded as EC2 describes copies
# (SourceImageId, SourceImageRegion); account B (production, reached through the accounts file's
# role) has a copy of the us-west-2 copy, made by copy-image --profile prod. Unrelated images,
# and a build from the root in another region, are not listed. Each image once, roots first, then
# breadth first, with Lineage; nothing changed; a failing listing prints nothing; bad input is
# exit 3 before any call.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-xacct.sh

root=ami-0a000000000000001 other=ami-0a000000000000002
build=ami-0a000000000000003 buildcopy=ami-0a000000000000005

# The seed of lib-xacct.sh, and in A: a build from the root (us-east-1), a build from the other
# image, a copy of the build in us-west-2 as EC2 describes it (carrying the build's SourceAMI tag
# too: it is the build's copy, not the root's child), and in us-west-2 an image whose SourceAMI
# names the root but which was not built in the root's region; and a role in A.
jq ".Regions[\"us-east-1\"].Images += [
	{ImageId: \"$build\", Name: \"web-app-1\", CreationDate: \"2026-11-02T00:00:00.000Z\",
	 Tags: [{Key: \"SourceAMI\", Value: \"$root\"}]},
	{ImageId: \"ami-0a000000000000004\", Name: \"other-app\", CreationDate: \"2026-11-02T00:00:00.000Z\",
	 Tags: [{Key: \"SourceAMI\", Value: \"$other\"}]}]
   | .Regions[\"us-west-2\"].Images = [
	{ImageId: \"$buildcopy\", Name: \"web-app-1\", CreationDate: \"2026-11-03T00:00:00.000Z\",
	 SourceImageId: \"$build\", SourceImageRegion: \"us-east-1\",
	 Tags: [{Key: \"SourceAMI\", Value: \"$root\"}]},
	{ImageId: \"ami-0a000000000000006\", Name: \"elsewhere\", CreationDate: \"2026-11-03T00:00:00.000Z\",
	 Tags: [{Key: \"SourceAMI\", Value: \"$root\"}]}]
   | .Accounts[\"$A\"] = {Roles: {amicycle: {}}}" seed.json >seed2.json &&
mv seed2.json seed.json || { echo "Bail out! cannot write the seed"; exit 1; }

echo "{\"Account\":\"$B\",\"Role\":\"$ROLE\",\"Regions\":[\"us-east-1\",\"us-west-2\"],\"Environment\":\"production\"}" >accounts.jsonl
echo "{\"ImageId\":\"$root\",\"Region\":\"us-east-1\"}" >root.jsonl

# What a user checks of each image: id, region, owner, Lineage, and the Account to act in.
lineage_tsv () {
	jq -r '[.ImageId, .Region, .OwnerId, .Lineage.Root, (.Lineage.Parent // "-"), .Lineage.Depth,
		(.Account // "-")] | @tsv' "$1"
}

test_expect_success 'setup: A copies the root to us-west-2; B copies that copy, shared with it' '
	ec2_start seed.json &&
	copy-image --to us-west-2 root.jsonl >west.jsonl &&
	west=$(jq -r .ImageId west.jsonl) &&
	share --account $B --snapshots west.jsonl >shared.jsonl &&
	copy-image --profile prod shared.jsonl >b.jsonl &&
	bcopy=$(jq -r .ImageId b.jsonl) &&
	jq -r "[.Region, .OwnerId, .SourceImageId, .Result.Status] | @tsv" b.jsonl >actual &&
	printf "us-west-2\t$B\t$west\tdone\n" >expect &&
	test_cmp expect actual
'
west=$(jq -r .ImageId west.jsonl 2>/dev/null)
bcopy=$(jq -r .ImageId b.jsonl 2>/dev/null)

test_expect_success 'the family across two regions and two accounts, each image once' '
	ec2_state | jq .Regions >before &&
	ec2_reset_counts &&
	image-lineage --region us-west-2 --accounts accounts.jsonl root.jsonl >out 2>err &&
	test_line_count = 0 err &&
	lineage_tsv out >actual &&
	cat >expect <<-EOF &&
	$root	us-east-1	$A	$root	-	0	-
	$build	us-east-1	$A	$root	$root	1	-
	$west	us-west-2	$A	$root	$root	1	-
	$buildcopy	us-west-2	$A	$root	$build	2	-
	$bcopy	us-west-2	$B	$root	$west	2	$B
	EOF
	test_cmp expect actual &&
	ec2_state | jq .Regions >after &&
	test_cmp before after &&
	ec2_requests >reqs &&
	jq -r ".[].Action" reqs | sort | uniq -c | sed "s/^ *//" >actual &&
	printf "1 AssumeRole\n4 DescribeImages\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'an accounts file with this account too: each image once, with its Account' '
	{ echo "{\"Account\":\"$A\",\"Role\":\"arn:aws:iam::$A:role/amicycle\",\"Regions\":[\"us-west-2\",\"us-east-1\"],\"Environment\":\"staging\"}" &&
	  cat accounts.jsonl; } >both.jsonl &&
	ec2_reset_counts &&
	image-lineage --region us-west-2 --accounts both.jsonl root.jsonl >both.out 2>err &&
	test_line_count = 0 err &&
	lineage_tsv both.out >actual &&
	lineage_tsv out | sed "s/	-\$/	$A/" >expect &&
	test_cmp expect actual &&
	ec2_requests >reqs &&
	jq -r ".[].Action" reqs | sort | uniq -c | sed "s/^ *//" >actual &&
	printf "2 AssumeRole\n6 DescribeImages\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'each record is the image as EC2 describes it, with Region' '
	jq -c "select(.ImageId == \"$west\") | del(.Lineage)" out >actual &&
	ec2-describe images --region us-west-2 $west >expect &&
	test_cmp expect actual &&
	jq -r "select(.ImageId == \"$bcopy\") | [.SourceImageId, .SourceImageRegion,
		(.Tags | from_entries | .SourceAccount)] | @tsv" out >actual &&
	printf "$west\tus-west-2\t$A\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the AWS CLI, as B, sees the copy descend from the Parent image-lineage names' '
	ec2_aws sts assume-role --role-arn $ROLE --role-session-name t3970 >role.json &&
	AWS_ACCESS_KEY_ID=$(jq -r .Credentials.AccessKeyId role.json) \
	AWS_SECRET_ACCESS_KEY=$(jq -r .Credentials.SecretAccessKey role.json) \
	AWS_SESSION_TOKEN=$(jq -r .Credentials.SessionToken role.json) \
		ec2_aws_model ec2 describe-images --region us-west-2 --image-ids $bcopy >cli.json &&
	jq -r ".Images[] | [.ImageId, .SourceImageId, .SourceImageRegion] | @tsv" cli.json >actual &&
	jq -r "select(.ImageId == \"$bcopy\") | [.ImageId, .Lineage.Parent, \"us-west-2\"] | @tsv" out >expect &&
	test_cmp expect actual
'

test_expect_success 'a root twice in the input is listed once' '
	cat root.jsonl root.jsonl >twice.jsonl &&
	image-lineage --region us-west-2 --accounts accounts.jsonl twice.jsonl >out2 &&
	test_cmp out out2
'

test_expect_success 'without the accounts file: the caller account alone, no Account' '
	image-lineage --region us-west-2 root.jsonl >out3 &&
	lineage_tsv out3 >actual &&
	lineage_tsv out | sed -e "/	$B\$/d" >expect &&
	test_line_count = 4 expect &&
	test_cmp expect actual
'

test_expect_success 'without --region us-west-2: the copies there are not searched' '
	image-lineage root.jsonl >out4 &&
	lineage_tsv out4 >actual &&
	printf "$root\tus-east-1\t$A\t$root\t-\t0\t-\n$build\tus-east-1\t$A\t$root\t$root\t1\t-\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'two roots, one the child of the other: each a root, its copies under it' '
	{ echo "{\"ImageId\":\"$build\",\"Region\":\"us-east-1\"}" && cat root.jsonl; } >roots.jsonl &&
	image-lineage --region us-west-2 roots.jsonl >out5 &&
	lineage_tsv out5 >actual &&
	cat >expect <<-EOF &&
	$build	us-east-1	$A	$build	-	0	-
	$root	us-east-1	$A	$root	-	0	-
	$buildcopy	us-west-2	$A	$build	$build	1	-
	$west	us-west-2	$A	$root	$root	1	-
	EOF
	test_cmp expect actual
'

test_expect_success '--role-arn: the search is in B, where its copy is a root of its own' '
	jq -c "{ImageId, Region}" b.jsonl >broot.jsonl &&
	image-lineage --role-arn $ROLE --region us-east-1 broot.jsonl >out6 &&
	lineage_tsv out6 >actual &&
	printf "$bcopy\tus-west-2\t$B\t$bcopy\t-\t0\t-\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--built-from-tag KEY: builds are found by that tag instead' '
	image-lineage --built-from-tag BaseImage root.jsonl >out7 &&
	lineage_tsv out7 >actual &&
	printf "$root\tus-east-1\t$A\t$root\t-\t0\t-\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'no image read: nothing listed, nothing printed' '
	ec2_reset_counts &&
	image-lineage --region us-west-2 --accounts accounts.jsonl </dev/null >out11 2>err &&
	test_line_count = 0 out11 &&
	test_line_count = 0 err &&
	ec2_requests >reqs &&
	jq length reqs >actual &&
	echo 0 >expect &&
	test_cmp expect actual
'

test_expect_success 'a root not found: one line, exit 1; the other families still printed' '
	{ cat root.jsonl && echo "{\"ImageId\":\"ami-0a00000000000ffff\",\"Region\":\"us-east-1\"}"; } >missing.jsonl &&
	test_expect_code 1 image-lineage missing.jsonl >out8 2>err &&
	echo "image-lineage: us-east-1 ami-0a00000000000ffff: no such image in the accounts and regions searched" >expect &&
	test_cmp expect err &&
	test_cmp out4 out8
'

test_expect_success 'a listing that fails: nothing printed, exit 1, and why' '
	ec2_fault "{\"Action\":\"DescribeImages\",\"Kind\":\"error\",\"Region\":\"us-west-2\",\"Count\":1,\"Skip\":1,\"Code\":\"UnauthorizedOperation\",\"Message\":\"You are not authorized to perform this operation.\",\"Status\":403}" &&
	test_expect_code 1 image-lineage --region us-west-2 --accounts accounts.jsonl root.jsonl >out9 2>err &&
	test_line_count = 0 out9 &&
	test_line_count = 2 err &&
	test_grep "^image-lineage: us-west-2: DescribeImages: UnauthorizedOperation: You are not authorized" err &&
	test_grep "^image-lineage: a listing failed: the families would be incomplete, none printed$" err
'

test_expect_success 'a role that cannot be assumed: nothing printed, exit 1' '
	sed "s/prod-deploy/no-such-role/" accounts.jsonl >badrole.jsonl &&
	test_expect_code 1 image-lineage --accounts badrole.jsonl root.jsonl >out10 2>err &&
	test_line_count = 0 out10 &&
	test_grep "AssumeRole.*AccessDenied" err &&
	test_grep "^image-lineage: a listing failed" err
'

test_expect_success 'bad input: an image id of the wrong form, exit 3 naming FILE:LINE, no call' '
	ec2_reset_counts &&
	{ cat root.jsonl && echo "{\"ImageId\":\"ami-0a0000000001\",\"Region\":\"us-east-1\"}"; } >bad.jsonl &&
	test_expect_code 3 image-lineage bad.jsonl >out 2>err &&
	test_line_count = 0 out &&
	echo "image-lineage: bad.jsonl:2: ImageId '"'"'ami-0a0000000001'"'"' is not an id: ami- and 8 or 17 hex digits" >expect &&
	test_cmp expect err &&
	echo "{\"InstanceId\":\"i-0a000000000000001\",\"ImageId\":\"$root\",\"Region\":\"us-east-1\"}" >inst.jsonl &&
	test_expect_code 3 image-lineage inst.jsonl >out 2>err &&
	test_grep "^image-lineage: inst.jsonl:1: an instance record" err &&
	test "$(ec2_count DescribeImages)" = 0
'

test_expect_success 'bad input: an accounts file line that is not an account, exit 3, no call' '
	{ cat accounts.jsonl && echo "{\"Account\":\"$B\",\"Role\":\"arn:aws:iam::$A:role/x\",\"Regions\":[\"us-east-1\"],\"Environment\":\"p\"}"; } >badacct.jsonl &&
	test_expect_code 3 image-lineage --accounts badacct.jsonl root.jsonl >out 2>err &&
	test_line_count = 0 out &&
	echo "image-lineage: badacct.jsonl:2: Role: arn:aws:iam::$A:role/x is a role of account $A, not of $B" >expect &&
	test_cmp expect err &&
	test "$(ec2_count DescribeImages)" = 0
'

test_expect_success 'usage errors: exit 2' '
	test_expect_code 2 image-lineage --built-from-tag "" root.jsonl 2>err &&
	test_grep "^image-lineage: --built-from-tag" err &&
	test_expect_code 2 image-lineage --external-id x root.jsonl 2>err &&
	test_grep "only with --role-arn" err
'

test_expect_success 'no secret in outputs or the log' '
	! grep -r amicycle-secret out* err "$EC2_DIR/log"
'

test_done
