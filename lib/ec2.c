/* ec2.c: calling EC2: signed Query requests, the SDKs' standard retries, bounded concurrency. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "audit.h"
#include "awsconfig.h"
#include "creds.h"
#include "ec2.h"
#include "ec2model.h"
#include "ec2query.h"
#include "ec2xml.h"
#include "http.h"
#include "sigv4.h"
#include "util.h"

/*
 * The SDKs' standard retry mode: a token bucket of 500, a retry costs 5 (10 after a timeout),
 * a success returns what its retries took, or 1.
 */
#define QUOTA_MAX		500
#define QUOTA_COST		5
#define QUOTA_TIMEOUT_COST	10
#define BACKOFF_MAX_MS		20000

#define CONTENT_TYPE	"application/x-www-form-urlencoded; charset=utf-8"

struct ec2 {
	char			*region;
	char			*endpoint;	/* NULL: https://ec2.REGION.amazonaws.com */
	int			 max;
	int			 max_attempts;
	int			 quota;
	struct http_pool	*pool;		/* ec2_submit/ec2_run */
	struct http_pool	*sync;		/* ec2_call, which may run inside a callback */
	int			 insync;
	char			*lastcode;
};

struct call {
	struct http_job		 job;
	struct ec2		*ec2;
	struct http_pool	*pool;
	const struct ec2_operation *op;
	char			*region;
	char			*action;
	char			*url;
	char			*host;
	char			*path;
	jv			 params;	/* kept for the audit log */
	char			*akid;		/* who signed, for the audit log */
	char			*body;
	size_t			 bodylen;
	char			**hdrs;		/* the signed headers of the attempt */
	int			 attempt;	/* attempts made */
	int			 cost;		/* quota taken by this call's retries */
	void			(*done)(const struct ec2_result *, void *);
	void			*arg;
};

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

