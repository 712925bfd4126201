/* jsonscan.c: checking a JSON object without building it, and finding its top-level members in the raw bytes. */
#include <stdint.h>
#include <string.h>

#include "jsonscan.h"

/*
 * The scan only says yes to RFC 8259 text, a subset of what jq 1.6 parses (jq also takes 01, nan
 * and nesting up to 256), so that a line it accepts is a line jsonl_parse accepts too.
 */

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

typedef const unsigned char *pos;

static pos	value(pos, pos, int);

/* Nonzero if one of the eight bytes in w is '"', '\\' or a control character (the bit tricks are exact). */
static uint64_t
special8(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

	return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w)) & HIGHS;
}

static pos
skipws(pos p, pos end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int
hex(unsigned c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* The \uXXXX at p (end - p >= 6 checked), or -1 if its digits are not hex. */
static long
unhex4(pos p)
{
	long v = 0;
	int i;

	for (i = 2; i < 6; i++) {
		if (!hex(p[i]))
			return -1;
		v = v << 4 | (p[i] <= '9' ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10);
	}
	return v;
}

/*
 * p is at the opening quote; returns the position after the closing one, or NULL. As in jq 1.6, a
 * high surrogate escape must be followed by a low one; a lone low surrogate is taken (as U+FFFD).
 */
static pos
string(pos p, pos end, int *escaped)
{
	uint64_t w;
	long u, lo;

	for (p++;;) {
		/* Strings are most of an EC2 record: skip runs of ordinary bytes eight at a time. */
		while (end - p >= 8) {
			memcpy(&w, p, 8);
			if (special8(w))
				break;
			p += 8;
		}
		if (p >= end)
			return NULL;
		if (*p == '"')
			return p + 1;
		if (*p < 0x20)
			return NULL;
		if (*p != '\\') {
			p++;
			continue;
		}
		*escaped = 1;
		if (end - p < 2)
			return NULL;
		switch (p[1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			p += 2;
			break;
		case 'u':
			if (end - p < 6 || (u = unhex4(p)) == -1)
				return NULL;
			p += 6;
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || (lo = unhex4(p)) < 0xDC00 ||
				    lo > 0xDFFF)
					return NULL;
				p += 6;
			}
			break;
		default:
			return NULL;
		}
	}
}

static pos
digits(pos p, pos end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

static pos
number(pos p, pos end)
{
	pos q;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		p = digits(p, end);
	else
		return NULL;
	if (p < end && *p == '.') {
		q = p + 1;
		if ((p = digits(q, end)) == q)
			return NULL;
	}
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		q = p;
		if ((p = digits(q, end)) == q)
			return NULL;
	}
	return p;
}

static pos
literal(pos p, pos end, const char *word, size_t len)
{
	if ((size_t)(end - p) < len || memcmp(p, word, len) != 0)
		return NULL;
	return p + len;
}

static void
match(struct jsonfield *f, size_t nf, pos name, size_t namelen, pos val, size_t vallen)
{
	for (; nf > 0; f++, nf--)
		if (f->name != NULL && f->namelen == namelen && memcmp(f->name, name, namelen) == 0) {
			f->val = (const char *)val;
			f->vallen = vallen;
		}
}

/* p is at '{'; with fields, the members of this object are matched against them. */
static pos
object(pos p, pos end, int depth, struct jsonfield *fields, size_t nfields)
{
	pos name, nameend, val;
	int escaped;

	if (depth > JSONSCAN_DEPTH)
		return NULL;
	p = skipws(p + 1, end);
	if (p < end && *p == '}')
		return p + 1;
	for (;;) {
		if (p >= end || *p != '"')
			return NULL;
		name = p;
		escaped = 0;
		if ((p = string(p, end, &escaped)) == NULL || (escaped && fields != NULL))
			return NULL;
		nameend = p - 1;
		p = skipws(p, end);
		if (p >= end || *p != ':')
			return NULL;
		val = p = skipws(p + 1, end);
		if ((p = value(p, end, depth)) == NULL)
			return NULL;
		if (fields != NULL)
			match(fields, nfields, name + 1, (size_t)(nameend - name - 1), val,
			    (size_t)(p - val));
		p = skipws(p, end);
		if (p < end && *p == ',') {
			p = skipws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return p + 1;
		return NULL;
	}
}

static pos
array(pos p, pos end, int depth)
{
	if (depth > JSONSCAN_DEPTH)
		return NULL;
	p = skipws(p + 1, end);
	if (p < end && *p == ']')
		return p + 1;
	for (;;) {
		if ((p = value(p, end, depth)) == NULL)
			return NULL;
		p = skipws(p, end);
		if (p < end && *p == ',') {
			p = skipws(p + 1, end);
			continue;
		}
		if (p < end && *p == ']')
			return p + 1;
		return NULL;
	}
}

static pos
value(pos p, pos end, int depth)
{
	int escaped;

	if (p >= end)
		return NULL;
	switch (*p) {
	case '"':
		return string(p, end, &escaped);
	case '{':
		return object(p, end, depth + 1, NULL, 0);
	case '[':
		return array(p, end, depth + 1);
	case 't':
		return literal(p, end, "true", 4);
	case 'f':
		return literal(p, end, "false", 5);
	case 'n':
		return literal(p, end, "null", 4);
	default:
		return number(p, end);
	}
}

int
jsonscan_object(const char *s, size_t len, struct jsonfield *fields, size_t nfields)
{
	pos p = (pos)s, end = p + len;
	size_t i;
	int want = 0;

	for (i = 0; i < nfields; i++) {
		fields[i].val = NULL;
		fields[i].vallen = 0;
		want |= fields[i].name != NULL;
	}
	p = skipws(p, end);
	if (p >= end || *p != '{')
		return 0;
	if ((p = object(p, end, 1, want ? fields : NULL, nfields)) == NULL)
		return 0;
	return skipws(p, end) == end;
}

int
jsonscan_plain_string(const char *p, size_t len)
{
	return len >= 2 && p[0] == '"' && p[len - 1] == '"' &&
	    memchr(p + 1, '\\', len - 2) == NULL && memchr(p + 1, 0x7f, len - 2) == NULL;
}
