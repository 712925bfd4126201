#!/bin/bash
# make demo (share/demo/run): it names everything it lacks before starting anything, and runs
# the whole pipeline from this tree alone (t/data's models for the endpoint, nothing beside it).
. "$(dirname "$0")"/test-lib.sh

test_expect_success 'without the filters built: one line says so, nothing started' '
	test_expect_code 1 env AMICYCLE_BUILD="$TRASH/empty" "$SRC_DIR"/share/demo/run >out 2>err &&
	echo "demo: missing: the filters in $TRASH/empty/bin (make)" >expect &&
	test_cmp expect err &&
	test_line_count = 0 out &&
	! test -e empty
'

test_expect_success SSHD 'without jq on PATH: named, with its package' '
	mkdir bin &&
	for c in dirname basename curl make ssh-keygen; do
		ln -s "$(command -v $c)" bin/$c || return 1
	done &&
	test_expect_code 1 env PATH="$TRASH/bin" /bin/bash "$SRC_DIR"/share/demo/run >out 2>err &&
	echo "demo: missing: jq (jq)" >expect &&
	test_cmp expect err
'

test_expect_success SSHD 'the demo runs to its end' '
	AMICYCLE_BUILD=$AMICYCLE_BUILD "$SRC_DIR"/share/demo/run >out 2>err &&
	test_grep "^== Done; everything the demo started is stopped" out
'

test_done
