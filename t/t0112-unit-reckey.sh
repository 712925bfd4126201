#!/bin/bash
# lib/json/reckey.c: keys read from raw lines agree with libjq (a C unit test speaking TAP).
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-reckey"
