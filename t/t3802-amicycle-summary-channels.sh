#!/bin/bash
# amicycle-summary over the channels and a revocation, from records the filters and make write
# against the local endpoint: publish puts release 1 of project web, then release 2, on the SSM
# parameter /amicycle/web/production of us-east-1 and us-west-2 (its copy there) and on the launch
# template web of us-east-1 (which us-west-2 has not: a failed row), then again (skipped), then a
# dry run; the Channels table says, cell by cell, what each channel holds now, the version made,
# what it held before and how it went. make image-revoke IMAGE=release 2, planned (DRY_RUN=1)
# then done, rolls the three channels back and revokes release 2 and its copy: its summary.md has
# the rollbacks in Channels (the AWS CLI reads the channels back as the table says) and the family
# in Revocations, the reason once above it, and counts both in the overview; revoking release 1
# then is refused, and its summary shows each channel failed. Hostile record text stays in its
# cell; an id of the wrong form in Published or Lineage is bad input.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

$PYTHON -c 'import markdown' 2>/dev/null || test_skip_all "no python3-markdown"

A=111111111111
P=/amicycle/web/production
R1=ami-0a000000000000001 R2=ami-0a000000000000002 W1=ami-0b000000000000001 W2=ami-0b000000000000002
LT=lt-0a000000000000001

# parse FILE: what a reader of the rendered FILE sees (t/markdown-parse.py), as JSON.
parse () {
	$PYTHON "$TEST_DIR"/markdown-parse.py "$1"
}
# rows SECTION <parsed: the rows of the section's table, header first, one TSV line each.
rows () {
	jq -r --arg s "$1" '.sections[$s][] | join("\t")'
}
# paragraphs SECTION <parsed: the section's paragraphs ("": those above the first section).
paragraphs () {
	jq -r --arg s "$1" '.paragraphs[$s][]'
}

# image ID SHA DATE MORE: an image of A's in project web, tagged GitSha=SHA; MORE: more members.
image () {
	printf '{"ImageId": "%s", "OwnerId": "%s", "Name": "web-%s", "CreationDate": "%s", "State": "available",
	  "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-%s"}}],
	  "Tags": [{"Key": "Project", "Value": "web"}, {"Key": "GitSha", "Value": "%s"}]%s}' \
		"$1" $A "$2" "$3" "${1#ami-}" "$2" "$4"
}
snapshot () {
	printf '{"SnapshotId": "snap-%s", "OwnerId": "%s", "VolumeSize": 8, "State": "completed"}' "${1#ami-}" $A
}
copy_of () {
	printf ', "SourceImageId": "%s", "SourceImageRegion": "us-east-1"' "$1"
}
cat >seed.json <<EOF || exit 1
{"AccountId": "$A",
 "Regions": {
  "us-east-1": {
   "Images": [$(image $R1 aaaa111 2026-11-01T00:00:00.000Z), $(image $R2 bbbb222 2026-11-20T00:00:00.000Z)],
   "Snapshots": [$(snapshot $R1), $(snapshot $R2)],
   "LaunchTemplates": [{"LaunchTemplateId": "$LT", "LaunchTemplateName": "web", "DefaultVersionNumber": 1,
     "Versions": [{"VersionNumber": 1, "LaunchTemplateData": {"ImageId": "$R1", "InstanceType": "t3.micro"}}]}]},
  "us-west-2": {
   "Images": [$(image $W1 aaaa111 2026-11-01T01:00:00.000Z "$(copy_of $R1)"),
    $(image $W2 bbbb222 2026-11-20T01:00:00.000Z "$(copy_of $R2)")],
   "Snapshots": [$(snapshot $W1), $(snapshot $W2)]}}}
EOF

# release SHA: the records of release SHA in both regions, as ec2-describe lists them.
release () {
	ec2-describe images --owner self --region us-east-1 --region us-west-2 \
		--filter "Name=tag:GitSha,Values=$1"
}

test_expect_success 'publish: release 1, then release 2, to the parameter; release 2 to the launch template; again; a dry run' '
	ec2_start seed.json &&
	release aaaa111 >r1.jsonl && release bbbb222 >r2.jsonl &&
	test_line_count = 2 r1.jsonl && test_line_count = 2 r2.jsonl &&
	publish --parameter $P --create r1.jsonl >p1.jsonl &&
	publish --parameter $P r2.jsonl >p2.jsonl &&
	test_expect_code 1 publish --launch-template web --set-default r2.jsonl >t2.jsonl 2>err &&
	test_grep "^publish: us-west-2: DescribeLaunchTemplates: InvalidLaunchTemplateName.NotFoundException: " err &&
	publish --parameter $P r2.jsonl >again.jsonl &&
	jq -c "select(.Region == \"us-east-1\")" r1.jsonl | publish --launch-template $LT --dry-run >dry.jsonl &&
	cat p1.jsonl p2.jsonl t2.jsonl again.jsonl dry.jsonl >published.jsonl &&
	jq -r .Result.Status published.jsonl | sort | uniq -c | awk "{ print \$2, \$1 }" >actual &&
	printf "%s\n" "done 5" "dry-run 1" "failed 1" "skipped 2" >expect &&
	test_cmp expect actual
