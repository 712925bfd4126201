#!/bin/bash
# The waits' progress on stderr (progress.h): plain lines in a CI log (at each change and every
# 30 s), one live line rewritten in place on a terminal, nothing with AMICYCLE_PROGRESS=0; for
# ec2-wait and copy-image --wait. stdout is the same whatever stderr is.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF'
{"Regions": {
  "us-east-1": {"Images": [
    {"ImageId": "ami-0a000000000000001", "Name": "web-1", "CreationDate": "2024-05-01T12:00:00.000Z"},
    {"ImageId": "ami-0a000000000000002", "Name": "web-2", "CreationDate": "2024-06-01T12:00:00.000Z"}]},
  "eu-west-1": {}, "us-west-2": {}
}}
EOF

# copy_to REGION NAME: copies web-1 there; prints the copy's record, {"ImageId","Region"}.
copy_to () {
	ec2_query -r "$1" CopyImage SourceImageId=ami-0a000000000000001 SourceRegion=us-east-1 \
		"Name=$2" >copy.xml &&
	id=$(sed -n "s/.*<imageId>\(ami-[0-9a-f]*\)<\/imageId>.*/\1/p" copy.xml) &&
	test -n "$id" &&
	printf "{\"ImageId\":\"%s\",\"Region\":\"%s\"}\n" "$id" "$1"
}

# elapsed FILE: the lines of FILE with their elapsed time ("4m10s / 2m") written T.
elapsed () {
	sed "s/ [0-9hms]* \/ / T \/ /" "$1"
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

# The one long wait of the suite: a copy pending for 35 s, so that the wait outlasts the plain
# line's 30 s cadence; the lines are asserted, never how long anything took.
test_expect_success 'no terminal: a line at the start, every 30 s, and when the state changes' '
	ec2_settings "{\"PendingSeconds\":35}" &&
	copy_to eu-west-1 web-1-copy >copy.jsonl &&
	ec2_settings "{\"PendingSeconds\":null}" &&
	copy=$(jq -r .ImageId copy.jsonl) &&
	{ echo "{\"ImageId\":\"ami-0a000000000000001\",\"Region\":\"us-east-1\"}" &&
	  cat copy.jsonl &&
	  echo "{\"ImageId\":\"ami-0a000000000000002\",\"Region\":\"us-east-1\"}"; } >three.jsonl &&
	(unset AMICYCLE_PROGRESS && ec2-wait --available --timeout 2m three.jsonl >out 2>err) &&
	jq -r "[.ImageId, .State, .Result.Status] | @tsv" out >actual &&
	printf "%s\tavailable\tdone\n" ami-0a000000000000001 "$copy" ami-0a000000000000002 >expect &&
	test_cmp expect actual &&
	elapsed err >lines &&
	waiting="ec2-wait: 2 of 3 available, 1 pending (eu-west-1 $copy) T / 2m" &&
	# The first line, then the same counts again at least once (30 s later) before the change.
	head -n 1 lines >actual &&
	echo "$waiting" >expect &&
	test_cmp expect actual &&
	grep -c -x -F "$waiting" lines >count &&
	test "$(cat count)" -ge 2 &&
	tail -n 1 lines >actual &&
	echo "ec2-wait: 3 of 3 available T / 2m" >expect &&
	test_cmp expect actual &&
	# Nothing but those: one line per change, the periodic ones in between.
	{ grep -v -x -F -e "$waiting" -e "ec2-wait: 3 of 3 available T / 2m" lines >other || :; } &&
	test_line_count = 0 other &&
	test "$(wc -l <lines)" -le 4
'

test_expect_success 'the same wait with AMICYCLE_PROGRESS=0: nothing on stderr, the same stdout' '
	ec2_settings "{\"ImagePendingDescribes\":3}" &&
	copy_to us-west-2 web-1-quiet >quiet.jsonl &&
	AMICYCLE_PROGRESS=0 ec2-wait --available quiet.jsonl >out 2>err &&
	test_line_count = 0 err &&
	jq -r .State out >actual &&
	echo available >expect &&
	test_cmp expect actual
'

test_expect_success 'nothing to wait for (all there at once): no line' '
	(unset AMICYCLE_PROGRESS && ec2-wait --available three.jsonl >out 2>err) &&
	test_line_count = 0 err &&
	test_line_count = 3 out
'

test_expect_success 'copy-image --wait: the copies counted by state, the first still pending named' '
	ec2_settings "{\"ImagePendingDescribes\":2}" &&
	echo "{\"ImageId\":\"ami-0a000000000000002\",\"Region\":\"us-east-1\"}" >web2.jsonl &&
	(unset AMICYCLE_PROGRESS && copy-image --to eu-west-1,us-west-2 --wait web2.jsonl >out 2>err) &&
	jq -r "[.Region, .State, .Result.Status] | @tsv" out >actual &&
	printf "eu-west-1\tavailable\tdone\nus-west-2\tavailable\tdone\n" >expect &&
	test_cmp expect actual &&
	first=$(jq -r .ImageId out | head -n 1) &&
	elapsed err >actual &&
	cat >expect <<-EOF &&
	copy-image: 0 of 2 available, 2 pending (eu-west-1 $first) T / 30m
	copy-image: 2 of 2 available T / 30m
	EOF
	test_cmp expect actual
'

command -v script >/dev/null 2>&1 && test_set_prereq SCRIPT

test_expect_success SCRIPT 'on a terminal: one line rewritten in place, erased at the end' '
	ec2_settings "{\"ImagePendingDescribes\":3}" &&
	copy_to eu-west-1 web-1-tty >tty.jsonl &&
	id=$(jq -r .ImageId tty.jsonl) &&
	(unset AMICYCLE_PROGRESS && script -qec "stty cols 120; ec2-wait --available tty.jsonl >out" /dev/null >typescript) &&
	jq -r "[.ImageId, .State, .Result.Status] | @tsv" out >actual &&
	printf "%s\tavailable\tdone\n" "$id" >expect &&
	test_cmp expect actual &&
	# Each update starts with CR and erase-to-end-of-line (cut to the width of the
	# terminal, 120 columns here); no line is ever ended.
	esc=$(printf "\033") &&
	test "$(tr -cd "\n" <typescript | wc -c)" = 0 &&
	tr "\r" "\n" <typescript | sed "/^\$/d" >updates &&
	elapsed updates | head -n 1 >actual &&
	echo "${esc}[Kec2-wait: 0 of 1 available, 1 pending (eu-west-1 $id) T / 30m" >expect &&
	test_cmp expect actual &&
	# It ends with the line erased: CR, ESC [ K, and nothing after.
	tail -c 4 typescript | od -An -c | tr -s " " >actual &&
	echo " \r 033 [ K" >expect &&
	test_cmp expect actual
'

test_expect_success SCRIPT 'on a terminal, --debug lines are not written over the live line' '
	copy_to us-west-2 web-1-debug >debug.jsonl &&
	(unset AMICYCLE_PROGRESS && script -qec "ec2-wait --debug --available debug.jsonl >out" /dev/null >typescript) &&
	tr "\r" "\n" <typescript | sed "/^\$/d" >updates &&
	grep "ec2-wait: debug: " updates >debug &&
	test_line_count -ge 2 debug &&
	grep "ec2-wait: [0-9]* of 1 available" updates >live &&
	test_line_count -ge 1 live &&
	# A debug line starts a line of its own, never written after the live line.
	{ grep "available.*debug:" updates >bad || :; } &&
	test_line_count = 0 bad
'

test_done
