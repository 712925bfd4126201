/*
 * deregister deregisters the images its input records name and deletes their EBS snapshots. It
 * reads and checks all of its input first, then describes every image again and asks who uses
 * them (lib/ec2/imageuse.h: instances, launch templates, Auto Scaling, launch configurations, SSM
 * parameters, recipes, sharing, the last launch), and refuses, before it changes anything, each
 * image in use, that carries a protect tag, or that has deregistration protection, with a Reason
 * naming the user and the read that answered; if any of those reads fails, or more than --max
 * images are left,
 * nothing is deregistered at all. DeregisterImage deletes the snapshots itself
 * (DeleteAssociatedSnapshots); an endpoint that does not know that parameter gets DeregisterImage
 * alone and DeleteSnapshot for each snapshot no other image uses. Each record is printed back as
 * the image is now, with a Result.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "awsopt.h"
#include "ec2.h"
#include "ec2res.h"
#include "imageuse.h"
#include "interrupt.h"
#include "jsonl.h"
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "runq.h"
#include "snapuse.h"
#include "timefmt.h"
#include "util.h"

#define ACTION		"deregister"
#define BATCH		200	/* values per filter: EC2 caps one filter at 200 */
#define DEFAULT_MAX	50
#define CHUNK		1000	/* records refreshed at once: parsed records cost ~8x their text */

enum {
	OPT_ALLOW_SHARED = OPT_FIRST,
	OPT_KEEP_SNAPSHOTS,
	OPT_LT_VERSIONS,
	OPT_MAX,
	OPT_PROTECT_LAUNCHED,
	OPT_PROTECT_TAG,
	OPT_VERSION
};

/* What the whole run shares: the options, the client, the deregistrations to send. */
struct run {
	struct awsopt	 aws;
	struct imageuse_opts use;	/* what counts as in use */
	struct ec2	*ec2;
	struct protect	*protect;
	size_t		 nprotect;
	long long	 max;
	int		 keep;		/* --keep-snapshots */
};

struct image;

/* What becomes of a snapshot of an image deregistered. */
enum fate { FATE_NONE, FATE_DELETED, FATE_KEPT, FATE_FAILED };

/* A snapshot whose fate deregister decides itself (DeleteAssociatedSnapshots did not). */
struct snap {
	char		*id;
	enum fate	 fate;
	char		*why;		/* what the image's Reason says of it, or NULL */
};

struct region {
	char		*name;
	jv		 ids;		/* the image ids of this region, each once */
	struct imageuse	*use;
	int		 param;		/* DeleteAssociatedSnapshots: 1 known, 0 not yet, -1 unknown */
	int		 asked;		/* its first DeregisterImage is queued */
	struct runq_gate gate;		/* the others wait behind it for the first answer */
	struct snap	*snaps;		/* its images' snapshots still to sort, by id */
	size_t		 nsnaps;
	struct snapuse	*snapuse;	/* what says whether other images use them */
};

/*
 * One input record. It is kept as its compact JSON text, parsed again only for a moment when it is
 * needed (image_rec()): 10,000 records parsed at once would take ~90 MB, their text ~12 MB.
 */
struct image {
	struct run	*run;
	char		*text;		/* the record, with its Region: as read, then as refreshed */
	char		*fresh;		/* the refreshed record until decide() takes it; NULL: gone */
	int		 deregistered;	/* printed with State "deregistered" */
	char		*where;		/* FILE:LINE */
	char		*id;
	char		*region;
	struct region	*reg;
	struct image	*first;		/* an earlier record of the same image, or NULL */
	enum result_status	 status;
	jv		 notes;		/* what makes the Reason */
	char		*reqid;
	int		 param;		/* the call carried DeleteAssociatedSnapshots */
	jv		 deleted, kept, failed, pending;	/* snapshot ids */
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: deregister [--allow-shared] [--keep-snapshots]\n"
	    "           [--launch-template-versions default|all] [--max N]\n"
	    "           [--protect-launched-within DURATION] [--protect-tag KEY[=VALUE]]...\n"
	    "           [--dry-run] [--audit FILE] [--region REGION] [--endpoint-url URL]\n"
	    "           [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Deregister images and delete their snapshots (not images in use or protected).\n"
	    "\n"
	    "      --allow-shared       images shared with other accounts may go too\n"
	    "      --keep-snapshots     deregister the images only; keep their snapshots\n"
	    "      --launch-template-versions default|all\n"
	    "                           template versions that count as use (default:\n"
	    "                           default, latest and those Auto Scaling names)\n"
	    "      --max N              do nothing if over N images are left (default 50)\n"
	    "      --protect-launched-within DURATION\n"
	    "                           refuse images launched within DURATION (30d)\n"
	    "      --protect-tag KEY[=VALUE]\n"
	    "                           refuse images with this tag (repeatable)\n"
	    AWSOPT_HELP);
}

