#!/bin/bash
# publish --rollback: a parameter that holds a withdrawn image goes back to the newest earlier version
# whose image is not withdrawn, still exists, is not disabled and not tagged Revoked=true (its label
# moves with it), read back by the AWS CLI. A launch template whose default or latest version
# launches a withdrawn image gets a new version made from the newest earlier good one, so that
# $Latest is good, and it becomes the default when the default was withdrawn (a good default, or a
# good $Latest, is left alone); read back by the AWS CLI as $Latest and $Default. A channel that holds
# another image is skipped; running it again changes nothing; the dry run is the plan (EC2's DryRun);
# with no earlier good image the channel is left as it is, exit 1.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

# us-east-1: GOOD and GOOD2 (old releases), DIS (disabled), REV (tagged Revoked=true), BAD2 and BAD
# (being withdrawn); /web/prod holds, oldest first, GOOD, a deregistered image, DIS, REV, BAD2, BAD.
# /web/only has held BAD alone; /web/revoked REV, then BAD. us-west-2: /web/prod holds OTHER.
# Launch templates in us-east-1, versions oldest first (* the default): web GOOD*, REV, DIS (the test
# publishes BAD to it with --set-default); canary GOOD*, GOOD2 (BAD published without: a $Latest
# channel); pinned GOOD, BAD2*, GOOD2; mixed GOOD, BAD2*, BAD; only REV, BAD*.
GOOD=ami-0c000000000000001 DIS=ami-0c000000000000002 REV=ami-0c000000000000003
BAD2=ami-0c000000000000004 BAD=ami-0c000000000000005 GONE=ami-0c000000000000006
GOOD2=ami-0c000000000000007 OTHER=ami-0d000000000000001 BADW=ami-0d000000000000005
jq -n --arg good $GOOD --arg dis $DIS --arg rev $REV --arg bad2 $BAD2 --arg bad $BAD --arg gone $GONE \
	--arg good2 $GOOD2 --arg other $OTHER --arg badw $BADW '
def img(id): {ImageId: id, Name: id};
def prm(n; v; l): {Name: n, DataType: "aws:ec2:image", Value: v, Labels: l};
def lt(n; name; d; images): {LaunchTemplateId: "lt-0c00000000000000\(n)", LaunchTemplateName: name,
	DefaultVersionNumber: d, Versions: [images[] | {LaunchTemplateData: {ImageId: .[0], InstanceType: .[1]}}]};
{Regions: {
	"us-east-1": {Images: [img($good), img($dis) + {State: "disabled"},
		img($rev) + {Tags: [{Key: "Revoked", Value: "true"}]}, img($bad2), img($bad), img($good2)],
		Parameters: [prm("/web/prod"; $good; ["git-good"]), prm("/web/prod"; $gone; ["git-gone"]),
			prm("/web/prod"; $dis; []), prm("/web/prod"; $rev; ["git-rev"]),
			prm("/web/prod"; $bad2; []), prm("/web/prod"; $bad; ["git-bad"]),
			prm("/web/only"; $bad; []), prm("/web/revoked"; $rev; []), prm("/web/revoked"; $bad; [])],
		LaunchTemplates: [
			lt(1; "web"; 1; [[$good, "t3.micro"], [$rev, "t3.small"], [$dis, "t3.small"]]),
			lt(2; "canary"; 1; [[$good, "t3.micro"], [$good2, "t3.large"]]),
			lt(3; "pinned"; 2; [[$good, "t3.micro"], [$bad2, "t3.small"], [$good2, "t3.large"]]),
			lt(4; "mixed"; 2; [[$good, "t3.micro"], [$bad2, "t3.small"], [$bad, "t3.large"]]),
			lt(5; "only"; 2; [[$rev, "t3.micro"], [$bad, "t3.small"]])]},
	"us-west-2": {Images: [img($other), img($badw)], Parameters: [prm("/web/prod"; $other; [])]}}}' >seed.json ||
	exit 1

printf '{"ImageId":"%s","Region":"%s"}\n' $BAD us-east-1 $BAD2 us-east-1 $BADW us-west-2 >family.jsonl

