#!/bin/bash
# The cleanup spread over many accounts and regions: `make image-cleanup-matrix` in the example
# project, over its accounts.jsonl, read back as GitHub Actions and GitLab read it (JSON for
# fromJSON, YAML for parallel:matrix); the example workflows' own steps that make and consume the
# matrix run as written, and every matrix field their jobs reference is in what they get. A bad
# accounts file is exit 3 naming FILE:LINE, with nothing printed. The approval-gated promotion
# jobs of both workflows are checked as CI would run them.
. "$(dirname "$0")"/test-lib.sh

$PYTHON -c 'import yaml' 2>/dev/null || test_skip_all "no python3-yaml"

EX=$SRC_DIR/share/examples

# The example project as a user has it: its Makefile, its accounts file, amicycle as a submodule.
test_expect_success 'the example project, with amicycle in amicycle/' '
	mkdir -p project &&
	cp "$EX/Makefile" "$EX/accounts.jsonl" project/ &&
	ln -s "$SRC_DIR" project/amicycle &&
	test_line_count -ge 2 project/accounts.jsonl
'

# The jobs an accounts file means, as jq reads it: one per account and region, in file order.
expected_jobs () {
	jq -n -c '[inputs | . as $a | .Regions[] |
		{account: $a.Account, role: $a.Role, region: ., environment: $a.Environment}]' "$1"
}

test_expect_success 'GitHub: one line of JSON, {"include":[...]}, a job per account and region' '
	make --no-print-directory -C project image-cleanup-matrix >out 2>err &&
	test_line_count = 0 err &&
	test_line_count = 1 out &&
	$PYTHON - out <<-\EOF &&
	import json, sys
	m = json.load(open(sys.argv[1]))
	assert list(m) == ["include"], m
	assert isinstance(m["include"], list) and 0 < len(m["include"]) <= 256
	for job in m["include"]:
	    assert sorted(job) == ["account", "environment", "region", "role"], job
	    assert all(isinstance(v, str) and v for v in job.values()), job
	EOF
	expected_jobs project/accounts.jsonl >expect &&
	jq -c .include out >actual &&
	test_cmp expect actual &&
	jq -r ".include | length" out >n &&
	jq -n "[inputs.Regions | length] | add" project/accounts.jsonl >expect &&
	test_cmp expect n
'

test_expect_success 'GitLab: YAML, parallel:matrix, the same jobs as variables' '
	make --no-print-directory -C project image-cleanup-matrix AMICYCLE_MATRIX=gitlab >out 2>err &&
	test_line_count = 0 err &&
	$PYTHON - out <<-\EOF >actual &&
	import json, re, sys, yaml
	m = yaml.safe_load(open(sys.argv[1]))
	assert list(m) == ["parallel"] and list(m["parallel"]) == ["matrix"], m
	jobs = m["parallel"]["matrix"]
	assert isinstance(jobs, list) and 0 < len(jobs) <= 200
	for job in jobs:
	    assert all(re.fullmatch("[A-Za-z_][A-Za-z0-9_]*", k) for k in job), job
	    assert all(isinstance(v, str) and v for v in job.values()), job
	print(json.dumps([{k.lower(): v for k, v in j.items()} for j in jobs], separators=(",", ":")))
	EOF
	expected_jobs project/accounts.jsonl >expect &&
	test_cmp expect actual
'

test_expect_success 'the workflows are valid YAML with the jobs expected' '
	$PYTHON - "$EX/github-workflow.yml" "$EX/gitlab-ci.yml" <<-\EOF
	import sys, yaml
	gh = yaml.safe_load(open(sys.argv[1]))
	assert list(gh["jobs"]) == ["validate", "build-test-promote", "promote-production",
	                            "cleanup-matrix", "cleanup"], list(gh["jobs"])
	gl = yaml.safe_load(open(sys.argv[2]))
	for job in ["validate", "build-test-promote", "promote-production", "cleanup-matrix",
	            "cleanup", ".cleanup-account"]:
	    assert job in gl, job
	for name, job in gl.items():
	    if isinstance(job, dict) and "stage" in job:
	        assert job["stage"] in gl["stages"], (name, job["stage"])
	EOF
'

