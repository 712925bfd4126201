/*
 * Unit tests for lib/aws/sigv4.c: every header-signing case of the AWS SigV4 test suite (the directory
 * given as the only argument, t/data/aws/sigv4-testsuite), plus edge cases of our own.
 *
 * Classic cases (DIR/NAME/NAME.req): the canonical request, string to sign and Authorization are
 * compared byte for byte with NAME.creq, .sts and .authz. The .sreq files are not compared: they
 * only append the Authorization line (and get-vanilla-with-session-token's carries a wrong one).
 * aws-c-auth cases (DIR/request.txt + context.json): header-canonical-request.txt,
 * header-string-to-sign.txt, header-signature.txt and the Authorization line of
 * header-signed-request.txt. Their query-*.txt files (presigned URLs, X-Amz-* in the query) are
 * left out: this library signs with the Authorization header only.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jv.h>

#include "sha256.h"
#include "sigv4.h"
#include "tap.h"
#include "timefmt.h"
#include "util.h"

#define AKID	"AKIDEXAMPLE"
#define SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define MAXHDR	16

/* A raw request file, split in place. */
struct req {
	char			*text;
	char			*method, *path, *query;
	struct sigv4_header	 h[MAXHDR];
	size_t			 nh;
	char			*body;
	size_t			 bodylen;
};

static int nclassic, ncauth;
static char amzdate[17];

/* The file's bytes, NUL-terminated, or NULL if it cannot be read. */
static char *
slurp(const char *path, size_t *lenp)
{
	FILE *f;
	char *s = NULL;
	size_t n = 0;
	long len;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		s = xmalloc((size_t)len + 1);
		n = fread(s, 1, (size_t)len, f);
		s[n] = '\0';
	}
	fclose(f);
	if (lenp != NULL)
		*lenp = n;
	return s;
}

static char *
slurp2(const char *dir, const char *file)
{
	char *path, *s;

	xasprintf(&path, "%s/%s", dir, file);
	s = slurp(path, NULL);
	free(path);
	return s;
}

/*
 * Parses "METHOD TARGET HTTP/1.1", header lines (a line starting with white space continues the
 * one before, its line break kept as sent), an optional blank line and the body. Returns 0 or -1.
 */
static int
parse_req(char *text, size_t len, struct req *q)
{
	char *p = text, *end = text + len, *eol, *sp, *colon, *prev = NULL;

	memset(q, 0, sizeof(*q));
	q->text = text;
	q->body = end;
	if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
		eol = end;
	*eol = '\0';
	if ((sp = strchr(p, ' ')) == NULL || (q->path = strchr(sp + 1, ' ')) == NULL)
		return -1;
	*sp = '\0';
	q->method = p;
	q->path = sp + 1;
	*strrchr(q->path, ' ') = '\0';
	if ((q->query = strchr(q->path, '?')) != NULL)
		*q->query++ = '\0';
	else
		q->query = "";
	for (p = eol + 1; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (eol == p) {
			q->body = p + 1;
			break;
		}
		if (*p == ' ' || *p == '\t') {
			if (prev == NULL)
				return -1;
			*prev = '\n';
		} else {
			if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL || q->nh == MAXHDR)
				return -1;
			*colon = '\0';
			q->h[q->nh].name = p;
			q->h[q->nh++].value = colon + 1;
		}
		*eol = '\0';
		prev = eol;
	}
	q->bodylen = q->body < end ? (size_t)(end - q->body) : 0;
	return 0;
}

static const char *
header(const struct req *q, const char *name)
{
	size_t i;

	for (i = 0; i < q->nh; i++)
		if (strcasecmp(q->h[i].name, name) == 0)
			return q->h[i].value;
	return NULL;
}

static void
fill(struct sigv4_request *r, const struct req *q)
{
	memset(r, 0, sizeof(*r));
	r->method = q->method;
	r->path = q->path;
	r->query = q->query;
	r->headers = q->h;
	r->nheaders = q->nh;
	r->body = q->body;
	r->bodylen = q->bodylen;
}

