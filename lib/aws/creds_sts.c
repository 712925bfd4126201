/* creds_sts.c: credentials from STS: AssumeRole, and AssumeRoleWithWebIdentity from a token file. */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <expat.h>

#include "awsconfig.h"
#include "creds_provider.h"
#include "endpoint.h"
#include "http.h"
#include "retry.h"
#include "sigv4.h"
#include "util.h"

#define STS_VERSION		"2011-06-15"
#define STS_TIMEOUT_MS		30000

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
	creds_wipe(x->secret);
	creds_wipe(x->token);
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

/* The Code of an STS error response (to free), NULL if there is none: what retries go by. */
static char *
error_code(const struct http_response *resp)
{
	struct stsxml x = { 0 };
	char *code = NULL;

	if (resp->status != 200 && stsxml_parse(&x, resp->body, resp->len) == 0 && x.code != NULL)
		code = xstrdup(x.code);
	stsxml_free(&x);
	return code;
}

/*
 * Calls an STS action with the form body, signed with signer's credentials (or unsigned for
 * NULL), retried as the SDKs' standard mode does. Returns 0 with the credentials in out, or -1
 * and the one-line error.
 */
static int
call(struct chain *ch, const char *action, const char *body, const struct aws_creds *signer,
    const char *source, struct held *out, char **errmsg)
{
	const char *endpoint = awsconfig_endpoint("STS"), *region = ch->region;
	const char *rid;
	char *own = NULL, *why = NULL, *scheme = NULL, *host = NULL, *path = NULL, **lines = NULL;
	char *forwhom = NULL;
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	struct stsxml x;
	int64_t expiration;
	int ret = -1;

	/* The region goes into a host name and what is signed: only a region name may. */
	if (region != NULL && !aws_region_valid(region)) {
		creds_fail(errmsg, "sts: %s: not a region name: nothing sent", action);
		goto out;
	}
	if (endpoint == NULL) {
		/* The SDKs' regional endpoints; with no region, the global one, for us-east-1. */
		if (region != NULL)
			xasprintf(&own, "https://sts.%s.amazonaws.com%s/", region,
			    strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
		else
			own = xstrdup("https://sts.amazonaws.com/");
		endpoint = own;
	}
	if (region == NULL)
		region = "us-east-1";
	if (http_url_split(endpoint, &scheme, &host, &path) == -1) {
		creds_fail(errmsg, "sts: %s: %s: the endpoint is not an http(s) URL without user@",
		    region, action);
		goto out;
	}
	/* A configuration error, as with EC2's endpoint: no request is sent, and the exit is 2. */
	if (own == NULL && http_url_private(endpoint, &why) == -1)
		usage_error("sts: endpoint URL: %s", why);
	lines = sigv4_query_lines(host, path, body, region, "sts", time(NULL),
	    signer != NULL ? signer->access_key_id : NULL,
	    signer != NULL ? signer->secret_access_key : NULL,
	    signer != NULL ? signer->session_token : NULL);

	req.method = "POST";
	req.url = endpoint;
	req.headers = (const char *const *)lines;
	req.body = body;
	req.bodylen = strlen(body);
	req.timeout_ms = STS_TIMEOUT_MS;
	/* --debug: who signed (an AssumeRole's source credentials; none for web identity), for whom. */
	xasprintf(&forwhom, "%s%sfor %s", signer != NULL ? signer->source : "",
	    signer != NULL ? " " : "", source);
	if (retry_http_do(creds_retry(), &req, &resp, error_code, 1, forwhom) == -1) {
		creds_fail(errmsg, "sts: %s: %s: %s: %s", region, action, endpoint, resp.error);
		goto out;
	}
	if (stsxml_parse(&x, resp.body, resp.len) == -1) {
		creds_fail(errmsg, "sts: %s: %s: HTTP %ld: the response is not XML%s%s%s", region,
		    action, resp.status, resp.request_id ? " (request id " : "",
		    resp.request_id ? resp.request_id : "", resp.request_id ? ")" : "");
		stsxml_free(&x);
		goto out;
	}
	if (x.requestid == NULL && resp.request_id != NULL)
		x.requestid = xstrdup(resp.request_id);
	rid = x.requestid != NULL ? x.requestid : "none";
	one_line(x.code);
	one_line(x.message);
	if (resp.status != 200 || x.code != NULL) {
		if (x.code != NULL)
			creds_fail(errmsg, "sts: %s: %s: %s: %s (request id %s)", region, action,
			    x.code, x.message ? x.message : "", rid);
		else
			creds_fail(errmsg, "sts: %s: %s: HTTP %ld (request id %s)", region, action,
			    resp.status, rid);
	} else if (x.akid == NULL || x.secret == NULL || x.token == NULL || x.expiration == NULL) {
		creds_fail(errmsg, "sts: %s: %s: the response has no Credentials (request id %s)",
		    region, action, rid);
	} else if (creds_parse_expiration(x.expiration, &expiration) == -1) {
		creds_fail(errmsg, "sts: %s: %s: bad Expiration in the response (request id %s)",
		    region, action, rid);
	} else {
		creds_held_set(out, source, x.akid, x.secret, x.token, expiration);
		ret = 0;
	}
	stsxml_free(&x);
out:
	creds_response_wipe(&resp);
	sigv4_lines_free(lines);
	free(own);
	free(forwhom);
	free(scheme);
	free(host);
	free(path);
	return ret;
}

/* RoleSessionName, DurationSeconds and ExternalId as the profile (or NULL) asks. */
static int
role_params(char **body, const char *session, const char *external_id, const char *profile,
    char **errmsg)
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
	if (external_id != NULL)
		form_add(body, "ExternalId", external_id);
	if (profile == NULL)
		return 0;
	if ((s = awsconfig_get(profile, "duration_seconds")) != NULL) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0' || n < 900 || n > 43200)
			return creds_fail(errmsg,
			    "profile %s: duration_seconds '%s' is not 900..43200",
			    profile, s);
		snprintf(buf, sizeof(buf), "%lld", n);
		form_add(body, "DurationSeconds", buf);
	}
	if (external_id == NULL && (s = awsconfig_get(profile, "external_id")) != NULL)
		form_add(body, "ExternalId", s);
	return 0;
}

