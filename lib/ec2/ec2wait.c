/* ec2wait.c: waiting for EC2 images and instances to reach a state, polling with back-off. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ec2.h"
#include "ec2res.h"
#include "ec2wait.h"
#include "interrupt.h"
#include "progress.h"
#include "record.h"
#include "strmap.h"
#include "timefmt.h"
#include "util.h"

/*
 * The pauses between describes: the first describe goes at once (a test endpoint, or an image
 * copied a while ago, may be done already), then 1 s growing by half each time up to 15 s, the
 * cap of the AWS CLI's waiters. Each pause is jittered by up to a quarter either way so that
 * parallel pipelines (make -j, one per region) do not poll in step.
 */
#define PAUSE_FIRST_MS		1000
#define PAUSE_MAX_MS		15000
/* EC2 is eventually consistent: a resource made a moment ago may not be described yet. */
#define NOTFOUND_GRACE_MS	30000
/* Why a resource not described yet is waited for, and how the progress line counts it. */
static const char NOT_FOUND_YET[] = "not found yet";

int64_t
ec2wait_timeout(const char *s)
{
	int64_t sec;

	if (duration_parse(s, &sec) == -1)
		usage_error("--timeout: bad duration '%s' (expected e.g. 90s, 10m, 1h30m)", s);
	return sec;
}

const char *
ec2wait_kind(enum ec2wait_state st)
{
	return st == EC2WAIT_AVAILABLE ? "images" : "instances";
}

/* The state's name on the progress line: "available", "running", "terminated". */
static const char *
ec2wait_goal(enum ec2wait_state st)
{
	switch (st) {
	case EC2WAIT_AVAILABLE:
		return "available";
	case EC2WAIT_TERMINATED:
		return "terminated";
	default:
		return "running";
	}
}

static const struct ec2res *
kind_of(enum ec2wait_state st)
{
	return st == EC2WAIT_AVAILABLE ? &ec2res_images : &ec2res_instances;
}

/* Borrows rec. Its State: the string of an image, State.Name of an instance; NULL if none. */
static const char *
state_of(enum ec2wait_state st, jv rec)
{
	jv state;
	const char *s;

	if (st == EC2WAIT_AVAILABLE)
		return rec_str(rec, "State");
	state = jv_object_get(jv_copy(rec), jv_string("State"));
	s = jv_get_kind(state) == JV_KIND_OBJECT ? rec_str(state, "Name") : NULL;
	jv_free(state);	/* rec still holds State, so s lives on */
	return s;
}

/* Borrows rec. Why it is in state s: StateReason.Message, else StateTransitionReason; NULL. */
static const char *
state_reason(jv rec)
{
	jv sr = jv_object_get(jv_copy(rec), jv_string("StateReason"));
	const char *s = jv_get_kind(sr) == JV_KIND_OBJECT ? rec_str(sr, "Message") : NULL;

	jv_free(sr);
	return s != NULL ? s : rec_str(rec, "StateTransitionReason");
}

/*
 * Borrows rec (null if it was not found). Where it stands against st; *reason gets why it is not
 * there yet (the caller frees it), or NULL.
 */
