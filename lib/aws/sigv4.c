/* sigv4.c: AWS Signature Version 4 (the Authorization header). */
#include <err.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "sha256.h"
#include "sigv4.h"
#include "util.h"

/* A growing NUL-terminated string. */
struct buf {
	char	*s;
	size_t	 len, cap;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
sigv4_amzdate(time_t t, char out[17])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		errx(EXIT_FAIL, "sigv4: time %lld out of range", (long long)t);
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encodes n bytes at s (upper-case hex), all but the unreserved ones and, if asked, '/'. */
static void
encode(struct buf *b, const char *s, size_t n, int keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	unsigned char c;
	char e[3] = { '%' };
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			buf_add(b, &c, 1);
		} else {
			e[1] = digits[c >> 4];
			e[2] = digits[c & 15];
			buf_add(b, e, 3);
		}
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A query component in canonical form: %XX decoded (a lone '%' stays), then encoded. Malloc'ed. */
static char *
query_component(const char *s, size_t n)
{
	struct buf b = { 0 };
	char *d = xmalloc(n + 1);
	size_t i, len = 0;

	buf_str(&b, "");
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && n - i > 2 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			d[len++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else
			d[len++] = s[i];
	}
	encode(&b, d, len, 0);
	free(d);
	return b.s;
}

/*
 * The path, its dot segments resolved and empty segments dropped when normalizing (as botocore
 * and aws-c-auth do; a trailing slash stays), then encoded as it stands: "/a b" is "/a%20b",
 * "/a%20b" is "/a%2520b".
 */
static void
canonical_uri(struct buf *b, const char *path, int normalize)
{
	struct buf n = { 0 };
	const char *seg, *end;
	size_t len;

	if (!normalize) {
		if (*path == '\0')
			buf_str(b, "/");
		encode(b, path, strlen(path), 1);
		return;
	}
	for (seg = path; *seg != '\0'; seg = *end == '/' ? end + 1 : end) {
		end = strchrnul(seg, '/');
		len = (size_t)(end - seg);
		if (len == 0 || (len == 1 && seg[0] == '.'))
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (n.len > 0 && n.s[--n.len] != '/')
				;
			continue;
		}
		buf_str(&n, "/");
		buf_add(&n, seg, len);
	}
	if (n.len == 0)
		buf_str(b, "/");
	else {
		if (path[strlen(path) - 1] == '/')
			buf_str(&n, "/");
		encode(b, n.s, n.len, 1);
	}
	free(n.s);
}

struct param {
	char	*key, *value;
};

static int
param_cmp(const void *a, const void *b)
{
	const struct param *p = a, *q = b;
	int c;

	return (c = strcmp(p->key, q->key)) != 0 ? c : strcmp(p->value, q->value);
}

/* KEY=VALUE pairs sorted by encoded key, then value; a key without '=' gets an empty value. */
static void
canonical_query(struct buf *b, const char *query)
{
	struct param *p;
	const char *s, *end, *eq;
	size_t i, n = 0;

	p = xreallocarray(NULL, strlen(query) / 2 + 1, sizeof(*p));
	for (s = query; *s != '\0'; s = *end == '&' ? end + 1 : end) {
		end = strchrnul(s, '&');
		if (end == s)
			continue;
		if ((eq = memchr(s, '=', (size_t)(end - s))) == NULL)
			eq = end;
		p[n].key = query_component(s, (size_t)(eq - s));
		p[n].value = eq < end ? query_component(eq + 1, (size_t)(end - eq - 1)) : xstrdup("");
		n++;
	}
	qsort(p, n, sizeof(*p), param_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_str(b, "&");
		buf_str(b, p[i].key);
		buf_str(b, "=");
		buf_str(b, p[i].value);
		free(p[i].key);
		free(p[i].value);
	}
	free(p);
}

struct hname {
	char	*name;	/* lower case */
	size_t	 i;	/* in r->headers: repeated names keep the order they were sent in */
};

static int
hname_cmp(const void *a, const void *b)
{
	const struct hname *p = a, *q = b;
	int c;

	if ((c = strcmp(p->name, q->name)) != 0)
		return c;
	return p->i < q->i ? -1 : p->i > q->i;
}

