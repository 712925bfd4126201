/* ec2query.c: request parameters in the AWS CLI's JSON form to a Query protocol body (EC2, STS). */
#include <err.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ec2query.h"
#include "timefmt.h"
#include "util.h"

/*
 * The rules are botocore's QuerySerializer and EC2Serializer (serialize.py). Keys are built in one
 * buffer, and the JSON path for messages in another, each cut back after a member is written.
 * Members and map entries go in the order of the caller's object, as botocore writes a dict.
 */

struct buf {
	char	*p;
	size_t	 len, cap;
};

struct q {
	const struct ec2_operation	*op;
	struct buf			 body;
	struct buf			 key;	/* "Filter.1.Value" */
	struct buf			 path;	/* "Filters[0].Values" */
	char				*err;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? 2 * b->cap : 256;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
cut(struct buf *b, size_t len)
{
	b->len = len;
	b->p[len] = '\0';
}

/* As Python's quote_plus(): unreserved characters as they are, a space as "+", the rest %XX. */
static void
put_encoded(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3];
	unsigned char ch;
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~')
			continue;
		put(b, s + start, i - start);
		if (ch == ' ') {
			put(b, "+", 1);
		} else {
			e[0] = '%';
			e[1] = hex[ch >> 4];
			e[2] = hex[ch & 15];
			put(b, e, 3);
		}
		start = i + 1;
	}
	put(b, s + start, n - start);
}

static void
pair(struct q *q, const char *v, size_t n)
{
	put(&q->body, "&", 1);
	put_encoded(&q->body, q->key.p, q->key.len);
	put(&q->body, "=", 1);
	put_encoded(&q->body, v, n);
}

static int
bad(struct q *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
bad(struct q *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&q->err, fmt, ap) < 0)
		err(EXIT_FAIL, "vasprintf");
	va_end(ap);
	return -1;
}

const char *
ec2query_kind_name(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL: return "null";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE: return "a boolean";
	case JV_KIND_NUMBER: return "a number";
	case JV_KIND_STRING: return "a string";
	case JV_KIND_ARRAY: return "a list";
	case JV_KIND_OBJECT: return "an object";
	default: return "nothing";
	}
}

static int
type_error(struct q *q, jv v, const char *want)
{
	return bad(q, "%s: expected %s, got %s", q->path.len ? q->path.p : "parameters", want,
	    ec2query_kind_name(v));
}

