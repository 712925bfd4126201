/* creds.c: AWS credentials from the environment, web identity, profiles, containers and IMDS. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <expat.h>
#include <jv.h>

#include "awsconfig.h"
#include "creds.h"
#include "http.h"
#include "sigv4.h"
#include "timefmt.h"
#include "util.h"

extern char **environ;

#define STS_VERSION		"2011-06-15"
#define STS_TIMEOUT_MS		30000
#define CONTAINER_HOST		"http://169.254.170.2"
#define CONTAINER_TIMEOUT_MS	5000
#define IMDS_HOST		"http://169.254.169.254"
#define IMDS_HOST6		"http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL		"21600"
/* A machine without IMDS must not wait long for the token: that is the first contact. */
#define IMDS_TOKEN_TIMEOUT_MS	1000
#define IMDS_TIMEOUT_MS		2000
#define REFRESH_MAX		300
#define REFRESH_RETRY		10
#define MAX_DOCUMENT		(1 << 20)
#define MAX_CHAIN		5

/* Credentials being found, with what they came from. */
struct held {
	struct aws_creds	 c;
	char			*source;	/* c.source points here */
	int64_t			 fetched;
};

/* One walk of the provider chain. */
struct chain {
	const char	*region;	/* STS's */
	char		*tried;		/* "SOURCE (why not), ..." */
};

static struct held	current;
static int		have;
static int64_t		retry_at;	/* after a failed refresh, not before this */

static void
wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* http_response_free() for a response that may hold credentials. */
static void
response_wipe(struct http_response *r)
{
	if (r->body != NULL)
		explicit_bzero(r->body, r->len);
	http_response_free(r);
}

static void
held_clear(struct held *h)
{
	wipe(h->c.access_key_id);
	wipe(h->c.secret_access_key);
	wipe(h->c.session_token);
	free(h->source);
	memset(h, 0, sizeof(*h));
}

static void
held_set(struct held *h, const char *source, const char *akid, const char *secret,
    const char *token, int64_t expiration)
{
	held_clear(h);
	h->source = xstrdup(source);
	h->c.source = h->source;
	h->c.access_key_id = xstrdup(akid);
	h->c.secret_access_key = xstrdup(secret);
	h->c.session_token = token != NULL && *token != '\0' ? xstrdup(token) : NULL;
	h->c.expiration = expiration;
	h->fetched = time(NULL);
}

static void
tried(struct chain *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
tried(struct chain *ch, const char *fmt, ...)
{
	va_list ap;
	char *s, *t;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		errx(EXIT_FAIL, "vasprintf");
	va_end(ap);
	if (ch->tried == NULL) {
		ch->tried = s;
		return;
	}
	xasprintf(&t, "%s, %s", ch->tried, s);
	free(ch->tried);
	free(s);
	ch->tried = t;
}

static int
fail(char **errmsg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(char **errmsg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(errmsg, fmt, ap) < 0)
		errx(EXIT_FAIL, "vasprintf");
	va_end(ap);
	return -1;
}

/* Reads a small file (a token) whole, without trailing white space; NULL with errno on failure. */
static char *
slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *fp;
	int saved;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len - 1, fp);
		len += n;
		if (n == 0 || len > MAX_DOCUMENT)
			break;
	}
	if (ferror(fp) || len > MAX_DOCUMENT) {
		saved = ferror(fp) ? errno : EFBIG;
		fclose(fp);
		explicit_bzero(buf, cap);
		free(buf);
		errno = saved;
		return NULL;
	}
	fclose(fp);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
	    buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	return buf;
}

/* Splits an http(s) URL into scheme, host[:port] and path ("/" if none); -1 if it is not one. */
static int
url_split(const char *url, char **scheme, char **host, char **path)
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

