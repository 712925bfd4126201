/*
 * Unit tests for lib/aws/ratelimit.c, the adaptive retry mode's limiter. Without arguments: TAP
 * checks of what botocore does not have (a token taken into debt, the limiters' set). With
 * "trace": reads events from stdin, one a line, "r TIME THROTTLED" (a response) or "a TIME" (an
 * attempt that takes a token), runs one limiter through them and prints its state after each
 * ("r MEASURED FILLRATE CAPACITY WMAX K ENABLED" or "a WAIT"): t0114 compares that with what
 * botocore's own classes compute for the same events.
 */
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"
#include "tap.h"

static int
trace(void)
{
	struct ratelimit l;
	char line[128], kind;
	double t;
	int throttled = 0, started = 0;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (sscanf(line, "%c %lf %d", &kind, &t, &throttled) < 2)
			return 2;
		if (!started) {
			ratelimit_init(&l, t);
			started = 1;
		}
		if (kind == 'r') {
			ratelimit_response(&l, throttled, t);
			printf("r %.9g %.9g %.9g %.9g %.9g %d\n", l.clock.rate, l.bucket.fill_rate,
			    l.bucket.capacity, l.cubic.w_max, l.cubic.k, l.enabled);
		} else if (kind == 'a')
			printf("a %.9g\n", ratelimit_acquire(&l, t));
		else if (kind == 's')
			continue;	/* the start time only */
		else
			return 2;
	}
	return 0;
}

static int
near(double a, double b)
{
	return a - b < 1e-9 && b - a < 1e-9;
}

int
main(int argc, char **argv)
{
	struct token_bucket b;
	struct ratelimit l;
	struct ratelimits *set;
	struct ratelimit *a1, *a2, *a3, *a4;

	if (argc > 1 && strcmp(argv[1], "trace") == 0)
		return trace();

	token_bucket_init(&b, 4, 100);
	ok(near(token_bucket_take(&b, 100), 0.25), "an empty bucket: the first token in 1/rate");
	ok(near(token_bucket_take(&b, 100), 0.5), "taken at the same time: the next one 1/rate later");
	ok(near(token_bucket_take(&b, 100.5), 0.25), "time passing pays the debt back");
	ok(near(token_bucket_take(&b, 102), 0), "a bucket that has refilled: at once");
	token_bucket_set_rate(&b, 0.1, 102);
	ok(near(b.fill_rate, 0.5) && near(b.capacity, 1), "the rate is at least 0.5, the capacity 1");

	ratelimit_init(&l, 50);
	ok(ratelimit_acquire(&l, 50) == 0 && ratelimit_acquire(&l, 50) == 0,
	    "off until the first throttle: never a wait");
	ratelimit_response(&l, 0, 50.1);
	ok(!l.enabled, "a success does not turn it on");
	ratelimit_response(&l, 1, 50.2);
	ok(l.enabled && ratelimit_acquire(&l, 50.2) > 0, "a throttle does: the next attempt waits");

	set = ratelimits_new();
	a1 = ratelimits_get(set, "us-east-1", "DeregisterImage", 0);
	a2 = ratelimits_get(set, "us-east-1", "DescribeImages", 0);
	a3 = ratelimits_get(set, "eu-west-1", "DeregisterImage", 0);
	ok(a1 != a2 && a1 != a3 && a2 != a3, "a limiter per region and action");
	ratelimit_response(a1, 1, 0.1);
	for (int i = 0; i < 40; i++) {
		char region[32];

		snprintf(region, sizeof(region), "test-%d", i);
		(void)ratelimits_get(set, region, "CreateTags", 0);
	}
	a4 = ratelimits_get(set, "us-east-1", "DeregisterImage", 1);
	ok(a4 == a1 && a4->enabled && !ratelimits_get(set, "us-east-1", "DescribeImages", 1)->enabled,
	    "the same one again, where it was, with its state, after the set grew");
	ratelimits_free(set);
	return done_testing();
}
