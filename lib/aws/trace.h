/* trace.h: --debug and AMICYCLE_DEBUG=1: one line on stderr per HTTP request, never a secret. */
#ifndef AMICYCLE_TRACE_H
#define AMICYCLE_TRACE_H

#include <stdint.h>

#include "http.h"
#include "retry.h"

/* Turns the lines on (--debug); AMICYCLE_DEBUG=1 in the environment does too. */
void	trace_enable(void);

/* 1 when the lines are on. */
int	trace_on(void);

/*
 * When the lines are on, one for an attempt that has just finished, as
 *   PROG: debug: POST ec2.us-east-1.amazonaws.com DescribeImages: status 503, request id ID,
 *   attempt 1, retrying: throttled (RequestLimitExceeded), 12 ms, credentials env
 * retrying is the kind of failure another attempt follows (RETRY_NO: none follows), code the
 * error code the response carried (or NULL), reqid the request id found in its body (NULL: the
 * one in its headers, if any). The action is the Query body's Action, else the
 * URL's path. creds names the credential source that signed the request; for a credential
 * provider's own request (STS, IMDS, container), "for SOURCE". Only the method, the host, the
 * action, the status, the request id and the timing are read: never a header, the body's other
 * parameters, the query string or the response body, where the secrets are.
 */
void	trace_attempt(const struct http_request *req, const struct http_response *resp,
	    int attempt, enum retry_kind retrying, const char *code, const char *reqid,
	    const char *creds);

/*
 * When the lines are on, one for an attempt that the adaptive retry mode holds back, as
 *   PROG: debug: POST ec2.us-east-1.amazonaws.com DeregisterImage: attempt 1 paced: starts in
 *   1200 ms (adaptive retry mode, 0.83 requests a second)
 */
void	trace_pace(const struct http_request *req, int attempt, int64_t ms, double rate);

#endif
