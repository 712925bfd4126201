/*
 * Unit tests for lib/ec2/ec2query.c, lib/ec2/ec2xml.c and lib/ec2/awsjson.c: every case of the
 * SDKs' protocol tests for EC2, the Query protocol (STS, Auto Scaling) and JSON 1.1 (SSM)
 * (input-*.json: parameters to a request body; output-*.json: a response body to the output),
 * over the shapes the cases define, which tools/gen-model.py wrote into protocol-model.inc.
 *
 *   test-protocol FILE...	(input-ec2.json, output-query.json, ...: the name says which)
 *
 * Query bodies are compared byte for byte: ec2query keeps the order of the parameters, as botocore
 * does, and the cases give them in that order (the protocol itself does not order them). JSON
 * bodies are compared as JSON (the cases pretty-print some), with the X-Amz-Target and
 * Content-Type headers the operation carries.
 * The cases state outputs as the SDKs hold them, timestamps as epoch seconds and blobs decoded;
 * ec2xml gives them as the AWS CLI prints them ("2014-04-29T18:30:38+00:00", the base64 sent),
 * so the test maps its results to the cases' form, by the output shape, before comparing.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tap.h"
#include "awsjson.h"
#include "ec2model.h"
#include "ec2query.h"
#include "ec2xml.h"
#include "timefmt.h"
#include "protocol-model.inc"

static void __attribute__((format(printf, 1, 2)))
skip(const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("ok %d # SKIP ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int
is_uuid4(const char *s, size_t n)
{
	static const char form[] = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
	size_t i;

	if (n != sizeof(form) - 1)
		return 0;
	for (i = 0; i < n; i++) {
		if (form[i] == 'x' && !isxdigit((unsigned char)s[i]))
			return 0;
		if (form[i] == 'y' && strchr("89ab", s[i]) == NULL)
			return 0;
		if ((form[i] == '-' || form[i] == '4') && s[i] != form[i])
			return 0;
	}
	return 1;
}

/*
 * The idempotency token botocore makes up is random; the case expects the one its own generator
 * gave. Checks ours is a version 4 UUID and puts the expected one in its place.
 */
static int
fix_token(const struct ec2_shape *in, jv params, char **body, const char *want)
{
	const struct ec2_member *m;
	char key[128], *p, *w, *out;
	size_t n;
	unsigned i;

	for (i = 0; in != NULL && i < in->nmembers; i++) {
		m = &in->members[i];
		if (!(m->flags & EC2_M_IDEMPOTENT) ||
		    jv_object_has(jv_copy(params), jv_string(m->name)))
			continue;
		snprintf(key, sizeof(key), "&%s=", m->query);
		if ((p = strstr(*body, key)) == NULL || (w = strstr(want, key)) == NULL)
			return 0;
		p += strlen(key);
		w += strlen(key);
		n = strcspn(p, "&");
		if (!is_uuid4(p, n))
			return 0;
		out = malloc(strlen(*body) + strlen(w) + 1);
		memcpy(out, *body, (size_t)(p - *body));
		out[p - *body] = '\0';
		strncat(out, w, strcspn(w, "&"));
		strcat(out, p + n);
		free(*body);
		*body = out;
	}
	return 1;
}

