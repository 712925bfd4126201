#!/bin/bash
# ami-from-manifest on the hand-written Packer manifests in $SHARED/samples/packer: golden output.
. "$(dirname "$0")"/test-lib.sh

P=$SHARED/samples/packer
RUN=1d7c3e5a-0b9f-4a2e-9c6d-8e4f2a1b3c57
OLDRUN=9b2f0c4e-6a1d-4c3b-8e7f-2a5d9c1b0e34

test_expect_success 'multi-run: only the current run (last_run_uuid), not builds[-1] alone' '
	cat >expect <<-EOF &&
	{"ImageId":"ami-0d2e5f3a9b8c7d6e5","Region":"eu-west-1","Packer":{"BuildName":"web","BuilderType":"amazon-ebs","BuildTime":"2024-07-09T08:00:00.000Z","RunUuid":"$RUN","CustomData":{"git_sha":"b7d03f1","version":"v1.4.0"}}}
	{"ImageId":"ami-0b4c0d2e3f5a7b9c1","Region":"us-east-1","Packer":{"BuildName":"web","BuilderType":"amazon-ebs","BuildTime":"2024-07-09T08:00:00.000Z","RunUuid":"$RUN","CustomData":{"git_sha":"b7d03f1","version":"v1.4.0"}}}
	{"ImageId":"ami-0f6a1b3c5d7e9f2a4","Region":"us-west-2","Packer":{"BuildName":"web","BuilderType":"amazon-ebs","BuildTime":"2024-07-09T08:00:00.000Z","RunUuid":"$RUN","CustomData":{"git_sha":"b7d03f1","version":"v1.4.0"}}}
	{"ImageId":"ami-0e3f6a4b0c9d8e7f6","Region":"eu-west-1","Packer":{"BuildName":"worker","BuilderType":"amazon-ebs","BuildTime":"2024-07-09T08:02:13.000Z","RunUuid":"$RUN","CustomData":null}}
	{"ImageId":"ami-0c5d1e3f4a6b8c0d2","Region":"us-east-1","Packer":{"BuildName":"worker","BuilderType":"amazon-ebs","BuildTime":"2024-07-09T08:02:13.000Z","RunUuid":"$RUN","CustomData":null}}
	{"ImageId":"ami-0a7b2c4d6e8f0a3b5","Region":"us-west-2","Packer":{"BuildName":"worker","BuilderType":"amazon-ebs","BuildTime":"2024-07-09T08:02:13.000Z","RunUuid":"$RUN","CustomData":null}}
	EOF
	ami-from-manifest "$P/multi-run.json" >actual 2>err &&
	test_cmp expect actual &&
	test_cmp /dev/null err
'

test_expect_success 'the manifest on stdin, absent operand or "-"' '
	ami-from-manifest <"$P/multi-run.json" >actual &&
	test_cmp expect actual &&
	ami-from-manifest - <"$P/multi-run.json" >actual &&
	test_cmp expect actual
'

test_expect_success '--all-runs: every run, in manifest order' '
	cat >expect-old <<-EOF &&
	{"ImageId":"ami-0c1f4e2d8a7b6c5d4","Region":"eu-west-1","Packer":{"BuildName":"web","BuilderType":"amazon-ebs","BuildTime":"2024-07-02T08:00:00.000Z","RunUuid":"$OLDRUN","CustomData":{"git_sha":"4e1c2a9","version":"v1.3.0"}}}
	{"ImageId":"ami-07a3b9e1c2d4f6a8b","Region":"us-east-1","Packer":{"BuildName":"web","BuilderType":"amazon-ebs","BuildTime":"2024-07-02T08:00:00.000Z","RunUuid":"$OLDRUN","CustomData":{"git_sha":"4e1c2a9","version":"v1.3.0"}}}
	EOF
	cat expect-old expect >expect-all &&
	ami-from-manifest --all-runs "$P/multi-run.json" >actual &&
	test_cmp expect-all actual
'

test_expect_success '--build worker: that build only' '
	grep "\"BuildName\":\"worker\"" expect >expect-worker &&
	test_line_count = 3 expect-worker &&
	ami-from-manifest --build worker "$P/multi-run.json" >actual &&
	test_cmp expect-worker actual
'

