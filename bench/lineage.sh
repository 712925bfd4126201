#!/bin/bash
# bench/lineage.sh: finding the family of a released image (what image-revoke takes out of use)
# in an account of 1,000 images over 4 regions and a second account reached through a role, by
# image-lineage and by the AWS CLI + jq loop a user would write; requests counted by the local EC2
# endpoint (t/ec2-endpoint.py, its /_admin/counts), wall time with 40 ms added to every request
# (--rtt 40, as scale.sh: real round trips are 20-80 ms). Both ways must find the same family.
#
# The family (14 images): the root in us-east-1; its copies in us-west-2, eu-west-1, eu-central-1
# (SourceImageId/SourceImageRegion, as EC2 describes copies); 2 builds from it in us-east-1 (tag
# SourceAMI, as a Packer template sets it); the builds' copies in the 3 other regions (carrying the
# build's tags, as CopyImageTags copies them); in account B (us-east-1 and us-west-2, 100 images of
# its own) a copy of the us-west-2 copy, with copy-image's lineage tags too, and a copy of a build.
# Among the others, every tenth is a copy of its neighbour and every tenth a build from one.
#
#   image-lineage      one paged DescribeImages (Owners self) per account and region, concurrent
#                      within an account; one AssumeRole for B (the accounts file); the family in
#                      memory. Median of 3 runs.
#   AWS CLI + jq loop  generation by generation until no new child, in each account (B through
#                      one sts assume-role) and region: describe-images --owners self --filters
#                      Name=source-image-id,Values=IDS (all of the generation's ids in one call, the
#                      way that costs the fewest calls), and in the regions where the generation has
#                      images, Name=tag:SourceAMI,Values=IDS (builds are in their parent's region);
#                      jq keeps the children whose SourceImageRegion (or region) is their parent's.
#                      One run: each call starts the CLI anew.
#
# A benchmark, not a test: `make bench` runs it, or AMICYCLE_BUILD=DIR bash bench/lineage.sh.

BENCH=lineage.sh
. "$(dirname "$0")/lib-bench.sh"
N=1000
A=123456789012 B=222222222222
ROLE=arn:aws:iam::$B:role/lineage
REGIONS="us-east-1 us-west-2 eu-west-1 eu-central-1"
B_REGIONS="us-east-1 us-west-2"

bench_setup
bench_built image-lineage
# gen-images's records (OwnerId A) without their Region: the first N in A, a region each in turn,
# the next 100 in B. Images 0-11 are the family in A; those of the family are recent and not
# deprecated (the others were built from 2022 on, some deprecated since: Owners self lists them).
"$AMICYCLE_BUILD/bench/gen-images" $((N + 100)) | jq -s -c --argjson n $N --arg a $A --arg b $B \
	--arg regions "$REGIONS" --arg bregions "$B_REGIONS" '
	($regions | split(" ")) as $r | ($bregions | split(" ")) as $br |
	def tag($k; $v): .Tags += [{Key: $k, Value: $v}];
	def copy($src; $region): .SourceImageId = $src.ImageId | .SourceImageRegion = $region;
	def recent($d): .CreationDate = "2026-11-\($d)T10:00:00.000Z" | del(.DeprecationTime);
	map(del(.Region)) as $g |
	[range($n) | . as $i | $g[$i] | .Region = $r[$i % 4]] as $img |
	def at($i): $img[$i];
	($img | to_entries | map(.key as $i | .value |
		if $i == 0 then recent("01")
		elif $i <= 3 then recent("02") | .Region = $r[$i] | copy(at(0); "us-east-1")
		elif $i <= 5 then recent("03") | .Region = "us-east-1" | tag("SourceAMI"; at(0).ImageId)
		elif $i <= 11 then recent("04") | .Region = $r[1 + ($i - 6) % 3] |
			copy(at(4 + (($i - 6) / 3 | floor)); "us-east-1") | tag("SourceAMI"; at(0).ImageId)
		elif $i < 20 then .
		elif $i % 10 == 0 then copy(at($i - 1); at($i - 1).Region)
		elif $i % 10 == 5 then .Region = at($i - 4).Region | tag("SourceAMI"; at($i - 4).ImageId)
		else . end)) as $mine |
	(($g[$n:] | to_entries | map(.key as $i | .value | .OwnerId = $b | .Region = $br[$i % 2])) +
	[(at(0) | .ImageId = "ami-0b0000000000000a1" | .Region = "us-west-2" | .OwnerId = $b | recent("05") |
		copy($mine[1]; "us-west-2") | tag("SourceImageId"; $mine[1].ImageId) |
		tag("SourceRegion"; "us-west-2") | tag("SourceAccount"; $a)),
	 (at(0) | .ImageId = "ami-0b0000000000000a2" | .Region = "us-east-1" | .OwnerId = $b | recent("05") |
		copy($mine[4]; "us-east-1") | tag("SourceAMI"; $mine[0].ImageId))]) as $bimg |
	{AccountId: $a, Accounts: {($b): {Roles: {lineage: {}}}},
	 Regions: ($r | map({key: ., value: {Images: []}}) | from_entries)} |
	reduce ($mine + $bimg)[] as $i (.; .Regions[$i.Region].Images += [$i | del(.Region)])' \
	>seed.json || bench_die "cannot write the seed"
