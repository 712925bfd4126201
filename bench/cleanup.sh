#!/bin/bash
# bench/cleanup.sh: retire all but the newest 5 of 50 tagged images, with their snapshots,
# against the local EC2 endpoint (t/ec2-endpoint.py), two ways:
#
#   amicycle   ec2-describe images --owner self --filter Name=tag:Project,Values=bench
#                | sort-by-date | keep-last -n 5 | deregister
#   AWS CLI    aws ec2 describe-images + jq sorting, then one `aws ec2 deregister-image` per image
#              and one `aws ec2 delete-snapshot` per snapshot, as the usual shell scripts do
#              (this CLI has no --delete-associated-snapshots)
#
# It prints the wall-clock time of each (amicycle's the median of 5 runs), their ratio, and the API requests each sent (from the
# endpoint's counts), and checks that both leave the same images and snapshots. A benchmark, not
# a test: run it with `make bench`, or AMICYCLE_BUILD=DIR bash bench/cleanup.sh. The account also
# holds 20 images of another project and 2 launch templates, so the safety checks have something
# to read. The endpoint is started on a free loopback port and stopped at the end.

SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
: "${AMICYCLE_BUILD:=$SRC_DIR/build}"
AMICYCLE_BUILD=$(cd "$AMICYCLE_BUILD" && pwd) || exit 1
AWS=/usr/bin/aws
N=50
KEEP=5

for p in ec2-describe sort-by-date keep-last deregister; do
	if ! [ -x "$AMICYCLE_BUILD/bin/$p" ]; then
		echo "bench/cleanup.sh: skipped: $AMICYCLE_BUILD/bin/$p is not built"
		exit 0
	fi
done
if ! [ -x "$AWS" ]; then
	echo "bench/cleanup.sh: skipped: no AWS CLI at $AWS"
	exit 0
fi

# What t/lib-ec2.sh needs from the test harness; it starts, counts and stops the endpoint.
TEST_DIR=$SRC_DIR/t
TRASH=$(mktemp -d /tmp/amicycle-bench.XXXXXX) || exit 1
PYTHON=/usr/bin/python3
test_atexit () { :; }
. "$TEST_DIR/lib-ec2.sh"
trap 'ec2_stop; rm -rf "$TRASH"' EXIT
trap 'exit 130' INT TERM

# Nothing from the caller's AWS configuration may take part.
for v in $(env | sed -n 's/^\(AWS_[A-Za-z0-9_]*\)=.*/\1/p; s/^\(AMICYCLE_AUDIT_LOG\)=.*/\1/p'); do
	unset "$v"
done
: >"$TRASH/aws-config"
AWS_CONFIG_FILE=$TRASH/aws-config
AWS_SHARED_CREDENTIALS_FILE=$TRASH/aws-config
AWS_EC2_METADATA_DISABLED=true
AWS_PAGER=
export AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_EC2_METADATA_DISABLED AWS_PAGER
PATH=$AMICYCLE_BUILD/bin:$PATH
cd "$TRASH" || exit 1

# 50 images of project bench and 20 of project other, in no particular order, one snapshot each.
jq -n --argjson n $N '
	def image($i; $p): {ImageId: "ami-0\(1000000000000000 + $i)", Name: "\($p)-\($i)",
		CreationDate: (1704067200 + $i * 3600 | todate | sub("Z$"; ".000Z")),
		Tags: [{Key: "Project", Value: $p}], RootDeviceName: "/dev/xvda",
		BlockDeviceMappings: [{DeviceName: "/dev/xvda", Ebs: {SnapshotId:
			"snap-0\(1000000000000000 + $i)", VolumeSize: 8, DeleteOnTermination: true}}]};
	([range($n) | image(.; "bench")] + [range($n; $n + 20) | image(.; "other")]) as $images |
	{Regions: {"us-east-1": {
		Images: ($images | sort_by((.Name | split("-")[1] | tonumber) * 37 % 71)),
		Snapshots: [$images[].BlockDeviceMappings[].Ebs.SnapshotId | {SnapshotId: ., VolumeSize: 8}],
		LaunchTemplates: [range(2) | {LaunchTemplateName: "other-\(.)",
			Versions: [{LaunchTemplateData: {ImageId: "ami-0\(1000000000000000 + $n + 19 - .)"}}]}]}}}' \
	>seed.json || exit 1