/* Consumes s. Adds s to what the Reason of im will say. */
static void
note(struct image *im, jv s)
{
	im->notes = jv_array_append(im->notes, s);
}

static void
set_status(struct image *im, enum result_status st, const char *why)
{
	im->status = st;
	if (why != NULL)
		note(im, jv_string(why));
}

/* ---- input ---- */

/* Consumes rec. Its compact JSON text, as out_record() would print it. */
static char *
rec_text(jv rec)
{
	jv s = jv_dump_string(rec, 0);
	char *t = xstrdup(jv_string_value(s));

	jv_free(s);
	return t;
}

/* The record of im as it is now (parsed from its text). */
static jv
image_rec(const struct image *im)
{
	jv rec = jv_parse(im->text);

	if (!jv_is_valid(rec))
		errx(EXIT_FAIL, "internal error: a record kept as text does not parse");
	return rec;
}

/* What read_input() fills. */
struct input {
	struct run	*run;
	struct image	*ims;
	size_t		 n, cap;
};

/*
 * Consumes rec. mutate_read_each() has checked its ImageId and Region; an instance record names
 * the image it was launched from, and is not an image to deregister. Keeps it as text.
 */
static void
take_record(struct jsonl *in, jv rec, const char *idfield, void *arg)
{
	struct input *inp = arg;
	struct image *im;

	(void)idfield;
	rec_require_image(in, rec);
	if (inp->n == inp->cap) {
		inp->cap = inp->cap ? inp->cap * 2 : 64;
		inp->ims = xreallocarray(inp->ims, inp->cap + 1, sizeof(*inp->ims));
	}
	im = &inp->ims[inp->n++];
	memset(im, 0, sizeof(*im));
	im->run = inp->run;
	im->where = jsonl_where(in);
	im->id = xstrdup(rec_str(rec, "ImageId"));
	im->region = xstrdup(rec_str(rec, "Region"));
	im->notes = jv_array();
	im->deleted = jv_array();
	im->kept = jv_array();
	im->failed = jv_array();
	im->pending = jv_array();
	im->text = rec_text(rec);
}

/*
 * Reads and checks every record before the first call (mutate_read_each(): an ImageId "ami-...",
 * a Region unless one is configured); anything else is bad input: exit 3, nothing changed.
 */
static struct image *
read_input(struct run *run, char **paths, const char *defregion, size_t *np)
{
	static const char *const idfields[] = { "ImageId", NULL };
	struct input inp = { run, NULL, 0, 0 };

	mutate_read_each(paths, defregion, idfields, take_record, &inp);
	if (inp.ims == NULL)
		inp.ims = xcalloc(1, sizeof(*inp.ims));
	*np = inp.n;
	return inp.ims;
}

/* Groups the images by region, in input order; a second record of an image points to the first. */
static struct region *
group_regions(struct image *ims, size_t n, size_t *nregp)
{
	struct region *regs = NULL;
	size_t i, k, nreg = 0, *at = xcalloc(n + 1, sizeof(*at));
	const char *name;
	jv seen = jv_object(), key, first;

	for (i = 0; i < n; i++) {
		name = ims[i].region;
		for (k = 0; k < nreg && strcmp(regs[k].name, name) != 0; k++)
			;
		if (k == nreg) {
			regs = xreallocarray(regs, nreg + 1, sizeof(*regs));
			memset(&regs[nreg], 0, sizeof(*regs));
			regs[nreg].name = xstrdup(name);
			regs[nreg].ids = jv_array();
			nreg++;
		}
		at[i] = k;
		key = jv_string_fmt("%s %s", name, ims[i].id);
		first = jv_object_get(jv_copy(seen), jv_copy(key));
		if (jv_get_kind(first) == JV_KIND_NUMBER) {
			ims[i].first = &ims[(size_t)jv_number_value(first)];
			jv_free(key);
		} else {
			seen = jv_object_set(seen, key, jv_number((double)i));
			regs[k].ids = jv_array_append(regs[k].ids, jv_string(ims[i].id));
		}
		jv_free(first);
	}
	jv_free(seen);
	/* Only now that regs has stopped moving. */
	for (i = 0; i < n; i++)
		ims[i].reg = &regs[at[i]];
	free(at);
	*nregp = nreg;
	return regs;
}

