#!/bin/bash
# lib/aws/awsconfig.c: the shared config and credentials files (a C unit test speaking TAP).
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-awsconfig"