'

test_expect_success 'the Channels table: what each channel holds now, the version made, what it held before, how it went' '
	amicycle-summary -t channels published.jsonl >summary.md &&
	parse summary.md >parsed &&
	rows Channels <parsed >actual &&
	cat >expect <<-EOF &&
	Channel	Account	Region	Image	Version	Previous	Status	Reason
	parameter $P	$A	us-east-1	$R1	1, label git-aaaa111		done	
	parameter $P	$A	us-west-2	$W1	1, label git-aaaa111		done	
	parameter $P	$A	us-east-1	$R2	2, label git-bbbb222	$R1 (version 1)	done	
	parameter $P	$A	us-west-2	$W2	2, label git-bbbb222	$W1 (version 1)	done	
	launch template web ($LT)	$A	us-east-1	$R2	2, default	$R1 (version 1)	done	
	$(jq -r "select(.Region == \"us-west-2\") | [\"\", \"$A\", \"us-west-2\", \"\", \"\", \"\", \"failed\", .Result.Reason] | @tsv" t2.jsonl)
	parameter $P	$A	us-east-1	$R2	2		skipped	already published: $P holds $R2 in us-east-1 (version 2)
	parameter $P	$A	us-west-2	$W2	2		skipped	already published: $P holds $W2 in us-west-2 (version 2)
	launch template web ($LT)	$A	us-east-1	$R1	3, not default	$R2 (version 2)	dry-run	
	EOF
	test_cmp expect actual &&
	jq -r "select(.Region == \"us-west-2\") | .Result.Reason" t2.jsonl >reason &&
	test_grep "InvalidLaunchTemplateName.NotFoundException" reason &&
	paragraphs "" <parsed >actual &&
	echo "9 channel updates (5 done, 1 dry-run, 2 skipped, 1 failed)" >expect &&
	test_cmp expect actual &&
	jq -r ".sections | keys[]" parsed >actual &&
	echo Channels >expect &&
	test_cmp expect actual
'

test_expect_success 'the same records read twice: one row each' '
	amicycle-summary -t channels published.jsonl published.jsonl >twice.md &&
	parse twice.md >parsed.twice &&
	rows Channels <parsed.twice >actual &&
	rows Channels <parsed >expect &&
	test_cmp expect actual
'

mkdir project &&
cat >project/Makefile <<EOF || exit 1
AMICYCLE_PROJECT = web
AMICYCLE_REGIONS = us-east-1
AMICYCLE_PROMOTE_REGIONS = us-west-2
include $SRC_DIR/mk/amicycle.mk
EOF
D=project/.amicycle
# The reason, written to leave its line: a cell (|), into code, HTML, a link, emphasis, math.
WHY='CVE-2026-0001 | `openssl` <b>bad</b> [x](javascript:y) *a* _b_ $c$ & \ ~d~'

test_expect_success 'make image-revoke DRY_RUN=1: its summary.md plans the same rows, nothing done' '
	PATH=$AMICYCLE_BUILD/bin:$PATH make --no-print-directory -C project image-revoke IMAGE=$R2 DRY_RUN=1 >out 2>err &&
	parse $D/summary.md >parsed.dry &&
	paragraphs "" <parsed.dry >actual &&
	echo "3 channel updates (3 dry-run) · 2 revocations (2 dry-run)" >expect &&
	test_cmp expect actual &&
	rows Channels <parsed.dry | sed 1d | cut -f 1,3,4,6,7 >actual &&
	printf "%s\t%s\t%s\t%s\tdry-run\n" "parameter $P" us-east-1 $R1 "$R2 (version 2)" \
		"parameter $P" us-west-2 $W1 "$W2 (version 2)" "launch template web ($LT)" us-east-1 $R1 "$R2 (version 2)" >expect &&
	test_cmp expect actual &&
	rows Revocations <parsed.dry | sed 1d | cut -f 1,6-10 >actual &&
	printf "%s\tdry-run\tdry-run\tskipped\tdry-run\tdry-run\n" $R2 $W2 >expect &&
	test_cmp expect actual &&
	jq -r ".paragraphs.Revocations // [] | length" parsed.dry >actual &&
	echo 0 >expect &&
	test_cmp expect actual &&
	rm $D/audit.jsonl
