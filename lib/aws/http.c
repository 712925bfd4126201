/* http.c: HTTP over libcurl: reused connections, timeouts, curl's proxy variables, TLS always verified. */
#include <err.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sys/socket.h>

#include <arpa/inet.h>

#include <curl/curl.h>

#include "clock.h"
#include "http.h"
#include "util.h"

/* Bytes allocated for response bodies, every response's cap (atomic: ssh-probe's threads). */
static _Atomic size_t	 held;
static char	*cabundle;
static CURL	*sync_easy;

struct http_pool {
	CURLM		*multi;
	int		 running;
	struct http_job	*waiting;
};

static void
init(void)
{
	static int done;

	if (done)
		return;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		errx(EXIT_FAIL, "curl_global_init failed");
	done = 1;
}

void
http_set_ca_bundle(const char *path)
{
	free(cabundle);
	cabundle = path != NULL && *path != '\0' ? xstrdup(path) : NULL;
}

/* Takes what growing a body from old to cap bytes adds to held; 0, or -1 past HTTP_MAX_HELD. */
static int
hold(size_t old, size_t cap)
{
	size_t now = atomic_load(&held);

	do {
		if (now - old + cap > HTTP_MAX_HELD)
			return -1;
	} while (!atomic_compare_exchange_weak(&held, &now, now - old + cap));
	return 0;
}

/*
 * Appends to the body, doubling its buffer rather than growing it by each chunk, within what
 * HTTP_MAX_HELD leaves to all responses together.
 */
static size_t
write_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_response *r = arg;
	size_t len = size * n, want = r->len + len + 1, cap;

	if (want > r->cap) {
		for (cap = r->cap > 0 ? r->cap : 16384; cap < want && cap <= HTTP_MAX_HELD; cap *= 2)
			;
		if (hold(r->cap, cap) == -1 && hold(r->cap, cap = want) == -1) {
			r->toolarge = want > HTTP_MAX_HELD ? 1 : 2;
			return 0;
		}
		r->body = xrealloc(r->body, cap);
		r->cap = cap;
	}
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static size_t
write_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_response *r = arg;
	size_t len = size * n, k;
	static const char *const names[] = {
		"x-amzn-requestid:", "x-amz-request-id:", "x-amzn-errortype:"
	};

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		size_t nl = strlen(names[k]);
		const char *v, *e;
		char **to = k < 2 ? &r->request_id : &r->error_type;

		if (len <= nl || strncasecmp(p, names[k], nl) != 0)
			continue;
		for (v = p + nl; v < p + len && (*v == ' ' || *v == '\t'); v++)
			;
		for (e = p + len; e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '); e--)
			;
		free(*to);
		*to = xstrndup(v, e - v);
	}
	return len;
}

/* curl's socket, close-on-exec: a credential_process or ssh the filter starts must not hold it. */
static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)arg;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* HTTP_TIMEOUT_MS, or AMICYCLE_HTTP_TIMEOUT_MS: tests of endpoints that never finish lower it. */
static long
timeout_ms(void)
{
	static long ms;
	const char *v;

	if (ms == 0)
		ms = (v = getenv("AMICYCLE_HTTP_TIMEOUT_MS")) != NULL && *v != '\0' ?
		    (long)parse_num(v, 1, 3600000, "AMICYCLE_HTTP_TIMEOUT_MS") : HTTP_TIMEOUT_MS;
	return ms;
}

/* Prepares easy for req, writing into resp; returns the header list to free afterwards. */
static struct curl_slist *
setup(CURL *easy, const struct http_request *req, struct http_response *resp)
{
	struct curl_slist *hdrs = NULL, *h;
	const char *const *hp;

	memset(resp, 0, sizeof(*resp));
	resp->body = xcalloc(1, 1);
	for (hp = req->headers; hp != NULL && *hp != NULL; hp++) {
		if ((h = curl_slist_append(hdrs, *hp)) == NULL)
			errx(EXIT_FAIL, "curl_slist_append failed");
		hdrs = h;
	}
	/* No "Expect: 100-continue" round trip for large form bodies. */
	if ((h = curl_slist_append(hdrs, "Expect:")) == NULL)
		errx(EXIT_FAIL, "curl_slist_append failed");
	hdrs = h;

	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, resp->error);
	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(easy, CURLOPT_CAINFO, cabundle);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : timeout_ms());
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, write_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "amicycle/" AMICYCLE_VERSION);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	if (req->no_proxy)
		curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
	if (strcmp(req->method, "POST") == 0 || req->body != NULL) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->bodylen);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
	}
	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	else if (strcmp(req->method, "POST") != 0)
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	return hdrs;
}

