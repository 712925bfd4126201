#!/bin/bash
# startup.sh: the start-up of the offline filters on one record, against /bin/true and the AWS CLI.
#
#   make bench                      (or: AMICYCLE_BUILD=build bench/startup.sh)
#
# A cleanup pipeline is four processes, run once per region and step, so the cost users see most
# often is a filter's start on a few records. Runs each command under hyperfine -N (no shell; about
# 3 s of runs each, at least 10) in one hyperfine run, checks first that each prints what it
# should, and prints a table of times, the multiple of /bin/true and the AWS CLI's multiple. Needs
# hyperfine (Debian 12's package; make deps-bench, or installed here when run as root) and, for the
# last column, the AWS CLI at /usr/bin/aws (Debian's awscli).
# The goals (issue 14): a one-record sort-by-date, keep-last and ami-from-manifest each within 2x
# of /bin/true, and at least 300x faster than `/usr/bin/aws --version`.

set -eu -o pipefail

. "$(dirname "$0")"/lib-bench.sh
bench_tool hyperfine hyperfine
bench_built sort-by-date keep-last ami-from-manifest bench/gen-images
bench_scratch

# One EC2 image record as describe-images gives it (about 1.2 KB), and a one-image Packer manifest.
"$AMICYCLE_BUILD/bench/gen-images" 1 >one.jsonl
cat >manifest.json <<-\EOF
{"builds":[{"name":"web","builder_type":"amazon-ebs","build_time":1714550400,"files":null,
 "artifact_id":"us-east-1:ami-0123456789abcdef0","packer_run_uuid":"5f3c9a10-2b7e-4d61-9c0a-7e2b4f8d1a36",
 "custom_data":{"git_sha":"0f9e8d7c"}}],"last_run_uuid":"5f3c9a10-2b7e-4d61-9c0a-7e2b4f8d1a36"}
EOF

bin=$AMICYCLE_BUILD/bin
expr='.Tags | from_entries | .Name'
# label|command (split into words by hyperfine -N, which honours the quotes)
cmds=(
	"/bin/true|/bin/true"
	"sort-by-date|$bin/sort-by-date one.jsonl"
	"keep-last -n 5 --kept|$bin/keep-last -n 5 --kept one.jsonl"
	"ami-from-manifest|$bin/ami-from-manifest manifest.json"
	"sort-by-date --version|$bin/sort-by-date --version"
	"sort-by-date -k EXPR|$bin/sort-by-date -k '$expr' --undated=last one.jsonl"
	"jq -c .CreationDate|jq -c .CreationDate one.jsonl"
)
aws=
[ -x /usr/bin/aws ] && aws=/usr/bin/aws && cmds+=("aws --version|/usr/bin/aws --version")

# What each prints, before it is timed: the record back, or the manifest's one image.
"$bin/sort-by-date" one.jsonl >out && cmp -s one.jsonl out ||
	{ echo "$BENCH: sort-by-date did not print its record" >&2; exit 1; }
"$bin/keep-last" -n 5 --kept one.jsonl >out && cmp -s one.jsonl out ||
	{ echo "$BENCH: keep-last did not keep its record" >&2; exit 1; }
"$bin/ami-from-manifest" manifest.json >out && grep -q '"ImageId":"ami-0123456789abcdef0"' out ||
	{ echo "$BENCH: ami-from-manifest did not print the image" >&2; exit 1; }

args=()
for c in "${cmds[@]}"; do
	args+=(-n "${c%%|*}" "${c#*|}")
done
echo "$(nproc) cores, load average $(cut -d" " -f1-3 /proc/loadavg); $(hyperfine --version)," \
	"$(jq --version)${aws:+, $($aws --version 2>&1 | cut -d" " -f1)}"
echo
# Its warnings of outliers are expected on a shared machine; its errors are shown.
hyperfine -N --style none --warmup 3 --min-runs 10 --export-json times.json "${args[@]}" \
	>/dev/null 2>hyperfine.err || { cat hyperfine.err >&2; exit 1; }

# The table: mean, standard deviation and median; the ratios are of medians, which other jobs on
# the machine move less than means, and of user+system CPU time, which they move less still.
ratios='.results as $r
	| ($r[] | select(.command == "/bin/true") | .median) as $true
	| (if $aws == "" then null else ($r[] | select(.command == $aws) | .median) end) as $awst'
ms='* 1000 * 100 | round / 100'
jq -r --arg aws "${aws:+aws --version}" "$ratios"'
	| ($r[] | select(.command == "/bin/true") | .user + .system) as $truecpu
	| "| command | mean ± σ | median | / true | CPU / true'"'"'s | aws --version / this |",
	  "| --- | --- | --- | --- | --- | --- |",
	  ($r[] | "| `\(.command)` | \(.mean '"$ms"') ± \(.stddev '"$ms"') ms | \(.median '"$ms"') ms"
	    + " | \(.median / $true * 100 | round / 100)x"
	    + " | \((.user + .system) / $truecpu * 100 | round / 100)x"
	    + " | \(if $awst then "\($awst / .median | round)x" else "n/a" end) |")' times.json
echo
jq -r --arg aws "${aws:+aws --version}" "$ratios"'
	| $r[] | select(.command | test("^(sort-by-date|keep-last -n 5 --kept|ami-from-manifest)$"))
	| "goal: \(.command): \(if .median <= 2 * $true then "met" else "NOT met" end) (within 2x of /bin/true)"
	  + (if $awst then ", \(if $awst >= 300 * .median then "met" else "NOT met" end) (300x faster than aws --version)"
	     else ", no /usr/bin/aws to compare with" end)' times.json
echo
echo "EXPR is '$expr': not a plain path, so libjq is set up (jq_init, jq_compile of its builtins)."
echo "A path key (.CreationDate, .Packer.BuildTime) never sets libjq up; t/t0004 checks that."
