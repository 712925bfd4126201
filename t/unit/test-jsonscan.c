/* Unit tests for lib/json/jsonscan.c: what it accepts jq accepts, and the members it finds are jq's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "jsonscan.h"
#include "tap.h"

static int
scans(const char *s)
{
	return jsonscan_object(s, strlen(s), NULL, 0);
}

/* The raw text jsonscan finds for member name in s, or "(none)" / "(rejected)". */
static const char *
member(const char *s, const char *name)
{
	static char buf[256];
	struct jsonfield f = { name, strlen(name), NULL, 0 };

	if (!jsonscan_object(s, strlen(s), &f, 1))
		return "(rejected)";
	if (f.val == NULL)
		return "(none)";
	snprintf(buf, sizeof(buf), "%.*s", (int)f.vallen, f.val);
	return buf;
}

/* jv_parse of s is an object, and member name of it equals the value jsonscan found (or null). */
static int
agrees_with_jq(const char *s, size_t len, const char *name)
{
	struct jsonfield f = { name, strlen(name), NULL, 0 };
	jv obj, want, got;
	int same;

	if (!jsonscan_object(s, len, &f, 1))
		return 1;	/* nothing claimed */
	obj = jv_parse_sized(s, (int)len);
	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		jv_free(obj);
		return 0;
	}
	want = jv_object_get(obj, jv_string(name));
	if (!jv_is_valid(want)) {
		jv_free(want);
		want = jv_null();
	}
	got = f.val ? jv_parse_sized(f.val, (int)f.vallen) : jv_null();
	same = jv_equal(want, got);
	return same;
}

/* {"a":[[...]]} nested depth levels deep, in buf; returns its length. */
static size_t
nested(char *buf, int depth)
{
	size_t len = 0;
	int d;

	memcpy(buf, "{\"a\":", 5);
	len = 5;
	for (d = 1; d < depth; d++)
		buf[len++] = '[';
	if (depth == 1)
		buf[len++] = '0';
	for (d = 1; d < depth; d++)
		buf[len++] = ']';
	buf[len++] = '}';
	return len;
}

static uint64_t seed = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return seed * 2685821657736338717ULL;
}

