/* trace.c: --debug and AMICYCLE_DEBUG=1: one line on stderr per HTTP request, never a secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "progress.h"
#include "retry.h"
#include "trace.h"
#include "util.h"

static int enabled = -1;

void
trace_enable(void)
{
	enabled = 1;
}

int
trace_on(void)
{
	const char *s;

	if (enabled == -1)
		enabled = (s = env("AMICYCLE_DEBUG")) != NULL && strcmp(s, "0") != 0;
	return enabled;
}

/*
 * The Query body's Action, or the JSON protocol's X-Amz-Target after its "Prefix." (their values
 * are names: nothing to hide), else the URL's path.
 */
static char *
action_of(const struct http_request *req)
{
	const char *p, *b = req->body, *const *h;
	char *scheme, *host, *path;
	size_t n;

	for (h = req->headers; h != NULL && *h != NULL; h++)
		if (strncasecmp(*h, "X-Amz-Target: ", 14) == 0) {
			p = strrchr(*h + 14, '.') != NULL ? strrchr(*h + 14, '.') + 1 : *h + 14;
			n = strlen(p);
			return xstrndup(p, n < 64 ? n : 64);
		}
	for (p = b; p != NULL && p < b + req->bodylen; p = memchr(p, '&', b + req->bodylen - p)) {
		if (*p == '&')
			p++;
		if ((size_t)(b + req->bodylen - p) > 7 && strncmp(p, "Action=", 7) == 0) {
			p += 7;
			n = strcspn(p, "&");
			return xstrndup(p, n < 64 ? n : 64);
		}
	}
	if (http_url_split(req->url, &scheme, &host, &path) == -1)
		return xstrdup("?");
	free(scheme);
	free(host);
	path[strcspn(path, "?#")] = '\0';
	return path;
}

static const char *
reason(enum retry_kind kind)
{
	switch (kind) {
	case RETRY_THROTTLE:
		return "throttled";
	case RETRY_TIMEOUT:
		return "timed out";
	case RETRY_TRANSIENT:
		return "transient";
	default:
		return "no";
	}
}

/* "METHOD HOST ACTION": the request, as every debug line names it. */
static char *
request_name(const struct http_request *req)
{
	char *scheme = NULL, *host = NULL, *path = NULL, *action, *name;

	if (http_url_split(req->url, &scheme, &host, &path) == -1)
		host = xstrdup("?");
	action = action_of(req);
	xasprintf(&name, "%s %s %s", req->method, host, action);
	free(action);
	free(scheme);
	free(host);
	free(path);
	return name;
}

void
trace_pace(const struct http_request *req, int attempt, int64_t ms, double rate)
{
	char *name;

	if (!trace_on())
		return;
	name = request_name(req);
	progress_warnx("debug: %s: attempt %d paced: starts in %lld ms (adaptive retry mode, %.2f "
	    "requests a second)", one_line(name), attempt, (long long)ms, rate);
	free(name);
}

void
trace_attempt(const struct http_request *req, const struct http_response *resp, int attempt,
    enum retry_kind retrying, const char *code, const char *reqid, const char *creds)
{
	char *name, *status, *retry = NULL, *line;

	if (!trace_on())
		return;
	name = request_name(req);
	if (reqid == NULL)
		reqid = resp->request_id;
	if (resp->status != 0)
		xasprintf(&status, "status %ld%s%s", resp->status, reqid != NULL ? ", request id " : "",
		    reqid != NULL ? reqid : "");
	else
		xasprintf(&status, "no response (%s)", resp->error);
	if (retrying != RETRY_NO)
		xasprintf(&retry, ", retrying: %s%s%s%s", reason(retrying), code != NULL ? " (" : "",
		    code != NULL ? code : "", code != NULL ? ")" : "");
	xasprintf(&line, "debug: %s: %s, attempt %d%s, %lld ms, credentials %s", name, status,
	    attempt, retry != NULL ? retry : "", (long long)resp->ms, creds != NULL ? creds : "none");
	progress_warnx("%s", one_line(line));
	free(line);
	free(retry);
	free(status);
	free(name);
}
