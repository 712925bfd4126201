# lib-pipeline.sh: a project that uses the make fragments, against the local EC2 endpoint and a
# local sshd playing the freshly launched test instance. Used by the t5xxx tests and `make demo`.
#
#   . lib-ec2.sh; . lib-sshd.sh; . lib-pipeline.sh
#   pipeline_setup DIR [REGION...]   starts sshd and the endpoint, seeds the endpoint with the
#                                    project's history and this run's freshly built image(s), and
#                                    writes the project in DIR: Makefile, checks.jsonl, manifest.json
#   pipeline_make ARGS...            make -C DIR ARGS, with the filters of this build on PATH
#
# The history, in each build region: eight images of project "demo" built 10, 20, ... 80 days ago
# (each with its own snapshot; the 50-day-old one still runs an instance), one of project "other",
# and the new image built now. The endpoint gives launched instances the address 127.0.0.1 and,
# as their console output, the sshd's real cloud-init host key block, so ssh-probe's default
# (--console) verifies the host key as it would on EC2.

SRC_DIR=${SRC_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

# pipeline_days_ago N: the time N days ago as EC2 writes it.
pipeline_days_ago () {
	date -u -d "-$1 days" +%Y-%m-%dT%H:%M:%S.000Z
}

# pipeline_seed REGION...: the endpoint's seed (JSON) for those regions. Ids are 17 hex digits,
# the first four from the region's name; New lists the new images as Packer's artifact id does.
pipeline_seed () {
	for r in "$@"; do
		p=$(printf %s "$r" | cksum | cut -c1-4)
		for n in 1 2 3 4 5 6 7 8; do
			jq -n --arg r "$r" --arg id "ami-0$p${n}0000000000a" --arg snap "snap-0$p${n}0000000000b" \
				--arg date "$(pipeline_days_ago $((n * 10)))" --argjson v "$((8 - n))" \
				'{Region: $r, Image: {ImageId: $id, Name: "demo-v1.\($v).0", CreationDate: $date,
				  Tags: [{Key: "Project", Value: "demo"}, {Key: "Version", Value: "v1.\($v).0"}],
				  RootDeviceName: "/dev/xvda", BlockDeviceMappings: [{DeviceName: "/dev/xvda",
				    Ebs: {SnapshotId: $snap, VolumeSize: 8, DeleteOnTermination: true}}]},
				  Snapshot: {SnapshotId: $snap, VolumeSize: 8, StartTime: $date}}'
		done
		jq -n --arg r "$r" --arg id "ami-0${p}90000000000b" --arg date "$(pipeline_days_ago 200)" \
			'{Region: $r, Image: {ImageId: $id, Name: "other-1", CreationDate: $date,
			  Tags: [{Key: "Project", Value: "other"}]}}'
		jq -n --arg r "$r" --arg id "ami-0${p}00000000000c" --arg date "$(pipeline_days_ago 0)" \
			'{Region: $r, New: true, Image: {ImageId: $id, Name: "demo-v1.8.0", CreationDate: $date,
			  Tags: [{Key: "Project", Value: "demo"}, {Key: "Version", Value: "v1.8.0"}]}}'
		jq -n --arg r "$r" --arg id "i-0${p}50000000000d" --arg image "ami-0${p}50000000000a" \
			'{Region: $r, Instance: {InstanceId: $id, ImageId: $image, InstanceType: "t3.micro",
			  LaunchTime: "2024-01-01T00:00:00.000Z"}}'
	done | jq -s --arg console "$(cat "$SSHD_CONSOLE")" '
		{ConsoleOutput: {default: $console},
		 Settings: {Launch: {PublicIpAddress: "127.0.0.1", PrivateIpAddress: "127.0.0.1"}},
		 Regions: (group_by(.Region) | map({key: .[0].Region, value: {
			Images: map(.Image // empty),
			Snapshots: map(.Snapshot // empty),
			Instances: map(.Instance // empty)}}) | from_entries),
		 New: (map(select(.New) | "\(.Region):\(.Image.ImageId)") | sort | join(","))}'
}

# pipeline_manifest ARTIFACT: Packer's manifest of a run that built ARTIFACT (region:ami,...).
pipeline_manifest () {
	jq -n --arg artifact "$1" --argjson t "$(date +%s)" '{
		builds: [
		  {name: "demo", builder_type: "amazon-ebs", build_time: ($t - 86400), files: null,
		   artifact_id: "us-east-1:ami-0aaaaaaaaaaaaaaaa", packer_run_uuid: "4b2ea0c5-0c7e-4d5b-9f00-000000000001",
		   custom_data: {version: "v1.7.0", git_sha: "0f0f0f0"}},
		  {name: "demo", builder_type: "amazon-ebs", build_time: $t, files: null, artifact_id: $artifact,
		   packer_run_uuid: "4b2ea0c5-0c7e-4d5b-9f00-000000000002",
		   custom_data: {version: "v1.8.0", git_sha: "c0ffee1"}}],
		last_run_uuid: "4b2ea0c5-0c7e-4d5b-9f00-000000000002"}'
}

pipeline_setup () {
	PIPELINE_DIR=$1
	shift
	[ $# -gt 0 ] || set -- us-east-1
	mkdir -p "$PIPELINE_DIR" &&
	sshd_setup && sshd_start &&
	pipeline_seed "$@" >"$PIPELINE_DIR/.seed.json" &&
	ec2_start "$PIPELINE_DIR/.seed.json" &&
	pipeline_manifest "$(jq -r .New "$PIPELINE_DIR/.seed.json")" >"$PIPELINE_DIR/manifest.json" &&
	cat >"$PIPELINE_DIR/checks.jsonl" <<-\EOF &&
	{"Name":"ssh is up","Run":"true"}
	{"Name":"the operating system","Run":"cat /etc/os-release","ExpectStdout":"^ID=debian$"}
	{"Name":"sshd is running","Run":"ps -e -o comm= | grep -x sshd"}
	EOF
	cat >"$PIPELINE_DIR/Makefile" <<-EOF
	# A project's Makefile: its knobs, then the one include.
	AMICYCLE_PROJECT = demo
	AMICYCLE_REGIONS = $*
	AMICYCLE_PROMOTE_REGIONS = eu-west-1
	AMICYCLE_KEEP = 3
	AMICYCLE_MIN_AGE = 1d
	AMICYCLE_SSH_USER = $SSHD_USER
	AMICYCLE_SSH_KEY = $SSHD_USER_KEY
	AMICYCLE_PROBE_FLAGS = --port $SSHD_PORT
	AMICYCLE_PROBE_TIMEOUT = 30s
	AMICYCLE_WAIT_TIMEOUT = 2m

	include $SRC_DIR/mk/amicycle.mk
	EOF
}

pipeline_make () {
	PATH=$AMICYCLE_BUILD/bin:$PATH make --no-print-directory -C "$PIPELINE_DIR" "$@"
}
