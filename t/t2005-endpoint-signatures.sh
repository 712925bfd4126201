#!/bin/bash
# t/ec2-endpoint.py's own correctness: the SDKs' EC2 protocol cases through its model-driven parser
# and serialiser, and its SigV4 verification: the suite's EC2 vectors replayed byte for byte are
# accepted, any change to them is not, the X-Amz-Date window, payload hashes, the credential scope.

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

VECTORS=$SHARED/aws/sigv4-testsuite/_ec2-vectors
TOKEN=$(sed -n 's/^x-amz-security-token://p' "$VECTORS"/ec2-create-tags-post-session-token/*.creq)

jq -n '
{Credentials: [{AccessKeyId: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}],
 Settings: {MaxClockSkewSeconds: 0},
 Regions: {"us-east-1": {Images: [{ImageId: "ami-00000000000000001", Name: "my-image",
		CreationDate: "2015-08-01T00:00:00.000Z"}]},
	   "eu-west-1": {Images: [{ImageId: "ami-0123456789abcdef0", Name: "other",
		CreationDate: "2015-08-01T00:00:00.000Z"}]}}}' >seed.json || exit 1

test_expect_success 'the SDK protocol cases for the EC2 protocol pass' '
	"$PYTHON" "$TEST_DIR"/ec2-endpoint.py protocol-tests "$SHARED"/aws/protocol-tests >tap &&
	test_grep -v "^not ok" tap &&
	grep -c "^ok .* - input " tap >inputs && test "$(cat inputs)" -ge 20 &&
	grep -c "^ok .* - output " tap >outputs && test "$(cat outputs)" -ge 25
'

test_expect_success 'a broken seed: ec2_start fails at once and says why' '
	echo "{\"Regions\": [" >broken.json &&
	test_must_fail ec2_start broken.json 2>err &&
	test_grep "ec2_start: the endpoint exited before listening" err &&
	test_grep "JSONDecodeError" err
'

test_expect_success 'without the STS model the endpoint refuses to start, in one line (never botocore'"'"'s models)' '
	mkdir -p nosts/aws/models &&
	cp -R "$SHARED"/aws/models/ec2-2016-11-15 nosts/aws/models/ &&
	test_expect_code 1 "$PYTHON" "$TEST_DIR"/ec2-endpoint.py serve --port-file port \
		--models nosts/aws/models 2>err &&
	test_line_count = 1 err &&
	test_grep "^ec2-endpoint: no sts service model nosts/aws/models/sts-2011-06-15/service-2.json" err &&
	! test -e port &&
	AMICYCLE_SHARED=$TRASH/nosts test_must_fail ec2_start 2>err &&
	test_grep "ec2_start: the endpoint exited before listening" err &&
	test_grep "^ec2-endpoint: no sts service model $TRASH/nosts/aws/models/sts-2011-06-15/service-2.json" err
'

test_expect_success 'a model that lacks an action the endpoint implements: it refuses to start' '
	mkdir -p short/sts-2011-06-15 &&
	for m in ec2-2016-11-15 autoscaling-2011-01-01 ssm-2014-11-06; do
		cp -R "$SHARED"/aws/models/$m short/ || return 1
	done &&
	jq "del(.operations.GetCallerIdentity)" "$SHARED"/aws/models/sts-2011-06-15/service-2.json \
		>short/sts-2011-06-15/service-2.json &&
	test_expect_code 1 "$PYTHON" "$TEST_DIR"/ec2-endpoint.py serve --port-file port --models short 2>err &&
	test_line_count = 1 err &&
	test_grep "lack the operation GetCallerIdentity" err
'

test_expect_success 'the suite vector ec2-describe-images-post is accepted as it is' '
	ec2_start seed.json &&
	"$PYTHON" "$TEST_DIR"/ec2-endpoint.py raw "$EC2_URL" \
		"$VECTORS"/ec2-describe-images-post/ec2-describe-images-post.sreq >out &&
	test_grep "^200 OK" out &&
	test_grep "<name>my-image</name>" out
'

test_expect_success 'the session-token vector (eu-west-1): refused for a long-term key, accepted with its token' '
	test_must_fail "$PYTHON" "$TEST_DIR"/ec2-endpoint.py raw "$EC2_URL" \
		"$VECTORS"/ec2-create-tags-post-session-token/ec2-create-tags-post-session-token.sreq >out &&
	test_grep "<Code>AuthFailure</Code>" out &&
	jq -n --arg token "$TOKEN" "{AccessKeyId: \"AKIDEXAMPLE\",
		SecretAccessKey: \"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\", SessionToken: \$token}" >cred.json &&
	ec2_admin POST /_admin/credentials @cred.json &&
	"$PYTHON" "$TEST_DIR"/ec2-endpoint.py raw "$EC2_URL" \
		"$VECTORS"/ec2-create-tags-post-session-token/ec2-create-tags-post-session-token.sreq >out &&
	test_grep "^200 OK" out &&
	ec2_state eu-west-1 >state &&
	jq -c ".Regions[\"eu-west-1\"].Images[0].Tags" state >actual &&
	echo "[{\"Key\":\"Name\",\"Value\":\"a b&c\"}]" >expect &&
	test_cmp expect actual
'

test_expect_success 'one byte changed in the body, a header or the token: AuthFailure' '
	sed "s/Filter.1.Value.1=my%2A/Filter.1.Value.1=my%2B/" \
		"$VECTORS"/ec2-describe-images-post/ec2-describe-images-post.sreq >body.sreq &&
	sed "s/^Content-Type:application\/x-www-form-urlencoded; charset=utf-8/Content-Type:application\/x-www-form-urlencoded/" \
		"$VECTORS"/ec2-describe-images-post/ec2-describe-images-post.sreq >header.sreq &&
	sed "s/^X-Amz-Security-Token:AQoD/X-Amz-Security-Token:BQoD/" \
		"$VECTORS"/ec2-create-tags-post-session-token/*.sreq >token.sreq &&
	for f in body header token
	do
		test_must_fail "$PYTHON" "$TEST_DIR"/ec2-endpoint.py raw "$EC2_URL" $f.sreq >out &&
		test_grep "^401 Unauthorized" out &&
		test_grep "<Code>AuthFailure</Code>" out || return 1
	done
'

test_expect_success 'an X-Amz-Date outside the window: RequestExpired' '
	ec2_settings "{\"MaxClockSkewSeconds\": 900}" &&
	test_must_fail "$PYTHON" "$TEST_DIR"/ec2-endpoint.py raw "$EC2_URL" \
		"$VECTORS"/ec2-create-tags-post-session-token/ec2-create-tags-post-session-token.sreq >out &&
	test_grep "<Code>RequestExpired</Code>" out
'

test_expect_success 'a payload hash header must be the body hash' '
	AWS_ACCESS_KEY_ID=$EC2_TEST_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$EC2_TEST_SECRET_ACCESS_KEY &&
	body="Action=DescribeImages&Version=2016-11-15" &&
	good=$(printf %s "$body" | sha256sum | cut -d" " -f1) &&
	printf "user = \"%s:%s\"\n" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >curl.conf &&
	curl -sS --aws-sigv4 aws:amz:us-east-1:ec2 -K curl.conf -H "X-Amz-Content-Sha256: $good" \
		-o out -w "%{http_code}\n" -d "$body" "$EC2_URL/" >status &&
	echo 200 >expect && test_cmp expect status &&
	bad=$(printf %s "x$body" | sha256sum | cut -d" " -f1) &&
	curl -sS --aws-sigv4 aws:amz:us-east-1:ec2 -K curl.conf -H "X-Amz-Content-Sha256: $bad" \
		-o out -w "%{http_code}\n" -d "$body" "$EC2_URL/" >status &&
	echo 401 >expect && test_cmp expect status
'

test_expect_success 'the credential scope: another service is refused; the region picks the state' '
	printf "user = \"%s:%s\"\n" "$EC2_TEST_ACCESS_KEY_ID" "$EC2_TEST_SECRET_ACCESS_KEY" >curl.conf &&
	curl -sS --aws-sigv4 aws:amz:us-east-1:s3 -K curl.conf -o out -w "%{http_code}\n" \
		-d "Action=DescribeImages&Version=2016-11-15" "$EC2_URL/" >status &&
	echo 401 >expect && test_cmp expect status &&
	curl -sS --aws-sigv4 aws:amz:eu-west-1:ec2 -K curl.conf -o out \
		-d "Action=DescribeImages&Version=2016-11-15" "$EC2_URL/" &&
	sed -n "s|.*<imageId>\(.*\)</imageId>|\1|p" out >actual &&
	echo ami-0123456789abcdef0 >expect &&
	test_cmp expect actual
'

test_expect_success 'call: a request signed by botocore, as a debugging aid' '
	AWS_ACCESS_KEY_ID=$EC2_TEST_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$EC2_TEST_SECRET_ACCESS_KEY \
		"$PYTHON" "$TEST_DIR"/ec2-endpoint.py call "$EC2_URL" DescribeImages ImageId.1=ami-00000000000000001 >out &&
	test_grep "^200 OK" out &&
	test_grep "<name>my-image</name>" out
'

test_done