static int
listed(const char *const *list, const char *code)
{
	for (; code != NULL && *list != NULL; list++)
		if (strcmp(*list, code) == 0)
			return 1;
	return 0;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

struct ec2 *
ec2_new(const char *region, const char *endpoint, int max)
{
	struct ec2 *c;
	const char *v, *mode;
	char *msg = NULL;

	if (awsconfig_check(&msg) == -1)
		errx(EXIT_FAIL, "%s", msg);
	c = xcalloc(1, sizeof(*c));
	if (region == NULL)
		region = awsconfig_region();
	c->region = region != NULL ? xstrdup(region) : NULL;
	if (endpoint == NULL)
		endpoint = awsconfig_endpoint("EC2");
	if (endpoint != NULL) {
		if (strncmp(endpoint, "https://", 8) != 0 && strncmp(endpoint, "http://", 7) != 0)
			errx(EXIT_USAGE, "endpoint URL '%s': not http:// or https://", endpoint);
		c->endpoint = xstrdup(endpoint);
	}
	http_set_ca_bundle(awsconfig_ca_bundle());

	if ((mode = env("AWS_RETRY_MODE")) == NULL)
		mode = awsconfig_get(NULL, "retry_mode");
	if (mode != NULL && strcmp(mode, "standard") != 0 && strcmp(mode, "adaptive") != 0 &&
	    strcmp(mode, "legacy") != 0)
		errx(EXIT_USAGE, "retry mode '%s': not standard, adaptive or legacy", mode);
	/* legacy mode makes 5 attempts by default; standard and adaptive 3. */
	c->max_attempts = mode != NULL && strcmp(mode, "legacy") == 0 ? 5 : 3;
	if ((v = env("AWS_MAX_ATTEMPTS")) != NULL)
		c->max_attempts = (int)parse_num(v, 1, 100, "AWS_MAX_ATTEMPTS");
	else if ((v = awsconfig_get(NULL, "max_attempts")) != NULL)
		c->max_attempts = (int)parse_num(v, 1, 100, "max_attempts");

	c->quota = QUOTA_MAX;
	c->max = max > 0 ? max : 1;
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	return c;
}

void
ec2_free(struct ec2 *c)
{
	if (c == NULL)
		return;
	http_pool_free(c->pool);
	http_pool_free(c->sync);
	free(c->region);
	free(c->endpoint);
	free(c->lastcode);
	free(c);
}

const char *
ec2_region(struct ec2 *c)
{
	return c->region;
}

static void	attempt(struct call *);
static void	finished(struct http_job *, void *);

static void
call_free(struct call *k)
{
	sigv4_lines_free(k->hdrs);
	http_response_free(&k->job.resp);
	free(k->region);
	free(k->action);
	free(k->url);
	free(k->host);
	free(k->path);
	free(k->body);
	free(k->akid);
	jv_free(k->params);
	free(k);
}

/* A mutating call has ended: log it before anyone acts on the result. */
static int
mutating(const char *action)
{
	return strncmp(action, "Describe", 8) != 0 && strncmp(action, "Get", 3) != 0;
}

/* Hands res to the caller, after the audit log has it, and frees k. */
static void
complete(struct call *k, struct ec2_result *res)
{
	if (audit_enabled() && mutating(k->action))
		audit_call(k->region, k->action, k->params, res->out, res->code, res->message,
		    res->request_id, k->akid, k->attempt);
	k->done(res, k->arg);
	call_free(k);
}

/* Reports a failure that happened before any request was sent. */
static void
fail_early(struct call *k, const char *code, const char *message)
{
	struct ec2_result res;
	char *diag, *line;

	/* A credential_process's stderr, or a server's answer, may span lines. */
	line = fold_line(xstrdup(message));
	xasprintf(&diag, "%s: %s: %s: %s", k->region ? k->region : "-", k->action, code, line);
	memset(&res, 0, sizeof(res));
	res.out = jv_null();
	res.region = k->region;
	res.action = k->action;
	res.code = code;
	res.message = line;
	res.diag = diag;
	complete(k, &res);
	free(diag);
	free(line);
}

/* Splits the endpoint URL into what the request is sent to and what is signed. */
static int
endpoint_parts(struct call *k, const char *url)
{
	CURLU *u;
	char *host = NULL, *port = NULL, *path = NULL;
	int ret = -1;

	if ((u = curl_url()) == NULL)
		errx(EXIT_FAIL, "curl_url failed");
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		curl_url_get(u, CURLUPART_PATH, &path, 0);
		if (port != NULL)
			xasprintf(&k->host, "%s:%s", host, port);
		else
			k->host = xstrdup(host);
		k->path = xstrdup(path != NULL && *path != '\0' ? path : "/");
		k->url = xstrdup(url);
		ret = 0;
	}
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return ret;
}

void
ec2_submit(struct ec2 *c, const char *region, const char *action, jv params,
    void (*done)(const struct ec2_result *, void *), void *arg)
{
	struct call *k;
	char *url, *msg = NULL;

	if (c->pool == NULL)
		c->pool = http_pool_new(c->max);
	k = xcalloc(1, sizeof(*k));
	k->ec2 = c;
	k->pool = c->pool;
	k->done = done;
	k->arg = arg;
	k->action = xstrdup(action);
	k->params = jv_copy(params);	/* ec2query_body() consumes params */
	if (region == NULL)
		region = c->region;
	if (region == NULL) {
		jv_free(params);
		fail_early(k, "NoRegion", "no region: use --region, AWS_REGION or a profile's region");
		return;
	}
	k->region = xstrdup(region);
	if ((k->op = ec2model_operation("ec2", action)) == NULL)
		errx(EXIT_FAIL, "%s: no such operation in the EC2 model", action);
	if ((k->body = ec2query_body(k->op, params, &msg)) == NULL) {
		fail_early(k, "InvalidParameter", msg);
		free(msg);
		return;
	}
	k->bodylen = strlen(k->body);
	if (c->endpoint != NULL)
		url = xstrdup(c->endpoint);
	else
		xasprintf(&url, "https://ec2.%s.amazonaws.com/", region);
	if (endpoint_parts(k, url) == -1) {
		free(url);
		fail_early(k, "InvalidEndpoint", "the endpoint URL cannot be parsed");
		return;
	}
	free(url);
	k->job.done = finished;
	k->job.arg = k;
	attempt(k);
}