/* ---- reading what the checks need ---- */

/*
 * Reads what the refusals need, in every region at once: what uses the images, queued first, and
 * the images as they are now (the input may be an old plan), whose ec2res_refresh() runs every
 * queued call. The records are refreshed CHUNK at a time, so that only so many are parsed at
 * once; each image's fresh is its record refreshed (NULL where it is gone). Returns jv_true(), or
 * jv_invalid_with_msg(diag) if a refresh failed (the chunks after it are not read).
 */
static jv
read_checks(struct run *run, struct image *ims, size_t n, struct region *regs, size_t nreg)
{
	size_t i, k, end;
	jv recs, fresh;

	for (i = 0; i < nreg; i++)
		regs[i].use = imageuse_submit(run->ec2, regs[i].name, regs[i].ids, &run->use);
	/* Once at least: with no input, the reads of what uses the images still run. */
	k = 0;
	do {
		end = n - k > CHUNK ? k + CHUNK : n;
		recs = jv_array();
		for (i = k; i < end; i++)
			recs = jv_array_append(recs, image_rec(&ims[i]));
		fresh = ec2res_refresh(run->ec2, &ec2res_images, recs);
		if (!jv_is_valid(fresh))
			return fresh;
		jv_array_foreach(fresh, j, rec) {
			if (jv_get_kind(rec) == JV_KIND_OBJECT) {
				imageuse_image(ims[k + (size_t)j].reg->use, rec);
				ims[k + (size_t)j].fresh = rec_text(jv_copy(rec));
			}
			jv_free(rec);
		}
		jv_free(fresh);
		k = end;
	} while (k < n && !intr_signal());
	/* The last launches DescribeImages did not tell. */
	ec2_run(run->ec2);
	return jv_true();
}

/* Borrows fresh. Reports the reads that failed; returns 1 if any did. Says what could not be told. */
static int
checks_failed(jv fresh, struct region *regs, size_t nreg)
{
	size_t k;
	int failed = 0;
	jv errs, unknown, msg;

	if (!jv_is_valid(fresh)) {
		msg = jv_invalid_get_msg(jv_copy(fresh));
		warnx("%s", jv_string_value(msg));
		jv_free(msg);
		failed = 1;
	}
	for (k = 0; k < nreg; k++) {
		errs = imageuse_errors(regs[k].use);
		jv_array_foreach(errs, i, e) {
			warnx("%s", jv_string_value(e));
			failed = 1;
			jv_free(e);
		}
		jv_free(errs);
		unknown = imageuse_unknown(regs[k].use);
		jv_array_foreach(unknown, i, u) {
			warnx("%s", jv_string_value(u));
			jv_free(u);
		}
		jv_free(unknown);
	}
	return failed;
}

/* ---- refusals ---- */

/*
 * Borrows img. Appends to why its deregistration protection: any value but "disabled", since
 * "enabled..." refuses now and a disabling still in its cooldown refuses until it ends.
 */
static jv
refuse_protection(jv img, jv why)
{
	const char *v = rec_str(img, "DeregistrationProtection");

	if (v != NULL && strcmp(v, "disabled") != 0)
		why = jv_array_append(why, jv_string_fmt("deregistration protection (%s)", v));
	return why;
}

/* Borrows img. The reasons to leave img alone: empty when it may go. */
static jv
refusals(const struct image *im, jv img)
{
	jv why = imageuse_reasons(im->reg->use, im->id);

	why = protect_reasons(im->run->protect, im->run->nprotect, img, why);
	return refuse_protection(img, why);
}

/*
 * Decides from the reads (each image's fresh record) which images may go; the others are skipped
 * with every reason that holds. Returns how many are left to deregister.
 */
