#!/bin/bash
# ec2-describe pages through everything, survives throttling and transient faults as the SDKs'
# standard retry mode does, and prints nothing at all when any page of any region fails.
. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

# 2,500 images in us-east-1 (three pages of 1,000), 10 in eu-west-1.
jq -n '{Regions: {
	"us-east-1": {Images: [range(2500) | {ImageId: ("ami-0\(1000000000000000 + .)"),
		Name: "img-\(.)", CreationDate: "2024-01-01T00:00:00.000Z"}]},
	"eu-west-1": {Images: [range(10) | {ImageId: ("ami-0e\(100000000000000 + .)"),
		Name: "eu-\(.)", CreationDate: "2024-01-01T00:00:00.000Z"}]}}}' >seed.json

test_expect_success 'start the local EC2 endpoint' '
	ec2_start seed.json
'

test_expect_success 'every page: 2,500 images in three requests' '
	ec2_reset_counts &&
	ec2-describe images >out &&
	test_line_count = 2500 out &&
	jq -r .ImageId out | sort -u >ids &&
	test_line_count = 2500 ids &&
	test "$(ec2_count DescribeImages)" = 3
'

test_expect_success 'a throttling burst is survived with one attempt per throttle' '
	ec2_reset_counts &&
	ec2_fault DescribeImages throttle 2 &&
	ec2-describe images --region eu-west-1 >out 2>err &&
	test_line_count = 10 out &&
	test_line_count = 0 err &&
	test "$(ec2_count DescribeImages)" = 3
'

test_expect_success 'AWS_MAX_ATTEMPTS raises the number of attempts' '
	ec2_reset_counts &&
	ec2_fault DescribeImages throttle 3 &&
	AWS_MAX_ATTEMPTS=4 ec2-describe images --region eu-west-1 >out &&
	test_line_count = 10 out &&
	test "$(ec2_count DescribeImages)" = 4
'

test_expect_success 'standard mode, throttled past the attempts: exit 1, the error, and no output' '
	ec2_reset_counts &&
	ec2_fault DescribeImages throttle 3 &&
	AWS_RETRY_MODE=standard test_expect_code 1 ec2-describe images --region eu-west-1 >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^ec2-describe: eu-west-1: DescribeImages: RequestLimitExceeded: .*(request id " err &&
	test "$(ec2_count DescribeImages)" = 3
'

test_expect_success '500s and a dropped connection are retried' '
	ec2_reset_counts &&
	ec2_fault DescribeImages internal 1 &&
	ec2_fault DescribeImages drop 1 &&
	ec2-describe images --region eu-west-1 >out &&
	test_line_count = 10 out &&
	test "$(ec2_count DescribeImages)" = 3
'

test_expect_success 'a failing second page: nothing is printed, exit 1' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"internal\",\"Action\":\"DescribeImages\",\"Skip\":1,\"Count\":3}" &&
	test_expect_code 1 ec2-describe images >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^ec2-describe: us-east-1: DescribeImages: InternalError: " err &&
	test "$(ec2_count DescribeImages)" = 4
'

test_expect_success 'one region failing among several: nothing from any region' '
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DescribeImages\",\"Region\":\"eu-west-1\",\"Code\":\"UnauthorizedOperation\",\"Message\":\"You are not authorized to perform this operation.\",\"Status\":403}" &&
	test_expect_code 1 ec2-describe images --region us-east-1 --region eu-west-1 >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "^ec2-describe: eu-west-1: DescribeImages: UnauthorizedOperation: You are not authorized" err
'

test_expect_success 'a client error is not retried' '
	ec2_reset_counts &&
	ec2_fault "{\"Kind\":\"error\",\"Action\":\"DescribeImages\",\"Code\":\"InvalidParameterValue\",\"Message\":\"bad\"}" &&
	test_expect_code 1 ec2-describe images --region eu-west-1 >out 2>err &&
	test "$(ec2_count DescribeImages)" = 1
'

test_expect_success 'a truncated body every time: a clear error, no output' '
	ec2_fault DescribeImages truncate 3 &&
	test_expect_code 1 ec2-describe images --region eu-west-1 >out 2>err &&
	test_line_count = 0 out &&
	test_grep "^ec2-describe: eu-west-1: DescribeImages: RequestError: response cut short: " err
'

test_expect_success 'a wrong secret: AuthFailure, reported on one line' '
	AWS_SECRET_ACCESS_KEY=amicycle-secret-wrong-one test_expect_code 1 \
		ec2-describe images --region eu-west-1 >out 2>err &&
	test_line_count = 0 out &&
	test_line_count = 1 err &&
	test_grep "^ec2-describe: eu-west-1: DescribeImages: AuthFailure: AWS was not able to validate the provided access credentials (request id [-0-9a-f]*)$" err
'

test_expect_success 'a session token is sent and checked' '
	ec2_admin POST /_admin/credentials "{\"AccessKeyId\":\"ASIAAMICYCLETEST0002\",\"SecretAccessKey\":\"amicycle-secret-temp-0002\",\"SessionToken\":\"amicycle-secret-token-0002\"}" &&
	AWS_ACCESS_KEY_ID=ASIAAMICYCLETEST0002 AWS_SECRET_ACCESS_KEY=amicycle-secret-temp-0002 \
		AWS_SESSION_TOKEN=amicycle-secret-token-0002 ec2-describe images --region eu-west-1 >out &&
	test_line_count = 10 out &&
	AWS_ACCESS_KEY_ID=ASIAAMICYCLETEST0002 AWS_SECRET_ACCESS_KEY=amicycle-secret-temp-0002 \
		AWS_SESSION_TOKEN=amicycle-secret-token-wrong test_expect_code 1 \
		ec2-describe images --region eu-west-1 >out 2>err &&
	test_line_count = 0 out
'

test_expect_success 'no credentials anywhere: a clear error naming what was tried' '
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY;
	 test_expect_code 1 ec2-describe images --region eu-west-1 >out 2>err) &&
	test_line_count = 0 out &&
	test_grep "^ec2-describe: eu-west-1: DescribeImages: NoCredentials: " err
'

test_expect_success 'no secret in any output, error or log' '
	grep -rl -e amicycle-secret . | grep -v "^./seed.json$" >leaks;
	test_line_count = 0 leaks
'

test_done