test_expect_success 'GitHub: the cleanup-matrix job'"'"'s step, run as written, feeds the cleanup job every matrix field it uses' '
	$PYTHON - "$EX/github-workflow.yml" <<-\EOF >step.sh &&
	import sys, yaml
	w = yaml.safe_load(open(sys.argv[1]))
	job = w["jobs"]["cleanup-matrix"]
	step = [s for s in job["steps"] if s.get("id") == "matrix"][0]
	assert job["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}", job["outputs"]
	assert w["jobs"]["cleanup"]["needs"] == "cleanup-matrix"
	assert w["jobs"]["cleanup"]["strategy"]["matrix"] == \
	    "${{ fromJSON(needs.cleanup-matrix.outputs.matrix) }}", w["jobs"]["cleanup"]["strategy"]
	print(step["run"])
	EOF
	: >github-output &&
	(cd project && GITHUB_OUTPUT=$TRASH/github-output bash -e "$TRASH/step.sh") >out 2>err &&
	test_line_count = 0 err &&
	test_line_count = 1 github-output &&
	sed -n "s/^matrix=//p" github-output >matrix.json &&
	test_line_count = 1 matrix.json &&
	expected_jobs project/accounts.jsonl >expect &&
	jq -c .include matrix.json >actual &&
	test_cmp expect actual &&
	$PYTHON - "$EX/github-workflow.yml" matrix.json <<-\EOF
	import json, re, sys, yaml
	text = open(sys.argv[1]).read()
	w = yaml.safe_load(text)
	m = json.load(open(sys.argv[2]))
	# matrix.X in an expression, not steps.matrix.outputs or needs.cleanup-matrix.outputs.
	ref = re.compile(r"(?<![\w.-])matrix\.([A-Za-z_][A-Za-z0-9_-]*)")
	used = set(ref.findall(yaml.safe_dump(w["jobs"]["cleanup"])))
	assert {"role", "region"} <= used, used
	for job in m["include"]:
	    missing = used - set(job)
	    assert not missing, ("not in the matrix", missing)
	# Only the cleanup job has a matrix: no other job may reference one.
	for name, job in w["jobs"].items():
	    if name != "cleanup":
	        assert not ref.findall(yaml.safe_dump(job)), name
	steps = w["jobs"]["cleanup"]["steps"]
	creds = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
	assert creds[0]["with"] == {"role-to-assume": "${{ matrix.role }}", "aws-region": "${{ matrix.region }}"}
	assert any(s.get("run", "").startswith("make image-cleanup ") and
	           "AMICYCLE_CLEANUP_REGIONS=${{ matrix.region }}" in s["run"] for s in steps), steps
	EOF
'

test_expect_success 'GitLab: the cleanup-matrix job'"'"'s script, run as written, makes a child pipeline whose jobs get every variable they use' '
	$PYTHON - "$EX/gitlab-ci.yml" <<-\EOF >script.sh &&
	import sys, yaml
	w = yaml.safe_load(open(sys.argv[1]))
	job = w["cleanup-matrix"]
	trig = w["cleanup"]["trigger"]
	assert trig["include"] == [{"artifact": job["artifacts"]["paths"][0], "job": "cleanup-matrix"}], trig
	assert w["cleanup"]["needs"] == ["cleanup-matrix"]
	print("\n".join(job["script"]))
	EOF
	cp "$EX/gitlab-ci.yml" project/.gitlab-ci.yml &&
	(cd project && bash -e -o pipefail "$TRASH/script.sh") >out 2>err &&
	test_line_count = 0 err &&
	$PYTHON - project/cleanup.yml project/.gitlab-ci.yml <<-\EOF >actual &&
	import json, re, sys, yaml
	child = yaml.safe_load(open(sys.argv[1]))
	assert child["include"] == [{"local": ".gitlab-ci.yml"}], child["include"]
	parent = yaml.safe_load(open(sys.argv[2]))
	jobs = {k: v for k, v in child.items() if k != "include"}
	assert list(jobs) == ["cleanup-account"], list(jobs)
	job = jobs["cleanup-account"]
	assert job["extends"] == ".cleanup-account"
	tmpl = parent[job["extends"]]
	matrix = job["parallel"]["matrix"]
	assert 0 < len(matrix) <= 200
	# In the child pipeline none of the parent'"'"'s jobs runs: each has rules, none of which
	# a parent_pipeline source matches.
	for name, j in parent.items():
	    if isinstance(j, dict) and "script" in j and not name.startswith("."):
	        assert all("CI_PIPELINE_SOURCE ==" in r["if"] and "parent_pipeline" not in r["if"]
	                   for r in j["rules"]), name
	# Every variable the job uses that the pipeline does not define comes from the matrix.
	text = "\n".join(tmpl["script"])
	used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text))
	defined = set(parent.get("variables", {})) | {v for v in used if v.startswith(("AWS_", "CI_", "AMICYCLE_"))}
	needed = used - defined
	assert {"ROLE", "REGION"} <= needed, needed
	for item in matrix:
	    assert not needed - set(item), ("not in the matrix", needed - set(item))
	assert tmpl["extends"] == ".aws" and tmpl["stage"] in parent["stages"]
	print(json.dumps([{k.lower(): v for k, v in j.items()} for j in matrix], separators=(",", ":")))
	EOF
	expected_jobs project/accounts.jsonl >expect &&
	test_cmp expect actual
