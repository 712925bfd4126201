/*
 * call-probe: for the tests of lib/ec2/ec2.h with services beside EC2, makes one call as a filter
 * would and prints its output (the AWS CLI's JSON) as one line: ACTION may carry a service prefix
 * ("ssm:DescribeParameters", "autoscaling:DescribeAutoScalingGroups"), PARAMS is the input in the
 * CLI's JSON form (default {}). --all pages the listing (ec2_submit_all). A failed call prints
 * its one-line diagnostic and exits 1.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <jv.h>

#include "ec2.h"
#include "out.h"
#include "util.h"

enum {
	OPT_ALL = OPT_FIRST,
	OPT_REGION
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: call-probe [--all] [--region REGION] ACTION [PARAMS]\n");
	exit(status);
}

static int status = EXIT_OK;

static void
done(const struct ec2_result *res, void *arg)
{
	(void)arg;
	if (res->code != NULL) {
		warnx("%s", res->diag);
		status = EXIT_FAIL;
		return;
	}
	out_record(jv_copy(res->out));
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "all",	no_argument,		NULL,	OPT_ALL },
		{ "help",	no_argument,		NULL,	'h' },
		{ "region",	required_argument,	NULL,	OPT_REGION },
		{ NULL,		0,			NULL,	0 }
	};
	const char *region = NULL;
	struct ec2 *c;
	int ch, all = 0, closed;
	jv params;

	out_init();
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(EXIT_OK);
		case OPT_ALL:
			all = 1;
			break;
		case OPT_REGION:
			region = optarg;
			break;
		default:
			usage(EXIT_USAGE);
		}
	}
	if (optind != argc - 1 && optind != argc - 2)
		usage(EXIT_USAGE);
	params = optind + 1 < argc ? jv_parse(argv[optind + 1]) : jv_object();
	if (!jv_is_valid(params))
		usage(EXIT_USAGE);

	c = ec2_new(region, NULL, 2);
	if (all)
		ec2_submit_all(c, NULL, argv[optind], params, done, NULL);
	else
		ec2_submit(c, NULL, argv[optind], params, done, NULL);
	ec2_run(c);
	ec2_free(c);
	closed = out_close();
	return status > closed ? status : closed;
}
