#!/bin/bash
# ami-from-manifest on manifests a real `packer build` wrote (Debian's packer, the null builder, the
# manifest post-processor), to pin the real format: two runs into one manifest, strip_time,
# custom_data, HCL2 and legacy JSON templates. Packer runs offline and quiet, in the scratch dir.
. "$(dirname "$0")"/test-lib.sh

PACKER_CHECKPOINT_DISABLE=1
CHECKPOINT_DISABLE=1
PACKER_CONFIG_DIR=$TRASH/packer-config
PACKER_CACHE_DIR=$TRASH/packer-cache
PACKER_PLUGIN_PATH=$TRASH/packer-plugins
export PACKER_CHECKPOINT_DISABLE CHECKPOINT_DISABLE PACKER_CONFIG_DIR PACKER_CACHE_DIR \
	PACKER_PLUGIN_PATH
unset PACKER_LOG PACKER_LOG_PATH

test_expect_success PACKER 'packer build, twice: both builds, then web alone with strip_time' '
	cat >image.pkr.hcl <<-\EOF &&
	variable "git_sha" {
	  type = string
	}
	variable "strip_time" {
	  type    = bool
	  default = false
	}
	source "null" "smoke" {
	  communicator = "none"
	}
	source "null" "web" {
	  communicator = "none"
	}
	build {
	  sources = ["source.null.smoke", "source.null.web"]
	  post-processor "manifest" {
	    output      = "manifest.json"
	    strip_time  = var.strip_time
	    custom_data = {
	      git_sha = var.git_sha
	    }
	  }
	}
	EOF
	packer build -color=false -var git_sha=aaaa111 image.pkr.hcl >log1 2>&1 &&
	packer build -color=false -var git_sha=bbbb222 -var strip_time=true -only=null.web \
		image.pkr.hcl >log2 2>&1 &&
	jq -r .last_run_uuid manifest.json >run &&
	RUN=$(cat run) &&
	test -n "$RUN"
'

