/* record.c: the fields of AWS records that filters read and write: ids, Region, Tags, Result. */
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "sigv4.h"
#include "util.h"

const char *
rec_str(jv rec, const char *field)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(field));
	const char *s = NULL;

	/* rec holds a reference to v, so its bytes outlive ours. */
	if (jv_get_kind(v) == JV_KIND_STRING && *jv_string_value(v) != '\0')
		s = jv_string_value(v);
	jv_free(v);
	return s;
}

const char *
rec_region(jv rec, const char *defregion)
{
	jv v = jv_object_get(jv_copy(rec), jv_string("Region"));
	int none = !jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL;

	jv_free(v);
	return none ? defregion : rec_str(rec, "Region");
}

const char *
rec_tag(jv rec, const char *key)
{
	jv tags = jv_object_get(jv_copy(rec), jv_string("Tags"));
	const char *s = NULL;

	if (jv_get_kind(tags) == JV_KIND_ARRAY)
		jv_array_foreach(tags, i, t) {
			const char *k = jv_get_kind(t) == JV_KIND_OBJECT ? rec_str(t, "Key") : NULL;

			if (s == NULL && k != NULL && strcmp(k, key) == 0) {
				jv v = jv_object_get(jv_copy(t), jv_string("Value"));

				s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "";
				jv_free(v);
			}
			jv_free(t);
		}
	jv_free(tags);
	return s;
}

jv
rec_result(jv rec, const char *action, const char *status, const char *reason,
    const char *request_id)
{
	jv r = JV_OBJECT(jv_string("Action"), jv_string(action), jv_string("Status"),
	    jv_string(status));

	if (reason != NULL)
		r = jv_object_set(r, jv_string("Reason"), jv_string(reason));
	if (request_id != NULL)
		r = jv_object_set(r, jv_string("RequestId"), jv_string(request_id));
	return jv_object_set(rec, jv_string("Result"), r);
}

char *
client_token(const char *prefix, jv inputs)
{
	jv canon = jv_dump_string(jv_copy(inputs), JV_PRINT_SORTED);
	char hex[65], *tok;

	sha256_hex(jv_string_value(canon), jv_string_length_bytes(jv_copy(canon)), hex);
	jv_free(canon);
	xasprintf(&tok, "%.16s-%.47s", prefix, hex);
	return tok;
}