int
main(void)
{
	static const char *good[] = {
		"{}", " { } ", "{\"a\":1}", "{\"a\":-0.5e+10,\"b\":[true,false,null,{}],\"c\":\"\\u00e9\\n\"}",
		"{\"a\":[[[[]]]]}", "\t{\"a\" : \"x\" }\r", "{\"\":0}", "{\"a\":1E3,\"b\":0,\"c\":-0}",
		"{\"a\":\"caf\xc3\xa9\"}",
		/* jq 1.6 takes a lone low surrogate (as U+FFFD) and a high one followed by a low one. */
		"{\"a\":\"\\udc00\"}", "{\"a\":\"x\\udfff\\udc00\"}", "{\"a\":\"\\ud800\\udc00\"}",
		"{\"a\":\"\\uDBFF\\uDFFF\"}",
	};
	static const char *bad[] = {
		"", " ", "[]", "\"s\"", "1", "null", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
		"{,}", "{\"a\":1}x", "{\"a\":1} {}", "{\"a\":01}", "{\"a\":nan}", "{\"a\":1.}",
		"{\"a\":.5}", "{\"a\":1e}", "{\"a\":-}", "{\"a\":+1}", "{\"a\":tru}", "{\"a\":True}",
		"{\"a\":\"\\x\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"tab\there\"}", "{'a':1}", "{a:1}",
		"{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":\"unterminated}",
		/* ... but not a high surrogate alone, or followed by anything but a low one. */
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udbff\"}", "{\"a\":\"\\ud800x\"}",
		"{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\ud800\\ud800\"}", "{\"a\":\"\\ud800\\ue000\"}",
		"{\"a\":\"\\ud800\\n\"}", "{\"a\":\"\\ud800\\udc0\"}", "{\"a\":\"\\ud800\\udcg0\"}",
		"{\"\\ud800\":1}",
	};
	static const char *record = "{\"ImageId\":\"ami-1\",\"CreationDate\":\"2024-05-01T12:00:00.000Z\","
	    "\"Tags\":[{\"Key\":\"Name\",\"Value\":\"web\"}],\"n\":-1.5e3,\"o\":{\"CreationDate\":1}}";
	char deep[2 * (JSONSCAN_DEPTH + 2) + 16], buf[512];
	struct jsonfield two[2] = { { "ImageId", 7, NULL, 0 }, { "n", 1, NULL, 0 } };
	size_t i, len;
	int fuzzbad, accepted;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(scans(good[i]), "accepts %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!scans(bad[i]), "rejects %s", bad[i]);
	ok(!jsonscan_object("{\"a\":\"x\0y\"}", 11, NULL, 0), "rejects a NUL byte in a string");
	/* Every \uXXXX escape, with and without every kind of second escape: the same answer as libjq. */
	fuzzbad = 0;
	for (i = 0; i < 0x10000; i += (i >= 0xD700 && i < 0xE100) ? 1 : 0x100) {
		static const char *const after[] = { "", "\\udc00", "\\udfff", "\\ud800", "\\u0041", "x" };
		size_t k;

		for (k = 0; k < sizeof(after) / sizeof(after[0]); k++) {
			jv v;

			len = (size_t)snprintf(buf, sizeof(buf), "{\"a\":\"\\u%04zx%s\"}", i, after[k]);
			v = jv_parse_sized(buf, (int)len);
			if (scans(buf) != jv_is_valid(v) && fuzzbad++ == 0)
				printf("# disagrees with jq: %s\n", buf);
			jv_free(v);
		}
	}
	ok(fuzzbad == 0, "every \\u escape and surrogate pairing: accepted exactly when jq parses it (%d not)",
	    fuzzbad);

	is_str(member(record, "CreationDate"), "\"2024-05-01T12:00:00.000Z\"", "finds a top-level string");
	is_str(member(record, "Tags"), "[{\"Key\":\"Name\",\"Value\":\"web\"}]", "finds an array's text");
	is_str(member(record, "n"), "-1.5e3", "finds a number's text");
	is_str(member(record, "Key"), "(none)", "does not look inside nested objects");
	is_str(member("{\"a\":1,\"a\" : \"last\" }", "a"), "\"last\"", "the last duplicate wins, as in jq");
	is_str(member("{\"a\\u0062\":1}", "ab"), "(rejected)", "gives up on an escaped member name");
	is_str(member("{\"x\":{\"a\\u0062\":1},\"ab\":2}", "ab"), "2", "escapes below the top level are fine");
	ok(jsonscan_object(record, strlen(record), two, 2) && two[0].vallen == 7 && two[1].vallen == 6,
	    "finds two members in one scan");

	len = nested(deep, JSONSCAN_DEPTH);
	ok(jsonscan_object(deep, len, NULL, 0), "nesting up to JSONSCAN_DEPTH");
	len = nested(deep, JSONSCAN_DEPTH + 1);
	ok(!jsonscan_object(deep, len, NULL, 0), "deeper nesting is left to jq");

	ok(jsonscan_plain_string("\"abc\"", 5), "a plain string");
	ok(!jsonscan_plain_string("\"a\\nb\"", 6), "a string with an escape is not plain");
	ok(!jsonscan_plain_string("\"a\x7f\"", 4), "DEL is not plain (jq prints \\u007f)");
	ok(!jsonscan_plain_string("12", 2), "a number is not a string");

	/* Mutate the record byte by byte: whatever the scan accepts, jq must parse to the same member. */
	fuzzbad = accepted = 0;
	for (i = 0; i < 20000; i++) {
		int k, edits = 1 + (int)(rnd() % 3);

		len = strlen(record);
		memcpy(buf, record, len);
		for (k = 0; k < edits; k++) {
			size_t at = rnd() % len;
			static const char alphabet[] = "{}[]\",:\\ 0123456789.eE+-truefalsn";

			switch (rnd() % 3) {
			case 0:
				buf[at] = alphabet[rnd() % (sizeof(alphabet) - 1)];
				break;
			case 1:
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			default:
				if (len + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = alphabet[rnd() % (sizeof(alphabet) - 1)];
					len++;
				}
			}
		}
		accepted += jsonscan_object(buf, len, NULL, 0);
		if (!agrees_with_jq(buf, len, "CreationDate")) {
			if (fuzzbad++ == 0)
				printf("# disagrees with jq: %.*s\n", (int)len, buf);
		}
	}
	ok(accepted > 1000 && accepted < 19000, "the mutations exercise both answers (%d accepted)", accepted);
	ok(fuzzbad == 0, "20000 mutated records: every one accepted is one jq parses alike (%d not)", fuzzbad);
	return done_testing();
}
