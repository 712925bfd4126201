# lib-bench.sh: what the offline benchmarks share, sourced (not run: make bench runs bench/*.sh).
# Sets BENCH (the script's name, for messages) and SRC (bench/); AMICYCLE_BUILD defaults to build/.

BENCH=$(basename "$0")
SRC=$(cd "$(dirname "$0")" && pwd)
: "${AMICYCLE_BUILD:=$SRC/../build}"
export LC_ALL=C TZ=UTC

# bench_tool FILE PACKAGE: FILE (a path, or a command on PATH) is there; as root, Debian's PACKAGE
# is installed for it; otherwise the script says how to install it and exits 1.
bench_tool () {
	if [ -x "$1" ] || { [ "${1#/}" = "$1" ] && command -v "$1" >/dev/null; }; then
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "$BENCH: needs $1: run: sudo apt-get install $2 (or make deps-bench)" >&2
		exit 1
	fi
	echo "$BENCH: installing Debian's $2 package for $1" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

# bench_built PROG...: each filter is built in $AMICYCLE_BUILD/bin, or the script exits 1.
bench_built () {
	for prog_ in "$@"; do
		[ -x "$AMICYCLE_BUILD/bin/$prog_" ] ||
			{ echo "$BENCH: no $AMICYCLE_BUILD/bin/$prog_: run make" >&2; exit 1; }
	done
}

# bench_scratch: cd into a new directory under $TMPDIR, removed when the script ends.
bench_scratch () {
	bench_tmp_=$(mktemp -d "${TMPDIR:-/tmp}/amicycle-bench.XXXXXX")
	trap 'rm -rf "$bench_tmp_"' EXIT
	cd "$bench_tmp_"
}
