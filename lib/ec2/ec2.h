/* ec2.h: calling EC2, Auto Scaling and SSM: signed requests, retries, bounded concurrency. */
#ifndef AMICYCLE_EC2_H
#define AMICYCLE_EC2_H

#include <jv.h>

/*
 * Actions. An action name may carry a service prefix, the model's endpointPrefix and a colon:
 * "autoscaling:DescribeAutoScalingGroups", "ssm:GetParameters"; no prefix means EC2
 * ("DescribeImages"). The operations are those of tools/gen-model.py's OPERATIONS; any
 * other name ends the program (a programming error). Params and output are in the AWS CLI's JSON
 * form for that service, as for EC2; a listing pages on NextToken for each of them.
 *   EC2:          the Query protocol's EC2 dialect; signed as ec2; --endpoint-url (ec2_new()),
 *                 AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, the profile's ec2 endpoint_url, else
 *                 https://ec2.REGION.amazonaws.com.
 *   Auto Scaling: the Query protocol (as STS); signed as autoscaling;
 *                 AWS_ENDPOINT_URL_AUTO_SCALING, AWS_ENDPOINT_URL, the profile's (services:
 *                 auto_scaling, endpoint_url), else https://autoscaling.REGION.amazonaws.com.
 *   SSM:          JSON 1.1 (awsjson.h: a JSON body, X-Amz-Target, __type errors); signed as ssm;
 *                 AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL, the profile's, else
 *                 https://ssm.REGION.amazonaws.com.
 * --endpoint-url is EC2's alone. Retries, adaptive pacing (a limiter per region and prefixed
 * action), the queue, --debug and the audit log are the same for every service. Results and
 * diagnostics name the action without its prefix:
 *   "eu-west-1: GetParameters: ParameterNotFound: MESSAGE (request id ID)".
 */

/*
 * The outcome of one action, after retries. On success code is NULL and out holds the
 * response in the AWS CLI's JSON form ({"Images":[...],"NextToken":...}). On failure code is the
 * service's error code ("InvalidAMIID.NotFound", "DryRunOperation", "RequestLimitExceeded",
 * "ParameterNotFound") or, when no such error arrived, "RequestError" (network), "HTTPnnn",
 * "MalformedResponse" or "InvalidParameter" (params the model refuses: nothing was sent); action
 * is the name without its service prefix; diag is the one-line diagnostic
 * "REGION: ACTION: CODE: MESSAGE (request id ID)" to print after the program name.
 */
struct ec2_result {
	jv		 out;		/* jv_null() on failure; the callee frees it after the callback */
	const char	*region;
	const char	*action;
	const char	*code;
	const char	*message;
	const char	*request_id;	/* NULL when none arrived */
	const char	*diag;
	int		 attempts;
};

struct ec2;
struct runq_gate;

/*
 * A client for the region and endpoint given on the command line (either may be NULL: then
 * AWS_REGION, AWS_DEFAULT_REGION, the profile's region; AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, the
 * profile's endpoint_url, else https://ec2.REGION.amazonaws.com; the endpoint is EC2's, the other
 * services read theirs when first called, see above). max is the number of calls in flight at once
 * (-P). Configuration errors (a bad profile, an endpoint URL that is not http(s)) end the program
 * with a message.
 *
 * Retries are the SDKs' (retry.h), in adaptive mode unless AWS_RETRY_MODE or the profile's
 * retry_mode says standard or legacy: every filter's calls may be many (a cleanup, a listing over
 * regions, a wait that polls), and EC2 limits each action's rate per region with a token bucket.
 * Adaptive mode keeps a limiter (ratelimit.h) per region and action; it is off until that action
 * is first throttled there, then paces the calls to the rate CUBIC finds, each call waiting for
 * its token in the event loop (on a timer, in its slot). A throttled attempt then takes nothing
 * from the retry quota and does not count among the call's max attempts (up to RETRY_PACED_MAX
 * throttles a call). So -P only caps the calls in flight: past the limit, more of them wait for
 * tokens instead of being refused.
 */
struct ec2	*ec2_new(const char *region, const char *endpoint_url, int max);
void		 ec2_free(struct ec2 *);

/* The region calls go to when a record names none; NULL if nothing configures one. */
const char	*ec2_region(struct ec2 *);

/*
 * Queues a call. Consumes params (the action's input in the CLI's JSON form, e.g.
 * {"Owners":["self"],"MaxResults":1000}). done runs from ec2_run() with the result, which is
 * valid only during the callback (take jv_copy(res->out) to keep the output); it may queue more
 * calls. region NULL means ec2_region().
 *
 * Every filter's calls go through one queue (lib/core/runq.h): at most max (-P) in flight,
 * started in the order they were queued; a call holds its slot through its retries. Once a
 * signal has come (intr_catch()), no queued call starts: each gets done with the code
 * "Interrupted" (nothing was sent, nothing is in the audit log), while those in flight finish.
 * A call that cannot be made at all (no region, a region that is no region name) gets done
 * at once, before ec2_submit() returns, and takes no slot.
 */
void	ec2_submit(struct ec2 *, const char *region, const char *action, jv params,
	    void (*done)(const struct ec2_result *, void *arg), void *arg);

/*
 * As ec2_submit(), but the call waits behind gate, in its place in the queue, until ec2_open()
 * opens it; and its params are made by params(arg) when it starts, not now, so that they can
 * depend on what the calls before it answered.
 */
void	ec2_submit_behind(struct ec2 *, struct runq_gate *gate, const char *region,
	    const char *action, jv (*params)(void *arg),
	    void (*done)(const struct ec2_result *, void *arg), void *arg);

/* Makes c's queue a cleanup's: queued calls start even after an interrupt (runq_finish_queued()). */
void	ec2_finish_queued(struct ec2 *c);

/* Opens gate: the calls behind it may start. */
void	ec2_open(struct ec2 *, struct runq_gate *gate);

/*
 * Queues a listing: action is called page by page (NextToken) until the last page, and done runs
 * once, with out holding every page's lists concatenated (every page's "Images" arrays in one).
 * If any page fails after retries, done gets that failure and no output. Consumes params. A
 * listing takes one slot in the queue for all its pages: an interrupt never cuts it short.
 */
void	ec2_submit_all(struct ec2 *, const char *region, const char *action, jv params,
	    void (*done)(const struct ec2_result *, void *arg), void *arg);

/*
 * The same listing, handed over a page at a time, so that a caller that keeps less than the
 * parsed output (ec2-describe keeps the records' text) does not hold every page in jv at once:
 * page runs with each page's output, NextToken removed (consumed), as it arrives; done runs once,
 * with out an empty object on success, or the failure. Pages before a failure were handed over:
 * an all-or-nothing caller keeps them aside until done. Consumes params.
 */
void	ec2_submit_pages(struct ec2 *, const char *region, const char *action, jv params,
	    void (*page)(jv out, void *arg), void (*done)(const struct ec2_result *, void *arg),
	    void *arg);

/* Runs queued calls, at most max at once, until none is left (or, interrupted, none runs). */
void	ec2_run(struct ec2 *);

/* 1 if code is the one a call gets when an interrupt kept it from being sent ("Interrupted"). */
int	ec2_interrupted(const char *code);

/*
 * One call, synchronously. Consumes params. Returns the output (the caller owns it), or
 * jv_invalid_with_msg(diag) on failure; *code, if not NULL, gets the error code (NULL on success;
 * valid until the next call).
 */
jv	ec2_call(struct ec2 *, const char *region, const char *action, jv params, const char **code);

#endif
