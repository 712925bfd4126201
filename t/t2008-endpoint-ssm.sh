#!/bin/bash
# t/ec2-endpoint.py's SSM (JSON 1.1, 2014-11-06), proved with the real AWS CLI: describe-parameters
# filters and pages, get-parameters resolves NAME, NAME:VERSION and NAME:LABEL and reports the rest in
# InvalidParameters; a SecureString value comes back only --with-decryption and never reaches the
# endpoint's log, request record or state.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

test_have_prereq AWSCLI || test_skip_all 'no AWS CLI at /usr/bin/aws'

# /images/web/prod: three versions (v1 labelled old, v2 prod, v3 prod and latest: the prod label
# moves to v3), data type aws:ec2:image; /images/api/prod: aws:ec2:image; /images/notes a String
# holding an image id as text; /cfg/list a StringList; /db/password a SecureString; twelve
# /bulk/pNN Strings for paging; one parameter in us-west-2.
jq -n '
def pad(w): tostring | ("0" * (w - length)) + .;
{Regions: {"us-east-1": {Parameters: ([
	{Name: "/images/web/prod", DataType: "aws:ec2:image", Value: "ami-00000000000000001", Labels: ["old"],
	 LastModifiedDate: "2026-11-01T10:00:00+00:00", Description: "the web image"},
	{Name: "/images/web/prod", DataType: "aws:ec2:image", Value: "ami-00000000000000002", Labels: ["prod"],
	 LastModifiedDate: "2026-11-02T10:00:00+00:00", Description: "the web image"},
	{Name: "/images/web/prod", DataType: "aws:ec2:image", Value: "ami-00000000000000003",
	 Labels: ["prod", "latest"], LastModifiedDate: "2026-11-03T10:00:00+00:00", Description: "the web image"},
	{Name: "/images/api/prod", Type: "String", DataType: "aws:ec2:image", Value: "ami-00000000000000004",
	 LastModifiedDate: "2026-11-04T10:00:00+00:00"},
	{Name: "/images/notes", Type: "String", Value: "ami-00000000000000005", LastModifiedDate: "2026-11-05T10:00:00+00:00"},
	{Name: "/cfg/list", Type: "StringList", Value: "a,b,c", LastModifiedDate: "2026-11-06T10:00:00+00:00"},
	{Name: "/db/password", Type: "SecureString", Value: "amicycle-secret-db-password",
	 LastModifiedDate: "2026-11-07T10:00:00+00:00"}] +
	[range(1; 13) | {Name: "/bulk/p\(pad(2))", Value: "v\(.)", LastModifiedDate: "2026-11-08T10:00:00+00:00"}])},
	"us-west-2": {Parameters: [{Name: "/images/web/prod", DataType: "aws:ec2:image",
		Value: "ami-0bbbbbbbbbbbbbbb1"}]}}}' >seed.json || exit 1

names () {
	jq -r ".Parameters[].Name" "$1"
}

