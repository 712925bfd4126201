#!/bin/bash
# copy-image against the local EC2 endpoint: copies to two regions with their tags and
# snapshots, names, encryption, --wait, the source's own region, the audit log, failures.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {
    "Images": [
      {"ImageId": "ami-0a000000000000001", "Name": "web-1", "Description": "web server",
       "CreationDate": "2024-05-01T12:00:00.000Z",
       "Tags": [{"Key": "Project", "Value": "web"}, {"Key": "Version", "Value": "1.2"}],
       "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8, "DeleteOnTermination": true}}]},
      {"ImageId": "ami-0a000000000000002", "Name": "web-2", "CreationDate": "2024-06-01T12:00:00.000Z",
       "Tags": [{"Key": "Project", "Value": "web"}],
       "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000002", "VolumeSize": 8, "DeleteOnTermination": true}}]},
      {"ImageId": "ami-0a000000000000003", "Name": "web-3", "CreationDate": "2024-06-02T12:00:00.000Z"},
      {"ImageId": "ami-0a000000000000004", "Name": "web-4", "CreationDate": "2024-06-03T12:00:00.000Z"},
      {"ImageId": "ami-0a000000000000005", "CreationDate": "2024-06-04T12:00:00.000Z"},
      {"ImageId": "ami-0a000000000000006", "Name": "a*b", "CreationDate": "2024-06-05T12:00:00.000Z"},
      {"ImageId": "ami-0a000000000000007", "Name": "many-3", "CreationDate": "2024-06-06T12:00:00.000Z"}
    ],
    "Snapshots": [
      {"SnapshotId": "snap-0a000000000000001", "VolumeSize": 8, "StartTime": "2024-05-01T11:00:00.000Z"},
      {"SnapshotId": "snap-0a000000000000002", "VolumeSize": 8, "StartTime": "2024-06-01T11:00:00.000Z"}
    ],
    "Instances": [{"InstanceId": "i-0a000000000000001", "ImageId": "ami-0a000000000000001"}]
  },
  "us-west-2": {}, "eu-west-1": {}
}}
EOF

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'an image copied to two regions: one record per copy, in --to order' '
	echo "{\"ImageId\":\"ami-0a000000000000001\",\"Region\":\"us-east-1\",\"Name\":\"web-1\",\"Packer\":{\"Version\":\"1.2\"}}" >web1.jsonl &&
	copy-image --to us-west-2 --to eu-west-1 --audit audit.log web1.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.Region, .SourceImageId, .SourceRegion, .Name, .State, .Result.Action, .Result.Status] | @tsv" out >actual &&
	cat >expect <<-\EOF &&
	us-west-2	ami-0a000000000000001	us-east-1	web-1	pending	copy-image	done
	eu-west-1	ami-0a000000000000001	us-east-1	web-1	pending	copy-image	done
	EOF
	test_cmp expect actual &&
	jq -r .ImageId out >new-ids &&
	test_line_count = 2 new-ids &&
	grep -v ami-0a000000000000001 new-ids >other &&
	test_line_count = 2 other
'

test_expect_success 'the records carry the tags the copies got, and the pipeline fields' '
	jq -c "[.Tags, .Packer]" out >actual &&
	cat >expect <<-\EOF &&
	[[{"Key":"Project","Value":"web"},{"Key":"Version","Value":"1.2"},{"Key":"SourceImageId","Value":"ami-0a000000000000001"},{"Key":"SourceRegion","Value":"us-east-1"},{"Key":"SourceAccount","Value":"123456789012"}],{"Version":"1.2"}]
	[[{"Key":"Project","Value":"web"},{"Key":"Version","Value":"1.2"},{"Key":"SourceImageId","Value":"ami-0a000000000000001"},{"Key":"SourceRegion","Value":"us-east-1"},{"Key":"SourceAccount","Value":"123456789012"}],{"Version":"1.2"}]
	EOF
	test_cmp expect actual
'