/* The shortest decimal that reads back as d, as Python's repr() writes a float. */
static void
format_double(double d, char *out, size_t size)
{
	int prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(out, size, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
	snprintf(out, size, "%.17g", d);
}

char *
ec2query_base64(const void *data, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = data;
	char *out = xmalloc(n / 3 * 4 + 5), *o = out;
	unsigned long v;
	size_t i;

	for (i = 0; i < n; i += 3) {
		v = (unsigned long)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

int
ec2query_timestamp(jv v, enum ec2_tsformat format, char buf[64], const char **why)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct instant t;
	struct tm tm;
	char *end;
	const char *s;
	double d = 0;
	time_t sec;
	long usec;
	int epoch = 1;

	*why = "expected a timestamp";
	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		d = jv_number_value(v);
	} else if (jv_get_kind(v) == JV_KIND_STRING) {
		s = jv_string_value(v);
		if (rfc3339_parse(s, (size_t)jv_string_length_bytes(jv_copy(v)), &t) == 0) {
			epoch = 0;
		} else {
			d = strtod(s, &end);
			if (*s == '\0' || *end != '\0')
				return -1;
		}
	} else
		return -1;
	*why = "timestamp out of range";
	if (epoch) {
		if (!isfinite(d) || fabs(d) > 1e15)
			return -1;
		t.sec = (int64_t)floor(d);
		t.nsec = (int32_t)lround((d - floor(d)) * 1e6) * 1000;
		if (t.nsec == 1000000000) {
			t.sec++;
			t.nsec = 0;
		}
	}
	sec = (time_t)t.sec;
	usec = t.nsec / 1000;
	if (gmtime_r(&sec, &tm) == NULL)
		return -1;
	switch (format) {
	case EC2_TS_UNIX:
		snprintf(buf, 64, "%lld", (long long)t.sec);
		break;
	case EC2_TS_RFC822:
		snprintf(buf, 64, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
		    days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon, tm.tm_year + 1900,
		    tm.tm_hour, tm.tm_min, tm.tm_sec);
		break;
	default:
		end = buf + strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
		if (usec != 0)
			snprintf(end, 16, ".%06ldZ", usec);
		else
			snprintf(end, 16, "Z");
		break;
	}
	return 0;
}

/* A timestamp given as epoch seconds or an RFC 3339 string, written in the member's format. */
static int
timestamp(struct q *q, const struct ec2_member *m, jv v)
{
	char buf[64];
	const char *why;

	if (jv_get_kind(v) != JV_KIND_NUMBER && jv_get_kind(v) != JV_KIND_STRING)
		return type_error(q, v, "a timestamp");
	if (ec2query_timestamp(v, m->tsformat, buf, &why) == -1) {
		if (jv_get_kind(v) == JV_KIND_STRING && strcmp(why, "expected a timestamp") == 0)
			return bad(q, "%s: expected a timestamp, got \"%s\"", q->path.p,
			    jv_string_value(v));
		return bad(q, "%s: %s", q->path.p, why);
	}
	pair(q, buf, strlen(buf));
	return 0;
}

/* botocore fills an idempotency token the caller leaves out with uuid4(). */
static void
token(struct q *q)
{
	unsigned char r[16];
	char s[40];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		err(EXIT_FAIL, "getrandom");
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(s, sizeof(s), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
	    r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	pair(q, s, strlen(s));
}

static int	ser(struct q *, const struct ec2_member *, jv);

static void
key_segment(struct buf *b, const char *seg)
{
	if (b->len > 0)
		put(b, ".", 1);
	puts_(b, seg);
}

static int
ser_struct(struct q *q, const struct ec2_shape *s, jv v)
{
	const struct ec2_member *m;
	size_t klen = q->key.len, plen = q->path.len;
	unsigned i, given = 0;
	int r = 0;

	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return type_error(q, v, "an object");
	/* In the caller's order, as botocore writes them: the body is then the CLI's, byte for byte. */
	jv_object_foreach(v, k, val) {
		for (i = 0; i < s->nmembers; i++)
			if (strcmp(s->members[i].name, jv_string_value(k)) == 0)
				break;
		if (r == 0 && i == s->nmembers) {
			key_segment(&q->path, jv_string_value(k));
			r = bad(q, "unknown parameter \"%s\"", q->path.p);
		} else if (r == 0) {
			m = &s->members[i];
			given++;
			key_segment(&q->key, m->query);
			key_segment(&q->path, m->name);
			r = ser(q, m, jv_copy(val));
			if (r == 0) {
				cut(&q->key, klen);
				cut(&q->path, plen);
			}
		}
		jv_free(k);
		jv_free(val);
	}
	for (i = 0; i < s->nmembers && r == 0 && given < s->nmembers; i++) {
		m = &s->members[i];
		if (!(m->flags & (EC2_M_IDEMPOTENT | EC2_M_REQUIRED)) ||
		    jv_object_has(jv_copy(v), jv_string(m->name)))
			continue;
		key_segment(&q->key, m->query);
		key_segment(&q->path, m->name);
		if (m->flags & EC2_M_IDEMPOTENT)
			token(q);
		else
			r = bad(q, "missing required parameter \"%s\"", q->path.p);
		if (r == 0) {
			cut(&q->key, klen);
			cut(&q->path, plen);
		}
	}
	return r;
}

static int
ser_list(struct q *q, const struct ec2_member *m, jv v)
{
	const struct ec2_member *el = &m->shape->members[0];
	size_t klen = q->key.len, plen = q->path.len, base;
	char n[32];
	int i, len;

	if (jv_get_kind(v) != JV_KIND_ARRAY)
		return type_error(q, v, "a list");
	len = jv_array_length(jv_copy(v));
	if (len == 0) {
		/* The Query protocol says "empty" with Key=; EC2 says nothing. */
		if (q->op->protocol == EC2_PROTO_QUERY)
			pair(q, "", 0);
		return 0;
	}
	if (q->op->protocol == EC2_PROTO_QUERY) {
		/* A flattened list's items repeat under the member's key (gen-model.py chose it). */
		if (!(m->flags & EC2_M_FLATTENED)) {
			put(&q->key, ".", 1);
			puts_(&q->key, el->query != NULL ? el->query : "member");
		}
	}
	base = q->key.len;
	for (i = 0; i < len; i++) {
		snprintf(n, sizeof(n), ".%d", i + 1);
		puts_(&q->key, n);
		snprintf(n, sizeof(n), "[%d]", i);
		puts_(&q->path, n);
		if (ser(q, el, jv_array_get(jv_copy(v), i)) != 0)
			return -1;
		cut(&q->key, base);
		cut(&q->path, plen);
	}
	cut(&q->key, klen);
	return 0;
}

static int
ser_map(struct q *q, const struct ec2_member *m, jv v)
{
	const struct ec2_member *key = &m->shape->members[0], *value = &m->shape->members[1];
	size_t klen = q->key.len, plen = q->path.len, base;
	char n[32];
	int i = 0, r = 0;

	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return type_error(q, v, "an object");
	if (!(m->flags & EC2_M_FLATTENED))
		puts_(&q->key, ".entry");
	base = q->key.len;
	jv_object_foreach(v, k, val) {
		if (r == 0) {
			snprintf(n, sizeof(n), ".%d.", ++i);
			puts_(&q->key, n);
			puts_(&q->key, key->query);
			pair(q, jv_string_value(k), (size_t)jv_string_length_bytes(jv_copy(k)));
			cut(&q->key, base);
			puts_(&q->key, n);
			puts_(&q->key, value->query);
			put(&q->path, "[", 1);
			puts_(&q->path, jv_string_value(k));
			put(&q->path, "]", 1);
			r = ser(q, value, jv_copy(val));
			if (r == 0) {
				cut(&q->key, base);
				cut(&q->path, plen);
			}
		}
		jv_free(k);
		jv_free(val);
	}
	if (r == 0)
		cut(&q->key, klen);
	return r;
}

/* Writes v (consumed), read as m, under the current key. Returns 0, or -1 and q->err. */
static int
ser(struct q *q, const struct ec2_member *m, jv v)
{
	struct buf b = { NULL, 0, 0 };
	char num[64];
	const char *s;
	double d;
	int r = 0;

	switch (m->shape->type) {
	case EC2_STRUCTURE:
		r = ser_struct(q, m->shape, v);
		break;
	case EC2_LIST:
		r = ser_list(q, m, v);
		break;
	case EC2_MAP:
		r = ser_map(q, m, v);
		break;
	case EC2_STRING:
		if (jv_get_kind(v) != JV_KIND_STRING)
			r = type_error(q, v, "a string");
		else
			pair(q, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
		break;
	case EC2_BOOLEAN:
		if (jv_get_kind(v) == JV_KIND_TRUE)
			pair(q, "true", 4);
		else if (jv_get_kind(v) == JV_KIND_FALSE)
			pair(q, "false", 5);
		else
			r = type_error(q, v, "a boolean");
		break;
	case EC2_INTEGER:
	case EC2_LONG:
		d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : NAN;
		if (!isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0) {
			r = type_error(q, v, "an integer");
			break;
		}
		snprintf(num, sizeof(num), "%lld", (long long)d);
		pair(q, num, strlen(num));
		break;
	case EC2_FLOAT:
	case EC2_DOUBLE:
		if (jv_get_kind(v) == JV_KIND_NUMBER) {
			format_double(jv_number_value(v), num, sizeof(num));
			pair(q, num, strlen(num));
		} else if (jv_get_kind(v) == JV_KIND_STRING &&
		    (strcmp(s = jv_string_value(v), "NaN") == 0 || strcmp(s, "Infinity") == 0 ||
		    strcmp(s, "-Infinity") == 0)) {
			pair(q, s, strlen(s));
		} else
			r = type_error(q, v, "a number");
		break;
	case EC2_TIMESTAMP:
		r = timestamp(q, m, v);
		break;
	case EC2_BLOB:
		if (jv_get_kind(v) != JV_KIND_STRING) {
			r = type_error(q, v, "a string");
			break;
		}
		b.p = ec2query_base64(jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
		pair(q, b.p, strlen(b.p));
		free(b.p);
		break;
	case EC2_DOCUMENT:
		r = bad(q, "%s: a document cannot be sent in a query", q->path.p);
		break;
	}
	jv_free(v);
	return r;
}

/*
 * botocore's base64_encode_user_data handler: RunInstances' UserData is given as text, and sent
 * in base64. Consumes and returns params.
 */
static jv
user_data(jv params)
{
	char *b64;
	jv text;

	if (jv_get_kind(params) != JV_KIND_OBJECT)
		return params;
	text = jv_object_get(jv_copy(params), jv_string("UserData"));
	if (jv_get_kind(text) == JV_KIND_STRING) {
		b64 = ec2query_base64(jv_string_value(text),
		    (size_t)jv_string_length_bytes(jv_copy(text)));
		params = jv_object_set(params, jv_string("UserData"), jv_string(b64));
		free(b64);
	}
	jv_free(text);
	return params;
}

char *
ec2query_body(const struct ec2_operation *op, jv params, char **errmsg)
{
	struct q q;
	struct ec2_member root;

	memset(&q, 0, sizeof(q));
	q.op = op;
	puts_(&q.key, "");
	puts_(&q.path, "");
	puts_(&q.body, "Action=");
	put_encoded(&q.body, op->name, strlen(op->name));
	puts_(&q.body, "&Version=");
	put_encoded(&q.body, op->version, strlen(op->version));
	if (jv_get_kind(params) == JV_KIND_NULL) {
		jv_free(params);
		params = jv_object();
	}
	if (strcmp(op->service, "ec2") == 0 && strcmp(op->name, "RunInstances") == 0)
		params = user_data(params);
	if (op->input != NULL) {
		memset(&root, 0, sizeof(root));
		root.shape = op->input;
		ser(&q, &root, params);
	} else if (jv_get_kind(params) != JV_KIND_OBJECT) {
		type_error(&q, params, "an object");
		jv_free(params);
	} else if (jv_object_length(params) != 0) {
		bad(&q, "%s takes no parameters", op->name);
	}
	free(q.key.p);
	free(q.path.p);
	if (q.err != NULL) {
		free(q.body.p);
		*errmsg = q.err;
		return NULL;
	}
	return q.body.p;
}