test_expect_success 'describe-parameters: every parameter, current version, metadata but no value' '
	ec2_start seed.json &&
	ec2_aws ssm describe-parameters --page-size 50 >out &&
	names out >actual &&
	{
		printf "%s\n" /images/web/prod /images/api/prod /images/notes /cfg/list /db/password &&
		printf "/bulk/p%02d\n" $(seq 1 12)
	} >expect &&
	test_cmp expect actual &&
	jq -c ".Parameters[:5][] | [.Name, .Type, .DataType, .Version, .LastModifiedDate, .Tier]" out >actual &&
	cat >expect <<-\EOT &&
	["/images/web/prod","String","aws:ec2:image",3,"2026-11-03T10:00:00+00:00","Standard"]
	["/images/api/prod","String","aws:ec2:image",1,"2026-11-04T10:00:00+00:00","Standard"]
	["/images/notes","String","text",1,"2026-11-05T10:00:00+00:00","Standard"]
	["/cfg/list","StringList","text",1,"2026-11-06T10:00:00+00:00","Standard"]
	["/db/password","SecureString","text",1,"2026-11-07T10:00:00+00:00","Standard"]
	EOT
	test_cmp expect actual &&
	test "$(jq "[.Parameters[] | select(has(\"Value\"))] | length" out)" = 0 &&
	ec2_requests >requests &&
	jq -r ".[] | \"\(.Service) \(.Action) \(.Region) \(.Status)\"" requests >actual &&
	echo "ssm DescribeParameters us-east-1 200" >expect &&
	test_cmp expect actual
'

test_expect_success 'filters: DataType, Type, Name Equals and BeginsWith, Path OneLevel' '
	ec2_aws ssm describe-parameters --parameter-filters Key=DataType,Values=aws:ec2:image >out &&
	names out >actual &&
	printf "/images/web/prod\n/images/api/prod\n" >expect &&
	test_cmp expect actual &&
	ec2_aws ssm describe-parameters --parameter-filters Key=Type,Values=StringList,SecureString >out &&
	names out >actual &&
	printf "/cfg/list\n/db/password\n" >expect &&
	test_cmp expect actual &&
	ec2_aws ssm describe-parameters --parameter-filters Key=Name,Option=Equals,Values=/images/notes >out &&
	names out >actual &&
	echo /images/notes >expect &&
	test_cmp expect actual &&
	ec2_aws ssm describe-parameters --parameter-filters Key=Name,Option=BeginsWith,Values=/images/ \
		Key=Type,Values=String >out &&
	names out >actual &&
	printf "/images/web/prod\n/images/api/prod\n/images/notes\n" >expect &&
	test_cmp expect actual &&
	ec2_aws ssm describe-parameters --parameter-filters Key=Path,Option=OneLevel,Values=/images >out &&
	names out >actual &&
	echo /images/notes >expect &&
	test_cmp expect actual
'

test_expect_success 'a bad filter option or key, MaxResults over 50: the errors SSM gives' '
	test_expect_code 254 ec2_aws ssm describe-parameters --parameter-filters Key=DataType,Option=Contains,Values=x \
		>out 2>err &&
	test_grep "(InvalidFilterOption) when calling the DescribeParameters operation" err &&
	test_expect_code 254 ec2_aws ssm describe-parameters --parameter-filters Key=Color,Values=x >out 2>err &&
	test_grep "(InvalidFilterKey) when calling the DescribeParameters operation: The following filter key is not valid: Color" err &&
	test_expect_code 254 ec2_aws ssm describe-parameters --max-results 51 >out 2>err &&
	test_grep "(ValidationException) when calling the DescribeParameters operation" err
'

test_expect_success 'paging: default pages of 10, --page-size 5 gives 4 requests, --max-items stops and resumes' '
	ec2_reset_counts &&
	ec2_aws ssm describe-parameters --parameter-filters Key=Type,Values=String >out &&
	test "$(jq ".Parameters | length" out)" = 15 &&
	test "$(ec2_count DescribeParameters)" = 2 &&
	ec2_reset_counts &&
	ec2_aws ssm describe-parameters --page-size 5 >out &&
	test "$(jq ".Parameters | length" out)" = 17 &&
	test "$(ec2_count DescribeParameters)" = 4 &&
	ec2_requests >requests &&
	jq -r ".[] | .Params.MaxResults" requests >sizes &&
	printf "5\n5\n5\n5\n" >expect &&
	test_cmp expect sizes &&
	ec2_aws ssm describe-parameters --max-items 6 --page-size 4 >out &&
	names out >first &&
	test_line_count = 6 first &&
	token=$(jq -r .NextToken out) &&
	ec2_aws ssm describe-parameters --starting-token "$token" --page-size 4 >out &&
	names out >rest &&
	test_line_count = 11 rest &&
	cat first rest >actual &&
	ec2_aws ssm describe-parameters --page-size 50 >all &&
	names all >expect &&
	test_cmp expect actual
'

test_expect_success 'get-parameters: NAME is the current version, NAME:VERSION and NAME:LABEL select' '
	ec2_aws ssm get-parameters --names /images/web/prod /images/web/prod:1 /images/web/prod:prod \
		/images/web/prod:old /images/notes >out &&
	jq -r ".Parameters[] | [.Name, .Version, .Value, (.Selector // \"-\"), .DataType] | join(\" \")" out >actual &&
	cat >expect <<-\EOT &&
	/images/web/prod 3 ami-00000000000000003 - aws:ec2:image
	/images/web/prod 1 ami-00000000000000001 :1 aws:ec2:image
	/images/web/prod 3 ami-00000000000000003 :prod aws:ec2:image
	/images/web/prod 1 ami-00000000000000001 :old aws:ec2:image
	/images/notes 1 ami-00000000000000005 - text
	EOT
	test_cmp expect actual &&
	jq -r ".Parameters[0] | [.ARN, .LastModifiedDate, .Type] | join(\" \")" out >actual &&
	echo "arn:aws:ssm:us-east-1:123456789012:parameter/images/web/prod 2026-11-03T10:00:00+00:00 String" >expect &&
	test_cmp expect actual &&
	jq -r ".InvalidParameters | length" out >actual &&
	echo 0 >expect &&
	test_cmp expect actual
'

test_expect_success 'the prod label moved to version 3: version 2 has none, labels not given are invalid' '
	ec2_aws ssm get-parameters --names /images/web/prod:2 /images/web/prod:latest /images/web/prod:9 \
		/images/web/prod:canary /nope /images/api/prod >out &&
	jq -r ".Parameters[] | \"\(.Name)\(.Selector // \"\") \(.Value)\"" out >actual &&
	cat >expect <<-\EOT &&
	/images/web/prod:2 ami-00000000000000002
	/images/web/prod:latest ami-00000000000000003
	/images/api/prod ami-00000000000000004
	EOT
	test_cmp expect actual &&
	jq -r ".InvalidParameters[]" out >actual &&
	printf "%s\n" /images/web/prod:9 /images/web/prod:canary /nope >expect &&
	test_cmp expect actual
'

test_expect_success 'regions apart; more than ten names is a ValidationException' '
	ec2_aws ssm get-parameters --region us-west-2 --names /images/web/prod >out &&
	jq -r ".Parameters[] | \"\(.Version) \(.Value) \(.ARN)\"" out >actual &&
	echo "1 ami-0bbbbbbbbbbbbbbb1 arn:aws:ssm:us-west-2:123456789012:parameter/images/web/prod" >expect &&
	test_cmp expect actual &&
	test_expect_code 254 ec2_aws ssm get-parameters --names $(printf "/bulk/p%02d " $(seq 1 11)) >out 2>err &&
	test_grep "(ValidationException) when calling the GetParameters operation" err
'

test_expect_success 'a SecureString: ciphertext without decryption, the value with it, never logged' '
	ec2_reset_counts &&
	ec2_aws ssm get-parameters --names /db/password >out &&
	jq -r ".Parameters[0].Type" out >actual &&
	echo SecureString >expect &&
	test_cmp expect actual &&
	test_grep -v amicycle-secret-db-password out &&
	test "$(jq -r ".Parameters[0].Value | length > 0" out)" = true &&
	ec2_aws ssm get-parameters --names /db/password --with-decryption >out &&
	jq -r ".Parameters[0].Value" out >actual &&
	echo amicycle-secret-db-password >expect &&
	test_cmp expect actual &&
	ec2_requests >requests &&
	test_grep -v amicycle-secret-db-password requests &&
	test_grep -v amicycle-secret-db-password "$EC2_DIR/log" &&
	ec2_state >state &&
	test_grep -v amicycle-secret-db-password state &&
	jq -r ".[] | \"\(.Service) \(.Action) \(.Params.WithDecryption)\"" requests >actual &&
	printf "ssm GetParameters null\nssm GetParameters true\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the JSON 1.1 wire form: errors as __type and message, an unknown target refused' '
	ec2_ssm GetParameters "{\"Names\": [\"/images/notes\"]}" >out.json &&
	jq -r ".Parameters[0].Value" out.json >actual &&
	echo ami-00000000000000005 >expect &&
	test_cmp expect actual &&
	jq -e ".Parameters[0].LastModifiedDate | type == \"number\"" out.json &&
	test_must_fail ec2_ssm GetParameters "{\"Names\": []}" >out.json &&
	test "$(ec2_status)" = 400 &&
	jq -r .__type out.json >actual &&
	echo ValidationException >expect &&
	test_cmp expect actual &&
	test_must_fail ec2_ssm DescribeParameters "{\"Colour\": 1}" >out.json &&
	test "$(jq -r .__type out.json)" = SerializationException &&
	test_must_fail ec2_ssm DeleteParameter "{\"Name\": \"x\", \"Value\": \"amicycle-secret-put\"}" >out.json &&
	test "$(ec2_status)" = 400 &&
	test "$(jq -r .__type out.json)" = UnknownOperationException &&
	ec2_ssm -r eu-west-1 PutParameter "{\"Name\": \"/db/other\", \"Type\": \"SecureString\",
		\"Value\": \"amicycle-secret-put\"}" >out.json &&
	ec2_state >state &&
	test_grep -v amicycle-secret-put state &&
	ec2_requests >requests &&
	test_grep -v amicycle-secret-put requests &&
	test_grep -v amicycle-secret-put "$EC2_DIR/log"
'

test_expect_success 'a fault on the second page of DescribeParameters: ThrottlingException, retried' '
	ec2_reset_counts &&
	ec2_fault "{\"Action\":\"DescribeParameters\",\"Kind\":\"throttle\",\"Skip\":1}" &&
	AWS_MAX_ATTEMPTS=3 ec2_aws ssm describe-parameters --page-size 10 >out &&
	test "$(jq ".Parameters | length" out)" = 17 &&
	test "$(ec2_count DescribeParameters)" = 3 &&
	ec2_requests >requests &&
	jq -r ".[] | select(.Fault) | \"\(.Code) \(.Status)\"" requests >actual &&
	echo "ThrottlingException 400" >expect &&
	test_cmp expect actual
'

test_expect_success 'a wrong secret: InvalidSignatureException from the CLI, counted, secret not logged' '
	ec2_reset_counts &&
	test_expect_code 254 env AWS_SECRET_ACCESS_KEY=amicycle-secret-wrong \
		/usr/bin/aws --no-cli-pager --endpoint-url "$EC2_URL" ssm get-parameters --names /db/password \
		--with-decryption >out 2>err &&
	test_grep "(InvalidSignatureException) when calling the GetParameters operation" err &&
	test_grep -v amicycle-secret-db-password out &&
	test "$(ec2_count GetParameters)" = 1 &&
	test_grep -v amicycle-secret "$EC2_DIR/log"
'

test_done
