#!/bin/bash
# t/ec2-endpoint.py's view of who uses an image, proved with the real AWS CLI (given the endpoint's
# EC2 model: ec2_aws_model): describe-image-references for each resource type, with state-name,
# version-depth and paging; describe-image-attribute launchPermission (accounts, organizations, OUs,
# public) and lastLaunchedTime; describe-snapshot-attribute createVolumePermission; and the switches
# that make an endpoint lack DescribeImageReferences or a filter.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

# Images 1..8 (ami-0000000000000000N):
#   1: a running and a stopped instance; launched 2026-11-29; shared with an account, an organization, an OU
#   2: only a terminated instance; public (launch permission group all)
#   3: version 1 of the 12 versions of template lt-0123456789abcdef0 (deeper than version-depth's 10)
#   4: version 12 (the latest) of that template and version 1 of lt-0123456789abcdef1
#   5: the current value of the aws:ec2:image parameter /images/web/prod (also of a text parameter)
#   6: an earlier value of /images/web/prod only, an image recipe and a container recipe
#   7: nothing
#   8: seven running instances, for paging
# Snapshots 1..3: shared with an account, public, not shared.
jq -n '
def pad(w): tostring | ("0" * (w - length)) + .;
def ami(n): "ami-0\(n | pad(16))";
def inst(n; img; state; code): {InstanceId: "i-0\(n | pad(16))", ImageId: ami(img), InstanceType: "t3.micro",
	State: {Code: code, Name: state}};
{Regions: {"us-east-1": {
	Images: [range(1; 9) | {ImageId: ami(.), Name: "img-\(.)", OwnerId: "123456789012", State: "available",
		Public: false, CreationDate: "2026-10-0\(.)T12:00:00.000Z"}]
		| (.[0] += {LastLaunchedTime: "2026-11-29T10:00:00.000Z", LaunchPermissions: [
			{UserId: "111122223333"},
			{OrganizationArn: "arn:aws:organizations::123456789012:organization/o-abcdefghij"},
			{OrganizationalUnitArn: "arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdefghij"}]})
		| (.[1] |= (del(.Public) + {LaunchPermissions: [{Group: "all"}]})),
	Instances: ([inst(1; 1; "running"; 16), inst(2; 1; "stopped"; 80), inst(3; 2; "terminated"; 48)]
		+ [range(4; 11) | inst(.; 8; "running"; 16)]),
	LaunchTemplates: [
		{LaunchTemplateId: "lt-0123456789abcdef0", LaunchTemplateName: "web",
		 Versions: [range(1; 13) | {VersionNumber: ., LaunchTemplateData: {ImageId:
			(if . == 1 then ami(3) elif . == 12 then ami(4) else ami(7 + 100) end)}}]},
		{LaunchTemplateId: "lt-0123456789abcdef1", LaunchTemplateName: "api",
		 Versions: [{VersionNumber: 1, LaunchTemplateData: {ImageId: ami(4)}}]}],
	Parameters: [
		{Name: "/images/web/prod", DataType: "aws:ec2:image", Value: ami(6)},
		{Name: "/images/web/prod", DataType: "aws:ec2:image", Value: ami(5)},
		{Name: "/notes/web", Type: "String", Value: ami(5)}],
	ImageRecipes: [{Arn: "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/web/1.0.0", ParentImage: ami(6)}],
	ContainerRecipes: [{Arn: "arn:aws:imagebuilder:us-east-1:123456789012:container-recipe/web/2.0.0",
		ParentImage: ami(6)}],
	Snapshots: [range(1; 4) | {SnapshotId: "snap-0\(. | pad(16))", VolumeSize: 8}]
		| (.[0] += {CreateVolumePermissions: [{UserId: "111122223333"}]})
		| (.[1] += {CreateVolumePermissions: [{Group: "all"}]})}}}' >seed.json || exit 1

all_images () {
	for n in 1 2 3 4 5 6 7; do
		printf 'ami-%017d ' $n
	done
}

refs () {
	jq -r '.ImageReferences[] | "\(.ImageId) \(.ResourceType) \(.Arn)"' "$1"
}

