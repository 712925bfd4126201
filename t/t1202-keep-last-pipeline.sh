#!/bin/bash
# sort-by-date | keep-last: the cleanup pipeline, against the same plan computed by jq.
. "$(dirname "$0")"/test-lib.sh

test_expect_success 'setup: 3000 images of four roles in random order, some dates shared' '
	awk "BEGIN { srand(11); split(\"web api worker db\", role, \" \");
		for (i = 0; i < 3000; i++)
			printf \"{\\\"ImageId\\\":\\\"ami-%05d\\\",\\\"Tags\\\":[{\\\"Key\\\":\\\"Role\\\",\\\"Value\\\":\\\"%s\\\"}],\\\"CreationDate\\\":\\\"2024-%02d-%02dT%02d:00:00.000Z\\\"}\n\",
			i, role[1 + int(rand() * 4)], 1 + int(rand() * 12), 1 + int(rand() * 28), int(rand() * 24) }" >images &&
	test_line_count = 3000 images
'

test_expect_success 'sort-by-date | keep-last -n 5 -g ROLE prints what jq computes' '
	{
		sort-by-date images | keep-last -n 5 -g ".Tags | from_entries | .Role" >out
		echo "${PIPESTATUS[*]}" >status
	} &&
	echo "0 0" >expect &&
	test_cmp expect status &&
	jq -c -s --argjson n 5 "sort_by(.CreationDate) | to_entries
		| [group_by(.value.Tags | from_entries | .Role)[] | .[:([length - \$n, 0] | max)][]]
		| sort_by(.key)[].value" images >expect &&
	test_line_count = 2980 expect &&
	test_cmp expect out
'

test_expect_success 'the kept ones and the printed ones make up the input' '
	sort-by-date images >sorted &&
	keep-last -n 5 -g ".Tags | from_entries | .Role" --kept sorted >kept &&
	test_line_count = 20 kept &&
	keep-last -n 5 -g ".Tags | from_entries | .Role" --explain sorted >explained &&
	jq -c "select(.Retention.Keep) | del(.Retention)" explained >kept2 &&
	test_cmp kept kept2 &&
	sort out kept >both &&
	sort images >expect &&
	test_cmp expect both
'

test_expect_success 'with --min-age, the plan is what jq computes too' '
	{
		sort-by-date images | keep-last -n 2 -g ".Tags[0].Value" --min-age 30d --now 2024-12-01T00:00:00Z >out
		echo "${PIPESTATUS[*]}" >status
	} &&
	echo "0 0" >expect &&
	test_cmp expect status &&
	jq -c -s --argjson n 2 "sort_by(.CreationDate) | to_entries
		| [group_by(.value.Tags[0].Value)[] | .[:([length - \$n, 0] | max)][]
		   | select(.value.CreationDate <= \"2024-11-01T00:00:00.000Z\")]
		| sort_by(.key)[].value" images >expect &&
	test_line_count -gt 2500 expect &&
	test_cmp expect out
'

test_expect_success 'unsorted input stops the pipeline: nothing reaches the next stage' '
	{
		sort-by-date -r images | keep-last -n 5 >out 2>err
		echo "${PIPESTATUS[*]}" >status
	} &&
	echo "0 3" >expect &&
	test_cmp expect status &&
	test_line_count = 0 out &&
	test_grep "^keep-last: stdin:2: older than the record at stdin:1" err
'

test_expect_success 'bad data in the first stage: the second sees no input and prints nothing' '
	{ cat images && echo "[]"; } >bad &&
	{
		sort-by-date bad 2>err | keep-last -n 5 >out
		echo "${PIPESTATUS[*]}" >status
	} &&
	echo "3 0" >expect &&
	test_cmp expect status &&
	test_grep "^sort-by-date: bad:3001: not a JSON object" err &&
	test_line_count = 0 out
'

test_done