# channel NAME: the launch template's default and latest version numbers, then the versions $Default
# and $Latest name, each as [VersionNumber, DefaultVersion, ImageId, InstanceType], read by the AWS CLI;
# channel_is NAME: compares that with the lines on stdin.
channel () {
	ec2_aws ec2 describe-launch-templates --launch-template-names "$1" >lt.json &&
	jq -c ".LaunchTemplates[] | [.DefaultVersionNumber, .LatestVersionNumber]" lt.json &&
	ec2_aws ec2 describe-launch-template-versions --launch-template-name "$1" \
		--versions '$Latest' '$Default' >ltv.json &&
	jq -c ".LaunchTemplateVersions | unique_by(.VersionNumber)[]
		| [.VersionNumber, .DefaultVersion, .LaunchTemplateData.ImageId, .LaunchTemplateData.InstanceType]" ltv.json
}
channel_is () {
	cat >expect &&
	channel "$1" >actual &&
	test_cmp expect actual
}

# calls_are "ACTION DRYRUN"...: the launch template calls made since the counts were reset are those.
calls_are () {
	{ test $# = 0 || printf "%s\n" "$@"; } >expect &&
	ec2_requests | jq -r ".[] | select(.Action | test(\"^(CreateLaunchTemplateVersion|ModifyLaunchTemplate)\$\"))
		| \"\(.Action) \(.Params.DryRun // false)\"" >actual &&
	test_cmp expect actual
}

# history REGION NAME: each version as [Version, Value, Labels], read by the AWS CLI.
history () {
	ec2_aws --region "$1" ssm get-parameter-history --name "$2" >hist.json &&
	jq -c ".Parameters[] | [.Version, .Value, .Labels]" hist.json
}

test_expect_success 'the dry run is the plan: no call, nothing changed' '
	ec2_start seed.json &&
	ec2_reset_counts &&
	publish --parameter /web/prod --rollback --dry-run family.jsonl >out &&
	jq -c "[.ImageId, .Result.Status, .Published.ImageId, .Published.SourceVersion, .Published.Version]" out >actual &&
	cat >expect <<-EOF &&
	["$BAD","dry-run","$GOOD",1,7]
	["$BAD2","skipped",null,null,null]
	["$BADW","skipped",null,null,null]
	EOF
	test_cmp expect actual &&
	test "$(ec2_count PutParameter)" = 0 &&
	history us-east-1 /web/prod >actual &&
	test_line_count = 6 actual
'

test_expect_success 'a parameter goes back past the withdrawn, revoked, disabled and gone images; its label moves' '
	ec2_reset_counts &&
	publish --parameter /web/prod --rollback --audit audit.log family.jsonl >out &&
	jq -c "[.ImageId, .Result.Action, .Result.Status, .Result.Reason]" out >actual &&
	cat >expect <<-EOF &&
	["$BAD","publish","done","/web/prod in us-east-1 back from $BAD (version 6) to $GOOD (version 1)"]
	["$BAD2","publish","skipped","not what /web/prod holds in us-east-1 ($BAD)"]
	["$BADW","publish","skipped","not what /web/prod holds in us-west-2 ($OTHER)"]
	EOF
	test_cmp expect actual &&
	jq -c "select(.Published) | .Published" out >actual &&
	echo "{\"Parameter\":\"/web/prod\",\"Version\":7,\"Label\":\"git-good\",\"ImageId\":\"$GOOD\",\"SourceVersion\":1,\"PreviousVersion\":6,\"PreviousImageId\":\"$BAD\"}" >expect &&
	test_cmp expect actual &&
	history us-east-1 /web/prod >actual &&
	cat >expect <<-EOF &&
	[1,"$GOOD",[]]
	[2,"$GONE",["git-gone"]]
	[3,"$DIS",[]]
	[4,"$REV",["git-rev"]]
	[5,"$BAD2",[]]
	[6,"$BAD",["git-bad"]]
	[7,"$GOOD",["git-good"]]
	EOF
	test_cmp expect actual &&
	ec2_aws --region us-west-2 ssm get-parameters --names /web/prod >got &&
	test "$(jq -r ".Parameters[0].Value" got)" = $OTHER &&
	jq -r ".Action" audit.log >actual &&
	printf "PutParameter\nLabelParameterVersion\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'running it again changes nothing: the parameter no longer holds a withdrawn image' '
	ec2_reset_counts &&
	publish --parameter /web/prod --rollback family.jsonl >out &&
	jq -r ".Result.Status" out | sort | uniq -c >actual &&
	echo "      3 skipped" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count PutParameter)" = 0 &&
	test "$(ec2_count LabelParameterVersion)" = 0
'

