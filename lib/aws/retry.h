/* retry.h: the AWS SDKs' retry modes: what is retried, the retry quota, the back-off. */
#ifndef AMICYCLE_RETRY_H
#define AMICYCLE_RETRY_H

#include <stdint.h>

#include "http.h"

/* The retry mode: AWS_RETRY_MODE, else the profile's retry_mode. */
enum retry_mode {
	RETRY_MODE_DEFAULT = 0,	/* neither says: the caller picks (EC2 calls: adaptive) */
	RETRY_MODE_STANDARD,
	RETRY_MODE_ADAPTIVE,	/* standard, paced by a rate limiter (ratelimit.h) */
	RETRY_MODE_LEGACY	/* standard, with 5 attempts by default */
};

/*
 * One client's retry state, as in the SDKs' standard mode: at most max_attempts attempts a call,
 * and a token bucket of 500 that a retry takes 5 from (10 after a timeout) and a success pays
 * back (what its retries took, or 1). An empty bucket stops retries until calls succeed again.
 */
struct retry {
	enum retry_mode	mode;
	int		max_attempts;
	int		quota;
};

/* What an attempt's outcome calls for. */
enum retry_kind {
	RETRY_NO = 0,		/* a success, or a failure that another attempt will not change */
	RETRY_TRANSIENT,	/* a network failure, a 500/502/503/504, a transient error code */
	RETRY_THROTTLE,		/* a throttling error code */
	RETRY_TIMEOUT		/* no response in time: costs the quota more */
};

/*
 * Sets up r from the configuration: the mode from AWS_RETRY_MODE, else the profile's retry_mode
 * (standard, adaptive or legacy); max attempts from AWS_MAX_ATTEMPTS, else the profile's
 * max_attempts, else 3 (5 in legacy mode); the quota full. A bad value ends the program with a
 * usage error (EXIT_USAGE) naming it.
 */
void	retry_init(struct retry *r);

/*
 * Classifies an attempt: rc and resp as http_do() left them, code the service's error code in
 * the response (NULL when none was found). Throttling and transient codes are the SDKs' lists.
 */
enum retry_kind	retry_classify(int rc, const struct http_response *resp, const char *code);

/*
 * After attempt number attempt (1, 2, ...) failed as kind: takes the quota for another attempt
 * and returns the delay before it in milliseconds, random * min(2^(attempt-1), 20) s; -1 when
 * there is to be no other attempt (not retryable, max attempts made, quota too low). *cost adds
 * up what the call's retries took, for retry_success().
 */
int64_t	retry_next(struct retry *r, int attempt, enum retry_kind kind, int *cost);

/*
 * In adaptive mode, after a call's nth throttled attempt (n = 1, 2, ...): the delay before
 * another attempt, as retry_next() computes it after attempt n, or -1 when n is RETRY_PACED_MAX.
 * Neither the quota nor max attempts are touched: the rate limiter is what answers throttling
 * there (it slows the calls down, so throttles are rare), the quota and
 * the attempts are kept for what they guard against, a service failing; so a long run paced at
 * the service's limit never gives up a call, or runs out of retries, while the bucket refills.
 */
int64_t	retry_next_paced(struct retry *r, int n);

#define RETRY_PACED_MAX	10

/* A call succeeded after its retries took cost from the quota: pays it back (or 1). */
void	retry_success(struct retry *r, int cost);

/*
 * http_do() with retries, synchronously (sleeping the back-off): for callers outside a pool (STS,
 * IMDS, container credentials). code, if not NULL, returns the error code in a response
 * (malloc'ed), or NULL. With network 0 a request that gets no response at all is not retried.
 * Returns as http_do() does, for the last attempt; a retried response is wiped before it is freed.
 * Each attempt gets its --debug line (trace.h), with creds for its credentials field.
 */
int	retry_http_do(struct retry *r, const struct http_request *req, struct http_response *resp,
	    char *(*code)(const struct http_response *), int network, const char *creds);

#endif
