/* Unit tests for lib/json/reckey.c: keys read from the raw bytes give exactly what libjq gives on the parsed record. */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "jqexpr.h"
#include "jsonl.h"
#include "reckey.h"
#include "tap.h"
#include "util.h"

/*
 * What libjq says of expr on line, in the form keyval_dump gives: JSON text, or "ERR: message".
 * jq is expr compiled in parentheses (paren), which no plain path is, so libjq runs it all; its
 * messages name paren, and are given back naming expr.
 */
static char *
reference(struct jqexpr *jq, const char *paren, const char *option, const char *line)
{
	const char *m;
	size_t n = strlen(paren);
	jv v, msg, dump;
	char *s;

	v = jqexpr_first(jq, jv_parse(line));
	if (!jv_is_valid(v)) {
		msg = jv_invalid_get_msg(v);
		m = jv_string_value(msg);
		if (strncmp(m, paren, n) == 0)
			xasprintf(&s, "ERR: %s %.*s%s", option, (int)(n - 2), paren + 1, m + n);
		else
			xasprintf(&s, "ERR: %s %s", option, m);
		jv_free(msg);
		return s;
	}
	dump = jv_dump_string(v, 0);
	s = xstrdup(jv_string_value(dump));
	jv_free(dump);
	return s;
}

static char *
ours(struct reckey *k, const char *line)
{
	struct jsonl r;
	struct keyval kv;
	char *s, *msg, *out;

	memset(&r, 0, sizeof(r));
	r.name = "test";
	r.lineno = 1;
	r.line = (char *)line;
	r.len = strlen(line);
	reckey_eval(&r, &k, 1, &kv);
	if ((s = keyval_dump(k, &kv, &msg)) == NULL) {
		xasprintf(&out, "ERR: %s", msg);
		free(msg);
		s = out;
	}
	keyval_free(&kv);
	return s;
}

int
main(void)
{
	static const char *exprs[] = {
		".CreationDate", ".Name", ".a", ".a.b", ".a.b.c", ".a | .b", ".a|.b", ".a |.b // \"none\"",
		".a.b // .Name", ".a.b as $x | .Name", ".a | .b as $x | .Name", ".a | .b, .c", ".a.b, .Name",
		".a[0]", ".a.\"b\"", ".a.b?", ".a | length", ".Tags | from_entries | .Role",
		".Tags[] | select(.Key == \"Role\") | .Value", ".a | def f: .b; f", ".a | empty", ".a | error",
		".and", ".if", ".a.b.c.d", ".a.c", ".a | tostring", ".a | ascii_downcase", ".a|=1", "(.a.b)", "[.a]", ".a\t|  .b",
	};
	static const char *lines[] = {
		"{}",
		"{\"a\":null}",
		"{\"a\":\"text\",\"Name\":\"n\"}",
		"{\"a\":{\"b\":{\"c\":3}},\"Name\":\"n\"}",
		"{\"a\":{\"b\":\"x\\u0041\",\"c\":[1,2]},\"c\":7}",
		"{\"a\":[{\"b\":1},2],\"Name\":\"caf\xc3\xa9\"}",
		"{\"a\":1.50,\"and\":true}",
		"{\"a\":{\"b\":false},\"a\":{\"b\":\"last\"}}",
		"{\"a\" : { \"b\" : \"spaced\" } , \"Name\" : \"n\" }",
		"{\"a\\u0062\":1,\"a\":{\"b\":2}}",
		"{\"a\":\"A\x7f\"}",
		"{\"a\":01}",
		"{\"CreationDate\":\"2024-05-01T00:00:00Z\",\"Tags\":[{\"Key\":\"Role\",\"Value\":\"web\"}]}",
		"{\"Tags\":\"none\"}",
		"{\"a\":{\"b\":null},\"Name\":\"top\"}",
		"{\"a\":{\"b\":true,\"c\":{}},\"if\":[1]}",
		"{\"a\":{\"b\":{\"c\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}}",
	};
	struct instant t;
	struct keyval kv;
	struct jsonl r;
	struct reckey *k;
	struct jqexpr *jq;
	char *want, *got, *msg, *paren;
	size_t i, j;
	int bad;

	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		k = reckey_compile(exprs[i], "-g");
		xasprintf(&paren, "(%s)", exprs[i]);
		jq = jqexpr_compile(paren, "-g");
		bad = 0;
		for (j = 0; j < sizeof(lines) / sizeof(lines[0]); j++) {
			want = reference(jq, paren, "-g", lines[j]);
			got = ours(k, lines[j]);
			if (strcmp(want, got) != 0 && bad++ == 0)
				printf("# %s on %s:\n#   got:  %s\n#   want: %s\n", exprs[i], lines[j], got, want);
			free(want);
			free(got);
		}
		ok(bad == 0, "%s: as libjq on all %zu records", exprs[i], sizeof(lines) / sizeof(lines[0]));
		reckey_free(k);
		jqexpr_free(jq);
		free(paren);
	}

	k = reckey_compile(".Packer.BuildTime", "-k");
	memset(&r, 0, sizeof(r));
	r.name = "test";
	r.line = (char *)"{\"Packer\":{\"BuildTime\":\"2024-05-01T00:00:00.5Z\"}}";
	r.len = strlen(r.line);
	reckey_eval(&r, &k, 1, &kv);
	ok(keyval_time(k, &kv, &t, &msg) == 0 && t.sec == 1714521600 && t.nsec == 500000000,
	    "a date under a member");
	keyval_free(&kv);
	r.line = (char *)"{\"Packer\":\"p\"}";
	r.len = strlen(r.line);
	reckey_eval(&r, &k, 1, &kv);
	msg = NULL;
	ok(keyval_time(k, &kv, &t, &msg) == -1, "a path through a string fails");
	is_str(msg, "-k .Packer.BuildTime: Cannot index string with string \"BuildTime\"",
	    "and the message names the whole expression");
	free(msg);
	keyval_free(&kv);
	reckey_free(k);
	return done_testing();
}