/* Signs and queues the next attempt of k. */
static void
attempt(struct call *k)
{
	const struct aws_creds *cr;
	struct sigv4_header sh[2];
	struct sigv4_request sr;
	char *errmsg = NULL, **signed_lines;
	size_t i, n = 0;

	if ((cr = creds_get(k->region, &errmsg)) == NULL) {
		fail_early(k, "NoCredentials", errmsg != NULL ? errmsg : "no credentials");
		free(errmsg);
		return;
	}
	k->attempt++;
	free(k->akid);
	k->akid = xstrdup(cr->access_key_id);
	sh[0] = (struct sigv4_header){ "Host", k->host };
	sh[1] = (struct sigv4_header){ "Content-Type", CONTENT_TYPE };
	memset(&sr, 0, sizeof(sr));
	sr.method = "POST";
	sr.path = k->path;
	sr.query = "";
	sr.headers = sh;
	sr.nheaders = 2;
	sr.body = k->body;
	sr.bodylen = k->bodylen;
	sr.region = k->region;
	sr.service = "ec2";
	sr.normalize_path = 1;
	signed_lines = sigv4_sign_headers(&sr, time(NULL), cr->access_key_id,
	    cr->secret_access_key, cr->session_token);
	sigv4_lines_free(k->hdrs);
	for (n = 0; signed_lines[n] != NULL; n++)
		;
	k->hdrs = xcalloc(n + 3, sizeof(*k->hdrs));
	xasprintf(&k->hdrs[0], "Host: %s", k->host);
	xasprintf(&k->hdrs[1], "Content-Type: %s", CONTENT_TYPE);
	for (i = 0; i < n; i++)
		k->hdrs[i + 2] = signed_lines[i];
	free(signed_lines);

	k->job.req.method = "POST";
	k->job.req.url = k->url;
	k->job.req.headers = (const char *const *)k->hdrs;
	k->job.req.body = k->body;
	k->job.req.bodylen = k->bodylen;
	http_pool_add(k->pool, &k->job);
}

/* Queues another attempt after the SDKs' back-off, if attempts and the retry quota allow. */
static int
retry(struct call *k, int timeout)
{
	struct ec2 *c = k->ec2;
	int cost = timeout ? QUOTA_TIMEOUT_COST : QUOTA_COST;
	int64_t cap, delay;

	if (k->attempt >= c->max_attempts || c->quota < cost)
		return 0;
	c->quota -= cost;
	k->cost += cost;
	/* random() * min(2^(attempt - 1), 20) seconds */
	cap = k->attempt - 1 < 15 ? (int64_t)1000 << (k->attempt - 1) : BACKOFF_MAX_MS;
	if (cap > BACKOFF_MAX_MS)
		cap = BACKOFF_MAX_MS;
	delay = (int64_t)((double)random() / ((double)RAND_MAX + 1) * (double)cap);
	http_response_free(&k->job.resp);
	k->job.start_ms = http_now_ms() + delay;
	attempt(k);
	return 1;
}

