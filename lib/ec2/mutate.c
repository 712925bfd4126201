/* mutate.c: what the filters that change AWS resources share: check input first, judge each call. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2.h"
#include "jsonl.h"
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "strmap.h"
#include "util.h"

/* Error codes that mean the resource no longer exists: the work is already done. */
static const char *const gone[] = {
	"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidInstanceID.NotFound",
	"InvalidSnapshot.NotFound", NULL
};

/* The next record, its id and region checked as mutate_read() says; jv_invalid() at the end. */
static jv
next_record(struct jsonl *in, const char *defregion, const char *const *idfields,
    const char **idfield)
{
	const char *const *f;
	char names[256];
	jv rec, v;

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
		/* Freed first: jsonl_die() exits, and a pointer into v would look like a leak. */
		snprintf(names, sizeof(names), "%s", jv_string_value(v));
		jv_free(v);
		jsonl_die(in, "no %s", names);
	}
	*idfield = *f;
	return rec_require(in, rec, *f, defregion);
}

size_t
mutate_read_each(char **paths, const char *defregion, const char *const *idfields,
    void (*take)(struct jsonl *, jv, const char *, void *), void *arg)
{
	struct jsonl in;
	const char *idfield = NULL;
	size_t n = 0;
	jv rec;

	jsonl_open(&in, paths);
	while (jv_is_valid(rec = next_record(&in, defregion, idfields, &idfield))) {
		take(&in, rec, idfield, arg);
		n++;
	}
	jsonl_close(&in);
	return n;
}

/* What mutate_read() keeps while it reads. */
struct reading {
	struct mrec	*recs;
	size_t		 n, cap;
	jv		(*check)(struct jsonl *, jv, const char *, void *);
	void		*arg;
};

/* Consumes rec: appends it to the reading arg. */
static void
keep_record(struct jsonl *in, jv rec, const char *idfield, void *arg)
{
	struct reading *r = arg;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->recs = xreallocarray(r->recs, r->cap, sizeof(*r->recs));
	}
	memset(&r->recs[r->n], 0, sizeof(r->recs[r->n]));
	r->recs[r->n].rec = rec;
	r->recs[r->n].idfield = idfield;
	r->recs[r->n].aux = r->check != NULL ? r->check(in, rec, idfield, r->arg) : jv_null();
	r->n++;
}

jv
mutate_check_image(struct jsonl *in, jv rec, const char *idfield, void *arg)
{
	(void)idfield;
	(void)arg;
	rec_require_image(in, rec);
	return jv_null();
}

struct mrec *
mutate_read(char **paths, const char *defregion, const char *const *idfields,
    jv (*check)(struct jsonl *, jv, const char *, void *), void *arg, size_t *np)
{
	struct reading r = { NULL, 0, 0, check, arg };

	mutate_read_each(paths, defregion, idfields, keep_record, &r);
	*np = r.n;
	return r.recs;
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
	return strmap_index(gone, code) != -1;
}

static void
outcome_clear(struct outcome *o)
{
	free(o->reason);
	free(o->request_id);
	o->reason = o->request_id = NULL;
	o->status = RESULT_NONE;
}

void
outcome_set(struct outcome *o, const struct ec2_result *res, int dryrun)
{
	outcome_clear(o);
	if (res->request_id != NULL)
		o->request_id = xstrdup(res->request_id);
	if (res->code == NULL)
		o->status = RESULT_DONE;
	else if (dryrun && strcmp(res->code, "DryRunOperation") == 0)
		o->status = RESULT_DRYRUN;
	else if (ec2_interrupted(res->code)) {
		o->status = RESULT_INTERRUPTED;
		o->reason = xstrdup("interrupted before its call was sent");
	}
	else if (ec2_gone(res->code)) {
		o->status = RESULT_SKIPPED;
		xasprintf(&o->reason, "already gone: %s: %s", res->code,
		    res->message != NULL ? res->message : "");
	} else {
		o->status = RESULT_FAILED;
		o->reason = xstrdup(res->diag);
	}
}

void
outcome_set_reason(struct outcome *o, enum result_status status, const char *reason)
{
	outcome_clear(o);
	o->status = status;
	o->reason = reason != NULL ? xstrdup(reason) : NULL;
}

void
outcome_set_return(struct mrec *m, const struct ec2_result *res, int dryrun)
{
	jv ret;
	int no;

	outcome_set(&m->o, res, dryrun);
	if (m->o.status == RESULT_FAILED)
		warnx("%s", res->diag);
	if (res->code != NULL)
		return;
	ret = jv_object_get(jv_copy(res->out), jv_string("Return"));
	no = jv_get_kind(ret) == JV_KIND_FALSE || (jv_get_kind(ret) == JV_KIND_STRING &&
	    strcmp(jv_string_value(ret), "false") == 0);
	jv_free(ret);
	if (no) {
		warnx("%s: %s: %s: EC2 answered false", res->region, res->action, mrec_id(m));
		outcome_set_reason(&m->o, RESULT_FAILED, "EC2 answered false");
	}
}

int
mutate_print(struct mrec *recs, size_t n, const char *action, jv (*update)(jv, void *),
    void *arg)
{
	enum result_status st;
	size_t i;
	int status = EXIT_OK;
	jv rec;

	for (i = 0; i < n; i++) {
		rec = recs[i].rec;
		/* A record no call decided (none can be left so) is not claimed done. */
		st = recs[i].o.status;
		if (update != NULL && (st == RESULT_DONE || st == RESULT_DRYRUN))
			rec = update(rec, arg);
		if (st == RESULT_NONE || st == RESULT_FAILED || st == RESULT_INTERRUPTED)
			status = EXIT_FAIL;
		out_record(rec_result(rec, action, st, recs[i].o.reason, recs[i].o.request_id));
		outcome_clear(&recs[i].o);
		jv_free(recs[i].aux);
	}
	free(recs);
	return status;
}

void
protect_add(struct protect **p, size_t *n, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct protect *t;

	if (*arg == '\0' || eq == arg)
		usage_error("--protect-tag '%s': expected KEY or KEY=VALUE", arg);
	*p = xreallocarray(*p, *n + 1, sizeof(**p));
	t = &(*p)[(*n)++];
	t->key = eq != NULL ? xstrndup(arg, (size_t)(eq - arg)) : xstrdup(arg);
	t->value = eq != NULL ? eq + 1 : NULL;
}

jv
protect_reasons(const struct protect *p, size_t n, jv rec, jv why)
{
	const char *v;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((v = rec_tag(rec, p[i].key)) == NULL)
			continue;
		if (p[i].value == NULL)
			why = jv_array_append(why, jv_string_fmt("protect tag %s", p[i].key));
		else if (strcmp(v, p[i].value) == 0)
			why = jv_array_append(why, jv_string_fmt("protect tag %s=%s", p[i].key, v));
	}
	return why;
}

void
protect_free(struct protect *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(p[i].key);
	free(p);
}
