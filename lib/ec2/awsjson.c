/* awsjson.c: the JSON 1.1 protocol (SSM): requests, responses and errors, driven by ec2model.h. */
#include <err.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsjson.h"
#include "ec2query.h"
#include "ec2xml.h"
#include "util.h"

/* A walk of one value: where it is ("Filters[0].Values"), and the first error met. */
struct walk {
	char	*path;
	char	*err;
	int	 response;	/* reading a response (errors say "bad response") */
};

static int	bad(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
bad(struct walk *w, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (w->err != NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		errx(EXIT_FAIL, "out of memory");
	va_end(ap);
	if (w->response)
		xasprintf(&w->err, "bad response: %s", msg);
	else
		w->err = xstrdup(msg);
	free(msg);
	return -1;
}

/* Borrows v. */
static int
type_error(struct walk *w, jv v, const char *want)
{
	return bad(w, "%s: expected %s, got %s", *w->path != '\0' ? w->path : "parameters", want,
	    ec2query_kind_name(v));
}

/* Descends into w's path: ".name" (or "name" at the top) or "[i]"; returns the old path. */
static char *
enter(struct walk *w, const char *name, int i)
{
	char *old = w->path;

	if (name != NULL)
		xasprintf(&w->path, "%s%s%s", old, *old != '\0' ? "." : "", name);
	else
		xasprintf(&w->path, "%s[%d]", old, i);
	return old;
}

static void
leave(struct walk *w, char *old)
{
	free(w->path);
	w->path = old;
}

/*
 * Whether v (borrowed) is a JSON value of the scalar shape s as both directions carry it: NULL if
 * it is (or s is no such scalar), else what was expected, for the message. A request's integers
 * must be exact in a double; a response's longs may be larger (read as the nearest double).
 */
static const char *
scalar_mismatch(const struct walk *w, const struct ec2_shape *s, jv v)
{
	const char *str;
	double d;

	switch (s->type) {
	case EC2_STRING:
	case EC2_BLOB:
		return jv_get_kind(v) == JV_KIND_STRING ? NULL : "a string";
	case EC2_BOOLEAN:
		return jv_get_kind(v) == JV_KIND_TRUE || jv_get_kind(v) == JV_KIND_FALSE ? NULL :
		    "a boolean";
	case EC2_INTEGER:
	case EC2_LONG:
		d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : NAN;
		return isfinite(d) && d == floor(d) && (w->response || fabs(d) <= 9007199254740992.0) ?
		    NULL : "an integer";
	case EC2_FLOAT:
	case EC2_DOUBLE:
		if (jv_get_kind(v) == JV_KIND_NUMBER)
			return NULL;
		/* JSON has no NaN or infinities: the protocol sends them as these strings. */
		str = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "";
		return strcmp(str, "NaN") == 0 || strcmp(str, "Infinity") == 0 ||
		    strcmp(str, "-Infinity") == 0 ? NULL : "a number";
	default:
		return NULL;
	}
}

static jv	req(struct walk *, const struct ec2_shape *, const struct ec2_member *, jv);

/* A structure's members, by their names in params (consumed), under their wire names. */
static jv
req_struct(struct walk *w, const struct ec2_shape *s, jv v)
{
	const struct ec2_member *m;
	jv out = jv_object(), x;
	unsigned i;
	char *old;

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		type_error(w, v, "an object");
		goto fail;
	}
	jv_object_foreach(v, key, val) {
		m = NULL;
		for (i = 0; i < s->nmembers; i++)
			if (strcmp(s->members[i].name, jv_string_value(key)) == 0)
				m = &s->members[i];
		old = enter(w, jv_string_value(key), 0);
		if (m == NULL) {
			bad(w, "unknown parameter \"%s\"", w->path);
			jv_free(val);
		} else if (jv_get_kind(val) != JV_KIND_NULL) {
			x = req(w, m->shape, m, val);
			if (jv_is_valid(x))
				out = jv_object_set(out, jv_string(m->query), x);
		} else
			jv_free(val);
		leave(w, old);
		jv_free(key);
		if (w->err != NULL)
			goto fail;
	}
	for (i = 0; i < s->nmembers; i++) {
		m = &s->members[i];
		if ((m->flags & EC2_M_REQUIRED) && !jv_object_has(jv_copy(out), jv_string(m->query))) {
			old = enter(w, m->name, 0);
			bad(w, "missing required parameter \"%s\"", w->path);
			leave(w, old);
			goto fail;
		}
	}
	jv_free(v);
	return out;
fail:
	jv_free(v);
	jv_free(out);
	return jv_invalid();
}

/* One value of shape s (member m: its timestamp format) from the CLI's form; consumes v. */
static jv
req(struct walk *w, const struct ec2_shape *s, const struct ec2_member *m, jv v)
{
	jv out = jv_invalid(), x;
	char buf[64], *b64, *old;
	const char *why, *want;
	int i, n;

	switch (s->type) {
	case EC2_STRUCTURE:
		return req_struct(w, s, v);
	case EC2_LIST:
		if (jv_get_kind(v) != JV_KIND_ARRAY) {
			type_error(w, v, "a list");
			break;
		}
		out = jv_array();
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n && w->err == NULL; i++) {
			old = enter(w, NULL, i);
			x = req(w, s->members[0].shape, &s->members[0], jv_array_get(jv_copy(v), i));
			leave(w, old);
			out = jv_array_append(out, jv_is_valid(x) ? x : jv_null());
		}
		break;
	case EC2_MAP:
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			type_error(w, v, "an object");
			break;
		}
		out = jv_object();
		jv_object_foreach(v, key, val) {
			old = enter(w, jv_string_value(key), 0);
			x = req(w, s->members[1].shape, &s->members[1], val);
			leave(w, old);
			if (jv_is_valid(x))
				out = jv_object_set(out, key, x);
			else
				jv_free(key);
		}
		break;
	case EC2_STRING:
	case EC2_BOOLEAN:
	case EC2_INTEGER:
	case EC2_LONG:
	case EC2_FLOAT:
	case EC2_DOUBLE:
		if ((want = scalar_mismatch(w, s, v)) != NULL)
			type_error(w, v, want);
		else
			out = jv_copy(v);
		break;
	case EC2_TIMESTAMP:
		if (jv_get_kind(v) != JV_KIND_NUMBER && jv_get_kind(v) != JV_KIND_STRING)
			type_error(w, v, "a timestamp");
		else if (ec2query_timestamp(v, m->tsformat, buf, &why) == -1)
			bad(w, "%s: %s", w->path, why);
		else if (m->tsformat == EC2_TS_UNIX)
			out = jv_number(strtod(buf, NULL));
		else
			out = jv_string(buf);
		break;
	case EC2_BLOB:
		if (jv_get_kind(v) != JV_KIND_STRING) {
			type_error(w, v, "a string");
			break;
		}
		b64 = ec2query_base64(jv_string_value(v),
		    (size_t)jv_string_length_bytes(jv_copy(v)));
		out = jv_string(b64);
		free(b64);
		break;
	case EC2_DOCUMENT:
		out = jv_copy(v);
		break;
	}
	jv_free(v);
	if (w->err != NULL) {
		jv_free(out);
		return jv_invalid();
	}
	return out;
}

