#!/bin/bash
# What every filter promises (README "Conventions"): --help (every option with a line of its own,
# within 80 columns, ending with the man page's name), --version, a usage error is exit 2 and says
# what was wrong and then how to get help, with the program's name and not its path, and a man
# page that renders cleanly and lists the exit statuses.
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

	test_expect_success "$p --help fits in 80 columns and ends with See $p(1)" '
		"$p" --help >out &&
		awk "length > 80 { print FILENAME \":\" FNR \": \" length \" columns\"; bad = 1 }
		    END { exit bad }" out &&
		tail -n 1 out >last &&
		echo "See $p(1)." >expect &&
		test_cmp expect last
	'

	test_expect_success "$p --help lists every long option of its SYNOPSIS" '
		"$p" --help >out &&
		MANWIDTH=200 man -l "$SRC_DIR/share/man/man1/$p.1" 2>/dev/null >rendered &&
		sed -n "/^SYNOPSIS/,/^DESCRIPTION/p" rendered | grep -o -- "--[a-z][a-z-]*" | sort -u >opts &&
		test -s opts &&
		while read -r opt; do
			grep -e "^ *\(-[a-zA-Z], \)\?$opt\([ =]\|$\)" out >/dev/null ||
			{ echo "$opt: not in --help" >&2; return 1; }
		done <opts
	'

	test_expect_success "$p: a filter that calls AWS takes --debug" '
		"$p" --help >out &&
		if grep -e "--endpoint-url" out >/dev/null; then
			grep "^ *--debug " out >/dev/null &&
			grep -e "^\.Op Fl -debug$" "$SRC_DIR/share/man/man1/$p.1" >/dev/null
		fi
	'

	test_expect_success "$p: a filter that calls AWS takes --profile and --role-arn" '
		"$p" --help >out &&
		if grep -e "--endpoint-url" out >/dev/null; then
			for opt in profile role-arn external-id role-session-name; do
				grep "^ *--$opt " out >/dev/null &&
				grep -e "^\.O[po] Fl -$opt Ar" "$SRC_DIR/share/man/man1/$p.1" >/dev/null ||
				{ echo "--$opt: not in --help or the SYNOPSIS" >&2; return 1; }
			done
		fi
	'

	test_expect_success "$p --version" '
		"$p" --version >out &&
		echo "$p (amicycle) $(sed -n "s/^VERSION[	 ]*= *//p" "$SRC_DIR/Makefile")" >expect &&
		test_cmp expect out
	'

	test_expect_success "$p with an unknown option is a usage error (exit 2)" '
		test_expect_code 2 "$p" --no-such-option >out 2>err &&
		test_line_count = 0 out &&
		cat >expect <<-EOF &&
		$p: unrecognized option '\''--no-such-option'\''
		Try '\''$p --help'\''
		EOF
		test_cmp expect err
	'

	test_expect_success "$p: a missing argument names the program, not its path" '
		"$p" --help >help &&
		opt=$(sed -n "s/^ *\(-[a-zA-Z], \)\?\(--[a-z-]*\)[ =][A-Z].*/\2/p" help | head -n 1) &&
		test -n "$opt" &&
		test_expect_code 2 "$AMICYCLE_BUILD/bin/$p" "$opt" </dev/null >out 2>err &&
		test_line_count = 0 out &&
		test_grep "^$p: option '\''$opt'\'' requires an argument$" err &&
		! grep / err &&
		tail -n 1 err >last &&
		test_grep "^Try '\''$p --help'\''$" last
	'

	test_expect_success "$p: a bad number is a usage error, with the Try line" '
		"$p" --help >help &&
		opt=$(sed -n "s/^ *\(-[nP]\)[ ,].*/\1/p" help | head -n 1) &&
		if test -n "$opt"; then
			test_expect_code 2 "$p" "$opt" 1x </dev/null >out 2>err &&
			test_line_count = 0 out &&
			test_line_count = 2 err &&
			test_grep "^$p: $opt: bad value '\''1x'\'' (expected [0-9]*\.\.[0-9]*)$" err &&
			test_grep "^Try '\''$p --help'\''$" err
		fi
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
