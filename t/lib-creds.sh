# lib-creds.sh: helpers for the t21xx credential tests, sourced after test-lib.sh.
#
#   start_creds_stub CONFIG    start t/creds-stub.py (STS, IMDSv2, container credentials) on a free
#                              loopback port, stopped when the script ends; sets STUB (its URL)
#   probe ARGS...              build/t/creds-probe ARGS, stdout to out, stderr to err
#   test_no_secrets            no secret or token in any *.out or *.err file of the scratch dir
#
# Every secret and token the tests use contains "Sekrit" or "Tokn", the stub's included.
# CREDS_PROBE=PATH runs PATH instead of the probe: a script that execs valgrind on it, say.

PROBE=${CREDS_PROBE:-$AMICYCLE_BUILD/t/creds-probe}

start_creds_stub () {
	rm -f stub.port
	: >stub.log
	"$PYTHON" "$SRC_DIR/t/creds-stub.py" "$1" stub.port stub.log 2>stub.stderr &
	stub_pid=$!
	test_atexit "kill $stub_pid"
	n_=0
	while [ ! -s stub.port ]; do
		if ! kill -0 $stub_pid 2>/dev/null || [ $n_ -ge 200 ]; then
			echo "creds-stub.py did not start:" >&2
			cat stub.stderr >&2
			return 1
		fi
		n_=$((n_ + 1))
		sleep 0.05
	done
	STUB=http://127.0.0.1:$(cat stub.port)
}

# probe NAME ARGS...: runs creds-probe with ARGS; its output in NAME.out and NAME.err.
probe () {
	name_=$1
	shift
	"$PROBE" "$@" >"$name_.out" 2>"$name_.err"
}

test_no_secrets () {
	if grep -l -e Sekrit -e Tokn ./*.out ./*.err >leaks 2>/dev/null; then
		echo "secrets or tokens in:" >&2
		cat leaks >&2
		return 1
	fi
	ls ./*.out ./*.err >/dev/null
}
