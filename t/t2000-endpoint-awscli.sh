#!/bin/bash
# t/ec2-endpoint.py read side, proved with the real AWS CLI: describe-images, -instances, -snapshots
# and -launch-template-versions give back what was seeded, page, filter, and refuse a wrong secret.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

# Twelve images of ours (web-01..web-06 tagged Project=web, api-07..api-12 Project=api; web-03
# deprecated), one public Amazon image and one deprecated Amazon image; their snapshots; two
# instances, one running and one terminated; a launch template with two versions; and one image in
# us-west-2.
jq -n '
def pad(w): tostring | ("0" * (w - length)) + .;
def img(n; p): {ImageId: "ami-0\(n | pad(16))", Name: "\(p)-\(n | pad(2))", Architecture: "x86_64",
	CreationDate: "2024-05-\(n | pad(2))T12:00:00.000Z", ImageLocation: "123456789012/\(p)-\(n | pad(2))",
	ImageType: "machine", Public: false, OwnerId: "123456789012", PlatformDetails: "Linux/UNIX",
	UsageOperation: "RunInstances", State: "available", EnaSupport: true, Hypervisor: "xen",
	RootDeviceName: "/dev/xvda", RootDeviceType: "ebs", VirtualizationType: "hvm", BootMode: "uefi",
	Tags: [{Key: "Project", Value: p}, {Key: "Build", Value: "\(n)"}],
	BlockDeviceMappings: [{DeviceName: "/dev/xvda", Ebs: {DeleteOnTermination: true,
		SnapshotId: "snap-0\(n | pad(16))", VolumeSize: 8, VolumeType: "gp3", Encrypted: false}}]};
[range(1; 13) | img(.; if . <= 6 then "web" else "api" end)
	| if .Name == "web-03" then .DeprecationTime = "2024-06-01T00:00:00.000Z" else . end] as $ours
| {Regions: {"us-east-1": {
	Images: ($ours + [
		{ImageId: "ami-0aaaaaaaaaaaaaaa1", Name: "al2023-ami", OwnerId: "137112412989",
		 ImageOwnerAlias: "amazon", Public: true, State: "available", Architecture: "x86_64",
		 CreationDate: "2024-04-01T00:00:00.000Z"},
		{ImageId: "ami-0aaaaaaaaaaaaaaa2", Name: "al2-ami-old", OwnerId: "137112412989",
		 ImageOwnerAlias: "amazon", Public: true, State: "available", Architecture: "x86_64",
		 CreationDate: "2020-04-01T00:00:00.000Z", DeprecationTime: "2022-04-01T00:00:00.000Z"}]),
	Snapshots: [$ours[] | {SnapshotId: .BlockDeviceMappings[0].Ebs.SnapshotId,
		VolumeId: "vol-0123456789abcdef0", VolumeSize: 8, State: "completed", Progress: "100%",
		StartTime: "2024-05-01T11:00:00+00:00", OwnerId: "123456789012", Encrypted: false,
		Description: "Created by CreateImage for \(.ImageId)", StorageTier: "standard"}],
	Reservations: [
		{ReservationId: "r-0123456789abcdef0", OwnerId: "123456789012", Groups: [], Instances: [
			{InstanceId: "i-0123456789abcdef0", ImageId: "ami-00000000000000001",
			 InstanceType: "t3.micro", State: {Code: 16, Name: "running"},
			 LaunchTime: "2024-05-02T10:00:00+00:00", PrivateIpAddress: "10.0.0.5",
			 PublicIpAddress: "203.0.113.5", Placement: {AvailabilityZone: "us-east-1a",
			 GroupName: "", Tenancy: "default"}, Tags: [{Key: "Name", Value: "web"}]}]},
		{ReservationId: "r-0123456789abcdef1", OwnerId: "123456789012", Groups: [], Instances: [
			{InstanceId: "i-0123456789abcdef1", ImageId: "ami-00000000000000002",
			 InstanceType: "t3.micro", State: {Code: 48, Name: "terminated"},
			 LaunchTime: "2024-05-01T10:00:00+00:00"}]}],
	LaunchTemplates: [{LaunchTemplateId: "lt-0123456789abcdef0", LaunchTemplateName: "web",
		CreateTime: "2024-05-01T00:00:00+00:00", CreatedBy: "arn:aws:iam::123456789012:user/ci",
		DefaultVersionNumber: 1, LatestVersionNumber: 2, Versions: [
			{VersionNumber: 1, LaunchTemplateData: {ImageId: "ami-00000000000000004", InstanceType: "t3.micro"}},
			{VersionNumber: 2, LaunchTemplateData: {ImageId: "ami-00000000000000005", InstanceType: "t3.micro"}}]}]},
	"us-west-2": {Images: [{ImageId: "ami-0bbbbbbbbbbbbbbb1", Name: "web-01", OwnerId: "123456789012",
		State: "available", Public: false, CreationDate: "2024-05-01T12:00:00.000Z",
		Tags: [{Key: "Project", Value: "web"}]}]}}}' >seed.json || exit 1