/* DIR/NAME/NAME.{req,creq,sts,authz}, signed with the suite's constants. */
static void
classic(const char *dir, const char *name, const char *base)
{
	struct sigv4_request r;
	struct req q;
	char *req, *creq, *sts, *authz, *want_creq, *want_sts, *want_authz, *path, *tok;
	char region[64] = "us-east-1", service[16] = "service";
	const char *host;
	size_t len;

	nclassic++;
	xasprintf(&path, "%s/%s.req", dir, base);
	req = slurp(path, &len);
	free(path);
	xasprintf(&path, "%s.creq", base);
	want_creq = slurp2(dir, path);
	free(path);
	xasprintf(&path, "%s.sts", base);
	want_sts = slurp2(dir, path);
	free(path);
	xasprintf(&path, "%s.authz", base);
	want_authz = slurp2(dir, path);
	free(path);
	if (!ok(req != NULL && want_creq && want_sts && want_authz && parse_req(req, len, &q) == 0,
	    "%s: files read and request parsed", name))
		goto out;
	fill(&r, &q);
	/* _ec2-vectors: the credential scope of the regional endpoint named by Host. */
	if ((host = header(&q, "Host")) != NULL && sscanf(host, "ec2.%63[^.].amazonaws.com", region) == 1)
		strcpy(service, "ec2");
	r.region = region;
	r.service = service;
	r.amzdate = amzdate;
	r.normalize_path = 1;
	/* get-vanilla-with-session-token signs a token its .req does not show (SOURCE.md). */
	if (header(&q, "X-Amz-Security-Token") == NULL &&
	    (tok = strstr(want_creq, "\nx-amz-security-token:")) != NULL && q.nh < MAXHDR) {
		tok += strlen("\nx-amz-security-token:");
		tok = xstrndup(tok, strcspn(tok, "\n"));
		q.h[q.nh].name = "X-Amz-Security-Token";
		q.h[q.nh++].value = tok;
		r.nheaders = q.nh;
	} else
		tok = NULL;
	creq = sigv4_canonical_request(&r);
	sts = sigv4_string_to_sign(&r, creq);
	authz = sigv4_authorization(&r, AKID, SECRET);
	is_str(creq, want_creq, "%s: canonical request", name);
	is_str(sts, want_sts, "%s: string to sign", name);
	is_str(authz, want_authz, "%s: Authorization", name);
	free(creq);
	free(sts);
	free(authz);
	free(tok);
out:
	free(req);
	free(want_creq);
	free(want_sts);
	free(want_authz);
}

/* A string member of the context, malloc'ed, or NULL. Borrows ctx. */
static char *
ctx_str(jv ctx, const char *k1, const char *k2)
{
	jv v = jv_object_get(jv_copy(ctx), jv_string(k1));
	char *s = NULL;

	if (k2 != NULL && jv_get_kind(v) == JV_KIND_OBJECT)
		v = jv_object_get(v, jv_string(k2));
	if (jv_get_kind(v) == JV_KIND_STRING)
		s = xstrdup(jv_string_value(v));
	jv_free(v);
	return s;
}

/* A boolean member of the context (absent is false). Borrows ctx. */
static int
ctx_bool(jv ctx, const char *k)
{
	jv v = jv_object_get(jv_copy(ctx), jv_string(k));
	int b = jv_get_kind(v) == JV_KIND_TRUE;

	jv_free(v);
	return b;
}

