#!/bin/bash
# ec2-launch against the local EC2 endpoint: one test instance per image, in two regions, with the
# tags, IMDSv2, shutdown behaviour and user data asked for; client tokens that make a re-run
# launch nothing new; dry runs and their plans; bad input that changes nothing; the audit log.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {"Images": [
    {"ImageId": "ami-0a000000000000001", "Name": "web-1", "CreationDate": "2026-11-01T12:00:00.000Z",
     "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8}}]},
    {"ImageId": "ami-0a000000000000002", "Name": "web-2", "CreationDate": "2026-11-02T12:00:00.000Z"}]},
  "eu-west-1": {"Images": [
    {"ImageId": "ami-0e000000000000001", "Name": "web-1", "CreationDate": "2026-11-01T13:00:00.000Z"}]}
}}
EOF

# The images of a Packer run, as ami-from-manifest prints them.
cat >images.jsonl <<'EOF'
{"ImageId":"ami-0a000000000000001","Region":"us-east-1","Packer":{"BuildName":"web","RunUuid":"u-1"}}
{"ImageId":"ami-0e000000000000001","Region":"eu-west-1","Packer":{"BuildName":"web","RunUuid":"u-1"}}
EOF

printf '#cloud-config\nruncmd:\n  - echo "h\303\251llo" > /tmp/t\n' >user-data

# instances [JQ-SELECT]: the endpoint's instances, one JSON line each, with their Region.
instances () {
	ec2_state >state.json &&
	jq -c '.Regions | to_entries[] | .key as $r | .value.Reservations[]?.Instances[] | .Region = $r' \
		state.json
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'one instance per image, in each image'"'"'s region' '
	ec2-launch --instance-type t3.micro --user-data user-data --run-id run-1 \
		-t Project=web -t Owner=ci images.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.Region, .ImageId, .State.Name, .InstanceType, .Result.Action, .Result.Status] | @tsv" \
		out >actual &&
	cat >expect <<-\EOF &&
	us-east-1	ami-0a000000000000001	pending	t3.micro	ec2-launch	done
	eu-west-1	ami-0e000000000000001	pending	t3.micro	ec2-launch	done
	EOF
	test_cmp expect actual &&
	instances >inst &&
	test_line_count = 2 inst &&
	jq -r "[.Region, .InstanceId, .ImageId] | @tsv" inst | sort >actual &&
	jq -r "[.Region, .InstanceId, .ImageId] | @tsv" out | sort >expect &&
	test_cmp expect actual
'

test_expect_success 'the instances have the tags, IMDSv2 required, terminate on shutdown' '
	jq -c "[.Region, (.Tags | from_entries), .MetadataOptions.HttpTokens,
		.MetadataOptions.HttpEndpoint, ._InstanceInitiatedShutdownBehavior]" inst >actual &&
	cat >expect <<-\EOF &&
	["us-east-1",{"Purpose":"image-test","SourceImageId":"ami-0a000000000000001","TestRunId":"run-1","Project":"web","Owner":"ci"},"required","enabled","terminate"]
	["eu-west-1",{"Purpose":"image-test","SourceImageId":"ami-0e000000000000001","TestRunId":"run-1","Project":"web","Owner":"ci"},"required","enabled","terminate"]
	EOF
	test_cmp expect actual
'

test_expect_success 'the user data arrives as the file, base64-encoded once' '
	(for i in 1 2; do
		jq -r "._UserData" inst | sed -n ${i}p | base64 -d >decoded &&
		cmp user-data decoded || exit 1
	done)
'