/* The case's text with its line breaks as spaces, so that each TAP line stays one line. */
static jv
one_line(jv s)
{
	char *p, *q = strdup(jv_string_value(s));
	jv r;

	for (p = q; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	r = jv_string(q);
	free(q);
	jv_free(s);
	return r;
}

/* The header name of the case's headers (borrowed), whatever its case; jv_invalid() if none. */
static jv
header(jv headers, const char *name)
{
	jv r = jv_invalid();

	if (jv_get_kind(headers) != JV_KIND_OBJECT)
		return r;
	jv_object_foreach(jv_copy(headers), k, v) {
		if (strcasecmp(jv_string_value(k), name) == 0 && !jv_is_valid(r))
			r = v;
		else
			jv_free(v);
		jv_free(k);
	}
	return r;
}

/* A JSON 1.1 request: the body as JSON, and the headers the operation sets. */
static void
json_input(const struct ec2_operation *op, jv ser, jv params, const char *id, const char *desc,
    const char *note)
{
	jv want = jv_object_get(jv_copy(ser), jv_string("body"));
	jv hdrs = jv_object_get(jv_copy(ser), jv_string("headers"));
	jv target = header(hdrs, "X-Amz-Target"), ctype = header(hdrs, "Content-Type");
	jv got, wantv;
	char *body, *err = NULL;

	body = awsjson_body(op, jv_copy(params), &err);
	if (body == NULL) {
		ok(0, "%s: %s: %s", id, desc, err);
		free(err);
		goto out;
	}
	got = jv_parse(body);
	/* A case without a body asserts the headers only. */
	wantv = jv_is_valid(want) ? jv_parse(jv_string_value(want)) : jv_copy(got);
	if (!ok(jv_equal(jv_copy(got), jv_copy(wantv)) &&
	    (!jv_is_valid(target) || strcmp(jv_string_value(target), op->target) == 0) &&
	    (!jv_is_valid(ctype) || strcmp(jv_string_value(ctype), op->content_type) == 0),
	    "%s: %s%s", id, desc, note))
		printf("#   got: '%s' (X-Amz-Target %s, Content-Type %s)\n#   want: '%s'\n", body,
		    op->target, op->content_type, jv_is_valid(want) ? jv_string_value(want) : "");
	jv_free(got);
	jv_free(wantv);
	free(body);
out:
	jv_free(want);
	jv_free(hdrs);
	jv_free(target);
	jv_free(ctype);
}

static void
input_case(const char *file, int suite, jv c)
{
	jv given = jv_object_get(jv_copy(c), jv_string("given"));
	jv ser = jv_object_get(jv_copy(c), jv_string("serialized"));
	jv id = jv_object_get(jv_copy(c), jv_string("id"));
	jv want = jv_object_get(jv_copy(ser), jv_string("body"));
	jv params = jv_object_get(jv_copy(c), jv_string("params"));
	jv name = jv_object_get(jv_copy(given), jv_string("name"));
	jv desc = one_line(jv_object_get(jv_copy(c), jv_string("description")));
	jv uri;
	const struct ec2_operation *op;
	char ns[96], *body, *err = NULL;
	const char *note = "";

	snprintf(ns, sizeof(ns), "%s/%d", file, suite);
	op = pt_operation(ns, jv_string_value(name));
	if (jv_object_has(jv_copy(given), jv_string("requestcompression"))) {
		skip("%s: request compression (gzip) is not done: our requests are small",
		    jv_string_value(id));
		goto out;
	}
	if (!jv_is_valid(want) && (op == NULL || op->protocol != EC2_PROTO_JSON)) {
		skip("%s: the case gives no body", jv_string_value(id));
		goto out;
	}
	if (jv_object_has(jv_copy(ser), jv_string("host")))
		note = " (body only: endpoints and host prefixes are the HTTP client's)";
	if (op == NULL) {
		ok(0, "%s: operation %s in the table", jv_string_value(id), jv_string_value(name));
		goto out;
	}
	uri = jv_object_get(jv_copy(ser), jv_string("uri"));
	if (jv_get_kind(uri) == JV_KIND_STRING && strcmp(jv_string_value(uri), "/") != 0)
		note = " (body only: the path is the endpoint URL's)";
	jv_free(uri);
	if (op->protocol == EC2_PROTO_JSON) {
		json_input(op, ser, params, jv_string_value(id), jv_string_value(desc), note);
		goto out;
	}
	body = ec2query_body(op, jv_copy(params), &err);
	if (body == NULL) {
		ok(0, "%s: %s: %s", jv_string_value(id), jv_string_value(desc), err);
		free(err);
		goto out;
	}
	if (!fix_token(op->input, params, &body, jv_string_value(want))) {
		ok(0, "%s: idempotency token filled with a version 4 UUID", jv_string_value(id));
		printf("#   got: '%s'\n", body);
		free(body);
		goto out;
	}
	is_str(body, jv_string_value(want), "%s: %s%s", jv_string_value(id), jv_string_value(desc),
	    note);
	free(body);
out:
	jv_free(given);
	jv_free(ser);
	jv_free(id);
	jv_free(want);
	jv_free(params);
	jv_free(name);
	jv_free(desc);
	jv_free(c);
}

static jv
base64_decode(const char *s)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(strlen(s) + 1), *p;
	unsigned long v = 0;
	size_t n = 0, len = 0;
	jv r;

	for (; *s != '\0' && *s != '='; s++) {
		if ((p = strchr(tab, *s)) == NULL)
			continue;
		v = v << 6 | (unsigned long)(p - tab);
		if (++n % 4 == 0) {
			out[len++] = (char)(v >> 16);
			out[len++] = (char)(v >> 8);
			out[len++] = (char)v;
			v = 0;
		}
	}
	if (n % 4 == 2)
		out[len++] = (char)(v >> 4);
	else if (n % 4 == 3) {
		out[len++] = (char)(v >> 10);
		out[len++] = (char)(v >> 2);
	}
	r = jv_string_sized(out, (int)len);
	free(out);
	return r;
}