static size_t
decide(struct image *ims, size_t n)
{
	size_t i, left = 0;
	jv rec, why;

	for (i = 0; i < n; i++) {
		struct image *im = &ims[i];

		if (im->first != NULL) {
			set_status(im, RESULT_SKIPPED, NULL);
			note(im, jv_string_fmt("the same image as %s", im->first->where));
			continue;
		}
		if (im->fresh == NULL) {
			set_status(im, RESULT_SKIPPED, "already deregistered");
			continue;
		}
		free(im->text);
		im->text = im->fresh;
		im->fresh = NULL;
		rec = image_rec(im);
		why = refusals(im, rec);
		jv_free(rec);
		if (jv_array_length(jv_copy(why)) > 0) {
			im->status = RESULT_SKIPPED;
			im->notes = jv_array_concat(im->notes, why);
		} else {
			jv_free(why);
			left++;
		}
	}
	return left;
}

/* Nothing is deregistered: every image not skipped fails with why. */
static void
refuse_all(struct image *ims, size_t n, enum result_status st, const char *why)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ims[i].status == RESULT_NONE)
			set_status(&ims[i], st, why);
}

/* More than --max images left: nothing is deregistered, and each of them says why. */
static void
refuse_max(struct image *ims, size_t n, size_t left, long long max)
{
	char *why;

	warnx("%zu image%s to deregister, more than --max %lld: nothing deregistered", left,
	    plural((long long)left), max);
	xasprintf(&why, "not deregistered: %zu image%s to deregister, more than --max %lld", left,
	    plural((long long)left), max);
	refuse_all(ims, n, RESULT_FAILED, why);
	free(why);
}

/* ---- deregistering ---- */

/* Borrows list. 1 if list holds the string s. */
static int
contains(jv list, const char *s)
{
	int found = 0;

	jv_array_foreach(list, i, v) {
		found |= jv_get_kind(v) == JV_KIND_STRING && strcmp(jv_string_value(v), s) == 0;
		jv_free(v);
	}
	return found;
}

static void	dereg_done(const struct ec2_result *, void *);

/* DeregisterImage's params for im, made when its call starts: its region's first answer is in. */
static jv
dereg_params(void *arg)
{
	struct image *im = arg;
	struct run *run = im->run;
	jv p = JV_OBJECT(jv_string("ImageId"), jv_string(im->id));

	im->param = !run->keep && im->reg->param >= 0;
	if (im->param)
		p = jv_object_set(p, jv_string("DeleteAssociatedSnapshots"), jv_true());
	if (run->aws.dryrun)
		p = jv_object_set(p, jv_string("DryRun"), jv_true());
	return p;
}

/*
 * Queues the deregistration of im. In each region the first call goes alone and the rest wait
 * behind the region's gate for its answer, which shows whether the endpoint knows
 * DeleteAssociatedSnapshots: an older endpoint would otherwise refuse each of them once.
 */
static void
dereg_submit(struct image *im)
{
	struct region *r = im->reg;
	struct runq_gate *gate = NULL;

	if (!im->run->keep && r->param == 0) {
		if (r->asked)
			gate = &r->gate;
		r->asked = 1;
	}
	ec2_submit_behind(im->run->ec2, gate, r->name, "DeregisterImage", dereg_params, dereg_done,
	    im);
}

/* An endpoint older than DeleteAssociatedSnapshots refuses the parameter itself. */
static int
unknown_param(const struct ec2_result *res)
{
	return strcmp(res->code, "UnknownParameter") == 0 ||
	    (strncmp(res->code, "InvalidParameter", 16) == 0 && res->message != NULL &&
	    strcasestr(res->message, "DeleteAssociatedSnapshots") != NULL);
}

/*
 * Borrows out. Sorts the snapshots DeregisterImage reports on: deleted, or kept because another
 * image uses them. Those it failed on, or did not mention, are checked and deleted one by one.
 */