char *
awsjson_body(const struct ec2_operation *op, jv params, char **errmsg)
{
	struct walk w = { xstrdup(""), NULL, 0 };
	jv out, text;
	char *body;

	if (jv_get_kind(params) == JV_KIND_NULL) {
		jv_free(params);
		params = jv_object();
	}
	if (op->input == NULL) {
		if (jv_get_kind(params) != JV_KIND_OBJECT ||
		    jv_object_length(jv_copy(params)) != 0) {
			jv_free(params);
			free(w.path);
			*errmsg = xstrdup("this action takes no parameters");
			return NULL;
		}
		out = params;
	} else
		out = req(&w, op->input, NULL, params);
	free(w.path);
	if (!jv_is_valid(out)) {
		*errmsg = w.err != NULL ? w.err : xstrdup("bad parameters");
		return NULL;
	}
	text = jv_dump_string(out, 0);
	body = xstrdup(jv_string_value(text));
	jv_free(text);
	return body;
}

/* One value of shape s from the response's JSON (consumed), as the CLI prints it. */
static jv
resp(struct walk *w, const struct ec2_shape *s, jv v)
{
	const struct ec2_member *m;
	jv out = jv_invalid(), x;
	char buf[64], ts[40], *old;
	const char *want;
	unsigned k;
	int i, n;

	switch (s->type) {
	case EC2_STRUCTURE:
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			type_error(w, v, "an object");
			break;
		}
		out = jv_object();
		for (k = 0; k < s->nmembers && w->err == NULL; k++) {
			m = &s->members[k];
			x = jv_object_get(jv_copy(v), jv_string(m->xml));
			if (!jv_is_valid(x) || jv_get_kind(x) == JV_KIND_NULL) {
				jv_free(x);
				continue;
			}
			old = enter(w, m->name, 0);
			x = resp(w, m->shape, x);
			leave(w, old);
			if (jv_is_valid(x))
				out = jv_object_set(out, jv_string(m->name), x);
		}
		break;
	case EC2_LIST:
		if (jv_get_kind(v) != JV_KIND_ARRAY) {
			type_error(w, v, "a list");
			break;
		}
		out = jv_array();
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n && w->err == NULL; i++) {
			old = enter(w, NULL, i);
			x = resp(w, s->members[0].shape, jv_array_get(jv_copy(v), i));
			leave(w, old);
			out = jv_array_append(out, jv_is_valid(x) ? x : jv_null());
		}
		break;
	case EC2_MAP:
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			type_error(w, v, "an object");
			break;
		}
		out = jv_object();
		jv_object_foreach(v, key, val) {
			old = enter(w, jv_string_value(key), 0);
			x = jv_get_kind(val) == JV_KIND_NULL ? val : resp(w, s->members[1].shape, val);
			leave(w, old);
			out = jv_object_set(out, key, jv_is_valid(x) ? x : jv_null());
		}
		break;
	case EC2_STRING:
	case EC2_BLOB:
	case EC2_BOOLEAN:
	case EC2_INTEGER:
	case EC2_LONG:
	case EC2_FLOAT:
	case EC2_DOUBLE:
		if ((want = scalar_mismatch(w, s, v)) != NULL)
			type_error(w, v, want);
		else
			out = jv_copy(v);
		break;
	case EC2_TIMESTAMP:
		/* Epoch seconds as a number, or a string in the member's format. */
		if (jv_get_kind(v) == JV_KIND_NUMBER)
			snprintf(buf, sizeof(buf), "%.6f", jv_number_value(v));
		else if (jv_get_kind(v) == JV_KIND_STRING)
			snprintf(buf, sizeof(buf), "%s", jv_string_value(v));
		else {
			type_error(w, v, "a timestamp");
			break;
		}
		if (ec2xml_timestamp(buf, strlen(buf), ts) == 0)
			out = jv_string(ts);
		else
			bad(w, "%s: expected a timestamp, got \"%s\"", w->path, buf);
		break;
	case EC2_DOCUMENT:
		out = jv_copy(v);
		break;
	}
	jv_free(v);
	if (w->err != NULL) {
		jv_free(out);
		return jv_invalid();
	}
	return out;
}

