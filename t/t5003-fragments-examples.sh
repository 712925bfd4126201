#!/bin/bash
# The fragments as a project meets them: every knob documented and overridable, the guard against
# double inclusion, no failure hidden in a pipe; the example workflows well-formed and calling
# targets that exist.
. "$(dirname "$0")"/test-lib.sh

MK=$SRC_DIR/mk
EX=$SRC_DIR/share/examples

test_expect_success 'every knob is ?=, documented in its fragment and in amicycle(7); the rest is ours alone' '
	for f in "$MK"/*.mk; do
		sed -n "s/^\([A-Z_][A-Z0-9_]*\) ?=.*/\1/p" "$f" | while read -r knob; do
			grep -q "^#.*\b$knob\b" "$f" ||
				{ echo "$knob not documented in $f" >&2; exit 1; }
			grep -q "$knob" "$SRC_DIR/share/man/man7/amicycle.7" ||
				{ echo "$knob not in amicycle.7" >&2; exit 1; }
		done || return 1
	done &&
	grep -h "^[A-Z_][A-Z0-9_]* [:+]*= " "$MK"/*.mk >plain;
	grep -v "^AMICYCLE_[A-Z_]*MK := " plain >others;
	test_line_count = 0 others
'

test_expect_success 'knobs are named AMICYCLE_*, but for Packer'"'"'s, ENV, FROM, GIT_SHA, IMAGE, REASON (the switches), DRY_RUN and JQ' '
	sed -n "s/^\([A-Z_][A-Z0-9_]*\) ?=.*/\1/p" "$MK"/*.mk | grep -v "^AMICYCLE_" | sort -u >actual &&
	printf "%s\n" DRY_RUN ENV FROM GIT_SHA IMAGE JQ PACKER PACKER_DIR REASON >expect &&
	test_cmp expect actual
'

test_expect_success 'a project includes the fragment twice: no warning, one set of rules' '
	mkdir -p twice &&
	cat >twice/Makefile <<-EOF &&
	AMICYCLE_PROJECT = twice
	AMICYCLE_KEEP = 7
	include $MK/amicycle.mk
	include $MK/amicycle.mk
	include $MK/lifecycle.mk
	EOF
	make --no-print-directory -C twice -n image-cleanup AMICYCLE_REGIONS=eu-west-1 >out 2>err &&
	test_line_count = 0 err &&
	test_grep "keep-last -n .7." out &&
	grep -E "deregister +--region eu-west-1 --max .50." out
'

test_expect_success 'a knob set by the project wins over the default' '
	mkdir -p knobs &&
	cat >knobs/Makefile <<-EOF &&
	AMICYCLE_PROJECT = knobs
	AMICYCLE_MAX_DEREGISTER = 9
	AMICYCLE_PROTECT_TAGS = Keep Environment=prod
	AMICYCLE_LT_VERSIONS = all
	AMICYCLE_PROTECT_LAUNCHED_WITHIN = 30d
	include $MK/amicycle.mk
	EOF
	make --no-print-directory -C knobs -n image-cleanup AMICYCLE_REGIONS=us-west-2 DRY_RUN=1 >out 2>err &&
	grep -E "deregister +--dry-run +--region us-west-2 --max .9." out &&
	test_grep "^	--protect-tag .Keep. --protect-tag .Environment=prod." out &&
	test_grep "^	--launch-template-versions .all. " out &&
	test_grep "^	--protect-launched-within .30d." out &&
	test_grep -v -- "--allow-shared" out &&
	test_grep "Values=knobs" out
'

