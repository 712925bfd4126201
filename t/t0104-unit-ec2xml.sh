#!/bin/bash
# lib/ec2/ec2xml.c: EC2 and STS responses read into the AWS CLI's JSON (a C unit test speaking TAP).
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-ec2xml" "$(dirname "$0")/t0104"
