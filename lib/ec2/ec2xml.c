/* ec2xml.c: EC2 and STS responses (XML) read into the AWS CLI's JSON, driven by ec2model.h. */
#include <ctype.h>
#include <err.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <expat.h>

#include "ec2xml.h"
#include "timefmt.h"
#include "util.h"

/*
 * One streaming pass with expat, a stack of frames for the open elements, and the text of the
 * current scalar in one growing buffer: linear in the size of the body, however large. The rules
 * are botocore's XML parser's (BaseXMLResponseParser, EC2QueryParser, QueryParser), which the CLI
 * uses: a structure takes the first element of each member's name, every child of a list's
 * element is an item, a flattened list's items repeat under the member's own name, and a scalar
 * is the text before its first child.
 */

enum kind {
	K_ROOT,		/* the response element, when the output is not parsed from it */
	K_META,		/* <ResponseMetadata> */
	K_STRUCT,
	K_LIST,
	K_MAP,
	K_ENTRY,	/* a map's <entry> */
	K_SCALAR,
	K_REQID		/* a request id's text */
};

/* Where a finished element's value goes in its parent. */
enum role {
	R_NONE,
	R_RESULT,	/* it is the output */
	R_SLOT,		/* a structure's member slot */
	R_FLAT,		/* appended to a structure's flattened list in slot */
	R_FLATMAP,	/* a flattened map's entry, into the object in slot */
	R_ITEM,		/* appended to a list, or a map's entry */
	R_KEY,		/* a map entry's key */
	R_VALUE		/* a map entry's value */
};

struct frame {
	enum kind		 kind;
	enum role		 role;
	unsigned		 slot;
	const struct ec2_shape	*shape;	/* what this element is read as */
	jv			*slots;	/* K_STRUCT: one per member, jv_invalid() until seen */
	jv			 v;	/* K_LIST: the array; K_MAP: the object; K_ENTRY: the key */
	jv			 val;	/* K_ENTRY: the value */
	int			 child;	/* K_SCALAR, K_REQID: a child element ended the text */
};

struct ctx {
	XML_Parser			 p;
	const struct ec2_operation	*op;
	struct frame			*stack;
	size_t				 depth, cap;
	unsigned long			 skip;	/* depth inside an ignored element */
	char				*text;
	size_t				 tlen, tcap;
	jv				 result;
	char				*request_id;
	char				*err;
};

static const char *
local_name(const char *name)
{
	const char *colon = strrchr(name, ':');

	return colon != NULL ? colon + 1 : name;
}

static const struct ec2_member *
member_xml(const struct ec2_shape *s, const char *name, unsigned *slot)
{
	size_t lo = 0, hi = s->nmembers, mid;
	int c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(name, s->members[s->byxml[mid]].xml);
		if (c == 0) {
			*slot = s->byxml[mid];
			return &s->members[*slot];
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void
fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err == NULL) {
		va_start(ap, fmt);
		if (vasprintf(&c->err, fmt, ap) < 0)
			c->err = NULL;
		va_end(ap);
	}
	XML_StopParser(c->p, XML_FALSE);
}

/* Opens an element. K_SCALAR means "a value of shape": structures, lists, maps get their kind. */
static struct frame *
push(struct ctx *c, enum kind kind, const struct ec2_shape *shape, enum role role, unsigned slot)
{
	struct frame *f;
	unsigned i;

	if (c->depth == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		c->stack = xreallocarray(c->stack, c->cap, sizeof(*c->stack));
	}
	f = &c->stack[c->depth++];
	memset(f, 0, sizeof(*f));
	f->role = role;
	f->slot = slot;
	f->shape = shape;
	f->v = jv_invalid();
	f->val = jv_invalid();
	if (kind == K_SCALAR && shape != NULL) {
		switch (shape->type) {
		case EC2_STRUCTURE:
			kind = K_STRUCT;
			f->slots = xreallocarray(NULL, shape->nmembers, sizeof(jv));
			for (i = 0; i < shape->nmembers; i++)
				f->slots[i] = jv_invalid();
			break;
		case EC2_LIST:
			kind = K_LIST;
			f->v = jv_array();
			break;
		case EC2_MAP:
			kind = K_MAP;
			f->v = jv_object();
			break;
		default:
			break;
		}
	}
	f->kind = kind;
	if (kind == K_SCALAR || kind == K_REQID) {
		c->tlen = 0;
		c->text[0] = '\0';
	}
	return f;
}

