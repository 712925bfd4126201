#!/bin/bash
# amicycle-summary over the records a real run leaves: the fragments against the local endpoint
# and sshd build nothing but test two images, promote them, clean up; the Markdown they write is
# read back with a real Markdown parser (python-markdown, tables and fenced code as GitHub has
# them), and the Mermaid diagram's nodes and edges are counted against what the records imply.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-sshd.sh
. "$TEST_DIR"/lib-pipeline.sh

test_have_prereq SSHD || test_skip_all "no sshd"
$PYTHON -c 'import markdown' 2>/dev/null || test_skip_all "no python3-markdown"

# parse FILE: what a reader of the rendered FILE sees (t/markdown-parse.py), as JSON.
parse () {
	$PYTHON "$TEST_DIR"/markdown-parse.py "$1"
}

# rows SECTION <parsed: the rows of the section's table, header first, one TSV line each.
rows () {
	jq -r --arg s "$1" '.sections[$s][] | join("\t")'
}

# mermaid <parsed: the diagram's text.
mermaid () {
	jq -j '.code[] | select(.lang == "mermaid") | .text'
}

# nodes / edges <diagram: its node definitions and its edges, one a line.
nodes () {
	grep -E '^  [a-z][0-9]+[[({>]' || :
}
edges () {
	grep -E '^  [a-z][0-9]+ --> [a-z][0-9]+$' || :
}

test_expect_success 'a project in two build regions, promoting to a third' '
	pipeline_setup "$TRASH/project" us-east-1 us-west-2 &&
	sed -i "/^include/i\\
AMICYCLE_COPY_FLAGS = --name {name}-from-{source_region}" "$PIPELINE_DIR/Makefile" &&
	D=$TRASH/project/.amicycle &&
	printf "%s\n" "# Step summary" "written by an earlier command of the step" >step.md &&
	cp step.md step.before
'

test_expect_success 'image-test writes .amicycle/summary.md and appends it to GITHUB_STEP_SUMMARY' '
	GITHUB_STEP_SUMMARY=$TRASH/step.md pipeline_make image-test >out 2>err &&
	test_grep "^amicycle: image-summary: .amicycle/summary.md and the step summary$" out &&
	test -s "$D/summary.md" &&
	head -n 2 step.md >actual &&
	test_cmp step.before actual &&
	sed -n "3,\$p" step.md >block &&
	{ echo "<!-- amicycle-summary: begin -->" && cat "$D/summary.md" &&
	  echo "<!-- amicycle-summary: end -->"; } >expect &&
	test_cmp expect block
'

test_expect_success 'the built images: one row each, with the manifest'\''s git sha' '
	parse "$D/summary.md" >parsed &&
	jq -r .title parsed >actual &&
	echo "amicycle: demo" >expect &&
	test_cmp expect actual &&
	rows "Built images" <parsed >actual &&
	{ printf "Region\tImage\tName\tGit sha\tBuild URL\n" &&
	  jq -r "[.Region, .ImageId, \"\", .Packer.CustomData.git_sha, \"\"] | @tsv" "$D/images.jsonl"; } >expect &&
	test_cmp expect actual &&
	test_line_count = 3 actual
'

