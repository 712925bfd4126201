#!/bin/bash
# lib/ec2/ec2query.c: CLI-form parameters to EC2 and STS request bodies (a C unit test speaking TAP).
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-ec2query" "$(dirname "$0")/t0106/cases.jsonl"