/* v (consumed) in the cases' form: timestamps as epoch seconds, blobs decoded. */
static jv
sdk_form(jv v, const struct ec2_shape *s)
{
	struct instant t;
	char buf[64];
	const char *str;
	unsigned i;
	int j, n;
	jv x, keys;

	switch (s->type) {
	case EC2_STRUCTURE:
		for (i = 0; i < s->nmembers; i++) {
			x = jv_object_get(jv_copy(v), jv_string(s->members[i].name));
			if (jv_is_valid(x))
				v = jv_object_set(v, jv_string(s->members[i].name),
				    sdk_form(x, s->members[i].shape));
		}
		return v;
	case EC2_LIST:
		n = jv_array_length(jv_copy(v));
		for (j = 0; j < n; j++)
			v = jv_array_set(v, j, sdk_form(jv_array_get(jv_copy(v), j),
			    s->members[0].shape));
		return v;
	case EC2_MAP:
		keys = jv_keys(jv_copy(v));
		n = jv_array_length(jv_copy(keys));
		for (j = 0; j < n; j++) {
			x = jv_array_get(jv_copy(keys), j);
			v = jv_object_set(v, jv_copy(x), sdk_form(jv_object_get(jv_copy(v), x),
			    s->members[1].shape));
		}
		jv_free(keys);
		return v;
	case EC2_TIMESTAMP:
		str = jv_string_value(v);
		if (rfc3339_parse(str, strlen(str), &t) != 0)
			return v;	/* left as it is, to fail the comparison */
		jv_free(v);
		snprintf(buf, sizeof(buf), "%lld.%06d", (long long)t.sec, t.nsec / 1000);
		return jv_number(strtod(buf, NULL));
	case EC2_BLOB:
		x = base64_decode(jv_string_value(v));
		jv_free(v);
		return x;
	default:
		return v;
	}
}

