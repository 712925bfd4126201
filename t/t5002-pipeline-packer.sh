#!/bin/bash
# packer.mk with Debian's real packer: image-validate, and image-build passing the build's metadata
# (version from git describe, git sha, CI build number and URL) to a template whose manifest
# post-processor records it.
. "$(dirname "$0")"/test-lib.sh

test_have_prereq PACKER || test_skip_all "no packer"

PACKER_CHECKPOINT_DISABLE=1
CHECKPOINT_DISABLE=1
PACKER_CONFIG_DIR=$TRASH/packer-config
PACKER_CACHE_DIR=$TRASH/packer-cache
PACKER_PLUGIN_PATH=$TRASH/packer-plugins
export PACKER_CHECKPOINT_DISABLE CHECKPOINT_DISABLE PACKER_CONFIG_DIR PACKER_CACHE_DIR PACKER_PLUGIN_PATH
unset PACKER_LOG PACKER_LOG_PATH GITHUB_RUN_ID GITHUB_RUN_NUMBER CI_PIPELINE_IID CI_JOB_URL

test_expect_success 'a project with a null-source template, in a git repository with a tag' '
	mkdir -p project/packer &&
	cat >project/packer/image.pkr.hcl <<-\EOF &&
	variable "version" {
	  type = string
	}

	variable "git_sha" {
	  type = string
	}

	variable "build_number" {
	  type = string
	}

	variable "build_url" {
	  type = string
	}

	source "null" "web" {
	  communicator = "none"
	}

	build {
	  sources = ["source.null.web"]

	  post-processor "manifest" {
	    output = "manifest.json"
	    custom_data = {
	      version      = var.version
	      git_sha      = var.git_sha
	      build_number = var.build_number
	      build_url    = var.build_url
	    }
	  }
	}
	EOF
	cat >project/Makefile <<-EOF &&
	AMICYCLE_PROJECT = web
	include $SRC_DIR/mk/amicycle.mk
	EOF
	(cd project && git init -q && git add . &&
	 git -c user.name=t -c user.email=t@example.com commit -q -m "first" &&
	 git tag v1.2.0 &&
	 echo >>Makefile &&
	 git -c user.name=t -c user.email=t@example.com commit -q -am "second") &&
	git -C project rev-parse HEAD >sha
'

test_expect_success 'image-validate: validate and fmt -check pass on a clean template' '
	make --no-print-directory -C project image-validate >out 2>err
'

test_expect_success 'image-validate fails on a template that is not formatted' '
	sed "s/^  type = string/    type   =   string/" project/packer/image.pkr.hcl >bad.hcl &&
	cp project/packer/image.pkr.hcl good.hcl &&
	cp bad.hcl project/packer/image.pkr.hcl &&
	test_must_fail make --no-print-directory -C project image-validate >out 2>err;
	status=$?;
	cp good.hcl project/packer/image.pkr.hcl;
	test $status = 0 &&
	test_grep "run .packer fmt packer." out
'

# Debian 12's packer is 1.6.6, older than the example template's required_plugins needs.
PACKER_VERSION=$(packer version | sed -n "1s/^Packer v\([0-9][0-9.]*\).*/\1/p")
printf '%s\n' 1.7.0 "$PACKER_VERSION" | sort -V -C || test_set_prereq PACKER_BEFORE_1_7

test_expect_success PACKER_BEFORE_1_7 'image-validate on the example template with this old Packer: one line says so' '
	mkdir -p example/packer &&
	cp "$SRC_DIR"/share/examples/packer/web.pkr.hcl example/packer/ &&
	printf "AMICYCLE_PROJECT = web\ninclude %s/mk/amicycle.mk\n" "$SRC_DIR" >example/Makefile &&
	test_must_fail make --no-print-directory -C example image-validate >out 2>err &&
	grep -v "^make: \*\*\*" err >msg &&
	echo "amicycle: image-validate: packer needs Packer 1.7.0 or later; packer version is $PACKER_VERSION" >expect &&
	test_cmp expect msg
'

test_expect_success 'image-build locally: version from git describe, the sha, no CI metadata' '
	make --no-print-directory -C project image-build >out 2>err &&
	jq -c ".builds[-1].custom_data" project/manifest.json >actual &&
	jq -n -c --arg sha "$(cat sha)" --arg v "v1.2.0-1-g$(cut -c1-7 sha)" \
		"{build_number: \"\", build_url: \"\", git_sha: \$sha, version: \$v}" >expect &&
	jq -S -c . actual >actual.s && jq -S -c . expect >expect.s &&
	test_cmp expect.s actual.s
'

test_expect_success 'image-build in GitHub Actions: the run number and URL reach the manifest' '
	GITHUB_RUN_ID=4242 GITHUB_RUN_NUMBER=17 GITHUB_SERVER_URL=https://github.com \
		GITHUB_REPOSITORY=acme/web make --no-print-directory -C project image-build >out 2>err &&
	jq -c ".builds[-1].custom_data | [.build_number, .build_url]" project/manifest.json >actual &&
	echo "[\"17\",\"https://github.com/acme/web/actions/runs/4242\"]" >expect &&
	test_cmp expect actual &&
	jq -r ".builds | length" project/manifest.json >actual &&
	echo 2 >expect &&
	test_cmp expect actual
'

test_expect_success 'image-build in GitLab CI: the pipeline number and job URL' '
	CI_PIPELINE_IID=99 CI_JOB_URL=https://gitlab.example.com/acme/web/-/jobs/7 \
		make --no-print-directory -C project image-build >out 2>err &&
	jq -c ".builds[-1].custom_data | [.build_number, .build_url]" project/manifest.json >actual &&
	echo "[\"99\",\"https://gitlab.example.com/acme/web/-/jobs/7\"]" >expect &&
	test_cmp expect actual
'

test_expect_success 'the manifest is what ami-from-manifest reads: the current run, no AMI in it' '
	test_expect_code 1 ami-from-manifest project/manifest.json >out 2>err &&
	test_grep "skipping build \"web\" of type \"null\"" err
'

test_done
