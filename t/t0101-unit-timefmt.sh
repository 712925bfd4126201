#!/bin/bash
# lib/core/timefmt.c: RFC 3339 and durations (a C unit test speaking TAP).
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-timefmt"
