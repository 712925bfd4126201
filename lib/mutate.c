/* mutate.c: what the filters that change AWS resources share: check input first, judge each call. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2.h"
#include "jsonl.h"
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "util.h"

/* The prefix of each id field's ids: an instance id given as ImageId is caught before any call. */
static const struct {
	const char	*field;
	const char	*prefix;
} prefixes[] = {
	{ "ImageId", "ami-" },
	{ "InstanceId", "i-" },
	{ "SnapshotId", "snap-" },
};

/* Error codes that mean the resource no longer exists: the work is already done. */
static const char *const gone[] = {
	"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidInstanceID.NotFound",
	"InvalidSnapshot.NotFound", NULL
};

/* 1 if s is PREFIX-HEX, where PREFIX is want, or any lowercase word when want is NULL. */
static int
valid_id(const char *s, const char *want)
{
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
	return n > 0 && s[n] == '\0';
}

/*
 * Consumes rec and v. Reports a bad line and exits 3, having freed what the line made, so that
 * LeakSanitizer sees no leak when a data error ends the program.
 */
static void __attribute__((noreturn, format(printf, 4, 5)))
bad(struct jsonl *in, jv rec, jv v, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jv_free(rec);
	jv_free(v);
	jsonl_die(in, "%s", msg);
}

/* The next record, its id and region checked as mutate_read() says; jv_invalid() at the end. */
static jv
next_record(struct jsonl *in, const char *defregion, const char *const *idfields,
    const char **idfield)
{
	const char *const *f;
	const char *want, *region;
	jv rec, v;
	size_t i;

	if (!jv_is_valid(rec = jsonl_next(in)))
		return rec;
	for (f = idfields; *f != NULL; f++)
		if (jv_object_has(jv_copy(rec), jv_string(*f)))
			break;
	if (*f == NULL) {
		v = jv_string(idfields[0]);
		for (f = idfields + 1; *f != NULL; f++)
			v = jv_string_append_str(jv_string_append_str(v,
			    f[1] != NULL ? ", " : " or "), *f);
		bad(in, rec, v, "no %s", jv_string_value(v));
	}
	v = jv_object_get(jv_copy(rec), jv_string(*f));
	if (jv_get_kind(v) != JV_KIND_STRING)
		bad(in, rec, v, "%s is not a string", *f);
	want = NULL;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strcmp(prefixes[i].field, *f) == 0)
			want = prefixes[i].prefix;
	if (!valid_id(jv_string_value(v), want))
		bad(in, rec, v, "%s '%.100s' is not an id%s%s", *f, jv_string_value(v),
		    want != NULL ? " starting " : "", want != NULL ? want : "");
	jv_free(v);
	*idfield = *f;

	v = jv_object_get(jv_copy(rec), jv_string("Region"));
	if (jv_get_kind(v) == JV_KIND_STRING)
		region = jv_string_value(v);
	else if (jv_get_kind(v) == JV_KIND_INVALID || jv_get_kind(v) == JV_KIND_NULL)
		region = defregion;
	else
		bad(in, rec, v, "Region is not a string");
	if (region == NULL)
		bad(in, rec, v, "no Region, and no region configured (--region, AWS_REGION)");
	/* The region becomes part of a host name and of what is signed. */
	if (*region == '\0' ||
	    region[strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-")] != '\0')
		bad(in, rec, v, "Region '%.100s' is not a region name", region);
	rec = jv_object_set(rec, jv_string("Region"), jv_string(region));
	jv_free(v);
	return rec;
}

struct mrec *
mutate_read(char **paths, const char *defregion, const char *const *idfields,
    jv (*check)(struct jsonl *, jv, const char *, void *), void *arg, size_t *np)
{
	struct jsonl in;
	struct mrec *recs = NULL;
	const char *idfield = NULL;
	size_t n = 0, cap = 0;
	jv rec;

	jsonl_open(&in, paths);
	while (jv_is_valid(rec = next_record(&in, defregion, idfields, &idfield))) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			recs = xreallocarray(recs, cap, sizeof(*recs));
		}
		memset(&recs[n], 0, sizeof(recs[n]));
		recs[n].rec = rec;
		recs[n].idfield = idfield;
		recs[n].aux = check != NULL ? check(&in, rec, idfield, arg) : jv_null();
		n++;
	}
	jsonl_close(&in);
	*np = n;
	return recs;
}

const char *
mrec_id(const struct mrec *m)
{
	return rec_str(m->rec, m->idfield);
}

const char *
mrec_region(const struct mrec *m)
{
	return rec_str(m->rec, "Region");
}

int
ec2_gone(const char *code)
{
	const char *const *g;

	for (g = gone; code != NULL && *g != NULL; g++)
		if (strcmp(*g, code) == 0)
			return 1;
	return 0;
}

static void
outcome_clear(struct outcome *o)
{
	free(o->reason);
	free(o->request_id);
	o->reason = o->request_id = NULL;
	o->status = NULL;
}

void
outcome_set(struct outcome *o, const struct ec2_result *res, int dryrun)
{
	outcome_clear(o);
	if (res->request_id != NULL)
		o->request_id = xstrdup(res->request_id);
	if (res->code == NULL)
		o->status = "done";
	else if (dryrun && strcmp(res->code, "DryRunOperation") == 0)
		o->status = "dry-run";
	else if (ec2_gone(res->code)) {
		o->status = "skipped";
		xasprintf(&o->reason, "already gone: %s: %s", res->code,
		    res->message != NULL ? res->message : "");
	} else {
		o->status = "failed";
		o->reason = xstrdup(res->diag);
	}
}

void
outcome_set_reason(struct outcome *o, const char *status, const char *reason)
{
	outcome_clear(o);
	o->status = status;
	o->reason = reason != NULL ? xstrdup(reason) : NULL;
}

int
mutate_print(struct mrec *recs, size_t n, const char *action, jv (*update)(jv, void *),
    void *arg)
{
	const char *st;
	size_t i;
	int status = EXIT_OK;
	jv rec;

	for (i = 0; i < n; i++) {
		rec = recs[i].rec;
		/* A record no call decided (none can be left so) is not claimed done. */
		st = recs[i].o.status != NULL ? recs[i].o.status : "failed";
		if (update != NULL && (strcmp(st, "done") == 0 || strcmp(st, "dry-run") == 0))
			rec = update(rec, arg);
		if (strcmp(st, "failed") == 0)
			status = EXIT_FAIL;
		out_record(rec_result(rec, action, st, recs[i].o.reason, recs[i].o.request_id));
		outcome_clear(&recs[i].o);
		jv_free(recs[i].aux);
	}
	free(recs);
	return status;
}