/* Records the outcome of a finished transfer in resp; returns 0 if a response arrived. */
static int
finish(CURL *easy, CURLcode rc, struct http_response *resp)
{
	curl_off_t us = 0;
	long status = 0;

	if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
		resp->ms = (int64_t)(us / 1000);

	if (rc != CURLE_OK && resp->toolarge) {
		resp->status = 0;
		snprintf(resp->error, sizeof(resp->error), resp->toolarge == 1 ?
		    "response larger than " HTTP_MAX_HELD_TEXT :
		    "response larger than what is left of " HTTP_MAX_HELD_TEXT " for all responses at once");
		return -1;
	}
	if (rc != CURLE_OK) {
		resp->status = 0;
		/* curl's error buffer has the detail ("transfer closed with 812 bytes remaining"). */
		if (resp->error[0] == '\0')
			snprintf(resp->error, sizeof(resp->error), "%s", curl_easy_strerror(rc));
		if (rc == CURLE_PARTIAL_FILE) {
			static const char cut[] = "response cut short: ";
			size_t n = sizeof(cut) - 1;

			memmove(resp->error + n, resp->error, sizeof(resp->error) - n - 1);
			memcpy(resp->error, cut, n);
			resp->error[sizeof(resp->error) - 1] = '\0';
		}
		resp->timedout = rc == CURLE_OPERATION_TIMEDOUT;
		switch (rc) {
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			resp->transient = 1;
			break;
		default:
			break;
		}
		return -1;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status;
	return 0;
}

int
http_do(const struct http_request *req, struct http_response *resp)
{
	struct curl_slist *hdrs;
	CURLcode rc;
	int ret;

	init();
	if (sync_easy == NULL && (sync_easy = curl_easy_init()) == NULL)
		errx(EXIT_FAIL, "curl_easy_init failed");
	curl_easy_reset(sync_easy);
	hdrs = setup(sync_easy, req, resp);
	rc = curl_easy_perform(sync_easy);
	ret = finish(sync_easy, rc, resp);
	curl_slist_free_all(hdrs);
	return ret;
}

void
http_response_free(struct http_response *r)
{
	free(r->body);
	free(r->request_id);
	free(r->error_type);
	atomic_fetch_sub(&held, r->cap);
	r->body = NULL;
	r->request_id = NULL;
	r->error_type = NULL;
	r->len = r->cap = 0;
}

struct http_pool *
http_pool_new(int conns)
{
	struct http_pool *p;

	init();
	p = xcalloc(1, sizeof(*p));
	if ((p->multi = curl_multi_init()) == NULL)
		errx(EXIT_FAIL, "curl_multi_init failed");
	/* The callers bound what runs at once; keep a connection for each, per host. */
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)(conns > 0 ? conns : 1) * 4);
	return p;
}

void
http_pool_add(struct http_pool *p, struct http_job *job)
{
	struct http_job **jp;

	/* First in, first out: the order the callers gave is the order requests go. */
	for (jp = &p->waiting; *jp != NULL; jp = &(*jp)->next)
		;
	job->next = NULL;
	*jp = job;
}