test_expect_success 'the endpoint starts and the CLI sees the seeded images, field for field' '
	ec2_start seed.json &&
	ec2_aws ec2 describe-images --owners self >out &&
	jq -S "[.Regions[\"us-east-1\"].Images[] | select(.OwnerId == \"123456789012\")]" seed.json >expect &&
	jq -S .Images out >actual &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeImages)" = 1
'

test_expect_success 'pages of 5: three DescribeImages requests, the same twelve images' '
	ec2_reset_counts &&
	ec2_aws ec2 describe-images --owners self --page-size 5 >out &&
	jq -S .Images out >actual-paged &&
	test_cmp expect actual-paged &&
	test "$(ec2_count DescribeImages)" = 3 &&
	ec2_requests >requests &&
	jq -r ".[] | .Params.MaxResults" requests >sizes &&
	printf "5\n5\n5\n" >expect-sizes &&
	test_cmp expect-sizes sizes
'

test_expect_success 'filters: tag:Project with a wildcard, and state' '
	ec2_aws ec2 describe-images --owners self \
		--filters "Name=tag:Project,Values=w?b" "Name=state,Values=available" >out &&
	jq -r ".Images[].Name" out >actual &&
	printf "web-%s\n" 01 02 03 04 05 06 >expect &&
	test_cmp expect actual
'

test_expect_success 'other owners: deprecated images hidden unless asked for, regions apart' '
	ec2_query DescribeImages Owner.1=amazon >out.xml &&
	sed -n "s|.*<imageId>\(.*\)</imageId>|\1|p" out.xml >actual &&
	echo ami-0aaaaaaaaaaaaaaa1 >expect &&
	test_cmp expect actual &&
	ec2_aws ec2 describe-images --owners amazon --include-deprecated >out &&
	jq -r ".Images[].ImageId" out >actual &&
	printf "ami-0aaaaaaaaaaaaaaa1\nami-0aaaaaaaaaaaaaaa2\n" >expect &&
	test_cmp expect actual &&
	ec2_query -r us-west-2 DescribeImages Owner.1=self >out.xml &&
	sed -n "s|.*<imageId>\(.*\)</imageId>|\1|p" out.xml >actual &&
	echo ami-0bbbbbbbbbbbbbbb1 >expect &&
	test_cmp expect actual
'

test_expect_success 'describe-instances gives the seeded reservations; filters pick the running one' '
	ec2_aws ec2 describe-instances >out &&
	jq -S "[.Regions[\"us-east-1\"].Reservations[]]" seed.json >expect &&
	jq -S .Reservations out >actual &&
	test_cmp expect actual &&
	ec2_query DescribeInstances Filter.1.Name=instance-state-name Filter.1.Value.1=running \
		Filter.1.Value.2=pending Filter.2.Name=image-id Filter.2.Value.1=ami-00000000000000001 >out.xml &&
	sed -n "s|.*<instanceId>\(.*\)</instanceId>|\1|p" out.xml >actual &&
	echo i-0123456789abcdef0 >expect &&
	test_cmp expect actual
'

test_expect_success 'describe-snapshots gives the seeded snapshots' '
	ec2_aws ec2 describe-snapshots --owner-ids self >out &&
	jq -S "[.Regions[\"us-east-1\"].Snapshots[]]" seed.json >expect &&
	jq -S .Snapshots out >actual &&
	test_cmp expect actual
'

test_expect_success 'describe-launch-template-versions: $Latest and $Default name the images' '
	ec2_aws ec2 describe-launch-template-versions --launch-template-id lt-0123456789abcdef0 \
		--versions "\$Latest" "\$Default" >out &&
	jq -r ".LaunchTemplateVersions[] | \"\(.VersionNumber) \(.DefaultVersion) \(.LaunchTemplateData.ImageId)\"" \
		out >actual &&
	printf "2 false ami-00000000000000005\n1 true ami-00000000000000004\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'throttled: the CLI retries and gets through' '
	ec2_reset_counts &&
	ec2_fault DescribeSnapshots throttle 1 &&
	AWS_MAX_ATTEMPTS=3 ec2_aws ec2 describe-snapshots --owner-ids self --snapshot-ids snap-00000000000000001 >out &&
	jq -r ".Snapshots[].SnapshotId" out >actual &&
	echo snap-00000000000000001 >expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeSnapshots)" = 2
'

test_expect_success 'a wrong secret: AuthFailure from the CLI, counted, secret not logged' '
	ec2_reset_counts &&
	test_expect_code 254 env AWS_SECRET_ACCESS_KEY=amicycle-secret-wrong \
		/usr/bin/aws --no-cli-pager --endpoint-url "$EC2_URL" ec2 describe-images --owners self \
		>out 2>err &&
	test_grep "(AuthFailure) when calling the DescribeImages operation: AWS was not able to validate" err &&
	test "$(ec2_count DescribeImages)" = 1 &&
	test_grep -v amicycle-secret "$EC2_DIR/log"
'

test_done