test_expect_success 'every resource type: instances in every state, templates 10 deep, parameters, recipes' '
	ec2_start seed.json &&
	ec2_aws_model ec2 describe-image-references --image-ids $(all_images) --include-all-resource-types >out &&
	refs out >actual &&
	cat >expect <<-\EOT &&
	ami-00000000000000001 ec2:Instance arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000001
	ami-00000000000000001 ec2:Instance arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000002
	ami-00000000000000002 ec2:Instance arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000003
	ami-00000000000000004 ec2:LaunchTemplate arn:aws:ec2:us-east-1:123456789012:launch-template/lt-0123456789abcdef0
	ami-00000000000000004 ec2:LaunchTemplate arn:aws:ec2:us-east-1:123456789012:launch-template/lt-0123456789abcdef1
	ami-00000000000000005 ssm:Parameter arn:aws:ssm:us-east-1:123456789012:parameter/images/web/prod
	ami-00000000000000006 imagebuilder:ImageRecipe arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/web/1.0.0
	ami-00000000000000006 imagebuilder:ContainerRecipe arn:aws:imagebuilder:us-east-1:123456789012:container-recipe/web/2.0.0
	EOT
	test_cmp expect actual &&
	test "$(ec2_count DescribeImageReferences)" = 1
'

test_expect_success 'ec2:Instance with state-name: the terminated one left out when not asked for' '
	ec2_aws_model ec2 describe-image-references --image-ids $(all_images) --resource-types \
		"ResourceType=ec2:Instance,ResourceTypeOptions=[{OptionName=state-name,OptionValues=[pending,running,shutting-down,stopping,stopped]}]" \
		>out &&
	refs out >actual &&
	cat >expect <<-\EOT &&
	ami-00000000000000001 ec2:Instance arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000001
	ami-00000000000000001 ec2:Instance arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000002
	EOT
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-image-references --image-ids $(all_images) --resource-types \
		"ResourceType=ec2:Instance,ResourceTypeOptions=[{OptionName=state-name,OptionValues=[stopped]}]" >out &&
	refs out >actual &&
	echo "ami-00000000000000001 ec2:Instance arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000002" >expect &&
	test_cmp expect actual
'

test_expect_success 'ec2:LaunchTemplate with version-depth: 12 reaches the oldest version, 1 only the latest' '
	ec2_aws_model ec2 describe-image-references --image-ids $(all_images) --resource-types \
		"ResourceType=ec2:LaunchTemplate,ResourceTypeOptions=[{OptionName=version-depth,OptionValues=[12]}]" >out &&
	refs out >actual &&
	cat >expect <<-\EOT &&
	ami-00000000000000004 ec2:LaunchTemplate arn:aws:ec2:us-east-1:123456789012:launch-template/lt-0123456789abcdef0
	ami-00000000000000003 ec2:LaunchTemplate arn:aws:ec2:us-east-1:123456789012:launch-template/lt-0123456789abcdef0
	ami-00000000000000004 ec2:LaunchTemplate arn:aws:ec2:us-east-1:123456789012:launch-template/lt-0123456789abcdef1
	EOT
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000003 --resource-types \
		"ResourceType=ec2:LaunchTemplate,ResourceTypeOptions=[{OptionName=version-depth,OptionValues=[11]}]" >out &&
	test "$(jq ".ImageReferences | length" out)" = 0 &&
	ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000004 --resource-types \
		"ResourceType=ec2:LaunchTemplate,ResourceTypeOptions=[{OptionName=version-depth,OptionValues=[1]}]" >out &&
	test "$(jq ".ImageReferences | length" out)" = 2
'

test_expect_success 'ssm:Parameter: only the current value of an aws:ec2:image parameter counts' '
	ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000005 ami-00000000000000006 \
		--resource-types ResourceType=ssm:Parameter >out &&
	refs out >actual &&
	echo "ami-00000000000000005 ssm:Parameter arn:aws:ssm:us-east-1:123456789012:parameter/images/web/prod" >expect &&
	test_cmp expect actual
'

test_expect_success 'recipes: each Image Builder type alone' '
	ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000006 \
		--resource-types ResourceType=imagebuilder:ContainerRecipe >out &&
	jq -r ".ImageReferences[].Arn" out >actual &&
	echo arn:aws:imagebuilder:us-east-1:123456789012:container-recipe/web/2.0.0 >expect &&
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000006 \
		--resource-types ResourceType=imagebuilder:ImageRecipe >out &&
	jq -r ".ImageReferences[].Arn" out >actual &&
	echo arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/web/1.0.0 >expect &&
	test_cmp expect actual
