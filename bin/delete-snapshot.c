/*
 * delete-snapshot deletes the EBS snapshots its input records name (ec2-describe snapshots). It
 * reads and checks all of its input first, then reads each snapshot again and what could need it
 * (lib/ec2/snapuse.h), and refuses, as skipped with every reason that holds, a snapshot that a
 * registered image uses (deprecated and disabled images included), that carries a protect tag,
 * that is shared with another account or public (unless --allow-shared), or, with --orphans, that
 * is not an orphan: one made by CreateImage or CopyImage for an image that no longer exists. A
 * read that fails in a region deletes nothing in that region; more than --max snapshots left
 * deletes nothing at all. Each record is printed back as the snapshot was last read, with a
 * Result.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsopt.h"
#include "ec2.h"
#include "ec2res.h"
#include "interrupt.h"
#include "jsonl.h"
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "snapuse.h"
#include "util.h"

#define ACTION		"delete-snapshot"
#define DEFAULT_MAX	50

enum {
	OPT_ALLOW_SHARED = OPT_FIRST,
	OPT_MAX,
	OPT_ORPHANS,
	OPT_PROTECT_TAG,
	OPT_VERSION
};

struct run {
	struct awsopt	 aws;
	struct ec2	*ec2;
	struct protect	*protect;
	size_t		 nprotect;
	long long	 max;
	int		 allow_shared;
	int		 orphans;
};

struct region {
	char		*name;
	jv		 ids;		/* its snapshot ids, each once */
	struct snapuse	*use;
	int		 failed;	/* a read failed: nothing is deleted here */
};

/* One input record: mrec's aux is its FILE:LINE. */
struct snap {
	struct run	*run;
	struct mrec	*m;
	struct region	*reg;
	const struct snap *first;	/* an earlier record of the same snapshot, or NULL */
	int		 candidate;	/* no refusal holds (yet) */
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: delete-snapshot [--orphans] [--allow-shared] [--max N]\n"
	    "           [--protect-tag KEY[=VALUE]]... [--dry-run] [--audit FILE]\n"
	    "           [--region REGION] [--endpoint-url URL] [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Delete EBS snapshots that no image uses and nobody else may need.\n"
	    "\n"
	    "      --allow-shared       delete snapshots shared with others too\n"
	    "      --max N              do nothing if over N snapshots are left (default 50)\n"
	    "      --orphans            delete only snapshots of images that are gone\n"
	    "      --protect-tag KEY[=VALUE]\n"
	    "                           refuse snapshots with this tag (repeatable)\n"
	    AWSOPT_HELP);
}

/* Borrows rec. Its FILE:LINE, for the reason of a later record of the same snapshot. */
static jv
where(struct jsonl *in, jv rec, const char *idfield, void *arg)
{
	char *w = jsonl_where(in);
	jv v = jv_string(w);

	(void)rec, (void)idfield, (void)arg;
	free(w);
	return v;
}

/* Consumes why (an array of strings). Joined with "; ", or NULL when empty; the caller frees it. */
static char *
joined(jv why)
{
	jv s = jv_string("");
	char *out = NULL;

	jv_array_foreach(why, i, w)
		s = jv_string_concat(i > 0 ? jv_string_append_str(s, "; ") : s, w);
	if (jv_array_length(why) > 0)
		out = xstrdup(jv_string_value(s));
	jv_free(s);
	return out;
}

/* Consumes why (malloc'ed, or NULL). s is decided: st, for the reason why. */
static void
set(struct snap *s, enum result_status st, char *why)
{
	outcome_set_reason(&s->m->o, st, why);
	free(why);
	s->candidate = 0;
}

/* A read s's region needed failed: s is kept. */
static void
read_failed(struct snap *s)
{
	set(s, RESULT_FAILED, xstrdup(s->run->aws.dryrun ?
	    "would keep it: a read the safety checks need failed" :
	    "not deleted: a read the safety checks need failed"));
}

/* ---- reading ---- */