static void
finished(struct http_job *job, void *arg)
{
	struct call *k = arg;
	struct ec2 *c = k->ec2;
	struct http_response *r = &job->resp;
	struct ec2_result res;
	char *code = NULL, *message = NULL, *reqid = NULL, *diag = NULL, status[16];
	jv out = jv_null();

	memset(&res, 0, sizeof(res));
	if (job->rc == -1) {
		if (r->transient && retry(k, r->timedout))
			return;
		code = xstrdup(r->toolarge ? "ResponseTooLarge" : "RequestError");
		message = xstrdup(r->error);
	} else if (r->status == 200) {
		out = ec2xml_parse(k->op, r->body, r->len, &reqid);
		if (!jv_is_valid(out)) {
			jv m = jv_invalid_get_msg(out);

			code = xstrdup("MalformedResponse");
			message = xstrdup(jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) :
			    "the response cannot be parsed");
			jv_free(m);
			out = jv_null();
		}
	} else {
		if (ec2xml_error(r->body, r->len, &code, &message, &reqid) == -1) {
			snprintf(status, sizeof(status), "HTTP%ld", r->status);
			code = xstrdup(status);
			xasprintf(&message, "HTTP status %ld without an EC2 error", r->status);
		}
		if ((listed(throttles, code) || listed(transients, code) || r->status == 500 ||
		    r->status == 502 || r->status == 503 || r->status == 504) && retry(k, 0)) {
			free(code);
			free(message);
			free(reqid);
			return;
		}
	}
	if (code == NULL) {
		/* A success pays back what its retries took from the quota, or one token. */
		c->quota += k->cost > 0 ? k->cost : 1;
		if (c->quota > QUOTA_MAX)
			c->quota = QUOTA_MAX;
	}
	if (reqid == NULL && r->request_id != NULL)
		reqid = xstrdup(r->request_id);
	/* Parsed: the body goes before the callbacks build on the output (and ask for the next page). */
	http_response_free(r);
	/* What the server sent ("&#10;" in a Message is a newline) stays on the diagnostic's line. */
	fold_line(code);
	fold_line(message);
	fold_line(reqid);
	if (code != NULL) {
		if (reqid != NULL)
			xasprintf(&diag, "%s: %s: %s: %s (request id %s)", k->region, k->action, code,
			    message, reqid);
		else
			xasprintf(&diag, "%s: %s: %s: %s", k->region, k->action, code, message);
	}
	res.out = out;
	res.region = k->region;
	res.action = k->action;
	res.code = code;
	res.message = message;
	res.request_id = reqid;
	res.diag = diag;
	res.attempts = k->attempt;
	complete(k, &res);
	jv_free(out);
	free(code);
	free(message);
	free(reqid);
	free(diag);
}

/*
 * An endpoint that keeps answering with a NextToken would be paged forever, its pages held in
 * memory: a token seen before ends the listing with an error (as botocore's paginator does), and
 * so does a listing longer than any EC2 gives (10,000 pages of 1,000 is ten million resources).
 */
#define MAX_PAGES	10000

struct pager {
	struct ec2	*ec2;
	char		*region;
	char		*action;
	jv		 params;
	jv		 acc;		/* without page: the lists so far, concatenated */
	jv		 seen;		/* every NextToken received, as keys */
	int		 pages;
	void		(*page)(jv, void *);
	void		(*done)(const struct ec2_result *, void *);
	void		*arg;
};

/* Consumes out, one page's output without NextToken: into the concatenated lists. */
static void
page_concat(struct pager *p, jv out)
{
	jv_object_foreach(out, key, val) {
		if (jv_get_kind(val) == JV_KIND_ARRAY) {
			jv have = jv_object_get(jv_copy(p->acc), jv_copy(key));

			if (jv_get_kind(have) == JV_KIND_ARRAY)
				val = jv_array_concat(have, val);
			else
				jv_free(have);
		}
		p->acc = jv_object_set(p->acc, key, val);
	}
	jv_free(out);
}

/* Ends the listing with a PaginationError after the page res, which succeeded. */
static void
page_fail(struct pager *p, const struct ec2_result *res, const char *message)
{
	struct ec2_result bad = *res;
	char *diag;

	if (res->request_id != NULL)
		xasprintf(&diag, "%s: %s: PaginationError: %s (request id %s)", res->region, res->action,
		    message, res->request_id);
	else
		xasprintf(&diag, "%s: %s: PaginationError: %s", res->region, res->action, message);
	bad.out = jv_null();
	bad.code = "PaginationError";
	bad.message = message;
	bad.diag = diag;
	p->done(&bad, p->arg);
	free(diag);
}