/* DIR/request.txt signed as context.json says; the request gets X-Amz-Date (and the rest) here. */
static void
cauth(const char *dir, const char *name)
{
	struct sigv4_request r;
	struct instant t;
	struct req q;
	jv ctx;
	char *req, *ctxtext, *want_creq, *want_sts, *want_sig, *signed_req, *want_authz = NULL;
	char *akid, *secret, *token, *region, *service, *stamp, *creq = NULL, *sts = NULL, *authz = NULL;
	char *sig, *want_line = NULL, **lines = NULL, date[17], bodyhash[65];
	size_t len, nlines;
	int omit;

	ncauth++;
	xasprintf(&sig, "%s/request.txt", dir);
	req = slurp(sig, &len);
	free(sig);
	ctxtext = slurp2(dir, "context.json");
	want_creq = slurp2(dir, "header-canonical-request.txt");
	want_sts = slurp2(dir, "header-string-to-sign.txt");
	want_sig = slurp2(dir, "header-signature.txt");
	signed_req = slurp2(dir, "header-signed-request.txt");
	ctx = jv_parse(ctxtext ? ctxtext : "");
	akid = ctx_str(ctx, "credentials", "access_key_id");
	secret = ctx_str(ctx, "credentials", "secret_access_key");
	token = ctx_str(ctx, "credentials", "token");
	region = ctx_str(ctx, "region", NULL);
	service = ctx_str(ctx, "service", NULL);
	stamp = ctx_str(ctx, "timestamp", NULL);
	omit = ctx_bool(ctx, "omit_session_token");
	if (signed_req != NULL && (want_authz = strstr(signed_req, "\nAuthorization:")) != NULL) {
		want_authz += strlen("\nAuthorization:");
		*strchrnul(want_authz, '\n') = '\0';
	}
	if (!ok(req && want_creq && want_sts && want_sig && want_authz && akid && secret && region &&
	    service && stamp && rfc3339_parse(stamp, strlen(stamp), &t) == 0 &&
	    parse_req(req, len, &q) == 0 && q.nh + 3 <= MAXHDR,
	    "%s: files read, request parsed", name))
		goto out;
	fill(&r, &q);
	r.region = region;
	r.service = service;
	r.normalize_path = ctx_bool(ctx, "normalize");
	/* What the signer adds before signing: the body's hash (sign_body), then these two. */
	if (ctx_bool(ctx, "sign_body")) {
		sha256_hex(q.body, q.bodylen, bodyhash);
		q.h[q.nh].name = "x-amz-content-sha256";
		q.h[q.nh++].value = bodyhash;
	}
	r.nheaders = q.nh;
	lines = sigv4_sign_headers(&r, (time_t)t.sec, akid, secret, omit ? NULL : token);
	sigv4_amzdate((time_t)t.sec, date);
	r.amzdate = date;
	q.h[q.nh].name = "X-Amz-Date";
	q.h[q.nh++].value = date;
	if (token != NULL && !omit) {
		q.h[q.nh].name = "X-Amz-Security-Token";
		q.h[q.nh++].value = token;
	}
	r.nheaders = q.nh;
	creq = sigv4_canonical_request(&r);
	sts = sigv4_string_to_sign(&r, creq);
	authz = sigv4_authorization(&r, akid, secret);
	sig = strstr(authz, "Signature=");
	is_str(creq, want_creq, "%s: canonical request", name);
	is_str(sts, want_sts, "%s: string to sign", name);
	is_str(sig ? sig + strlen("Signature=") : NULL, want_sig, "%s: signature", name);
	is_str(authz, want_authz, "%s: Authorization", name);
	for (nlines = 0; lines[nlines] != NULL; nlines++)
		;
	xasprintf(&want_line, "Authorization: %s", want_authz);
	ok(nlines == (token && !omit ? 3 : 2) && strcmp(lines[0], "X-Amz-Date: 20150830T123600Z") == 0 &&
	    (nlines == 2 || strncmp(lines[1], "X-Amz-Security-Token: ", 22) == 0) &&
	    strcmp(lines[nlines - 1], want_line) == 0, "%s: sigv4_sign_headers()", name);
out:
	jv_free(ctx);
	sigv4_lines_free(lines);
	free(want_line);
	free(creq);
	free(sts);
	free(authz);
	free(req);
	free(ctxtext);
	free(want_creq);
	free(want_sts);
	free(want_sig);
	free(signed_req);
	free(akid);
	free(secret);
	free(token);
	free(region);
	free(service);
	free(stamp);
}

static int
exists(const char *dir, const char *file)
{
	struct stat st;
	char *path;
	int rc;

	xasprintf(&path, "%s/%s", dir, file);
	rc = stat(path, &st) == 0;
	free(path);
	return rc;
}

/* Runs the cases in dir and below, in name order; name is dir relative to the suite. */
static int
walk(const char *dir, const char *name)
{
	struct dirent **ents;
	struct stat st;
	const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	char *req, *sub, *subname;
	int i, n;

	if (exists(dir, "request.txt") && exists(dir, "context.json")) {
		cauth(dir, name);
		return 0;
	}
	xasprintf(&req, "%s.req", base);
	if (exists(dir, req))
		classic(dir, name, base);
	free(req);
	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		xasprintf(&sub, "%s/%s", dir, ents[i]->d_name);
		if (*name == '\0')
			subname = xstrdup(ents[i]->d_name);
		else
			xasprintf(&subname, "%s/%s", name, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			walk(sub, subname);
		free(sub);
		free(subname);
		free(ents[i]);
	}
	free(ents);
	return 0;
}

static char *
creq_of(const char *method, const char *path, const char *query, int normalize)
{
	static const struct sigv4_header h[] = { { "Host", "example.amazonaws.com" } };
	struct sigv4_request r = { 0 };

	r.method = method;
	r.path = path;
	r.query = query;
	r.headers = h;
	r.nheaders = 1;
	r.region = "us-east-1";
	r.service = "service";
	r.amzdate = amzdate;
	r.normalize_path = normalize;
	return sigv4_canonical_request(&r);
}

