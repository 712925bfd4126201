/* reckey.c: key options (-k, -g) evaluated on raw JSON lines; a leading .Field is read from the bytes, not a parsed record. */
#include <stdlib.h>
#include <string.h>

#include "jqexpr.h"
#include "jsonscan.h"
#include "reckey.h"
#include "util.h"

/*
 * Parsing a 1 KB EC2 record into jv values costs far more than reading it: jv_parse allocates every
 * member and converts every number. So the line is only checked (jsonscan), and a key that starts
 * with a member, ".F", ".F.G.H" or ".F | REST", is read from that member's bytes: a plain string as
 * it is, anything else parsed alone, and the rest of the expression (".G.H", REST) run on it by
 * jqexpr (which runs a plain path without libjq). Since "|" binds loosest in jq, ".F | REST" is
 * REST applied to .F, which on an object is the member or null, so the answers are jq's. The whole
 * record is parsed only when the scan cannot vouch for the line, or for any other expression.
 */

struct reckey {
	struct jqexpr	*jq;		/* the whole expression */
	const char	*expr;
	const char	*option;
	const char	*field;		/* the member the expression starts with, or NULL */
	size_t		 fieldlen;
	struct jqexpr	*rest;		/* what follows it, run on its value; NULL: nothing follows */
	const char	*resttext;
};

/* The longest value quoted in a message: a 10 MB date is no diagnostic. */
#define QUOTE_MAX	64

static const char *
skipws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* The rest of expr after its leading member, when reading the member first gives the same answer. */
static const char *
splitrest(const char *after)
{
	const char *p;

	/* ".F.G.H" and nothing else: ".F.G as $x | ." or ".F.G // .X" would not be .G.H of .F. */
	if (jqexpr_fields(after))
		return after;
	p = skipws(after);
	if (p[0] == '|' && p[1] != '=')
		return skipws(p + 1);
	return NULL;
}

struct reckey *
reckey_compile(const char *expr, const char *option)
{
	struct reckey *k;
	const char *p;

	k = xcalloc(1, sizeof(*k));
	k->jq = jqexpr_compile(expr, option);
	k->expr = expr;
	k->option = option;
	if ((p = jqexpr_field(expr)) == NULL)
		return k;
	if (*p == '\0' || (k->resttext = splitrest(p)) != NULL) {
		k->field = expr + 1;
		k->fieldlen = (size_t)(p - k->field);
	}
	if (k->resttext != NULL)
		k->rest = jqexpr_compile(k->resttext, option);
	return k;
}

void
reckey_free(struct reckey *k)
{
	if (k == NULL)
		return;
	jqexpr_free(k->jq);
	jqexpr_free(k->rest);
	free(k);
}

/* Evaluates k on the member the scan found (f); returns 0 if the record must be parsed instead. */
static int
from_member(struct reckey *k, const struct jsonfield *f, struct keyval *kv)
{
	jv v;

	kv->str = NULL;
	kv->len = 0;
	if (f->val == NULL || (f->vallen == 4 && memcmp(f->val, "null", 4) == 0)) {
		v = jv_null();
	} else if (k->rest == NULL && jsonscan_plain_string(f->val, f->vallen)) {
		kv->str = f->val + 1;
		kv->len = f->vallen - 2;
		kv->v = jv_invalid();
		return 1;
	} else {
		v = jv_parse_sized(f->val, (int)f->vallen);
		if (!jv_is_valid(v)) {
			jv_free(v);
			return 0;
		}
	}
	kv->v = k->rest ? jqexpr_first(k->rest, v) : v;
	return 1;
}

