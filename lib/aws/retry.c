/* retry.c: the AWS SDKs' retry modes: what is retried, the retry quota, the back-off. */
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "awsconfig.h"
#include "clock.h"
#include "http.h"
#include "retry.h"
#include "trace.h"
#include "strmap.h"
#include "util.h"

#define QUOTA_MAX		500
#define QUOTA_COST		5
#define QUOTA_TIMEOUT_COST	10
#define BACKOFF_MAX_MS		20000

/* Error codes the SDKs retry: throttling first, then transient service faults. */
static const char *const throttles[] = {
	"RequestLimitExceeded", "Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", "BandwidthLimitExceeded", NULL
};
static const char *const transients[] = {
	"RequestTimeout", "RequestTimeoutException", "InternalError", "Unavailable",
	"ServiceUnavailable", NULL
};

void
retry_init(struct retry *r)
{
	static int seeded;
	const char *mode, *v;

	if ((mode = env("AWS_RETRY_MODE")) == NULL)
		mode = awsconfig_get(NULL, "retry_mode");
	if (mode == NULL)
		r->mode = RETRY_MODE_DEFAULT;
	else if (strcmp(mode, "standard") == 0)
		r->mode = RETRY_MODE_STANDARD;
	else if (strcmp(mode, "adaptive") == 0)
		r->mode = RETRY_MODE_ADAPTIVE;
	else if (strcmp(mode, "legacy") == 0)
		r->mode = RETRY_MODE_LEGACY;
	else
		usage_error("retry mode '%s': not standard, adaptive or legacy", mode);
	/* legacy mode makes 5 attempts by default; standard and adaptive 3. */
	r->max_attempts = r->mode == RETRY_MODE_LEGACY ? 5 : 3;
	if ((v = env("AWS_MAX_ATTEMPTS")) != NULL)
		r->max_attempts = (int)parse_num(v, 1, 100, "AWS_MAX_ATTEMPTS");
	else if ((v = awsconfig_get(NULL, "max_attempts")) != NULL)
		r->max_attempts = (int)parse_num(v, 1, 100, "max_attempts");
	r->quota = QUOTA_MAX;
	if (!seeded) {
		srandom((unsigned)time(NULL) ^ (unsigned)getpid());
		seeded = 1;
	}
}

enum retry_kind
retry_classify(int rc, const struct http_response *resp, const char *code)
{
	if (rc == -1)
		return !resp->transient ? RETRY_NO : resp->timedout ? RETRY_TIMEOUT :
		    RETRY_TRANSIENT;
	if (strmap_index(throttles, code) != -1)
		return RETRY_THROTTLE;
	if (strmap_index(transients, code) != -1 || resp->status == 500 || resp->status == 502 ||
	    resp->status == 503 || resp->status == 504)
		return RETRY_TRANSIENT;
	return RETRY_NO;
}

/* The back-off before the attempt after attempt: random() * min(2^(attempt - 1), 20) seconds. */
static int64_t
backoff(int attempt)
{
	int64_t cap;

	cap = attempt - 1 < 15 ? (int64_t)1000 << (attempt - 1) : BACKOFF_MAX_MS;
	if (cap > BACKOFF_MAX_MS)
		cap = BACKOFF_MAX_MS;
	return (int64_t)((double)random() / ((double)RAND_MAX + 1) * (double)cap);
}

int64_t
retry_next(struct retry *r, int attempt, enum retry_kind kind, int *cost)
{
	int take = kind == RETRY_TIMEOUT ? QUOTA_TIMEOUT_COST : QUOTA_COST;

	if (kind == RETRY_NO || attempt >= r->max_attempts || r->quota < take)
		return -1;
	r->quota -= take;
	*cost += take;
	return backoff(attempt);
}

int64_t
retry_next_paced(struct retry *r, int n)
{
	(void)r;
	return n >= RETRY_PACED_MAX ? -1 : backoff(n);
}

void
retry_success(struct retry *r, int cost)
{
	r->quota += cost > 0 ? cost : 1;
	if (r->quota > QUOTA_MAX)
		r->quota = QUOTA_MAX;
}

int
retry_http_do(struct retry *r, const struct http_request *req, struct http_response *resp,
    char *(*code)(const struct http_response *), int network, const char *creds)
{
	enum retry_kind kind;
	int64_t delay;
	char *c;
	int attempt, cost = 0, rc;

	for (attempt = 1;; attempt++) {
		rc = http_do(req, resp);
		c = rc == 0 && code != NULL ? code(resp) : NULL;
		kind = rc == -1 && !network ? RETRY_NO : retry_classify(rc, resp, c);
		delay = kind == RETRY_NO ? -1 : retry_next(r, attempt, kind, &cost);
		trace_attempt(req, resp, attempt, delay < 0 ? RETRY_NO : kind, c, NULL, creds);
		free(c);
		if (delay < 0)
			break;
		if (resp->body != NULL)
			explicit_bzero(resp->body, resp->len);
		http_response_free(resp);
		clock_sleep_ms(delay);
	}
	if (kind == RETRY_NO && rc == 0 && resp->status < 300)
		retry_success(r, cost);
	return rc;
}
