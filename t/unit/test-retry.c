/* Unit tests for lib/retry.c: what is retried, the retry quota, the back-off and max attempts. */
#include <stdlib.h>
#include <string.h>

#include "awsconfig.h"
#include "http.h"
#include "retry.h"
#include "tap.h"

static enum retry_kind
classify(int rc, long status, int transient, int timedout, const char *code)
{
	struct http_response r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.transient = transient;
	r.timedout = timedout;
	return retry_classify(rc, &r, code);
}

static int
attempts_with(const char *mode, const char *max)
{
	struct retry r;

	if (mode != NULL)
		setenv("AWS_RETRY_MODE", mode, 1);
	else
		unsetenv("AWS_RETRY_MODE");
	if (max != NULL)
		setenv("AWS_MAX_ATTEMPTS", max, 1);
	else
		unsetenv("AWS_MAX_ATTEMPTS");
	awsconfig_free();
	retry_init(&r);
	return r.max_attempts;
}

int
main(void)
{
	struct retry r;
	int64_t d, lo, hi;
	int i, cost, n;

	/* No profile of the developer's may count. */
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");

	ok(attempts_with(NULL, NULL) == 3, "standard mode: 3 attempts");
	ok(attempts_with("adaptive", NULL) == 3, "adaptive mode: 3 attempts");
	ok(attempts_with("legacy", NULL) == 5, "legacy mode: 5 attempts");
	ok(attempts_with("legacy", "2") == 2, "AWS_MAX_ATTEMPTS wins over the mode");
	ok(attempts_with(NULL, "1") == 1, "AWS_MAX_ATTEMPTS=1: no retry");

	ok(classify(-1, 0, 1, 0, NULL) == RETRY_TRANSIENT, "a connection refused or reset is transient");
	ok(classify(-1, 0, 1, 1, NULL) == RETRY_TIMEOUT, "no answer in time is a timeout");
	ok(classify(-1, 0, 0, 0, NULL) == RETRY_NO, "a TLS or URL error is not retried");
	ok(classify(0, 400, 0, 0, "Throttling") == RETRY_THROTTLE, "STS's Throttling (HTTP 400)");
	ok(classify(0, 503, 0, 0, "RequestLimitExceeded") == RETRY_THROTTLE, "EC2's throttling");
	ok(classify(0, 400, 0, 0, "InternalError") == RETRY_TRANSIENT, "a transient code");
	ok(classify(0, 503, 0, 0, NULL) == RETRY_TRANSIENT, "503 without a code (IMDS)");
	ok(classify(0, 500, 0, 0, NULL) == RETRY_TRANSIENT &&
	    classify(0, 502, 0, 0, NULL) == RETRY_TRANSIENT &&
	    classify(0, 504, 0, 0, NULL) == RETRY_TRANSIENT, "500, 502 and 504");
	ok(classify(0, 400, 0, 0, "InvalidIdentityToken") == RETRY_NO &&
	    classify(0, 403, 0, 0, "AccessDenied") == RETRY_NO &&
	    classify(0, 404, 0, 0, NULL) == RETRY_NO && classify(0, 501, 0, 0, NULL) == RETRY_NO,
	    "client errors and 501 are not retried");

	unsetenv("AWS_RETRY_MODE");
	setenv("AWS_MAX_ATTEMPTS", "100", 1);
	retry_init(&r);
	for (i = 1; i <= 7; i++) {
		hi = i <= 5 ? 1000LL << (i - 1) : 20000;
		lo = hi;
		for (n = 0; n < 200; n++) {
			cost = 0;
			d = retry_next(&r, i, RETRY_TRANSIENT, &cost);
			if (d < lo)
				lo = d;
			if (d >= hi || d < 0)
				lo = -1;
			retry_success(&r, cost);
		}
		ok(lo >= 0 && lo < hi / 2, "attempt %d: the back-off is random below %lld ms", i,
		    (long long)hi);
	}
	ok(retry_next(&r, 1, RETRY_NO, &cost) == -1, "nothing to retry: no other attempt");
	ok(retry_next(&r, 100, RETRY_THROTTLE, &cost) == -1, "max attempts made: no other");

	retry_init(&r);
	cost = 0;
	for (n = 0; retry_next(&r, 1, RETRY_THROTTLE, &cost) >= 0; n++)
		;
	ok(n == 100 && cost == 500 && r.quota == 0, "the quota allows 100 retries at 5");
	retry_success(&r, 0);
	ok(r.quota == 1, "a success without retries puts 1 back");
	retry_success(&r, 10);
	ok(r.quota == 11, "a success puts back what its retries took");
	ok(retry_next(&r, 1, RETRY_TIMEOUT, &cost) >= 0 && r.quota == 1, "a timeout costs 10");
	ok(retry_next(&r, 1, RETRY_TRANSIENT, &cost) == -1 && r.quota == 1,
	    "too little quota left: no retry, nothing taken");
	for (n = 0; n < 1000; n++)
		retry_success(&r, 5);
	ok(r.quota == 500, "the quota never exceeds 500");
	r.quota = 0;
	r.max_attempts = 3;
	ok(retry_next_paced(&r, 1) >= 0 && retry_next_paced(&r, 5) >= 0 && r.quota == 0,
	    "adaptive mode: throttles are retried past max attempts, with no quota left, taking none");
	ok(retry_next_paced(&r, RETRY_PACED_MAX - 1) >= 0 && retry_next_paced(&r, RETRY_PACED_MAX) == -1,
	    "adaptive mode: a call gives up at its RETRY_PACED_MAXth throttle");
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_RETRY_MODE");
	awsconfig_free();
	retry_init(&r);
	ok(r.mode == RETRY_MODE_DEFAULT, "no retry mode configured: the caller's default");
	setenv("AWS_RETRY_MODE", "adaptive", 1);
	retry_init(&r);
	ok(r.mode == RETRY_MODE_ADAPTIVE && r.max_attempts == 3, "AWS_RETRY_MODE=adaptive: 3 attempts");
	setenv("AWS_RETRY_MODE", "standard", 1);
	retry_init(&r);
	ok(r.mode == RETRY_MODE_STANDARD, "AWS_RETRY_MODE=standard");
	unsetenv("AWS_RETRY_MODE");
	awsconfig_free();
	return done_testing();
}
