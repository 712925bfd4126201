#!/bin/bash
# make image-revoke, end to end: release 2 of project web (ami-0a...02, account A, us-east-1) has a
# build made from it (ami-0a...03), a copy in us-west-2 (ami-0b...02), and copies in production's
# account B in both regions (ami-0c...02, ami-0d...02), which B publishes to the parameter
# /amicycle/web/production of each region (release 1's copies before them); of A's launch templates
# in us-west-2, web-staging launches A's copy by default (its default is its latest), web-canary by
# its latest version only (its default launches release 1's copy: a $Latest channel). Revoking
# release 2 rolls the four channels back to release 1 (each template's $Default and $Latest) and
# tags, deprecates, unshares and disables the five images, in their accounts, with every call in the
# audit log; a second run changes nothing. DRY_RUN=1 changes nothing; revoking
# release 1 then is refused (no earlier good image for its channels) and changes nothing; an IMAGE
# of the wrong form, or a REASON too long for a tag, stops it before anything runs; an unknown
# image is exit 1.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

A=111111111111 B=222222222222 C=333333333333
ROLE=arn:aws:iam::$B:role/prod-deploy
P=/amicycle/web/production
R1=ami-0a000000000000001 R2=ami-0a000000000000002 BUILD=ami-0a000000000000003
W1=ami-0b000000000000001 W2=ami-0b000000000000002
B1E=ami-0c000000000000001 B2E=ami-0c000000000000002 B1W=ami-0d000000000000001 B2W=ami-0d000000000000002
FAMILY="$R2 $BUILD $W2 $B2E $B2W"

# image ID OWNER NAME DATE MORE: an image with its own snapshot (snap- and the id's digits);
# MORE is more members, with a leading comma. tags PROJECT SHA MORE: its tags.
image () {
	printf '{"ImageId": "%s", "OwnerId": "%s", "Name": "%s", "CreationDate": "%s", "State": "available",
	  "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-%s"}}]%s}' \
		"$1" "$2" "$3" "$4" "${1#ami-}" "$5"
}
tags () {
	printf ', "Tags": [{"Key": "Project", "Value": "%s"}, {"Key": "GitSha", "Value": "%s"}%s]' "$1" "$2" "$3"
}
# copy_of SOURCE SOURCE_REGION SOURCE_ACCOUNT SHA ENV: what EC2 and copy-image say of a copy of SOURCE.
copy_of () {
	printf ', "SourceImageId": "%s", "SourceImageRegion": "%s"' "$1" "$2"
	tags web "$4" "$(printf ', {"Key": "%s", "Value": "%s"}' SourceImageId "$1" SourceRegion "$2" \
		SourceAccount "$3" Environment "$5")"
}
snapshot () {
	printf '{"SnapshotId": "snap-%s", "OwnerId": "%s", "VolumeSize": 8%s}' "${1#ami-}" "$2" "$3"
}
shared_with_b=", \"LaunchPermissions\": [{\"UserId\": \"$B\"}]"
snap_shared_with_b=", \"CreateVolumePermissions\": [{\"UserId\": \"$B\"}]"

