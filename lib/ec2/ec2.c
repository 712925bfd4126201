/* ec2.c: calling EC2, Auto Scaling and SSM: signed requests, retries, bounded concurrency. */
#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "audit.h"
#include "awsconfig.h"
#include "awsjson.h"
#include "clock.h"
#include "creds.h"
#include "ec2.h"
#include "endpoint.h"
#include "ec2model.h"
#include "ec2query.h"
#include "ec2xml.h"
#include "http.h"
#include "ratelimit.h"
#include "retry.h"
#include "runq.h"
#include "sigv4.h"
#include "trace.h"
#include "util.h"

/* The code of a call an interrupt kept in the queue. */
#define INTERRUPTED	"Interrupted"

struct ec2 {
	char			*region;
	char			*endpoint;	/* NULL: https://ec2.REGION.amazonaws.com */
	int			 max;
	struct retry		 retry;		/* the SDKs' retry mode, for all calls */
	struct ratelimits	*limits;	/* adaptive mode: a limiter per region and action; or NULL */
	struct runq		*runq;		/* the queue of ec2_submit's calls: -P at a time */
	struct http_pool	*pool;		/* the requests of the calls started */
	struct http_pool	*sync;		/* ec2_call, which may run inside a callback */
	int			 insync;
	char			*lastcode;
	char			*nocreds;	/* why the credentials failed, as the first call said */
};

struct call {
	struct runq_task	 task;		/* its place in the queue, when it has one */
	int			 scheduled;	/* it holds a slot: ending it frees the slot */
	jv			(*build)(void *);	/* the params, made when it starts; or NULL */
	struct http_job		 job;
	struct ec2		*ec2;
	struct http_pool	*pool;
	const struct ec2_operation *op;
	char			*region;
	char			*action;	/* without its service prefix, as diagnostics name it */
	char			*url;
	char			*host;
	char			*path;
	jv			 params;	/* kept for the audit log */
	char			*akid;		/* who signed, for the audit log */
	char			*source;	/* where the credentials came from, for --debug */
	char			*body;
	size_t			 bodylen;
	char			**hdrs;		/* the signed headers of the attempt */
	int			 attempt;	/* attempts made */
	int			 cost;		/* quota taken by this call's retries */
	int			 throttles;	/* attempts throttled in adaptive mode (not counted) */
	struct ratelimit	*limit;		/* its region and action's, in adaptive mode; or NULL */
	int			 waiting;	/* its attempt waits for a token, on limit's list */
	struct call		*waitnext;
	int64_t			 not_before;	/* the attempt's start after its back-off */
	void			(*done)(const struct ec2_result *, void *);
	void			*arg;
};

/* An endpoint URL from the command line or the configuration: a usage error unless http(s). */
static void
endpoint_check(const char *endpoint)
{
	char *msg = NULL;

	if (endpoint == NULL)
		return;
	if (strncmp(endpoint, "https://", 8) != 0 && strncmp(endpoint, "http://", 7) != 0)
		usage_error("endpoint URL '%s': not http:// or https://", endpoint);
	if (http_url_private(endpoint, &msg) == -1)
		usage_error("endpoint URL: %s", msg);
}

/*
 * The endpoint configured for op's service, NULL for the default: EC2's is the client's (the
 * command line's --endpoint-url first); another service's is its own configuration's
 * (awsconfig_endpoint() of its serviceId: AWS_ENDPOINT_URL_AUTO_SCALING, AWS_ENDPOINT_URL_SSM,
 * AWS_ENDPOINT_URL, the profile's), checked as EC2's is.
 */
static const char *
endpoint_of(struct ec2 *c, const struct ec2_operation *op)
{
	const char *e;

	if (strcmp(op->service, "ec2") == 0)
		return c->endpoint;
	e = awsconfig_endpoint(op->service_id);
	endpoint_check(e);
	return e;
}