static int
classify(enum ec2wait_state st, jv rec, int grace, char **reason)
{
	static const char *const image_waits[] = { "pending", "transient", NULL };
	static const char *const running_waits[] = { "pending", NULL };
	const char *noun = st == EC2WAIT_AVAILABLE ? "image" : "instance";
	const char *s, *why, *ip;

	*reason = NULL;
	if (jv_get_kind(rec) != JV_KIND_OBJECT) {
		if (st == EC2WAIT_TERMINATED)
			return EC2WAIT_REACHED;
		*reason = xstrdup(grace ? NOT_FOUND_YET : "no longer exists");
		return grace ? EC2WAIT_WAITING : EC2WAIT_STUCK;
	}
	if ((s = state_of(st, rec)) == NULL) {
		*reason = xstrdup("no state yet");
		return EC2WAIT_WAITING;
	}
	switch (st) {
	case EC2WAIT_AVAILABLE:
		if (strcmp(s, "available") == 0)
			return EC2WAIT_REACHED;
		if (strmap_index(image_waits, s) != -1)
			break;
		goto stuck;
	case EC2WAIT_RUNNING:
	case EC2WAIT_RUNNING_PRIVATE:
		if (strmap_index(running_waits, s) != -1)
			break;
		if (strcmp(s, "running") != 0)
			goto stuck;
		ip = st == EC2WAIT_RUNNING ? "PublicIpAddress" : "PrivateIpAddress";
		if (rec_str(rec, ip) != NULL)
			return EC2WAIT_REACHED;
		xasprintf(reason, "running, but no %s yet", ip);
		return EC2WAIT_WAITING;
	case EC2WAIT_TERMINATED:
		if (strcmp(s, "terminated") == 0)
			return EC2WAIT_REACHED;
		break;
	}
	xasprintf(reason, "still %s", s);
	return EC2WAIT_WAITING;
stuck:
	/* The reason is EC2's text: it stays on the diagnostic's line. */
	if ((why = state_reason(rec)) != NULL) {
		xasprintf(reason, "%s %s: %s", noun, s, why);
		one_line(*reason);
	} else
		xasprintf(reason, "%s %s", noun, s);
	return EC2WAIT_STUCK;
}

/*
 * Borrows rec. Its state on the progress line: the state waited for once it is there, else EC2's
 * state name, or what keeps it from the state.
 */
static const char *
label(enum ec2wait_state st, int outcome, jv rec, const char *reason)
{
	const char *s;

	switch (outcome) {
	case EC2WAIT_REACHED:
		return ec2wait_goal(st);
	case EC2WAIT_ERROR:
		return "not described";
	case EC2WAIT_STUCK:
		return (s = state_of(st, rec)) != NULL ? s : "gone";
	}
	if (reason != NULL && strcmp(reason, NOT_FOUND_YET) == 0)
		return NOT_FOUND_YET;
	if ((s = state_of(st, rec)) == NULL)
		return "no state yet";
	/* Running, but waited for with an address. */
	if (strcmp(s, ec2wait_goal(st)) == 0)
		return "no address yet";
	return s;
}

/* Counts the records of w by state, for the progress line. */
static void
progress(struct progress *p, const struct ec2wait *w, const struct ec2res *k)
{
	size_t i;
	jv rec;

	for (i = 0; i < w->n; i++) {
		rec = jv_array_get(jv_copy(w->recs), (int)i);
		progress_count(p, label(w->state, w->outcome[i], rec, w->reason[i]),
		    rec_str(rec, "Region"), rec_str(rec, k->id));
		jv_free(rec);
	}
	progress_show(p);
}

/* Describes the records still waiting and sorts them out; returns how many still wait. */
static int
poll_once(struct ec2 *ec2, const struct ec2res *k, enum ec2wait_state st, int grace,
    struct ec2wait *w)
{
	jv batch = jv_array(), fresh, f, msg;
	size_t i;
	int j = 0, waiting = 0;

	for (i = 0; i < w->n; i++)
		if (w->outcome[i] == EC2WAIT_WAITING)
			batch = jv_array_append(batch, jv_array_get(jv_copy(w->recs), (int)i));
	fresh = ec2res_refresh(ec2, k, batch);
	if (!jv_is_valid(fresh)) {
		msg = jv_invalid_get_msg(fresh);
		for (i = 0; i < w->n; i++)
			if (w->outcome[i] == EC2WAIT_WAITING) {
				w->outcome[i] = EC2WAIT_ERROR;
				free(w->reason[i]);
				w->reason[i] = xstrdup(jv_string_value(msg));
			}
		jv_free(msg);
		w->stopped = 1;
		return 0;
	}
	for (i = 0; i < w->n; i++) {
		if (w->outcome[i] != EC2WAIT_WAITING)
			continue;
		f = jv_array_get(jv_copy(fresh), j++);
		free(w->reason[i]);
		w->outcome[i] = classify(st, f, grace, &w->reason[i]);
		if (jv_get_kind(f) == JV_KIND_OBJECT)
			w->recs = jv_array_set(w->recs, (int)i, f);
		else
			jv_free(f);
		if (w->outcome[i] == EC2WAIT_WAITING)
			waiting++;
		else if (w->outcome[i] == EC2WAIT_STUCK)
			w->stopped = 1;
	}
	jv_free(fresh);
	return waiting;
}

