/*
 * ec2-describe lists EC2 images, instances or snapshots as JSON lines: one record per resource,
 * with the AWS CLI's field names plus Region. It pages through every result (MaxResults 1000,
 * NextToken) and fetches several regions at once. A listing is all or nothing: if any page of any
 * region fails after retries it prints nothing and exits 1, because a partial listing must never
 * feed keep-last | deregister. Given "-", it refreshes the records read from stdin by their ids
 * instead, and reports those that no longer exist.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsopt.h"
#include "ec2.h"
#include "ec2res.h"
#include "jsonl.h"
#include "out.h"
#include "record.h"
#include "trace.h"
#include "util.h"

enum {
	OPT_DEBUG = OPT_FIRST,
	OPT_ENDPOINT_URL,
	OPT_FILTER,
	OPT_OWNER,
	OPT_REGION,
	OPT_VERSION
};

/*
 * One region's whole listing, kept as the lines to print: a record in jv takes about ten times
 * its JSON text, and a listing is held until every region has answered.
 */
struct query {
	const struct ec2res	*kind;
	char			*region;
	char			*text;		/* the resources found, each with Region, a line each */
	size_t			 len, cap;
	char			*diag;		/* why it failed */
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: ec2-describe images|instances|snapshots [--owner ID|self]...\n"
	    "           [--filter Name=NAME,Values=V1,V2]... [--region REGION]...\n"
	    "           [--endpoint-url URL] [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [ID... | -]\n"
	    "List EC2 images, instances or snapshots as JSON lines, or refresh records.\n"
	    "\n"
	    "      --owner ID|self      images or snapshots of this account (repeatable)\n"
	    "      --filter Name=NAME,Values=V1,V2\n"
	    "                           an EC2 filter, as the AWS CLI writes it (repeatable)\n"
	    "      --region REGION      a region to list (repeatable; default: configured)\n"
	    "      --endpoint-url URL   send EC2 requests to URL, not the region's endpoint\n"
	    "  -P N                     at most N calls in flight at once (1..64, default 32)\n"
	    "      --debug              a line on stderr per HTTP request (AMICYCLE_DEBUG=1)\n"
	    AWSOPT_HELP_CREDS);
}

/* Parses the AWS CLI's shorthand "Name=NAME,Values=V1,V2" into {"Name","Values"}. */
static jv
parse_filter(const char *s)
{
	const char *name, *values, *p, *comma;
	jv list = jv_array();

	if (strncmp(s, "Name=", 5) != 0 || (values = strstr(s, ",Values=")) == NULL ||
	    values == s + 5)
		usage_error("--filter '%s': expected Name=NAME,Values=V1,V2", s);
	name = s + 5;
	for (p = values + 8;; p = comma + 1) {
		if ((comma = strchr(p, ',')) == NULL)
			comma = p + strlen(p);
		if (comma == p)
			usage_error("--filter '%s': empty value", s);
		list = jv_array_append(list, jv_string_sized(p, (int)(comma - p)));
		if (*comma == '\0')
			break;
	}
	return JV_OBJECT(jv_string("Name"), jv_string_sized(name, (int)(values - name)),
	    jv_string("Values"), list);
}

/* Consumes out, one page: its records become lines of q->text. */
static void
query_page(jv out, void *arg)
{
	struct query *q = arg;
	jv recs = ec2res_list(q->kind, q->region, out), line;
	size_t n;

	jv_array_foreach(recs, i, r) {
		line = jv_dump_string(r, 0);
		n = (size_t)jv_string_length_bytes(jv_copy(line));
		while (q->len + n + 1 > q->cap) {
			q->cap = q->cap > 0 ? q->cap * 2 : 65536;
			q->text = xrealloc(q->text, q->cap);
		}
		memcpy(q->text + q->len, jv_string_value(line), n);
		q->text[q->len + n] = '\n';
		q->len += n + 1;
		jv_free(line);
	}
	jv_free(recs);
}

static void
query_done(const struct ec2_result *res, void *arg)
{
	struct query *q = arg;

	if (res->code != NULL)
		q->diag = xstrdup(res->diag);
}

static void
query_submit(struct ec2 *ec2, struct query *q, const struct ec2res *k, const char *region,
    jv params)
{
	q->kind = k;
	q->region = xstrdup(region);
	ec2_submit_pages(ec2, region, k->action, ec2res_params(k, params), query_page, query_done, q);
}

/*
 * Reads every record from stdin before the first call; returns them, each with a Region (its
 * own, else defregion). A record without an id or region is bad input (exit 3).
 */
static jv
read_records(const struct ec2res *k, const char *defregion)
{
	struct jsonl in;
	jv recs = jv_array(), rec;

	jsonl_open(&in, (char *[]){ "-", NULL });
	while (jv_is_valid(rec = jsonl_next(&in)))
		recs = jv_array_append(recs, rec_require(&in, rec, k->id, defregion));
	jsonl_close(&in);
	return recs;
}

/*
 * Consumes recs and fresh (ec2res_refresh()'s answer for them). Prints each record as it is now,
 * in input order; returns EXIT_FAIL if any no longer exists.
 */