test_expect_success 'the endpoint has each copy, its tags and a new snapshot, in its region' '
	for r in us-west-2 eu-west-1; do
		id=$(jq -r "select(.Region == \"$r\") | .ImageId" out) &&
		ec2_state $r >state &&
		jq -c ".Regions[\"$r\"].Images[] | [.ImageId, .Name, .Description, .SourceImageId, .Tags]" state >actual &&
		echo "[\"$id\",\"web-1\",\"web server\",\"ami-0a000000000000001\",[{\"Key\":\"Project\",\"Value\":\"web\"},{\"Key\":\"Version\",\"Value\":\"1.2\"},{\"Key\":\"SourceImageId\",\"Value\":\"ami-0a000000000000001\"},{\"Key\":\"SourceRegion\",\"Value\":\"us-east-1\"},{\"Key\":\"SourceAccount\",\"Value\":\"123456789012\"}]]" >expect &&
		test_cmp expect actual &&
		snap=$(jq -r ".Regions[\"$r\"].Images[0].BlockDeviceMappings[0].Ebs.SnapshotId" state) &&
		jq -r ".Regions[\"$r\"].Snapshots[] | [.SnapshotId, .Description] | @tsv" state >actual &&
		test_grep "^$snap	Copied for DestinationAmi $id from SourceAmi ami-0a000000000000001 " actual &&
		test_line_count = 1 actual || return 1
	done
'

test_expect_success 'each call went to its destination with CopyImageTags, the lineage tags and a ClientToken' '
	ec2_requests >reqs &&
	jq -c "[.[] | select(.Action == \"CopyImage\") | {Region, Params: (.Params | del(.ClientToken))}] | sort_by(.Region) | .[]" reqs >actual &&
	cat >expect <<-\EOF &&
	{"Region":"eu-west-1","Params":{"CopyImageTags":"true","Description":"web server","Name":"web-1","SourceImageId":"ami-0a000000000000001","SourceRegion":"us-east-1","TagSpecification.1.ResourceType":"image","TagSpecification.1.Tag.1.Key":"Version","TagSpecification.1.Tag.1.Value":"1.2","TagSpecification.1.Tag.2.Key":"SourceImageId","TagSpecification.1.Tag.2.Value":"ami-0a000000000000001","TagSpecification.1.Tag.3.Key":"SourceRegion","TagSpecification.1.Tag.3.Value":"us-east-1","TagSpecification.1.Tag.4.Key":"SourceAccount","TagSpecification.1.Tag.4.Value":"123456789012"}}
	{"Region":"us-west-2","Params":{"CopyImageTags":"true","Description":"web server","Name":"web-1","SourceImageId":"ami-0a000000000000001","SourceRegion":"us-east-1","TagSpecification.1.ResourceType":"image","TagSpecification.1.Tag.1.Key":"Version","TagSpecification.1.Tag.1.Value":"1.2","TagSpecification.1.Tag.2.Key":"SourceImageId","TagSpecification.1.Tag.2.Value":"ami-0a000000000000001","TagSpecification.1.Tag.3.Key":"SourceRegion","TagSpecification.1.Tag.3.Value":"us-east-1","TagSpecification.1.Tag.4.Key":"SourceAccount","TagSpecification.1.Tag.4.Value":"123456789012"}}
	EOF
	test_json_eq expect actual &&
	jq -r ".[] | select(.Action == \"CopyImage\") | .Params.ClientToken" reqs >tokens &&
	test_line_count = 2 tokens &&
	grep -E "^copy-image-[0-9a-f]{47}$" tokens >good &&
	test_line_count = 2 good &&
	test "$(sort -u tokens | wc -l)" = 2
'

