/*
 * deprecate sets or clears the deprecation time of the images named by the records it reads:
 * EnableImageDeprecation at a time (--at) or after a duration from now (--in), rounded to the
 * minute as EC2 rounds it, or at once (--now: the next whole minute, the soonest EC2 takes; a
 * record already deprecated by then is skipped without a call), or DisableImageDeprecation
 * (--undo). It reads and checks all of its input before the first call, calls concurrently, and
 * writes every record back out in input order with its DeprecationTime as it now is and a Result.
 * An image already gone is skipped.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awsopt.h"
#include "ec2.h"
#include "interrupt.h"
#include "jsonl.h"
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "timefmt.h"
#include "util.h"

/* EC2 refuses a deprecation time more than 10 years ahead; 10 years are at least this long. */
#define MAX_AHEAD	(3652LL * 86400)

enum {
	OPT_AT = OPT_FIRST,
	OPT_IN,
	OPT_NOW,
	OPT_UNDO,
	OPT_VERSION
};

static const char *const idfields[] = { "ImageId", NULL };

struct mode {
	const char	*action;
	char		 at[RFC3339_SIZE];	/* DeprecateAt; empty for --undo */
	struct instant	 now;		/* --now: at, parsed; else now.sec is 0 */
	int		 dryrun;
};

/* One image's call. */
struct call {
	struct mrec	*m;
	const struct mode *mode;
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: deprecate {--at TIME | --in DURATION | --now | --undo}\n"
	    "           [--dry-run] [--audit FILE] [--region REGION] [--endpoint-url URL]\n"
	    "           [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Set or clear the deprecation time of images.\n"
	    "\n"
	    "      --at TIME            deprecate at TIME, an RFC 3339 time\n"
	    "      --in DURATION        deprecate DURATION from now (30d, 1w2d)\n"
	    "      --now                deprecate at the next whole minute; skip the images\n"
	    "                           deprecated by then already\n"
	    "      --undo               cancel the deprecation\n"
	    AWSOPT_HELP);
}

/* The time now, into t. */
static void
clock_now(struct instant *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->nsec = (int32_t)ts.tv_nsec;
}

/*
 * The deprecation time of --at TIME or --in DURATION into buf, rounded to the nearest minute as
 * EC2 rounds it, so that records say what EC2 keeps. A time in the past, or more than 10 years
 * ahead, EC2 refuses: a usage error here, before any call.
 */
static void
deprecation_time(const char *at, const char *in, char *buf)
{
	struct instant now, t;
	int64_t d, sec;

	clock_now(&now);
	if (at != NULL) {
		if (rfc3339_parse(at, strlen(at), &t) == -1)
			usage_error("--at '%s': not a time like 2026-05-01T12:00:00Z", at);
		if (instant_cmp(&t, &now) < 0)
			usage_error("--at %s: in the past", at);
	} else {
		if (duration_parse(in, &d) == -1)
			usage_error("--in '%s': not a duration like 30d, 12h or 1w2d", in);
		if (d > MAX_AHEAD)
			usage_error("--in %s: more than 10 years from now", in);
		t.sec = now.sec + d;
		t.nsec = now.nsec;
	}
	if (t.sec - now.sec > MAX_AHEAD)
		usage_error("--at %s: more than 10 years from now", at);
	sec = t.sec - t.sec % 60;
	if (t.sec % 60 >= 30)
		sec += 60;
	rfc3339_format(sec, buf);
}

/*
 * --now's time into mode: now rounded up to the next whole minute, since EC2 refuses a time in the
 * past and rounds to the nearest minute.
 */
static void
deprecation_now(struct mode *mode)
{
	struct instant now;

	clock_now(&now);
	mode->now.sec = now.sec - now.sec % 60;
	if (now.sec % 60 != 0 || now.nsec != 0)
		mode->now.sec += 60;
	mode->now.nsec = 0;
	rfc3339_format(mode->now.sec, mode->at);
}

