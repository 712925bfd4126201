# test-lib.sh: the test library every t/tNNNN-*.sh sources (after git's t/test-lib.sh).
#
#   . ./test-lib.sh                       (from t/; sets up a scratch directory and cds into it)
#   test_expect_success [PREREQ] 'what a user would check' '
#           cmd >actual &&
#           test_cmp expect actual
#   '
#   test_done
#
# Each test body runs with eval in the script's shell, so it chains its steps with &&; its output
# goes to a log that is shown (as TAP comments) only when the test fails, or always with -v.
# The environment is pinned: LC_ALL=C, TZ=UTC, HOME in the scratch dir, no AWS_* or proxy settings.

test_count=0
test_failed=0
test_verbose=
case "$1" in -v|--verbose) test_verbose=t ;; esac

TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(cd "$(dirname "$0")" && pwd)
: "${AMICYCLE_BUILD:=$TEST_DIR/../build}"
: "${AMICYCLE_SHARED:=$TEST_DIR/data}"
AMICYCLE_BUILD=$(cd "$AMICYCLE_BUILD" && pwd)
SHARED=$AMICYCLE_SHARED
SRC_DIR=$(cd "$TEST_DIR/.." && pwd)
TRASH=$AMICYCLE_BUILD/trash/$TEST_NAME
PYTHON=/usr/bin/python3
export AMICYCLE_BUILD AMICYCLE_SHARED SHARED SRC_DIR TEST_DIR TRASH PYTHON

# Nothing from the developer's shell may change a result.
for v in $(env | sed -n 's/^\(AWS_[A-Za-z0-9_]*\)=.*/\1/p; s/^\(AMICYCLE_[A-Za-z0-9_]*\)=.*/\1/p'); do
	case "$v" in AMICYCLE_BUILD|AMICYCLE_SHARED|AMICYCLE_VALGRIND) ;; *) unset "$v" ;; esac
done
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
# Under GitHub Actions the fragments would append their summaries to the real job's page.
unset GITHUB_STEP_SUMMARY
unset CDPATH GREP_OPTIONS MAKEFLAGS MFLAGS MAKELEVEL
LC_ALL=C TZ=UTC LANG=C
export LC_ALL TZ LANG
# The waits' progress lines (progress.h) off, so that stderr holds the diagnostics the tests
# compare; the tests of the progress lines turn them on (unset AMICYCLE_PROGRESS).
AMICYCLE_PROGRESS=0
export AMICYCLE_PROGRESS
PATH=$AMICYCLE_BUILD/bin:$PATH
export PATH

# A sanitizer build (make SANITIZE=1) reports leaks at exit; t/lsan.supp names the few inside
# libjq and libssh2, which need full stacks to be told apart from amicycle's own.
if grep -q __asan_init "$AMICYCLE_BUILD/bin/sort-by-date" 2>/dev/null; then
	LSAN_OPTIONS=suppressions=$TEST_DIR/lsan.supp:fast_unwind_on_malloc=0:print_suppressions=0
	export LSAN_OPTIONS
fi

