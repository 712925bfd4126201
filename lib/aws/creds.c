/* creds.c: the credential provider chain, the credentials it found (cached until due), what providers share. */
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jv.h>

#include "awsconfig.h"
#include "creds.h"
#include "creds_provider.h"
#include "http.h"
#include "retry.h"
#include "timefmt.h"
#include "util.h"

#define REFRESH_MAX		300
#define REFRESH_RETRY		10

static struct held	current;
static int		have;
static int64_t		retry_at;	/* after a failed refresh, not before this */

struct retry *
creds_retry(void)
{
	static struct retry r;
	static int ready;

	if (!ready) {
		retry_init(&r);
		ready = 1;
	}
	return &r;
}

void
creds_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
creds_response_wipe(struct http_response *r)
{
	if (r->body != NULL)
		explicit_bzero(r->body, r->len);
	http_response_free(r);
}

void
creds_held_clear(struct held *h)
{
	creds_wipe(h->c.access_key_id);
	creds_wipe(h->c.secret_access_key);
	creds_wipe(h->c.session_token);
	free(h->source);
	memset(h, 0, sizeof(*h));
}

void
creds_held_set(struct held *h, const char *source, const char *akid, const char *secret,
    const char *token, int64_t expiration)
{
	creds_held_clear(h);
	h->source = xstrdup(source);
	h->c.source = h->source;
	h->c.access_key_id = xstrdup(akid);
	h->c.secret_access_key = xstrdup(secret);
	h->c.session_token = token != NULL && *token != '\0' ? xstrdup(token) : NULL;
	h->c.expiration = expiration;
	h->fetched = time(NULL);
}

void
creds_tried(struct chain *ch, const char *fmt, ...)
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

int
creds_fail(char **errmsg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(errmsg, fmt, ap) < 0)
		errx(EXIT_FAIL, "vasprintf");
	va_end(ap);
	return -1;
}


char *
creds_slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *fp;
	int saved;

	if ((fp = fopen(path, "re")) == NULL)
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

int
creds_parse_expiration(const char *s, int64_t *sec)
{
	struct instant t;

	if (rfc3339_parse(s, strlen(s), &t) == -1)
		return -1;
	*sec = t.sec;
	return 0;
}

int
creds_json(const char *doc, size_t len, const char *tokenkey, const char *source,
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
	    creds_parse_expiration(jv_string_value(exp), &expiration) == -1)
		*why = "Expiration is not an RFC 3339 time";
	else if (jv_get_kind(exp) != JV_KIND_STRING && jv_get_kind(exp) != JV_KIND_NULL &&
	    jv_get_kind(exp) != JV_KIND_INVALID)
		*why = "Expiration is not a string";
	else {
		creds_held_set(out, source, jv_string_value(akid), jv_string_value(secret),
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

/* --role-arn, --external-id, --role-session-name (creds_set_role()). */
static struct {
	const char	*arn, *external_id, *session;
} role;

/* 1 if a and b, either may be NULL, are the same string. */
static int
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

void
creds_set_role(const char *arn, const char *external_id, const char *session)
{
	/* Another role's credentials are another account's: those held are not for it. */
	if (!same(arn, role.arn) || !same(external_id, role.external_id) ||
	    !same(session, role.session)) {
		creds_held_clear(&current);
		have = 0;
		retry_at = 0;
	}
	role.arn = arn;
	role.external_id = external_id;
	role.session = session;
}

/* The chain's own credentials: those of --profile alone when it was given, as the AWS CLI does. */
static int
chain_source(struct chain *ch, struct held *out, char **errmsg)
{
	int rc;

	if (awsconfig_profile_explicit()) {
		if ((rc = creds_profile(ch, awsconfig_profile(), 0, out, errmsg)) == 0)
			rc = creds_fail(errmsg, "profile %s: no credentials (no keys, role_arn or "
			    "credential_process in %s)", awsconfig_profile(), awsconfig_files());
		return rc;
	}
	if ((rc = creds_env(ch, out, errmsg)) != 0 ||
	    (rc = creds_web_identity_env(ch, out, errmsg)) != 0 ||
	    (rc = creds_profile(ch, awsconfig_profile(), 0, out, errmsg)) != 0 ||
	    (rc = creds_container(ch, out, errmsg)) != 0 ||
	    (rc = creds_imds(ch, out, errmsg)) != 0)
		return rc;
	return creds_fail(errmsg, "no credentials: tried %s", ch->tried);
}

/* The chain's credentials, or with --role-arn the role's, assumed with them. */
static int
chain_run(struct chain *ch, struct held *out, char **errmsg)
{
	struct held src = { 0 };
	int rc;

	if (role.arn == NULL)
		return chain_source(ch, out, errmsg);
	if ((rc = chain_source(ch, &src, errmsg)) != 1)
		return rc;
	rc = creds_sts_assume_role(ch, role.arn, role.session, role.external_id, NULL, &src.c, out,
	    errmsg) == 0 ? 1 : -1;
	creds_held_clear(&src);
	return rc;
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
		creds_fail(errmsg, "%s: the credentials expired at %s", fresh.c.source, when);
		creds_held_clear(&fresh);
		rc = -1;
	}
	if (rc == 1) {
		creds_held_clear(&current);
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
	creds_held_clear(&current);
	have = 0;
	retry_at = 0;
	awsconfig_free();
}