static int
print_refreshed(const struct ec2res *k, jv recs, jv fresh)
{
	int status = EXIT_OK;
	jv r;

	jv_array_foreach(fresh, i, f) {
		if (jv_get_kind(f) == JV_KIND_OBJECT) {
			out_record(f);
			continue;
		}
		jv_free(f);
		r = jv_array_get(jv_copy(recs), i);
		warnx("%s %s: no longer exists", rec_str(r, "Region"), rec_str(r, k->id));
		jv_free(r);
		status = EXIT_FAIL;
	}
	jv_free(recs);
	jv_free(fresh);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "debug",		no_argument,		NULL,	OPT_DEBUG },
		{ "endpoint-url",	required_argument,	NULL,	OPT_ENDPOINT_URL },
		{ "filter",		required_argument,	NULL,	OPT_FILTER },
		{ "help",		no_argument,		NULL,	'h' },
		{ "owner",		required_argument,	NULL,	OPT_OWNER },
		{ "region",		required_argument,	NULL,	OPT_REGION },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		AWSOPT_CREDS_LONGOPTS,
		{ NULL,			0,			NULL,	0 }
	};
	struct awsopt ao;
	const struct ec2res *k;
	struct ec2 *ec2;
	struct query *qs;
	const char *endpoint = NULL, **regions = NULL;
	jv owners = jv_array(), filters = jv_array(), ids = jv_array(), recs, params, fresh;
	size_t nregions = 0, nq = 0, i;
	int ch, refresh = 0, max = AWSOPT_MAX_DEFAULT, status = EXIT_OK;

	out_init();
	awsopt_init(&ao);
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case OPT_DEBUG:
			trace_enable();
			break;
		case OPT_ENDPOINT_URL:
			endpoint = optarg;
			break;
		case OPT_FILTER:
			filters = jv_array_append(filters, parse_filter(optarg));
			break;
		case 'h':
			usage();
		case OPT_OWNER:
			owners = jv_array_append(owners, jv_string(optarg));
			break;
		case 'P':
			max = (int)parse_num(optarg, 1, 64, "-P");
			break;
		case OPT_REGION:
			regions = xreallocarray(regions, nregions + 1, sizeof(*regions));
			regions[nregions++] = optarg;
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&ao, ch, optarg))
				usage_error(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage_error("what to list: images, instances or snapshots");
	if ((k = ec2res_named(argv[0])) == NULL) {
		usage_error("%s: not images, instances or snapshots", argv[0]);
	}
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "-") == 0)
			refresh = 1;
		else
			ids = jv_array_append(ids, jv_string(argv[i]));
	}
	if (refresh && (argc != 2 || jv_array_length(jv_copy(owners)) > 0 ||
	    jv_array_length(jv_copy(filters)) > 0 || nregions > 1))
		usage_error("-: refreshes records by id; no ids, --owner, --filter or more than one --region");
	if (k->ownerparam == NULL && jv_array_length(jv_copy(owners)) > 0)
		usage_error("--owner: instances have no owner to select by");

	awsopt_creds(&ao);
	ec2 = ec2_new(nregions > 0 ? regions[0] : NULL, endpoint, max);
	if (refresh) {
		recs = read_records(k, ec2_region(ec2));
		fresh = ec2res_refresh(ec2, k, jv_copy(recs));
		if (jv_is_valid(fresh))
			status = print_refreshed(k, jv_copy(recs), fresh);
		else {
			/* All or nothing, as a listing is. */
			params = jv_invalid_get_msg(fresh);
			warnx("%s", jv_string_value(params));
			jv_free(params);
			status = EXIT_FAIL;
		}
		qs = NULL;
	} else {
		if (nregions == 0) {
			if (ec2_region(ec2) == NULL)
				usage_error("no region: use --region, AWS_REGION or a profile's region");
			regions = xreallocarray(regions, 1, sizeof(*regions));
			regions[nregions++] = ec2_region(ec2);
		}
		recs = jv_null();
		params = jv_object();
		if (jv_array_length(jv_copy(ids)) > 0)
			params = jv_object_set(params, jv_string(k->idparam), jv_copy(ids));
		else
			params = jv_object_set(params, jv_string("MaxResults"), jv_number(1000));
		/* Without ids, list what this account owns, not every public image or snapshot. */
		if (k->ownerparam != NULL && jv_array_length(jv_copy(owners)) == 0 &&
		    jv_array_length(jv_copy(ids)) == 0)
			owners = jv_array_append(owners, jv_string("self"));
		if (k->ownerparam != NULL && jv_array_length(jv_copy(owners)) > 0)
			params = jv_object_set(params, jv_string(k->ownerparam), jv_copy(owners));
		if (jv_array_length(jv_copy(filters)) > 0)
			params = jv_object_set(params, jv_string("Filters"), jv_copy(filters));
		qs = xcalloc(nregions, sizeof(*qs));
		for (i = 0; i < nregions; i++)
			query_submit(ec2, &qs[nq++], k, regions[i], jv_copy(params));
		jv_free(params);
		ec2_run(ec2);
	}

	/* All or nothing: any failed listing means no output at all. */
	for (i = 0; i < nq; i++)
		if (qs[i].diag != NULL) {
			warnx("%s", qs[i].diag);
			status = EXIT_FAIL;
		}
	if (status == EXIT_OK)
		for (i = 0; i < nq; i++)
			if (qs[i].len > 0)
				out_line(qs[i].text, qs[i].len - 1);

	for (i = 0; i < nq; i++) {
		free(qs[i].text);
		free(qs[i].diag);
		free(qs[i].region);
	}
	free(qs);
	free(regions);
	jv_free(owners);
	jv_free(filters);
	jv_free(ids);
	jv_free(recs);
	ec2_free(ec2);
	ch = out_close();
	return status != EXIT_OK ? status : ch;
}
