#!/bin/bash
# lib/aws/sigv4.c: AWS Signature Version 4 against the official test suite (a C unit test speaking TAP).
here=$(dirname "$0")
exec "${AMICYCLE_BUILD:-$here/../build}/t/test-sigv4" "${AMICYCLE_SHARED:-$here/data}/aws/sigv4-testsuite"