'

test_expect_success 'make image-revoke: the channels rolled back, the family revoked; summary.md says so' '
	PATH=$AMICYCLE_BUILD/bin:$PATH make --no-print-directory -C project image-revoke IMAGE=$R2 REASON="$WHY" >out 2>err &&
	test_grep "^amicycle: image-summary: .amicycle/summary.md$" out &&
	parse $D/summary.md >parsed.revoke &&
	jq -r ".sections | keys[]" parsed.revoke >actual &&
	printf "%s\n" "Changes (audit log)" Channels Revocations >expect &&
	test_cmp expect actual &&
	paragraphs "" <parsed.revoke >actual &&
	echo "3 channel updates (3 done) · 2 revocations (2 done)" >expect &&
	test_cmp expect actual
'

test_expect_success 'the Revocations table: each image of the family, its lineage, each step; the reason once, above it' '
	paragraphs Revocations <parsed.revoke >actual &&
	printf "Reason: %s\n" "$WHY" >expect &&
	test_cmp expect actual &&
	rows Revocations <parsed.revoke >actual &&
	cat >expect <<-EOF &&
	Image	Region	Account	Root	Depth	Tag	Deprecate	Share	Disable	Status
	$R2	us-east-1	$A	$R2	0	done	done	skipped	done	done
	$W2	us-west-2	$A	$R2	1	done	done	skipped	done	done
	EOF
	test_cmp expect actual &&
	jq -r "select(.Revoke) | [.ImageId, .Region, .OwnerId, .Lineage.Root, .Lineage.Depth,
		.Revoke.Tag, .Revoke.Deprecate, .Revoke.Share, .Revoke.Disable, .Result.Status] | @tsv" $D/revoke.jsonl >records &&
	sed 1d actual >rows &&
	test_cmp records rows
'

test_expect_success 'the Channels table of the revoke: each channel back to release 1, from release 2' '
	rows Channels <parsed.revoke >actual &&
	cat >expect <<-EOF &&
	Channel	Account	Region	Image	Version	Previous	Status	Reason
	parameter $P	$A	us-east-1	$R1	3, label git-aaaa111	$R2 (version 2)	done	$P in us-east-1 back from $R2 (version 2) to $R1 (version 1)
	parameter $P	$A	us-west-2	$W1	3, label git-aaaa111	$W2 (version 2)	done	$P in us-west-2 back from $W2 (version 2) to $W1 (version 1)
	launch template web ($LT)	$A	us-east-1	$R1	3, default	$R2 (version 2)	done	$LT in us-east-1 back from $R2 (version 2, default and latest) to $R1 (version 1), as version 3, the default
	EOF
	test_cmp expect actual
'

test_expect_success AWSCLI 'the AWS CLI reads back what the tables say: the channels, the images and their reason' '
	rows Channels <parsed.revoke | sed 1d | cut -f 1,3,4,5 >table &&
	for r in us-east-1 us-west-2; do
		ec2_aws --region $r ssm get-parameters --names $P >got &&
		jq -r --arg r $r ".Parameters[] | [\"parameter \" + .Name, \$r, .Value,
			\"\(.Version), label git-aaaa111\"] | @tsv" got || return 1
	done >expect &&
	ec2_aws ec2 describe-launch-template-versions --launch-template-id $LT --versions "\$Default" >got &&
	jq -r ".LaunchTemplateVersions[] | [\"launch template \(.LaunchTemplateName) (\(.LaunchTemplateId))\",
		\"us-east-1\", .LaunchTemplateData.ImageId, \"\(.VersionNumber), default\"] | @tsv" got >>expect &&
	test_cmp expect table &&
	ec2_aws_model ec2 describe-images --owners self --include-disabled --image-ids $R2 >got &&
	ec2_aws_model --region us-west-2 ec2 describe-images --owners self --include-disabled --image-ids $W2 >>got &&
	jq -r ".Images[] | [.ImageId, .State, (.Tags | from_entries | .RevokedReason)] | join(\"\\t\")" got >actual &&
	printf "%s\tdisabled\t%s\n" $R2 "$WHY" $W2 "$WHY" >expect &&
	test_cmp expect actual
'

