# lib-bench.sh: what the benchmarks share, sourced (not run: make bench runs bench/*.sh but these).
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

# bench_built FILE...: each is built in $AMICYCLE_BUILD (bin/NAME for a bare NAME, else the path
# under it, e.g. bench/gen-images), or the script exits 1.
bench_built () {
	for prog_ in "$@"; do
		case $prog_ in */*) ;; *) prog_=bin/$prog_ ;; esac
		[ -x "$AMICYCLE_BUILD/$prog_" ] ||
			{ echo "$BENCH: no $AMICYCLE_BUILD/$prog_: run make bench" >&2; exit 1; }
	done
}

# bench_scratch [CMD]: cd into a new directory $TRASH under $TMPDIR, removed when the script ends
# (after CMD, if given: what else must stop then).
bench_scratch () {
	TRASH=$(mktemp -d "${TMPDIR:-/tmp}/amicycle-bench.XXXXXX") || exit 1
	trap "${1:+$1; }"'rm -rf "$TRASH"' EXIT
	cd "$TRASH"
}

# What the benchmarks against the local endpoint share (cleanup.sh, scale.sh): a scratch directory
# with the local EC2 endpoint (t/lib-ec2.sh) and none of the caller's AWS configuration, the seed of a cleanup job, the
# two ways to do it (the amicycle pipeline and the usual AWS CLI script), and a run of either that
# checks what it left. Source it from a bench script (bash), after setting BENCH to the script's name:
#
#   BENCH=scale.sh
#   . "$(dirname "$0")"/lib-bench.sh
#   bench_setup                            exits 0 with "skipped: ..." when a program is missing
#   ec2_start "" --rtt 40 || exit 1        (t/lib-ec2.sh: any serve options after the seed)
#   bench_seed 50 >seed.json               50 images of project bench, 20 of project other
#   bench_expect seed.json 5 1 >expect     the ids left after keeping 5 (1: with snapshots, 0: without)
#   bench_run amicycle seed.json expect 5 1 NAME || exit 1   reseed, run, check: NAME.{time,mem,counts}
#
# The images are bench/gen-images's records ($AMICYCLE_BUILD/bench/gen-images, built by make bench),
# about 1.1 KB each as `aws ec2 describe-images` prints them, with random creation dates. The account
# also holds 20 images of another project and 2 launch templates using them, so the safety checks of
# deregister have something to read.

AWS=/usr/bin/aws

bench_die () {
	echo "bench/$BENCH: $*" >&2
	exit 1
}

# bench_setup: check the programs, start the scratch directory ($TRASH, removed at exit) and cd into it.
bench_setup () {
	AMICYCLE_BUILD=$(cd "$AMICYCLE_BUILD" && pwd) || exit 1
	for p in bin/ec2-describe bin/sort-by-date bin/keep-last bin/deregister bench/gen-images; do
		if ! [ -x "$AMICYCLE_BUILD/$p" ]; then
			echo "bench/$BENCH: skipped: $AMICYCLE_BUILD/$p is not built (make bench builds it)"
			exit 0
		fi
	done
	if ! [ -x "$AWS" ]; then
		echo "bench/$BENCH: skipped: no AWS CLI at $AWS"
		exit 0
	fi
	if ! [ -x /usr/bin/time ]; then
		echo "bench/$BENCH: skipped: no /usr/bin/time (Debian's time package)"
		exit 0
	fi
	# What t/lib-ec2.sh needs from the test harness; it starts, counts and stops the endpoint.
	TEST_DIR=$(cd "$SRC/../t" && pwd)
	PYTHON=/usr/bin/python3
	test_atexit () { :; }
	. "$TEST_DIR/lib-ec2.sh"
	bench_scratch ec2_stop
	trap 'exit 130' INT TERM

	# Nothing from the caller's AWS configuration may take part.
	for v in $(env | sed -n 's/^\(AWS_[A-Za-z0-9_]*\)=.*/\1/p; s/^\(AMICYCLE_[A-Z_]*\)=.*/\1/p'); do
		[ "$v" = AMICYCLE_BUILD ] || unset "$v"
	done
	: >"$TRASH/aws-config"
	AWS_CONFIG_FILE=$TRASH/aws-config
	AWS_SHARED_CREDENTIALS_FILE=$TRASH/aws-config
	AWS_EC2_METADATA_DISABLED=true
	AWS_PAGER=
	export AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_EC2_METADATA_DISABLED AWS_PAGER LC_ALL=C TZ=UTC
	PATH=$AMICYCLE_BUILD/bin:$PATH
}