'

test_expect_success 'paging: MaxResults 5 over nine references, NextToken to the end, nothing lost' '
	ec2_reset_counts &&
	ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000008 ami-00000000000000001 \
		--include-all-resource-types --max-results 5 >page1 &&
	test "$(jq ".ImageReferences | length" page1)" = 5 &&
	token=$(jq -r .NextToken page1) &&
	ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000008 ami-00000000000000001 \
		--include-all-resource-types --max-results 5 --next-token "$token" >page2 &&
	test "$(jq ".ImageReferences | length" page2)" = 4 &&
	test "$(jq -r ".NextToken // \"none\"" page2)" = none &&
	{ refs page1 && refs page2; } >actual &&
	ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000008 ami-00000000000000001 \
		--include-all-resource-types >whole &&
	refs whole >expect &&
	test_line_count = 9 expect &&
	test_cmp expect actual &&
	test "$(ec2_count DescribeImageReferences)" = 3
'

test_expect_success 'refused: no resource types, a wrong option, an unknown image' '
	test_expect_code 254 ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000001 \
		>out 2>err &&
	test_grep "(MissingParameter) when calling the DescribeImageReferences operation" err &&
	test_expect_code 254 ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000001 \
		--resource-types "ResourceType=ssm:Parameter,ResourceTypeOptions=[{OptionName=state-name,OptionValues=[running]}]" \
		>out 2>err &&
	test_grep "(InvalidParameterValue) when calling the DescribeImageReferences operation" err &&
	test_expect_code 254 ec2_aws_model ec2 describe-image-references --image-ids ami-0000000000000000f \
		--include-all-resource-types >out 2>err &&
	test_grep "(InvalidAMIID.NotFound)" err
'

test_expect_success 'launchPermission: an account, an organization and an OU; group all for a public image' '
	ec2_aws_model ec2 describe-image-attribute --image-id ami-00000000000000001 --attribute launchPermission >out &&
	jq -c ".LaunchPermissions" out >actual &&
	echo "[{\"UserId\":\"111122223333\"},{\"OrganizationArn\":\"arn:aws:organizations::123456789012:organization/o-abcdefghij\"},{\"OrganizationalUnitArn\":\"arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdefghij\"}]" >expect &&
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-image-attribute --image-id ami-00000000000000002 --attribute launchPermission >out &&
	jq -c ".LaunchPermissions" out >actual &&
	echo "[{\"Group\":\"all\"}]" >expect &&
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-image-attribute --image-id ami-00000000000000007 --attribute launchPermission >out &&
	jq -c ".LaunchPermissions" out >actual &&
	echo "[]" >expect &&
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-images --image-ids ami-00000000000000001 ami-00000000000000002 >out &&
	jq -r ".Images[] | \"\(.ImageId) \(.Public)\"" out >actual &&
	printf "ami-00000000000000001 false\nami-00000000000000002 true\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'lastLaunchedTime: in describe-images and describe-image-attribute, empty when never launched' '
	ec2_aws_model ec2 describe-images --image-ids ami-00000000000000001 ami-00000000000000007 >out &&
	jq -r ".Images[] | \"\(.ImageId) \(.LastLaunchedTime // \"-\")\"" out >actual &&
	printf "ami-00000000000000001 2026-11-29T10:00:00.000Z\nami-00000000000000007 -\n" >expect &&
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-image-attribute --image-id ami-00000000000000001 --attribute lastLaunchedTime >out &&
	jq -r ".LastLaunchedTime.Value" out >actual &&
	echo 2026-11-29T10:00:00.000Z >expect &&
	test_cmp expect actual &&
	ec2_aws_model ec2 describe-image-attribute --image-id ami-00000000000000007 --attribute lastLaunchedTime >out &&
	jq -r ".LastLaunchedTime.Value // \"-\"" out >actual &&
	echo - >expect &&
	test_cmp expect actual
'

