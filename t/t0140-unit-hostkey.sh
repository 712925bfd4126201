#!/bin/bash
# lib/ssh/hostkey.c: fingerprints, console blocks, known_hosts (a C unit test speaking TAP).
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-hostkey"