jv
awsjson_parse(const struct ec2_operation *op, const char *body, size_t len)
{
	struct walk w = { xstrdup(""), NULL, 1 };
	const char *why;
	size_t n;
	jv v, out, msg;

	while (len > 0 && (*body == ' ' || *body == '\t' || *body == '\r' || *body == '\n')) {
		body++;
		len--;
	}
	/* As ec2xml_parse(): an empty body is {} only where no member could be missed. */
	if (op->output == NULL || (len == 0 && op->output->nmembers == 0)) {
		free(w.path);
		return jv_object();
	}
	if (len == 0) {
		free(w.path);
		return jv_invalid_with_msg(jv_string("bad response: an empty body"));
	}
	v = jv_parse_sized(body, (int)(len < 0x7fffffff ? len : 0x7fffffff));
	if (!jv_is_valid(v)) {
		/* jq's message ends with " (while parsing '...')", the whole body: cut it. */
		msg = jv_invalid_get_msg(v);
		why = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "not JSON";
		for (n = strcspn(why, "("); n > 0 && why[n - 1] == ' '; n--)
			;
		out = jv_invalid_with_msg(jv_string_fmt("malformed JSON response: %.*s", (int)n,
		    why));
		jv_free(msg);
		free(w.path);
		return out;
	}
	out = resp(&w, op->output, v);
	free(w.path);
	if (w.err != NULL) {
		out = jv_invalid_with_msg(jv_string(w.err));
		free(w.err);
	}
	return out;
}

/* "aws.protocoltests#FooError:http://internal..." is FooError. */
static char *
error_code(const char *s)
{
	const char *p;

	if ((p = strchr(s, '#')) != NULL)
		s = p + 1;
	return xstrndup(s, strcspn(s, ":"));
}

int
awsjson_error(const char *body, size_t len, const char *error_type, char **code, char **message)
{
	jv v = jv_invalid(), c = jv_invalid(), m = jv_invalid();
	char *cs = NULL;

	if (len > 0 && len < 0x7fffffff)
		v = jv_parse_sized(body, (int)len);
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		c = jv_object_get(jv_copy(v), jv_string("__type"));
		if (jv_get_kind(c) != JV_KIND_STRING) {
			jv_free(c);
			c = jv_object_get(jv_copy(v), jv_string("code"));
		}
		m = jv_object_get(jv_copy(v), jv_string("message"));
		if (jv_get_kind(m) != JV_KIND_STRING) {
			jv_free(m);
			m = jv_object_get(jv_copy(v), jv_string("Message"));
		}
	}
	if (jv_get_kind(c) == JV_KIND_STRING)
		cs = error_code(jv_string_value(c));
	else if (error_type != NULL)
		cs = error_code(error_type);
	if (cs != NULL && *cs == '\0') {
		free(cs);
		cs = NULL;
	}
	if (cs != NULL) {
		if (code != NULL)
			*code = cs;
		else
			free(cs);
		if (message != NULL)
			*message = jv_get_kind(m) == JV_KIND_STRING ? xstrdup(jv_string_value(m)) :
			    NULL;
	}
	jv_free(v);
	jv_free(c);
	jv_free(m);
	return cs != NULL ? 0 : -1;
}