test_expect_success PACKER 'the real format: accumulated runs, names without the type, Null artifacts' '
	RUN=$(cat run) &&
	jq -c --arg run "$RUN" ".builds[] | [.packer_run_uuid == \$run, .name, .builder_type,
		.artifact_id, .custom_data, (.build_time | type), (keys | join(\" \"))]" \
		manifest.json >shape &&
	sort shape >actual &&
	cat >expect <<-\EOF &&
	[false,"smoke","null","Null",{"git_sha":"aaaa111"},"number","artifact_id build_time builder_type custom_data files name packer_run_uuid"]
	[false,"web","null","Null",{"git_sha":"aaaa111"},"number","artifact_id build_time builder_type custom_data files name packer_run_uuid"]
	[true,"web","null","Null",{"git_sha":"bbbb222"},"null","artifact_id builder_type custom_data files name packer_run_uuid"]
	EOF
	test_cmp expect actual &&
	jq -e --arg run "$RUN" ".builds[-1].packer_run_uuid == \$run and
		(.builds[0].packer_run_uuid | test(\"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\$\"))" \
		manifest.json >/dev/null
'

test_expect_success PACKER 'the null artifact is skipped with a warning; no AMI: exit 1' '
	RUN=$(cat run) &&
	test_expect_code 1 ami-from-manifest manifest.json >out 2>err &&
	test_cmp /dev/null out &&
	cat >expect-err <<-EOF &&
	ami-from-manifest: manifest.json: .builds[2]: skipping build "web" of type "null": artifact_id "Null" names no AMI
	ami-from-manifest: manifest.json: no AMI in run "$RUN"
	EOF
	test_cmp expect-err err &&
	test_expect_code 1 ami-from-manifest --all-runs manifest.json >out 2>err &&
	test_cmp /dev/null out &&
	grep -c "skipping build \"[a-z]*\" of type \"null\": artifact_id \"Null\" names no AMI\$" err >n &&
	echo 3 >expect-n &&
	test_cmp expect-n n &&
	test_line_count = 4 err &&
	test_grep "^ami-from-manifest: manifest.json: no AMI in any run\$" err
'

test_expect_success PACKER 'with amazon-style artifact ids: the current run only, as packer wrote it' '
	RUN=$(cat run) &&
	jq --arg run "$RUN" ".builds |= map(.artifact_id =
		if .packer_run_uuid == \$run then \"eu-west-1:ami-0bbbbbbbbbbbbbbb1,us-east-1:ami-0bbbbbbbbbbbbbbb2\"
		elif .name == \"web\" then \"us-east-1:ami-0aaaaaaaaaaaaaaa1\"
		else \"us-east-1:ami-0aaaaaaaaaaaaaaa2\" end)" manifest.json >amis.json &&
	cat >expect <<-EOF &&
	{"ImageId":"ami-0bbbbbbbbbbbbbbb1","Region":"eu-west-1","Packer":{"BuildName":"web","BuilderType":"null","BuildTime":null,"RunUuid":"$RUN","CustomData":{"git_sha":"bbbb222"}}}
	{"ImageId":"ami-0bbbbbbbbbbbbbbb2","Region":"us-east-1","Packer":{"BuildName":"web","BuilderType":"null","BuildTime":null,"RunUuid":"$RUN","CustomData":{"git_sha":"bbbb222"}}}
	EOF
	ami-from-manifest amis.json >actual 2>err &&
	test_cmp expect actual &&
	test_cmp /dev/null err &&
	ami-from-manifest --build null.web amis.json >actual &&
	test_cmp expect actual
'

test_expect_success PACKER '--all-runs: every build, packer build_time as RFC 3339' '
	jq -c ".builds[] | . as \$b | .artifact_id | split(\",\")[] | split(\":\") |
		{ImageId: .[1], Region: .[0], Packer: {BuildName: \$b.name, BuilderType: \$b.builder_type,
		 BuildTime: (\$b.build_time | if . == null then null else todate | sub(\"Z\$\"; \".000Z\") end),
		 RunUuid: \$b.packer_run_uuid, CustomData: \$b.custom_data}}" amis.json >expect &&
	test_line_count = 4 expect &&
	ami-from-manifest --all-runs amis.json >actual &&
	test_cmp expect actual
'

test_expect_success PACKER '--build smoke: in an earlier run only' '
	RUN=$(cat run) &&
	test_expect_code 1 ami-from-manifest --build smoke amis.json >out 2>err &&
	test_cmp /dev/null out &&
	echo "ami-from-manifest: amis.json: no build named \"smoke\" in run \"$RUN\"" >expect-err &&
	test_cmp expect-err err &&
	ami-from-manifest --all-runs --build smoke amis.json >actual &&
	jq -r "[.ImageId, .Region, .Packer.CustomData.git_sha] | join(\" \")" actual >got &&
	echo "ami-0aaaaaaaaaaaaaaa2 us-east-1 aaaa111" >expect &&
	test_cmp expect got
'

test_expect_success PACKER 'a legacy JSON template: the build is named after its builder type' '
	mkdir legacy &&
	cat >legacy/image.json <<-\EOF &&
	{
	  "builders": [{"type": "null", "communicator": "none"}],
	  "post-processors": [{"type": "manifest", "output": "legacy/manifest.json"}]
	}
	EOF
	packer build -color=false legacy/image.json >log3 2>&1 &&
	test_expect_code 1 ami-from-manifest legacy/manifest.json >out 2>err &&
	test_grep "^ami-from-manifest: legacy/manifest.json: .builds\[0\]: skipping build \"null\" of type \"null\": artifact_id \"Null\" names no AMI$" err &&
	jq ".builds[0].artifact_id = \"us-west-2:ami-0ccccccccccccccc1\"" legacy/manifest.json >legacy/amis.json &&
	ami-from-manifest legacy/amis.json >actual &&
	jq -c "[.ImageId, .Packer.BuildName, .Packer.BuilderType, .Packer.CustomData]" actual >got &&
	echo "[\"ami-0ccccccccccccccc1\",\"null\",\"null\",null]" >expect &&
	test_cmp expect got
'

test_done
