#!/bin/bash
# lib/aws/ratelimit.c, the adaptive retry mode's limiter: its own checks (t/unit/test-ratelimit.c),
# then the same random run of responses and attempts through it and through botocore's classes
# (botocore.retries.adaptive, bucket, throttling, on a clock of the test's), which must agree.

. "$(dirname "$0")"/test-lib.sh

RATELIMIT=$AMICYCLE_BUILD/t/test-ratelimit

test_expect_success 'the limiter'"'"'s own checks' '
	"$RATELIMIT" >tap &&
	test_grep "^1\.\." tap &&
	! grep "^not ok" tap
'

# events.py SEED: writes "events" (what test-ratelimit trace reads) and "expect" (what botocore
# computes for them). An attempt that botocore would block for moves the clock on by the wait, as
# a blocked thread would see it; the next event comes no sooner.
cat >events.py <<'EOF'
import random
import sys

from botocore.exceptions import CapacityNotAvailableError
from botocore.retries import adaptive, bucket, throttling


class Clock:
	def __init__(self, t):
		self.t = t

	def current_time(self):
		return self.t

	def sleep(self, amount):
		self.t += amount


class Detector:
	throttled = False

	def is_throttling_error(self, **kwargs):
		return self.throttled


rnd = random.Random(int(sys.argv[1]))
clock = Clock(1000 + rnd.random())
detector = Detector()
limiter = adaptive.ClientRateLimiter(
	rate_adjustor=throttling.CubicCalculator(starting_max_rate=0, start_time=clock.t),
	rate_clocker=adaptive.RateClocker(clock),
	token_bucket=bucket.TokenBucket(max_rate=1, clock=clock),
	throttling_detector=detector, clock=clock)
tb = limiter._token_bucket
with open("events", "w") as ev, open("expect", "w") as ex:
	ev.write("s %r\n" % clock.t)
	for i in range(600):
		clock.t += rnd.uniform(0, 0.3)
		if rnd.random() < 0.5:
			ev.write("a %r\n" % clock.t)
			wait = 0.0
			if limiter._enabled:
				try:
					tb.acquire(block=False)
				except CapacityNotAvailableError:
					wait = (1 - tb.available_capacity) / tb.max_rate
					clock.t += wait + 1e-9
					tb.acquire(block=False)
			ex.write("a %r\n" % wait)
		else:
			# Throttles come in runs, as when a client outgrows the service's bucket.
			detector.throttled = rnd.random() < (0.5 if detector.throttled else 0.1)
			ev.write("r %r %d\n" % (clock.t, detector.throttled))
			limiter.on_receiving_response()
			cubic = limiter._rate_adjustor.get_params_snapshot()
			ex.write("r %r %r %r %r %r %d\n" % (limiter._rate_clocker.measured_rate, tb.max_rate,
							   tb.max_capacity, cubic.w_max, cubic.k, limiter._enabled))
EOF

# compare.py EXPECT ACTUAL: the same lines, numbers equal to 1e-6 (relative and absolute).
cat >compare.py <<'EOF'
import math
import sys

want = open(sys.argv[1]).read().split("\n")
got = open(sys.argv[2]).read().split("\n")
if len(want) != len(got):
	sys.exit("%d lines, want %d" % (len(got), len(want)))
for n, (w, g) in enumerate(zip(want, got), 1):
	w, g = w.split(), g.split()
	if len(w) != len(g) or w[:1] != g[:1] or not all(
			math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-6) for a, b in zip(w[1:], g[1:])):
		sys.exit("line %d: got %s, want %s" % (n, " ".join(g), " ".join(w)))
EOF

for seed in 1 2 3
do
	test_expect_success "a random run (seed $seed): the rates, CUBIC's state and the waits are botocore's" '
		/usr/bin/python3 events.py '$seed' &&
		grep -q "^r .* 1$" expect &&
		grep -q "^a [1-9]\|^a 0\.[0-9]*[1-9]" expect &&
		"$RATELIMIT" trace <events >actual &&
		/usr/bin/python3 compare.py expect actual
	'
done

test_done
