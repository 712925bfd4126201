#!/bin/bash
# lib/ec2/ec2query.c and lib/ec2/ec2xml.c against the SDKs' EC2 protocol test cases (a C unit test speaking TAP).
shared=${AMICYCLE_SHARED:-$(dirname "$0")/data}
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-protocol" \
	"$shared/aws/protocol-tests/input-ec2.json" "$shared/aws/protocol-tests/output-ec2.json"
