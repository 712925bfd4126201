/*
 * manifest: the reader of Packer manifests (jsondoc_parse(), the checks ami-from-manifest and
 * every whole-document input go through). Whatever it accepts is valid UTF-8 without NULs and the
 * object jq parses from the same bytes; whatever it refuses has a message, and a line number
 * only within the input.
 */
#include <string.h>

#include <jv.h>

#include "fuzz.h"
#include "jsondoc.h"
#include "jsonl.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long lineno, lines;
	size_t i;
	jv v, again, msg;

	if (size > 1 << 20)
		return 0;
	v = jsondoc_parse((const char *)data, size, &lineno);
	if (!jv_is_valid(v)) {
		msg = jv_invalid_get_msg(v);
		FUZZ_ASSERT(jv_get_kind(msg) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(msg)) > 0,
		    "refused without a message");
		jv_free(msg);
		for (i = 0, lines = 1; i < size; i++)
			lines += data[i] == '\n';
		FUZZ_ASSERT(lineno <= lines, "line %lu of %lu", lineno, lines);
		return 0;
	}
	FUZZ_ASSERT(jv_get_kind(v) == JV_KIND_OBJECT, "accepted a %s", jv_kind_name(jv_get_kind(v)));
	FUZZ_ASSERT(memchr(data, '\0', size) == NULL, "accepted a NUL byte");
	FUZZ_ASSERT(utf8_valid((const char *)data, size), "accepted invalid UTF-8");
	again = jv_parse_sized((const char *)data, (int)size);
	FUZZ_ASSERT(jv_equal(jv_copy(v), again), "not the object jq parses");
	jv_free(v);
	return 0;
}