'

# bad_line LINE MESSAGE: an accounts file whose second line is LINE is refused: exit 3,
# "accounts-matrix: FILE:2: MESSAGE", nothing on stdout; make fails with the same message.
bad_line () {
	head -n 1 "$EX/accounts.jsonl" >bad/accounts.jsonl &&
	printf "%s\n" "$1" >>bad/accounts.jsonl &&
	for f in github gitlab; do
		test_expect_code 3 accounts-matrix -f $f bad/accounts.jsonl >out 2>err &&
		test_line_count = 0 out &&
		echo "accounts-matrix: bad/accounts.jsonl:2: $2" >expect &&
		test_cmp expect err || return 1
	done &&
	test_must_fail make --no-print-directory -C bad image-cleanup-matrix >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^accounts-matrix: accounts.jsonl:2: " err
}

A='"Account":"333333333333","Role":"arn:aws:iam::333333333333:role/cleanup"'

test_expect_success 'a bad line is exit 3 naming FILE:LINE, and nothing is printed' '
	mkdir -p bad &&
	printf "%s\n" "include $SRC_DIR/mk/amicycle.mk" >bad/Makefile &&
	bad_line "{$A,\"Regions\":[\"us-east-1\"]}" "Environment: expected a non-empty string" &&
	bad_line "{\"Account\":333333333333,\"Role\":\"arn:aws:iam::333333333333:role/c\",\"Regions\":[\"us-east-1\"],\"Environment\":\"e\"}" \
		"Account: expected a non-empty string" &&
	bad_line "{\"Account\":\"33333333333\",\"Role\":\"arn:aws:iam::33333333333:role/c\",\"Regions\":[\"us-east-1\"],\"Environment\":\"e\"}" \
		"Account: '"'"'33333333333'"'"' is not a 12-digit account id" &&
	bad_line "{\"Account\":\"333333333333\",\"Role\":\"arn:aws:iam::333333333333:user/c\",\"Regions\":[\"us-east-1\"],\"Environment\":\"e\"}" \
		"Role: '"'"'arn:aws:iam::333333333333:user/c'"'"' is not a role'"'"'s ARN (arn:aws:iam::ACCOUNT:role/NAME)" &&
	bad_line "{\"Account\":\"333333333333\",\"Role\":\"arn:aws:iam::444444444444:role/c\",\"Regions\":[\"us-east-1\"],\"Environment\":\"e\"}" \
		"Role: arn:aws:iam::444444444444:role/c is a role of account 444444444444, not of 333333333333" &&
	bad_line "{$A,\"Regions\":[\"us-east-1.evil.example\"],\"Environment\":\"e\"}" \
		"Regions: '"'"'\"us-east-1.evil.example\"'"'"' is not a region name" &&
	bad_line "{$A,\"Regions\":[\"US-EAST-1\"],\"Environment\":\"e\"}" \
		"Regions: '"'"'\"US-EAST-1\"'"'"' is not a region name" &&
	bad_line "{$A,\"Regions\":\"us-east-1\",\"Environment\":\"e\"}" \
		"Regions: expected a non-empty array of region names" &&
	bad_line "{$A,\"Regions\":[],\"Environment\":\"e\"}" \
		"Regions: expected a non-empty array of region names" &&
	bad_line "{$A,\"Regions\":[\"us-east-1\"],\"Environment\":\"e;rm -rf\"}" \
		"Environment: '"'"'e;rm -rf'"'"' is not a name (letters, digits, - _ . and spaces)" &&
	bad_line "{$A,\"Regions\":[\"us-east-1\"],\"Environment\":\"e\",\"Region\":\"us-east-1\"}" \
		"unknown field '"'"'Region'"'"' (expected Account, Role, Regions, Environment)" &&
	first=$(head -n 1 "$EX/accounts.jsonl") &&
	bad_line "$first" \
		"account $(jq -r .Account "$EX/accounts.jsonl" | head -n 1), region $(jq -r ".Regions[0]" "$EX/accounts.jsonl" | head -n 1): already at bad/accounts.jsonl:1" &&
	bad_line "[1,2]" "not a JSON object (a JSON array)"
'

