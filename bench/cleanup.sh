#!/bin/bash
# bench/cleanup.sh: retire all but the newest 5 of 50 tagged images, with their snapshots,
# against the local EC2 endpoint (t/ec2-endpoint.py, no added latency, no rate limits), two ways
# (bench/lib-bench.sh has both):
#
#   amicycle   ec2-describe images --owner self --filter Name=tag:Project,Values=bench
#                | sort-by-date | keep-last -n 5 | deregister
#   AWS CLI    aws ec2 describe-images + jq sorting, then one `aws ec2 deregister-image` per image
#              and one `aws ec2 delete-snapshot` per snapshot, as the usual shell scripts do
#              (this CLI has no --delete-associated-snapshots)
#
# It prints the wall-clock time of each (amicycle's the median of 5 runs), their ratio, and the API
# requests each sent (from the endpoint's counts), and checks that both leave the same images and
# snapshots. A benchmark, not a test: run it with `make bench`, or AMICYCLE_BUILD=DIR bash
# bench/cleanup.sh after make bench has built bench/gen-images. bench/scale.sh runs the same job at
# scale, with round-trip latency and EC2's rate limits.

BENCH=cleanup.sh
. "$(dirname "$0")/lib-bench.sh"
N=50
KEEP=5

bench_setup
bench_seed $N >seed.json
bench_expect seed.json $KEEP 1 >expect.left
ec2_start seed.json || exit 1

# run WAY TIMES: TIMES verified runs of WAY; prints the median time and the requests of one run.
run () {
	: >"$1.times"
	for i in $(seq "$2"); do
		bench_run "$1" seed.json expect.left $KEEP 1 "$1" || exit 1
		cat "$1.time" >>"$1.times"
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
echo "  1 DescribeImages listing page; the safety checks: 1 DescribeImages refresh, a paged read per"
echo "  source of use (bench/usage.sh counts them for 1,000 images), and DescribeImageAttribute"
echo "  launchPermission per image ($(jq '.Actions.DescribeImageAttribute // 0' amicycle.counts) here)"