void
ec2wait(struct ec2 *ec2, jv recs, enum ec2wait_state st, int64_t timeout_s, struct ec2wait *w)
{
	const struct ec2res *k = kind_of(st);
	struct progress p;
	int64_t start = clock_ms(), deadline, now, pause = PAUSE_FIRST_MS, ms;
	int waiting;
	size_t i;

	deadline = timeout_s > (INT64_MAX - start) / 1000 ? INT64_MAX : start + timeout_s * 1000;
	w->state = st;
	w->told = 0;
	w->n = jv_array_length(jv_copy(recs));
	w->recs = recs;
	w->outcome = xcalloc(w->n + 1, sizeof(*w->outcome));
	w->reason = xcalloc(w->n + 1, sizeof(*w->reason));
	w->stopped = w->interrupted = 0;
	for (i = 0; i < w->n; i++)
		w->outcome[i] = EC2WAIT_WAITING;
	if (w->n == 0)
		return;
	progress_begin(&p, ec2wait_goal(st), w->n, timeout_s > INT64_MAX / 1000 ? 0 :
	    timeout_s * 1000);
	for (;;) {
		now = clock_ms();
		waiting = poll_once(ec2, k, st, now - start < NOTFOUND_GRACE_MS, w);
		progress(&p, w, k);
		if (waiting == 0 || w->stopped)
			break;
		if (intr_signal()) {
			w->stopped = w->interrupted = 1;
			break;
		}
		if ((now = clock_ms()) >= deadline)
			break;
		/* pause * [0.75, 1.25), never past the deadline */
		ms = pause * 3 / 4 + (int64_t)((double)random() / ((double)RAND_MAX + 1) *
		    (double)(pause / 2));
		progress_sleep(&p, ms < deadline - now ? ms : deadline - now);
		if (intr_signal()) {
			w->stopped = w->interrupted = 1;
			break;
		}
		pause = pause * 3 / 2 < PAUSE_MAX_MS ? pause * 3 / 2 : PAUSE_MAX_MS;
	}
	progress_end(&p);
}

char *
ec2wait_why(struct ec2wait *w, size_t i, const char *timeout)
{
	const struct ec2res *k = kind_of(w->state);
	char *why = NULL;
	jv rec;

	switch (w->outcome[i]) {
	case EC2WAIT_REACHED:
		return NULL;
	case EC2WAIT_WAITING:
		if (w->interrupted)
			xasprintf(&why, "%s when interrupted", w->reason[i]);
		else if (w->stopped)
			xasprintf(&why, "%s when the wait stopped", w->reason[i]);
		else
			xasprintf(&why, "%s after %s", w->reason[i], timeout);
		break;
	case EC2WAIT_ERROR:
		if (!w->told)
			progress_warnx("%s", w->reason[i]);
		w->told = 1;
		return xstrdup(w->reason[i]);
	default:
		why = xstrdup(w->reason[i]);
		break;
	}
	if (!w->stopped || w->outcome[i] == EC2WAIT_STUCK) {
		rec = jv_array_get(jv_copy(w->recs), (int)i);
		progress_warnx("%s %s: %s", rec_str(rec, "Region"), rec_str(rec, k->id), why);
		jv_free(rec);
	}
	return why;
}

void
ec2wait_free(struct ec2wait *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->reason[i]);
	free(w->reason);
	free(w->outcome);
	jv_free(w->recs);
}
