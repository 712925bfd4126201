/* jsonl.c: reading JSON-lines records from file operands or stdin, with FILE:LINE diagnostics. */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "util.h"

void
jsonl_open(struct jsonl *r, char **paths)
{
	memset(r, 0, sizeof(*r));
	r->paths = paths;
	r->usestdin = paths[0] == NULL;
}

/* Opens the next input; returns 0 when there is none. */
static int
nextfile(struct jsonl *r)
{
	const char *path;

	if (r->fp != NULL && r->fp != stdin)
		fclose(r->fp);
	r->fp = NULL;
	if (r->usestdin) {
		r->usestdin = 0;
		path = "-";
	} else if ((path = *r->paths) != NULL)
		r->paths++;
	else
		return 0;
	r->lineno = 0;
	if (strcmp(path, "-") == 0) {
		r->fp = stdin;
		r->name = "stdin";
	} else {
		if ((r->fp = fopen(path, "re")) == NULL)
			err(EXIT_FAIL, "%s", path);
		r->name = path;
	}
	return 1;
}

static int
blank(const char *p, size_t len)
{
	for (; len > 0; p++, len--)
		if (*p != ' ' && *p != '\t')
			return 0;
	return 1;
}

int
jsonl_getline(struct jsonl *r)
{
	ssize_t n;

	for (;;) {
		if (r->fp == NULL && !nextfile(r))
			return 0;
		if ((n = getline(&r->line, &r->cap, r->fp)) == -1) {
			if (ferror(r->fp))
				err(EXIT_FAIL, "%s", r->name);
			if (!nextfile(r))
				return 0;
			continue;
		}
		r->lineno++;
		r->nolf = n == 0 || r->line[n - 1] != '\n';
		if (n > 0 && r->line[n - 1] == '\n')
			r->line[--n] = '\0';
		if (n > 0 && r->line[n - 1] == '\r')
			r->line[--n] = '\0';
		/* A byte-order mark some editors write is no part of the first record. */
		if (r->lineno == 1 && n >= 3 && memcmp(r->line, "\xef\xbb\xbf", 3) == 0) {
			n -= 3;
			memmove(r->line, r->line + 3, (size_t)n + 1);
		}
		r->len = n;
		if (!blank(r->line, r->len))
			return 1;
	}
}

char *
jsonl_parse_msg(jv v)
{
	jv msg;
	char *s, *cut;

	msg = jv_invalid_get_msg(v);
	s = xstrdup(jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "parse error");
	jv_free(msg);
	if ((cut = strstr(s, " (while parsing")) != NULL)
		*cut = '\0';
	return s;
}

/* Keys of the AWS CLI's documents, and the jq path to their records. */
static const struct {
	const char	*key;
	const char	*path;
} documents[] = {
	{ "\"Images\"", ".Images[]" },
	{ "\"Reservations\"", ".Reservations[].Instances[]" },
	{ "\"Snapshots\"", ".Snapshots[]" }
};

/*
 * When the current line opens a whole JSON document ("{" or "[" alone, as `aws ec2
 * describe-images` prints), what to do about it; else "". Reads ahead in the current input, which
 * the caller is about to give up on. The caller frees the result.
 */
static char *
document_hint(struct jsonl *r)
{
	char *line = NULL, *hint = NULL, *p = r->line + strspn(r->line, " \t");
	size_t cap = 0, i, n;

	n = strcspn(p, " \t");
	if (n != 1 || p[1 + strspn(p + 1, " \t")] != '\0' || (*p != '{' && *p != '['))
		return xstrdup("");
	if (*p == '{')
		for (n = 0; hint == NULL && n < 1000 && getline(&line, &cap, r->fp) != -1; n++)
			for (i = 0; hint == NULL && i < sizeof(documents) / sizeof(*documents); i++)
				if (strncmp(line + strspn(line, " \t"), documents[i].key,
				    strlen(documents[i].key)) == 0)
					xasprintf(&hint, "; this is one whole JSON document, not JSON lines: "
					    "pipe it through jq -c '%s'", documents[i].path);
	free(line);
	if (hint == NULL)
		xasprintf(&hint, "; this looks like one whole JSON document, not JSON lines: pipe it "
		    "through jq -c with the path to its records, such as '%s'",
		    *p == '[' ? ".[]" : ".Items[]");
	return hint;
}

jv
jsonl_parse(struct jsonl *r)
{
	jv v;

	if (!utf8_valid(r->line, r->len))
		jsonl_die(r, "not valid UTF-8");
	if (memchr(r->line, '\0', r->len) != NULL)
		jsonl_die(r, "NUL byte in line");
	v = jv_parse_sized(r->line, r->len);
	if (!jv_is_valid(v))
		jsonl_die(r, "not valid JSON: %s%s", jsonl_parse_msg(v), document_hint(r));
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		jsonl_die(r, "not a JSON object (a JSON %s)", jv_kind_name(jv_get_kind(v)));
	return v;
}

jv
jsonl_next(struct jsonl *r)
{
	if (!jsonl_getline(r))
		return jv_invalid();
	return jsonl_parse(r);
}

void
jsonl_die(struct jsonl *r, const char *fmt, ...)
{
	va_list ap;

	/* A message may quote the line: vdata_errx() keeps it to one line. */
	va_start(ap, fmt);
	vdata_errx(jsonl_where(r), fmt, ap);
}

char *
jsonl_where(struct jsonl *r)
{
	char *s;

	xasprintf(&s, "%s:%lu", r->name, r->lineno);
	return s;
}

void
jsonl_close(struct jsonl *r)
{
	if (r->fp != NULL && r->fp != stdin)
		fclose(r->fp);
	free(r->line);
	memset(r, 0, sizeof(*r));
}

int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned c;

	while (p < end) {
		/* ASCII runs are the common case: skip them eight bytes at a time. */
		while (end - p >= 8) {
			unsigned long long w;

			memcpy(&w, p, 8);
			if (w & 0x8080808080808080ULL)
				break;
			p += 8;
		}
		if (p == end)
			break;
		c = *p;
		if (c < 0x80) {
			p++;
		} else if (c >= 0xc2 && c <= 0xdf) {
			if (end - p < 2 || (p[1] & 0xc0) != 0x80)
				return 0;
			p += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			if (end - p < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
				return 0;
			if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
				return 0;	/* overlong, or a UTF-16 surrogate */
			p += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			if (end - p < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
			    (p[3] & 0xc0) != 0x80)
				return 0;
			if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
				return 0;	/* overlong, or past U+10FFFF */
			p += 4;
		} else
			return 0;
	}
	return 1;
}