cat >seed.json <<EOF
{"AccountId": "$A",
 "Accounts": {"$B": {"Roles": {"prod-deploy": {}}},
  "$C": {"Credentials": [{"AccessKeyId": "AKIAAMICYCLEACCTC001", "SecretAccessKey": "amicycle-secret-c"}]}},
 "Regions": {
  "us-east-1": {
   "Images": [
    $(image $R1 $A web-1 2026-11-01T00:00:00.000Z "$(tags web aaaa111 "")$shared_with_b"),
    $(image $R2 $A web-2 2026-11-20T00:00:00.000Z "$(tags web bbbb222 "")$shared_with_b"),
    $(image $BUILD $A web-app-2 2026-11-21T00:00:00.000Z "$(tags web-app 0c0c0c0 ", {\"Key\": \"SourceAMI\", \"Value\": \"$R2\"}")"),
    $(image $B1E $B web-1 2026-11-02T00:00:00.000Z "$(copy_of $R1 us-east-1 $A aaaa111 production)"),
    $(image $B2E $B web-2 2026-11-21T00:00:00.000Z "$(copy_of $R2 us-east-1 $A bbbb222 production), \"LaunchPermissions\": [{\"UserId\": \"$C\"}]")],
   "Snapshots": [$(snapshot $R1 $A "$snap_shared_with_b"), $(snapshot $R2 $A "$snap_shared_with_b"), $(snapshot $BUILD $A ""),
    $(snapshot $B1E $B ""), $(snapshot $B2E $B ", \"CreateVolumePermissions\": [{\"UserId\": \"$C\"}]")],
   "Parameters": [
    {"Name": "$P", "OwnerId": "$B", "Type": "String", "DataType": "aws:ec2:image", "Value": "$B1E", "Labels": ["git-aaaa111"]},
    {"Name": "$P", "OwnerId": "$B", "Type": "String", "DataType": "aws:ec2:image", "Value": "$B2E", "Labels": ["git-bbbb222"]}]},
  "us-west-2": {
   "Images": [
    $(image $W1 $A web-1 2026-11-01T01:00:00.000Z "$(copy_of $R1 us-east-1 $A aaaa111 staging)"),
    $(image $W2 $A web-2 2026-11-20T01:00:00.000Z "$(copy_of $R2 us-east-1 $A bbbb222 staging)"),
    $(image $B1W $B web-1 2026-11-02T01:00:00.000Z "$(copy_of $R1 us-east-1 $A aaaa111 production)"),
    $(image $B2W $B web-2 2026-11-21T01:00:00.000Z "$(copy_of $R2 us-east-1 $A bbbb222 production)")],
   "Snapshots": [$(snapshot $W1 $A ""), $(snapshot $W2 $A ""), $(snapshot $B1W $B ""), $(snapshot $B2W $B "")],
   "LaunchTemplates": [{"LaunchTemplateId": "lt-0a000000000000001", "LaunchTemplateName": "web-staging",
     "DefaultVersionNumber": 2,
     "Versions": [{"VersionNumber": 1, "LaunchTemplateData": {"ImageId": "$W1", "InstanceType": "t3.micro"}},
                  {"VersionNumber": 2, "LaunchTemplateData": {"ImageId": "$W2", "InstanceType": "t3.micro"}}]},
    {"LaunchTemplateId": "lt-0a000000000000002", "LaunchTemplateName": "web-canary",
     "DefaultVersionNumber": 1,
     "Versions": [{"VersionNumber": 1, "LaunchTemplateData": {"ImageId": "$W1", "InstanceType": "t3.small"}},
                  {"VersionNumber": 2, "LaunchTemplateData": {"ImageId": "$W2", "InstanceType": "t3.small"}}]}],
   "Parameters": [
    {"Name": "$P", "OwnerId": "$B", "Type": "String", "DataType": "aws:ec2:image", "Value": "$B1W", "Labels": ["git-aaaa111"]},
    {"Name": "$P", "OwnerId": "$B", "Type": "String", "DataType": "aws:ec2:image", "Value": "$B2W", "Labels": ["git-bbbb222"]}]}}}
EOF

mkdir project &&
cat >project/Makefile <<EOF &&
AMICYCLE_PROJECT = web
AMICYCLE_REGIONS = us-east-1
AMICYCLE_PROMOTE_REGIONS = us-west-2
include $SRC_DIR/mk/amicycle.mk
EOF
echo "{\"Account\": \"$B\", \"Role\": \"$ROLE\", \"Regions\": [\"us-east-1\", \"us-west-2\"], \"Environment\": \"production\"}" \
	>project/accounts.jsonl

D=project/.amicycle
revoke () {
	PATH=$AMICYCLE_BUILD/bin:$PATH make --no-print-directory -C project image-revoke "$@"
}
# as_b_cli ARGS...: the AWS CLI as B's role, assumed with the CLI itself.
as_b_cli () {
	ec2_aws sts assume-role --role-arn $ROLE --role-session-name t5009 >role.json &&
	AWS_ACCESS_KEY_ID=$(jq -r .Credentials.AccessKeyId role.json) \
	AWS_SECRET_ACCESS_KEY=$(jq -r .Credentials.SecretAccessKey role.json) \
	AWS_SESSION_TOKEN=$(jq -r .Credentials.SessionToken role.json) "$@"
}
# images: every image of both accounts, a line each: region, id, state, deprecated or not, Revoked,
# RevokedReason, who may launch it and who may create volumes from its snapshot.
images () {
	{ ec2_state us-east-1; ec2_state us-west-2; } | jq -s "{Regions: (map(.Regions) | add)}" >state &&
	jq -r '.Regions | to_entries[] | .key as $r | .value as $v | $v.Images[]
		| (.BlockDeviceMappings[0].Ebs.SnapshotId) as $s
		| [$r, .ImageId, .State, (if .DeprecationTime then "deprecated" else "-" end),
		   ((.Tags // []) | from_entries | .Revoked // "-", .RevokedReason // "-"),
		   ([.LaunchPermissions[]?.UserId] | join(",") | if . == "" then "-" else . end),
		   ([$v.Snapshots[] | select(.SnapshotId == $s) | .CreateVolumePermissions[]?.UserId] | join(",")
		    | if . == "" then "-" else . end)] | @tsv' state | sort -k 2
}
# channels_expect IMAGE VERSION (x6): channels' lines, holding those images at those versions: the
# parameter in each region, then each template's $Default and $Latest.
channels_expect () {
	printf "us-east-1\t$P\t%s\t%s\nus-west-2\t$P\t%s\t%s\n" "$1" "$2" "$3" "$4" &&
	shift 4 &&
	printf "us-west-2\tweb-canary \$Default\t%s\t%s\nus-west-2\tweb-canary \$Latest\t%s\t%s\n" "$1" "$2" "$3" "$4" &&
	shift 4 &&
	printf "us-west-2\tweb-staging \$Default\t%s\t%s\nus-west-2\tweb-staging \$Latest\t%s\t%s\n" "$@"
}
# revoked_view WHY: images' lines (stdin) as they are once the family is revoked for WHY.
revoked_view () {
	awk -F "\t" -v OFS="\t" -v family="$FAMILY" -v why="$1" '
		BEGIN { n = split(family, f, " "); for (i = 1; i <= n; i++) revoked[f[i]] = 1 }
		revoked[$2] { $3 = "disabled"; $4 = "deprecated"; $5 = "true"; $6 = why; $7 = "-"; $8 = "-" }
		{ print }'
}
# channels: what B's parameter holds in each region, and A's launch templates (their default and
# latest versions).
channels () {
	for r in us-east-1 us-west-2; do
		ec2_state $r | jq -r --arg r $r --arg b $B '.Regions[$r].Parameters | map(select(._OwnerId == $b))
			| group_by(.Name)[] | max_by(.Version) | [$r, .Name, .Value, .Version] | @tsv' || return 1
	done &&
	ec2_state us-west-2 | jq -r '.Regions["us-west-2"].LaunchTemplates | sort_by(.LaunchTemplateName)[] | . as $t
		| ["$Default", .DefaultVersionNumber], ["$Latest", .LatestVersionNumber] | . as [$which, $n]
		| ["us-west-2", "\($t.LaunchTemplateName) \($which)",
		   ($t.Versions[] | select(.VersionNumber == $n) | .LaunchTemplateData.ImageId), $n] | @tsv'
}
# mutations: the requests that would change something, as ACTION REGION DRYRUN lines, sorted.
MUTATING='CreateTags|DeleteTags|EnableImageDeprecation|DisableImageDeprecation|ModifyImageAttribute|ModifySnapshotAttribute|DisableImage|EnableImage|PutParameter|LabelParameterVersion|ModifyLaunchTemplate|CreateLaunchTemplateVersion|DeregisterImage|DeleteSnapshot|CopyImage'
mutations () {
	ec2_requests | jq -r --arg m "^($MUTATING)\$" '.[] | select(.Action | test($m))
		| [.Action, .Region, (.Params.DryRun // "false")] | @tsv' | sort
}

test_expect_success 'setup: the images, the channels' '
	ec2_start seed.json &&
	images >before &&
	channels >actual &&
	channels_expect $B2E 2 $B2W 2 $W1 1 $W2 2 $W2 2 $W2 2 >expect.channels &&
	test_cmp expect.channels actual
'

test_expect_success 'an IMAGE of the wrong form (as typed), or a REASON too long, stops it before anything runs' '
	ec2_reset_counts &&
	for id in ami-0a00000000000002 AMI-0A000000000000002 "ami-0a000000000000002 x" \
		"\$(shell touch pwned)" "ami-0a000000000000002\x27; touch pwned; \x27" i-0a000000000000002; do
		id=$(printf "$id") &&
		test_expect_code 2 revoke IMAGE="$id" >out 2>err &&
		test_grep "image-revoke: IMAGE .* is not an image id (ami- and 8 or 17 lowercase hex digits)" err || return 1
	done &&
	test_expect_code 2 revoke >out 2>err &&
	test_grep "image-revoke: say which image" err &&
	test_expect_code 2 revoke IMAGE=$R2 GIT_SHA=bbbb222 >out 2>err &&
	test_grep "image-revoke: IMAGE or GIT_SHA, not both" err &&
	test_expect_code 2 revoke GIT_SHA="bbbb 222" >out 2>err &&
	test_grep "image-revoke: GIT_SHA .* is not a git commit sha" err &&
	test_expect_code 2 revoke IMAGE=$R2 REASON="$(printf "%0257d" 0)" >out 2>err &&
	test_grep "^amicycle: image-revoke: REASON: 257 characters; a tag.s value has at most 256$" err &&
	! test -e pwned && ! test -e project/pwned &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success 'an image that is not there: exit non-zero, nothing changed' '
	ec2_reset_counts &&
	test_expect_code 2 revoke IMAGE=ami-0a00000000000000f >out 2>err &&
	test_grep "^amicycle: image-revoke: no image ami-0a00000000000000f in us-east-1 us-west-2: nothing revoked$" err &&
	mutations >actual &&
	test_line_count = 0 actual
'

test_expect_success 'DRY_RUN=1 (by GIT_SHA): every step planned, nothing changed' '
	ec2_reset_counts &&
	revoke GIT_SHA=bbbb222 DRY_RUN=1 >out 2>err &&
	images >actual &&
	test_cmp before actual &&
	channels >actual &&
	test_cmp expect.channels actual &&
	mutations | cut -f 3 | sort -u >dry &&
	echo true >expect.dry &&
	test_cmp expect.dry dry &&
	jq -r "select(.Revoke) | [.ImageId, .Result.Status] | @tsv" $D/revoke.jsonl | sort >actual &&
	for i in $FAMILY; do printf "%s\tdry-run\n" $i; done | sort >expect.plan &&
	test_cmp expect.plan actual &&
	test_grep "^amicycle: image-revoke: ssm-parameter $P (us-east-1, account $B): dry-run: " out &&
	test_grep "^amicycle: image-revoke: launch-template lt-0a000000000000001 (us-west-2): dry-run: " out &&
	test_grep "^amicycle: image-revoke: launch-template lt-0a000000000000002 (us-west-2): dry-run: " out &&
	jq -r ".DryRun" $D/audit.jsonl | sort -u >actual &&
	test_cmp expect.dry actual &&
	mv $D/audit.jsonl audit.dry-run.jsonl
'

test_expect_success 'the revoke: channels back to release 1; the family tagged, deprecated, unshared, disabled' '
	ec2_reset_counts &&
	revoke IMAGE=$R2 REASON="CVE-2026-0001: \"openssl\" \$(shell touch pwned) \`touch pwned\` \$HOME" >out 2>err &&
	! test -e pwned && ! test -e project/pwned &&
	channels >actual &&
	channels_expect $B1E 3 $B1W 3 $W1 1 $W1 3 $W1 3 $W1 3 >expect &&
	test_cmp expect actual &&
	images >actual &&
	revoked_view "CVE-2026-0001: \"openssl\" \$(shell touch pwned) \`touch pwned\` \$HOME" <before >expect &&
	test_cmp expect actual &&
	test_grep "^amicycle: image-revoke: ssm-parameter $P (us-west-2, account $B): done: $P in us-west-2 back from $B2W (version 2) to $B1W (version 1)$" out &&
	test_grep "^amicycle: image-revoke: launch-template lt-0a000000000000001 (us-west-2): done: lt-0a000000000000001 in us-west-2 back from $W2 (version 2, default and latest) to $W1 (version 1), as version 3, the default$" out &&
	test_grep "^amicycle: image-revoke: launch-template lt-0a000000000000002 (us-west-2): done: lt-0a000000000000002 in us-west-2 back from $W2 (version 2, latest) to $W1 (version 1), as version 3$" out
'

test_expect_success 'the images keep their lineage and say what was done to each; RevokedAt is now' '
	jq -r "select(.Revoke) | [.ImageId, .Lineage.Parent // \"-\", .Result.Status, (.Revoke | [.Tag, .Deprecate, .Share, .Disable] | join(\" \"))] | @tsv" \
		$D/revoke.jsonl | sort >actual &&
	cat >expect <<-EOF &&
	$R2	-	done	done done done done
	$BUILD	$R2	done	done done skipped done
	$W2	$R2	done	done done skipped done
	$B2E	$R2	done	done done done done
	$B2W	$R2	done	done done skipped done
	EOF
	sort expect >expect.sorted &&
	test_cmp expect.sorted actual &&
	ec2_state us-east-1 | jq -r ".Regions[\"us-east-1\"].Images[] | select(.ImageId == \"$R2\") | .Tags | from_entries | .RevokedAt" >at &&
	test "$(date -u -d "$(cat at)" +%s)" -gt "$(($(date +%s) - 600))"
'

test_expect_success AWSCLI 'the AWS CLI reads it back, as A and as B' '
	ec2_aws_model ec2 describe-images --owners self --include-disabled --include-deprecated \
		--image-ids $R2 $BUILD >a1 &&
	ec2_aws_model --region us-west-2 ec2 describe-images --owners self --include-disabled --include-deprecated \
		--image-ids $W2 >a2 &&
	as_b_cli ec2_aws_model ec2 describe-images --owners self --include-disabled --include-deprecated \
		--image-ids $B2E >b1 &&
	as_b_cli ec2_aws_model --region us-west-2 ec2 describe-images --owners self --include-disabled \
		--include-deprecated --image-ids $B2W >b2 &&
	jq -r ".Images[] | [.ImageId, .State, (.DeprecationTime != null), (.Tags | from_entries | .Revoked)] | @tsv" \
		a1 a2 b1 b2 | sort >actual &&
	for i in $FAMILY; do printf "%s\tdisabled\ttrue\ttrue\n" $i; done | sort >expect &&
	test_cmp expect actual &&
	as_b_cli ec2_aws_model ec2 describe-image-attribute --image-id $B2E --attribute launchPermission >out &&
	jq -e ".LaunchPermissions == []" out >/dev/null &&
	as_b_cli ec2_aws ssm get-parameters --names $P $P:git-aaaa111 $P:git-bbbb222 >out &&
	jq -r ".Parameters[] | [.Value, .Version] | @tsv" out >actual &&
	printf "%s\t%s\n" $B1E 3 $B1E 3 $B2E 2 >expect &&
	test_cmp expect actual &&
	as_b_cli ec2_aws --region us-west-2 ssm get-parameter-history --name $P >out &&
	jq -r ".Parameters[] | [.Version, .Value, (.Labels | join(\",\"))] | @tsv" out >actual &&
	printf "%s\t%s\t%s\n" 1 $B1W "" 2 $B2W git-bbbb222 3 $B1W git-aaaa111 >expect &&
	test_cmp expect actual &&
	for t in web-staging web-canary; do
		ec2_aws --region us-west-2 ec2 describe-launch-template-versions --launch-template-name $t \
			--versions "\$Latest" "\$Default" >out &&
		jq -r --arg t $t ".LaunchTemplateVersions | unique_by(.VersionNumber)[]
			| [\$t, .VersionNumber, .DefaultVersion, .LaunchTemplateData.ImageId, .LaunchTemplateData.InstanceType] | @tsv" out || return 1
	done >actual &&
	printf "%s\t%s\t%s\t%s\t%s\n" web-staging 3 true $W1 t3.micro web-canary 1 true $W1 t3.small \
		web-canary 3 false $W1 t3.small >expect &&
	test_cmp expect actual
'

test_expect_success 'B no longer sees release 2 of A (release 1 still), nor C the copy B had shared' '
	ec2-describe images --role-arn $ROLE --owner $A >out &&
	jq -r .ImageId out >actual &&
	echo $R1 >expect &&
	test_cmp expect actual &&
	AWS_ACCESS_KEY_ID=AKIAAMICYCLEACCTC001 AWS_SECRET_ACCESS_KEY=amicycle-secret-c \
		ec2-describe images --owner $B >out &&
	test_line_count = 0 out
'

test_expect_success 'the audit log holds every call that changed something, and only those' '
	mutations | awk -F "\t" -v OFS="\t" "{ print \$1, \$2, \$3 }" >actual.requests &&
	jq -r --arg m "^($MUTATING)\$" "select(.Action | test(\$m)) | [.Action, .Region, (.DryRun | tostring)] | @tsv" \
		$D/audit.jsonl | sort >actual.audit &&
	test_cmp actual.requests actual.audit &&
	grep -c "	false$" actual.audit >n &&
	test "$(cat n)" -gt 0 &&
	for a in CreateTags EnableImageDeprecation DisableImage ModifyImageAttribute ModifySnapshotAttribute \
		PutParameter LabelParameterVersion CreateLaunchTemplateVersion ModifyLaunchTemplate; do
		grep -q "^$a	.*	false$" actual.audit || { echo "no $a in the audit log" >&2; return 1; }
	done &&
	! grep -q "^DeregisterImage	" actual.requests
'

test_expect_success 'run again: not one call that changes something' '
	images >before.again &&
	ec2_reset_counts &&
	revoke IMAGE=$R2 REASON=again >out 2>err &&
	mutations >actual &&
	test_line_count = 0 actual &&
	images >actual &&
	test_cmp before.again actual &&
	jq -r "select(.Revoke) | .Result.Status" $D/revoke.jsonl | sort -u >actual &&
	echo skipped >expect &&
	test_cmp expect actual &&
	test_grep "^amicycle: image-revoke: 0 channel(s) hold them" out
'

test_expect_success 'revoking release 1 now: no earlier good image for its channels, refused, nothing changed' '
	images >before.r1 &&
	channels >channels.r1 &&
	ec2_reset_counts &&
	test_expect_code 2 revoke IMAGE=$R1 >out 2>err &&
	test_grep "^amicycle: image-revoke: ssm-parameter $P (us-east-1, account $B): failed: no earlier image that is not revoked: $P left as it is$" out &&
	test_grep "^amicycle: image-revoke: launch-template lt-0a000000000000001 (us-west-2): failed: no earlier image that is not revoked: lt-0a000000000000001 left as it is$" out &&
	test_grep "^amicycle: image-revoke: launch-template lt-0a000000000000002 (us-west-2): failed: " out &&
	test_grep "^amicycle: image-revoke: a channel cannot be rolled back: nothing revoked, nothing changed$" err &&
	mutations | grep -v "	true$" >actual;
	test_line_count = 0 actual &&
	images >actual &&
	test_cmp before.r1 actual &&
	channels >actual &&
	test_cmp channels.r1 actual
'

$PYTHON -c "import yaml" 2>/dev/null && test_set_prereq YAML
test_expect_success YAML 'the example workflow'"'"'s step, as GitHub runs it: inputs only through the environment' '
	$PYTHON - "$SRC_DIR/share/examples/github-revoke.yml" <<-\EOF >step.sh &&
	import sys, yaml
	w = yaml.safe_load(open(sys.argv[1]))
	on = w[True] if True in w else w["on"]
	inputs = on["workflow_dispatch"]["inputs"]
	assert sorted(inputs) == ["dry_run", "git_sha", "image", "reason"], inputs
	job = w["jobs"]["revoke"]
	assert job["environment"] == "revoke" and w["permissions"]["id-token"] == "write"
	step = [s for s in job["steps"] if s.get("name") == "Revoke"][0]
	assert step["env"]["IMAGE"] == "${{ inputs.image }}" and step["env"]["REASON"] == "${{ inputs.reason }}"
	assert "${{" not in step["run"] and step["run"].startswith("make image-revoke "), step["run"]
	print(step["run"])
	EOF
	ec2_reset_counts &&
	(cd project && PATH=$AMICYCLE_BUILD/bin:$PATH IMAGE="\$(shell touch pwned)" GIT_SHA= REASON=x DRY_RUN= \
		test_expect_code 2 bash -e ../step.sh >../out 2>../err) &&
	test_grep "IMAGE .* is not an image id" err &&
	(cd project && PATH=$AMICYCLE_BUILD/bin:$PATH IMAGE=$R2 GIT_SHA= DRY_RUN=1 \
		REASON="\$(shell touch pwned) \"; touch pwned" bash -e ../step.sh >../out 2>../err) &&
	! test -e pwned && ! test -e project/pwned &&
	test_grep "^amicycle: image-revoke: plan (DRY_RUN: nothing changed)" out &&
	mutations >actual &&
	test_line_count = 0 actual
'

test_expect_success 'no secret in outputs, records or logs' '
	! grep -r amicycle-secret out err project/.amicycle "$EC2_DIR/log"
'

test_done
