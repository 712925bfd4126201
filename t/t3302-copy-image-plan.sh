#!/bin/bash
# copy-image --dry-run: DryRun=true calls, nothing copied, and a plan that copy-image applies as
# it is, with the same tokens and the same result as the run without --dry-run.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

jq -n '{Regions: {"us-east-1": {Images: [range(1; 5) | {ImageId: ("ami-0a00000000000000\(.)"),
	Name: "web-\(.)", Description: "web \(.)", CreationDate: "2024-05-01T12:00:00.000Z",
	Tags: [{Key: "Project", Value: "web"}]}]}, "us-west-2": {}, "eu-west-1": {}}}' >seed.json

# images_in REGION: the names of the images in REGION, as the endpoint has them.
images_in () {
	ec2_state "$1" >state.json &&
	jq -r --arg r "$1" '.Regions[$r].Images[] | .Name' state.json | sort
}

# copy_tokens: region, source and ClientToken of each CopyImage request since the counts were reset.
copy_tokens () {
	ec2_requests >reqs.json &&
	jq -r '.[] | select(.Action == "CopyImage") | [.Region, .Params.SourceImageId, .Params.ClientToken] | @tsv' reqs.json | sort
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	printf "%s\n" "{\"ImageId\":\"ami-0a000000000000001\",\"Region\":\"us-east-1\",\"Packer\":{\"BuildNumber\":\"7\"}}" \
		"{\"ImageId\":\"ami-0a000000000000002\",\"Region\":\"us-east-1\"}" >src.jsonl
'

test_expect_success 'a dry run: DryRun=true calls, one plan record per copy, nothing copied' '
	ec2_reset_counts &&
	copy-image --dry-run --to us-west-2,eu-west-1,us-east-1 --audit dry.log src.jsonl >plan 2>err &&
	test_line_count = 0 err &&
	jq -r "[.SourceImageId, .SourceRegion, .Region, .Name, .Description, (has(\"ImageId\")), .Result.Status] | @tsv" plan >actual &&
	cat >expect <<-\EOF &&
	ami-0a000000000000001	us-east-1	us-west-2	web-1	web 1	false	dry-run
	ami-0a000000000000001	us-east-1	eu-west-1	web-1	web 1	false	dry-run
	ami-0a000000000000001	us-east-1	us-east-1	web-1	web 1	false	skipped
	ami-0a000000000000002	us-east-1	us-west-2	web-2	web 2	false	dry-run
	ami-0a000000000000002	us-east-1	eu-west-1	web-2	web 2	false	dry-run
	ami-0a000000000000002	us-east-1	us-east-1	web-2	web 2	false	skipped
	EOF
	test_cmp expect actual &&
	jq -c "[.Tags, .Packer]" plan | sort -u >actual &&
	printf "%s\n" "[[{\"Key\":\"Project\",\"Value\":\"web\"},{\"Key\":\"SourceImageId\",\"Value\":\"ami-0a000000000000001\"},{\"Key\":\"SourceRegion\",\"Value\":\"us-east-1\"},{\"Key\":\"SourceAccount\",\"Value\":\"123456789012\"}],{\"BuildNumber\":\"7\"}]" \
		"[[{\"Key\":\"Project\",\"Value\":\"web\"},{\"Key\":\"SourceImageId\",\"Value\":\"ami-0a000000000000002\"},{\"Key\":\"SourceRegion\",\"Value\":\"us-east-1\"},{\"Key\":\"SourceAccount\",\"Value\":\"123456789012\"}],null]" \
		"[[{\"Key\":\"Project\",\"Value\":\"web\"}],null]" \
		"[[{\"Key\":\"Project\",\"Value\":\"web\"}],{\"BuildNumber\":\"7\"}]" >expect &&
	test_cmp expect actual &&
	ec2_requests >reqs.json &&
	jq -r ".[] | select(.Action == \"CopyImage\") | .Params.DryRun" reqs.json >actual &&
	printf "true\ntrue\ntrue\ntrue\n" >expect &&
	test_cmp expect actual &&
	copy_tokens >dry.tokens &&
	images_in us-west-2 >names &&
	images_in eu-west-1 >>names &&
	test_line_count = 0 names &&
	jq -r "[.Outcome, .DryRun] | @tsv" dry.log | sort -u >actual &&
	printf "dry-run\ttrue\n" >expect &&
	test_cmp expect actual &&
	test_line_count = 4 dry.log
'

test_expect_success 'applying the plan copies what it says, with the same tokens' '
	ec2_reset_counts &&
	copy-image --audit apply.log <plan >applied 2>err &&
	test_line_count = 0 err &&
	jq -r "[.SourceImageId, .Region, .Name, (.ImageId != null), .Result.Status] | @tsv" applied >actual &&
	cat >expect <<-\EOF &&
	ami-0a000000000000001	us-west-2	web-1	true	done
	ami-0a000000000000001	eu-west-1	web-1	true	done
	ami-0a000000000000001	us-east-1	web-1	true	skipped
	ami-0a000000000000002	us-west-2	web-2	true	done
	ami-0a000000000000002	eu-west-1	web-2	true	done
	ami-0a000000000000002	us-east-1	web-2	true	skipped
	EOF
	test_cmp expect actual &&
	copy_tokens >apply.tokens &&
	test_cmp dry.tokens apply.tokens &&
	printf "web-1\nweb-2\n" >expect &&
	images_in us-west-2 >actual &&
	test_cmp expect actual &&
	images_in eu-west-1 >actual &&
	test_cmp expect actual &&
	jq -r "[.Outcome, .DryRun] | @tsv" apply.log | sort -u >actual &&
	printf "done\tfalse\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the run without --dry-run does the same: same images, same records' '
	ec2_reset_counts &&
	copy-image --to us-west-2,eu-west-1,us-east-1 src.jsonl >direct &&
	copy_tokens >direct.tokens &&
	test_cmp dry.tokens direct.tokens &&
	jq -c "del(.State, .Result.RequestId)" applied >expect &&
	jq -c "del(.State, .Result.RequestId)" direct >actual &&
	test_json_eq expect actual &&
	printf "web-1\nweb-2\n" >expect &&
	images_in us-west-2 >actual &&
	test_cmp expect actual
'

test_expect_success 'a plan for encrypted copies keeps the encryption' '
	echo "{\"ImageId\":\"ami-0a000000000000003\"}" >web3.jsonl &&
	copy-image --dry-run --to us-west-2,eu-west-1 --encrypted --kms-key us-west-2=alias/k \
		--name "{name}-enc" web3.jsonl >plan3 &&
	jq -c "[.Region, .Name, .Encrypted, .KmsKeyId]" plan3 >actual &&
	cat >expect <<-\EOF &&
	["us-west-2","web-3-enc",true,"alias/k"]
	["eu-west-1","web-3-enc",true,null]
	EOF
	test_cmp expect actual &&
	ec2_reset_counts &&
	copy-image --wait <plan3 >out &&
	ec2_requests >reqs.json &&
	jq -c "[.[] | select(.Action == \"CopyImage\") | [.Region, .Params.Encrypted, .Params.KmsKeyId]] | sort | .[]" reqs.json >actual &&
	cat >expect <<-\EOF &&
	["eu-west-1","true",null]
	["us-west-2","true","alias/k"]
	EOF
	test_cmp expect actual &&
	jq -r "[.Region, .Name, .State, .Encrypted] | @tsv" out >actual &&
	printf "us-west-2\tweb-3-enc\tavailable\ttrue\neu-west-1\tweb-3-enc\tavailable\ttrue\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a plan takes no --to, --name or --encrypted; a broken plan is bad input' '
	ec2_reset_counts &&
	test_expect_code 3 copy-image --to us-west-2 <plan >out 2>err &&
	test_grep "^copy-image: stdin:1: a planned copy .* no --to, --name, --encrypted or --kms-key with it" err &&
	test_expect_code 3 copy-image --name x-{name} <plan >out 2>err &&
	test_expect_code 3 copy-image --encrypted <plan >out 2>err &&
	jq -c "del(.Name)" plan >noname &&
	test_expect_code 3 copy-image noname >out 2>err &&
	test_grep "^copy-image: noname:1: a planned copy (SourceImageId, no ImageId) without a Name string" err &&
	jq -c ".Encrypted = \"yes\"" plan >badenc &&
	test_expect_code 3 copy-image badenc >out 2>err &&
	test_grep "^copy-image: badenc:1: Encrypted: not true or false" err &&
	jq -c ".KmsKeyId = \"alias/k\"" plan >kmsonly &&
	test_expect_code 3 copy-image kmsonly >out 2>err &&
	test_grep "^copy-image: kmsonly:1: KmsKeyId without \"Encrypted\":true" err &&
	test "$(ec2_count CopyImage)" = 0
'

test_expect_success 'a dry run that EC2 would refuse: failed with the reason, exit 1' '
	echo "{\"Deny\": [{\"Action\": \"CopyImage\", \"Region\": \"eu-west-1\"}]}" >deny.json &&
	ec2_seed deny.json merge &&
	echo "{\"ImageId\":\"ami-0a000000000000004\"}" >web4.jsonl &&
	test_expect_code 1 copy-image --dry-run --to us-west-2,eu-west-1 web4.jsonl >out 2>err &&
	jq -r "[.Region, .Result.Status, .Result.Reason] | @tsv" out >actual &&
	printf "us-west-2\tdry-run\t\neu-west-1\tfailed\t%s\n" "$(sed "s/^copy-image: //" err)" >expect &&
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^copy-image: eu-west-1: CopyImage: UnauthorizedOperation: " err
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . >leaks;
	test_line_count = 0 leaks
'

test_done
