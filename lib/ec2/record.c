/* record.c: the fields of AWS records that filters read and write: ids, Region, Tags, Result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "jsonl.h"
#include "record.h"
#include "sha256.h"
#include "strmap.h"
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

/* The prefix of each id field's ids: an instance id given as ImageId is caught before any call. */
static const struct strpair prefixes[] = {
	{ "ImageId", "ami-" },
	{ "SourceImageId", "ami-" },
	{ "PreviousImageId", "ami-" },
	{ "InstanceId", "i-" },
	{ "SnapshotId", "snap-" },
	{ NULL, NULL }
};

int
rec_id_valid(const char *idfield, const char *s)
{
	const char *want = strmap_value(prefixes, idfield);
	size_t n;

	if (want != NULL) {
		if (strncmp(s, want, strlen(want)) != 0)
			return 0;
		s += strlen(want);
	} else {
		if ((n = strspn(s, "abcdefghijklmnopqrstuvwxyz")) == 0 || s[n] != '-')
			return 0;
		s += n + 1;
	}
	n = strspn(s, "0123456789abcdef");
	return (n == 8 || n == 17) && s[n] == '\0';
}

jv
rec_require_id(struct jsonl *in, jv rec, const char *idfield)
{
	const char *prefix = strmap_value(prefixes, idfield);
	jv v;

	v = jv_object_get(jv_copy(rec), jv_string(idfield));
	if (jv_get_kind(v) == JV_KIND_INVALID || jv_get_kind(v) == JV_KIND_NULL)
		jsonl_die(in, "no %s", idfield);
	if (jv_get_kind(v) != JV_KIND_STRING)
		jsonl_die(in, "%s is not a string", idfield);
	/* %.100s and no more: a message names a bad value, it does not replay it. */
	if (!rec_id_valid(idfield, jv_string_value(v)))
		jsonl_die(in, "%s '%.100s' is not an id: %s and 8 or 17 hex digits", idfield,
		    jv_string_value(v), prefix != NULL ? prefix : "a prefix");
	jv_free(v);
	return rec;
}

jv
rec_require(struct jsonl *in, jv rec, const char *idfield, const char *defregion)
{
	const char *region;
	jv v;

	rec = rec_require_id(in, rec, idfield);
	v = jv_object_get(jv_copy(rec), jv_string("Region"));
	if (jv_get_kind(v) == JV_KIND_STRING)
		region = jv_string_value(v);
	else if (jv_get_kind(v) == JV_KIND_INVALID || jv_get_kind(v) == JV_KIND_NULL)
		region = defregion;
	else
		jsonl_die(in, "Region is not a string");
	if (region == NULL)
		jsonl_die(in, "no Region, and no region configured (--region, AWS_REGION)");
	if (!aws_region_valid(region))
		jsonl_die(in, "Region '%.100s' is not a region name", region);
	rec = jv_object_set(rec, jv_string("Region"), jv_string(region));
	jv_free(v);
	return rec;
}

void
rec_require_image(struct jsonl *in, jv rec)
{
	if (jv_object_has(jv_copy(rec), jv_string("InstanceId")))
		jsonl_die(in, "an instance record (InstanceId), not an image record");
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

static const char *const result_names[] = {
	[RESULT_NONE] = "failed",
	[RESULT_DONE] = "done",
	[RESULT_DRYRUN] = "dry-run",
	[RESULT_SKIPPED] = "skipped",
	[RESULT_FAILED] = "failed",
	[RESULT_INTERRUPTED] = "interrupted",
};

const char *
result_name(enum result_status r)
{
	return (size_t)r < sizeof(result_names) / sizeof(result_names[0]) ? result_names[r] :
	    "failed";
}

int
rec_failed(jv rec)
{
	jv result = jv_object_get(jv_copy(rec), jv_string("Result"));
	const char *s = jv_get_kind(result) == JV_KIND_OBJECT ? rec_str(result, "Status") : NULL;
	int failed = s != NULL && (strcmp(s, result_name(RESULT_FAILED)) == 0 ||
	    strcmp(s, result_name(RESULT_INTERRUPTED)) == 0);

	jv_free(result);
	return failed;
}

static const char *result_account;

void
rec_result_account(const char *account)
{
	result_account = account;
}

jv
rec_result(jv rec, const char *action, enum result_status status, const char *reason,
    const char *request_id)
{
	jv r = JV_OBJECT(jv_string("Action"), jv_string(action), jv_string("Status"),
	    jv_string(result_name(status)));

	if (result_account != NULL)
		r = jv_object_set(r, jv_string("Account"), jv_string(result_account));
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