test_expect_success 'the audit log: one line per call, with its request id and outcome' '
	test_line_count = 2 audit.log &&
	jq -r "[.Program, .Action, .Region, .Outcome, .DryRun, .Parameters.SourceImageId] | @tsv" audit.log | sort >actual &&
	cat >expect <<-\EOF &&
	copy-image	CopyImage	eu-west-1	done	false	ami-0a000000000000001
	copy-image	CopyImage	us-west-2	done	false	ami-0a000000000000001
	EOF
	test_cmp expect actual &&
	jq -r "[.Region, .RequestId] | @tsv" audit.log | sort >actual &&
	jq -r "[.Region, .Result.RequestId] | @tsv" out | sort >expect &&
	test_cmp expect actual &&
	for id in $(cat new-ids); do
		test_grep "\"Resources\":\[\"ami-0a000000000000001\",\"$id\"\]" audit.log || return 1
	done
'

test_expect_success 'the destination that is the source region is skipped: its record is the source' '
	ec2_reset_counts &&
	echo "{\"ImageId\":\"ami-0a000000000000003\"}" >web3.jsonl &&
	copy-image --to us-east-1 web3.jsonl >out &&
	jq -r "[.ImageId, .Region, .SourceImageId, .SourceRegion, .Name, .State, .Result.Status, .Result.Reason] | @tsv" out >actual &&
	printf "ami-0a000000000000003\tus-east-1\tami-0a000000000000003\tus-east-1\tweb-3\tavailable\tskipped\tthe image is in us-east-1 already\n" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count CopyImage)" = 0
'

test_expect_success '--name: a template of the source name, id and both regions' '
	ec2_reset_counts &&
	copy-image --to eu-west-1 --name "{name} {id} from {source_region} to {region}" web3.jsonl >out &&
	jq -r .Name out >actual &&
	echo "web-3 ami-0a000000000000003 from us-east-1 to eu-west-1" >expect &&
	test_cmp expect actual &&
	ec2_requests >reqs &&
	jq -r ".[] | select(.Action == \"CopyImage\") | .Params.Name" reqs >actual &&
	test_cmp expect actual
'

test_expect_success '--encrypted with a KMS key for one region, the default key in the other' '
	ec2_reset_counts &&
	echo "{\"ImageId\":\"ami-0a000000000000002\",\"Name\":\"web-2\"}" >web2.jsonl &&
	copy-image --to us-west-2,eu-west-1 --encrypted --kms-key us-west-2=alias/images-west \
		web2.jsonl >out &&
	ec2_requests >reqs &&
	jq -c "[.[] | select(.Action == \"CopyImage\") | {Region, Encrypted: .Params.Encrypted, KmsKeyId: .Params.KmsKeyId}] | sort_by(.Region) | .[]" reqs >actual &&
	cat >expect <<-\EOF &&
	{"Region":"eu-west-1","Encrypted":"true","KmsKeyId":null}
	{"Region":"us-west-2","Encrypted":"true","KmsKeyId":"alias/images-west"}
	EOF
	test_cmp expect actual &&
	jq -c "[.Region, .Encrypted, .KmsKeyId, .BlockDeviceMappings[0].Ebs.Encrypted]" out >actual &&
	cat >expect <<-\EOF &&
	["us-west-2",true,"alias/images-west",true]
	["eu-west-1",true,null,true]
	EOF
	test_cmp expect actual &&
	snap=$(jq -r "select(.Region == \"us-west-2\") | .BlockDeviceMappings[0].Ebs.SnapshotId" out) &&
	ec2_state us-west-2 >state &&
	jq -r ".Regions[\"us-west-2\"].Snapshots[] | select(.SnapshotId == \"$snap\") | [.Encrypted, .KmsKeyId] | @tsv" state >actual &&
	printf "true\talias/images-west\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--wait: the copies are printed once available' '
	ec2_settings "{\"ImagePendingDescribes\":2}" &&
	ec2_reset_counts &&
	echo "{\"ImageId\":\"ami-0a000000000000004\",\"Region\":\"us-east-1\"}" >web4.jsonl &&
	copy-image --to us-west-2 --to eu-west-1 --wait web4.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r "[.Region, .Name, .State, .Result.Status] | @tsv" out >actual &&
	printf "us-west-2\tweb-4\tavailable\tdone\neu-west-1\tweb-4\tavailable\tdone\n" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeImages us-west-2)" = 3 &&
	test "$(ec2_count DescribeImages eu-west-1)" = 3