/* Appends name=value, form-encoded, to *body. */
static void
form_add(char **body, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t old = *body != NULL ? strlen(*body) : 0, i;
	char *p;

	*body = xrealloc(*body, old + 2 + strlen(name) + 3 * strlen(value) + 1);
	p = *body + old;
	if (old > 0)
		*p++ = '&';
	p = stpcpy(p, name);
	*p++ = '=';
	for (i = 0; value[i] != '\0'; i++) {
		unsigned char c = value[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*p++ = c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
}

static int
parse_expiration(const char *s, int64_t *sec)
{
	struct instant t;

	if (rfc3339_parse(s, strlen(s), &t) == -1)
		return -1;
	*sec = t.sec;
	return 0;
}

/* --- STS responses: the Credentials or the Error, nothing more. --- */

struct stsxml {
	char	*stack[8];	/* the open elements' names; deeper ones are not kept */
	int	 depth;
	char	*text;
	size_t	 len, cap;
	char	*akid, *secret, *token, *expiration, *code, *message, *requestid;
};

static void XMLCALL
xml_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct stsxml *x = arg;

	(void)attrs;
	if (x->depth < (int)(sizeof(x->stack) / sizeof(x->stack[0])))
		x->stack[x->depth] = xstrdup(name);
	x->depth++;
	x->len = 0;
}

static void XMLCALL
xml_text(void *arg, const XML_Char *s, int len)
{
	struct stsxml *x = arg;

	if (x->len + len + 1 > x->cap) {
		size_t cap = (x->len + len + 1) * 2;
		char *t = xmalloc(cap);

		/* Not realloc: the text may be a secret, and the old buffer is wiped. */
		if (x->text != NULL) {
			memcpy(t, x->text, x->len);
			explicit_bzero(x->text, x->cap);
			free(x->text);
		}
		x->text = t;
		x->cap = cap;
	}
	memcpy(x->text + x->len, s, len);
	x->len += len;
	x->text[x->len] = '\0';
}

static void XMLCALL
xml_end(void *arg, const XML_Char *name)
{
	struct stsxml *x = arg;
	const char *parent;
	char **slot = NULL;

	x->depth--;
	if (x->depth >= (int)(sizeof(x->stack) / sizeof(x->stack[0])))
		return;
	parent = x->depth > 0 && x->depth - 1 < (int)(sizeof(x->stack) / sizeof(x->stack[0])) ?
	    x->stack[x->depth - 1] : "";
	if (strcmp(parent, "Credentials") == 0) {
		if (strcmp(name, "AccessKeyId") == 0)
			slot = &x->akid;
		else if (strcmp(name, "SecretAccessKey") == 0)
			slot = &x->secret;
		else if (strcmp(name, "SessionToken") == 0)
			slot = &x->token;
		else if (strcmp(name, "Expiration") == 0)
			slot = &x->expiration;
	} else if (strcmp(parent, "Error") == 0) {
		if (strcmp(name, "Code") == 0)
			slot = &x->code;
		else if (strcmp(name, "Message") == 0)
			slot = &x->message;
	} else if (strcmp(name, "RequestId") == 0) {
		slot = &x->requestid;
	}
	if (slot != NULL && *slot == NULL)
		*slot = xstrndup(x->text != NULL ? x->text : "", x->len);
	free(x->stack[x->depth]);
	x->stack[x->depth] = NULL;
	x->len = 0;
}

static void
stsxml_free(struct stsxml *x)
{
	size_t i;

	for (i = 0; i < sizeof(x->stack) / sizeof(x->stack[0]); i++)
		free(x->stack[i]);
	if (x->text != NULL)
		explicit_bzero(x->text, x->cap);
	free(x->text);
	free(x->akid);
	wipe(x->secret);
	wipe(x->token);
	free(x->expiration);
	free(x->code);
	free(x->message);
	free(x->requestid);
}

/* Parses an STS response body into x; 0, or -1 if it is not well-formed XML. */
static int
stsxml_parse(struct stsxml *x, const char *body, size_t len)
{
	XML_Parser p;
	int ok;

	memset(x, 0, sizeof(*x));
	if ((p = XML_ParserCreate("UTF-8")) == NULL)
		errx(EXIT_FAIL, "XML_ParserCreate failed");
	XML_SetUserData(p, x);
	XML_SetElementHandler(p, xml_start, xml_end);
	XML_SetCharacterDataHandler(p, xml_text);
	ok = XML_Parse(p, body, (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok ? 0 : -1;
}

/* The message and text of an error response, trimmed to one line. */
static void
one_line(char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

/*
 * Calls an STS action with the form body, signed with signer's credentials (or unsigned for
 * NULL). Returns 0 with the credentials in out, or -1 and the one-line error.
 */
static int
sts_call(struct chain *ch, const char *action, const char *body, const struct aws_creds *signer,
    const char *source, struct held *out, char **errmsg)
{
	const char *endpoint = awsconfig_endpoint("STS"), *region = ch->region;
	char *own = NULL, *scheme = NULL, *host = NULL, *path = NULL, *auth = NULL;
	char *lines[7] = { NULL };
	char amzdate[17];
	struct sigv4_header hdrs[4];
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	struct stsxml x;
	int64_t expiration;
	size_t nh = 0, nl = 0, i;
	int ret = -1;

	if (endpoint == NULL) {
		/* The SDKs' regional endpoints; with no region, the global one, signed for us-east-1. */
		if (region != NULL)
			xasprintf(&own, "https://sts.%s.amazonaws.com%s/", region,
			    strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
		else
			own = xstrdup("https://sts.amazonaws.com/");
		endpoint = own;
	}
	if (region == NULL)
		region = "us-east-1";
	if (url_split(endpoint, &scheme, &host, &path) == -1) {
		fail(errmsg, "sts: %s: %s: the endpoint is not an http(s) URL without user@", region,
		    action);
		goto out;
	}

	hdrs[nh++] = (struct sigv4_header){ "Host", host };
	hdrs[nh++] = (struct sigv4_header){ "Content-Type",
	    "application/x-www-form-urlencoded; charset=utf-8" };
	for (i = 0; i < nh; i++)
		xasprintf(&lines[nl++], "%s: %s", hdrs[i].name, hdrs[i].value);
	if (signer != NULL) {
		struct sigv4_request sr = {
			.method = "POST", .path = path, .query = "", .body = body,
			.bodylen = strlen(body), .region = region, .service = "sts",
			.amzdate = amzdate, .normalize_path = 1,
		};

		sigv4_amzdate(time(NULL), amzdate);
		hdrs[nh++] = (struct sigv4_header){ "X-Amz-Date", amzdate };
		xasprintf(&lines[nl++], "X-Amz-Date: %s", amzdate);
		if (signer->session_token != NULL) {
			hdrs[nh++] = (struct sigv4_header){ "X-Amz-Security-Token",
			    signer->session_token };
			xasprintf(&lines[nl++], "X-Amz-Security-Token: %s", signer->session_token);
		}
		sr.headers = hdrs;
		sr.nheaders = nh;
		auth = sigv4_authorization(&sr, signer->access_key_id, signer->secret_access_key);
		xasprintf(&lines[nl++], "Authorization: %s", auth);
	}
	lines[nl] = NULL;

	req.method = "POST";
	req.url = endpoint;
	req.headers = (const char *const *)lines;
	req.body = body;
	req.bodylen = strlen(body);
	req.timeout_ms = STS_TIMEOUT_MS;
	if (http_do(&req, &resp) == -1) {
		fail(errmsg, "sts: %s: %s: %s: %s", region, action, endpoint, resp.error);
		goto out;
	}
	if (stsxml_parse(&x, resp.body, resp.len) == -1) {
		fail(errmsg, "sts: %s: %s: HTTP %ld: the response is not XML%s%s%s", region, action,
		    resp.status, resp.request_id ? " (request id " : "",
		    resp.request_id ? resp.request_id : "", resp.request_id ? ")" : "");
		stsxml_free(&x);
		goto out;
	}
	if (x.requestid == NULL && resp.request_id != NULL)
		x.requestid = xstrdup(resp.request_id);
	one_line(x.code);
	one_line(x.message);
	if (resp.status != 200 || x.code != NULL) {
		if (x.code != NULL)
			fail(errmsg, "sts: %s: %s: %s: %s (request id %s)", region, action, x.code,
			    x.message ? x.message : "", x.requestid ? x.requestid : "none");
		else
			fail(errmsg, "sts: %s: %s: HTTP %ld (request id %s)", region, action,
			    resp.status, x.requestid ? x.requestid : "none");
	} else if (x.akid == NULL || x.secret == NULL || x.token == NULL || x.expiration == NULL) {
		fail(errmsg, "sts: %s: %s: the response has no Credentials (request id %s)", region,
		    action, x.requestid ? x.requestid : "none");
	} else if (parse_expiration(x.expiration, &expiration) == -1) {
		fail(errmsg, "sts: %s: %s: bad Expiration in the response (request id %s)", region,
		    action, x.requestid ? x.requestid : "none");
	} else {
		held_set(out, source, x.akid, x.secret, x.token, expiration);
		ret = 0;
	}
	stsxml_free(&x);
out:
	response_wipe(&resp);
	for (i = 0; i < nl; i++)
		wipe(lines[i]);
	free(auth);
	free(own);
	free(scheme);
	free(host);
	free(path);
	return ret;
}

/* RoleSessionName, DurationSeconds and ExternalId as the profile (or NULL) asks. */
static int
role_params(char **body, const char *session, const char *profile, char **errmsg)
{
	const char *s;
	char buf[64];
	long long n;
	char *end;

	if (session == NULL) {
		snprintf(buf, sizeof(buf), "amicycle-session-%lld", (long long)time(NULL));
		session = buf;
	}
	form_add(body, "RoleSessionName", session);
	if (profile == NULL)
		return 0;
	if ((s = awsconfig_get(profile, "duration_seconds")) != NULL) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0' || n < 900 || n > 43200)
			return fail(errmsg, "profile %s: duration_seconds '%s' is not 900..43200",
			    profile, s);
		snprintf(buf, sizeof(buf), "%lld", n);
		form_add(body, "DurationSeconds", buf);
	}
	if ((s = awsconfig_get(profile, "external_id")) != NULL)
		form_add(body, "ExternalId", s);
	return 0;
}

/* AssumeRoleWithWebIdentity, unsigned, with the token read from its file now. */
static int
web_identity(struct chain *ch, const char *tokenfile, const char *what, const char *role,
    const char *session, const char *profile, struct held *out, char **errmsg)
{
	char *token, *body = NULL;
	int ret;

	if ((token = slurp(tokenfile)) == NULL)
		return fail(errmsg, "web-identity: %s %s: %s", what, tokenfile, strerror(errno));
	if (*token == '\0') {
		free(token);
		return fail(errmsg, "web-identity: %s %s is empty", what, tokenfile);
	}
	form_add(&body, "Action", "AssumeRoleWithWebIdentity");
	form_add(&body, "Version", STS_VERSION);
	form_add(&body, "RoleArn", role);
	if (role_params(&body, session, profile, errmsg) == -1) {
		wipe(token);
		free(body);
		return -1;
	}
	form_add(&body, "WebIdentityToken", token);
	wipe(token);
	ret = sts_call(ch, "AssumeRoleWithWebIdentity", body, NULL, "web-identity", out, errmsg);
	wipe(body);
	return ret;
}

/* --- JSON credential documents: credential_process, containers, IMDS. --- */

/*
 * Takes the credentials from a JSON document whose session token is named tokenkey. Returns 0,
 * or -1 with *why saying what was wrong (never quoting the document).
 */
static int
json_creds(const char *doc, size_t len, const char *tokenkey, const char *source,
    struct held *out, const char **why)
{
	jv v = jv_parse_sized(doc, (int)len), akid, secret, token, exp, ver;
	int64_t expiration = 0;
	int ret = -1;

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		*why = strcmp(source, "process") == 0 ? "the output is not a JSON object" :
		    "the response is not a JSON object";
		jv_free(v);
		return -1;
	}
	akid = jv_object_get(jv_copy(v), jv_string("AccessKeyId"));
	secret = jv_object_get(jv_copy(v), jv_string("SecretAccessKey"));
	token = jv_object_get(jv_copy(v), jv_string(tokenkey));
	exp = jv_object_get(jv_copy(v), jv_string("Expiration"));
	ver = jv_object_get(jv_copy(v), jv_string("Version"));
	if (strcmp(source, "process") == 0 &&
	    (jv_get_kind(ver) != JV_KIND_NUMBER || jv_number_value(ver) != 1))
		*why = "Version is not 1";
	else if (jv_get_kind(akid) != JV_KIND_STRING || jv_get_kind(secret) != JV_KIND_STRING ||
	    *jv_string_value(akid) == '\0' || *jv_string_value(secret) == '\0')
		*why = "no AccessKeyId and SecretAccessKey strings";
	else if (jv_get_kind(token) != JV_KIND_STRING && jv_get_kind(token) != JV_KIND_NULL &&
	    jv_get_kind(token) != JV_KIND_INVALID)
		*why = "the token is not a string";
	else if (jv_get_kind(exp) == JV_KIND_STRING &&
	    parse_expiration(jv_string_value(exp), &expiration) == -1)
		*why = "Expiration is not an RFC 3339 time";
	else if (jv_get_kind(exp) != JV_KIND_STRING && jv_get_kind(exp) != JV_KIND_NULL &&
	    jv_get_kind(exp) != JV_KIND_INVALID)
		*why = "Expiration is not a string";
	else {
		held_set(out, source, jv_string_value(akid), jv_string_value(secret),
		    jv_get_kind(token) == JV_KIND_STRING ? jv_string_value(token) : NULL,
		    expiration);
		ret = 0;
	}
	jv_free(akid);
	jv_free(secret);
	jv_free(token);
	jv_free(exp);
	jv_free(ver);
	jv_free(v);
	return ret;
}

/* Runs the profile's credential_process with /bin/sh, stdin from /dev/null, stderr passed on. */
static int
process(const char *profile, const char *cmd, struct held *out, char **errmsg)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	const char *why;
	int fd[2], status, rc;
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC) == -1)
		return fail(errmsg, "process: profile %s: pipe: %s", profile, strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	if (rc != 0) {
		close(fd[0]);
		return fail(errmsg, "process: profile %s: cannot run /bin/sh: %s", profile,
		    strerror(rc));
	}
	for (;;) {
		if (len + 4096 > cap) {
			char *t;

			cap = cap ? cap * 2 : 8192;
			t = xmalloc(cap);
			if (buf != NULL) {
				memcpy(t, buf, len);
				explicit_bzero(buf, len);
				free(buf);
			}
			buf = t;
		}
		n = read(fd[0], buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		if (len > MAX_DOCUMENT)
			break;
	}
	close(fd[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	rc = -1;
	if (status == -1)
		fail(errmsg, "process: profile %s: waitpid: %s", profile, strerror(errno));
	else if (len > MAX_DOCUMENT)
		fail(errmsg, "process: profile %s: credential_process wrote more than %d bytes",
		    profile, MAX_DOCUMENT);
	else if (WIFSIGNALED(status))
		fail(errmsg, "process: profile %s: credential_process killed by signal %d", profile,
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		fail(errmsg, "process: profile %s: credential_process exited with status %d",
		    profile, WEXITSTATUS(status));
	else if (json_creds(buf != NULL ? buf : "", len, "SessionToken", "process", out, &why) == -1)
		fail(errmsg, "process: profile %s: credential_process: %s", profile, why);
	else
		rc = 0;
	if (buf != NULL) {
		explicit_bzero(buf, cap);
		free(buf);
	}
	return rc;
}

/* --- Containers (ECS, EKS Pod Identity) --- */

/* 1 if an http FULL_URI points where the SDKs allow plain http: loopback or the container hosts. */
static int
container_host_ok(const char *host)
{
	static const char *const ok[] = { "localhost", "::1", "169.254.170.2", "169.254.170.23",
	    "fd00:ec2::23" };
	const char *name = host, *rest;
	char buf[64];
	struct in_addr a;
	size_t i, n;

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
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcasecmp(buf, ok[i]) == 0)
			return 1;
	return inet_pton(AF_INET, buf, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static int
container(struct chain *ch, struct held *out, char **errmsg)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *why, *lines[3] = { "Accept: application/json", NULL, NULL };
	char *url, *scheme = NULL, *host = NULL, *path = NULL, *token = NULL, *auth = NULL;
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	int ret = -1;

	if (rel != NULL)
		xasprintf(&url, "%s%s%s", CONTAINER_HOST, *rel == '/' ? "" : "/", rel);
	else if (full != NULL)
		url = xstrdup(full);
	else {
		tried(ch, "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI unset)");
		return 0;
	}
	if (url_split(url, &scheme, &host, &path) == -1) {
		fail(errmsg, "container: AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL");
		goto out;
	}
	if (rel == NULL && strcasecmp(scheme, "https") != 0 && !container_host_ok(host)) {
		fail(errmsg, "container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to "
		    "a loopback or container host, not %s", host);
		goto out;
	}
	if (tokfile != NULL) {
		if ((token = slurp(tokfile)) == NULL) {
			fail(errmsg, "container: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", tokfile,
			    strerror(errno));
			goto out;
		}
	} else if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN") != NULL) {
		token = xstrdup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	}
	if (token != NULL) {
		if (strpbrk(token, "\r\n") != NULL) {
			fail(errmsg, "container: the authorization token has a line break");
			goto out;
		}
		xasprintf(&auth, "Authorization: %s", token);
		lines[1] = auth;
	}
	req.method = "GET";
	req.url = url;
	req.headers = lines;
	req.timeout_ms = CONTAINER_TIMEOUT_MS;
	req.no_proxy = rel != NULL || strcasecmp(scheme, "https") != 0;
	/* The URL is the credentials' address: messages name only its host. */
	if (http_do(&req, &resp) == -1)
		fail(errmsg, "container: %s: %s", host, resp.error);
	else if (resp.status != 200)
		fail(errmsg, "container: %s: HTTP %ld", host, resp.status);
	else if (json_creds(resp.body, resp.len, "Token", "container", out, &why) == -1)
		fail(errmsg, "container: %s: %s", host, why);
	else
		ret = 1;
out:
	response_wipe(&resp);
	wipe(token);
	wipe(auth);
	free(url);
	free(scheme);
	free(host);
	free(path);
	return ret;
}

/* --- IMDSv2 --- */

/* The Code of IMDS's credentials document when it is not "Success" (to free), else NULL. */
static char *
imds_code(const struct http_response *resp)
{
	jv v = jv_parse_sized(resp->body, (int)resp->len);
	jv code = jv_get_kind(v) == JV_KIND_OBJECT ? jv_object_get(v, jv_string("Code")) :
	    (jv_free(v), jv_invalid());
	char *s = NULL;

	if (jv_get_kind(code) == JV_KIND_STRING && strcmp(jv_string_value(code), "Success") != 0)
		s = xstrdup(jv_string_value(code));
	jv_free(code);
	return s;
}

static int
imds(struct chain *ch, struct held *out, char **errmsg)
{
	const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT"), *mode, *why;
	const char *lines[2] = { NULL, NULL };
	char *url = NULL, *hdr = NULL, *role = NULL, *root, *code = NULL;
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	size_t n;
	int ret = -1;

	if (awsconfig_env_true("AWS_EC2_METADATA_DISABLED")) {
		tried(ch, "imds (AWS_EC2_METADATA_DISABLED=true)");
		return 0;
	}
	if (base == NULL)
		base = (mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")) != NULL &&
		    strcasecmp(mode, "IPv6") == 0 ? IMDS_HOST6 : IMDS_HOST;
	root = xstrndup(base, strlen(base) - (base[strlen(base) - 1] == '/'));

	xasprintf(&url, "%s/latest/api/token", root);
	lines[0] = "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL;
	req.method = "PUT";
	req.url = url;
	req.headers = lines;
	req.timeout_ms = IMDS_TOKEN_TIMEOUT_MS;
	req.no_proxy = 1;
	if (http_do(&req, &resp) == -1 || resp.status != 200 || resp.len == 0) {
		/* No IMDS (not on EC2, or IMDS off): the chain ends here without credentials. */
		if (resp.status == 0)
			tried(ch, "imds (%s: %s)", root, resp.error);
		else
			tried(ch, "imds (%s: token: HTTP %ld)", root, resp.status);
		ret = 0;
		goto out;
	}
	for (n = resp.len; n > 0 && (resp.body[n - 1] == '\n' || resp.body[n - 1] == '\r'); n--)
		;
	xasprintf(&hdr, "X-aws-ec2-metadata-token: %.*s", (int)n, resp.body);
	response_wipe(&resp);
	lines[0] = hdr;
	req.method = "GET";
	req.timeout_ms = IMDS_TIMEOUT_MS;

	free(url);
	xasprintf(&url, "%s/latest/meta-data/iam/security-credentials/", root);
	req.url = url;
	if (http_do(&req, &resp) == -1) {
		fail(errmsg, "imds: %s: %s", root, resp.error);
		goto out;
	}
	if (resp.status == 404) {
		tried(ch, "imds (%s: no instance profile)", root);
		ret = 0;
		goto out;
	}
	if (resp.status != 200) {
		fail(errmsg, "imds: %s: security-credentials: HTTP %ld", root, resp.status);
		goto out;
	}
	role = xstrndup(resp.body, strcspn(resp.body, "\r\n"));
	http_response_free(&resp);
	if (*role == '\0' || strchr(role, '/') != NULL) {
		fail(errmsg, "imds: %s: security-credentials: no role name", root);
		goto out;
	}

	free(url);
	xasprintf(&url, "%s/latest/meta-data/iam/security-credentials/%s", root, role);
	req.url = url;
	if (http_do(&req, &resp) == -1)
		fail(errmsg, "imds: %s: %s", root, resp.error);
	else if (resp.status != 200)
		fail(errmsg, "imds: %s: role %s: HTTP %ld", root, role, resp.status);
	else if ((code = imds_code(&resp)) != NULL)
		fail(errmsg, "imds: %s: role %s: %s", root, role, code);
	else if (json_creds(resp.body, resp.len, "Token", "imds", out, &why) == -1)
		fail(errmsg, "imds: %s: role %s: %s", root, role, why);
	else
		ret = 1;
	free(code);
out:
	response_wipe(&resp);
	wipe(hdr);
	free(url);
	free(role);
	free(root);
	return ret;
}

/* --- The chain --- */

static int
from_env(struct chain *ch, struct held *out, char **errmsg)
{
	const char *akid = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");

	if (akid == NULL && secret == NULL) {
		tried(ch, "env (AWS_ACCESS_KEY_ID unset)");
		return 0;
	}
	if (akid == NULL || secret == NULL)
		return fail(errmsg, "env: %s is set but %s is not",
		    akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	held_set(out, "env", akid, secret, env("AWS_SESSION_TOKEN"), 0);
	return 1;
}

static int
web_identity_env(struct chain *ch, struct held *out, char **errmsg)
{
	const char *file = env("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = env("AWS_ROLE_ARN");

	/* As in botocore, AWS_ROLE_ARN alone is not web identity; the token file alone is wrong. */
	if (file == NULL) {
		tried(ch, "web-identity (AWS_WEB_IDENTITY_TOKEN_FILE unset)");
		return 0;
	}
	if (role == NULL)
		return fail(errmsg, "web-identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN "
		    "is not");
	if (web_identity(ch, file, "AWS_WEB_IDENTITY_TOKEN_FILE", role,
	    env("AWS_ROLE_SESSION_NAME"), NULL, out, errmsg) == -1)
		return -1;
	return 1;
}

static int	from_profile(struct chain *, const char *, int, struct held *, char **);

/* The profile's own keys: 1, 0 if it has none, -1 if it has half of them. */
static int
static_keys(const char *profile, struct held *out, char **errmsg)
{
	const char *akid = awsconfig_get(profile, "aws_access_key_id");
	const char *secret = awsconfig_get(profile, "aws_secret_access_key");
	char *source;

	if (akid == NULL && secret == NULL)
		return 0;
	if (akid == NULL || secret == NULL || *akid == '\0' || *secret == '\0')
		return fail(errmsg, "profile %s: %s without %s", profile,
		    akid ? "aws_access_key_id" : "aws_secret_access_key",
		    akid ? "aws_secret_access_key" : "aws_access_key_id");
	xasprintf(&source, "profile %s", profile);
	held_set(out, source, akid, secret, awsconfig_get(profile, "aws_session_token"), 0);
	free(source);
	return 1;
}

/* The credentials a role_arn profile assumes the role with. */
static int
role_source(struct chain *ch, const char *profile, int depth, struct held *src, char **errmsg)
{
	const char *sp = awsconfig_get(profile, "source_profile");
	const char *cs = awsconfig_get(profile, "credential_source");
	int rc;

	if (sp != NULL) {
		if (strcmp(sp, profile) == 0) {
			/* A profile that is its own source uses its own keys. */
			if ((rc = static_keys(profile, src, errmsg)) == 0)
				rc = fail(errmsg, "profile %s: is its own source_profile but has no keys",
				    profile);
			return rc;
		}
		if (!awsconfig_has_profile(sp))
			return fail(errmsg, "profile %s: source_profile %s not found in %s", profile,
			    sp, awsconfig_files());
		if (depth + 1 >= MAX_CHAIN)
			return fail(errmsg, "profile %s: source_profile chain longer than %d (a loop?)",
			    profile, MAX_CHAIN);
		if ((rc = from_profile(ch, sp, depth + 1, src, errmsg)) == 0)
			rc = fail(errmsg, "profile %s: source_profile %s has no credentials", profile,
			    sp);
		return rc;
	}
	if (strcmp(cs, "Environment") == 0)
		rc = from_env(ch, src, errmsg);
	else if (strcmp(cs, "EcsContainer") == 0)
		rc = container(ch, src, errmsg);
	else if (strcmp(cs, "Ec2InstanceMetadata") == 0)
		rc = imds(ch, src, errmsg);
	else
		return fail(errmsg, "profile %s: credential_source %s is not Environment, "
		    "EcsContainer or Ec2InstanceMetadata", profile, cs);
	if (rc == 0)
		rc = fail(errmsg, "profile %s: credential_source %s has no credentials", profile, cs);
	return rc;
}

static int
assume_role(struct chain *ch, const char *profile, int depth, struct held *out, char **errmsg)
{
	const char *role = awsconfig_get(profile, "role_arn");
	struct held src = { 0 };
	char *body = NULL;
	int rc;

	if (awsconfig_get(profile, "mfa_serial") != NULL)
		return fail(errmsg, "profile %s: mfa_serial needs a prompt for a code, which a filter "
		    "cannot give", profile);
	if ((rc = role_source(ch, profile, depth, &src, errmsg)) != 1)
		return -1;
	form_add(&body, "Action", "AssumeRole");
	form_add(&body, "Version", STS_VERSION);
	form_add(&body, "RoleArn", role);
	if (role_params(&body, awsconfig_get(profile, "role_session_name"), profile, errmsg) == 0 &&
	    sts_call(ch, "AssumeRole", body, &src.c, "assume-role", out, errmsg) == 0)
		rc = 1;
	else
		rc = -1;
	held_clear(&src);
	free(body);
	return rc;
}

static int
from_profile(struct chain *ch, const char *profile, int depth, struct held *out, char **errmsg)
{
	const char *role = awsconfig_get(profile, "role_arn"), *s;
	int rc;

	if (role != NULL) {
		if (awsconfig_get(profile, "source_profile") != NULL ||
		    awsconfig_get(profile, "credential_source") != NULL)
			return assume_role(ch, profile, depth, out, errmsg);
		if ((s = awsconfig_get(profile, "web_identity_token_file")) != NULL)
			return web_identity(ch, s, "web_identity_token_file", role,
			    awsconfig_get(profile, "role_session_name"), profile, out, errmsg) == 0 ?
			    1 : -1;
		return fail(errmsg, "profile %s: role_arn needs source_profile, credential_source "
		    "or web_identity_token_file", profile);
	}
	if ((rc = static_keys(profile, out, errmsg)) != 0)
		return rc;
	if ((s = awsconfig_get(profile, "credential_process")) != NULL)
		return process(profile, s, out, errmsg) == 0 ? 1 : -1;
	tried(ch, "profile %s (no keys, role_arn or credential_process in %s)", profile,
	    awsconfig_files());
	return 0;
}

static int
chain_run(struct chain *ch, struct held *out, char **errmsg)
{
	int rc;

	if ((rc = from_env(ch, out, errmsg)) != 0 ||
	    (rc = web_identity_env(ch, out, errmsg)) != 0 ||
	    (rc = from_profile(ch, awsconfig_profile(), 0, out, errmsg)) != 0 ||
	    (rc = container(ch, out, errmsg)) != 0 ||
	    (rc = imds(ch, out, errmsg)) != 0)
		return rc;
	return fail(errmsg, "no credentials: tried %s", ch->tried);
}

/* Seconds before expiration at which credentials are fetched again. */
static int64_t
refresh_window(const struct held *h)
{
	const char *s = env("AMICYCLE_CREDS_REFRESH_SECONDS");
	int64_t w;

	if (s != NULL)
		return parse_num(s, 0, 366LL * 86400, "AMICYCLE_CREDS_REFRESH_SECONDS");
	w = (h->c.expiration - h->fetched) / 10;
	return w < 0 ? 0 : w > REFRESH_MAX ? REFRESH_MAX : w;
}

const struct aws_creds *
creds_get(const char *region, char **errmsg)
{
	struct chain ch = { .region = region };
	struct held fresh = { 0 };
	int64_t now = time(NULL);
	char when[RFC3339_SIZE];
	int rc;

	*errmsg = NULL;
	if (have && (current.c.expiration == 0 ||
	    now < current.c.expiration - refresh_window(&current) ||
	    (now < retry_at && now < current.c.expiration)))
		return &current.c;
	if (awsconfig_check(errmsg) == -1)
		return NULL;
	if (ch.region == NULL || *ch.region == '\0')
		ch.region = awsconfig_region();
	rc = chain_run(&ch, &fresh, errmsg);
	free(ch.tried);
	if (rc == 1 && fresh.c.expiration != 0 && fresh.c.expiration <= now) {
		rfc3339_format(fresh.c.expiration, when);
		fail(errmsg, "%s: the credentials expired at %s", fresh.c.source, when);
		held_clear(&fresh);
		rc = -1;
	}
	if (rc == 1) {
		held_clear(&current);
		current = fresh;
		current.c.source = current.source;
		have = 1;
		return &current.c;
	}
	/* A failed refresh is no failure while the old credentials last; try again a bit later. */
	if (have && now < current.c.expiration) {
		free(*errmsg);
		*errmsg = NULL;
		retry_at = now + REFRESH_RETRY;
		return &current.c;
	}
	return NULL;
}

void
creds_free(void)
{
	held_clear(&current);
	have = 0;
	retry_at = 0;
	awsconfig_free();
}