test_expect_success 'revoking release 1 now is refused: each channel that cannot go back failed, with the reason naming it (publish writes no Published then); no Revocations' '
	test_expect_code 2 env PATH=$AMICYCLE_BUILD/bin:$PATH make --no-print-directory -C project image-revoke IMAGE=$R1 >out 2>err &&
	parse $D/summary.md >parsed.refused &&
	jq -r ".sections | keys[]" parsed.refused >actual &&
	printf "%s\n" "Changes (audit log)" Channels >expect &&
	test_cmp expect actual &&
	rows Channels <parsed.refused | sed 1d | awk -F "\t" "\$7 == \"failed\" { print \$1 \"\t\" \$3 \"\t\" \$8 }" >actual &&
	printf "\t%s\t%s\n" us-east-1 "no earlier image that is not revoked: $P left as it is" \
		us-west-2 "no earlier image that is not revoked: $P left as it is" \
		us-east-1 "no earlier image that is not revoked: $LT left as it is" >expect &&
	test_cmp expect actual
'

# Record text written to break out of its cell, its line, into code, HTML and the like.
hostile='x | y `z` <script>alert(1)</script> [a](javascript:b) *c* _d_ $e$ & \ f
g
```'

test_expect_success 'hostile record text stays inside its table cell and its line' '
	jq -n -c --arg h "$hostile" "
		{ImageId: \"$R1\", Region: \"us-east-1\", OwnerId: \$h,
		 Published: {Parameter: \$h, Version: 2, Label: \$h, PreviousVersion: 1, PreviousImageId: \"$R2\"},
		 Result: {Action: \"publish\", Status: \$h, Reason: \$h}},
		{ImageId: \"$R1\", Region: \"us-east-1\",
		 Published: {LaunchTemplateName: \$h, LaunchTemplateId: \"$LT\", VersionNumber: 4, Default: false},
		 Result: {Action: \"publish\", Status: \"done\"}},
		{ImageId: \"$R2\", Region: \"us-east-1\", OwnerId: \$h,
		 Tags: [{Key: \"RevokedReason\", Value: \$h}], Lineage: {Root: \"$R2\", Parent: null, Depth: 0},
		 Revoke: {Tag: \$h, Deprecate: \"done\", Share: null, Disable: \$h},
		 Result: {Action: \"image-revoke\", Status: \"failed\"}}
	" >hostile.jsonl &&
	amicycle-summary -t "$hostile" hostile.jsonl >summary.md &&
	parse summary.md >parsed &&
	flat=$(printf "%s" "$hostile" | tr "\n" " ") &&
	rows Channels <parsed | sed 1d >actual &&
	printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" \
		"parameter $flat" "$flat" us-east-1 $R1 "2, label $flat" "$R2 (version 1)" "$flat" "$flat" \
		"launch template $flat ($LT)" "" us-east-1 $R1 "4, not default" "" done "" >expect &&
	test_cmp expect actual &&
	paragraphs Revocations <parsed >actual &&
	printf "Reason: %s\n" "$flat" >expect &&
	test_cmp expect actual &&
	rows Revocations <parsed | sed 1d >actual &&
	printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" \
		$R2 us-east-1 "$flat" $R2 0 "$flat" done "not run" "$flat" failed >expect &&
	test_cmp expect actual &&
	paragraphs "" <parsed >actual &&
	echo "2 channel updates (1 done, 1 failed) · 1 revocation (1 failed)" >expect &&
	test_cmp expect actual &&
	jq -r ".html_tags[]" parsed | sort -u >tags &&
	printf "%s\n" h1 h2 p table tbody td th thead tr >expect &&
	test_cmp expect tags
'

test_expect_success 'an id of the wrong form in Published or Lineage: FILE:LINE, exit 3, nothing printed' '
	for bad in "{\"Published\": {\"Parameter\": \"$P\", \"ImageId\": \"ami-x | y\"}}" \
		"{\"Published\": {\"Parameter\": \"$P\", \"PreviousImageId\": \"i-0123456789abcdef0\"}}" \
		"{\"Published\": {\"LaunchTemplateId\": \"lt-<b>\"}}" \
		"{\"Revoke\": {}, \"Lineage\": {\"Root\": \"$R2\", \"Parent\": \"ami-0a00000000000000g\"}}" \
		"{\"Revoke\": {}, \"Lineage\": {\"Root\": \"x\"}}"; do
		{ echo "{\"ImageId\": \"$R1\", \"Region\": \"us-east-1\"}" &&
		  jq -c --argjson b "$bad" ". + \$b" <<-EOF
		{"ImageId": "$R1", "Region": "us-east-1", "Result": {"Action": "publish", "Status": "done"}}
		EOF
		} >bad.jsonl &&
		test_expect_code 3 amicycle-summary bad.jsonl >out 2>err &&
		test_line_count = 0 out &&
		test_line_count = 1 err &&
		test_grep "^amicycle-summary: bad.jsonl:2: [A-Za-z]* .* is not an id" err || return 1
	done
'

test_done
