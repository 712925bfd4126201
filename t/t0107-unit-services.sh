#!/bin/bash
# Auto Scaling (Query) and SSM (JSON 1.1) over the real models, without an endpoint: requests,
# responses, errors, signing, retries (a C unit test speaking TAP).
exec "${AMICYCLE_BUILD:-$(dirname "$0")/../build}/t/test-services"
