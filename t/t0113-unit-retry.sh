#!/bin/bash
# lib/retry.c: the SDKs' standard retry mode (a C unit test speaking TAP).
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-retry"