static void
snapshot_results(struct image *im, jv out)
{
	jv rec = image_rec(im), mine = image_snapshots(rec), results;

	jv_free(rec);

	results = jv_object_get(jv_copy(out), jv_string("DeleteSnapshotResults"));
	if (jv_get_kind(results) == JV_KIND_ARRAY)
		jv_array_foreach(results, i, r) {
			const char *sid = rec_str(r, "SnapshotId"), *code = rec_str(r, "ReturnCode");

			if (sid == NULL)
				;
			else if (code != NULL && strcmp(code, "success") == 0)
				im->deleted = jv_array_append(im->deleted, jv_string(sid));
			else if (code != NULL && strcmp(code, "skipped") == 0) {
				im->kept = jv_array_append(im->kept, jv_string(sid));
				note(im, jv_string_fmt("kept %s: another image uses it", sid));
			} else
				im->pending = jv_array_append(im->pending, jv_string(sid));
			jv_free(r);
		}
	jv_free(results);
	jv_array_foreach(mine, i, sid) {
		if (!contains(im->deleted, jv_string_value(sid)) &&
		    !contains(im->kept, jv_string_value(sid)) &&
		    !contains(im->pending, jv_string_value(sid)))
			im->pending = jv_array_append(im->pending, sid);
		else
			jv_free(sid);
	}
	jv_free(mine);
}

/* Borrows out. The image is gone (or would be); its snapshots are sorted next. */
static void
gone(struct image *im, enum result_status st, jv out)
{
	jv rec;

	im->status = st;
	if (st == RESULT_DONE)
		im->deregistered = 1;
	if (im->param && !im->run->keep && jv_get_kind(out) == JV_KIND_OBJECT) {
		snapshot_results(im, out);
		return;
	}
	rec = image_rec(im);
	if (im->run->keep) {
		jv_free(im->kept);
		im->kept = image_snapshots(rec);
	} else {
		jv_free(im->pending);
		im->pending = image_snapshots(rec);
	}
	jv_free(rec);
}

static void
dereg_done(const struct ec2_result *res, void *arg)
{
	struct image *im = arg;
	struct region *r = im->reg;
	struct run *run = im->run;

	if (ec2_interrupted(res->code)) {
		set_status(im, RESULT_INTERRUPTED, "not deregistered: interrupted");
		return;
	}
	if (res->code != NULL && im->param && unknown_param(res)) {
		r->param = -1;
		ec2_open(run->ec2, &r->gate);
		dereg_submit(im);
		return;
	}
	if (im->param && r->param == 0)
		r->param = 1;
	ec2_open(run->ec2, &r->gate);
	im->reqid = res->request_id != NULL ? xstrdup(res->request_id) : NULL;
	if (res->code == NULL)
		gone(im, RESULT_DONE, res->out);
	else if (strcmp(res->code, "DryRunOperation") == 0)
		gone(im, RESULT_DRYRUN, jv_null());
	else if (ec2_gone(res->code) && run->aws.dryrun)
		set_status(im, RESULT_SKIPPED, "already deregistered");
	else if (ec2_gone(res->code)) {
		/*
		 * The refresh found it a moment ago. Most likely this very call took it and its
		 * answer was lost: libcurl sends a request again, once, when a reused connection
		 * dies unanswered, and so do the retries. Either way it is gone as asked, and its
		 * snapshots must not be left behind.
		 */
		gone(im, RESULT_DONE, jv_null());
		note(im, jv_string("gone by the time EC2 answered: deregistered by an attempt whose "
		    "answer was lost, or by another caller"));
	} else if (strcmp(res->code, "OperationNotPermitted") == 0) {
		set_status(im, RESULT_SKIPPED, NULL);
		note(im, jv_string_fmt("deregistration protection: %s", res->message));
	} else {
		warnx("%s", res->diag);
		set_status(im, RESULT_FAILED, res->diag);
	}
}

/*
 * Deregisters every image left, -P at a time in input order (the queue of lib/ec2). After an
 * interrupt (intr_catch()) no more calls start; those in flight finish, and the images not sent
 * come back interrupted.
 */
static void
deregister_all(struct run *run, struct image *ims, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ims[i].status == RESULT_NONE)
			dereg_submit(&ims[i]);
	ec2_run(run->ec2);
	for (i = 0; i < n; i++)
		if (ims[i].status == RESULT_NONE)
			set_status(&ims[i], RESULT_FAILED, "not deregistered: no answer");
}

/* ---- snapshots ---- */

static int
snap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snap *)a)->id, ((const struct snap *)b)->id);
}

/* The snapshot sid of region r's table, or NULL. */
static struct snap *
snap_find(struct region *r, const char *sid)
{
	struct snap key = { .id = (char *)sid };

	if (sid == NULL || r->nsnaps == 0)
		return NULL;
	return bsearch(&key, r->snaps, r->nsnaps, sizeof(*r->snaps), snap_cmp);
}