'

test_expect_success 'a copy that fails is reported; the others are done; exit 1' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"CopyImage\",\"Region\":\"eu-west-1\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"You are not authorized to perform this operation.\",\"Status\":403}" &&
	test_expect_code 1 copy-image --to us-west-2,eu-west-1 --audit audit2.log web3.jsonl >out 2>err &&
	jq -r "[.Region, .Result.Status, .Result.Reason] | @tsv" out >actual &&
	printf "us-west-2\tdone\t\neu-west-1\tfailed\t%s\n" "$(cat err | sed "s/^copy-image: //")" >expect &&
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^copy-image: eu-west-1: CopyImage: UnauthorizedOperation: .*(request id [-0-9a-f]*)$" err &&
	jq -r "[.Region, .Outcome] | @tsv" audit2.log | sort >actual &&
	printf "eu-west-1\tfailed\nus-west-2\tdone\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'an image that does not exist: failed, not called, the others done' '
	ec2_reset_counts &&
	printf "%s\n" "{\"ImageId\":\"ami-0a0000000000000ff\",\"Name\":\"gone\"}" \
		"{\"ImageId\":\"ami-0a000000000000003\"}" >missing.jsonl &&
	test_expect_code 1 copy-image --to us-west-2 missing.jsonl >out 2>err &&
	jq -r "[.SourceImageId, .Region, .Result.Status, .Result.Reason] | @tsv" out >actual &&
	printf "ami-0a0000000000000ff\tus-west-2\tfailed\tno image ami-0a0000000000000ff in us-east-1\nami-0a000000000000003\tus-west-2\tdone\t\n" >expect &&
	test_cmp expect actual &&
	echo "copy-image: us-east-1 ami-0a0000000000000ff: no such image" >expect &&
	test_cmp expect err &&
	test "$(ec2_count CopyImage)" = 1
'

test_expect_success 'describing the images fails: nothing copied, nothing printed, exit 1' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DescribeImages\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"You are not authorized to perform this operation.\",\"Status\":403}" &&
	test_expect_code 1 copy-image --to us-west-2 web3.jsonl >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "^copy-image: us-east-1: DescribeImages: UnauthorizedOperation: " err &&
	test "$(ec2_count CopyImage)" = 0
'

test_expect_success 'usage errors: exit 2, nothing called' '
	ec2_reset_counts &&
	test_expect_code 2 copy-image --to us-west-2 --kms-key us-west-2=k web1.jsonl 2>err &&
	test_grep "only with --encrypted" err &&
	test_expect_code 2 copy-image --to us-west-2 --encrypted --kms-key eu-west-1=k web1.jsonl 2>err &&
	test_grep "eu-west-1 is not a region of --to" err &&
	test_expect_code 2 copy-image --to us-west-2 --encrypted --kms-key eu-west-1 web1.jsonl 2>err &&
	test_expect_code 2 copy-image --to us-west-2 --name "{name}-{version}" web1.jsonl 2>err &&
	test_grep "unknown placeholder at .{version}" err &&
	test_expect_code 2 copy-image --to us-west-2 --timeout 5m web1.jsonl 2>err &&
	test_grep "only with --wait" err &&
	test_expect_code 2 copy-image --to us-west-2 --wait --timeout soon web1.jsonl 2>err &&
	test_expect_code 2 copy-image --to "US West" web1.jsonl 2>err &&
	test_expect_code 2 copy-image --to us-west-2, web1.jsonl 2>err &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

# 100 images; line 50 of the input is broken in a different way each time.
jq -n '{Regions: {"us-east-1": {Images: [range(100) | {ImageId: ("ami-0b\(100000000000000 + .)"),
	Name: "many-\(.)", CreationDate: "2024-01-01T00:00:00.000Z"}]}}}' >many.json