/*
 * Under --now, 1 if m's record is deprecated at or before --now's time already: then it is
 * skipped, with its own time as the reason.
 */
static int
deprecated_already(struct mrec *m, const struct mode *mode)
{
	const char *dep = rec_str(m->rec, "DeprecationTime");
	struct instant t;
	char *why;

	if (mode->now.sec == 0 || dep == NULL || rfc3339_parse(dep, strlen(dep), &t) == -1 ||
	    instant_cmp(&t, &mode->now) > 0)
		return 0;
	xasprintf(&why, "already deprecated at %s", dep);
	outcome_set_reason(&m->o, RESULT_SKIPPED, why);
	free(why);
	return 1;
}

static void
call_done(const struct ec2_result *res, void *arg)
{
	struct call *c = arg;

	outcome_set_return(c->m, res, c->mode->dryrun);
}

static void
call_submit(struct ec2 *ec2, struct call *c)
{
	const struct mode *mode = c->mode;
	jv params;

	if (deprecated_already(c->m, mode))
		return;
	params = JV_OBJECT(jv_string("ImageId"), jv_string(mrec_id(c->m)));

	if (mode->at[0] != '\0')
		params = jv_object_set(params, jv_string("DeprecateAt"), jv_string(mode->at));
	if (mode->dryrun)
		params = jv_object_set(params, jv_string("DryRun"), jv_true());
	ec2_submit(ec2, mrec_region(c->m), mode->action, params, call_done, c);
}

/* Consumes rec. The record with the DeprecationTime it now has (or would, under --dry-run). */
static jv
updated(jv rec, void *arg)
{
	const struct mode *mode = arg;

	if (mode->at[0] == '\0')
		return jv_object_delete(rec, jv_string("DeprecationTime"));
	return jv_object_set(rec, jv_string("DeprecationTime"), jv_string(mode->at));
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "at",			required_argument,	NULL,	OPT_AT },
		AWSOPT_LONGOPTS,
		{ "help",		no_argument,		NULL,	'h' },
		{ "in",			required_argument,	NULL,	OPT_IN },
		{ "now",		no_argument,		NULL,	OPT_NOW },
		{ "undo",		no_argument,		NULL,	OPT_UNDO },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ NULL,			0,			NULL,	0 }
	};
	struct awsopt ao;
	struct mode mode;
	struct ec2 *ec2;
	struct mrec *recs;
	struct call *calls;
	const char *at = NULL, *in = NULL;
	size_t n, i;
	int ch, now = 0, undo = 0, status;

	out_init();
	awsopt_init(&ao);
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case OPT_AT:
			at = optarg;
			break;
		case 'h':
			usage();
		case OPT_IN:
			in = optarg;
			break;
		case OPT_NOW:
			now = 1;
			break;
		case OPT_UNDO:
			undo = 1;
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&ao, ch, optarg))
				usage_error(NULL);
		}
	}
	argv += optind;
	if ((at != NULL) + (in != NULL) + now + undo != 1) {
		usage_error("give one of --at, --in, --now and --undo");
	}
	memset(&mode, 0, sizeof(mode));
	mode.action = undo ? "DisableImageDeprecation" : "EnableImageDeprecation";
	if (now)
		deprecation_now(&mode);
	else if (!undo)
		deprecation_time(at, in, mode.at);
	mode.dryrun = ao.dryrun;

	ec2 = awsopt_client(&ao);
	recs = mutate_read(argv, ec2_region(ec2), idfields, NULL, NULL, &n);
	/* Interrupted, the calls in flight finish, the rest are printed interrupted. */
	intr_catch();
	calls = xcalloc(n + 1, sizeof(*calls));
	for (i = 0; i < n; i++) {
		calls[i].m = &recs[i];
		calls[i].mode = &mode;
		call_submit(ec2, &calls[i]);
	}
	ec2_run(ec2);
	status = mutate_print(recs, n, "deprecate", updated, &mode);

	free(calls);
	ec2_free(ec2);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