struct ec2 *
ec2_new(const char *region, const char *endpoint, int max)
{
	struct ec2 *c;
	char *msg = NULL;

	if (awsconfig_check(&msg) == -1)
		errx(EXIT_FAIL, "%s", msg);
	if (endpoint == NULL)
		endpoint = awsconfig_endpoint("EC2");
	endpoint_check(endpoint);
	c = xcalloc(1, sizeof(*c));
	if (region == NULL)
		region = awsconfig_region();
	c->region = region != NULL ? xstrdup(region) : NULL;
	c->endpoint = endpoint != NULL ? xstrdup(endpoint) : NULL;
	http_set_ca_bundle(awsconfig_ca_bundle());

	retry_init(&c->retry);
	/* Adaptive unless the configuration says otherwise: see ec2.h. */
	if (c->retry.mode == RETRY_MODE_DEFAULT || c->retry.mode == RETRY_MODE_ADAPTIVE)
		c->limits = ratelimits_new();
	c->max = max > 0 ? max : 1;
	c->runq = runq_new(c->max);
	return c;
}

void
ec2_free(struct ec2 *c)
{
	if (c == NULL)
		return;
	runq_free(c->runq);
	ratelimits_free(c->limits);
	http_pool_free(c->pool);
	http_pool_free(c->sync);
	free(c->region);
	free(c->endpoint);
	free(c->lastcode);
	free(c->nocreds);
	free(c);
}

const char *
ec2_region(struct ec2 *c)
{
	return c->region;
}

static void	attempt(struct call *);
static void	finished(struct http_job *, void *);
static void	unwait(struct call *);

/* The rate limiters' clock: seconds on the monotonic clock. */
static double
now_s(void)
{
	return (double)clock_ms() / 1000;
}

static void
call_free(struct call *k)
{
	if (k->waiting)
		unwait(k);
	sigv4_lines_free(k->hdrs);
	http_response_free(&k->job.resp);
	free(k->region);
	free(k->action);
	free(k->url);
	free(k->host);
	free(k->path);
	free(k->body);
	free(k->akid);
	free(k->source);
	jv_free(k->params);
	free(k);
}

/* A mutating call has ended: log it before anyone acts on the result. */
static int
mutating(const char *action)
{
	return strncmp(action, "Describe", 8) != 0 && strncmp(action, "Get", 3) != 0;
}

/*
 * Hands res to the caller, after the audit log has it (when a request went out), and frees k and
 * then its slot in the queue, so that the caller sees the answer before the next call starts.
 */
static void
complete(struct call *k, struct ec2_result *res)
{
	struct ec2 *c = k->ec2;
	int scheduled = k->scheduled;

	if (audit_enabled() && mutating(k->action) && k->attempt > 0)
		audit_call(k->op->service, k->region, k->action, k->params, res->out, res->code,
		    res->message, res->request_id, k->akid, k->attempt);
	k->done(res, k->arg);
	call_free(k);
	if (scheduled)
		runq_end(c->runq);
}

/* The result of a call that sent no request; free it with early_free(). */
static void
early_result(struct ec2_result *res, const char *region, const char *action, const char *code,
    const char *message)
{
	char *diag, *line;

	/* A credential_process's stderr may span lines. */
	line = one_line(xstrdup(message));
	/* A region that is no region name is not echoed: it may hold anything. */
	xasprintf(&diag, "%s: %s: %s: %s", region != NULL && aws_region_valid(region) ? region :
	    "-", action, code, line);
	memset(res, 0, sizeof(*res));
	res->out = jv_null();
	res->region = region;
	res->action = action;
	res->code = code;
	res->message = line;
	res->diag = diag;
}

static void
early_free(struct ec2_result *res)
{
	free((char *)res->diag);
	free((char *)res->message);
}

