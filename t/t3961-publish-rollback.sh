#!/bin/bash
# publish --rollback: a parameter that holds a withdrawn image goes back to the newest earlier version
# whose image is not withdrawn, still exists, is not disabled and not tagged Revoked=true (its label
# moves with it), read back by the AWS CLI; a launch template's default goes back the same way; a
# channel that holds another image is skipped; running it again changes nothing; the dry run is the
# plan; with no earlier good image the channel is left as it is, exit 1.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

# us-east-1: GOOD (an old release), DIS (disabled), REV (tagged Revoked=true), BAD2 and BAD (being
# withdrawn); /web/prod holds, oldest first, GOOD, a deregistered image, DIS, REV, BAD2, BAD.
# /web/only has held BAD alone; /web/revoked REV, then BAD. us-west-2: /web/prod holds OTHER.
GOOD=ami-0c000000000000001 DIS=ami-0c000000000000002 REV=ami-0c000000000000003
BAD2=ami-0c000000000000004 BAD=ami-0c000000000000005 GONE=ami-0c000000000000006
OTHER=ami-0d000000000000001 BADW=ami-0d000000000000005
jq -n --arg good $GOOD --arg dis $DIS --arg rev $REV --arg bad2 $BAD2 --arg bad $BAD --arg gone $GONE \
	--arg other $OTHER --arg badw $BADW '
def img(id): {ImageId: id, Name: id};
def prm(n; v; l): {Name: n, DataType: "aws:ec2:image", Value: v, Labels: l};
{Regions: {
	"us-east-1": {Images: [img($good), img($dis) + {State: "disabled"},
		img($rev) + {Tags: [{Key: "Revoked", Value: "true"}]}, img($bad2), img($bad)],
		Parameters: [prm("/web/prod"; $good; ["git-good"]), prm("/web/prod"; $gone; ["git-gone"]),
			prm("/web/prod"; $dis; []), prm("/web/prod"; $rev; ["git-rev"]),
			prm("/web/prod"; $bad2; []), prm("/web/prod"; $bad; ["git-bad"]),
			prm("/web/only"; $bad; []), prm("/web/revoked"; $rev; []), prm("/web/revoked"; $bad; [])],
		LaunchTemplates: [{LaunchTemplateId: "lt-0c000000000000001", LaunchTemplateName: "web",
			DefaultVersionNumber: 4,
			Versions: [{LaunchTemplateData: {ImageId: $good, InstanceType: "t3.micro"}},
				   {LaunchTemplateData: {ImageId: $rev}}, {LaunchTemplateData: {ImageId: $dis}},
				   {LaunchTemplateData: {ImageId: $bad}}, {LaunchTemplateData: {ImageId: $bad}}]}]},
	"us-west-2": {Images: [img($other), img($badw)], Parameters: [prm("/web/prod"; $other; [])]}}}' >seed.json ||
	exit 1

printf '{"ImageId":"%s","Region":"%s"}\n' $BAD us-east-1 $BAD2 us-east-1 $BADW us-west-2 >family.jsonl

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

test_expect_success 'a launch template: the default goes back to the newest earlier good version' '
	ec2_reset_counts &&
	publish --launch-template web --rollback --dry-run family.jsonl >out &&
	test "$(jq -c "select(.ImageId == \"$BAD\") | [.Result.Status, .Published.VersionNumber]" out)" = "[\"dry-run\",1]" &&
	ec2_requests >reqs &&
	test "$(jq -r ".[] | select(.Action == \"ModifyLaunchTemplate\") | .Params.DryRun" reqs)" = true &&
	publish --launch-template web --rollback family.jsonl >out &&
	jq -c "select(.ImageId == \"$BAD\") | [.Result.Status, .Published]" out >actual &&
	echo "[\"done\",{\"LaunchTemplateId\":\"lt-0c000000000000001\",\"LaunchTemplateName\":\"web\",\"VersionNumber\":1,\"Default\":true,\"ImageId\":\"$GOOD\",\"PreviousVersion\":4,\"PreviousImageId\":\"$BAD\"}]" >expect &&
	test_cmp expect actual &&
	jq -c "select(.Region == \"us-west-2\") | [.Result.Status, .Result.Reason]" out >actual &&
	echo "[\"skipped\",\"not what web holds in us-west-2: there is no such launch template there\"]" >expect &&
	test_cmp expect actual &&
	ec2_aws ec2 describe-launch-template-versions --launch-template-name web --versions "\$Default" >got &&
	test "$(jq -c ".LaunchTemplateVersions[] | [.VersionNumber, .LaunchTemplateData.ImageId]" got)" = "[1,\"$GOOD\"]" &&
	ec2_reset_counts &&
	publish --launch-template web --rollback family.jsonl >out &&
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
