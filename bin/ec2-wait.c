/*
 * ec2-wait waits until each image or instance record it reads is in a state: images available,
 * instances running with an IP address, or instances terminated. It describes them again and
 * again, batched per region, with pauses growing to about 15 s, and prints each record as it is
 * then, in input order, with a Result saying whether it got there. It gives up when the timeout
 * passes, naming what is still waiting, and at once when one can never get there (an image that
 * failed, an instance terminated while waited for running); the records are printed either way,
 * so that a cleanup further down the pipeline still gets every instance.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsopt.h"
#include "ec2.h"
#include "ec2res.h"
#include "ec2wait.h"
#include "interrupt.h"
#include "jsonl.h"
#include "out.h"
#include "record.h"
#include "util.h"

#define ACTION	"wait"

enum {
	OPT_AVAILABLE = OPT_FIRST,
	OPT_PRIVATE,
	OPT_RUNNING,
	OPT_TERMINATED,
	OPT_TIMEOUT,
	OPT_VERSION
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: ec2-wait --running [--private] | --available | --terminated\n"
	    "           [--timeout DURATION] [--region REGION] [--endpoint-url URL] [-P N]\n"
	    "           [--debug] " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Wait until images are available or instances running or terminated.\n"
	    "\n"
	    "      --running            until each instance runs and has a public IP address\n"
	    "      --private            with --running: a private IP address instead\n"
	    "      --available          until each image is available\n"
	    "      --terminated         until each instance is terminated\n"
	    "      --timeout DURATION   give up after DURATION (90s, 1h30m)\n"
	    AWSOPT_HELP_CALLS);
}

static const char *
state_option(enum ec2wait_state st)
{
	switch (st) {
	case EC2WAIT_AVAILABLE:
		return "--available";
	case EC2WAIT_TERMINATED:
		return "--terminated";
	default:
		return "--running";
	}
}

/*
 * Consumes rec. Checks that it is a resource st applies to, with an id and a region (else bad
 * input: exit 3); returns it with its Region.
 */
static jv
check_record(struct jsonl *in, jv rec, enum ec2wait_state st, const char *defregion)
{
	const struct ec2res *k = ec2res_of(rec);
	const char *want = ec2wait_kind(st);

	if (k == NULL)
		jsonl_die(in, "no InstanceId or ImageId string");
	if (strcmp(k->name, want) != 0)
		jsonl_die(in, "%.100s: an %s record (%s), but %s waits for %s", rec_str(rec, k->id),
		    k->noun, k->id, state_option(st), want);
	return rec_require(in, rec, k->id, defregion);
}

/* Reads every record into *recs, and those to wait for into *waited too. */
static void
read_records(struct jsonl *in, enum ec2wait_state st, const char *defregion, jv *recs,
    jv *waited)
{
	jv rec;

	while (jv_is_valid(rec = jsonl_next(in))) {
		if (!rec_failed(rec)) {
			rec = check_record(in, rec, st, defregion);
			*waited = jv_array_append(*waited, jv_copy(rec));
		}
		*recs = jv_array_append(*recs, rec);
	}
}

/*
 * Consumes recs. Prints each record with its Result, as w last described it; one an earlier
 * filter failed on, as it is. Returns EXIT_FAIL unless every record is in the state.
 */
static int
print_records(jv recs, struct ec2wait *w, const char *timeout)
{
	size_t j = 0;
	int status = EXIT_OK;
	char *why;

	jv_array_foreach(recs, i, r) {
		if (rec_failed(r)) {
			status = EXIT_FAIL;
			out_record(r);
			continue;
		}
		jv_free(r);
		why = ec2wait_why(w, j, timeout);
		out_record(rec_result(jv_array_get(jv_copy(w->recs), (int)j++), ACTION,
		    why == NULL ? RESULT_DONE : w->interrupted ? RESULT_INTERRUPTED : RESULT_FAILED,
		    why, NULL));
		if (why != NULL)
			status = EXIT_FAIL;
		free(why);
	}
	jv_free(recs);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "available",		no_argument,		NULL,	OPT_AVAILABLE },
		{ "debug",		no_argument,		NULL,	AWSOPT_DEBUG },
		{ "endpoint-url",	required_argument,	NULL,	AWSOPT_ENDPOINT },
		{ "help",		no_argument,		NULL,	'h' },
		{ "private",		no_argument,		NULL,	OPT_PRIVATE },
		{ "region",		required_argument,	NULL,	AWSOPT_REGION },
		{ "running",		no_argument,		NULL,	OPT_RUNNING },
		{ "terminated",		no_argument,		NULL,	OPT_TERMINATED },
		{ "timeout",		required_argument,	NULL,	OPT_TIMEOUT },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		AWSOPT_CREDS_LONGOPTS,
		{ NULL,			0,			NULL,	0 }
	};
	struct awsopt o;
	struct jsonl in;
	struct ec2 *ec2;
	struct ec2wait w;
	const char *timeout = NULL;
	enum ec2wait_state st = EC2WAIT_AVAILABLE;
	jv recs, waited;
	int64_t timeout_s;
	size_t nstates = 0;
	int ch, private = 0, status;

	out_init();
	awsopt_init(&o);
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case OPT_AVAILABLE:
			st = EC2WAIT_AVAILABLE;
			nstates++;
			break;
		case 'h':
			usage();
		case OPT_PRIVATE:
			private = 1;
			break;
		case OPT_RUNNING:
			st = EC2WAIT_RUNNING;
			nstates++;
			break;
		case OPT_TERMINATED:
			st = EC2WAIT_TERMINATED;
			nstates++;
			break;
		case OPT_TIMEOUT:
			timeout = optarg;
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (awsopt_parse(&o, ch, optarg))
				break;
			usage_error(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (nstates != 1) {
		usage_error("one of --running, --available or --terminated");
	}
	if (private && st != EC2WAIT_RUNNING) {
		usage_error("--private: only with --running");
	}
	if (private)
		st = EC2WAIT_RUNNING_PRIVATE;
	if (timeout == NULL)
		timeout = st == EC2WAIT_AVAILABLE ? EC2WAIT_TIMEOUT_IMAGES :
		    EC2WAIT_TIMEOUT_INSTANCES;
	timeout_s = ec2wait_timeout(timeout);

	ec2 = ec2_new(o.region, o.endpoint, o.max);
	recs = jv_array();
	waited = jv_array();
	jsonl_open(&in, argv);
	read_records(&in, st, ec2_region(ec2), &recs, &waited);
	jsonl_close(&in);

	intr_catch();
	ec2wait(ec2, waited, st, timeout_s, &w);
	status = print_records(recs, &w, timeout);
	ec2wait_free(&w);
	ec2_free(ec2);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