test_expect_success 'no earlier good image: exit 1, one line, the parameter left as it is' '
	ec2_reset_counts &&
	head -n 1 family.jsonl >bad.jsonl &&
	test_expect_code 1 publish --parameter /web/only --rollback bad.jsonl >out 2>err &&
	echo "publish: us-east-1: no earlier image that is not revoked: /web/only left as it is" >expect &&
	test_cmp expect err &&
	test "$(jq -c "[.Result.Status, .Result.Reason, .Published]" out)" = \
		"[\"failed\",\"no earlier image that is not revoked: /web/only left as it is\",null]" &&
	test_expect_code 1 publish --parameter /web/revoked --rollback bad.jsonl >out 2>err &&
	test_line_count = 1 err &&
	test "$(ec2_count PutParameter)" = 0 &&
	history us-east-1 /web/revoked >actual &&
	test_line_count = 2 actual &&
	tail -n 1 actual >last &&
	echo "[2,\"$BAD\",[]]" >expect &&
	test_cmp expect last
'

test_expect_success 'a template published with --set-default: the dry run sends DryRun, changes nothing' '
	head -n 1 family.jsonl >bad.jsonl &&
	publish --launch-template web --set-default bad.jsonl >out &&
	channel_is web <<-EOF &&
	[4,4]
	[4,true,"$BAD","t3.micro"]
	EOF
	ec2_reset_counts &&
	publish --launch-template web --rollback --dry-run family.jsonl >out &&
	jq -c "select(.ImageId == \"$BAD\") | [.Result.Status, .Published.VersionNumber, .Published.Default, .Published.ImageId]" out >actual &&
	echo "[\"dry-run\",5,true,\"$GOOD\"]" >expect &&
	test_cmp expect actual &&
	calls_are "CreateLaunchTemplateVersion true" "ModifyLaunchTemplate true" &&
	channel_is web <<-EOF
	[4,4]
	[4,true,"$BAD","t3.micro"]
	EOF
'

test_expect_success '... rolled back: a new version from the earlier good one, past the disabled and revoked; $Default and $Latest launch it' '
	ec2_reset_counts &&
	publish --launch-template web --rollback --audit lt.log family.jsonl >out &&
	jq -c "[.ImageId, .Result.Status, .Result.Reason]" out >actual &&
	cat >expect <<-EOF &&
	["$BAD","done","web in us-east-1 back from $BAD (version 4, default and latest) to $GOOD (version 1), as version 5, the default"]
	["$BAD2","skipped","not what web holds in us-east-1 ($BAD)"]
	["$BADW","skipped","not what web holds in us-west-2: there is no such launch template there"]
	EOF
	test_cmp expect actual &&
	jq -c "select(.Published) | .Published" out >actual &&
	echo "{\"LaunchTemplateId\":\"lt-0c000000000000001\",\"LaunchTemplateName\":\"web\",\"VersionNumber\":5,\"Default\":true,\"ImageId\":\"$GOOD\",\"SourceVersion\":1,\"PreviousVersion\":4,\"PreviousImageId\":\"$BAD\"}" >expect &&
	test_cmp expect actual &&
	channel_is web <<-EOF &&
	[5,5]
	[5,true,"$GOOD","t3.micro"]
	EOF
	jq -c "[.Action, .Parameters.SourceVersion // .Parameters.DefaultVersion, .Parameters.LaunchTemplateData.ImageId]" lt.log >actual &&
	cat >expect <<-EOF &&
	["CreateLaunchTemplateVersion","1","$GOOD"]
	["ModifyLaunchTemplate","5",null]
	EOF
	test_cmp expect actual
'

test_expect_success 'a $Latest channel (published without --set-default): a new latest version from the newest earlier good one, the default left alone' '
	publish --launch-template canary bad.jsonl >out &&
	channel_is canary <<-EOF &&
	[1,3]
	[1,true,"$GOOD","t3.micro"]
	[3,false,"$BAD","t3.micro"]
	EOF
	ec2_reset_counts &&
	publish --launch-template canary --rollback family.jsonl >out &&
	jq -c "select(.ImageId == \"$BAD\") | [.Result.Status, .Result.Reason, .Published]" out >actual &&
	echo "[\"done\",\"canary in us-east-1 back from $BAD (version 3, latest) to $GOOD2 (version 2), as version 4\",{\"LaunchTemplateId\":\"lt-0c000000000000002\",\"LaunchTemplateName\":\"canary\",\"VersionNumber\":4,\"Default\":false,\"ImageId\":\"$GOOD2\",\"SourceVersion\":2,\"PreviousVersion\":3,\"PreviousImageId\":\"$BAD\"}]" >expect &&
	test_cmp expect actual &&
	calls_are "CreateLaunchTemplateVersion false" &&
	channel_is canary <<-EOF
	[1,4]
	[1,true,"$GOOD","t3.micro"]
	[4,false,"$GOOD2","t3.large"]
	EOF