/* The URI and query lines of the canonical request. */
static int
uri_query(const char *path, const char *query, int normalize, const char *want)
{
	char *c = creq_of("GET", path, query, normalize), *nl;
	int rc;

	nl = strchr(strchr(c + 4, '\n') + 1, '\n');
	*nl = '\0';
	rc = strcmp(c + 4, want) == 0;
	if (!rc)
		printf("#   got: '%s'\n", c + 4);
	free(c);
	return rc;
}

static void
edges(void)
{
	static const struct sigv4_header h[] = {
		{ "B", "\t two\r\n  words \t" }, { "a", "" }, { "A", " x" }, { "b", "3" }
	};
	struct sigv4_request r = { 0 };
	char out[65], *c;

	sha256_hex("", 0, out);
	is_str(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 of nothing");
	sha256_hex("abc", 3, out);
	is_str(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 of abc");
	sigv4_amzdate(0, out);
	is_str(out, "19700101T000000Z", "X-Amz-Date of the epoch");

	ok(uri_query("", "", 1, "/\n"), "an empty path is /");
	ok(uri_query("", "", 0, "/\n"), "an empty path is / unnormalized too");
	ok(uri_query("/a/b/../", "", 1, "/a/\n"), ".. keeps the trailing slash");
	ok(uri_query("/a/b/..", "", 1, "/a\n"), ".. at the end");
	ok(uri_query("/../..", "", 1, "/\n"), ".. above the root");
	ok(uri_query("/a%20b/c+d", "", 1, "/a%2520b/c%2Bd\n"), "the path is encoded once more");
	ok(uri_query("/", "a=1&&b", 1, "/\na=1&b="), "an empty parameter is dropped, a bare key gets =");
	ok(uri_query("/", "k=&=v&j=", 1, "/\n=v&j=&k="), "empty values and an empty key");
	ok(uri_query("/", "b=%7e&a=%zz&c=%4", 1, "/\na=%25zz&b=~&c=%254"), "bad escapes are literal, %%7e unreserved");
	ok(uri_query("/", "k=a+b%2bc%20d&k=a=b", 1, "/\nk=a%2Bb%2Bc%20d&k=a%3Db"), "+ is a plus, = in a value");
	ok(uri_query("/", "a=%00", 1, "/\na=%00"), "a NUL byte survives");

	r.method = "POST";
	r.path = "/";
	r.query = "";
	r.headers = h;
	r.nheaders = 4;
	r.body = "x";
	r.bodylen = 1;
	r.region = "r";
	r.service = "s";
	r.amzdate = amzdate;
	r.normalize_path = 1;
	c = sigv4_canonical_request(&r);
	is_str(c, "POST\n/\n\na:,x\nb:two words,3\n\na;b\n"
	    "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
	    "names folded by case in order, values trimmed, white space collapsed");
	free(c);
	r.nheaders = 0;
	c = sigv4_canonical_request(&r);
	is_str(c, "POST\n/\n\n\n\n2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
	    "no headers at all");
	free(c);
}

int
main(int argc, char *argv[])
{
	struct instant t;
	const char *suite, *why;
	struct stat st;

	suite = argc > 1 ? argv[1] : "t/data/aws/sigv4-testsuite";
	why = stat(suite, &st) != 0 ? strerror(errno) : !S_ISDIR(st.st_mode) ? "not a directory" : NULL;
	if (why != NULL) {
		printf("Bail out! no SigV4 test suite at %s: %s\n", suite, why);
		return 1;
	}
	rfc3339_parse("2015-08-30T12:36:00Z", 20, &t);
	sigv4_amzdate((time_t)t.sec, amzdate);
	is_str(amzdate, "20150830T123600Z", "the suite's X-Amz-Date");

	edges();
	if (walk(suite, "") != 0)
		printf("Bail out! cannot read %s\n", suite);
	/* Every case of the suite ran: none was skipped by a wrong file name. */
	ok(nclassic == 36, "36 classic cases (24 top-level, 8 normalize-path, 2 post-sts-token, 2 EC2), ran %d",
	    nclassic);
	ok(ncauth == 38, "38 aws-c-auth v4 cases, ran %d", ncauth);
	return done_testing();
}