static int
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* v trimmed, each run of white space (folded lines too) made one space. */
static void
add_trimmed(struct buf *b, const char *v)
{
	int gap = 0;

	for (; space(*v); v++)
		;
	for (; *v != '\0'; v++) {
		if (space(*v)) {
			gap = 1;
			continue;
		}
		if (gap)
			buf_str(b, " ");
		gap = 0;
		buf_add(b, v, 1);
	}
}

/* The "name:value\n" lines into b, and the signed headers "a;b;c" into sh. */
static void
canonical_headers(struct buf *b, struct buf *sh, const struct sigv4_request *r)
{
	struct hname *h;
	char *c;
	size_t i;

	h = xreallocarray(NULL, r->nheaders, sizeof(*h));
	for (i = 0; i < r->nheaders; i++) {
		h[i].name = xstrdup(r->headers[i].name);
		h[i].i = i;
		for (c = h[i].name; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c += 'a' - 'A';
	}
	qsort(h, r->nheaders, sizeof(*h), hname_cmp);
	buf_str(sh, "");
	for (i = 0; i < r->nheaders; i++) {
		if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0) {
			buf_str(b, ",");
		} else {
			if (i > 0) {
				buf_str(b, "\n");
				buf_str(sh, ";");
			}
			buf_str(b, h[i].name);
			buf_str(b, ":");
			buf_str(sh, h[i].name);
		}
		add_trimmed(b, r->headers[h[i].i].value);
	}
	if (r->nheaders > 0)
		buf_str(b, "\n");
	for (i = 0; i < r->nheaders; i++)
		free(h[i].name);
	free(h);
}

/* The canonical request; the signed headers into *signed_headers if it is not NULL. */
static char *
canonical(const struct sigv4_request *r, char **signed_headers)
{
	struct buf b = { 0 }, sh = { 0 };
	char hash[65];

	buf_str(&b, r->method);
	buf_str(&b, "\n");
	canonical_uri(&b, r->path, r->normalize_path);
	buf_str(&b, "\n");
	canonical_query(&b, r->query);
	buf_str(&b, "\n");
	canonical_headers(&b, &sh, r);
	buf_str(&b, "\n");
	buf_str(&b, sh.s);
	buf_str(&b, "\n");
	sha256_hex(r->body, r->bodylen, hash);
	buf_str(&b, hash);
	if (signed_headers != NULL)
		*signed_headers = sh.s;
	else
		free(sh.s);
	return b.s;
}

char *
sigv4_canonical_request(const struct sigv4_request *r)
{
	return canonical(r, NULL);
}

/* The scope's date, "20150830", from r->amzdate. */
static void
scope_date(const struct sigv4_request *r, char date[9])
{
	if (r->amzdate == NULL || strlen(r->amzdate) != 16 || r->amzdate[8] != 'T')
		errx(EXIT_FAIL, "sigv4: bad X-Amz-Date '%s'", r->amzdate ? r->amzdate : "(null)");
	memcpy(date, r->amzdate, 8);
	date[8] = '\0';
}

char *
sigv4_string_to_sign(const struct sigv4_request *r, const char *creq)
{
	char date[9], hash[65], *s;

	scope_date(r, date);
	sha256_hex(creq, strlen(creq), hash);
	xasprintf(&s, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", r->amzdate, date, r->region,
	    r->service, hash);
	return s;
}

/* HMAC("AWS4" secret, date), then region, service, "aws4_request"; no copy of a key is left behind. */
static void
signing_key(const char *secret, const char *date, const char *region, const char *service,
    unsigned char key[32])
{
	unsigned char a[32], b[32];
	char *k;
	size_t n;

	n = (size_t)xasprintf(&k, "AWS4%s", secret);
	hmac_sha256(k, n, date, a);
	hmac_sha256(a, sizeof(a), region, b);
	hmac_sha256(b, sizeof(b), service, a);
	hmac_sha256(a, sizeof(a), "aws4_request", key);
	OPENSSL_cleanse(k, n);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	free(k);
}