static void
page_done(const struct ec2_result *res, void *arg)
{
	struct pager *p = arg;
	struct ec2_result all;
	jv token;

	if (res->code != NULL) {
		p->done(res, p->arg);
		goto out;
	}
	p->pages++;
	token = jv_object_get(jv_copy(res->out), jv_string("NextToken"));
	if (p->page != NULL)
		p->page(jv_object_delete(jv_copy(res->out), jv_string("NextToken")), p->arg);
	else
		page_concat(p, jv_object_delete(jv_copy(res->out), jv_string("NextToken")));
	if (jv_get_kind(token) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(token)) > 0) {
		if (jv_object_has(jv_copy(p->seen), jv_copy(token))) {
			jv_free(token);
			page_fail(p, res, "the endpoint sent the same NextToken twice");
			goto out;
		}
		if (p->pages >= MAX_PAGES) {
			char msg[80];

			jv_free(token);
			snprintf(msg, sizeof(msg), "more than %d pages: the endpoint does not stop paging",
			    MAX_PAGES);
			page_fail(p, res, msg);
			goto out;
		}
		p->seen = jv_object_set(p->seen, jv_copy(token), jv_true());
		ec2_submit(p->ec2, p->region, p->action,
		    jv_object_set(jv_copy(p->params), jv_string("NextToken"), token), page_done, p);
		return;
	}
	jv_free(token);
	all = *res;
	all.out = p->acc;
	p->done(&all, p->arg);
out:
	jv_free(p->acc);
	jv_free(p->seen);
	jv_free(p->params);
	free(p->region);
	free(p->action);
	free(p);
}

void
ec2_submit_pages(struct ec2 *c, const char *region, const char *action, jv params,
    void (*page)(jv, void *), void (*done)(const struct ec2_result *, void *), void *arg)
{
	struct pager *p;

	p = xcalloc(1, sizeof(*p));
	p->ec2 = c;
	p->region = region != NULL ? xstrdup(region) : NULL;
	p->action = xstrdup(action);
	p->params = params;
	p->acc = jv_object();
	p->seen = jv_object();
	p->page = page;
	p->done = done;
	p->arg = arg;
	ec2_submit(c, region, action, jv_copy(params), page_done, p);
}

void
ec2_submit_all(struct ec2 *c, const char *region, const char *action, jv params,
    void (*done)(const struct ec2_result *, void *), void *arg)
{
	ec2_submit_pages(c, region, action, params, NULL, done, arg);
}

void
ec2_run(struct ec2 *c)
{
	if (c->pool != NULL)
		http_pool_run(c->pool);
}

struct sync {
	jv		 out;
	struct ec2	*ec2;
};

static void
sync_done(const struct ec2_result *res, void *arg)
{
	struct sync *s = arg;

	free(s->ec2->lastcode);
	s->ec2->lastcode = res->code != NULL ? xstrdup(res->code) : NULL;
	if (res->code == NULL)
		s->out = jv_copy(res->out);
	else
		s->out = jv_invalid_with_msg(jv_string(res->diag));
}

jv
ec2_call(struct ec2 *c, const char *region, const char *action, jv params, const char **code)
{
	struct http_pool *saved = c->pool, *pool;
	struct sync s = { jv_invalid(), c };

	/* A call from inside a callback gets a pool of its own. */
	if (c->insync)
		pool = http_pool_new(1);
	else {
		if (c->sync == NULL)
			c->sync = http_pool_new(1);
		pool = c->sync;
	}
	c->insync++;
	c->pool = pool;
	ec2_submit(c, region, action, params, sync_done, &s);
	c->pool = saved;
	http_pool_run(pool);
	c->insync--;
	if (pool != c->sync)
		http_pool_free(pool);
	if (code != NULL)
		*code = c->lastcode;
	return s.out;
}