jq -c '.Regions["us-east-1"].Images[0] | {ImageId, Region: "us-east-1"}' seed.json >root.jsonl
root=$(jq -r .ImageId root.jsonl)
jq -n -c --arg b $B --arg role $ROLE --arg regions "$B_REGIONS" \
	'{Account: $b, Role: $role, Regions: ($regions | split(" ")), Environment: "production"}' >accounts.jsonl
[ "$(jq '[.Regions[].Images[] | select(.OwnerId == "'$A'")] | length' seed.json)" = $N ] ||
	bench_die "the seed does not hold $N images in account A"
ec2_start seed.json --rtt 40 || exit 1

# counts NAME: the endpoint's counts since the last reset, kept as NAME.counts.
counts () {
	ec2_admin GET /_admin/counts >"$1.counts" || bench_die "cannot read the endpoint's counts"
}

# timed NAME CMD...: runs CMD (output NAME.out, errors NAME.err) after resetting the counts;
# NAME.time is its wall time in seconds, NAME.counts the requests it sent.
timed () {
	name_=$1
	shift
	ec2_reset_counts || bench_die "cannot reset the endpoint's counts"
	start=$(date +%s.%N)
	"$@" >"$name_.out" 2>"$name_.err" || bench_die "$name_ failed: $(head -3 "$name_.err")"
	end=$(date +%s.%N)
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }' >"$name_.time"
	counts "$name_"
}

# What both ways are checked on: image, region, owner, parent ("-" for the root), depth; sorted.
family () {
	jq -r '[.ImageId, .Region, .OwnerId, (.Parent // "-"), .Depth] | @tsv' | sort
}

lineage () {
	image-lineage $(printf -- '--region %s ' $REGIONS) --accounts accounts.jsonl root.jsonl
}

# cli_children REGION: the children, in REGION of the credentials' account, of the generation in
# gen.json ({ID: REGION}), as JSON lines {ImageId, Region, OwnerId, Parent}: copies by
# source-image-id from any region, builds by tag:SourceAMI in their parent's region (not copies:
# they carry their source's tags).
cli_children () {
	ids=$(jq -r 'keys | join(",")' gen.json)
	ec2_aws_model ec2 describe-images --region "$1" --owners self \
		--filters "Name=source-image-id,Values=$ids" >copies.json || return 1
	jq -c --slurpfile gen gen.json --arg r "$1" '.Images[] |
		select(.SourceImageRegion == $gen[0][.SourceImageId]) |
		{ImageId, Region: $r, OwnerId, Parent: .SourceImageId}' copies.json
	ids=$(jq -r --arg r "$1" 'to_entries | map(select(.value == $r).key) | join(",")' gen.json)
	[ -n "$ids" ] || return 0
	ec2_aws_model ec2 describe-images --region "$1" --owners self \
		--filters "Name=tag:SourceAMI,Values=$ids" >builds.json || return 1
	jq -c --arg r "$1" '.Images[] | select(.SourceImageId == null) | {ImageId, Region: $r, OwnerId,
		Parent: (.Tags | from_entries | .SourceAMI)}' builds.json
}