/* Reports a failure that happened before any request was sent. */
static void
fail_early(struct call *k, const char *code, const char *message)
{
	struct ec2_result res;

	early_result(&res, k->region, k->action, code, message);
	complete(k, &res);
	early_free(&res);
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

/*
 * A call of action in region (NULL: the client's) with params (consumed; NULL with build, which
 * makes them when the call starts). Returns NULL when the call cannot be made at all (no region,
 * a region that is no region name, an endpoint that cannot be parsed): done has then run with
 * the error, and nothing was sent.
 */
static struct call *
call_new(struct ec2 *c, struct http_pool *pool, const char *region, const char *action,
    jv params, jv (*build)(void *), void (*done)(const struct ec2_result *, void *), void *arg)
{
	struct call *k;
	const char *name;
	char *url, *service;

	k = xcalloc(1, sizeof(*k));
	k->ec2 = c;
	k->pool = pool;
	k->done = done;
	k->arg = arg;
	k->build = build;
	k->params = params;
	/* "ssm:GetParameters": the service's prefix (the model's endpointPrefix); none is EC2. */
	if ((name = strchr(action, ':')) != NULL) {
		service = xstrndup(action, (size_t)(name - action));
		name++;
	} else {
		service = xstrdup("ec2");
		name = action;
	}
	k->action = xstrdup(name);
	if ((k->op = ec2model_operation(service, name)) == NULL)
		errx(EXIT_FAIL, "%s: no such operation in the %s model", name, service);
	free(service);
	if (region == NULL)
		region = c->region;
	if (region == NULL) {
		fail_early(k, "NoRegion", "no region: use --region, AWS_REGION or a profile's region");
		return NULL;
	}
	k->region = xstrdup(region);
	if ((url = aws_service_url(k->op->service, region, endpoint_of(c, k->op))) == NULL) {
		fail_early(k, "InvalidRegion", "not a region name: nothing sent");
		return NULL;
	}
	if (endpoint_parts(k, url) == -1) {
		free(url);
		fail_early(k, "InvalidEndpoint", "the endpoint URL cannot be parsed");
		return NULL;
	}
	free(url);
	if (c->limits != NULL)
		k->limit = ratelimits_get(c->limits, k->region, action, now_s());
	k->job.done = finished;
	k->job.arg = k;
	return k;
}

/* Sends k's first attempt: its body from its params (made now, with build). */
static void
call_begin(struct call *k)
{
	char *msg = NULL;

	if (k->build != NULL) {
		jv_free(k->params);
		k->params = k->build(k->arg);
	}
	/* The serialisers consume what they are given; k keeps params for the audit log. */
	if (k->op->protocol == EC2_PROTO_JSON)
		k->body = awsjson_body(k->op, jv_copy(k->params), &msg);
	else
		k->body = ec2query_body(k->op, jv_copy(k->params), &msg);
	if (k->body == NULL) {
		fail_early(k, "InvalidParameter", msg);
		free(msg);
		return;
	}
	k->bodylen = strlen(k->body);
	attempt(k);
}

static void
call_start(struct runq_task *t)
{
	call_begin((struct call *)t);
}

/* The call was never sent: an interrupt came while it waited in the queue. */
static void
call_interrupted(struct runq_task *t)
{
	struct call *k = (struct call *)t;

	k->scheduled = 0;
	fail_early(k, INTERRUPTED, "not sent: interrupted");
}

/* Queues k behind gate (or none): it starts when a slot is free and the gate is open. */
static void
call_queue(struct ec2 *c, struct call *k, struct runq_gate *gate)
{
	k->scheduled = 1;
	k->task.start = call_start;
	k->task.interrupted = call_interrupted;
	k->task.gate = gate;
	runq_add(c->runq, &k->task);
}

static struct http_pool *
pool_of(struct ec2 *c)
{
	/* The queue bounds the calls in flight: the pool runs what it is given. */
	if (c->pool == NULL)
		c->pool = http_pool_new(c->max);
	return c->pool;
}

void
ec2_submit(struct ec2 *c, const char *region, const char *action, jv params,
    void (*done)(const struct ec2_result *, void *), void *arg)
{
	struct call *k;

	if ((k = call_new(c, pool_of(c), region, action, params, NULL, done, arg)) != NULL)
		call_queue(c, k, NULL);
}

void
ec2_submit_behind(struct ec2 *c, struct runq_gate *gate, const char *region,
    const char *action, jv (*params)(void *), void (*done)(const struct ec2_result *, void *),
    void *arg)
{
	struct call *k;

	if ((k = call_new(c, pool_of(c), region, action, jv_null(), params, done, arg)) != NULL)
		call_queue(c, k, gate);
}

int
ec2_interrupted(const char *code)
{
	return code != NULL && strcmp(code, INTERRUPTED) == 0;
}

void
ec2_finish_queued(struct ec2 *c)
{
	runq_finish_queued(c->runq);
}

void
ec2_open(struct ec2 *c, struct runq_gate *gate)
{
	runq_open(c->runq, gate);
}

/*
 * Adaptive mode: the attempt waits for its limiter's token, on the pool's timer (start_ms), after
 * its back-off if it has one. It keeps its slot in the queue meanwhile, as an SDK's thread
 * blocked in its limiter does; the event loop and the calls of other regions and actions go on.
 */
static void
pace(struct call *k)
{
	struct call **p;
	double wait;
	int64_t now, at;

	if (k->limit == NULL)
		return;
	k->not_before = k->job.start_ms;
	if ((wait = ratelimit_acquire(k->limit, now_s())) <= 0)
		return;
	now = clock_ms();
	at = now + (int64_t)ceil(wait * 1000);
	if (k->job.start_ms < at)
		k->job.start_ms = at;
	for (p = (struct call **)&k->limit->waiting; *p != NULL; p = &(*p)->waitnext)
		;
	*p = k;
	k->waitnext = NULL;
	k->waiting = 1;
	trace_pace(&k->job.req, k->attempt, k->job.start_ms - now, k->limit->bucket.fill_rate);
}

/* k's attempt no longer waits for a token: off its limiter's list. */
static void
unwait(struct call *k)
{
	struct call **p;

	if (!k->waiting)
		return;
	for (p = (struct call **)&k->limit->waiting; *p != NULL; p = &(*p)->waitnext)
		if (*p == k) {
			*p = k->waitnext;
			break;
		}
	k->waiting = 0;
}

/*
 * The limiter l's rate has changed: the attempts still waiting for their tokens start when the
 * tokens come at the new rate, each in its turn (the pool reads start_ms until it starts them).
 */
static void
repace(struct ratelimit *l)
{
	struct call **p, *k;
	double avail, need;
	int64_t now = clock_ms(), at;
	int n = 0;

	for (p = (struct call **)&l->waiting; (k = *p) != NULL;)
		if (k->job.start_ms <= now) {
			*p = k->waitnext;
			k->waiting = 0;
		} else {
			p = &k->waitnext;
			n++;
		}
	if (n == 0)
		return;
	/* The tokens there are for the waiting attempts, which took theirs into debt. */
	avail = token_bucket_level(&l->bucket, (double)now / 1000) + n;
	n = 0;
	for (k = l->waiting; k != NULL; k = k->waitnext) {
		need = ++n - avail;
		at = now + (need > 0 ? (int64_t)ceil(need / l->bucket.fill_rate * 1000) : 0);
		k->job.start_ms = at > k->not_before ? at : k->not_before;
	}
}

/* Adaptive mode: an attempt's outcome sets its limiter's rate. */
static void
paced(struct call *k, enum retry_kind kind)
{
	if (k->limit == NULL)
		return;
	unwait(k);
	ratelimit_response(k->limit, kind == RETRY_THROTTLE, now_s());
	repace(k->limit);
}

/* Signs and queues the next attempt of k. */
static void
attempt(struct call *k)
{
	const struct aws_creds *cr;
	char *errmsg = NULL;

	if ((cr = creds_get(k->region, &errmsg)) == NULL) {
		/*
		 * The reason names every source tried (a few hundred characters): one call says it,
		 * the others that fail the same way say only that they did (they may end first).
		 */
		struct ec2 *c = k->ec2;	/* fail_early() frees k */

		if (errmsg == NULL)
			errmsg = xstrdup("no credentials");
		if (c->nocreds != NULL && strcmp(c->nocreds, errmsg) == 0) {
			free(errmsg);
			fail_early(k, "NoCredentials",
			    "no credentials (the sources tried are listed once, in another error)");
		} else {
			free(c->nocreds);
			c->nocreds = xstrdup(errmsg);
			fail_early(k, "NoCredentials", errmsg);
			free(errmsg);
		}
		return;
	}
	k->attempt++;
	free(k->akid);
	k->akid = xstrdup(cr->access_key_id);
	free(k->source);
	k->source = xstrdup(cr->source);
	sigv4_lines_free(k->hdrs);
	if (k->op->protocol == EC2_PROTO_JSON)
		k->hdrs = sigv4_post_lines(k->host, k->path, k->op->content_type, k->op->target,
		    k->body, k->region, k->op->signing_name, time(NULL), cr->access_key_id,
		    cr->secret_access_key, cr->session_token);
	else
		k->hdrs = sigv4_query_lines(k->host, k->path, k->body, k->region,
		    k->op->signing_name, time(NULL), cr->access_key_id, cr->secret_access_key,
		    cr->session_token);

	k->job.req.method = "POST";
	k->job.req.url = k->url;
	k->job.req.headers = (const char *const *)k->hdrs;
	k->job.req.body = k->body;
	k->job.req.bodylen = k->bodylen;
	pace(k);
	http_pool_add(k->pool, &k->job);
}

/*
 * Queues another attempt after the SDKs' back-off, if the outcome, attempts and quota allow.
 * Either way the attempt that failed gets its --debug line (code and reqid as it answered).
 */
static int
retry(struct call *k, enum retry_kind kind, const char *code, const char *reqid)
{
	int64_t delay;

	paced(k, kind);
	if (kind == RETRY_THROTTLE && k->limit != NULL)
		delay = retry_next_paced(&k->ec2->retry, ++k->throttles);
	else
		delay = retry_next(&k->ec2->retry, k->attempt - k->throttles, kind, &k->cost);
	trace_attempt(&k->job.req, &k->job.resp, k->attempt, delay < 0 ? RETRY_NO : kind, code, reqid,
	    k->source);
	if (delay < 0)
		return 0;
	http_response_free(&k->job.resp);
	k->job.start_ms = clock_ms() + delay;
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
		if (retry(k, retry_classify(job->rc, r, NULL), NULL, NULL))
			return;
		code = xstrdup(r->toolarge ? "ResponseTooLarge" : "RequestError");
		message = xstrdup(r->error);
	} else if (r->status == 200) {
		paced(k, RETRY_NO);
		if (k->op->protocol == EC2_PROTO_JSON)
			out = awsjson_parse(k->op, r->body, r->len);
		else
			out = ec2xml_parse(k->op, r->body, r->len, &reqid);
		trace_attempt(&job->req, r, k->attempt, RETRY_NO, NULL, reqid, k->source);
		if (!jv_is_valid(out)) {
			jv m = jv_invalid_get_msg(out);

			code = xstrdup("MalformedResponse");
			message = xstrdup(jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) :
			    "the response cannot be parsed");
			jv_free(m);
			out = jv_null();
		}
	} else {
		if ((k->op->protocol == EC2_PROTO_JSON ?
		    awsjson_error(r->body, r->len, r->error_type, &code, &message) :
		    ec2xml_error(r->body, r->len, &code, &message, &reqid)) == -1) {
			snprintf(status, sizeof(status), "HTTP%ld", r->status);
			code = xstrdup(status);
			xasprintf(&message, "HTTP status %ld without an %s error", r->status,
			    k->op->service_id);
		} else if (message == NULL)
			message = xstrdup("(no message)");
		if (retry(k, retry_classify(job->rc, r, code), code, reqid)) {
			free(code);
			free(message);
			free(reqid);
			return;
		}
	}
	if (code == NULL)
		retry_success(&c->retry, k->cost);
	if (reqid == NULL && r->request_id != NULL)
		reqid = xstrdup(r->request_id);
	/* Parsed: the body goes before the callbacks build on the output (and ask for the next page). */
	http_response_free(r);
	/* What the server sent ("&#10;" in a Message is a newline) stays on the diagnostic's line. */
	one_line(code);
	one_line(message);
	one_line(reqid);
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

