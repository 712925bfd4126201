#!/bin/bash
# tag: sets and deletes tags on images, their snapshots and instances, writes the records back with
# their updated Tags and a Result, plans with --dry-run, skips what is gone, and audits every call.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

# Three images in us-east-1 (the second with two snapshots, the third sharing the first's), an
# instance of the first, and an image in eu-west-1.
cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {
    "Images": [
      {"ImageId": "ami-0a000000000000001", "Name": "web-1", "CreationDate": "2026-01-01T00:00:00.000Z",
       "Tags": [{"Key": "Project", "Value": "web"}, {"Key": "Stage", "Value": "candidate"},
                {"Key": "Build", "Value": "1"}],
       "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000001"}},
                               {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"}]},
      {"ImageId": "ami-0a000000000000002", "Name": "web-2", "CreationDate": "2026-01-02T00:00:00.000Z",
       "Tags": [{"Key": "Project", "Value": "web"}, {"Key": "Stage", "Value": "released"}],
       "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000002"}},
                               {"DeviceName": "/dev/xvdb", "Ebs": {"SnapshotId": "snap-0a000000000000003"}}]},
      {"ImageId": "ami-0a000000000000003", "Name": "web-3", "CreationDate": "2026-01-03T00:00:00.000Z",
       "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0a000000000000001"}}]}],
    "Snapshots": [{"SnapshotId": "snap-0a000000000000001"}, {"SnapshotId": "snap-0a000000000000002"},
                  {"SnapshotId": "snap-0a000000000000003"}],
    "Instances": [{"InstanceId": "i-0a000000000000001", "ImageId": "ami-0a000000000000001"}]},
  "eu-west-1": {
    "Images": [{"ImageId": "ami-0e000000000000001", "Name": "web-1-eu", "CreationDate": "2026-01-01T00:00:00.000Z",
                "Tags": [{"Key": "Project", "Value": "web"}]}]}}}
EOF