test_expect_success '--build TYPE.NAME as packer -only spells it; --build repeats' '
	grep "\"BuildName\":\"web\"" expect >expect-web &&
	ami-from-manifest --build amazon-ebs.web "$P/multi-run.json" >actual &&
	test_cmp expect-web actual &&
	ami-from-manifest --build worker --build web "$P/multi-run.json" >actual &&
	test_cmp expect actual
'

test_expect_success '--build with --all-runs: the build in every run' '
	grep "\"BuildName\":\"web\"" expect-all >expect-web-all &&
	test_line_count = 5 expect-web-all &&
	ami-from-manifest --all-runs --build web "$P/multi-run.json" >actual &&
	test_cmp expect-web-all actual
'

test_expect_success 'mixed builders: docker and null skipped with a warning each' '
	R=a0c4d2e6-8f1b-4a3c-9e5d-7b2f0c6a4e18 &&
	cat >expect <<-EOF &&
	{"ImageId":"ami-09f8e7d6c5b4a3921","Region":"ap-southeast-2","Packer":{"BuildName":"app","BuilderType":"amazon-ebs","BuildTime":"2024-10-27T03:39:51.000Z","RunUuid":"$R","CustomData":{"git_sha":"c0ffee1"}}}
	{"ImageId":"ami-01a2b3c4d5e6f7a8b","Region":"us-east-1","Packer":{"BuildName":"app","BuilderType":"amazon-ebs","BuildTime":"2024-10-27T03:39:51.000Z","RunUuid":"$R","CustomData":{"git_sha":"c0ffee1"}}}
	EOF
	cat >expect-err <<-EOF &&
	ami-from-manifest: $P/mixed-builders.json: .builds[0]: skipping build "app" of type "docker": artifact_id "sha256:3f4b1c7a9e2d5f6b8a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a" names no AMI
	ami-from-manifest: $P/mixed-builders.json: .builds[1]: skipping build "smoke" of type "null": artifact_id "Null" names no AMI
	EOF
	ami-from-manifest "$P/mixed-builders.json" >actual 2>err &&
	test_cmp expect actual &&
	test_cmp expect-err err
'

test_expect_success 'mixed builders: --build amazon-ebs.app picks the AMI build, no warning' '
	ami-from-manifest --build amazon-ebs.app "$P/mixed-builders.json" >actual 2>err &&
	test_cmp expect actual &&
	test_cmp /dev/null err
'

test_expect_success 'strip_time: BuildTime is null; custom_data passes through' '
	cat >expect <<-\EOF &&
	{"ImageId":"ami-0123456789abcdef0","Region":"us-east-1","Packer":{"BuildName":"base","BuilderType":"amazon-ebs","BuildTime":null,"RunUuid":"5f3c9a10-2b7e-4d61-9c0a-7e2b4f8d1a36","CustomData":{"build_number":"","build_url":"","git_sha":"0f9e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6","version":"v2.0.0-3-g0f9e8d7"}}}
	EOF
	ami-from-manifest "$P/strip-time-single-region.json" >actual &&
	test_cmp expect actual
'

test_expect_success 'legacy JSON template: the build is named after its builder type' '
	cat >expect <<-\EOF &&
	{"ImageId":"ami-0aa11bb22cc33dd44","Region":"us-west-2","Packer":{"BuildName":"amazon-ebs","BuilderType":"amazon-ebs","BuildTime":"2022-04-15T05:20:00.000Z","RunUuid":"7e1d3c5b-9a2f-4e6d-8c0b-1a3e5f7d9b24","CustomData":null}}
	EOF
	ami-from-manifest "$P/legacy-json-template.json" >actual &&
	test_cmp expect actual
'

test_expect_success 'every record has the fields of the issue; BuildTime is written as CreationDate is' '
	ami-from-manifest --all-runs "$P/multi-run.json" >actual &&
	jq -e -s "all(.[]; keys == [\"ImageId\",\"Packer\",\"Region\"] and
		(.Packer | keys) == [\"BuildName\",\"BuildTime\",\"BuilderType\",\"CustomData\",\"RunUuid\"])" \
		actual >/dev/null &&
	jq -r ".Packer.BuildTime" actual >times &&
	test_line_count = 8 times &&
	! grep -v -x "[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.000Z" times
'

test_done
