# lib-users.sh: the images and users the tests of the usage lookup share (t3106 deregister,
# t3107 image-users). Source it after lib-dereg.sh.
#
#   users_seed      writes seed.json (images 1..13 of dereg_seed, each used one way, below),
#                   seed-refs.json (the same), seed-norefs.json (DescribeImageReferences unknown),
#                   and the inputs scenarios.jsonl (images 1..11) and all.jsonl (1..13)
#   ami1..ami13, other, ou, recipe, recent, old: the ids and times it uses

for i in $(seq 1 13); do
	eval "ami$i=$(dereg_ami $i)"
done
other=ami-0ffffffffffffffff
ou=arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdefghij
recipe=arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/web/1.0.0
recent=$(date -u -d '3 days ago' +%Y-%m-%dT%H:%M:%S.000Z)
old=$(date -u -d '40 days ago' +%Y-%m-%dT%H:%M:%S.000Z)

# Images 1..13, each used one way:
#  1 only by version 3 of template pinned (default 1, latest 4), which group pinned-asg names
#  2 only by version 2 of template mixed, which an override of group mixed-asg's policy names
#  3 by launch configuration orphan-lc, attached to no group
#  4 by template ssm's version 1 (default, latest): resolve:ssm:/images/web/prod, whose current
#    version (2) holds it; the parameter is a String parameter holding it too
#  5 by SSM parameter /images/base, of data type aws:ec2:image
#  6 by a stopped instance
#  7 shared with an account; 8 shared with an OU
#  9 launched 3 days ago; 11 launched 40 days ago (outside --protect-launched-within 30d)
# 10 by nothing
# 12 only by version 1 of template old (default and latest: 2): in use with all versions only
# 13 only by an Image Builder recipe, which only DescribeImageReferences can see
# Besides: groups whose launch template version ($Latest of pinned) names another image, or whose
# template is gone; 120 groups and 60 parameters more, so that each of those reads has 2 pages.
users_seed () {
	dereg_seed 13 | jq --arg a10 $ami10 --arg a1 $ami1 --arg a2 $ami2 --arg a3 $ami3 --arg a4 $ami4 --arg a5 $ami5 \
	--arg a6 $ami6 --arg a12 $ami12 --arg a13 $ami13 --arg x $other --arg ou $ou \
	--arg recipe $recipe --arg recent $recent --arg old $old '
	def lt($id; $name; $dflt; $images): {LaunchTemplateId: $id, LaunchTemplateName: $name,
		DefaultVersionNumber: $dflt, Versions: [$images[] | {LaunchTemplateData: {ImageId: .}}]};
	.Regions["us-east-1"] |= (
	  .LaunchTemplates = [
		lt("lt-0a000000000000001"; "pinned"; 1; [$x, $x, $a1, $x]),
		lt("lt-0a000000000000002"; "mixed"; 1; [$x, $a2, $x]),
		lt("lt-0a000000000000003"; "ssm"; 1; ["resolve:ssm:/images/web/prod"]),
		lt("lt-0a000000000000004"; "old"; 2; [$a12, $x])] |
	  .AutoScalingGroups = [
		{AutoScalingGroupName: "pinned-asg",
		 LaunchTemplate: {LaunchTemplateId: "lt-0a000000000000001", Version: "3"}},
		{AutoScalingGroupName: "mixed-asg", MixedInstancesPolicy: {LaunchTemplate: {
		 LaunchTemplateSpecification: {LaunchTemplateName: "mixed", Version: "$Default"},
		 Overrides: [{InstanceType: "m5.large"}, {InstanceType: "m6g.large",
		  LaunchTemplateSpecification: {LaunchTemplateName: "mixed", Version: "2"}}]}}},
		{AutoScalingGroupName: "lc-asg", LaunchConfigurationName: "attached-lc"},
		{AutoScalingGroupName: "latest-asg",
		 LaunchTemplate: {LaunchTemplateName: "pinned", Version: "$Latest"}},
		{AutoScalingGroupName: "ghost-asg", LaunchTemplate: {LaunchTemplateName: "deleted"}}] +
	    [range(120) | {AutoScalingGroupName: "filler-\(.)", LaunchConfigurationName: "attached-lc"}] |
	  .LaunchConfigurations = [
		{LaunchConfigurationName: "orphan-lc", ImageId: $a3},
		{LaunchConfigurationName: "attached-lc", ImageId: $x}] |
	  .Parameters = [
		{Name: "/images/web/prod", Type: "String", Value: $x},
		{Name: "/images/web/prod", Type: "String", Value: $a4},
		{Name: "/images/base", Type: "String", DataType: "aws:ec2:image", Value: $a5},
		{Name: "/secret/db", Type: "SecureString", Value: $a10}] +
	    [range(60) | {Name: "/filler/\(.)", Type: "String", Value: "text \(.)"}] |
	  .Instances = [{InstanceId: "i-0a000000000000006", ImageId: $a6,
		State: {Name: "stopped", Code: 80}},
		{InstanceId: "i-0a000000000000010", ImageId: $a10,
		State: {Name: "terminated", Code: 48}}] |
	  .Images[6].LaunchPermissions = [{UserId: "111122223333"}] |
	  .Images[7].LaunchPermissions = [{OrganizationalUnitArn: $ou}] |
	  .Images[8].LastLaunchedTime = $recent |
	  .Images[10].LastLaunchedTime = $old |
	  .ImageRecipes = [{Arn: $recipe, ParentImage: $a13}])' >seed.json &&
	cp seed.json seed-refs.json &&
	jq '.Settings.UnknownActions = ["DescribeImageReferences"]' seed.json >seed-norefs.json &&
	for i in $(seq 1 11); do
		echo "{\"ImageId\":\"$(dereg_ami $i)\"}"
	done >scenarios.jsonl &&
	for i in $(seq 1 13); do
		echo "{\"ImageId\":\"$(dereg_ami $i)\"}"
	done >all.jsonl
}