test_expect_success 'an empty accounts file, and a matrix past the engine'"'"'s limit, are refused' '
	: >empty.jsonl &&
	test_expect_code 3 accounts-matrix empty.jsonl >out 2>err &&
	test_line_count = 0 out &&
	echo "accounts-matrix: empty.jsonl: no accounts: a matrix needs a job" >expect &&
	test_cmp expect err &&
	for i in $(seq 100 199); do
		printf "{\"Account\":\"333333333%s\",\"Role\":\"arn:aws:iam::333333333%s:role/c\",\"Regions\":[\"us-east-1\",\"eu-west-1\"],\"Environment\":\"e\"}\n" $i $i
	done >200.jsonl &&
	accounts-matrix -f gitlab 200.jsonl >out &&
	grep -c "^    - ACCOUNT: " out >n && echo 200 >expect && test_cmp expect n &&
	{ cat 200.jsonl && echo "{\"Account\":\"444444444444\",\"Role\":\"arn:aws:iam::444444444444:role/c\",\"Regions\":[\"us-east-1\"],\"Environment\":\"e\"}"; } >201.jsonl &&
	test_expect_code 3 accounts-matrix -f gitlab 201.jsonl >out 2>err &&
	test_line_count = 0 out &&
	echo "accounts-matrix: 201.jsonl: 201 jobs: more than the 200 a gitlab matrix may have" >expect &&
	test_cmp expect err &&
	accounts-matrix 201.jsonl >out &&
	jq ".include | length" out >n && echo 201 >expect && test_cmp expect n
'

test_expect_success 'GitHub: promote-production waits for approval, assumes the production role by OIDC, runs the promotion as documented' '
	$PYTHON - "$EX/github-workflow.yml" <<-\EOF >check.sh &&
	import sys, yaml
	w = yaml.safe_load(open(sys.argv[1]))
	on = w[True] if True in w else w["on"]
	git_sha = on["workflow_dispatch"]["inputs"]["git_sha"]
	assert git_sha["type"] == "string" and git_sha["required"] is False, git_sha
	job = w["jobs"]["promote-production"]
	assert job["environment"] == "production"
	assert job["permissions"]["id-token"] == "write"
	assert job["needs"] == "build-test-promote"
	text = open(sys.argv[1]).read()
	assert "required reviewers" in text
	steps = job["steps"]
	creds = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
	assert creds[0]["with"]["role-to-assume"] == "${{ vars.AMICYCLE_PRODUCTION_ROLE_ARN }}", creds
	runs = [s["run"] for s in steps if "run" in s]
	assert "make image-promote ENV=production FROM=staging GIT_SHA=${{ inputs.git_sha }}" in runs, runs
	# The check comes before the make line, the input reaching it through the environment only.
	check = [s for s in steps if "GIT_SHA" in s.get("env", {})][0]
	assert check["env"]["GIT_SHA"] == "${{ inputs.git_sha }}" and "${{" not in check["run"]
	assert steps.index(check) < [i for i, s in enumerate(steps) if s.get("run", "").startswith("make image-promote")][0]
	print(check["run"])
	EOF
	for sha in "" 0123abc 0123456789abcdef0123456789abcdef01234567; do
		GIT_SHA=$sha bash -e check.sh || return 1
	done &&
	for sha in "\$(touch pwned)" "0123abc x" 0123ABC 01; do
		test_must_fail env GIT_SHA="$sha" bash -e check.sh 2>err &&
		test_grep "^git_sha: not a commit" err || return 1
	done &&
	! test -e pwned
'

test_expect_success 'GitLab: promote-production is manual, in the production environment, with an ID token' '
	$PYTHON - "$EX/gitlab-ci.yml" <<-\EOF >check.sh &&
	import sys, yaml
	w = yaml.safe_load(open(sys.argv[1]))
	job = w["promote-production"]
	assert job["environment"]["name"] == "production"
	assert job["rules"] and all(r["when"] == "manual" for r in job["rules"]), job["rules"]
	assert job["extends"] == ".aws" and w[".aws"]["id_tokens"]["AWS_OIDC_TOKEN"]["aud"] == "sts.amazonaws.com"
	assert job["variables"]["GIT_SHA"] == ""
	s = job["script"]
	assert "export AWS_ROLE_ARN=\"$AMICYCLE_PRODUCTION_ROLE_ARN\"" in s, s
	assert "make image-promote ENV=production FROM=staging GIT_SHA=\"$GIT_SHA\"" in s, s
	assert s.index("make image-promote ENV=production FROM=staging GIT_SHA=\"$GIT_SHA\"") > 0
	assert ".amicycle/" in job["artifacts"]["paths"] and job["artifacts"]["when"] == "always"
	assert "approvals" in open(sys.argv[1]).read()
	print(s[0])
	EOF
	GIT_SHA=0123abc bash -e check.sh &&
	test_must_fail env GIT_SHA="\$(touch pwned)" bash -e check.sh 2>err &&
	test_grep "^GIT_SHA: not a commit" err &&
	! test -e pwned
'

test_done
