#!/bin/bash
# lib/ec2/ec2query.c, ec2xml.c and awsjson.c against the SDKs' protocol test cases: EC2, the Query
# protocol (STS, Auto Scaling) and JSON 1.1 (SSM), every case (a C unit test speaking TAP).
shared=${AMICYCLE_SHARED:-$(dirname "$0")/data}
tests=$shared/aws/protocol-tests
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-protocol" \
	"$tests/input-ec2.json" "$tests/input-query.json" "$tests/input-json.json" \
	"$tests/output-ec2.json" "$tests/output-query.json" "$tests/output-json.json"
