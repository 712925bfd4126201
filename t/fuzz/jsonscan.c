/*
 * jsonscan: the JSON-lines scanner and the key extraction on top of it, against libjq. A line
 * the scanner vouches for (valid UTF-8, jsonscan_object() returns 1) is never parsed by jq again,
 * so it must be one that jsonl_parse() accepts: no NUL, and an object to jv_parse_sized(). The
 * raw value found for each member must parse to jq's value of that member (the last of
 * duplicates), and a "plain string" must be the text jq prints for it. Then each key expression,
 * evaluated by reckey on the raw line, must give what libjq gives on the parsed record.
 */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "fuzz.h"
#include "jqexpr.h"
#include "jsonl.h"
#include "jsonscan.h"
#include "reckey.h"
#include "util.h"

static const char *names[] = { "Name", "CreationDate", "Tags", "a" };
#define NNAMES	(sizeof(names) / sizeof(names[0]))

/* Keys as sort-by-date and keep-last take them: the member itself, a path, a pipe, an expression. */
static const char *exprs[] = { ".CreationDate", ".a.b", ".Tags | length", "(.Name)" };
#define NEXPRS	(sizeof(exprs) / sizeof(exprs[0]))

static struct reckey *keys[NEXPRS];
static struct jqexpr *whole[NEXPRS];
static char *paren[NEXPRS];

static char *
dump(jv v)
{
	jv s = jv_dump_string(v, 0);
	char *r = strdup(jv_string_value(s));

	jv_free(s);
	return r;
}

/* Borrows obj. The scan's member values against jq's. */
static void
check_fields(jv obj, const struct jsonfield *f)
{
	jv want, got;
	size_t i;
	char *a;

	for (i = 0; i < NNAMES; i++) {
		want = jv_object_get(jv_copy(obj), jv_string(names[i]));
		if (f[i].val == NULL) {
			FUZZ_ASSERT(!jv_is_valid(want), "member %s missed by the scan", names[i]);
			jv_free(want);
			continue;
		}
		FUZZ_ASSERT(jv_is_valid(want), "member %s found by the scan only", names[i]);
		got = jv_parse_sized(f[i].val, (int)f[i].vallen);
		FUZZ_ASSERT(jv_is_valid(got), "member %s: raw value %.*s does not parse alone", names[i],
		    (int)f[i].vallen, f[i].val);
		if (jsonscan_plain_string(f[i].val, f[i].vallen)) {
			a = dump(jv_copy(want));
			FUZZ_ASSERT(strlen(a) == f[i].vallen && memcmp(a, f[i].val, f[i].vallen) == 0,
			    "member %s: plain string %.*s, jq prints %s", names[i], (int)f[i].vallen,
			    f[i].val, a);
			free(a);
		}
		FUZZ_ASSERT(jv_equal(jv_copy(got), jv_copy(want)), "member %s: scan and jq differ",
		    names[i]);
		jv_free(got);
		jv_free(want);
	}
}

/* Borrows obj, the record jq parsed from line. reckey's answers against libjq's. */
static void
check_keys(char *line, size_t len, jv obj)
{
	struct keyval vals[NEXPRS];
	struct jsonl r;
	char *got, *want, *msg;
	jv v;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.name = "fuzz";
	r.lineno = 1;
	r.line = line;
	r.len = len;
	reckey_eval(&r, keys, NEXPRS, vals);
	for (i = 0; i < NEXPRS; i++) {
		msg = NULL;
		got = keyval_dump(keys[i], &vals[i], &msg);
		v = jqexpr_first(whole[i], jv_copy(obj));
		want = jv_is_valid(v) ? dump(v) : (jv_free(v), NULL);
		FUZZ_ASSERT((got == NULL) == (want == NULL) && (got == NULL || strcmp(got, want) == 0),
		    "%s: reckey gives %s, jq %s", exprs[i], got ? got : "an error",
		    want ? want : "an error");
		free(got);
		free(want);
		free(msg);
		keyval_free(&vals[i]);
	}
}

/* The jq states hold their stacks by a pointer past the end, which LSan does not follow. */
static void
teardown(void)
{
	size_t i;

	for (i = 0; i < NEXPRS; i++) {
		reckey_free(keys[i]);
		jqexpr_free(whole[i]);
		free(paren[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonfield f[NNAMES];
	char *line;
	size_t i;
	int scanned, nul;
	jv obj;

	if (keys[0] == NULL) {
		for (i = 0; i < NEXPRS; i++) {
			keys[i] = reckey_compile(exprs[i], "-k");
			/* In parentheses no expression is a plain path: libjq runs them all. */
			xasprintf(&paren[i], "(%s)", exprs[i]);
			whole[i] = jqexpr_compile(paren[i], "-k");
		}
		atexit(teardown);
	}
	/* One line, as jsonl_getline() hands it on: no newline in it, NUL-terminated after len. */
	if (size > 1 << 16 || memchr(data, '\n', size) != NULL)
		return 0;
	line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	for (i = 0; i < NNAMES; i++) {
		f[i].name = names[i];
		f[i].namelen = strlen(names[i]);
	}
	scanned = utf8_valid(line, size) && jsonscan_object(line, size, f, NNAMES);
	nul = memchr(line, '\0', size) != NULL;
	obj = jv_parse_sized(line, (int)size);
	if (scanned) {
		FUZZ_ASSERT(!nul, "the scan accepts a NUL byte");
		FUZZ_ASSERT(jv_is_valid(obj) && jv_get_kind(obj) == JV_KIND_OBJECT,
		    "the scan accepts what jq does not take as an object: %s", line);
		check_fields(obj, f);
	}
	if (jv_is_valid(obj) && jv_get_kind(obj) == JV_KIND_OBJECT && !nul && utf8_valid(line, size))
		check_keys(line, size, obj);
	jv_free(obj);
	free(line);
	return 0;
}
