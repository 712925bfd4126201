#!/bin/bash
# lib/json/jsonscan.c: checking JSON objects without building them (a C unit test speaking TAP).
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-jsonscan"