static void
output_case(const char *file, int suite, jv c)
{
	jv given = jv_object_get(jv_copy(c), jv_string("given"));
	jv id = jv_object_get(jv_copy(c), jv_string("id"));
	jv desc = jv_object_get(jv_copy(c), jv_string("description"));
	jv resp = jv_object_get(jv_copy(c), jv_string("response"));
	jv body = jv_object_get(jv_copy(resp), jv_string("body"));
	jv hdrs = jv_object_get(jv_copy(resp), jv_string("headers"));
	jv etype = header(hdrs, "X-Amzn-ErrorType");
	int json = strstr(file, "-json") != NULL;
	jv name = jv_object_get(jv_copy(given), jv_string("name"));
	jv want, got, wcode, wmsg;
	const struct ec2_operation *op;
	const char *b = jv_is_valid(body) ? jv_string_value(body) : "";
	char ns[96], *rid = NULL, *code = NULL, *msg = NULL;
	int good;

	snprintf(ns, sizeof(ns), "%s/%d", file, suite);
	op = pt_operation(ns, jv_string_value(name));
	if (!jv_is_valid(desc)) {
		jv_free(desc);
		desc = jv_string("parses the error");
	}
	desc = one_line(desc);
	if (jv_object_has(jv_copy(c), jv_string("errorCode"))) {
		/* The CLI reports an error's code and message; modeled members are not read. */
		wcode = jv_object_get(jv_copy(c), jv_string("errorCode"));
		wmsg = jv_object_get(jv_copy(c), jv_string("errorMessage"));
		/* JSON errors: the request id is x-amzn-RequestId's (lib/aws/http.c reads it). */
		if (json)
			good = awsjson_error(b, strlen(b), jv_is_valid(etype) ?
			    jv_string_value(etype) : NULL, &code, &msg) == 0;
		else
			good = ec2xml_error(b, strlen(b), &code, &msg, &rid) == 0 &&
			    rid != NULL && strcmp(rid, "foo-id") == 0;
		good = good && strcmp(code, jv_string_value(wcode)) == 0 &&
		    (!jv_is_valid(wmsg) || (msg != NULL && strcmp(msg, jv_string_value(wmsg)) == 0));
		ok(good, "%s: %s (code, message%s)", jv_string_value(id), jv_string_value(desc),
		    json ? "" : " and request id");
		if (!good)
			printf("#   got: code '%s', message '%s', request id '%s'\n",
			    code ? code : "(null)", msg ? msg : "(null)", rid ? rid : "(null)");
		jv_free(wcode);
		jv_free(wmsg);
		goto out;
	}
	if (op == NULL) {
		ok(0, "%s: operation %s in the table", jv_string_value(id), jv_string_value(name));
		goto out;
	}
	want = jv_object_get(jv_copy(c), jv_string("result"));
	if (json)
		got = awsjson_parse(op, b, strlen(b));
	else
		got = ec2xml_parse(op, b, strlen(b), &rid);
	if (!jv_is_valid(got)) {
		jv msgv = jv_invalid_get_msg(got);

		ok(0, "%s: %s", jv_string_value(id), jv_string_value(desc));
		printf("#   %s\n", jv_string_value(msgv));
		jv_free(msgv);
		jv_free(want);
		goto out;
	}
	if (op->output != NULL)
		got = sdk_form(got, op->output);
	good = jv_equal(jv_copy(got), jv_copy(want)) && (json ||
	    (strstr(b, "<requestId>requestid</requestId>") == NULL ?
	    rid == NULL : rid != NULL && strcmp(rid, "requestid") == 0));
	if (!ok(good, "%s: %s", jv_string_value(id), jv_string_value(desc))) {
		jv g = jv_dump_string(jv_copy(got), JV_PRINT_SORTED);
		jv w = jv_dump_string(jv_copy(want), JV_PRINT_SORTED);

		printf("#   got:  %s (request id %s)\n#   want: %s\n", jv_string_value(g),
		    rid ? rid : "none", jv_string_value(w));
		jv_free(g);
		jv_free(w);
	}
	jv_free(got);
	jv_free(want);
out:
	free(rid);
	free(code);
	free(msg);
	jv_free(given);
	jv_free(id);
	jv_free(desc);
	jv_free(resp);
	jv_free(body);
	jv_free(hdrs);
	jv_free(etype);
	jv_free(name);
	jv_free(c);
}

static jv
load(const char *path)
{
	jv all = jv_load_file(path, 0);

	if (!jv_is_valid(all) || jv_get_kind(all) != JV_KIND_ARRAY) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	return jv_array_get(all, 0);
}

int
main(int argc, char **argv)
{
	jv suites, cases;
	char file[64], *p;
	const char *base;
	int a, i, j, ns, nc;

	if (argc < 2) {
		fprintf(stderr, "usage: test-protocol FILE...\n");
		return 2;
	}
	for (a = 1; a < argc; a++) {
		/* "input-json", as gen-model.py keys the suites: the file's name without .json. */
		base = (p = strrchr(argv[a], '/')) != NULL ? p + 1 : argv[a];
		snprintf(file, sizeof(file), "%s", base);
		if ((p = strstr(file, ".json")) != NULL)
			*p = '\0';
		suites = load(argv[a]);
		ns = jv_array_length(jv_copy(suites));
		for (i = 0; i < ns; i++) {
			cases = jv_object_get(jv_array_get(jv_copy(suites), i), jv_string("cases"));
			nc = jv_array_length(jv_copy(cases));
			for (j = 0; j < nc; j++)
				if (strncmp(file, "input", 5) == 0)
					input_case(file, i, jv_array_get(jv_copy(cases), j));
				else
					output_case(file, i, jv_array_get(jv_copy(cases), j));
			jv_free(cases);
		}
		jv_free(suites);
	}
	return done_testing();
}
