/* trace.h: --debug and AMICYCLE_DEBUG=1: one line on stderr per HTTP request, never a secret. */
#ifndef AMICYCLE_TRACE_H
#define AMICYCLE_TRACE_H

#include <stdint.h>

#include "http.h"

/* Turns the lines on (--debug); AMICYCLE_DEBUG=1 in the environment does too. */
void	trace_enable(void);

/* 1 when the lines are on. */
int	trace_on(void);

/*
 * When the lines are on, one for an attempt that has finished, as
 *   PROG: debug: POST ec2.us-east-1.amazonaws.com DescribeImages: 200 (request id ID),
 *       attempt 1, 12 ms, credentials environment
 * with ", retrying: REASON" after the attempt when another follows. The action is the Query
 * body's Action, else the URL's path; source says whose credentials signed the request (NULL for
 * an unsigned one, as the credential providers' own). Only the request's method, host and action
 * and the response's status, request id and timing are read: never a header, the body's other
 * parameters or the response body, where the secrets are.
 */
void	trace_attempt(const struct http_request *req, const struct http_response *resp,
	    int attempt, const char *retrying, const char *source);

#endif
