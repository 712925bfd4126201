#!/bin/bash
# bench/usage.sh: the requests of the usage lookup (lib/ec2/imageuse.h, which deregister asks
# before it deletes and image-users prints) for 1,000 images in one region, counted by the local
# EC2 endpoint (t/ec2-endpoint.py, its /_admin/counts): never a timing. The account also holds
# 50 instances, 20 launch templates, 10 Auto Scaling groups (two pinning a version, one mixed), 5
# launch configurations and 120 SSM String parameters, and 20 of the images are shared.
#
#   image-users        with DescribeImageReferences, and without it (the endpoint answers
#                      InvalidAction): one paged read per source for all the images (in batches
#                      where EC2 caps the ids of a call: 10 for DescribeImageReferences, 200 for a
#                      filter, 10 names for GetParameters), launch permissions one call per image
#   AWS CLI + jq loop  per image: describe-image-references --include-all-resource-types and
#                      describe-image-attribute launchPermission; once: the Auto Scaling groups,
#                      launch configurations and SSM parameters (get-parameters 10 names a call).
#                      Run on 20 of the images; its count for 1,000 is the per-image calls times
#                      1,000 plus the listings, as the loop is linear.
#
# A benchmark, not a test: `make bench` runs it, or AMICYCLE_BUILD=DIR bash bench/usage.sh.

BENCH=usage.sh
. "$(dirname "$0")/lib-bench.sh"
N=1000
SAMPLE=20

bench_setup
bench_built image-users
"$AMICYCLE_BUILD/bench/gen-images" $N | jq -s -c '
	[to_entries[] | .key as $i | .value | del(.Region) |
		if $i < 20 then .LaunchPermissions = [{UserId: "111122223333"}] else . end] as $images |
	def img($i): $images[$i].ImageId;
	{Regions: {"us-east-1": {Images: $images,
	 Instances: [range(50) | {InstanceId: "i-0b\(100000000000000 + .)", ImageId: img(. * 7),
		State: {Name: (if . % 5 == 0 then "stopped" else "running" end), Code: 16}}],
	 LaunchTemplates: [range(20) | . as $t | {LaunchTemplateId: "lt-0b\(100000000000000 + $t)",
		LaunchTemplateName: "tpl-\($t)",
		Versions: [range(5) | {LaunchTemplateData: {ImageId: img(400 + $t * 5 + .)}}]}],
	 AutoScalingGroups: ([range(8) | {AutoScalingGroupName: "asg-\(.)",
		LaunchTemplate: {LaunchTemplateName: "tpl-\(.)", Version: (if . < 2 then "3" else "$Latest" end)}}] +
		[{AutoScalingGroupName: "mixed", MixedInstancesPolicy: {LaunchTemplate: {
			LaunchTemplateSpecification: {LaunchTemplateName: "tpl-9"},
			Overrides: [{InstanceType: "m5.large"}]}}},
		 {AutoScalingGroupName: "lc", LaunchConfigurationName: "lc-0"}]),
	 LaunchConfigurations: [range(5) | {LaunchConfigurationName: "lc-\(.)", ImageId: img(600 + .)}],
	 Parameters: [range(120) | {Name: "/images/p\(.)", Type: "String",
		DataType: (if . % 2 == 0 then "aws:ec2:image" else "text" end), Value: img(700 + .)}]}}}' \
	>seed.json || bench_die "cannot write the seed"
jq -c '.Regions["us-east-1"].Images[] | {ImageId, Region: "us-east-1"}' seed.json >images.jsonl
ec2_start seed.json || exit 1

# counts NAME: the endpoint's counts since the last reset, kept as NAME.counts.
counts () {
	ec2_admin GET /_admin/counts >"$1.counts" || bench_die "cannot read the endpoint's counts"
}

# show NAME: its total and its requests per action.
show () {
	printf '%-22s %5d requests: %s\n' "$1" "$(jq .Total "$1.counts")" \
		"$(jq -r '.Actions | to_entries | map("\(.key) \(.value)") | join(", ")' "$1.counts")"
}

run_users () {
	ec2_reset_counts
	image-users images.jsonl >"$1.out" 2>"$1.err" || bench_die "image-users ($1) failed: $(head -3 "$1.err")"
	counts "$1"
	[ "$(wc -l <"$1.out")" = $N ] || bench_die "image-users ($1) printed $(wc -l <"$1.out") records"
}

run_users refs
ec2_settings '{"UnknownActions": ["DescribeImageReferences"]}'
run_users norefs
ec2_settings '{"UnknownActions": []}'
cmp -s <(jq -c '[.ImageId, (.Users | map(del(.Source)))]' refs.out | grep -v image-recipe) \
	<(jq -c '[.ImageId, (.Users | map(del(.Source)))]' norefs.out) ||
	bench_die "the two ways found different users"

# The shell loop, on SAMPLE images.
ec2_reset_counts
head -n $SAMPLE images.jsonl | jq -r .ImageId >sample.ids
{
	ec2_aws autoscaling describe-auto-scaling-groups >asg.json &&
	ec2_aws autoscaling describe-launch-configurations >lc.json &&
	ec2_aws ssm describe-parameters --parameter-filters Key=Type,Values=String >params.json &&
	jq -r '.Parameters[].Name' params.json | xargs -n 10 sh -c \
		'AWS_PAGER= /usr/bin/aws --no-cli-pager --output json --endpoint-url "$EC2_URL" ssm get-parameters --names "$@" >/dev/null' sh &&
	while read -r id; do
		ec2_aws_model ec2 describe-image-references --image-ids "$id" \
			--include-all-resource-types >/dev/null &&
		ec2_aws ec2 describe-image-attribute --image-id "$id" --attribute launchPermission >/dev/null ||
		exit 1
	done <sample.ids
} 2>cli.err || bench_die "the AWS CLI loop failed: $(head -3 cli.err)"
counts cli

per_image=$(jq '(.Actions.DescribeImageReferences + .Actions.DescribeImageAttribute)' cli.counts)
per_image=$((per_image / SAMPLE))
fixed=$(($(jq .Total cli.counts) - per_image * SAMPLE))
cli_total=$((per_image * N + fixed))

echo "who uses $N images in one region (requests counted by the endpoint):"
show refs
show norefs
show cli
echo "AWS CLI + jq loop for $N images: $per_image calls per image x $N + $fixed listing calls = $cli_total requests"
awk -v r="$(jq .Total refs.counts)" -v n="$(jq .Total norefs.counts)" -v c="$cli_total" -v N=$N 'BEGIN {
	printf "image-users: %d requests with DescribeImageReferences, %d without: %.1fx and %.1fx fewer than the loop\n", r, n, c / r, c / n
	printf "launch permissions aside (one DescribeImageAttribute per image either way: EC2 has no other read of them):\n"
	printf "  %d and %d requests against the loop'"'"'s %d: %.1fx and %.1fx fewer\n", r - N, n - N, c - N, (c - N) / (r - N), (c - N) / (n - N)
}'