/* Groups the records by region, in input order; a second record of a snapshot points to the first. */
static struct region *
group_regions(struct run *run, struct mrec *recs, size_t n, struct snap *snaps, size_t *nregp)
{
	struct region *regs = xcalloc(n + 1, sizeof(*regs));
	size_t i, k, nreg = 0;
	jv seen = jv_object(), key, first;

	for (i = 0; i < n; i++) {
		snaps[i].run = run;
		snaps[i].m = &recs[i];
		for (k = 0; k < nreg && strcmp(regs[k].name, mrec_region(&recs[i])) != 0; k++)
			;
		if (k == nreg) {
			regs[nreg].name = xstrdup(mrec_region(&recs[i]));
			regs[nreg].ids = jv_array();
			nreg++;
		}
		snaps[i].reg = &regs[k];
		key = jv_string_fmt("%s %s", regs[k].name, mrec_id(&recs[i]));
		first = jv_object_get(jv_copy(seen), jv_copy(key));
		if (jv_get_kind(first) == JV_KIND_NUMBER) {
			snaps[i].first = &snaps[(size_t)jv_number_value(first)];
			jv_free(key);
		} else {
			seen = jv_object_set(seen, key, jv_number((double)i));
			regs[k].ids = jv_array_append(regs[k].ids, jv_string(mrec_id(&recs[i])));
		}
		jv_free(first);
	}
	jv_free(seen);
	*nregp = nreg;
	return regs;
}

/*
 * Reports the reads that failed in each region not failed yet; a region with one deletes
 * nothing.
 */
static void
check_reads(struct region *regs, size_t nreg)
{
	size_t k;
	jv errs;

	for (k = 0; k < nreg; k++) {
		if (regs[k].failed)
			continue;
		errs = snapuse_errors(regs[k].use);
		jv_array_foreach(errs, i, e) {
			warnx("%s", jv_string_value(e));
			regs[k].failed = 1;
			jv_free(e);
		}
		jv_free(errs);
	}
}

/* ---- refusals ---- */

/* Borrows rec (s's fresh record). Appends to why the images that use s. */
static jv
refuse_users(const struct snap *s, jv why)
{
	jv users = snapuse_users(s->reg->use, mrec_id(s->m));
	const char *state;

	jv_array_foreach(users, i, u) {
		state = rec_str(u, "State");
		if (state != NULL && strcmp(state, "available") != 0)
			why = jv_array_append(why, jv_string_fmt("used by image %s (%s)",
			    rec_str(u, "ImageId"), state));
		else
			why = jv_array_append(why, jv_string_fmt("used by image %s",
			    rec_str(u, "ImageId")));
		jv_free(u);
	}
	jv_free(users);
	return why;
}

/* Appends to why that s is not an orphan, when it is not. */
static jv
refuse_not_orphan(const struct snap *s, jv why)
{
	const char *image;

	switch (snapuse_origin(s->reg->use, mrec_id(s->m), &image)) {
	case SNAP_ORPHAN:
		break;
	case SNAP_IMAGE:
		why = jv_array_append(why, jv_string_fmt("not an orphan: made for %s, which still "
		    "exists", image));
		break;
	case SNAP_OTHER:
		why = jv_array_append(why, jv_string("not an orphan: not made by CreateImage or "
		    "CopyImage for an image (a volume backup is not ours to delete)"));
		break;
	}
	return why;
}

/*
 * Decides from the first reads which snapshots may go; the others are skipped with every reason
 * that holds. Each record becomes its snapshot as it is now.
 */
