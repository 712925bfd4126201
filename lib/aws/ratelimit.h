/* ratelimit.h: the SDKs' adaptive retry mode: a client-side token bucket whose rate follows CUBIC on throttling. */
#ifndef AMICYCLE_RATELIMIT_H
#define AMICYCLE_RATELIMIT_H

/*
 * The pieces are botocore's (botocore/retries/adaptive.py, bucket.py, throttling.py), with the
 * same constants, so that the unit test can hold them to botocore's numbers; times are seconds
 * on any clock that only goes forward (the callers use clock_ms() / 1000).
 */

/* CUBIC (RFC 8312) over request rates: the rate to send at, from the time since the last throttle. */
struct cubic {
	double	w_max;		/* the rate at the last throttle */
	double	k;		/* when the curve gets back to w_max, seconds after it */
	double	last_fail;	/* the time of the last throttle */
};

void	cubic_init(struct cubic *, double start_rate, double now);
/* The rate after a success at now: 0.4 * (now - last_fail - k)^3 + w_max. */
double	cubic_success(const struct cubic *, double now);
/* A throttle at now, while sending at rate: the new rate, 0.7 * rate. */
double	cubic_throttle(struct cubic *, double rate, double now);

/* The measured send rate: responses counted in half-second buckets, smoothed (0.8 new, 0.2 old). */
struct rate_clock {
	double	rate;
	double	last_bucket;
	double	count;
};

void	rate_clock_init(struct rate_clock *, double now);
/* One more response at now; returns the measured rate. */
double	rate_clock_record(struct rate_clock *, double now);

/*
 * The client's token bucket: fills at rate (at least 0.5 a second), holds at most max(rate, 1).
 * Unlike botocore's, which blocks the thread, token_bucket_take() never waits: it takes the
 * token at once, into debt if need be, and says how long the request must wait for it, so that
 * the caller can start it on a timer of its event loop. Requests that take tokens one after the
 * other wait their turns, one 1/rate after the other, as botocore's blocked threads would; when
 * the rate changes, the caller moves the timers of those still waiting (token_bucket_level()),
 * as botocore's threads wake up to the new rate.
 */
struct token_bucket {
	double	fill_rate;
	double	capacity;
	double	tokens;		/* below 0 while requests wait for tokens already taken */
	double	last;		/* the time of the last refill; < 0 before the first */
};

void	token_bucket_init(struct token_bucket *, double rate, double now);
/* Sets the rate (and the capacity with it), after a refill up to now. */
void	token_bucket_set_rate(struct token_bucket *, double rate, double now);
/* Takes a token at now; returns the seconds to wait before using it (0: at once). */
double	token_bucket_take(struct token_bucket *, double now);
/* The tokens at now, after a refill: below 0 by the tokens taken by requests still waiting. */
double	token_bucket_level(struct token_bucket *, double now);

/*
 * One limiter: off until the first throttling response; then every request takes a token, and
 * every response sets the bucket's rate: after a throttle 0.7 times the rate measured (or the
 * bucket's, if lower), after a success the CUBIC curve's, never above twice the measured rate.
 */
struct ratelimit {
	int			enabled;
	struct cubic		cubic;
	struct rate_clock	clock;
	struct token_bucket	bucket;
	void			*waiting;	/* the caller's: its requests waiting for tokens */
};

void	ratelimit_init(struct ratelimit *, double now);
/* Before each attempt: the seconds it must wait (0 while the limiter is off). */
double	ratelimit_acquire(struct ratelimit *, double now);
/* After each attempt's answer (or failure): throttled is 1 for a throttling error. */
void	ratelimit_response(struct ratelimit *, int throttled, double now);

/* The limiters of one client: one per region and action, as EC2 has a bucket per action and region. */
struct ratelimits;

struct ratelimits	*ratelimits_new(void);
void			 ratelimits_free(struct ratelimits *);
/* region and action's limiter, made (off) at now on first use; it lives as long as the set. */
struct ratelimit	*ratelimits_get(struct ratelimits *, const char *region, const char *action,
			    double now);

#endif
