/* reckey.c: key options (-k, -g) evaluated on raw JSON lines; a plain .Field is read from the bytes, not through libjq. */
#include <stdlib.h>
#include <string.h>

#include "jqexpr.h"
#include "jsonscan.h"
#include "reckey.h"
#include "util.h"

/*
 * Parsing a 1 KB EC2 record into jv values costs far more than reading it: jv_parse allocates every
 * member and converts every number. For the common key ".CreationDate" the line is only checked
 * (jsonscan) and the member's bytes used as they are; libjq sees the record only when the scan
 * cannot vouch for it or the value is not a plain string, so the answers are jq's either way.
 */

struct reckey {
	struct jqexpr	*jq;
	const char	*expr;
	const char	*option;
	const char	*field;		/* expr is ".field": read the member directly; else NULL */
	size_t		 fieldlen;
};

/* The longest value quoted in a message: a 10 MB date is no diagnostic. */
#define QUOTE_MAX	64

struct reckey *
reckey_compile(const char *expr, const char *option)
{
	struct reckey *k;
	const char *p;

	k = xcalloc(1, sizeof(*k));
	k->jq = jqexpr_compile(expr, option);
	k->expr = expr;
	k->option = option;
	/* jq's FIELD token: "." [a-zA-Z_][a-zA-Z_0-9]*; on an object it yields the member or null. */
	p = expr + 1;
	if (expr[0] == '.' && (*p == '_' || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))) {
		while (*p == '_' || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || (*p >= '0' && *p <= '9'))
			p++;
		if (*p == '\0') {
			k->field = expr + 1;
			k->fieldlen = (size_t)(p - k->field);
		}
	}
	return k;
}

void
reckey_free(struct reckey *k)
{
	if (k == NULL)
		return;
	jqexpr_free(k->jq);
	free(k);
}

void
reckey_eval(struct jsonl *r, struct reckey **keys, size_t n, struct keyval *vals)
{
	struct jsonfield f[RECKEY_MAX];
	jv rec = jv_invalid();
	int scanned, parsed = 0;
	size_t i;

	if (n > RECKEY_MAX)
		abort();
	for (i = 0; i < n; i++) {
		f[i].name = keys[i]->field;
		f[i].namelen = keys[i]->fieldlen;
	}
	scanned = utf8_valid(r->line, r->len) && jsonscan_object(r->line, r->len, f, n);
	if (!scanned) {
		rec = jsonl_parse(r);
		parsed = 1;
	}
	for (i = 0; i < n; i++) {
		vals[i].str = NULL;
		vals[i].len = 0;
		if (scanned && keys[i]->field != NULL) {
			if (f[i].val == NULL || (f[i].vallen == 4 && memcmp(f[i].val, "null", 4) == 0)) {
				vals[i].v = jv_null();
				continue;
			}
			if (jsonscan_plain_string(f[i].val, f[i].vallen)) {
				vals[i].str = f[i].val + 1;
				vals[i].len = f[i].vallen - 2;
				vals[i].v = jv_invalid();
				continue;
			}
		}
		if (!parsed) {
			rec = jsonl_parse(r);
			parsed = 1;
		}
		vals[i].v = jqexpr_first(keys[i]->jq, jv_copy(rec));
	}
	jv_free(rec);
}

/* The jv's message when it is invalid (the expression failed), as a C string the caller frees. */
static char *
failure(struct reckey *k, const struct keyval *kv)
{
	jv msg;
	char *s;

	msg = jv_invalid_get_msg(jv_copy(kv->v));
	if (jv_get_kind(msg) == JV_KIND_STRING)
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