test_expect_success 'the requests: one instance, the volumes tagged too, a client token' '
	ec2_requests >requests.json &&
	jq -c ".[] | select(.Action == \"RunInstances\") | .Params |
		[.MinCount, .MaxCount, .\"TagSpecification.1.ResourceType\",
		 .\"TagSpecification.2.ResourceType\", .\"TagSpecification.2.Tag.1.Key\",
		 .\"TagSpecification.2.Tag.1.Value\", .\"TagSpecification.2.Tag.4.Key\"]" \
		requests.json >actual &&
	cat >expect <<-\EOF &&
	["1","1","instance","volume","Purpose","image-test","Project"]
	["1","1","instance","volume","Purpose","image-test","Project"]
	EOF
	test_cmp expect actual &&
	jq -r ".[] | select(.Action == \"RunInstances\") | .Params.ClientToken" requests.json |
		sort >tokens &&
	jq -r .ClientToken out | sort >expect &&
	test_cmp expect tokens &&
	test_line_count = 2 tokens &&
	test_grep -v "^$" tokens &&
	awk "length(\$0) > 64 { exit 1 }" tokens
'

test_expect_success 'records: InstanceId and Region first; the build metadata kept, not the image'"'"'s fields' '
	jq -c "keys_unsorted[0:2]" out >actual &&
	printf "%s\n" "[\"InstanceId\",\"Region\"]" "[\"InstanceId\",\"Region\"]" >expect &&
	test_cmp expect actual &&
	jq -c "[.Packer, has(\"CreationDate\"), has(\"Name\"), .PrivateIpAddress, (.LaunchTime | length > 0)]" \
		out >actual &&
	cat >expect <<-\EOF &&
	[{"BuildName":"web","RunUuid":"u-1"},false,false,"127.0.0.1",true]
	[{"BuildName":"web","RunUuid":"u-1"},false,false,"127.0.0.1",true]
	EOF
	test_cmp expect actual
'

test_expect_success 'a re-run with the same run id returns the same instances, launches none' '
	jq -r .InstanceId out >first &&
	ec2-launch --instance-type t3.micro --user-data user-data --run-id run-1 \
		-t Project=web -t Owner=ci images.jsonl >again &&
	jq -r .InstanceId again >second &&
	test_cmp first second &&
	jq -r .Result.Status again >statuses &&
	printf "done\ndone\n" >expect &&
	test_cmp expect statuses &&
	instances >inst &&
	test_line_count = 2 inst
'

test_expect_success 'AMICYCLE_RUN_ID is the same run id as --run-id' '
	AMICYCLE_RUN_ID=run-1 ec2-launch --instance-type t3.micro --user-data user-data \
		-t Project=web -t Owner=ci images.jsonl >again &&
	jq -r .InstanceId again >second &&
	test_cmp first second &&
	instances >inst &&
	test_line_count = 2 inst
'

test_expect_success 'another run id, other options: new instances' '
	ec2-launch --instance-type t3.micro --user-data user-data --run-id run-2 \
		-t Project=web -t Owner=ci images.jsonl >run2 &&
	ec2-launch --instance-type t3.small --run-id run-1 images.jsonl >small &&
	cat first >all && jq -r .InstanceId run2 small >>all &&
	sort -u all >unique &&
	test_line_count = 6 unique &&
	instances >inst &&
	test_line_count = 6 inst
'

test_expect_success 'a CI job is the run: a job re-run (a new attempt) launches anew' '
	GITHUB_RUN_ID=77 GITHUB_RUN_ATTEMPT=1 GITHUB_JOB=test \
		ec2-launch --instance-type t3.nano images.jsonl >gh1 &&
	GITHUB_RUN_ID=77 GITHUB_RUN_ATTEMPT=1 GITHUB_JOB=test \
		ec2-launch --instance-type t3.nano images.jsonl >gh1again &&
	GITHUB_RUN_ID=77 GITHUB_RUN_ATTEMPT=2 GITHUB_JOB=test \
		ec2-launch --instance-type t3.nano images.jsonl >gh2 &&
	CI_JOB_ID=901 ec2-launch --instance-type t3.nano images.jsonl >gl &&
	jq -r .InstanceId gh1 >a && jq -r .InstanceId gh1again >b && test_cmp a b &&
	jq -r "(.Tags | from_entries).TestRunId" gh1 gh2 gl | sort -u >actual &&
	printf "%s\n" github-77-1-test github-77-2-test gitlab-job-901 >expect &&
	test_cmp expect actual &&
	instances >inst &&
	test_line_count = 12 inst
'

test_expect_success 'outside CI without a run id, every run launches anew' '
	ec2-launch --instance-type t3.large images.jsonl >l1 &&
	ec2-launch --instance-type t3.large images.jsonl >l2 &&
	jq -r .InstanceId l1 l2 | sort -u >ids &&
	test_line_count = 4 ids &&
	jq -r "(.Tags | from_entries).TestRunId" l1 l2 | sort -u >runs &&
	test_line_count = 2 runs &&
	test_grep "^local-[0-9a-f]\{16\}$" runs
'

test_expect_success 'key pair, subnet, security groups and an instance profile by name or ARN' '
	ec2_reset_counts &&
	ec2-launch --instance-type t3.micro --run-id opts --key-name ci-key \
		--subnet subnet-0123456789abcdef0 --security-group sg-01234567 \
		--security-group sg-0abcdef0 --iam-profile tester images.jsonl >out &&
	jq -c "[.KeyName, .SubnetId, [.SecurityGroups[].GroupId], .IamInstanceProfile.Arn]" \
		out >actual &&
	cat >expect <<-\EOF &&
	["ci-key","subnet-0123456789abcdef0",["sg-01234567","sg-0abcdef0"],"arn:aws:iam::123456789012:instance-profile/tester"]
	["ci-key","subnet-0123456789abcdef0",["sg-01234567","sg-0abcdef0"],"arn:aws:iam::123456789012:instance-profile/tester"]
	EOF
	test_cmp expect actual &&
	ec2-launch --instance-type t3.micro --run-id opts \
		--iam-profile arn:aws:iam::123456789012:instance-profile/other images.jsonl >out &&
	ec2_requests >requests.json &&
	jq -r ".[] | .Params | to_entries[] | select(.key | startswith(\"IamInstanceProfile\")) |
		\"\(.key)=\(.value)\"" requests.json >actual &&
	cat >expect <<-\EOF &&
	IamInstanceProfile.Name=tester
	IamInstanceProfile.Name=tester
	IamInstanceProfile.Arn=arn:aws:iam::123456789012:instance-profile/other
	IamInstanceProfile.Arn=arn:aws:iam::123456789012:instance-profile/other
	EOF
	test_cmp expect actual
'

test_expect_success 'the same image twice is one instance: one call, both records printed' '
	ec2_reset_counts &&
	cat images.jsonl images.jsonl >twice.jsonl &&
	ec2-launch --instance-type t3.micro --run-id twice twice.jsonl >out &&
	test_line_count = 4 out &&
	jq -r .InstanceId out | sort -u >ids &&
	test_line_count = 2 ids &&
	test "$(ec2_count RunInstances)" = 2
'

test_expect_success 'records without Region go to --region, else the configured region' '
	ec2_reset_counts &&
	echo "{\"ImageId\":\"ami-0e000000000000001\"}" >noregion.jsonl &&
	ec2-launch --instance-type t3.micro --run-id region --region eu-west-1 noregion.jsonl >out &&
	jq -r .Region out >actual && echo eu-west-1 >expect && test_cmp expect actual &&
	echo "{\"ImageId\":\"ami-0a000000000000002\",\"Region\":null}" >null.jsonl &&
	ec2-launch --instance-type t3.micro --run-id region <null.jsonl >out &&
	jq -r .Region out >actual && echo us-east-1 >expect && test_cmp expect actual &&
	test "$(ec2_count RunInstances eu-west-1)" = 1 &&
	test "$(ec2_count RunInstances us-east-1)" = 1
'

test_expect_success 'dry run: DryRun=true, nothing launched, the image records as a plan' '
	instances >before &&
	ec2_reset_counts &&
	ec2-launch --dry-run --instance-type t3.medium --run-id plan images.jsonl >plan 2>err &&
	test_line_count = 0 err &&
	jq -c "[.ImageId, .Region, .Packer.BuildName, .Result.Action, .Result.Status, has(\"InstanceId\")]" \
		plan >actual &&
	cat >expect <<-\EOF &&
	["ami-0a000000000000001","us-east-1","web","ec2-launch","dry-run",false]
	["ami-0e000000000000001","eu-west-1","web","ec2-launch","dry-run",false]
	EOF
	test_cmp expect actual &&
	ec2_requests >requests.json &&
	jq -r ".[] | [.Action, .Params.DryRun, .Code] | @tsv" requests.json >actual &&
	printf "RunInstances\ttrue\tDryRunOperation\n" >expect1 &&
	cat expect1 expect1 >expect &&
	test_cmp expect actual &&
	instances >after &&
	test_cmp before after
'

test_expect_success 'the plan, applied, launches what the images would' '
	ec2-launch --instance-type t3.medium --run-id plan plan >applied &&
	jq -c "[.ImageId, .Region, .Packer.BuildName, .Result.Status, (.InstanceId | startswith(\"i-\"))]" \
		applied >actual &&
	cat >expect <<-\EOF &&
	["ami-0a000000000000001","us-east-1","web","done",true]
	["ami-0e000000000000001","eu-west-1","web","done",true]
	EOF
	test_cmp expect actual &&
	ec2-launch --instance-type t3.medium --run-id plan images.jsonl >direct &&
	jq -r .InstanceId applied >a && jq -r .InstanceId direct >b &&
	test_cmp a b
'

test_expect_success 'a dry run without permission: failed, exit 1, nothing launched' '
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"RunInstances\",\"Region\":\"eu-west-1\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"You are not authorized to perform this operation.\",\"Status\":403}" &&
	instances >before &&
	test_expect_code 1 ec2-launch --dry-run --instance-type t3.micro --run-id deny \
		images.jsonl >plan 2>err &&
	jq -r "[.Region, .Result.Status] | @tsv" plan >actual &&
	printf "us-east-1\tdry-run\neu-west-1\tfailed\n" >expect &&
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^ec2-launch: eu-west-1: RunInstances: UnauthorizedOperation: You are not authorized" err &&
	jq -r "select(.Region == \"eu-west-1\") | .Result.Reason" plan >reason &&
	test_grep "UnauthorizedOperation" reason &&
	instances >after &&
	test_cmp before after
'

test_expect_success 'bad input in line 50 of 100: exit 3, nothing launched' '
	for i in $(seq 1 100); do
		if [ $i = 50 ]; then
			echo "{\"Region\":\"us-east-1\",\"Name\":\"no id\"}"
		else
			sed -n "$((i % 2 + 1))p" images.jsonl
		fi
	done >hundred.jsonl &&
	ec2_reset_counts &&
	test_expect_code 3 ec2-launch --instance-type t3.micro --run-id bad hundred.jsonl >out 2>err &&
	test_line_count = 0 out &&
	echo "ec2-launch: hundred.jsonl:50: no ImageId" >expect &&
	test_cmp expect err &&
	test "$(ec2_count RunInstances)" = 0
'

test_expect_success 'more bad input: not JSON, a number for ImageId, no region anywhere' '
	ec2_reset_counts &&
	printf "%s\n" "{\"ImageId\":\"ami-0a000000000000001\"}" "{\"ImageId\":" >notjson.jsonl &&
	test_expect_code 3 ec2-launch --instance-type t3.micro notjson.jsonl >out 2>err &&
	test_grep "^ec2-launch: notjson.jsonl:2: not valid JSON" err &&
	echo "{\"ImageId\":12}" >number.jsonl &&
	test_expect_code 3 ec2-launch --instance-type t3.micro number.jsonl >out 2>err &&
	test_grep "^ec2-launch: number.jsonl:1: ImageId is not a string" err &&
	(unset AWS_REGION; test_expect_code 3 ec2-launch --instance-type t3.micro noregion.jsonl \
		>out 2>err) &&
	test_grep "^ec2-launch: noregion.jsonl:1: no Region, and no region configured" err &&
	echo "{\"ImageId\":\"ami-0a000000000000001\",\"Region\":[]}" >badregion.jsonl &&
	test_expect_code 3 ec2-launch --instance-type t3.micro badregion.jsonl >out 2>err &&
	test_line_count = 0 out &&
	test "$(ec2_count RunInstances)" = 0
'

test_expect_success 'usage errors: exit 2, nothing launched' '
	ec2_reset_counts &&
	test_expect_code 2 ec2-launch images.jsonl >out 2>err &&
	test_grep "^ec2-launch: --instance-type is required" err &&
	test_expect_code 2 ec2-launch --instance-type t3.micro -t Purpose=x images.jsonl 2>err &&
	test_grep "^ec2-launch: -t Purpose: ec2-launch sets this tag itself" err &&
	test_expect_code 2 ec2-launch --instance-type t3.micro -t novalue images.jsonl 2>err &&
	test_expect_code 2 ec2-launch --instance-type t3.micro -t A=1 -t A=2 images.jsonl 2>err &&
	test_grep "^ec2-launch: -t A: given twice" err &&
	test_expect_code 2 ec2-launch --instance-type t3.micro --security-group web images.jsonl 2>err &&
	test_grep "not a group id" err &&
	test_expect_code 2 ec2-launch --instance-type t3.micro --run-id "" images.jsonl 2>err &&
	test_expect_code 2 ec2-launch --instance-type t3.micro --user-data no-such-file images.jsonl 2>err &&
	test_grep "^ec2-launch: --user-data no-such-file: No such file" err &&
	printf "\377\376binary" >binary &&
	test_expect_code 2 ec2-launch --instance-type t3.micro --user-data binary images.jsonl 2>err &&
	test_grep "not text (UTF-8)" err &&
	head -c 16385 /dev/zero | tr "\0" x >big &&
	test_expect_code 2 ec2-launch --instance-type t3.micro --user-data big images.jsonl 2>err &&
	test_grep "^ec2-launch: --user-data big: more than 16384 bytes" err &&
	test_expect_code 2 ec2-launch --instance-type t3.micro -P 0 images.jsonl 2>err &&
	test "$(ec2_count RunInstances)" = 0
'

test_expect_success 'user data of exactly 16384 bytes is taken' '
	head -c 16384 /dev/zero | tr "\0" y >max &&
	ec2-launch --instance-type t3.micro --run-id max --user-data max images.jsonl >out &&
	instances >inst &&
	jq -r "select(._UserData and (.Tags | from_entries).TestRunId == \"max\") | ._UserData" \
		inst | head -1 | base64 -d >decoded &&
	cmp max decoded
'

test_expect_success 'the audit log: one line per RunInstances, with its outcome, no user data' '
	rm -f audit.jsonl &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"RunInstances\",\"Region\":\"eu-west-1\",\"Code\":\"InvalidAMIID.NotFound\",\"Message\":\"The image id does not exist\"}" &&
	test_expect_code 1 ec2-launch --instance-type t3.micro --user-data user-data --run-id audit \
		--audit audit.jsonl images.jsonl >out 2>err &&
	ec2-launch --dry-run --instance-type t3.micro --run-id audit images.jsonl \
		>plan 2>err &&
	AMICYCLE_AUDIT_LOG=audit.jsonl ec2-launch --dry-run --instance-type t3.micro \
		--run-id audit images.jsonl >plan &&
	jq -r "[.Program, .Region, .Action, .Outcome, .DryRun, (.Resources | unique | join(\",\"))] | @tsv" \
		audit.jsonl >actual &&
	id=$(jq -r "select(.Region == \"us-east-1\") | .InstanceId" out) &&
	cat >expect <<-EOF &&
	ec2-launch	us-east-1	RunInstances	done	false	ami-0a000000000000001,$id
	ec2-launch	eu-west-1	RunInstances	failed	false	ami-0e000000000000001
	ec2-launch	us-east-1	RunInstances	dry-run	true	ami-0a000000000000001
	ec2-launch	eu-west-1	RunInstances	dry-run	true	ami-0e000000000000001
	EOF
	sort expect >expect.s && sort actual >actual.s &&
	test_cmp expect.s actual.s &&
	jq -r "select(.Outcome == \"done\") | .RequestId" audit.jsonl >a &&
	jq -r "select(.Result.Status == \"done\") | .Result.RequestId" out >b &&
	test_cmp b a &&
	jq -r "select(.Outcome == \"failed\") | .Code" audit.jsonl >actual &&
	echo InvalidAMIID.NotFound >expect && test_cmp expect actual &&
	jq -r ".Parameters.UserData" audit.jsonl | sort -u >actual &&
	printf "null\nsha256:%s\n" "$(sha256sum <user-data | cut -d" " -f1)" >expect &&
	test_cmp expect actual &&
	test_grep -v cloud-config audit.jsonl
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./seed.json$" >leaks;
	test_line_count = 0 leaks
'

test_done
