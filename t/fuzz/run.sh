#!/bin/bash
# run.sh NAME BUILD SECONDS [LIBFUZZER-OPTION...]: one make fuzz run of BUILD/fuzz/NAME (see
# fuzz.mk). It fuzzes from t/fuzz/corpus/NAME with t/fuzz/NAME.dict for SECONDS into a scratch
# corpus, merges what adds coverage into t/fuzz/corpus/NAME, keeps crashes in BUILD/findings/,
# and prints one line: executions, coverage, inputs added, findings. Exits 1 on a finding.
set -u
name=$1 build=$2 seconds=$3
shift 3
src=$(cd "$(dirname "$0")" && pwd)
bin=$build/fuzz/$name
corpus=$src/corpus/$name
new=$build/corpus-new/$name
findings=$build/findings
log=$build/log/$name.log
mkdir -p "$corpus" "$new" "$findings" "$build/log" || exit 1
dict=
[ -f "$src/$name.dict" ] && dict=-dict=$src/$name.dict
# The libraries' own leaks (t/lsan.supp) need full stacks to be told from ours.
cat "$src/../lsan.supp" "$src/lsan.supp" >"$build/lsan.supp" || exit 1
export LSAN_OPTIONS=suppressions=$build/lsan.supp:fast_unwind_on_malloc=0:print_suppressions=0
before=$(ls "$corpus" | wc -l)
ls "$findings" >"$build/log/$name.before"
"$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$findings/$name-" \
	$dict "$@" "$new" "$corpus" >"$log" 2>&1
status=$?
"$bin" -merge=1 "$corpus" "$new" >>"$log" 2>&1 || status=1
after=$(ls "$corpus" | wc -l)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | head -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
found=$(ls "$findings" | grep -vxF -f "$build/log/$name.before" | sed "s|^|$findings/|" | tr '\n' ' ')
echo "fuzz: $name: ${execs:-0} executions, ${cov:-cov: ?}, $((after - before)) inputs added to t/fuzz/corpus/$name, findings: ${found:-none}"
if [ -n "$found" ] || [ $status != 0 ]; then
	echo "fuzz: $name: see $log" >&2
	exit 1
fi
exit 0
