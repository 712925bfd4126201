#!/bin/bash
# protect: deregistration protection on (with or without the cooldown) and off (--undo) for the
# images not in that state yet (read first); records carry DeregistrationProtection as it now is,
# the AWS CLI reads it back; deregister refuses what protect protected, and what is in its
# cooldown, and deregisters once the protection is off; a second run makes no mutating call;
# --dry-run; an interrupt; gone images; usage errors and bad input.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh
. "$TEST_DIR"/lib-mutate.sh

# us-east-1: 1..3 unprotected, 4 protected already; eu-west-1: 5.
jq -n 'def ami(n): "ami-0d00000000000000\(n)";
{Regions: {
	"us-east-1": {Images: ([range(1; 4) | {ImageId: ami(.), Name: "web-\(.)"}] +
		[{ImageId: ami(4), Name: "web-4", DeregistrationProtection: "enabled"}])},
	"eu-west-1": {Images: [{ImageId: ami(5), Name: "web-eu"}]}}}' >seed.json

# protections: "ID PROTECTION" for every image the AWS CLI describes in both regions.
protections () {
	for r in us-east-1 eu-west-1; do
		ec2_aws_model ec2 describe-images --region $r --owners self >cli.json &&
		jq -r ".Images[] | \"\(.ImageId) \(.DeregistrationProtection // \"disabled\")\"" cli.json ||
		return 1
	done | sort
}

# results FILE: "ID STATUS PROTECTION REASON" for each record.
results () {
	jq -r '[.ImageId, .Result.Status, .DeregistrationProtection // "-", .Result.Reason // "-"] | join(" ")' "$1"
}

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json &&
	ec2-describe images --region us-east-1 --region eu-west-1 >all.jsonl &&
	test_line_count = 5 all.jsonl
'

test_expect_success AWSCLI 'protect: each unprotected image protected, read back by the AWS CLI' '
	ec2_reset_counts &&
	protect --audit audit.log <all.jsonl >out 2>err &&
	test_line_count = 0 err &&
	results out >actual &&
	cat >expect <<-\EOF &&
	ami-0d000000000000001 done enabled -
	ami-0d000000000000002 done enabled -
	ami-0d000000000000003 done enabled -
	ami-0d000000000000004 skipped enabled already protected (enabled)
	ami-0d000000000000005 done enabled -
	EOF
	test_cmp expect actual &&
	test "$(ec2_count EnableImageDeregistrationProtection)" = 4 &&
	jq -r "[.Action, .Resources[0], .Parameters.WithCooldown // \"-\", .Outcome] | join(\" \")" \
		audit.log | sort >actual &&
	for i in 1 2 3 5; do
		echo "EnableImageDeregistrationProtection ami-0d00000000000000$i - done"
	done >expect &&
	test_cmp expect actual &&
	protections >actual &&
	for i in 1 2 3 4 5; do echo "ami-0d00000000000000$i enabled"; done >expect &&
	test_cmp expect actual
'

test_expect_success AWSCLI 'deregister refuses every image protect protected; nothing is deregistered' '
	ec2_reset_counts &&
	deregister <out >dereg 2>err &&
	jq -r "[.ImageId, .Result.Status, .Result.Reason] | join(\" \")" dereg >actual &&
	for i in 1 2 3 4 5; do
		echo "ami-0d00000000000000$i skipped deregistration protection (enabled)"
	done >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 0 &&
	test "$(protections | wc -l)" = 5
'

test_expect_success 'again: each skipped, no mutating call' '
	ec2_reset_counts &&
	protect <all.jsonl >again 2>err &&
	test_line_count = 0 err &&
	results again >actual &&
	for i in 1 2 3 4 5; do
		echo "ami-0d00000000000000$i skipped enabled already protected (enabled)"
	done >expect &&
	test_cmp expect actual &&
	test "$(ec2_total)" = "$(ec2_count DescribeImages)"
'

test_expect_success AWSCLI '--cooldown: the protection gets its cooldown; again, skipped' '
	ec2_reset_counts &&
	protect --cooldown --audit audit2.log <all.jsonl >out 2>err &&
	test_line_count = 0 err &&
	results out >actual &&
	for i in 1 2 3 4 5; do echo "ami-0d00000000000000$i done enabled-with-cooldown -"; done >expect &&
	test_cmp expect actual &&
	jq -r .Parameters.WithCooldown audit2.log | sort | uniq -c >actual &&
	echo "      5 true" >expect &&
	test_cmp expect actual &&
	protections >actual &&
	for i in 1 2 3 4 5; do echo "ami-0d00000000000000$i enabled-with-cooldown"; done >expect &&
	test_cmp expect actual &&
	ec2_reset_counts &&
	protect --cooldown <all.jsonl >again &&
	protect <all.jsonl >again2 &&
	cat again again2 | jq -r .Result.Reason | sort | uniq -c >actual &&
	echo "     10 already protected (enabled-with-cooldown)" >expect &&
	test_cmp expect actual &&
	test "$(ec2_total)" = "$(ec2_count DescribeImages)"
'

test_expect_success '--dry-run --undo: the plan shows the cooldown, nothing changes' '
	ec2_state >before &&
	ec2_reset_counts &&
	protect --undo --dry-run <all.jsonl >plan 2>err &&
	test_line_count = 0 err &&
	jq -r "[.Result.Status, (.DeregistrationProtection | sub(\" .*\"; \"\"))] | join(\" \")" plan \
		| sort | uniq -c >actual &&
	echo "      5 dry-run disabled-until" >expect &&
	test_cmp expect actual &&
	ec2_requests >requests &&
	jq -r ".[] | select(.Action != \"DescribeImages\") | [.Action, .Params.DryRun, .Status] | join(\" \")" \
		requests | sort | uniq -c >actual &&
	echo "      5 DisableImageDeregistrationProtection true 412" >expect &&
	test_cmp expect actual &&
	ec2_state >after &&
	test_cmp before after