test_expect_success 'bad input at line 50 of 100: exit 3 naming the line, nothing copied, nothing logged' '
	ec2_seed many.json merge &&
	jq -c ".Regions[\"us-east-1\"].Images[] | {ImageId, Name, Region: \"us-east-1\"}" many.json >good.jsonl &&
	test_line_count = 100 good.jsonl &&
	check_bad () {
		ec2_reset_counts &&
		{ head -n 49 good.jsonl && echo "$1" && tail -n 50 good.jsonl; } >bad.jsonl &&
		test_expect_code 3 copy-image --to us-west-2 --to eu-west-1 --audit bad.log bad.jsonl >out 2>err &&
		test_line_count = 0 out &&
		test_line_count = 1 err &&
		test_grep "^copy-image: bad.jsonl:50: $2" err &&
		test "$(ec2_count CopyImage)" = 0 &&
		! test -s bad.log
	} &&
	check_bad "{\"ImageId\": " "" &&
	check_bad "[1,2]" "" &&
	check_bad "{\"Name\":\"x\"}" "no ImageId or SourceImageId" &&
	check_bad "{\"ImageId\":7,\"Name\":\"x\"}" "ImageId is not a string" &&
	check_bad "{\"ImageId\":\"\",\"Name\":\"x\"}" "ImageId .. is not an id: ami- and 8 or 17 hex digits" &&
	check_bad "{\"ImageId\":\"i-0a000000000000001\"}" "ImageId .i-0a000000000000001. is not an id: ami- and 8 or 17 hex digits" &&
	check_bad "{\"InstanceId\":\"i-0a000000000000001\",\"ImageId\":\"ami-0a000000000000001\"}" "an instance record" &&
	check_bad "{\"ImageId\":\"ami-0a000000000000005\",\"Region\":\"us-east-1\"}" "ami-0a000000000000005: no Name, which --name .{name}. uses" &&
	check_bad "{\"ImageId\":\"ami-0a000000000000006\",\"Name\":\"ok-name\"}" "name .a\*b.: not an image name" &&
	check_bad "{\"ImageId\":\"ami-0a000000000000007\"}" "two copies named .many-3. in us-west-2: us-east-1 ami-0b100000000000003 and us-east-1 ami-0a000000000000007" &&
	check_bad "{\"ImageId\":\"ami-0a000000000000001\",\"Name\":\"ok-name\",\"Region\":5}" "Region is not a string" &&
	check_bad "{\"ImageId\":\"ami-0a000000000000001\",\"Region\":\"us east\"}" "Region .us east. is not a region name" &&
	check_bad "{\"SourceImageId\":\"ami-0a000000000000001\",\"SourceRegion\":\"us-east-1\",\"Region\":\"eu-west-1\",\"Name\":\"web-1\"}" "a planned copy .* no --to"
'

test_expect_success 'no Region anywhere: bad input; without --to, an own image is in its region already' '
	ec2_reset_counts &&
	echo "{\"ImageId\":\"ami-0a000000000000001\",\"Name\":\"web-1\"}" >noregion.jsonl &&
	(unset AWS_REGION; test_expect_code 3 copy-image --to us-west-2 noregion.jsonl >out 2>err) &&
	test_grep "^copy-image: noregion.jsonl:1: no Region, and no region configured" err &&
	copy-image web1.jsonl >out 2>err &&
	jq -r "[.ImageId, .Region, .Result.Status, .Result.Reason] | @tsv" out >actual &&
	printf "ami-0a000000000000001\tus-east-1\tskipped\tthe image is in us-east-1 already\n" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count CopyImage)" = 0 &&
	test "$(ec2_count GetCallerIdentity)" = 1
'

test_expect_success 'no input: no output, no calls' '
	ec2_reset_counts &&
	copy-image --to us-west-2 </dev/null >out &&
	test_line_count = 0 out &&
	test "$(ec2_admin GET /_admin/counts | jq .Total)" = 0
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./seed.json$" >leaks;
	test_line_count = 0 leaks
'

test_done