# tags_of REGION: "ID KEY=VALUE,..." for every image, snapshot and instance, from the endpoint's state.
tags_of () {
	ec2_state "$1" >state.json &&
	jq -r --arg r "$1" '.Regions[$r] | (.Images[], .Snapshots[], (.Reservations[].Instances[])) |
		"\(.InstanceId // .ImageId // .SnapshotId) \((.Tags // []) | map(.Key + "=" + .Value) | join(","))"' \
		state.json | sort
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	ec2-describe images >images.jsonl &&
	ec2-describe images --region eu-west-1 >images-eu.jsonl &&
	ec2-describe instances >instances.jsonl &&
	test_line_count = 3 images.jsonl
'

test_expect_success 'tag sets tags in one CreateTags call; records carry the merged Tags' '
	ec2_reset_counts &&
	tag -t Stage=promoted -t Owner=ci --audit audit.log <images.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -c "[.ImageId, .Tags, .Result.Action, .Result.Status]" out >actual &&
	cat >expect <<-\EOF &&
	["ami-0a000000000000001",[{"Key":"Project","Value":"web"},{"Key":"Stage","Value":"promoted"},{"Key":"Build","Value":"1"},{"Key":"Owner","Value":"ci"}],"tag","done"]
	["ami-0a000000000000002",[{"Key":"Project","Value":"web"},{"Key":"Stage","Value":"promoted"},{"Key":"Owner","Value":"ci"}],"tag","done"]
	["ami-0a000000000000003",[{"Key":"Stage","Value":"promoted"},{"Key":"Owner","Value":"ci"}],"tag","done"]
	EOF
	test_cmp expect actual &&
	test "$(ec2_count CreateTags)" = 1 &&
	test "$(ec2_count DeleteTags)" = 0 &&
	tags_of us-east-1 >actual &&
	cat >expect <<-\EOF &&
	ami-0a000000000000001 Project=web,Stage=promoted,Build=1,Owner=ci
	ami-0a000000000000002 Project=web,Stage=promoted,Owner=ci
	ami-0a000000000000003 Stage=promoted,Owner=ci
	i-0a000000000000001 
	snap-0a000000000000001 
	snap-0a000000000000002 
	snap-0a000000000000003 
	EOF
	test_cmp expect actual
'

test_expect_success 'the rest of each record is kept, Result carries the request id' '
	jq -c "del(.Tags, .Result)" images.jsonl >expect &&
	jq -c "del(.Tags, .Result)" out >actual &&
	test_cmp expect actual &&
	jq -r .Result.RequestId out | sort -u >ids &&
	test_line_count = 1 ids &&
	grep -E "^[0-9a-f-]{36}$" ids
'

test_expect_success 'the audit log has the call: request id, outcome, resource ids, no secret' '
	test_line_count = 1 audit.log &&
	jq -c "[.Program, .Region, .Action, .Outcome, .DryRun, .Resources, .Parameters.Tags]" audit.log >actual &&
	echo "[\"tag\",\"us-east-1\",\"CreateTags\",\"done\",false,[\"ami-0a000000000000001\",\"ami-0a000000000000002\",\"ami-0a000000000000003\"],[{\"Key\":\"Stage\",\"Value\":\"promoted\"},{\"Key\":\"Owner\",\"Value\":\"ci\"}]]" >expect &&
	test_cmp expect actual &&
	jq -r .RequestId audit.log >audit-ids &&
	test_cmp ids audit-ids &&
	test_grep -v amicycle-secret audit.log
'

test_expect_success 'tagging again is harmless: done again, the same state' '
	tags_of us-east-1 >before &&
	ec2_reset_counts &&
	tag -t Stage=promoted -t Owner=ci <images.jsonl >again &&
	jq -c "del(.Result.RequestId)" out >expect &&
	jq -c "del(.Result.RequestId)" again >actual &&
	test_cmp expect actual &&
	tags_of us-east-1 >after &&
	test_cmp before after &&
	test "$(ec2_count CreateTags)" = 1
'

test_expect_success 'a value may contain "=", and KEY= sets an empty value' '
	tag -t "Url=https://x/?a=b" -t Empty= <out >out2 &&
	jq -c "[.Tags[] | select(.Key == \"Url\" or .Key == \"Empty\")]" out2 | sort -u >actual &&
	echo "[{\"Key\":\"Url\",\"Value\":\"https://x/?a=b\"},{\"Key\":\"Empty\",\"Value\":\"\"}]" >expect &&
	test_cmp expect actual &&
	tags_of us-east-1 >state &&
	test_grep "^ami-0a000000000000003 Stage=promoted,Owner=ci,Url=https://x/?a=b,Empty=$" state
'

test_expect_success '--delete KEY drops any value, KEY=VALUE only that value' '
	ec2_reset_counts &&
	tag --delete Url --delete Empty= --delete Stage=released --delete Owner=someone-else <out2 >out3 &&
	jq -c "[.ImageId, .Tags]" out3 >actual &&
	cat >expect <<-\EOF &&
	["ami-0a000000000000001",[{"Key":"Project","Value":"web"},{"Key":"Stage","Value":"promoted"},{"Key":"Build","Value":"1"},{"Key":"Owner","Value":"ci"}]]
	["ami-0a000000000000002",[{"Key":"Project","Value":"web"},{"Key":"Stage","Value":"promoted"},{"Key":"Owner","Value":"ci"}]]
	["ami-0a000000000000003",[{"Key":"Stage","Value":"promoted"},{"Key":"Owner","Value":"ci"}]]
	EOF
	test_cmp expect actual &&
	test "$(ec2_count DeleteTags)" = 1 &&
	test "$(ec2_count CreateTags)" = 0 &&
	tags_of us-east-1 >actual &&
	test_grep "^ami-0a000000000000001 Project=web,Stage=promoted,Build=1,Owner=ci$" actual &&
	test_grep "^ami-0a000000000000003 Stage=promoted,Owner=ci$" actual
'

test_expect_success '-t and --delete together: CreateTags then DeleteTags, one each' '
	ec2_reset_counts &&
	tag -t Stage=released --delete Owner --audit audit2.log <images.jsonl >out4 &&
	test "$(ec2_count CreateTags)" = 1 &&
	test "$(ec2_count DeleteTags)" = 1 &&
	jq -r .Action audit2.log >actual &&
	printf "CreateTags\nDeleteTags\n" >expect &&
	test_cmp expect actual &&
	jq -r "[.ImageId, (.Tags | map(.Key + \"=\" + .Value) | join(\",\"))] | join(\" \")" out4 >actual &&
	tags_of us-east-1 | grep ^ami- >expect &&
	test_cmp expect actual &&
	jq -r .RequestId audit2.log | tail -1 >last-id &&
	jq -r .Result.RequestId out4 | sort -u >ids &&
	test_cmp last-id ids
'

test_expect_success '--snapshots also tags each image'\''s EBS snapshots, in the same call' '
	ec2_reset_counts &&
	tag --snapshots -t Backup=yes --audit audit3.log <images.jsonl >out5 &&
	test "$(ec2_count CreateTags)" = 1 &&
	jq -c .Resources audit3.log >actual &&
	echo "[\"ami-0a000000000000001\",\"snap-0a000000000000001\",\"ami-0a000000000000002\",\"snap-0a000000000000002\",\"snap-0a000000000000003\",\"ami-0a000000000000003\"]" >expect &&
	test_cmp expect actual &&
	tags_of us-east-1 >state &&
	test_grep "^snap-0a000000000000001 Backup=yes$" state &&
	test_grep "^snap-0a000000000000002 Backup=yes$" state &&
	test_grep "^snap-0a000000000000003 Backup=yes$" state &&
	test_grep "^i-0a000000000000001 $" state &&
	jq -c "[.ImageId, .BlockDeviceMappings]" images.jsonl >expect &&
	jq -c "[.ImageId, .BlockDeviceMappings]" out5 >actual &&
	test_cmp expect actual
'

test_expect_success 'an instance record tags the instance, not the image it names' '
	tag -t Purpose=image-test <instances.jsonl >out6 &&
	jq -c "[.InstanceId, .Tags, .Result.Status]" out6 >actual &&
	echo "[\"i-0a000000000000001\",[{\"Key\":\"Purpose\",\"Value\":\"image-test\"}],\"done\"]" >expect &&
	test_cmp expect actual &&
	tags_of us-east-1 >state &&
	test_grep "^i-0a000000000000001 Purpose=image-test$" state &&
	test_grep -v "^ami-.*Purpose" state
'

test_expect_success 'a record without Region: --region, else the configured region; Region is added' '
	echo "{\"SnapshotId\":\"snap-0a000000000000002\"}" >snap.jsonl &&
	echo "{\"ImageId\":\"ami-0e000000000000001\"}" >eu.jsonl &&
	tag -t Seen=1 snap.jsonl >out7 &&
	tag -t Seen=1 --region eu-west-1 eu.jsonl >>out7 &&
	jq -c "[.Region, .Tags, .Result.Status]" out7 >actual &&
	cat >expect <<-\EOF &&
	["us-east-1",[{"Key":"Seen","Value":"1"}],"done"]
	["eu-west-1",[{"Key":"Seen","Value":"1"}],"done"]
	EOF
	test_cmp expect actual &&
	tags_of eu-west-1 >state &&
	test_grep "^ami-0e000000000000001 Project=web,Seen=1$" state
'

test_expect_success 'records of two regions: one call in each, records in input order' '
	ec2_reset_counts &&
	jq -c . images.jsonl images-eu.jsonl >all.jsonl &&
	{ sed -n 1p all.jsonl; sed -n 4p all.jsonl; sed -n 2p all.jsonl; sed -n 3p all.jsonl; } >mixed.jsonl &&
	tag -t Region=seen mixed.jsonl >out8 &&
	test "$(ec2_count CreateTags us-east-1)" = 1 &&
	test "$(ec2_count CreateTags eu-west-1)" = 1 &&
	jq -r "[.ImageId, .Region, .Result.Status] | join(\" \")" out8 >actual &&
	jq -r "[.ImageId, .Region, \"done\"] | join(\" \")" mixed.jsonl >expect &&
	test_cmp expect actual
'

test_expect_success '--dry-run sends DryRun=true, changes nothing and prints the plan' '
	ec2-describe images >fresh.jsonl &&
	tags_of us-east-1 >before &&
	ec2_reset_counts &&
	tag --dry-run -t Stage=retired --delete Backup --audit audit4.log <fresh.jsonl >plan 2>err &&
	test_line_count = 0 err &&
	tags_of us-east-1 >after &&
	test_cmp before after &&
	jq -r ".Result.Status" plan | sort -u >actual &&
	echo dry-run >expect &&
	test_cmp expect actual &&
	jq -c "[.Tags[] | select(.Key == \"Stage\" or .Key == \"Backup\")]" plan | sort -u >actual &&
	echo "[{\"Key\":\"Stage\",\"Value\":\"retired\"}]" >expect &&
	test_cmp expect actual &&
	ec2_requests >requests &&
	jq -c "[.[] | [.Action, .Params.DryRun, .Status]]" requests >actual &&
	echo "[[\"CreateTags\",\"true\",412],[\"DeleteTags\",\"true\",412]]" >expect &&
	test_cmp expect actual &&
	jq -r "[.Action, .DryRun, .Outcome] | join(\" \")" audit4.log >actual &&
	printf "CreateTags true dry-run\nDeleteTags true dry-run\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the plan, applied without --dry-run, is done and gives what it showed' '
	tag -t Stage=retired --delete Backup <plan >applied &&
	jq -c "del(.Result)" plan >expect &&
	jq -c "del(.Result)" applied >actual &&
	test_cmp expect actual &&
	jq -r "[.ImageId, (.Tags | map(.Key + \"=\" + .Value) | join(\",\"))] | join(\" \")" applied >actual &&
	tags_of us-east-1 | grep ^ami- >expect &&
	test_cmp expect actual
'

test_expect_success 'a dry run without permission fails those records: exit 1, nothing changed' '
	tags_of us-east-1 >before &&
	cat >deny.json <<-\EOF &&
	{"Deny": [{"Action": "CreateTags", "Region": "eu-west-1"}]}
	EOF
	ec2_seed deny.json merge &&
	test_expect_code 1 tag --dry-run -t X=1 mixed.jsonl >out9 2>err &&
	jq -r "[.Region, .Result.Status] | join(\" \")" out9 >actual &&
	printf "us-east-1 dry-run\neu-west-1 failed\nus-east-1 dry-run\nus-east-1 dry-run\n" >expect &&
	test_cmp expect actual &&
	test_line_count = 1 err &&
	test_grep "^tag: eu-west-1: CreateTags: UnauthorizedOperation: .*(request id " err &&
	jq -r "select(.Result.Status == \"failed\") | .Result.Reason" out9 >reason &&
	test_grep "^eu-west-1: CreateTags: UnauthorizedOperation: " reason &&
	tags_of us-east-1 >after &&
	test_cmp before after
'

test_expect_success 'an image already gone is skipped; the rest of its batch is tagged' '
	ec2_query DeregisterImage ImageId=ami-0a000000000000002 >/dev/null &&
	echo "{\"ImageId\":\"ami-0a00000000000000f\",\"Region\":\"us-east-1\"}" >gone.jsonl &&
	ec2_reset_counts &&
	tag -t Checked=yes images.jsonl gone.jsonl >out10 2>err &&
	test_line_count = 0 err &&
	jq -r "[.ImageId, .Result.Status, .Result.Reason // \"-\"] | join(\" \")" out10 >actual &&
	cat >expect <<-\EOF &&
	ami-0a000000000000001 done -
	ami-0a000000000000002 skipped already gone: InvalidAMIID.NotFound: The image id '\''[ami-0a000000000000002]'\'' does not exist
	ami-0a000000000000003 done -
	ami-0a00000000000000f skipped already gone: InvalidAMIID.NotFound: The image id '\''[ami-0a00000000000000f]'\'' does not exist
	EOF
	test_cmp expect actual &&
	jq -c "select(.Result.Status == \"skipped\") | .Tags" out10 >actual &&
	jq -c "select(.ImageId == \"ami-0a000000000000002\") | .Tags" images.jsonl >expect &&
	echo null >>expect &&
	test_cmp expect actual &&
	tags_of us-east-1 >state &&
	test_grep "^ami-0a000000000000001 .*Checked=yes$" state &&
	test_grep "^ami-0a000000000000003 .*Checked=yes$" state &&
	test "$(ec2_count CreateTags)" = 3
'

test_expect_success 'a gone snapshot is left out; its image is still tagged' '
	cat >seed2.json <<-\EOF &&
	{"Regions": {"us-east-1": {"Images": [{"ImageId": "ami-0b000000000000001",
	 "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0b00000000000000f"}}]}]}}}
	EOF
	ec2_seed seed2.json merge &&
	echo "{\"ImageId\":\"ami-0b000000000000001\",\"BlockDeviceMappings\":[{\"DeviceName\":\"/dev/xvda\",\"Ebs\":{\"SnapshotId\":\"snap-0b00000000000000f\"}}]}" >img.jsonl &&
	tag --snapshots -t Snap=maybe img.jsonl >out11 &&
	jq -r .Result.Status out11 >actual &&
	echo done >expect &&
	test_cmp expect actual &&
	tags_of us-east-1 >state &&
	test_grep "^ami-0b000000000000001 Snap=maybe$" state
'

test_expect_success 'empty input: nothing to do, no call, exit 0' '
	ec2_reset_counts &&
	tag -t X=1 </dev/null >out12 2>err &&
	test_line_count = 0 out12 &&
	test_line_count = 0 err &&
	test "$(ec2_total)" = 0
'

test_expect_success 'nothing the endpoint logged or tag printed holds a secret' '
	cat out* audit*.log err >all &&
	test_grep -v amicycle-secret all &&
	test_grep -v amicycle-secret "$EC2_DIR/log"
'

test_done