'

test_expect_success AWSCLI '--undo in the cooldown: disabled-until a day later; deregister still refuses' '
	ec2_reset_counts &&
	before=$(date -u +%s) &&
	protect --undo <all.jsonl >out 2>err &&
	after=$(date -u +%s) &&
	test_line_count = 0 err &&
	jq -r .Result.Status out | sort | uniq -c >actual &&
	echo "      5 done" >expect &&
	test_cmp expect actual &&
	jq -r .DeregistrationProtection out >records &&
	protections | cut -d" " -f2- >cli &&
	test_cmp records cli &&
	v=$(head -n 1 records) &&
	t=$(date -u -d "${v#disabled-until }" +%s) &&
	test $t -ge $((before + 86400)) &&
	test $t -le $((after + 86400)) &&
	ec2_reset_counts &&
	deregister <out >dereg 2>err &&
	jq -r .Result.Reason dereg | sort -u >actual &&
	echo "deregistration protection ($v)" >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DeregisterImage)" = 0 &&
	ec2_reset_counts &&
	protect --undo <all.jsonl >again &&
	jq -r .Result.Reason again | sort -u >actual &&
	echo "not protected, but in its cooldown: deregistration is refused until ${v#disabled-until }" >expect &&
	test_cmp expect actual &&
	test "$(ec2_total)" = "$(ec2_count DescribeImages)"
'

test_expect_success 'both ways without the cooldown: protected, then off, then deregister goes' '
	grep ami-0d000000000000001 all.jsonl >one.jsonl &&
	protect <one.jsonl >on &&
	results on >actual &&
	echo "ami-0d000000000000001 done enabled -" >expect &&
	test_cmp expect actual &&
	protect --undo <on >off &&
	results off >actual &&
	echo "ami-0d000000000000001 done disabled -" >expect &&
	test_cmp expect actual &&
	protect --undo <off >again &&
	results again >actual &&
	echo "ami-0d000000000000001 skipped disabled not protected" >expect &&
	test_cmp expect actual &&
	deregister <off >dereg &&
	jq -r .Result.Status dereg >actual &&
	echo done >expect &&
	test_cmp expect actual &&
	ec2_state us-east-1 >state.json &&
	test "$(jq "[.Regions[\"us-east-1\"].Images[] | select(.ImageId == \"ami-0d000000000000001\")] | length" state.json)" = 0
'

test_expect_success 'an image gone is skipped; the others are done' '
	ec2_reset_counts &&
	protect <all.jsonl >out 2>err &&
	test_line_count = 0 err &&
	results out | cut -d" " -f1-2 >actual &&
	cat >expect <<-\EOF &&
	ami-0d000000000000001 skipped
	ami-0d000000000000002 done
	ami-0d000000000000003 done
	ami-0d000000000000004 done
	ami-0d000000000000005 done
	EOF
	test_cmp expect actual &&
	test "$(ec2_count EnableImageDeregistrationProtection)" = 4
'

test_expect_success 'interrupted: the call in flight finishes, the rest are interrupted, nothing read back' '
	ec2_seed seed.json &&
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"slow\",\"Action\":\"EnableImageDeregistrationProtection\",\"DelayMs\":1000,\"Count\":5}" &&
	{ protect --cooldown -P 1 --audit audit3.log <all.jsonl >out 2>err & pid=$!; } &&
	i=0 &&
	while [ "$(ec2_count EnableImageDeregistrationProtection)" -lt 1 ] && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done &&
	kill -TERM $pid &&
	{ wait $pid; echo $? >rc; } &&
	echo 143 >expect &&
	test_cmp expect rc &&
	results out >actual &&
	{
		echo "ami-0d000000000000001 done enabled-with-cooldown -" &&
		for i in 2 3 4 5; do
			p=-; [ $i = 4 ] && p=enabled
			echo "ami-0d00000000000000$i interrupted $p interrupted before its call was sent"
		done
	} >expect &&
	test_cmp expect actual &&
	test "$(ec2_count EnableImageDeregistrationProtection)" = 1 &&
	test "$(ec2_count DescribeImages)" = 2 &&
	test_line_count = 1 audit3.log &&
	ec2_state >state.json &&
	jq -r ".Regions[].Images[]? | \"\(.ImageId) \(.DeregistrationProtection // \"-\")\"" state.json | sort >actual &&
	cat >expect <<-\EOF &&
	ami-0d000000000000001 enabled-with-cooldown
	ami-0d000000000000002 -
	ami-0d000000000000003 -
	ami-0d000000000000004 enabled
	ami-0d000000000000005 -
	EOF
	test_cmp expect actual &&
	ec2_admin DELETE /_admin/faults >/dev/null
'

test_expect_success '--cooldown with --undo is a usage error, with no call' '
	expect_usage_error "^protect: --cooldown and --undo: give one or the other" \
		protect --cooldown --undo all.jsonl
'

test_expect_success 'an id of the wrong form: exit 3, FILE:LINE, nothing changed' '
	{ sed -n 2,3p all.jsonl && echo "{\"ImageId\":\"ami-0d00000000000000g\"}"; } >bad.jsonl &&
	expect_bad_input bad.jsonl:3 protect --undo bad.jsonl
'

test_done