static void
snaps_free(struct region *r)
{
	size_t i;

	for (i = 0; i < r->nsnaps; i++) {
		free(r->snaps[i].id);
		free(r->snaps[i].why);
	}
	free(r->snaps);
	r->snaps = NULL;
	r->nsnaps = 0;
	snapuse_free(r->snapuse);
	r->snapuse = NULL;
}

/* Consumes why (malloc'ed, or NULL). Records what became of snapshot s. */
static void
set_fate(struct snap *s, enum fate fate, char *why)
{
	s->fate = fate;
	free(s->why);
	s->why = why;
}

/*
 * Makes region r's table of the snapshots its images left pending, each once, then queues the
 * reads (snapuse.h) that say which other images use them and (unless this is a dry run) which
 * still exist. Returns how many there are.
 */
static int
submit_snapshot_reads(struct image *ims, size_t n, struct region *r, int dry)
{
	size_t i, m;
	jv ids = jv_array();

	for (i = 0; i < n; i++)
		if (ims[i].reg == r)
			jv_array_foreach(ims[i].pending, j, sid) {
				r->snaps = xreallocarray(r->snaps, r->nsnaps + 1, sizeof(*r->snaps));
				memset(&r->snaps[r->nsnaps], 0, sizeof(*r->snaps));
				r->snaps[r->nsnaps++].id = xstrdup(jv_string_value(sid));
				ids = jv_array_append(ids, sid);
			}
	if (r->nsnaps > 0)
		qsort(r->snaps, r->nsnaps, sizeof(*r->snaps), snap_cmp);
	/* Images sharing a snapshot name it once. */
	for (i = m = 0; i < r->nsnaps; i++)
		if (m > 0 && strcmp(r->snaps[m - 1].id, r->snaps[i].id) == 0)
			free(r->snaps[i].id);
		else
			r->snaps[m++] = r->snaps[i];
	r->nsnaps = m;
	if (r->nsnaps > 0)
		r->snapuse = snapuse_submit(ims[0].run->ec2, r->name, ids,
		    SNAPUSE_USERS | (dry ? 0 : SNAPUSE_RECORDS));
	jv_free(ids);
	return (int)r->nsnaps;
}

static void
delete_done(const struct ec2_result *res, void *arg)
{
	struct snap *s = arg;
	char *why;

	if (res->code == NULL || strcmp(res->code, "InvalidSnapshot.NotFound") == 0)
		set_fate(s, FATE_DELETED, NULL);
	else if (strcmp(res->code, "InvalidSnapshot.InUse") == 0) {
		xasprintf(&why, "kept %s: %s", s->id, res->message);
		set_fate(s, FATE_KEPT, why);
	} else {
		warnx("%s", res->diag);
		xasprintf(&why, "%s not deleted: %s", s->id, res->diag);
		set_fate(s, FATE_FAILED, why);
	}
}

/*
 * Borrows users ([{"ImageId",...}], the images that use s). The first that is not deregistered
 * by this run (or, in a dry run, would not be), or NULL; it lives as long as users.
 */
static const char *
other_user(struct image *ims, size_t n, struct region *r, jv users, int dry)
{
	const char *id, *other = NULL;
	size_t i;
	int found;

	jv_array_foreach(users, u, user) {
		id = rec_str(user, "ImageId");
		for (found = 0, i = 0; dry && i < n && !found; i++)
			found = ims[i].reg == r && ims[i].status == RESULT_DRYRUN &&
			    strcmp(ims[i].id, id) == 0;
		if (!found && other == NULL)
			other = id;
		jv_free(user);
	}
	return other;
}

/*
 * Sorts the snapshots of region r after the reads: kept when another image uses one (or, in a
 * dry run, would still use it), deleted when it is gone, else deleted now. A failed read
 * deletes nothing: a missed check must never turn into a deletion. A dry run's reasons say what
 * a run would do.
 */