# The user's script: B's credentials once, then generation by generation.
cli () {
	set -o pipefail
	ec2_aws sts assume-role --role-arn $ROLE --role-session-name lineage >role.json || return 1
	echo "{\"ImageId\":\"$root\",\"Region\":\"us-east-1\",\"OwnerId\":\"$A\",\"Depth\":0}" >cli.family
	cp cli.family gen.jsonl
	depth=0
	while [ -s gen.jsonl ]; do
		depth=$((depth + 1))
		jq -s -c 'map({key: .ImageId, value: .Region}) | from_entries' gen.jsonl >gen.json
		{
			for r in $REGIONS; do
				cli_children "$r" || return 1
			done
			for r in $B_REGIONS; do
				AWS_ACCESS_KEY_ID=$(jq -r .Credentials.AccessKeyId role.json) \
				AWS_SECRET_ACCESS_KEY=$(jq -r .Credentials.SecretAccessKey role.json) \
				AWS_SESSION_TOKEN=$(jq -r .Credentials.SessionToken role.json) \
					cli_children "$r" || return 1
			done
		} >children.jsonl || return 1
		# New images only, each once (a copy and a build in one generation: the first found).
		jq -s -c --argjson d $depth --slurpfile seen cli.family '
			($seen | map({key: .ImageId, value: true}) | from_entries) as $s |
			reduce .[] as $c ([]; if $s[$c.ImageId] or any(.[]; .ImageId == $c.ImageId) then .
				else . + [$c + {Depth: $d}] end) | .[]' children.jsonl >gen.jsonl || return 1
		cat gen.jsonl >>cli.family
	done
	cat cli.family
}

for i in 1 2 3; do
	timed lineage$i lineage
done
sort -n lineage[123].time | sed -n 2p >lineage.time
cp lineage1.counts lineage.counts
for i in 2 3; do
	cmp -s lineage1.out lineage$i.out || bench_die "image-lineage printed another family on run $i"
	cmp -s <(jq -c .Actions lineage1.counts) <(jq -c .Actions lineage$i.counts) ||
		bench_die "image-lineage sent other requests on run $i"
done
timed cli cli

jq -c '{ImageId, Region, OwnerId, Parent: .Lineage.Parent, Depth: .Lineage.Depth}' lineage1.out |
	family >lineage.family
family <cli.out >cli.family.tsv
[ "$(wc -l <lineage.family)" = 14 ] ||
	bench_die "image-lineage found $(wc -l <lineage.family) images of the family, not 14"
cmp -s lineage.family cli.family.tsv || {
	diff lineage.family cli.family.tsv | sed -n '/^[<>]/p' | head -10 >&2
	bench_die "the two ways found different families (< image-lineage, > AWS CLI)"
}

# show NAME LABEL: its requests, wall time and requests per action.
show () {
	printf '%-18s %3d requests, %7.3f s: %s\n' "$2" "$(jq .Total "$1.counts")" "$(cat "$1.time")" \
		"$(jq -r '.Actions | to_entries | map("\(.key) \(.value)") | join(", ")' "$1.counts")"
}

echo "the family of one image (14 images, depth 2) among $N in 4 regions, and 100 in a second"
echo "account (2 regions), endpoint with --rtt 40:"
show lineage image-lineage
show cli "AWS CLI + jq"
awk -v x="$(jq .Total lineage.counts)" -v t="$(cat lineage.time)" \
	-v y="$(jq .Total cli.counts)" -v u="$(cat cli.time)" 'BEGIN {
	printf "image-lineage: %d requests, %.3f s; AWS CLI + jq: %d requests, %.3f s:", x, t, y, u
	printf " %.1fx fewer requests, %.0fx faster\n", y / x, u / t
}'