test_expect_success 'no failure hides in a pipe, and the project'"'"'s own recipes keep their shell' '
	mkdir -p pipe/bin &&
	printf "#!/bin/sh\necho %s\n" "'"'"'{\"ImageId\":\"ami-01234567\",\"Region\":\"us-east-1\",\"CreationDate\":\"2020-01-01T00:00:00Z\"}'"'"'" \
		>pipe/bin/ec2-describe &&
	printf "#!/bin/sh\ncat\n" >pipe/bin/sort-by-date &&
	printf "#!/bin/sh\ncat\n" >pipe/bin/deprecate &&
	printf "#!/bin/sh\necho keep-last failed >&2\nexit 3\n" >pipe/bin/keep-last &&
	chmod +x pipe/bin/* &&
	printf "%s\n" "AMICYCLE_BIN = bin" "AMICYCLE_REGIONS = us-east-1" "include $MK/amicycle.mk" \
		"show:" "	@echo \"\$(SHELL) \$(.SHELLFLAGS)\"" >pipe/Makefile &&
	test_must_fail make --no-print-directory -C pipe image-deprecate >out 2>err &&
	test_grep "keep-last failed" err &&
	! test -f pipe/.amicycle/deprecate-us-east-1.jsonl &&
	make --no-print-directory -C pipe show >out &&
	echo "/bin/sh -c" >expect &&
	test_cmp expect out
'

test_expect_success 'the example workflows are well-formed YAML' '
	for f in "$EX"/*.yml; do
		$PYTHON -c "import sys, yaml; yaml.safe_load(open(sys.argv[1]))" "$f" || return 1
	done
'

test_expect_success 'GitHub: OIDC, no static keys, validate on PRs, artifacts uploaded' '
	$PYTHON - "$EX/github-workflow.yml" <<-\EOF
	import sys, yaml
	w = yaml.safe_load(open(sys.argv[1]))
	on = w[True] if True in w else w["on"]
	assert "pull_request" in on and on["push"]["branches"] == ["main"], on
	assert on["push"]["paths"] == ["packer/**", "scripts/**"], on["push"]
	assert w["permissions"]["id-token"] == "write", w["permissions"]
	text = open(sys.argv[1]).read()
	assert "AWS_SECRET_ACCESS_KEY" not in text and "aws-secret" not in text
	steps = [s for j in w["jobs"].values() for s in j["steps"]]
	assert any("role-to-assume" in s.get("with", {}) for s in steps)
	assert any(s.get("uses", "").startswith("actions/upload-artifact") and ".amicycle/" in s["with"]["path"] for s in steps)
	assert w["jobs"]["validate"]["if"] == "github.event_name == '"'"'pull_request'"'"'"
	EOF
'

test_expect_success 'GitLab: an ID token for STS, web identity, artifacts kept' '
	$PYTHON - "$EX/gitlab-ci.yml" <<-\EOF
	import sys, yaml
	w = yaml.safe_load(open(sys.argv[1]))
	aws = w[".aws"]
	assert aws["id_tokens"]["AWS_OIDC_TOKEN"]["aud"] == "sts.amazonaws.com"
	assert any("AWS_WEB_IDENTITY_TOKEN_FILE" in l for l in aws["before_script"])
	assert ".amicycle/" in w["build-test-promote"]["artifacts"]["paths"]
	assert w["build-test-promote"]["artifacts"]["when"] == "always"
	EOF
'

test_expect_success 'the make targets the workflows call exist' '
	grep -ho "make [a-z][-a-z ]*" "$EX"/*.yml |
		tr " " "\n" | grep "^image-" | sort -u >targets &&
	test_line_count -ge 5 targets &&
	mkdir -p wf && printf "include %s/amicycle.mk\n" "$MK" >wf/Makefile &&
	make --no-print-directory -C wf -p -n -q amicycle-force >db 2>/dev/null;
	while read -r t; do
		grep -q "^$t:" db || { echo "no target $t" >&2; return 1; }
	done <targets
'

# A stand-in packer that reports VERSION and logs every other call.
fake_packer () {
	printf '#!/bin/sh\nif [ "$1" = version ]; then echo "Packer v%s"; exit 0; fi\necho "$1" >>"%s/calls"\n' \
		"$1" "$TRASH" >"$TRASH/fake-packer" && chmod +x "$TRASH/fake-packer"
}

test_expect_success 'image-validate with a Packer older than 1.7 and the example template: one line, nothing run' '
	mkdir -p old/packer &&
	cp "$EX/packer/web.pkr.hcl" old/packer/ &&
	printf "AMICYCLE_PROJECT = web\ninclude %s/amicycle.mk\n" "$MK" >old/Makefile &&
	fake_packer 1.6.6 && rm -f calls &&
	test_expect_code 2 make --no-print-directory -C old image-validate PACKER="$TRASH/fake-packer" >out 2>err &&
	grep -v "^make: \*\*\*" err >msg &&
	echo "amicycle: image-validate: packer needs Packer 1.7.0 or later; $TRASH/fake-packer version is 1.6.6" >expect &&
	test_cmp expect msg &&
	! test -e calls
'

test_expect_success 'image-validate with Packer 1.7.0 or later, or an explicit minimum: the checks run' '
	fake_packer 1.7.0 && rm -f calls &&
	make --no-print-directory -C old image-validate PACKER="$TRASH/fake-packer" >out 2>err &&
	printf "%s\n" init init validate fmt >expect &&
	test_cmp expect calls &&
	fake_packer 1.6.6 && rm -f calls &&
	make --no-print-directory -C old image-validate PACKER="$TRASH/fake-packer" \
		AMICYCLE_PACKER_MIN_VERSION=1.6.0 >out 2>err &&
	test_cmp expect calls
'

test_expect_success 'a template'"'"'s required_version ">= X" is the minimum it names' '
	sed "s/^  required_plugins {/  required_version = \">= 1.10.2\"\n&/" "$EX/packer/web.pkr.hcl" >old/packer/web.pkr.hcl &&
	test_grep "required_version" old/packer/web.pkr.hcl &&
	fake_packer 1.9.4 &&
	test_expect_code 2 make --no-print-directory -C old image-validate PACKER="$TRASH/fake-packer" >out 2>err &&
	test_grep "needs Packer 1.10.2 or later; .* version is 1.9.4\$" err &&
	fake_packer 1.10.2 &&
	make --no-print-directory -C old image-validate PACKER="$TRASH/fake-packer" >out 2>err
'

test_expect_success 'the example project Makefile and template' '
	test -f "$EX/Makefile" &&
	test_grep "^include .*amicycle.mk" "$EX/Makefile" &&
	for v in version git_sha build_number build_url; do
		grep -q "^variable \"$v\"" "$EX/packer/web.pkr.hcl" || { echo "no variable $v" >&2; return 1; }
	done &&
	test_grep "post-processor \"manifest\"" "$EX/packer/web.pkr.hcl"
'

test_done
