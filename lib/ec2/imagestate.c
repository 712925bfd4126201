/* imagestate.c: filters that put images in a state (disable, protect): read it first, call only where it differs. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "awsopt.h"
#include "ec2.h"
#include "ec2res.h"
#include "imagestate.h"
#include "interrupt.h"
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "util.h"

static const char *const idfields[] = { "ImageId", NULL };

/* One record's call. */
struct call {
	struct mrec	*m;
	int		 dryrun;
};

/* Borrows recs[i].rec for i in want (all records when want is NULL). Their copies, to describe. */
static jv
batch_of(struct mrec *recs, size_t n, const int *want)
{
	jv batch = jv_array();
	size_t i;

	for (i = 0; i < n; i++)
		if (want == NULL || want[i])
			batch = jv_array_append(batch, jv_copy(recs[i].rec));
	return batch;
}

/*
 * Replaces each record with its image as it is now. A record whose image is gone is skipped. A
 * failed describe ends the program, exit 1: nothing has been changed.
 */
static void
read_state(struct ec2 *ec2, struct mrec *recs, size_t n)
{
	jv fresh = ec2res_refresh_or_exit(ec2, &ec2res_images, batch_of(recs, n, NULL)), f;
	char *why;
	size_t i;

	for (i = 0; i < n; i++) {
		f = jv_array_get(jv_copy(fresh), (int)i);
		if (jv_get_kind(f) != JV_KIND_OBJECT) {
			jv_free(f);
			xasprintf(&why, "already gone: no image %s in %s", mrec_id(&recs[i]),
			    mrec_region(&recs[i]));
			outcome_set_reason(&recs[i].o, RESULT_SKIPPED, why);
			free(why);
			continue;
		}
		jv_free(recs[i].rec);
		recs[i].rec = f;
	}
	jv_free(fresh);
}

static void
call_done(const struct ec2_result *res, void *arg)
{
	struct call *c = arg;

	outcome_set_return(c->m, res, c->dryrun);
}

/* Plans m's call and submits it, or skips m: its image is in the state already. */
static void
start(const struct imagestate *is, struct ec2 *ec2, struct call *c)
{
	const char *action;
	char *why = NULL;
	jv params;

	if (c->m->o.status != RESULT_NONE)
		return;
	params = jv_object();
	if ((action = is->plan(c->m->rec, is->arg, &params, &why)) == NULL) {
		jv_free(params);
		outcome_set_reason(&c->m->o, RESULT_SKIPPED, why);
		free(why);
		return;
	}
	params = jv_object_set(params, jv_string("ImageId"), jv_string(mrec_id(c->m)));
	if (c->dryrun)
		params = jv_object_set(params, jv_string("DryRun"), jv_true());
	ec2_submit(ec2, mrec_region(c->m), action, params, call_done, c);
}

/* Sets m's field to what plan's call makes it: a dry run's plan, or when it cannot be read back. */
static void
set_after(const struct imagestate *is, struct mrec *m)
{
	m->rec = jv_object_set(m->rec, jv_string(is->field), is->after(m->rec, is->arg));
}

/*
 * Each record done becomes its image as described now, so that it shows what EC2 made of the
 * call (protect --undo's disabled-until time, disable's launch permissions gone); a dry run's
 * record shows what it would be. Returns EXIT_FAIL, the field set as planned, when that describe
 * fails.
 */
static int
read_back(const struct imagestate *is, struct ec2 *ec2, struct mrec *recs, size_t n)
{
	int *done = xcalloc(n + 1, sizeof(*done)), status = EXIT_OK;
	size_t i, k = 0, ndone = 0;
	jv fresh = jv_array(), f;

	for (i = 0; i < n; i++) {
		if (recs[i].o.status == RESULT_DRYRUN)
			set_after(is, &recs[i]);
		ndone += done[i] = recs[i].o.status == RESULT_DONE;
	}
	/* Interrupted, nothing more is sent: the records say what the calls made. */
	if (ndone > 0 && intr_signal() == 0) {
		jv_free(fresh);
		fresh = ec2res_refresh(ec2, &ec2res_images, batch_of(recs, n, done));
	}
	if (!jv_is_valid(fresh)) {
		f = jv_invalid_get_msg(fresh);
		warnx("%s: the images are changed, but not read back", jv_string_value(f));
		jv_free(f);
		fresh = jv_array();
		status = EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		if (!done[i])
			continue;
		f = jv_array_get(jv_copy(fresh), (int)k++);
		if (jv_get_kind(f) == JV_KIND_OBJECT) {
			jv_free(recs[i].rec);
			recs[i].rec = f;
		} else {
			jv_free(f);
			set_after(is, &recs[i]);
		}
	}
	jv_free(fresh);
	free(done);
	return status;
}

int
imagestate_run(const struct imagestate *is, const struct awsopt *ao, char **paths)
{
	struct ec2 *ec2;
	struct mrec *recs;
	struct call *calls;
	size_t n, i;
	int status, back;

	ec2 = awsopt_client(ao);
	recs = mutate_read(paths, ec2_region(ec2), idfields, mutate_check_image, NULL, &n);
	read_state(ec2, recs, n);
	/* Interrupted, the calls in flight finish, the rest are printed interrupted. */
	intr_catch();
	calls = xcalloc(n + 1, sizeof(*calls));
	for (i = 0; i < n; i++) {
		calls[i].m = &recs[i];
		calls[i].dryrun = ao->dryrun;
		start(is, ec2, &calls[i]);
	}
	ec2_run(ec2);
	back = read_back(is, ec2, recs, n);
	status = mutate_print(recs, n, is->action, NULL, NULL);

	free(calls);
	ec2_free(ec2);
	return status != EXIT_OK ? status : back;
}
