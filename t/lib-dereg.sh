# lib-dereg.sh: seeds and checks the deregister tests (t31xx) share. Source it after lib-ec2.sh.
#
#   dereg_ami N, dereg_snap N      the id of image N and of its snapshot (ami-01000000000000005)
#   dereg_images N [FIRST] [PROJECT]
#                                  a JSON array of N images numbered from FIRST (default 1), each
#                                  with its own EBS snapshot, tagged Project=PROJECT (default web),
#                                  created a day apart from 2024-01-01 on
#   dereg_seed N [FIRST] [PROJECT] a seed: those images and their snapshots in us-east-1
#   dereg_results FILE             ImageId, Result.Status and Result.Reason of deregister's output,
#                                  tab-separated
#   dereg_left                     the images and snapshots left in us-east-1, one id a line

dereg_ami () {
	printf 'ami-0%016d\n' $((1000000000000000 + $1))
}

dereg_snap () {
	printf 'snap-0%016d\n' $((1000000000000000 + $1))
}

dereg_images () {
	jq -n --argjson n "$1" --argjson first "${2:-1}" --arg project "${3:-web}" '
		[range($first; $first + $n) |
		 {ImageId: "ami-0\(1000000000000000 + .)", Name: "\($project)-\(.)",
		  CreationDate: (1704067200 + . * 86400 | todate | sub("Z$"; ".000Z")),
		  Tags: [{Key: "Project", Value: $project}],
		  BlockDeviceMappings: [{DeviceName: "/dev/xvda",
			Ebs: {SnapshotId: "snap-0\(1000000000000000 + .)", VolumeSize: 8}}]}]'
}

dereg_seed () {
	dereg_images "$@" | jq '{Regions: {"us-east-1": {Images: .,
		Snapshots: [.[].BlockDeviceMappings[].Ebs.SnapshotId | {SnapshotId: ., VolumeSize: 8}]}}}'
}

dereg_results () {
	jq -r '[.ImageId, .Result.Status, (.Result.Reason // "-")] | @tsv' "$1"
}

dereg_left () {
	ec2_state us-east-1 | jq -r '.Regions["us-east-1"] | (.Images[].ImageId), (.Snapshots[].SnapshotId)'
}