/* MAX_PAGES, or fewer with AMICYCLE_MAX_PAGES: the tests page an endless listing that far. */
static int
max_pages(void)
{
	static int n;
	const char *v;

	if (n == 0)
		n = (v = env("AMICYCLE_MAX_PAGES")) != NULL ?
		    (int)parse_num(v, 1, MAX_PAGES, "AMICYCLE_MAX_PAGES") : MAX_PAGES;
	return n;
}

/* A listing: one slot in the queue for all its pages, so that an interrupt never cuts it short. */
struct pager {
	struct runq_task task;
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

static void	page_done(const struct ec2_result *, void *);

/* Asks for the page params (consumed) name. */
static void
page(struct pager *p, jv params)
{
	struct call *k;

	k = call_new(p->ec2, pool_of(p->ec2), p->region, p->action, params, NULL, page_done, p);
	if (k != NULL)
		call_begin(k);
}

static void
pager_free(struct pager *p)
{
	jv_free(p->acc);
	jv_free(p->seen);
	jv_free(p->params);
	free(p->region);
	free(p->action);
	free(p);
}

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
	struct runq *runq = p->ec2->runq;
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
		if (p->pages >= max_pages()) {
			char msg[80];

			jv_free(token);
			snprintf(msg, sizeof(msg), "more than %d pages: the endpoint does not stop paging",
			    max_pages());
			page_fail(p, res, msg);
			goto out;
		}
		p->seen = jv_object_set(p->seen, jv_copy(token), jv_true());
		page(p, jv_object_set(jv_copy(p->params), jv_string("NextToken"), token));
		return;
	}
	jv_free(token);
	all = *res;
	all.out = p->acc;
	p->acc = jv_null();
	p->done(&all, p->arg);
	jv_free(all.out);