static void
frame_free(struct frame *f)
{
	unsigned i;

	if (f->slots != NULL) {
		for (i = 0; i < f->shape->nmembers; i++)
			jv_free(f->slots[i]);
		free(f->slots);
	}
	jv_free(f->v);
	jv_free(f->val);
}

/* A member of parent structure f by element name: push the frame that reads it. */
static void
start_member(struct ctx *c, struct frame *f, const char *name)
{
	const struct ec2_member *m;
	unsigned slot;

	if (f->shape->nmembers == 0 || (m = member_xml(f->shape, name, &slot)) == NULL) {
		if (c->op->protocol == EC2_PROTO_EC2 && f->role == R_RESULT &&
		    strcmp(name, "requestId") == 0)
			push(c, K_REQID, NULL, R_NONE, 0);
		else
			c->skip = 1;
		return;
	}
	if ((m->flags & EC2_M_FLATTENED) && m->shape->type == EC2_LIST)
		push(c, K_SCALAR, m->shape->members[0].shape, R_FLAT, slot);
	else if ((m->flags & EC2_M_FLATTENED) && m->shape->type == EC2_MAP)
		push(c, K_ENTRY, m->shape, R_FLATMAP, slot);
	else if (jv_is_valid(f->slots[slot]))
		c->skip = 1;	/* botocore reads the first of repeated elements */
	else
		push(c, K_SCALAR, m->shape, R_SLOT, slot);
}

static void XMLCALL
on_start(void *ud, const XML_Char *qname, const XML_Char **attrs)
{
	struct ctx *c = ud;
	struct frame *f;
	const char *name = local_name(qname);
	const struct ec2_operation *op = c->op;

	(void)attrs;
	if (c->err != NULL)
		return;
	if (c->skip > 0) {
		c->skip++;
		return;
	}
	if (c->depth == 0) {
		if (op->protocol == EC2_PROTO_EC2 && op->output != NULL)
			push(c, K_SCALAR, op->output, R_RESULT, 0);
		else
			push(c, K_ROOT, NULL, R_NONE, 0);
		return;
	}
	f = &c->stack[c->depth - 1];
	switch (f->kind) {
	case K_ROOT:
		if (op->protocol == EC2_PROTO_EC2 && strcmp(name, "requestId") == 0)
			push(c, K_REQID, NULL, R_NONE, 0);
		else if (op->protocol == EC2_PROTO_QUERY && strcmp(name, "ResponseMetadata") == 0)
			push(c, K_META, NULL, R_NONE, 0);
		else if (op->output != NULL && op->result_wrapper != NULL &&
		    strcmp(name, op->result_wrapper) == 0 && jv_get_kind(c->result) == JV_KIND_INVALID)
			push(c, K_SCALAR, op->output, R_RESULT, 0);
		else
			c->skip = 1;
		break;
	case K_META:
		if (strcmp(name, "RequestId") == 0)
			push(c, K_REQID, NULL, R_NONE, 0);
		else
			c->skip = 1;
		break;
	case K_STRUCT:
		start_member(c, f, name);
		break;
	case K_LIST:
		push(c, K_SCALAR, f->shape->members[0].shape, R_ITEM, 0);
		break;
	case K_MAP:
		push(c, K_ENTRY, f->shape, R_ITEM, 0);
		break;
	case K_ENTRY:
		if (strcmp(name, f->shape->members[0].xml) == 0)
			push(c, K_SCALAR, f->shape->members[0].shape, R_KEY, 0);
		else if (strcmp(name, f->shape->members[1].xml) == 0)
			push(c, K_SCALAR, f->shape->members[1].shape, R_VALUE, 0);
		else
			c->skip = 1;
		break;
	case K_SCALAR:
	case K_REQID:
		f->child = 1;
		c->skip = 1;
		break;
	}
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct ctx *c = ud;
	struct frame *f;

	if (c->err != NULL || c->skip > 0 || c->depth == 0)
		return;
	f = &c->stack[c->depth - 1];
	if ((f->kind != K_SCALAR && f->kind != K_REQID) || f->child)
		return;
	if (c->tlen + (size_t)len + 1 > c->tcap) {
		while (c->tlen + (size_t)len + 1 > c->tcap)
			c->tcap = c->tcap ? 2 * c->tcap : 256;
		c->text = xrealloc(c->text, c->tcap);
	}
	memcpy(c->text + c->tlen, s, (size_t)len);
	c->tlen += (size_t)len;
	c->text[c->tlen] = '\0';
}

