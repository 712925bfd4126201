/* ec2.h: calling EC2: signed Query requests, the SDKs' standard retries, bounded concurrency. */
#ifndef AMICYCLE_EC2_H
#define AMICYCLE_EC2_H

#include <jv.h>

/*
 * The outcome of one EC2 action, after retries. On success code is NULL and out holds the
 * response in the AWS CLI's JSON form ({"Images":[...],"NextToken":...}). On failure code is the
 * EC2 error code ("InvalidAMIID.NotFound", "DryRunOperation", "RequestLimitExceeded") or, when no
 * EC2 error arrived, "RequestError" (network) or "HTTPnnn"; diag is the one-line diagnostic
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

/*
 * A client for the region and endpoint given on the command line (either may be NULL: then
 * AWS_REGION, AWS_DEFAULT_REGION, the profile's region; AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, the
 * profile's endpoint_url, else https://ec2.REGION.amazonaws.com). max is the number of calls in
 * flight at once (-P). Configuration errors (a bad profile) end the program with a message.
 */
struct ec2	*ec2_new(const char *region, const char *endpoint_url, int max);
void		 ec2_free(struct ec2 *);

/* The region calls go to when a record names none; NULL if nothing configures one. */
const char	*ec2_region(struct ec2 *);

/*
 * Queues a call. Consumes params (the action's input in the CLI's JSON form, e.g.
 * {"Owners":["self"],"MaxResults":1000}). done runs from ec2_run() with the result, which is
 * valid only during the callback (take jv_copy(res->out) to keep the output); it may queue more
 * calls (the next page). region NULL means ec2_region().
 */
void	ec2_submit(struct ec2 *, const char *region, const char *action, jv params,
	    void (*done)(const struct ec2_result *, void *arg), void *arg);

/*
 * Queues a listing: action is called page by page (NextToken) until the last page, and done runs
 * once, with out holding every page's lists concatenated (every page's "Images" arrays in one).
 * If any page fails after retries, done gets that failure and no output. Consumes params.
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

/* Runs queued calls, at most max at once, until none is left. */
void	ec2_run(struct ec2 *);

/*
 * One call, synchronously. Consumes params. Returns the output (the caller owns it), or
 * jv_invalid_with_msg(diag) on failure; *code, if not NULL, gets the error code (NULL on success;
 * valid until the next call).
 */
jv	ec2_call(struct ec2 *, const char *region, const char *action, jv params, const char **code);

#endif