static void
sort_snapshots(struct image *ims, size_t n, struct region *r, int dry)
{
	struct snap *s;
	const char *user;
	char *why;
	jv errs, users, rec;
	int failed;
	size_t i;

	if (r->nsnaps == 0)
		return;
	errs = snapuse_errors(r->snapuse);
	failed = jv_array_length(jv_copy(errs)) > 0;
	jv_array_foreach(errs, k, e) {
		warnx("%s", jv_string_value(e));
		jv_free(e);
	}
	jv_free(errs);
	for (i = 0; i < r->nsnaps; i++) {
		s = &r->snaps[i];
		users = snapuse_users(r->snapuse, s->id);
		user = other_user(ims, n, r, users, dry);
		rec = snapuse_record(r->snapuse, s->id);
		if (failed) {
			xasprintf(&why, dry ? "would keep %s: cannot tell whether another image uses it" :
			    "%s not deleted: cannot tell whether another image uses it", s->id);
			set_fate(s, FATE_FAILED, why);
		} else if (user != NULL) {
			xasprintf(&why, "%s %s: used by %s", dry ? "would keep" : "kept", s->id, user);
			set_fate(s, FATE_KEPT, why);
		} else if (dry) {
			xasprintf(&why, "would delete %s", s->id);
			set_fate(s, FATE_DELETED, why);
		} else if (jv_get_kind(rec) == JV_KIND_NULL)
			/* Not among the account's snapshots: it went with its image. */
			set_fate(s, FATE_DELETED, NULL);
		else
			ec2_submit(ims[0].run->ec2, r->name, "DeleteSnapshot",
			    JV_OBJECT(jv_string("SnapshotId"), jv_string(s->id)), delete_done, s);
		jv_free(users);
		jv_free(rec);
	}
}

/* Moves im's pending snapshots to the lists their fate in its region's table says. */
static void
apply_fates(struct image *im)
{
	const struct snap *s;

	jv_array_foreach(im->pending, i, sid) {
		s = snap_find(im->reg, jv_string_value(sid));
		if (s != NULL && s->why != NULL)
			note(im, jv_string(s->why));
		if (s != NULL && s->fate == FATE_DELETED)
			im->deleted = jv_array_append(im->deleted, sid);
		else if (s != NULL && s->fate == FATE_KEPT)
			im->kept = jv_array_append(im->kept, sid);
		else {
			im->failed = jv_array_append(im->failed, sid);
			im->status = RESULT_FAILED;
		}
	}
	jv_free(im->pending);
	im->pending = jv_array();
}

/*
 * The snapshots of the images deregistered without DeleteAssociatedSnapshots (an older
 * endpoint, a lost answer) or, in a dry run, of those that would be: which are used by other
 * images, which still exist; then DeleteSnapshot for each that no other image uses.
 */
static void
delete_snapshots(struct image *ims, size_t n, struct region *regs, size_t nreg)
{
	int dry = ims[0].run->aws.dryrun;
	size_t k, i, any = 0;

	for (k = 0; k < nreg; k++)
		any += (size_t)submit_snapshot_reads(ims, n, &regs[k], dry);
	if (any == 0)
		return;
	ec2_run(ims[0].run->ec2);
	for (k = 0; k < nreg; k++)
		sort_snapshots(ims, n, &regs[k], dry);
	ec2_run(ims[0].run->ec2);
	for (i = 0; i < n; i++)
		apply_fates(&ims[i]);
}

/* ---- output ---- */

/* Prints every record in input order, with its Result; returns EXIT_FAIL if any failed. */
static int
print_results(struct image *ims, size_t n)
{
	size_t i;
	int status = EXIT_OK;
	jv rec, reason, result;

	for (i = 0; i < n; i++) {
		struct image *im = &ims[i];

		rec = image_rec(im);
		if (im->deregistered)
			rec = jv_object_set(rec, jv_string("State"), jv_string("deregistered"));
		reason = jv_null();
		jv_array_foreach(im->notes, j, s) {
			if (jv_get_kind(reason) == JV_KIND_NULL)
				reason = s;
			else
				reason = jv_string_concat(jv_string_append_str(reason, "; "), s);
		}
		rec = rec_result(rec, ACTION, im->status,
		    jv_get_kind(reason) == JV_KIND_STRING ? jv_string_value(reason) : NULL, im->reqid);
		jv_free(reason);
		if (im->status == RESULT_DONE || im->status == RESULT_DRYRUN ||
		    jv_array_length(jv_copy(im->deleted)) + jv_array_length(jv_copy(im->kept)) +
		    jv_array_length(jv_copy(im->failed)) > 0) {
			result = jv_object_get(jv_copy(rec), jv_string("Result"));
			result = jv_object_set(result, jv_string("DeletedSnapshots"), jv_copy(im->deleted));
			result = jv_object_set(result, jv_string("KeptSnapshots"), jv_copy(im->kept));
			if (jv_array_length(jv_copy(im->failed)) > 0)
				result = jv_object_set(result, jv_string("FailedSnapshots"),
				    jv_copy(im->failed));
			rec = jv_object_set(rec, jv_string("Result"), result);
		}
		if (im->status == RESULT_FAILED || im->status == RESULT_INTERRUPTED)
			status = EXIT_FAIL;
		out_record(rec);
	}
	return status;
}

