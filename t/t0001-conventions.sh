#!/bin/bash
# What every filter promises (README "Conventions"): --help, --version, a usage error is exit 2,
# and a man page that renders cleanly and lists the exit statuses.
. "$(dirname "$0")"/test-lib.sh

progs=$(cd "$SRC_DIR/bin" && ls *.c 2>/dev/null | sed 's/\.c$//')

test_expect_success 'there are filters to check' '
	test -n "$progs"
'

for p in $progs; do
	test_expect_success "$p --help prints usage on stdout and exits 0" '
		"$p" --help >out 2>err &&
		test_grep "^usage: $p" out &&
		test_line_count = 0 err
	'

	test_expect_success "$p --version" '
		"$p" --version >out &&
		echo "$p (amicycle) $(sed -n "s/^VERSION[	 ]*= *//p" "$SRC_DIR/Makefile")" >expect &&
		test_cmp expect out
	'

	test_expect_success "$p with an unknown option is a usage error (exit 2)" '
		test_expect_code 2 "$p" --no-such-option >out 2>err &&
		test_line_count = 0 out &&
		test_grep "usage: $p" err
	'

	test_expect_success "$p has a man page that renders without warnings" '
		man=$SRC_DIR/share/man/man1/$p.1 &&
		test -f "$man" &&
		groff -mandoc -ww -z -Tutf8 "$man" 2>warnings &&
		test_line_count = 0 warnings &&
		MANWIDTH=80 man -l "$man" >rendered 2>/dev/null &&
		test_grep "EXIT STATUS" rendered &&
		for code in 0 1 2 3; do
			grep -E "^ +$code( |$)" rendered >/dev/null ||
			{ echo "exit status $code not listed" >&2; return 1; }
		done
	'
done

test_done