test_expect_success 'describe-snapshot-attribute createVolumePermission: an account, public, none' '
	for n in 1 2 3; do
		ec2_aws ec2 describe-snapshot-attribute --snapshot-id snap-0000000000000000$n \
			--attribute createVolumePermission >out &&
		jq -c "[.SnapshotId, .CreateVolumePermissions]" out || return 1
	done >actual &&
	cat >expect <<-\EOT &&
	["snap-00000000000000001",[{"UserId":"111122223333"}]]
	["snap-00000000000000002",[{"Group":"all"}]]
	["snap-00000000000000003",[]]
	EOT
	test_cmp expect actual &&
	test_expect_code 254 ec2_aws ec2 describe-snapshot-attribute --snapshot-id snap-0000000000000000f \
		--attribute createVolumePermission >out 2>err &&
	test_grep "(InvalidSnapshot.NotFound)" err
'

test_expect_success 'UnknownActions: DescribeImageReferences answers InvalidAction, as an endpoint without it' '
	ec2_settings "{\"UnknownActions\": [\"DescribeImageReferences\"]}" &&
	test_expect_code 254 ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000001 \
		--include-all-resource-types >out 2>err &&
	test_grep "(InvalidAction) when calling the DescribeImageReferences operation" err &&
	ec2_aws ec2 describe-images --image-ids ami-00000000000000001 >out &&
	test "$(jq ".Images | length" out)" = 1 &&
	ec2_settings "{\"UnknownActions\": [\"DescribeParameters\"]}" &&
	test_expect_code 254 ec2_aws ssm describe-parameters >out 2>err &&
	test_grep "(UnknownOperationException) when calling the DescribeParameters operation" err &&
	ec2_settings "{\"UnknownActions\": []}" &&
	ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000001 \
		--include-all-resource-types >out &&
	test "$(jq ".ImageReferences | length" out)" = 2
'

test_expect_success 'UnsupportedFilters: the snapshot-id filter refused, other filters and the rest fine' '
	ec2_settings "{\"UnsupportedFilters\": {\"DescribeImages\": [\"block-device-mapping.snapshot-id\"]}}" &&
	test_expect_code 254 ec2_aws ec2 describe-images \
		--filters Name=block-device-mapping.snapshot-id,Values=snap-00000000000000001 >out 2>err &&
	test_grep "(InvalidParameterValue) when calling the DescribeImages operation: The filter .block-device-mapping.snapshot-id. is invalid" err &&
	ec2_aws ec2 describe-images --filters Name=name,Values=img-3 >out &&
	jq -r ".Images[].ImageId" out >actual &&
	echo ami-00000000000000003 >expect &&
	test_cmp expect actual &&
	ec2_settings "{\"UnsupportedFilters\": {}}" &&
	ec2_aws ec2 describe-images --filters Name=block-device-mapping.snapshot-id,Values=snap-00000000000000001 >out
'

test_expect_success 'a fault by the new action name: one DescribeImageReferences fails, the next succeeds' '
	ec2_reset_counts &&
	ec2_fault "{\"Action\":\"DescribeImageReferences\",\"Kind\":\"error\",\"Code\":\"UnauthorizedOperation\",\"Status\":403,\"Message\":\"You are not authorized to perform this operation.\"}" &&
	test_expect_code 254 ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000001 \
		--include-all-resource-types >out 2>err &&
	test_grep "(UnauthorizedOperation) when calling the DescribeImageReferences operation" err &&
	ec2_aws_model ec2 describe-image-references --image-ids ami-00000000000000001 \
		--include-all-resource-types >out &&
	test "$(jq ".ImageReferences | length" out)" = 2 &&
	ec2_requests >requests &&
	jq -r ".[] | \"\(.Service) \(.Action) \(.Status) \(.Fault // \"-\")\"" requests >actual &&
	printf "ec2 DescribeImageReferences 403 error\nec2 DescribeImageReferences 200 -\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a wrong secret: AuthFailure for DescribeImageReferences, secret not logged' '
	test_expect_code 254 env AWS_SECRET_ACCESS_KEY=amicycle-secret-wrong AWS_DATA_PATH="$EC2_DIR/cli-data" \
		/usr/bin/aws --no-cli-pager --endpoint-url "$EC2_URL" ec2 describe-image-references \
		--image-ids ami-00000000000000001 --include-all-resource-types >out 2>err &&
	test_grep "(AuthFailure) when calling the DescribeImageReferences operation" err &&
	test_grep -v amicycle-secret "$EC2_DIR/log"
'

test_done