test_expect_success 'the tests: one row per check and instance, passed, with a duration' '
	rows Tests <parsed >actual &&
	head -n 1 actual >header &&
	printf "Region\tImage\tInstance\tCheck\tResult\tDuration\tReason\n" >expect &&
	test_cmp expect header &&
	jq -r --slurpfile i "$D/test-instances.jsonl" ".InstanceId as \$id | (\$i[] | select(.InstanceId == \$id)) as \$in
		| [\$in.Region, \$in.ImageId, \$id, .Check, \"✅ pass\"] | @tsv" "$D/test-results.jsonl" | sort >expect &&
	sed 1d actual | cut -f 1-5 | sort >cells &&
	test_cmp expect cells &&
	test_line_count = 8 cells &&
	sed 1d actual | cut -f 6 >durations &&
	! grep -v -E "^[0-9]+ ms$|^[0-9]+\.[0-9] s$" durations
'

test_expect_success 'no promotion, cleanup or lineage of copies yet' '
	jq -r ".sections | keys[]" parsed >actual &&
	printf "%s\n" "Built images" "Changes (audit log)" "Lineage" Tests >expect &&
	test_cmp expect actual
'

test_expect_success 'image-promote: the step summary holds one summary, the newest' '
	GITHUB_STEP_SUMMARY=$TRASH/step.md pipeline_make image-promote ENV=staging >out 2>err &&
	head -n 2 step.md >actual &&
	test_cmp step.before actual &&
	grep -c "^<!-- amicycle-summary: begin -->$" step.md >count &&
	echo 1 >expect &&
	test_cmp expect count &&
	sed -n "3,\$p" step.md >block &&
	{ echo "<!-- amicycle-summary: begin -->" && cat "$D/summary.md" &&
	  echo "<!-- amicycle-summary: end -->"; } >expect &&
	test_cmp expect block
'

test_expect_success 'the promotions: each image tagged in place, and each copy, with its account' '
	parse "$D/summary.md" >parsed &&
	rows Promotions <parsed >actual &&
	{ printf "Environment\tAccount\tRegion\tImage\tCopied from\tStatus\n" &&
	  jq -r "[\"staging\", \"\", .Region, .ImageId, \"\", .Result.Status] | @tsv" "$D/promoted-staging.jsonl" | sort -t "	" -k 3 &&
	  jq -r "[\"staging\", .OwnerId, .Region, .ImageId, \"\(.SourceImageId) in \(.SourceRegion)\", .Result.Status] | @tsv" \
		"$D"/promoted-staging-*.jsonl | sort -t "	" -k 4; } >expect &&
	test_cmp expect actual &&
	test_line_count = 5 actual
'

test_expect_success 'the lineage: commit, build, images, copies, environment, as the records say' '
	mermaid <parsed >diagram &&
	head -n 1 diagram >first &&
	echo "flowchart LR" >expect &&
	test_cmp expect first &&
	commits=$(jq -r .Packer.CustomData.git_sha "$D/images.jsonl" | sort -u | wc -l) &&
	builds=$(jq -r .Packer.RunUuid "$D/images.jsonl" | sort -u | wc -l) &&
	images=$(wc -l <"$D/images.jsonl") &&
	copies=$(jq -r "select(.Result.Status == \"done\") | .ImageId" "$D"/promoted-staging-*.jsonl | wc -l) &&
	envs=1 &&
	test "$commits" = 1 && test "$builds" = 1 && test "$images" = 2 && test "$copies" = 2 &&
	nodes <diagram >n &&
	test_line_count = $((commits + builds + images + copies + envs)) n &&
	edges <diagram >e &&
	test_line_count = $((builds + images + copies + images + copies)) e &&
	grep -c "^  e[0-9]*>\"staging\"\]$" n >count &&
	echo 1 >expect &&
	test_cmp expect count &&
	for id in $(jq -r .ImageId "$D/images.jsonl" "$D"/promoted-staging-*.jsonl); do
		grep -F "\"$id<br>" n >/dev/null || { echo "$id: no node" >&2; return 1; }
	done
'

test_expect_success 'every edge joins nodes the diagram defines, each edge once' '
	sed -E "s/^  ([a-z][0-9]+).*/\1/" n | sort >defined &&
	sort -u defined >defined.u &&
	test_cmp defined.u defined &&
	sed -E "s/^  ([a-z0-9]+) --> ([a-z0-9]+)$/\1\n\2/" e | sort -u >used &&
	comm -23 used defined >undefined &&
	test_line_count = 0 undefined &&
	sort e >e.s && sort -u e >e.u &&
	test_cmp e.u e.s
'

test_expect_success 'image-cleanup: the retired, the skipped with the reason, the kept' '
	pipeline_make image-cleanup >out 2>err &&
	parse "$D/summary.md" >parsed &&
	rows Cleanup <parsed >actual &&
	printf "Region\tImage\tName\tCreated\tOutcome\tReason\n" >expect &&
	head -n 1 actual >header &&
	test_cmp expect header &&
	jq -r "select(.Result.Status == \"done\") | [.Region, .ImageId, \"retired\"] | @tsv" \
		"$D"/cleanup-*.jsonl | sort >expect &&
	awk -F "	" "\$5 == \"retired\" { print \$1 \"	\" \$2 \"	\" \$5 }" actual | sort >retired &&
	test_cmp expect retired &&
	test_line_count = 10 retired &&
	jq -r "select(.Result.Status == \"skipped\") | [.Region, .ImageId, .Name, \"skipped\", .Result.Reason] | @tsv" \
		"$D"/cleanup-*.jsonl | sort >expect &&
	awk -F "	" "\$5 == \"skipped\" { print \$1 \"	\" \$2 \"	\" \$3 \"	\" \$5 \"	\" \$6 }" actual | sort >skipped &&
	test_cmp expect skipped &&
	test_grep "used by instance i-" skipped &&
	jq -r "[.Region, .ImageId] | @tsv" "$D"/images-*.jsonl | sort >listed &&
	jq -r "[.Region, .ImageId] | @tsv" "$D"/cleanup-*.jsonl | sort >acted &&
	comm -23 listed acted >expect &&
	awk -F "	" "\$5 == \"kept\" { print \$1 \"	\" \$2 }" actual | sort >kept &&
	test_cmp expect kept &&
	sed 1d actual | wc -l >count &&
	sort -u listed acted | wc -l >expect &&
	test_cmp expect count
'

test_expect_success 'the audit log: every call counted once, by program, action and region' '
	rows "Changes (audit log)" <parsed >actual &&
	jq -r "[.Program, .Action, .Region] | @tsv" "$D/audit.jsonl" | sort | uniq -c |
		awk "{ print \$2 \"	\" \$3 \"	\" \$4 \"	\" \$1 \"	0	0\" }" | sort >expect &&
	sed 1d actual | sort >counts &&
	test_cmp expect counts
'

test_expect_success 'make image-summary writes the file anew, with the records it finds' '
	rm "$D/summary.md" &&
	pipeline_make image-summary >out 2>err &&
	test_grep "^amicycle: image-summary: .amicycle/summary.md$" out &&
	PATH=$AMICYCLE_BUILD/bin:$PATH amicycle-summary -t "amicycle: demo" "$D"/*.jsonl >expect &&
	test_cmp expect "$D/summary.md"
'

test_expect_success 'a copy that fails: make fails, the summary shows the failure and its reason' '
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"CopyImage\",\"Region\":\"eu-central-1\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"You are not authorized to perform this operation.\",\"Status\":403,\"Count\":10}" &&
	GITHUB_STEP_SUMMARY=$TRASH/step.md test_must_fail pipeline_make image-promote ENV=qa \
		AMICYCLE_PROMOTE_REGIONS=eu-central-1 >out 2>err &&
	! test -f "$D/promoted-qa-eu-central-1.jsonl" &&
	parse "$D/summary.md" >parsed &&
	rows Promotions <parsed | awk -F "	" "\$3 == \"eu-central-1\" { print \$1 \"	\" \$6 }" >actual &&
	test_line_count = 2 actual &&
	! grep -v "^qa	failed: .*UnauthorizedOperation: You are not authorized to perform this operation" actual &&
	grep -c "^<!-- amicycle-summary: begin -->$" step.md >count &&
	echo 1 >expect &&
	test_cmp expect count &&
	head -n 2 step.md >actual &&
	test_cmp step.before actual
'

test_expect_success 'a failing check: make fails, and the summary says which check failed' '
	rm -rf "$D" &&
	echo "{\"Name\":\"the service\",\"Run\":\"exit 3\"}" >>"$TRASH/project/checks.jsonl" &&
	test_must_fail pipeline_make image-test >out 2>err &&
	test_grep "image-test: FAILED" out &&
	! test -f "$D/tested.jsonl" &&
	parse "$D/summary.md" >parsed &&
	rows Tests <parsed | awk -F "	" "\$4 == \"the service\" { print \$5 }" >actual &&
	printf "%s\n" "❌ fail" "❌ fail" >expect &&
	test_cmp expect actual &&
	sed -i "\$d" "$TRASH/project/checks.jsonl"
'

# Records whose text is written to break out: of a cell (|), into code (`), HTML, new lines,
# the code block around the diagram (```) and its labels ("] -->).
hostile='x | y `z` <script>alert(1)</script> [a](javascript:b) *c* _d_ $e$ & \ f
g
```
"]
  i0 --> e0'

test_expect_success 'hostile record text stays inside its table cell and its label' '
	jq -n -c --arg h "$hostile" "
		{ImageId: \"ami-0123456789abcdef0\", Region: \"us-east-1\", Name: \$h,
		 Packer: {BuildName: \$h, RunUuid: \$h, CustomData: {git_sha: \$h, build_url: \$h}}},
		{InstanceId: \"i-0123456789abcdef0\", Region: \"us-east-1\", ImageId: \"ami-0123456789abcdef0\"},
		{InstanceId: \"i-0123456789abcdef0\", Check: \$h, DurationMs: 5, Passed: false, Reason: \$h},
		{ImageId: \"ami-0123456789abcdef0\", Region: \"us-east-1\",
		 Tags: [{Key: \"Environment\", Value: \$h}], Result: {Action: \"tag\", Status: \"done\"}},
		{ImageId: \"ami-0fedcba9876543210\", Region: \"eu-west-1\", OwnerId: \$h,
		 SourceImageId: \"ami-0123456789abcdef0\", SourceRegion: \"us-east-1\",
		 Tags: [{Key: \"Environment\", Value: \$h}], Result: {Action: \"copy-image\", Status: \"done\"}},
		{ImageId: \"ami-01111111111111111\", Region: \"us-east-1\", Name: \$h,
		 Result: {Action: \"deregister\", Status: \"skipped\", Reason: \$h}},
		{Time: \"2026-01-01T00:00:00.000Z\", Program: \$h, Region: \$h, Action: \$h, Outcome: \"failed\"}
	" >hostile.jsonl &&
	amicycle-summary -t "$hostile" hostile.jsonl >summary.md &&
	parse summary.md >parsed &&
	flat=$(printf "%s" "$hostile" | tr "\n" " ") &&
	jq -r .title parsed >actual &&
	printf "%s\n" "$flat" >expect &&
	test_cmp expect actual &&
	rows "Built images" <parsed >actual &&
	printf "%s\t%s\t%s\t%s\t%s\n" Region Image Name "Git sha" "Build URL" \
		us-east-1 ami-0123456789abcdef0 "$flat" "$flat" "$flat" >expect &&
	test_cmp expect actual &&
	rows Tests <parsed | sed 1d >actual &&
	printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n" us-east-1 ami-0123456789abcdef0 i-0123456789abcdef0 \
		"$flat" "❌ fail" "5 ms" "$flat" >expect &&
	test_cmp expect actual &&
	rows Promotions <parsed | sed 1d >actual &&
	printf "%s\t%s\t%s\t%s\t%s\t%s\n" \
		"$flat" "" us-east-1 ami-0123456789abcdef0 "" done \
		"$flat" "$flat" eu-west-1 ami-0fedcba9876543210 "ami-0123456789abcdef0 in us-east-1" done >expect &&
	test_cmp expect actual &&
	rows Cleanup <parsed | sed 1d >actual &&
	printf "%s\t%s\t%s\t%s\t%s\t%s\n" us-east-1 ami-01111111111111111 "$flat" "" skipped "$flat" >expect &&
	test_cmp expect actual &&
	rows "Changes (audit log)" <parsed | sed 1d >actual &&
	printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$flat" "$flat" "$flat" 0 0 1 >expect &&
	test_cmp expect actual &&
	jq -r ".html_tags[]" parsed | sort -u >tags &&
	printf "%s\n" code h1 h2 p pre table tbody td th thead tr >expect &&
	test_cmp expect tags
'

test_expect_success 'hostile text: one mermaid block, its nodes and edges as the records imply' '
	jq -r ".code | length" parsed >actual &&
	echo 1 >expect &&
	test_cmp expect actual &&
	mermaid <parsed >diagram &&
	nodes <diagram >n &&
	test_line_count = 5 n &&
	edges <diagram >e &&
	test_line_count = 5 e &&
	sed 1d diagram >body &&
	nodes <body >defs && edges <body >links &&
	cat defs links >known &&
	test_cmp body known &&
	! grep -F "\`" diagram &&
	! grep -F "<script" diagram &&
	grep "^  c0" n >commit &&
	test_grep "^  c0{{\"commit x #124; y #96;z#96; #60;script#62;alert#40;1#41;" commit
'

test_expect_success 'bad input: FILE:LINE, exit 3, nothing printed' '
	printf "%s\n" "{\"ImageId\":\"ami-0123456789abcdef0\",\"Region\":\"us-east-1\"}" "not json" >bad.jsonl &&
	test_expect_code 3 amicycle-summary hostile.jsonl bad.jsonl >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^amicycle-summary: bad.jsonl:2: " err &&
	test_line_count = 1 err &&
	echo "{\"ImageId\":\"ami-x | y\",\"Region\":\"us-east-1\"}" >badid.jsonl &&
	test_expect_code 3 amicycle-summary badid.jsonl >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^amicycle-summary: badid.jsonl:1: ImageId .* is not an id" err &&
	echo "{\"ImageId\":\"ami-0123456789abcdef0\",\"Region\":\"us-east-1 | x\"}" >badregion.jsonl &&
	test_expect_code 3 amicycle-summary badregion.jsonl >out 2>err &&
	test_grep "^amicycle-summary: badregion.jsonl:1: Region is not a region name$" err
'

test_expect_success 'no records: the heading and one line saying so; stdin by default' '
	amicycle-summary </dev/null >actual &&
	printf "%s\n" "# amicycle" "" "No records of a run." >expect &&
	test_cmp expect actual
'

test_done
