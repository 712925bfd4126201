/*
 * image-users tells who uses each image its input records name, and deletes nothing: each record
 * comes out with Users, a list of {Kind, Id, Detail, Source} (instances not terminated, launch
 * templates, Auto Scaling groups, launch configurations, SSM parameters, accounts and
 * organizations it is shared with, Image Builder recipes), and LastLaunchedTime when EC2 knows it.
 * It asks the same lookup deregister asks before it deletes (lib/ec2/imageuse.h), one paged read
 * per source for all the images of a region. A region is all or nothing: if any of its reads
 * fails after retries, none of its records is printed, and the exit status is 1.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsopt.h"
#include "ec2.h"
#include "imageuse.h"
#include "interrupt.h"
#include "jsonl.h"
#include "out.h"
#include "record.h"
#include "util.h"

enum {
	OPT_LT_VERSIONS = OPT_FIRST,
	OPT_VERSION
};

/* The images of one region and what the lookup found. */
struct region {
	char		*name;
	jv		 ids;
	struct imageuse	*use;
	int		 failed;
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: image-users [--launch-template-versions default|all] [--region REGION]\n"
	    "           [--endpoint-url URL] [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Tell who uses each image (instances, templates, Auto Scaling, SSM, sharing).\n"
	    "\n"
	    "      --launch-template-versions default|all\n"
	    "                           template versions that count as use (default:\n"
	    "                           default, latest and those Auto Scaling names)\n"
	    AWSOPT_HELP_CALLS);
}

/*
 * Reads every record: an image record with an ImageId and a region (its Region, else
 * defregion); anything else is bad input (exit 3), before any call. Returns them in input order.
 */
static jv
read_records(char **paths, const char *defregion)
{
	struct jsonl in;
	jv recs = jv_array(), rec;

	jsonl_open(&in, paths);
	while (jv_is_valid(rec = jsonl_next(&in))) {
		rec_require_image(&in, rec);
		recs = jv_array_append(recs, rec_require(&in, rec, "ImageId", defregion));
	}
	jsonl_close(&in);
	return recs;
}

/* Borrows recs. Their regions, in order of first appearance, with each one's image ids. */
static struct region *
group_regions(jv recs, size_t *np)
{
	struct region *regs = NULL;
	size_t k, n = 0;

	jv_array_foreach(recs, i, rec) {
		const char *name = rec_str(rec, "Region");

		for (k = 0; k < n && strcmp(regs[k].name, name) != 0; k++)
			;
		if (k == n) {
			regs = xreallocarray(regs, n + 1, sizeof(*regs));
			memset(&regs[n], 0, sizeof(*regs));
			regs[n].name = xstrdup(name);
			regs[n].ids = jv_array();
			n++;
		}
		regs[k].ids = jv_array_append(regs[k].ids, jv_string(rec_str(rec, "ImageId")));
		jv_free(rec);
	}
	*np = n;
	return regs;
}

/* Reports a region's failed reads and what could not be told; returns 1 if a read failed. */
static int
report(struct region *r)
{
	jv errs = imageuse_errors(r->use), unknown = imageuse_unknown(r->use);

	jv_array_foreach(errs, i, e) {
		warnx("%s", jv_string_value(e));
		r->failed = 1;
		jv_free(e);
	}
	jv_array_foreach(unknown, i, e) {
		warnx("%s", jv_string_value(e));
		jv_free(e);
	}
	if (r->failed)
		warnx("%s: a read of who uses the images failed: none of this region's records "
		    "printed", r->name);
	jv_free(errs);
	jv_free(unknown);
	return r->failed;
}

/* Consumes recs. Prints each record of a region whose reads all succeeded, with its Users. */
static void
print_records(jv recs, struct region *regs, size_t n)
{
	const char *id, *name;
	size_t k;
	jv last;

	jv_array_foreach(recs, i, rec) {
		name = rec_str(rec, "Region");
		for (k = 0; k < n && strcmp(regs[k].name, name) != 0; k++)
			;
		if (k == n || regs[k].failed) {
			jv_free(rec);
			continue;
		}
		id = rec_str(rec, "ImageId");
		last = imageuse_last_launched(regs[k].use, id);
		rec = jv_object_set(rec, jv_string("Users"), imageuse_users(regs[k].use, id));
		if (jv_get_kind(last) == JV_KIND_STRING)
			rec = jv_object_set(rec, jv_string("LastLaunchedTime"), last);
		else
			jv_free(last);
		out_record(rec);
	}
	jv_free(recs);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "debug",		no_argument,		NULL,	AWSOPT_DEBUG },
		{ "endpoint-url",	required_argument,	NULL,	AWSOPT_ENDPOINT },
		{ "help",		no_argument,		NULL,	'h' },
		{ "launch-template-versions", required_argument, NULL,	OPT_LT_VERSIONS },
		{ "region",		required_argument,	NULL,	AWSOPT_REGION },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		AWSOPT_CREDS_LONGOPTS,
		{ NULL,			0,			NULL,	0 }
	};
	struct imageuse_opts uo;
	struct awsopt o;
	struct region *regs;
	struct ec2 *ec2;
	size_t n, k;
	int ch, status = EXIT_OK;
	jv recs;

	out_init();
	awsopt_init(&o);
	memset(&uo, 0, sizeof(uo));
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case 'h':
			usage();
		case OPT_LT_VERSIONS:
			if ((uo.all_versions = imageuse_parse_versions(optarg)) == -1)
				usage_error("--launch-template-versions: bad value '%s' (expected "
				    "default or all)", optarg);
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (awsopt_parse(&o, ch, optarg))
				break;
			usage_error(NULL);
		}
	}
	argv += optind;

	awsopt_creds(&o);
	ec2 = ec2_new(o.region, o.endpoint, o.max);
	recs = read_records(argv, ec2_region(ec2));
	regs = group_regions(recs, &n);

	intr_catch();
	for (k = 0; k < n; k++)
		regs[k].use = imageuse_submit(ec2, regs[k].name, regs[k].ids, &uo);
	ec2_run(ec2);
	for (k = 0; k < n; k++)
		if (report(&regs[k]))
			status = EXIT_FAIL;
	print_records(recs, regs, n);

	for (k = 0; k < n; k++) {
		imageuse_free(regs[k].use);
		jv_free(regs[k].ids);
		free(regs[k].name);
	}
	free(regs);
	ec2_free(ec2);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