char *
sigv4_authorization(const struct sigv4_request *r, const char *access_key_id,
    const char *secret_access_key)
{
	unsigned char key[32], sig[32];
	char date[9], sighex[65], *creq, *sts, *signed_headers, *auth;

	scope_date(r, date);
	creq = canonical(r, &signed_headers);
	sts = sigv4_string_to_sign(r, creq);
	signing_key(secret_access_key, date, r->region, r->service, key);
	hmac_sha256(key, sizeof(key), sts, sig);
	OPENSSL_cleanse(key, sizeof(key));
	hex_encode(sig, sizeof(sig), sighex);
	xasprintf(&auth, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
	    "Signature=%s", access_key_id, date, r->region, r->service, signed_headers, sighex);
	free(creq);
	free(sts);
	free(signed_headers);
	return auth;
}

char **
sigv4_sign_headers(const struct sigv4_request *r, time_t now, const char *access_key_id,
    const char *secret_access_key, const char *token)
{
	struct sigv4_request s = *r;
	struct sigv4_header *h;
	char date[17], *auth, **lines;
	size_t n = 0;

	sigv4_amzdate(now, date);
	h = xreallocarray(NULL, r->nheaders + 2, sizeof(*h));
	if (r->nheaders > 0)
		memcpy(h, r->headers, r->nheaders * sizeof(*h));
	h[s.nheaders++] = (struct sigv4_header){ "X-Amz-Date", date };
	if (token != NULL)
		h[s.nheaders++] = (struct sigv4_header){ "X-Amz-Security-Token", token };
	s.headers = h;
	s.amzdate = date;
	auth = sigv4_authorization(&s, access_key_id, secret_access_key);
	lines = xcalloc(4, sizeof(*lines));
	xasprintf(&lines[n++], "X-Amz-Date: %s", date);
	if (token != NULL)
		xasprintf(&lines[n++], "X-Amz-Security-Token: %s", token);
	xasprintf(&lines[n++], "Authorization: %s", auth);
	free(auth);
	free(h);
	return lines;
}

void
sigv4_lines_free(char **lines)
{
	char **l;

	if (lines == NULL)
		return;
	for (l = lines; *l != NULL; l++) {
		OPENSSL_cleanse(*l, strlen(*l));
		free(*l);
	}
	free(lines);
}

#define QUERY_CONTENT_TYPE	"application/x-www-form-urlencoded; charset=utf-8"

char **
sigv4_post_lines(const char *host, const char *path, const char *content_type,
    const char *target, const char *body, const char *region, const char *service, time_t now,
    const char *access_key_id, const char *secret_access_key, const char *token)
{
	struct sigv4_header sh[3] = {
		{ "Host", host }, { "Content-Type", content_type }, { "X-Amz-Target", target }
	};
	struct sigv4_request sr = {
		.method = "POST", .path = path, .query = "", .headers = sh,
		.nheaders = target != NULL ? 3 : 2, .body = body, .bodylen = strlen(body),
		.region = region, .service = service, .normalize_path = 1,
	};
	char **signed_lines = NULL, **lines;
	size_t i, n = 0;

	if (access_key_id != NULL)
		signed_lines = sigv4_sign_headers(&sr, now, access_key_id, secret_access_key, token);
	for (n = 0; signed_lines != NULL && signed_lines[n] != NULL; n++)
		;
	lines = xcalloc(n + sr.nheaders + 1, sizeof(*lines));
	for (i = 0; i < sr.nheaders; i++)
		xasprintf(&lines[i], "%s: %s", sh[i].name, sh[i].value);
	for (i = 0; i < n; i++)
		lines[i + sr.nheaders] = signed_lines[i];
	free(signed_lines);
	return lines;
}

char **
sigv4_query_lines(const char *host, const char *path, const char *body, const char *region,
    const char *service, time_t now, const char *access_key_id, const char *secret_access_key,
    const char *token)
{
	return sigv4_post_lines(host, path, QUERY_CONTENT_TYPE, NULL, body, region, service, now,
	    access_key_id, secret_access_key, token);
}