static void
free_all(struct image *ims, size_t n, struct region *regs, size_t nreg)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(ims[i].text);
		free(ims[i].fresh);
		free(ims[i].id);
		free(ims[i].region);
		jv_free(ims[i].notes);
		jv_free(ims[i].deleted);
		jv_free(ims[i].kept);
		jv_free(ims[i].failed);
		jv_free(ims[i].pending);
		free(ims[i].where);
		free(ims[i].reqid);
	}
	for (i = 0; i < nreg; i++) {
		jv_free(regs[i].ids);
		snaps_free(&regs[i]);
		imageuse_free(regs[i].use);
		free(regs[i].name);
	}
	free(ims);
	free(regs);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		AWSOPT_LONGOPTS,
		{ "allow-shared",	no_argument,		NULL,	OPT_ALLOW_SHARED },
		{ "help",		no_argument,		NULL,	'h' },
		{ "keep-snapshots",	no_argument,		NULL,	OPT_KEEP_SNAPSHOTS },
		{ "launch-template-versions", required_argument, NULL,	OPT_LT_VERSIONS },
		{ "max",		required_argument,	NULL,	OPT_MAX },
		{ "protect-launched-within", required_argument, NULL,	OPT_PROTECT_LAUNCHED },
		{ "protect-tag",	required_argument,	NULL,	OPT_PROTECT_TAG },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ NULL,			0,			NULL,	0 }
	};
	struct run run;
	struct image *ims;
	struct region *regs;
	size_t n, nreg, left;
	int ch, status = EXIT_OK;
	jv fresh;

	out_init();
	memset(&run, 0, sizeof(run));
	awsopt_init(&run.aws);
	run.max = DEFAULT_MAX;
	run.use.described = 1;
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case OPT_ALLOW_SHARED:
			run.use.allow_shared = 1;
			break;
		case 'h':
			usage();
		case OPT_LT_VERSIONS:
			if ((run.use.all_versions = imageuse_parse_versions(optarg)) == -1)
				usage_error("--launch-template-versions: bad value '%s' (expected "
				    "default or all)", optarg);
			break;
		case OPT_PROTECT_LAUNCHED:
			if (duration_parse(optarg, &run.use.launched_within) == -1 ||
			    run.use.launched_within == 0)
				usage_error("--protect-launched-within: bad value '%s' (expected a "
				    "duration such as 30d, 12h or 1h30m)", optarg);
			run.use.launched_arg = optarg;
			break;
		case OPT_KEEP_SNAPSHOTS:
			run.keep = 1;
			break;
		case OPT_MAX:
			run.max = parse_num(optarg, 0, 1000000, "--max");
			break;
		case OPT_PROTECT_TAG:
			protect_add(&run.protect, &run.nprotect, optarg);
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&run.aws, ch, optarg))
				usage_error(NULL);
		}
	}
	argv += optind;

	run.ec2 = awsopt_client(&run.aws);
	ims = read_input(&run, argv, ec2_region(run.ec2), &n);
	regs = group_regions(ims, n, &nreg);
	intr_catch();

	fresh = read_checks(&run, ims, n, regs, nreg);
	if (checks_failed(fresh, regs, nreg))
		refuse_all(ims, n, RESULT_FAILED,
		    "not deregistered: a read the safety checks need failed");
	else if (intr_signal())
		refuse_all(ims, n, RESULT_INTERRUPTED, "not deregistered: interrupted");
	else if ((left = decide(ims, n)) > (size_t)run.max)
		refuse_max(ims, n, left, run.max);
	else if (left > 0) {
		deregister_all(&run, ims, n);
		delete_snapshots(ims, n, regs, nreg);
	}
	status = print_results(ims, n);

	jv_free(fresh);
	free_all(ims, n, regs, nreg);
	protect_free(run.protect, run.nprotect);
	ec2_free(run.ec2);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