int
creds_sts_assume_role(struct chain *ch, const char *role, const char *session,
    const char *external_id, const char *profile, const struct aws_creds *signer, struct held *out,
    char **errmsg)
{
	char *body = NULL;
	int ret = -1;

	form_add(&body, "Action", "AssumeRole");
	form_add(&body, "Version", STS_VERSION);
	form_add(&body, "RoleArn", role);
	if (role_params(&body, session, external_id, profile, errmsg) == 0)
		ret = call(ch, "AssumeRole", body, signer, "assume-role", out, errmsg);
	free(body);
	return ret;
}

/* AssumeRoleWithWebIdentity, unsigned, with the token read from its file now. */
int
creds_sts_web_identity(struct chain *ch, const char *tokenfile, const char *what, const char *role,
    const char *session, const char *profile, struct held *out, char **errmsg)
{
	char *token, *body = NULL;
	int ret;

	if ((token = creds_slurp(tokenfile)) == NULL)
		return creds_fail(errmsg, "web-identity: %s %s: %s", what, tokenfile,
		    strerror(errno));
	if (*token == '\0') {
		free(token);
		return creds_fail(errmsg, "web-identity: %s %s is empty", what, tokenfile);
	}
	form_add(&body, "Action", "AssumeRoleWithWebIdentity");
	form_add(&body, "Version", STS_VERSION);
	form_add(&body, "RoleArn", role);
	if (role_params(&body, session, NULL, profile, errmsg) == -1) {
		creds_wipe(token);
		free(body);
		return -1;
	}
	form_add(&body, "WebIdentityToken", token);
	creds_wipe(token);
	ret = call(ch, "AssumeRoleWithWebIdentity", body, NULL, "web-identity", out, errmsg);
	creds_wipe(body);
	return ret;
}

int
creds_web_identity_env(struct chain *ch, struct held *out, char **errmsg)
{
	const char *file = env("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = env("AWS_ROLE_ARN");

	/* As in botocore, AWS_ROLE_ARN alone is not web identity; the token file alone is wrong. */
	if (file == NULL) {
		creds_tried(ch, "web-identity (AWS_WEB_IDENTITY_TOKEN_FILE unset)");
		return 0;
	}
	if (role == NULL)
		return creds_fail(errmsg,
		    "web-identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN "
		    "is not");
	if (creds_sts_web_identity(ch, file, "AWS_WEB_IDENTITY_TOKEN_FILE", role,
	    env("AWS_ROLE_SESSION_NAME"), NULL, out, errmsg) == -1)
		return -1;
	return 1;
}