'

test_expect_success 'the default alone launches a withdrawn image: it goes back to the earlier version, a good $Latest left alone' '
	ec2_reset_counts &&
	publish --launch-template pinned --rollback family.jsonl >out &&
	jq -c "[.ImageId, .Result.Status, .Result.Reason]" out >actual &&
	cat >expect <<-EOF &&
	["$BAD","skipped","not what pinned holds in us-east-1 ($BAD2, the default; $GOOD2, the latest)"]
	["$BAD2","done","pinned in us-east-1 back from $BAD2 (version 2, default) to $GOOD (version 1)"]
	["$BADW","skipped","not what pinned holds in us-west-2: there is no such launch template there"]
	EOF
	test_cmp expect actual &&
	jq -c "select(.Published) | .Published" out >actual &&
	echo "{\"LaunchTemplateId\":\"lt-0c000000000000003\",\"LaunchTemplateName\":\"pinned\",\"VersionNumber\":1,\"Default\":true,\"ImageId\":\"$GOOD\",\"PreviousVersion\":2,\"PreviousImageId\":\"$BAD2\"}" >expect &&
	test_cmp expect actual &&
	calls_are "ModifyLaunchTemplate false" &&
	channel_is pinned <<-EOF
	[1,3]
	[1,true,"$GOOD","t3.micro"]
	[3,false,"$GOOD2","t3.large"]
	EOF
'

test_expect_success 'default and latest launch two withdrawn images: one new version, the default; both records say so' '
	ec2_reset_counts &&
	publish --launch-template mixed --rollback family.jsonl >out &&
	jq -c "select(.Region == \"us-east-1\") | [.ImageId, .Result.Status, .Result.Reason, .Published.VersionNumber, .Published.Default]" out >actual &&
	cat >expect <<-EOF &&
	["$BAD","done","mixed in us-east-1 back from $BAD (version 3, latest) and $BAD2 (version 2, default) to $GOOD (version 1), as version 4, the default",4,true]
	["$BAD2","done","mixed in us-east-1 back from $BAD (version 3, latest) and $BAD2 (version 2, default) to $GOOD (version 1), as version 4, the default",4,true]
	EOF
	test_cmp expect actual &&
	calls_are "CreateLaunchTemplateVersion false" "ModifyLaunchTemplate false" &&
	channel_is mixed <<-EOF
	[4,4]
	[4,true,"$GOOD","t3.micro"]
	EOF
'

test_expect_success 'no earlier good version of a template: exit 1, one line, the template left as it is' '
	ec2_reset_counts &&
	test_expect_code 1 publish --launch-template only --rollback family.jsonl >out 2>err &&
	echo "publish: us-east-1: no earlier image that is not revoked: only left as it is" >expect &&
	test_cmp expect err &&
	jq -c "select(.ImageId == \"$BAD\") | [.Result.Status, .Result.Reason, .Published]" out >actual &&
	echo "[\"failed\",\"no earlier image that is not revoked: only left as it is\",null]" >expect &&
	test_cmp expect actual &&
	calls_are &&
	channel_is only <<-EOF
	[2,2]
	[2,true,"$BAD","t3.small"]
	EOF
'

test_expect_success 'a second rollback makes no call: no template launches a withdrawn image' '
	ec2_reset_counts &&
	for t in web canary pinned mixed; do
		publish --launch-template $t --rollback family.jsonl >out &&
		jq -r ".Result.Status" out | sort -u >actual &&
		echo skipped >expect &&
		test_cmp expect actual || return 1
	done &&
	test "$(ec2_count CreateLaunchTemplateVersion)" = 0 &&
	test "$(ec2_count ModifyLaunchTemplate)" = 0
'

test_expect_success 'bad input: an image id of the wrong form: exit 3, no call' '
	ec2_reset_counts &&
	printf "%s\n" "{\"ImageId\":\"$BAD\"}" "{\"ImageId\":\"ami-0c00000000000000\"}" >badid.jsonl &&
	test_expect_code 3 publish --parameter /web/prod --rollback badid.jsonl >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^publish: badid.jsonl:2: " err &&
	test "$(ec2_total)" = 0
'

test_done