void
reckey_eval(struct jsonl *r, struct reckey **keys, size_t n, struct keyval *vals)
{
	struct jsonfield f[RECKEY_MAX];
	jv rec = jv_invalid();
	int scanned = 0, parsed = 0, want = 0;
	size_t i;

	if (n > RECKEY_MAX)
		abort();
	for (i = 0; i < n; i++) {
		f[i].name = keys[i]->field;
		f[i].namelen = keys[i]->fieldlen;
		want |= f[i].name != NULL;
	}
	/* No key reads a member: jsonl_parse checks the line as it parses it. */
	if (want)
		scanned = utf8_valid(r->line, r->len) && jsonscan_object(r->line, r->len, f, n);
	for (i = 0; i < n; i++) {
		if (scanned && keys[i]->field != NULL && from_member(keys[i], &f[i], &vals[i]))
			continue;
		if (!parsed) {
			rec = jsonl_parse(r);
			parsed = 1;
		}
		vals[i].str = NULL;
		vals[i].len = 0;
		vals[i].v = jqexpr_first(keys[i]->jq, jv_copy(rec));
	}
	jv_free(rec);
}

/* The jv's message when it is invalid (the expression failed), as a C string the caller frees. */
static char *
failure(struct reckey *k, const struct keyval *kv)
{
	size_t restlen;
	jv msg;
	char *s;

	msg = jv_invalid_get_msg(jv_copy(kv->v));
	restlen = k->resttext ? strlen(k->resttext) : 0;
	/* jqexpr names the expression it ran; when that was the rest, name the whole one. */
	if (jv_get_kind(msg) == JV_KIND_STRING && restlen > 0 &&
	    strncmp(jv_string_value(msg), k->resttext, restlen) == 0)
		xasprintf(&s, "%s %s%s", k->option, k->expr, jv_string_value(msg) + restlen);
	else if (jv_get_kind(msg) == JV_KIND_STRING)
		xasprintf(&s, "%s %s", k->option, jv_string_value(msg));
	else
		xasprintf(&s, "%s %s: failed", k->option, k->expr);
	jv_free(msg);
	return s;
}

int
keyval_time(struct reckey *k, const struct keyval *kv, struct instant *t, char **msg)
{
	const char *s;
	size_t len, cut;
	jv dump;

	if (kv->str != NULL) {
		if (rfc3339_parse(kv->str, kv->len, t) == 0)
			return 0;
		s = kv->str;
		len = kv->len;
		dump = jv_invalid();
	} else if (!jv_is_valid(kv->v)) {
		*msg = failure(k, kv);
		return -1;
	} else if (jv_get_kind(kv->v) == JV_KIND_NULL) {
		xasprintf(msg, "%s %s: null or missing", k->option, k->expr);
		return -1;
	} else if (jv_get_kind(kv->v) != JV_KIND_STRING) {
		xasprintf(msg, "%s %s: a %s, not an RFC 3339 time", k->option, k->expr,
		    jv_kind_name(jv_get_kind(kv->v)));
		return -1;
	} else {
		if (rfc3339_parse(jv_string_value(kv->v),
		    (size_t)jv_string_length_bytes(jv_copy(kv->v)), t) == 0)
			return 0;
		/* Quote it as JSON: the string may hold control characters. */
		dump = jv_dump_string(jv_copy(kv->v), 0);
		s = jv_string_value(dump) + 1;
		len = strlen(s) - 1;
	}
	cut = len;
	if (cut > QUOTE_MAX) {
		cut = QUOTE_MAX;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;	/* not in the middle of a UTF-8 sequence */
	}
	xasprintf(msg, "%s %s: not an RFC 3339 time: \"%.*s\"%s", k->option, k->expr, (int)cut, s,
	    cut < len ? "..." : "");
	jv_free(dump);
	return -1;
}

char *
keyval_dump(struct reckey *k, const struct keyval *kv, char **msg)
{
	char *s;
	jv dump;

	if (kv->str != NULL) {
		s = xmalloc(kv->len + 3);
		s[0] = '"';
		memcpy(s + 1, kv->str, kv->len);
		memcpy(s + 1 + kv->len, "\"", 2);
		return s;
	}
	if (!jv_is_valid(kv->v)) {
		*msg = failure(k, kv);
		return NULL;
	}
	dump = jv_dump_string(jv_copy(kv->v), 0);
	s = xstrdup(jv_string_value(dump));
	jv_free(dump);
	return s;
}

void
keyval_free(struct keyval *kv)
{
	jv_free(kv->v);
	kv->v = jv_invalid();
	kv->str = NULL;
}