/* Starts waiting jobs whose time has come, while there is room; returns ms until the next one. */
static long
start_due(struct http_pool *p)
{
	struct http_job **jp, *job;
	int64_t now = clock_ms(), wait = -1;

	for (jp = &p->waiting; *jp != NULL;) {
		job = *jp;
		if (job->start_ms > now) {
			if (wait < 0 || job->start_ms - now < wait)
				wait = job->start_ms - now;
			jp = &job->next;
			continue;
		}
		*jp = job->next;
		job->next = NULL;
		if ((job->easy = curl_easy_init()) == NULL)
			errx(EXIT_FAIL, "curl_easy_init failed");
		job->hdrs = setup(job->easy, &job->req, &job->resp);
		curl_easy_setopt(job->easy, CURLOPT_PRIVATE, job);
		curl_multi_add_handle(p->multi, job->easy);
		p->running++;
	}
	return wait < 0 ? 1000 : (long)wait;
}

void
http_pool_run(struct http_pool *p)
{
	struct http_job *job;
	CURLMsg *msg;
	int still, left, ended;
	long wait;

	for (;;) {
		wait = start_due(p);
		if (p->running == 0 && p->waiting == NULL)
			break;
		curl_multi_perform(p->multi, &still);
		ended = 0;
		while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&job);
			job->rc = finish(job->easy, msg->data.result, &job->resp);
			curl_multi_remove_handle(p->multi, job->easy);
			curl_easy_cleanup(job->easy);
			curl_slist_free_all(job->hdrs);
			job->easy = job->hdrs = NULL;
			p->running--;
			job->done(job, job->arg);
			ended = 1;
		}
		/* A callback may have queued the next job (a next page): start it before waiting. */
		if (ended)
			continue;
		if (p->running > 0 || p->waiting != NULL) {
			if (p->running > 0 && wait > 100)
				wait = 100;
			curl_multi_poll(p->multi, NULL, 0, (int)wait, NULL);
		}
	}
}

void
http_pool_free(struct http_pool *p)
{
	if (p == NULL)
		return;
	curl_multi_cleanup(p->multi);
	free(p);
}

int
http_url_split(const char *url, char **scheme, char **host, char **path)
{
	const char *h, *p;

	if (strncasecmp(url, "https://", 8) == 0)
		h = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		h = url + 7;
	else
		return -1;
	p = h + strcspn(h, "/?#");
	/* No user@ before the host: it would hide where the request really goes. */
	if (p == h || *p == '?' || *p == '#' || memchr(h, '@', p - h) != NULL)
		return -1;
	*scheme = xstrndup(url, h - 3 - url);
	*host = xstrndup(h, p - h);
	*path = xstrdup(*p == '/' ? p : "/");
	return 0;
}

int
http_host_loopback(const char *host, const char *const *also)
{
	const char *name = host, *rest;
	char buf[64];
	struct in_addr a;
	struct in6_addr a6;
	size_t n;

	if (*host == '[') {
		name = host + 1;
		if ((rest = strchr(name, ']')) == NULL)
			return 0;
		n = rest++ - name;
	} else {
		n = strcspn(host, ":");
		rest = host + n;
	}
	if ((*rest != '\0' && *rest != ':') || strspn(rest + (*rest == ':'), "0123456789") !=
	    strlen(rest + (*rest == ':')) || n >= sizeof(buf))
		return 0;
	memcpy(buf, name, n);
	buf[n] = '\0';
	if (strcasecmp(buf, "localhost") == 0)
		return 1;
	for (; also != NULL && *also != NULL; also++)
		if (strcasecmp(buf, *also) == 0)
			return 1;
	if (inet_pton(AF_INET, buf, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return *host == '[' && inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int
http_url_private(const char *url, char **why)
{
	char *scheme, *host, *path;
	int ret = 0;

	if (strncasecmp(url, "https://", 8) == 0)
		return 0;
	if (http_url_split(url, &scheme, &host, &path) == -1) {
		xasprintf(why, "not an http(s) URL without user@");
		return -1;
	}
	if (!http_host_loopback(host, NULL)) {
		xasprintf(why, "http:// to %s: plain http is only allowed to a loopback address "
		    "(127.0.0.0/8, ::1, localhost); use https://", host);
		ret = -1;
	}
	free(scheme);
	free(host);
	free(path);
	return ret;
}
