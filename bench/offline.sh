#!/bin/bash
# offline.sh: sort-by-date and keep-last against the equivalent jq programs, on 200,000 EC2-image records.
#
#   make bench                      (or: AMICYCLE_BUILD=build bench/offline.sh)
#   BENCH_RECORDS=20000 bench/offline.sh    a smaller, quicker run
#
# Generates the records (about 1.2 KB each, ~240 MB, in a temporary directory under $TMPDIR),
# then runs each filter and its jq 1.6 equivalent once, measuring wall and CPU time and peak RSS with
# GNU time (Debian's `time` package, installed here when missing and run as root). Prints a
# table of throughput ratios and of peak memory as a multiple of the input size, checks that
# each filter printed exactly what jq printed, and exits 1 if any output differs.
# The goals (issue 2): at least 3x jq's throughput, peak memory at most 1.5x the input.

set -eu -o pipefail

RECORDS=${BENCH_RECORDS:-200000}
. "$(dirname "$0")"/lib-bench.sh
bench_tool /usr/bin/time time
bench_built sort-by-date keep-last bench/gen-images
bench_scratch

"$AMICYCLE_BUILD/bench/gen-images" "$RECORDS" >images.jsonl
"$AMICYCLE_BUILD/bin/sort-by-date" images.jsonl >sorted.jsonl
bytes=$(wc -c <images.jsonl)
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "$RECORDS records, $mb MB ($(jq --version), $(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg))"
echo

# measure NAME INPUT CMD...: runs CMD <INPUT >NAME.out, appends "NAME wall-s peak-KB cpu-s" to times.
measure () {
	name=$1 input=$2
	shift 2
	/usr/bin/time -f "$name %e %M %U %S" -a -o times "$@" <"$input" >"$name.out"
}

# row LABEL OURS JQ: a table row from the times of OURS and JQ, and whether their outputs agree.
status=0
row () {
	if cmp -s "$2.out" "$3.out"; then same=yes; else same=NO; status=1; fi
	awk -v label="$1" -v ours="$2" -v theirs="$3" -v bytes="$bytes" -v same="$same" '
		$1 == ours { ot = $2; om = $3 * 1024; oc = $4 + $5 }
		$1 == theirs { jt = $2; jm = $3 * 1024; jc = $4 + $5 }
		END {
			if (ot <= 0) ot = 0.01
			if (jt <= 0) jt = 0.01
			if (oc <= 0) oc = 0.01
			printf "%-34s %7.2f %8.1f %7.2f %8.1f %6.1fx %6.1fx %6.2fx %6.2fx  %s\n", label,
			    ot, bytes / 1e6 / ot, jt, bytes / 1e6 / jt, jt / ot, jc / oc, om / bytes, jm / bytes, same
		}' times
}

group='.Tags | from_entries | .Role'
cat images.jsonl sorted.jsonl >/dev/null	# both inputs in the page cache, for every contender
: >times
measure sort images.jsonl "$AMICYCLE_BUILD/bin/sort-by-date"
measure sort-jq images.jsonl jq -c -s 'sort_by(.CreationDate)[]'
measure sort-libjq images.jsonl "$AMICYCLE_BUILD/bin/sort-by-date" -k '(.CreationDate)'
measure keep sorted.jsonl "$AMICYCLE_BUILD/bin/keep-last" -n 5
measure keep-jq sorted.jsonl jq -c -s --argjson n 5 '.[:([length - $n, 0] | max)][]'
measure region sorted.jsonl "$AMICYCLE_BUILD/bin/keep-last" -n 5 -g .Region
measure region-jq sorted.jsonl jq -c -s --argjson n 5 \
	'to_entries | [group_by(.value.Region)[] | .[:([length - $n, 0] | max)][]] | sort_by(.key)[].value'
measure role sorted.jsonl "$AMICYCLE_BUILD/bin/keep-last" -n 5 -g "$group"
measure role-jq sorted.jsonl jq -c -s --argjson n 5 \
	"to_entries | [group_by(.value | $group)[] | .[:([length - \$n, 0] | max)][]] | sort_by(.key)[].value"

printf "%-34s %7s %8s %7s %8s %7s %7s %7s %7s  %s\n" "" "amicycle" "" "jq 1.6" "" "speed" "cpu" "memory" "memory" "same"
printf "%-34s %7s %8s %7s %8s %7s %7s %7s %7s  %s\n" "filter" "wall s" "MB/s" "wall s" "MB/s" "vs jq" "vs jq" "/input" "jq" "output"
row "sort-by-date" sort sort-jq
row "sort-by-date -k '(.CreationDate)'" sort-libjq sort-jq
row "keep-last -n 5" keep keep-jq
row "keep-last -n 5 -g .Region" region region-jq
row "keep-last -n 5 -g TAG" role role-jq
echo
echo "TAG is '$group': after the Tags member is read from the line, libjq runs the rest on it."
echo "(.CreationDate) in parentheses is not read from the line: libjq runs it on the whole parsed record."
echo "speed: jq's wall time over ours; cpu: the same for user+system CPU time, steadier on a busy machine"
echo "goals: speed vs jq at least 3x; peak memory at most 1.5x the input"
exit $status