static const char *
trim(const char *s, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)*s)) {
		s++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)s[*len - 1]))
		(*len)--;
	return s;
}

/* Python's int(): optional sign, decimal digits, surrounding blanks. */
static int
integer_value(const char *s, size_t len, double *d)
{
	char buf[64];
	size_t i;

	s = trim(s, &len);
	if (len == 0 || len >= sizeof(buf))
		return -1;
	for (i = (*s == '+' || *s == '-'); i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	if (len == (size_t)(*s == '+' || *s == '-'))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*d = strtod(buf, NULL);
	return 0;
}

/* Python's float(): a decimal number, nan, inf or infinity, with a sign and blanks. */
static int
float_value(const char *s, size_t len, double *d)
{
	char buf[128], *end;
	size_t i;

	s = trim(s, &len);
	if (len == 0 || len >= sizeof(buf))
		return -1;
	for (i = 0; i < len; i++)
		if (s[i] == 'x' || s[i] == 'X' || s[i] == '(')
			return -1;	/* strtod's hexadecimal and nan(...) */
	memcpy(buf, s, len);
	buf[len] = '\0';
	*d = strtod(buf, &end);
	return *end == '\0' ? 0 : -1;
}

static int
month_of(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int i;

	for (i = 0; i < 12; i++)
		if (strncmp(s, months + 3 * i, 3) == 0)
			return i + 1;
	return 0;
}

/*
 * A timestamp as the CLI prints it: botocore's parse_timestamp() then isoformat(). ISO 8601
 * keeps its wall time and offset ("Z" is "+00:00", no offset stays none) and shows a fraction
 * as microseconds, cut; epoch seconds are shown in the local time zone; RFC 822 dates are GMT.
 * Writes at most 40 bytes into out. Returns 0, or -1 if s is none of these.
 */
int
ec2xml_timestamp(const char *s, size_t len, char out[40])
{
	struct instant t;
	struct tm tm;
	char buf[64], *p, wd[4], mon[4];
	const char *off;
	double d;
	time_t sec;
	long usec = 0;
	size_t n, k;
	int day, year, h, mi, se, used = 0, gmtoff;

	s = trim(s, &len);
	if (len == 0 || len >= sizeof(buf) - 1)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';

	/* "YYYY-MM-DDTHH:MM:SS" [".digits"] ["Z" | "+hh:mm"]: fixed places once valid. */
	off = NULL;
	if (rfc3339_parse(buf, len, &t) == 0) {
		if (buf[len - 1] == 'Z' || buf[len - 1] == 'z' || strcmp(buf + len - 6, "-00:00") == 0)
			off = "+00:00";
		else
			off = buf + len - 6;
	} else {
		buf[len] = 'Z';		/* no offset: the CLI shows none */
		if (rfc3339_parse(buf, len + 1, &t) == 0)
			off = "";
		buf[len] = '\0';
	}
	if (off != NULL && strncmp(buf, "0000", 4) == 0)
		return -1;	/* year 0, before Python's datetime.MINYEAR */
	if (off != NULL) {
		p = out + snprintf(out, 20, "%.10sT%.8s", buf, buf + 11);
		if (buf[19] == '.') {
			for (n = 20, k = 0; isdigit((unsigned char)buf[n]); n++, k++)
				if (k < 6)
					usec = usec * 10 + (buf[n] - '0');
			for (; k < 6; k++)
				usec *= 10;
		}
		if (usec != 0)
			p += snprintf(p, 8, ".%06ld", usec);
		snprintf(p, 7, "%s", off);
		return 0;
	}

	if (float_value(buf, len, &d) == 0 && isfinite(d) && fabs(d) < 1e15) {
		sec = (time_t)floor(d);
		usec = lround((d - floor(d)) * 1e6);
		if (usec == 1000000) {
			sec++;
			usec = 0;
		}
		/*
		 * Python's datetime, which the CLI prints through, stops at years 1 and 9999; past
		 * them strftime would not fit and leave nothing but the offset.
		 */
		if (localtime_r(&sec, &tm) == NULL || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999 ||
		    (n = strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
			return -1;
		p = out + n;
		if (usec != 0)
			p += snprintf(p, 8, ".%06ld", usec);
		gmtoff = (int)(tm.tm_gmtoff % 86400);
		snprintf(p, 8, "%c%02d:%02d", gmtoff < 0 ? '-' : '+', abs(gmtoff) / 3600,
		    abs(gmtoff) % 3600 / 60);
		return 0;
	}

	/* "Tue, 29 Apr 2014 18:30:38 GMT", as HTTP dates are written. */
	if (sscanf(buf, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wd, &day, mon, &year,
	    &h, &mi, &se, &used) == 7 && (size_t)used == len && month_of(mon) != 0) {
		snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month_of(mon),
		    day, h, mi, se);
		if (rfc3339_parse(buf, strlen(buf), &t) != 0)
			return -1;
		snprintf(out, 40, "%.19s+00:00", buf);
		return 0;
	}
	return -1;
}

static jv
scalar_value(struct ctx *c, const struct ec2_shape *shape)
{
	char ts[48];
	double d;

	switch (shape->type) {
	case EC2_BOOLEAN:
		return jv_bool(c->tlen == 4 && memcmp(c->text, "true", 4) == 0);
	case EC2_INTEGER:
	case EC2_LONG:
		if (integer_value(c->text, c->tlen, &d) != 0)
			break;
		return jv_number(d);
	case EC2_FLOAT:
	case EC2_DOUBLE:
		if (float_value(c->text, c->tlen, &d) != 0)
			break;
		if (isnan(d))
			return jv_string("NaN");
		if (isinf(d))
			return jv_string(d < 0 ? "-Infinity" : "Infinity");
		return jv_number(d);
	case EC2_TIMESTAMP:
		if (ec2xml_timestamp(c->text, c->tlen, ts) != 0)
			break;
		return jv_string(ts);
	default:	/* strings, and blobs, which the CLI shows as the base64 sent */
		return jv_string_sized(c->text, (int)c->tlen);
	}
	fail(c, "bad response: %s expected, got \"%.*s\" at line %lu",
	    shape->type == EC2_TIMESTAMP ? "a timestamp" :
	    shape->type == EC2_FLOAT || shape->type == EC2_DOUBLE ? "a number" : "an integer",
	    (int)(c->tlen < 40 ? c->tlen : 40), c->text,
	    (unsigned long)XML_GetCurrentLineNumber(c->p));
	return jv_invalid();
}

/* Hands value v (consumed) of the finished frame f to its parent. */
static void
deliver(struct ctx *c, struct frame *f, jv v)
{
	struct frame *parent = c->depth > 0 ? &c->stack[c->depth - 1] : NULL;

	switch (f->role) {
	case R_RESULT:
		jv_free(c->result);
		c->result = v;
		return;
	case R_SLOT:
		parent->slots[f->slot] = v;
		return;
	case R_FLAT:
		if (!jv_is_valid(parent->slots[f->slot]))
			parent->slots[f->slot] = jv_array();
		parent->slots[f->slot] = jv_array_append(parent->slots[f->slot], v);
		return;
	case R_ITEM:
		parent->v = jv_array_append(parent->v, v);
		return;
	case R_KEY:
		jv_free(parent->v);
		parent->v = v;
		return;
	case R_VALUE:
		jv_free(parent->val);
		parent->val = v;
		return;
	case R_FLATMAP:
	case R_NONE:
		break;
	}
	jv_free(v);
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct ctx *c = ud;
	struct frame f;
	jv v, *into;
	unsigned i;

	(void)name;
	if (c->err != NULL)
		return;
	if (c->skip > 0) {
		c->skip--;
		return;
	}
	f = c->stack[--c->depth];
	switch (f.kind) {
	case K_STRUCT:
		v = jv_object();
		for (i = 0; i < f.shape->nmembers; i++) {
			if (jv_is_valid(f.slots[i]))
				v = jv_object_set(v, jv_string(f.shape->members[i].name), f.slots[i]);
		}
		free(f.slots);
		deliver(c, &f, v);
		break;
	case K_LIST:
	case K_MAP:
		deliver(c, &f, f.v);
		break;
	case K_ENTRY:
		if (f.role == R_ITEM) {
			into = &c->stack[c->depth - 1].v;
		} else {
			into = &c->stack[c->depth - 1].slots[f.slot];
			if (!jv_is_valid(*into))
				*into = jv_object();
		}
		if (jv_get_kind(f.v) == JV_KIND_STRING && jv_is_valid(f.val))
			*into = jv_object_set(*into, f.v, f.val);
		else
			frame_free(&f);
		break;
	case K_SCALAR:
		v = scalar_value(c, f.shape);
		if (jv_is_valid(v))
			deliver(c, &f, v);
		break;
	case K_REQID:
		if (c->request_id == NULL)
			c->request_id = xstrndup(c->text, c->tlen);
		break;
	case K_ROOT:
	case K_META:
		break;
	}
}

/*
 * botocore's decode_console_output handler: GetConsoleOutput's Output arrives in base64 and the
 * CLI prints it decoded, as UTF-8 with bad bytes replaced. Python's b64decode skips characters
 * outside the alphabet and wants whole quartets; Output stays as it came when it cannot decode.
 */
static jv
console_output(jv out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	jv text = jv_object_get(jv_copy(out), jv_string("Output"));
	const char *s, *p;
	char *dec;
	unsigned long v = 0;
	size_t n = 0, pad = 0, len = 0;

	if (jv_get_kind(text) != JV_KIND_STRING) {
		jv_free(text);
		return out;
	}
	s = jv_string_value(text);
	dec = xmalloc(strlen(s) / 4 * 3 + 3);
	for (; *s != '\0'; s++) {
		if (*s == '=') {
			if ((n + ++pad) % 4 == 0)
				break;	/* the end of the data, whatever follows */
			continue;
		}
		if (pad > 0 || (p = strchr(tab, *s)) == NULL)
			continue;
		v = v << 6 | (unsigned long)(p - tab);
		if (++n % 4 == 0) {
			dec[len++] = (char)(v >> 16);
			dec[len++] = (char)(v >> 8);
			dec[len++] = (char)v;
		}
	}
	if ((n + pad) % 4 == 0 && n % 4 != 1) {
		if (n % 4 == 2) {
			dec[len++] = (char)(v >> 4);
		} else if (n % 4 == 3) {
			dec[len++] = (char)(v >> 10);
			dec[len++] = (char)(v >> 2);
		}
		out = jv_object_set(out, jv_string("Output"), jv_string_sized(dec, (int)len));
	}
	free(dec);
	jv_free(text);
	return out;
}

/* Parses len bytes, in pieces if len is past what XML_Parse takes at once. */
static int
feed(XML_Parser p, const char *body, size_t len)
{
	size_t n;

	do {
		n = len < INT_MAX / 2 ? len : INT_MAX / 2;
		if (XML_Parse(p, body, (int)n, n == len) != XML_STATUS_OK)
			return 0;
		body += n;
		len -= n;
	} while (len > 0);
	return 1;
}

static int
blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

jv
ec2xml_parse(const struct ec2_operation *op, const char *body, size_t len, char **request_id)
{
	struct ctx c;
	jv out;
	int ok;

	if (request_id != NULL)
		*request_id = NULL;
	/*
	 * An empty body is an empty output only where nothing could be missed: an action whose
	 * output has no members. Elsewhere a listing that came back empty would read as "none".
	 */
	if ((op->output == NULL || op->output->nmembers == 0) && blank(body, len))
		return jv_object();
	memset(&c, 0, sizeof(c));
	c.op = op;
	c.result = jv_invalid();
	c.tcap = 256;
	c.text = xmalloc(c.tcap);
	c.text[0] = '\0';
	if ((c.p = XML_ParserCreate(NULL)) == NULL)
		errx(EXIT_FAIL, "XML_ParserCreate failed");
	XML_SetUserData(c.p, &c);
	XML_SetElementHandler(c.p, on_start, on_end);
	XML_SetCharacterDataHandler(c.p, on_text);
	ok = feed(c.p, body, len);
	if (!ok && c.err == NULL)
		xasprintf(&c.err, "malformed XML response: %s at line %lu",
		    XML_ErrorString(XML_GetErrorCode(c.p)),
		    (unsigned long)XML_GetCurrentLineNumber(c.p));
	if (ok && op->output == NULL)
		c.result = jv_object();
	else if (ok && !jv_is_valid(c.result))
		xasprintf(&c.err, "bad response: no <%s> element", op->result_wrapper ?
		    op->result_wrapper : "?");
	while (c.depth > 0)
		frame_free(&c.stack[--c.depth]);
	if (c.err != NULL) {
		jv_free(c.result);
		out = jv_invalid_with_msg(jv_string(c.err));
	} else if (strcmp(op->service, "ec2") == 0 && strcmp(op->name, "GetConsoleOutput") == 0)
		out = console_output(c.result);
	else
		out = c.result;
	XML_ParserFree(c.p);
	free(c.stack);
	free(c.text);
	free(c.err);
	if (request_id != NULL)
		*request_id = c.request_id;
	else
		free(c.request_id);
	return out;
}

/*
 * The error reader: the local names of the open elements (as far as they matter: the first four
 * levels) and the text of the one being captured.
 */
struct errctx {
	char		 path[4][16];
	unsigned	 depth;
	char		**want;		/* where the captured text goes; NULL when not capturing */
	char		*text;
	size_t		 tlen;
	int		 errors;	/* <Error> elements ended so far: only the first counts */
	char		*code, *message, *request_id;
};

static void XMLCALL
err_start(void *ud, const XML_Char *qname, const XML_Char **attrs)
{
	struct errctx *e = ud;
	const char *name = local_name(qname);
	const char *parent = e->depth > 0 && e->depth <= 4 ? e->path[e->depth - 1] : "";

	(void)attrs;
	e->want = NULL;
	if (e->depth < 4)
		snprintf(e->path[e->depth], sizeof(e->path[0]), "%s", name);
	/* <Error> is the root's child (STS) or grandchild under <Errors> (EC2). */
	if (strcmp(parent, "Error") == 0 && e->errors == 0 &&
	    (e->depth == 2 || (e->depth == 3 && strcmp(e->path[1], "Errors") == 0))) {
		if (strcmp(name, "Code") == 0 && e->code == NULL)
			e->want = &e->code;
		else if (strcmp(name, "Message") == 0 && e->message == NULL)
			e->want = &e->message;
	} else if (e->depth == 1 && e->request_id == NULL &&
	    (strcmp(name, "RequestID") == 0 || strcmp(name, "RequestId") == 0)) {
		e->want = &e->request_id;
	}
	e->tlen = 0;
	e->depth++;
}

static void XMLCALL
err_text(void *ud, const XML_Char *s, int len)
{
	struct errctx *e = ud;

	if (e->want == NULL)
		return;
	e->text = xrealloc(e->text, e->tlen + (size_t)len + 1);
	memcpy(e->text + e->tlen, s, (size_t)len);
	e->tlen += (size_t)len;
}

static void XMLCALL
err_end(void *ud, const XML_Char *qname)
{
	struct errctx *e = ud;

	e->depth--;
	if (e->want != NULL) {
		*e->want = xstrndup(e->text != NULL ? e->text : "", e->tlen);
		e->want = NULL;
	}
	if (strcmp(local_name(qname), "Error") == 0 && (e->depth == 1 || e->depth == 2))
		e->errors++;
}

static void
give(char **to, char *s)
{
	if (to != NULL)
		*to = s;
	else
		free(s);
}

int
ec2xml_error(const char *body, size_t len, char **code, char **message, char **request_id)
{
	struct errctx e;
	XML_Parser p;
	int ok;

	memset(&e, 0, sizeof(e));
	if ((p = XML_ParserCreate(NULL)) == NULL)
		errx(EXIT_FAIL, "XML_ParserCreate failed");
	XML_SetUserData(p, &e);
	XML_SetElementHandler(p, err_start, err_end);
	XML_SetCharacterDataHandler(p, err_text);
	ok = feed(p, body, len);
	XML_ParserFree(p);
	free(e.text);
	if (!ok || e.code == NULL) {
		free(e.code);
		free(e.message);
		free(e.request_id);
		return -1;
	}
	give(code, e.code);
	give(message, e.message);
	give(request_id, e.request_id);
	return 0;
}