out:
	pager_free(p);
	runq_end(runq);
}

static void
pager_start(struct runq_task *t)
{
	struct pager *p = (struct pager *)t;

	page(p, jv_copy(p->params));
}

static void
pager_interrupted(struct runq_task *t)
{
	struct pager *p = (struct pager *)t;
	struct ec2_result res;

	early_result(&res, p->region != NULL ? p->region : p->ec2->region, p->action,
	    INTERRUPTED, "not sent: interrupted");
	p->done(&res, p->arg);
	early_free(&res);
	pager_free(p);
}

void
ec2_submit_pages(struct ec2 *c, const char *region, const char *action, jv params,
    void (*pagefn)(jv, void *), void (*done)(const struct ec2_result *, void *), void *arg)
{
	struct pager *p;

	p = xcalloc(1, sizeof(*p));
	p->ec2 = c;
	p->region = region != NULL ? xstrdup(region) : NULL;
	p->action = xstrdup(action);
	p->params = params;
	p->acc = jv_object();
	p->seen = jv_object();
	p->page = pagefn;
	p->done = done;
	p->arg = arg;
	p->task.start = pager_start;
	p->task.interrupted = pager_interrupted;
	runq_add(c->runq, &p->task);
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
	runq_pump(c->runq);
	if (c->pool != NULL)
		http_pool_run(c->pool);
	/* Only a gate never opened leaves calls queued with nothing running. */
	if (runq_queued(c->runq) > 0)
		errx(EXIT_FAIL, "internal error: %d calls wait behind a gate never opened",
		    runq_queued(c->runq));
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
	struct http_pool *pool;
	struct sync s = { jv_invalid(), c };
	struct call *k;

	/* A call from inside a callback gets a pool of its own. */
	if (c->insync)
		pool = http_pool_new(1);
	else {
		if (c->sync == NULL)
			c->sync = http_pool_new(1);
		pool = c->sync;
	}
	/* Not queued: a synchronous call runs now, in its caller's slot. */
	c->insync++;
	if ((k = call_new(c, pool, region, action, params, NULL, sync_done, &s)) != NULL)
		call_begin(k);
	http_pool_run(pool);
	c->insync--;
	if (pool != c->sync)
		http_pool_free(pool);
	if (code != NULL)
		*code = c->lastcode;
	return s.out;
}