static void
decide(struct snap *snaps, size_t n)
{
	struct snap *s;
	size_t i;
	char *why;
	jv fresh, reasons;

	for (i = 0; i < n; i++) {
		s = &snaps[i];
		if (s->reg->failed) {
			read_failed(s);
			continue;
		}
		if (s->first != NULL) {
			xasprintf(&why, "the same snapshot as %s", jv_string_value(s->first->m->aux));
			set(s, RESULT_SKIPPED, why);
			continue;
		}
		fresh = snapuse_record(s->reg->use, mrec_id(s->m));
		if (jv_get_kind(fresh) != JV_KIND_OBJECT) {
			jv_free(fresh);
			set(s, RESULT_SKIPPED, xstrdup("already gone: not among this account's snapshots"));
			continue;
		}
		s->m->rec = ec2res_merge(&ec2res_snapshots, s->m->rec, fresh);
		reasons = refuse_users(s, jv_array());
		reasons = protect_reasons(s->run->protect, s->run->nprotect, s->m->rec, reasons);
		if (s->run->orphans)
			reasons = refuse_not_orphan(s, reasons);
		if ((why = joined(reasons)) != NULL)
			set(s, RESULT_SKIPPED, why);
		else
			s->candidate = 1;
	}
}

/* Queues the reads of who the snapshots still candidates are shared with. */
static void
submit_shared(struct snap *snaps, size_t n, struct region *regs, size_t nreg)
{
	size_t i, k;
	jv ids;

	for (k = 0; k < nreg; k++) {
		ids = jv_array();
		for (i = 0; i < n; i++)
			if (snaps[i].candidate && snaps[i].reg == &regs[k])
				ids = jv_array_append(ids, jv_string(mrec_id(snaps[i].m)));
		snapuse_submit_shared(regs[k].use, ids);
		jv_free(ids);
	}
}

/*
 * Borrows grantees (createVolumePermission's). Appends to why each grantee: their users of the
 * snapshot cannot be seen from this account.
 */
static jv
shared_reasons(jv grantees, jv why)
{
	const char *v;

	jv_array_foreach(grantees, i, g) {
		if ((v = rec_str(g, "Group")) != NULL && strcmp(v, "all") == 0)
			why = jv_array_append(why, jv_string("shared publicly "
			    "(create volume permission group all)"));
		else if ((v = rec_str(g, "UserId")) != NULL)
			why = jv_array_append(why, jv_string_fmt("shared with account %s", v));
		else
			/* A grantee of a kind this does not know is a grantee still. */
			why = jv_array_append(why, jv_string_concat(jv_string("shared: "),
			    jv_dump_string(jv_copy(g), 0)));
		jv_free(g);
	}
	return why;
}

/* Refuses the candidates that are shared, and those of a region whose read failed. */
static void
refuse_shared(struct snap *snaps, size_t n)
{
	struct snap *s;
	size_t i;
	char *why;
	jv grantees;

	for (i = 0; i < n; i++) {
		s = &snaps[i];
		if (!s->candidate)
			continue;
		if (s->reg->failed) {
			read_failed(s);
			continue;
		}
		grantees = snapuse_shared(s->reg->use, mrec_id(s->m));
		if ((why = joined(shared_reasons(grantees, jv_array()))) != NULL)
			set(s, RESULT_SKIPPED, why);
		jv_free(grantees);
	}
}

/* ---- deleting ---- */

static void
delete_done(const struct ec2_result *res, void *arg)
{
	struct snap *s = arg;
	char *why;

	outcome_set(&s->m->o, res, s->run->aws.dryrun);
	if (s->m->o.status == RESULT_DRYRUN) {
		xasprintf(&why, "would delete %s", mrec_id(s->m));
		outcome_set_reason(&s->m->o, RESULT_DRYRUN, why);
		free(why);
	} else if (res->code != NULL && strcmp(res->code, "InvalidSnapshot.InUse") == 0) {
		xasprintf(&why, "in use: %s", res->message != NULL ? res->message : "");
		outcome_set_reason(&s->m->o, RESULT_SKIPPED, why);
		free(why);
	} else if (s->m->o.status == RESULT_FAILED)
		warnx("%s", res->diag);
}

/*
 * Deletes every candidate, -P at a time in input order; more than --max of them and nothing is
 * deleted. After an interrupt no more calls start: the snapshots not sent come back interrupted.
 */
