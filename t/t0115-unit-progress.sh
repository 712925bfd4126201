#!/bin/bash
# lib/core/progress.c: durations, the plain line's counts and changes (a C unit test speaking TAP).
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-progress"