# make check VALGRIND=1: every filter runs under valgrind's memcheck. A memory error, or a leak
# on any exit, makes it exit 126, which no test expects.
if [ -n "$AMICYCLE_VALGRIND" ]; then
	vgbin=$AMICYCLE_BUILD/valgrind-bin
	mkdir -p "$vgbin" || { echo "Bail out! cannot make $vgbin"; exit 1; }
	for f in "$AMICYCLE_BUILD"/bin/*; do
		case $f in *.o|*.d) continue ;; esac
		w=$vgbin/$(basename "$f")
		[ -x "$w" ] && continue
		printf '#!/bin/sh\nexec valgrind -q --error-exitcode=126 --leak-check=full --errors-for-leak-kinds=definite --suppressions=%s --child-silent-after-fork=yes %s "$@"\n' \
			"$TEST_DIR/valgrind.supp" "$f" >"$w.$$" && chmod +x "$w.$$" && mv "$w.$$" "$w" ||
			{ echo "Bail out! cannot write $w"; exit 1; }
	done
	PATH=$vgbin:$PATH
	export PATH
fi

rm -rf "$TRASH" && mkdir -p "$TRASH" || { echo "Bail out! cannot make $TRASH"; exit 1; }
HOME=$TRASH
export HOME
# An empty AWS configuration, so that no real profile or instance metadata is ever consulted.
AWS_CONFIG_FILE=$TRASH/.aws-config
AWS_SHARED_CREDENTIALS_FILE=$TRASH/.aws-credentials
AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_EC2_METADATA_DISABLED
cd "$TRASH" || exit 1

# SIGHUP, or SIGTERM where this shell was started ignoring SIGHUP (under nohup): an ignored signal
# stays ignored in every child, and the filters leave it so. HUP_SIG is its name, HUP_RC the exit
# status of a shell command that it ends.
HUP_SIG=HUP HUP_RC=129
if [ $(( 0x$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status 2>/dev/null || echo 0) & 1 )) != 0 ]; then
	HUP_SIG=TERM HUP_RC=143
fi

# start_job PIDFILE CMD [ARG...]: starts CMD in the background ($! is its pid) as a terminal's
# foreground job runs, so that a test's kill -INT -- -PGID is Ctrl-C: in a session and process
# group of its own, with SIGINT, SIGQUIT, SIGTERM and SIGHUP at their defaults and unblocked,
# whatever this script inherited (a shell starts what it runs with & ignoring SIGINT and SIGQUIT,
# and a CI runner may start the suite with them ignored or blocked: a signal ignored or blocked
# from the start stays so in every child, and the filters leave it so). Writes CMD's pid, the id of
# its process group, to PIDFILE (whole, by a rename) before CMD runs.
start_job () {
	/usr/bin/python3 -c '
import os, signal, sys
sigs = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP)
for s in sigs:
	signal.signal(s, signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_UNBLOCK, sigs)
os.setsid()
with open(sys.argv[1] + ".tmp", "w") as f:
	f.write("%d\n" % os.getpid())
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
os.execvp(sys.argv[2], sys.argv[2:])' "$@" &
}

# wait_catching PGID NAME SIG: waits (up to 120 s: a loaded machine may start it late) until the
# program NAME (run directly or under valgrind), in process group PGID, catches SIG: a signal sent to
# the group then is one it acts on, not one lost before its handler was installed. A shell whose
# command line names NAME does not count.
wait_catching () {
	local bit cmd i=0 p
	bit=$(( 1 << ($(kill -l "$3") - 1) ))
	while [ $i -lt 1200 ]; do
		for p in $(pgrep -g "$1"); do
			cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
			case ${cmd%% *} in
			"$2"|*/"$2") ;;
			valgrind|*/valgrind) case $cmd in *"/$2 "*) ;; *) continue ;; esac ;;
			*) continue ;;
			esac
			[ $(( 0x$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$p/status" 2>/dev/null || echo 0) & bit )) = 0 ] ||
				return 0
		done
		sleep 0.1
		i=$((i + 1))
	done
	echo "wait_catching: no $2 catching SIG$3 in process group $1" >&2
	return 1
}

test_log=$TRASH/.test-log
test_cleanup_cmds=

# test_atexit CMD: run CMD when the script ends, however it ends (stopping servers).
test_atexit () {
	test_cleanup_cmds="$1
$test_cleanup_cmds"
}

test_run_cleanup_ () {
	eval "$test_cleanup_cmds" >/dev/null 2>&1
	test_cleanup_cmds=
}
trap 'test_run_cleanup_' EXIT
trap 'test_run_cleanup_; exit 130' INT TERM

# Prerequisites: test_set_prereq NAME; test_have_prereq NAME.
test_prereqs=" "
test_set_prereq () {
	test_prereqs="$test_prereqs$1 "
}
test_have_prereq () {
	case "$test_prereqs" in *" $1 "*) return 0 ;; esac
	return 1
}

test_ok_ () {
	echo "ok $test_count - $1"
}

test_failure_ () {
	test_failed=$((test_failed + 1))
	echo "not ok $test_count - $1"
	printf '%s\n' "$2" | sed 's/^/#	/'
	sed 's/^/# /' "$test_log"
}

# The body runs in a function of its own, so that "return 1" in it fails the test, not the script.
test_eval_ () {
	eval "$1"
}

test_expect_success () {
	test_prereq_=
	if [ $# = 3 ]; then test_prereq_=$1; shift; fi
	test_count=$((test_count + 1))
	if [ -n "$test_prereq_" ] && ! test_have_prereq "$test_prereq_"; then
		echo "ok $test_count # skip $1 (missing $test_prereq_)"
		return 0
	fi
	if [ -n "$test_verbose" ]; then
		test_eval_ "$2"
	else
		test_eval_ "$2" >"$test_log" 2>&1
	fi
	test_status_=$?
	if [ $test_status_ = 0 ]; then
		test_ok_ "$1"
	else
		test_failure_ "$1" "$2"
	fi
	: >"$test_log"
}

# test_expect_code CODE CMD...: CMD exits with CODE (a crash is never an expected failure).
test_expect_code () {
	want_=$1
	shift
	"$@"
	got_=$?
	if [ "$got_" = "$want_" ]; then
		return 0
	fi
	echo "test_expect_code: wanted exit $want_, got $got_: $*" >&2
	return 1
}

# test_must_fail CMD...: CMD exits 1..125 (not 0, not a signal, not "command not found").
test_must_fail () {
	"$@"
	got_=$?
	if [ $got_ -ge 1 ] && [ $got_ -le 125 ]; then
		return 0
	fi
	echo "test_must_fail: exit $got_: $*" >&2
	return 1
}

# test_cmp EXPECTED ACTUAL
test_cmp () {
	diff -u "$1" "$2"
}

# test_line_count OP N FILE, e.g. test_line_count = 3 out
test_line_count () {
	n_=$(wc -l <"$3")
	if ! [ "$n_" "$1" "$2" ]; then
		echo "test_line_count: $3 has $n_ lines, wanted $1 $2" >&2
		cat "$3" >&2
		return 1
	fi
}

# test_grep [-v] PATTERN FILE: like grep, but shows the file when the check fails.
test_grep () {
	if [ "$1" = -v ]; then
		shift
		if grep -e "$1" "$2" >/dev/null; then
			echo "test_grep: '$1' found in $2:" >&2
			cat "$2" >&2
			return 1
		fi
		return 0
	fi
	if ! grep -e "$1" "$2" >/dev/null; then
		echo "test_grep: '$1' not found in $2:" >&2
		cat "$2" >&2
		return 1
	fi
}

# test_json_eq EXPECTED ACTUAL: the same JSON-lines records, compared as sorted-key jq output.
test_json_eq () {
	jq -S -c . "$1" >"$1.canon" && jq -S -c . "$2" >"$2.canon" &&
	diff -u "$1.canon" "$2.canon"
}

test_skip_all () {
	echo "1..0 # SKIP $1"
	exit 0
}

test_done () {
	echo "1..$test_count"
	test_run_cleanup_
	if [ $test_failed -gt 0 ]; then
		exit 1
	fi
	exit 0
}

command -v packer >/dev/null 2>&1 && test_set_prereq PACKER
[ -x /usr/bin/aws ] && test_set_prereq AWSCLI
[ -x /usr/sbin/sshd ] && test_set_prereq SSHD
true
