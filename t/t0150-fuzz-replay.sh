#!/bin/bash
# The fuzzing corpora (t/fuzz/corpus/NAME/) replayed through each harness, built with the
# project's compiler and flags (make fuzz-replay; the sanitizers with SANITIZE=1): every input
# that once found a bug, or that make fuzz kept for its coverage, still runs clean.
. "$(dirname "$0")"/test-lib.sh

FUZZ=$SRC_DIR/t/fuzz

for src in "$FUZZ"/*.c; do
	name=$(basename "$src" .c)
	[ "$name" = replay ] && continue
	test_expect_success "$name: every input of t/fuzz/corpus/$name runs clean" '
		if ! [ -x "$AMICYCLE_BUILD/fuzz/$name" ]; then
			echo "no $AMICYCLE_BUILD/fuzz/$name: run make fuzz-replay" >&2
			return 1
		fi &&
		set -- "$FUZZ/corpus/$name"/* &&
		test -f "$1" &&
		"$AMICYCLE_BUILD/fuzz/$name" "$@" >out 2>err &&
		echo "$name: $# inputs" >expect &&
		test_cmp expect out &&
		test_line_count = 0 err
	'
done

test_expect_success 'every harness has a corpus and a dictionary' '
	for src in "$FUZZ"/*.c; do
		name=$(basename "$src" .c) &&
		if [ "$name" != replay ]; then
			test -d "$FUZZ/corpus/$name" && test -f "$FUZZ/$name.dict" || return 1
		fi
	done
'

test_done