static void
delete_all(struct run *run, struct snap *snaps, size_t n)
{
	size_t i, left = 0;
	char *why;
	jv p;

	for (i = 0; i < n; i++)
		left += (size_t)snaps[i].candidate;
	if (left > (size_t)run->max) {
		warnx("%zu snapshot%s to delete, more than --max %lld: nothing deleted", left,
		    plural((long long)left), run->max);
		for (i = 0; i < n; i++)
			if (snaps[i].candidate) {
				xasprintf(&why, "%s: %zu snapshot%s to delete, more than --max %lld",
				    run->aws.dryrun ? "would delete nothing" : "not deleted", left,
				    plural((long long)left), run->max);
				set(&snaps[i], RESULT_FAILED, why);
			}
		return;
	}
	for (i = 0; i < n; i++) {
		if (!snaps[i].candidate)
			continue;
		p = JV_OBJECT(jv_string("SnapshotId"), jv_string(mrec_id(snaps[i].m)));
		if (run->aws.dryrun)
			p = jv_object_set(p, jv_string("DryRun"), jv_true());
		ec2_submit(run->ec2, mrec_region(snaps[i].m), "DeleteSnapshot", p, delete_done,
		    &snaps[i]);
	}
	ec2_run(run->ec2);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "allow-shared",	no_argument,		NULL,	OPT_ALLOW_SHARED },
		AWSOPT_LONGOPTS,
		{ "help",		no_argument,		NULL,	'h' },
		{ "max",		required_argument,	NULL,	OPT_MAX },
		{ "orphans",		no_argument,		NULL,	OPT_ORPHANS },
		{ "protect-tag",	required_argument,	NULL,	OPT_PROTECT_TAG },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ NULL,			0,			NULL,	0 }
	};
	static const char *const idfields[] = { "SnapshotId", NULL };
	struct run run;
	struct mrec *recs;
	struct snap *snaps;
	struct region *regs;
	size_t n, nreg, i, k;
	int ch, status;

	out_init();
	memset(&run, 0, sizeof(run));
	awsopt_init(&run.aws);
	run.max = DEFAULT_MAX;
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case OPT_ALLOW_SHARED:
			run.allow_shared = 1;
			break;
		case 'h':
			usage();
		case OPT_MAX:
			run.max = parse_num(optarg, 0, 1000000, "--max");
			break;
		case OPT_ORPHANS:
			run.orphans = 1;
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
	recs = mutate_read(argv, ec2_region(run.ec2), idfields, where, NULL, &n);
	snaps = xcalloc(n + 1, sizeof(*snaps));
	regs = group_regions(&run, recs, n, snaps, &nreg);
	/* Interrupted, the calls in flight finish, the rest are printed interrupted. */
	intr_catch();

	for (k = 0; k < nreg; k++)
		regs[k].use = snapuse_submit(run.ec2, regs[k].name, regs[k].ids,
		    SNAPUSE_USERS | SNAPUSE_RECORDS | (run.orphans ? SNAPUSE_ORPHANS : 0));
	ec2_run(run.ec2);
	check_reads(regs, nreg);
	if (!intr_signal()) {
		decide(snaps, n);
		if (!run.allow_shared) {
			submit_shared(snaps, n, regs, nreg);
			ec2_run(run.ec2);
			check_reads(regs, nreg);
			refuse_shared(snaps, n);
		}
	}
	if (intr_signal()) {
		for (i = 0; i < n; i++)
			if (snaps[i].m->o.status == RESULT_NONE)
				set(&snaps[i], RESULT_INTERRUPTED, xstrdup("interrupted before its call "
				    "was sent"));
	} else
		delete_all(&run, snaps, n);
	status = mutate_print(recs, n, ACTION, NULL, NULL);

	for (k = 0; k < nreg; k++) {
		free(regs[k].name);
		jv_free(regs[k].ids);
		snapuse_free(regs[k].use);
	}
	free(regs);
	free(snaps);
	protect_free(run.protect, run.nprotect);
	ec2_free(run.ec2);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