# bench_seed N [REGION...]: a seed with N images of project bench and 20 of project other in each
# REGION (default us-east-1), one snapshot each, and 2 launch templates using two of the others.
bench_seed () {
	"$AMICYCLE_BUILD/bench/gen-images" $(($1 + 20)) | jq -s -c --argjson n "$1" --arg regions "${*:2}" '
		[to_entries[] | .key as $i | .value | del(.Region) |
			.Tags[0].Value = (if $i < $n then "bench" else "other" end)] as $images |
		{Images: $images,
		 Snapshots: [$images[].BlockDeviceMappings[].Ebs.SnapshotId // empty | {SnapshotId: ., VolumeSize: 8}],
		 LaunchTemplates: [range(2) | {LaunchTemplateName: "other-\(.)",
			Versions: [{LaunchTemplateData: {ImageId: $images[$n + .].ImageId}}]}]} as $region |
		{Regions: ($regions | if . == "" then "us-east-1" else . end | split(" ") |
			map({key: ., value: $region}) | from_entries)}' || bench_die "cannot write the seed"
}

# bench_expect SEED KEEP SNAPSHOTS: the image and snapshot ids left in us-east-1 once all but the newest
# KEEP images of project bench are retired (SNAPSHOTS 1: with their snapshots), sorted.
bench_expect () {
	jq -r --argjson keep "$2" --argjson snaps "$3" '.Regions["us-east-1"] |
		(.Images | map(select(.Tags[0].Value == "bench")) | sort_by(.CreationDate) | .[:-$keep] |
			map(.ImageId, if $snaps == 1 then .BlockDeviceMappings[].Ebs.SnapshotId // empty else empty end) |
			reduce .[] as $id ({}; .[$id] = true)) as $gone |
		(.Images[].ImageId, .Snapshots[].SnapshotId) | select($gone[.] | not)' \
		"$1" | sort
}

# The two ways to do the job; KEEP, SNAPS (1 or 0) and MAX (deregister's --max) set by bench_run.
amicycle () {
	set -o pipefail
	ec2-describe images --owner self --filter Name=tag:Project,Values=bench |
		sort-by-date | keep-last -n "$KEEP" |
		deregister --max "$MAX" $([ "$SNAPS" = 1 ] || echo --keep-snapshots) >amicycle.out
}

# The usual shell script: one paged describe-images, jq to sort and pick, then one deregister-image
# per image and one delete-snapshot per snapshot (this CLI has no --delete-associated-snapshots).
awscli () {
	set -o pipefail
	ec2_aws ec2 describe-images --owners self --filters Name=tag:Project,Values=bench \
		--page-size 1000 >images.json &&
	jq -r --argjson keep "$KEEP" '.Images | sort_by(.CreationDate) | .[:-$keep][] |
		[.ImageId, (.BlockDeviceMappings | map(.Ebs.SnapshotId // empty) | join(" "))] | @tsv' \
		images.json >old.tsv &&
	while IFS='	' read -r id snaps; do
		ec2_aws ec2 deregister-image --image-id "$id" >/dev/null || return 1
		[ "$SNAPS" = 1 ] || continue
		for s in $snaps; do
			ec2_aws ec2 delete-snapshot --snapshot-id "$s" >/dev/null || return 1
		done
	done <old.tsv
}

# bench_run WAY SEED EXPECT KEEP SNAPS NAME: reseed, set the endpoint's token buckets to
# $BENCH_BUCKETS (when set: {"Throttle": true|false}; full again for every run), run WAY (amicycle or
# awscli) under GNU time, and check that it left exactly EXPECT in us-east-1. Writes NAME.time (wall
# seconds), NAME.mem (the peak RSS of its largest process, KB) and NAME.counts (the endpoint's counts).
# Returns 1, saying why on stderr, when WAY failed or left anything else than EXPECT.
bench_run () {
	ec2_seed "$2" && ec2_reset_counts || bench_die "cannot reseed the endpoint"
	if [ -n "$BENCH_BUCKETS" ]; then
		ec2_buckets "$BENCH_BUCKETS" >/dev/null || bench_die "cannot set the endpoint's buckets"
	fi
	KEEP=$4 SNAPS=$5 MAX=$(jq '[.Regions[].Images[]] | length' "$2")
	export KEEP SNAPS MAX
	export -f amicycle awscli ec2_aws
	bench_status=0
	start=$(date +%s.%N)
	if ! /usr/bin/time -f %M -o "$6.mem" /bin/bash -c "$1" 2>"$6.err"; then
		tail -5 "$6.err" >&2
		echo "bench/$BENCH: FAILED: the $1 run ($6) exited $(sed -n 's/^Command exited with non-zero status //p' "$6.mem")" >&2
		bench_status=1
	fi
	end=$(date +%s.%N)
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }' >"$6.time"
	ec2_admin GET /_admin/counts >"$6.counts" || bench_die "cannot read the endpoint's counts"
	ec2_state us-east-1 | jq -r '.Regions["us-east-1"] | (.Images[].ImageId), (.Snapshots[].SnapshotId)' |
		sort >"$6.left"
	if ! cmp -s "$3" "$6.left"; then
		echo "bench/$BENCH: FAILED: the $1 run ($6) left other images or snapshots than expected" \
			"(< expected, > left):" >&2
		diff "$3" "$6.left" | sed -n '/^[<>]/p' | head -10 >&2
		bench_status=1
	fi
	return $bench_status
}