# What must be left: the newest 5 of bench and all of other, each with its snapshot.
jq -r --argjson keep $KEEP '.Regions["us-east-1"] | ((.Images | map(select(.Tags[0].Value == "bench")) |
	sort_by(.CreationDate) | .[:-$keep] | map(.ImageId, .BlockDeviceMappings[0].Ebs.SnapshotId)) as $gone |
	(.Images[].ImageId, .Snapshots[].SnapshotId) | select(. as $id | $gone | index($id) | not))' \
	seed.json | sort >expect.left

ec2_start seed.json || exit 1

amicycle () {
	set -o pipefail
	ec2-describe images --owner self --filter Name=tag:Project,Values=bench |
		sort-by-date | keep-last -n $KEEP | deregister >amicycle.out
}

awscli () {
	set -o pipefail
	ec2_aws ec2 describe-images --owners self --filters Name=tag:Project,Values=bench >images.json &&
	jq -r --argjson keep $KEEP '.Images | sort_by(.CreationDate) | .[:-$keep][] |
		[.ImageId, (.BlockDeviceMappings | map(.Ebs.SnapshotId // empty) | join(" "))] | @tsv' \
		images.json >old.tsv &&
	while IFS='	' read -r id snaps; do
		ec2_aws ec2 deregister-image --image-id "$id" >/dev/null || return 1
		for s in $snaps; do
			ec2_aws ec2 delete-snapshot --snapshot-id "$s" >/dev/null || return 1
		done
	done <old.tsv
}

# run NAME TIMES: reseed, run NAME, check what it left; TIMES times. Prints the median time and
# the requests of one run.
run () {
	: >"$1.times"
	for i in $(seq "$2"); do
		ec2_seed seed.json && ec2_reset_counts || exit 1
		start=$(date +%s.%N)
		( "$1" ) || { echo "bench/cleanup.sh: the $1 run failed" >&2; exit 1; }
		end=$(date +%s.%N)
		ec2_admin GET /_admin/counts >"$1.counts" || exit 1
		ec2_state us-east-1 | jq -r '.Regions["us-east-1"] | (.Images[].ImageId), (.Snapshots[].SnapshotId)' |
			sort >"$1.left"
		if ! cmp -s expect.left "$1.left"; then
			echo "bench/cleanup.sh: the $1 run left other images or snapshots than expected" >&2
			diff expect.left "$1.left" >&2
			exit 1
		fi
		awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }' >>"$1.times"
	done
	sort -n "$1.times" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }' >"$1.time"
	printf '%-9s %8.3f s  (median of %d)  %3d requests: %s\n' "$1" "$(cat "$1.time")" "$2" \
		"$(jq .Total "$1.counts")" "$(jq -r '.Actions | to_entries | map("\(.key) \(.value)") | join(", ")' "$1.counts")"
}

echo "cleanup of $N images tagged Project=bench, keeping the newest $KEEP, with their snapshots:"
run amicycle 5
run awscli 1
awk -v a="$(cat amicycle.time)" -v c="$(cat awscli.time)" \
	'BEGIN { printf "amicycle is %.0fx faster than the AWS CLI script (goal: 50x)\n", c / a }'
deregs=$(jq '.Actions.DeregisterImage' amicycle.counts)
reads=$(($(jq .Total amicycle.counts) - deregs))
echo "amicycle: $deregs DeregisterImage (one per image, snapshots deleted by EC2) and $reads reads:"
echo "  1 DescribeImages listing page; the safety checks: 1 DescribeImages refresh, 1 DescribeInstances,"
echo "  1 DescribeLaunchTemplates and 1 DescribeLaunchTemplateVersions per template ($(jq '.Actions.DescribeLaunchTemplateVersions // 0' amicycle.counts) here)"
