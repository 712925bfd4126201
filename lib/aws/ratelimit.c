/* ratelimit.c: the SDKs' adaptive retry mode: a client-side token bucket whose rate follows CUBIC on throttling. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "util.h"

/* botocore's constants (and the SDKs' specification of adaptive mode). */
#define CUBIC_SCALE		0.4	/* C: how fast the rate grows back */
#define CUBIC_BETA		0.7	/* the rate kept after a throttle */
#define CLOCK_SMOOTHING		0.8	/* weight of the newest measurement */
#define CLOCK_BUCKET		0.5	/* seconds a measurement counts over */
#define BUCKET_MIN_RATE		0.5	/* tokens a second, at least */
#define MAX_RATE_SCALE		2.0	/* never above twice the measured rate */

static double
cubic_zero(const struct cubic *c)
{
	return cbrt(c->w_max * (1 - CUBIC_BETA) / CUBIC_SCALE);
}

void
cubic_init(struct cubic *c, double start_rate, double now)
{
	c->w_max = start_rate;
	c->k = cubic_zero(c);
	c->last_fail = now;
}

double
cubic_success(const struct cubic *c, double now)
{
	double d = now - c->last_fail - c->k;

	return CUBIC_SCALE * d * d * d + c->w_max;
}

double
cubic_throttle(struct cubic *c, double rate, double now)
{
	c->w_max = rate;
	c->k = cubic_zero(c);
	c->last_fail = now;
	return rate * CUBIC_BETA;
}

void
rate_clock_init(struct rate_clock *rc, double now)
{
	rc->rate = 0;
	rc->last_bucket = floor(now);
	rc->count = 0;
}

double
rate_clock_record(struct rate_clock *rc, double now)
{
	double bucket = floor(now / CLOCK_BUCKET) * CLOCK_BUCKET;

	rc->count++;
	if (bucket > rc->last_bucket) {
		rc->rate = rc->count / (bucket - rc->last_bucket) * CLOCK_SMOOTHING +
		    rc->rate * (1 - CLOCK_SMOOTHING);
		rc->count = 0;
		rc->last_bucket = bucket;
	}
	return rc->rate;
}

static void
refill(struct token_bucket *b, double now)
{
	if (b->last < 0) {
		b->last = now;
		return;
	}
	b->tokens += (now - b->last) * b->fill_rate;
	if (b->tokens > b->capacity)
		b->tokens = b->capacity;
	b->last = now;
}

void
token_bucket_init(struct token_bucket *b, double rate, double now)
{
	b->tokens = 0;
	b->last = -1;
	token_bucket_set_rate(b, rate, now);
}

void
token_bucket_set_rate(struct token_bucket *b, double rate, double now)
{
	refill(b, now);
	b->fill_rate = rate > BUCKET_MIN_RATE ? rate : BUCKET_MIN_RATE;
	b->capacity = rate >= 1 ? rate : 1;
	if (b->tokens > b->capacity)
		b->tokens = b->capacity;
}

double
token_bucket_take(struct token_bucket *b, double now)
{
	double wait;

	refill(b, now);
	wait = b->tokens >= 1 ? 0 : (1 - b->tokens) / b->fill_rate;
	b->tokens -= 1;
	return wait;
}

double
token_bucket_level(struct token_bucket *b, double now)
{
	refill(b, now);
	return b->tokens;
}

void
ratelimit_init(struct ratelimit *l, double now)
{
	l->enabled = 0;
	l->waiting = NULL;
	cubic_init(&l->cubic, 0, now);
	rate_clock_init(&l->clock, now);
	token_bucket_init(&l->bucket, 1, now);
}

double
ratelimit_acquire(struct ratelimit *l, double now)
{
	return l->enabled ? token_bucket_take(&l->bucket, now) : 0;
}

void
ratelimit_response(struct ratelimit *l, int throttled, double now)
{
	double measured = rate_clock_record(&l->clock, now), rate;

	if (!throttled)
		rate = cubic_success(&l->cubic, now);
	else {
		rate = !l->enabled || measured < l->bucket.fill_rate ? measured : l->bucket.fill_rate;
		rate = cubic_throttle(&l->cubic, rate, now);
		l->enabled = 1;
	}
	if (rate > MAX_RATE_SCALE * measured)
		rate = MAX_RATE_SCALE * measured;
	token_bucket_set_rate(&l->bucket, rate, now);
}

/* Each limiter has its own allocation: callers keep pointers to it while the set grows. */
struct ratelimits {
	struct entry {
		struct entry	*next;
		char		*region;
		char		*action;
		struct ratelimit limit;
	}	*head;
};

struct ratelimits *
ratelimits_new(void)
{
	return xcalloc(1, sizeof(struct ratelimits));
}

void
ratelimits_free(struct ratelimits *s)
{
	struct entry *e, *next;

	if (s == NULL)
		return;
	for (e = s->head; e != NULL; e = next) {
		next = e->next;
		free(e->region);
		free(e->action);
		free(e);
	}
	free(s);
}

struct ratelimit *
ratelimits_get(struct ratelimits *s, const char *region, const char *action, double now)
{
	struct entry *e;

	/* A few actions in a few regions: a list is enough. */
	for (e = s->head; e != NULL; e = e->next)
		if (strcmp(e->region, region) == 0 && strcmp(e->action, action) == 0)
			return &e->limit;
	e = xcalloc(1, sizeof(*e));
	e->region = xstrdup(region);
	e->action = xstrdup(action);
	ratelimit_init(&e->limit, now);
	e->next = s->head;
	s->head = e;
	return &e->limit;
}
