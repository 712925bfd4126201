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

#include "ec2.h"
#include "ec2model.h"
#include "jsonl.h"
#include "out.h"
#include "record.h"
#include "util.h"

/* Filter values per refresh call: EC2 caps the values of one filter at 200. */
#define BATCH	200

struct kind {
	const char	*name;
	const char	*action;
	const char	*list;		/* the output's list of resources */
	const char	*id;		/* its id field */
	const char	*idfilter;	/* the filter that selects by id */
	const char	*idparam;	/* the parameter that names ids */
	const char	*ownerparam;	/* the parameter --owner sets, NULL if none */
};

static const struct kind kinds[] = {
	{ "images", "DescribeImages", "Images", "ImageId", "image-id", "ImageIds",
	  "Owners" },
	{ "instances", "DescribeInstances", "Reservations", "InstanceId",
	  "instance-id", "InstanceIds", NULL },
	{ "snapshots", "DescribeSnapshots", "Snapshots", "SnapshotId", "snapshot-id",
	  "SnapshotIds", "OwnerIds" },
};

/* One listing: a region's whole listing, or one batch of ids to refresh. */
struct query {
	const struct kind	*kind;
	char			*region;
	jv			 records;	/* the resources found, each with Region */
	char			*diag;		/* why it failed */
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ec2-describe images|instances|snapshots [--owner ID|self]...\n"
	    "           [--filter Name=NAME,Values=V1,V2]... [--region REGION]...\n"
	    "           [--endpoint-url URL] [-P N] [ID... | -]\n");
	exit(status);
}

/* Parses the AWS CLI's shorthand "Name=NAME,Values=V1,V2" into {"Name","Values"}. */
static jv
parse_filter(const char *s)
{
	const char *name, *values, *p, *comma;
	jv list = jv_array();

	if (strncmp(s, "Name=", 5) != 0 || (values = strstr(s, ",Values=")) == NULL ||
	    values == s + 5)
		errx(EXIT_USAGE, "--filter '%s': expected Name=NAME,Values=V1,V2", s);
	name = s + 5;
	for (p = values + 8;; p = comma + 1) {
		if ((comma = strchr(p, ',')) == NULL)
			comma = p + strlen(p);
		if (comma == p)
			errx(EXIT_USAGE, "--filter '%s': empty value", s);
		list = jv_array_append(list, jv_string_sized(p, (int)(comma - p)));
		if (*comma == '\0')
			break;
	}
	return JV_OBJECT(jv_string("Name"), jv_string_sized(name, (int)(values - name)),
	    jv_string("Values"), list);
}

/* Consumes out. Returns the resources of one response, each with its Region. */
static jv
resources(const struct kind *k, const char *region, jv out)
{
	jv recs = jv_array(), list;

	list = jv_object_get(out, jv_string(k->list));
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return recs;
	}
	jv_array_foreach(list, i, item) {
		if (strcmp(k->name, "instances") == 0) {
			jv insts = jv_object_get(item, jv_string("Instances"));

			if (jv_get_kind(insts) == JV_KIND_ARRAY)
				jv_array_foreach(insts, j, inst)
					recs = jv_array_append(recs, jv_object_set(inst,
					    jv_string("Region"), jv_string(region)));
			jv_free(insts);
		} else
			recs = jv_array_append(recs, jv_object_set(item, jv_string("Region"),
			    jv_string(region)));
	}
	jv_free(list);
	return recs;
}

static void
query_done(const struct ec2_result *res, void *arg)
{
	struct query *q = arg;

	if (res->code != NULL) {
		q->diag = xstrdup(res->diag);
		return;
	}
	q->records = resources(q->kind, q->region, jv_copy(res->out));
}

static void
query_submit(struct ec2 *ec2, struct query *q, const struct kind *k, const char *region,
    jv params)
{
	q->kind = k;
	q->region = xstrdup(region);
	q->records = jv_invalid();
	if (strcmp(k->name, "images") == 0) {
		/* Lifecycle tools must see every image they own, deprecated or disabled. */
		params = jv_object_set(params, jv_string("IncludeDeprecated"), jv_true());
		params = jv_object_set(params, jv_string("IncludeDisabled"), jv_true());
	}
	ec2_submit_all(ec2, region, k->action, params, query_done, q);
}

/* The model's shape of one resource of kind k: Image, Instance, Snapshot. */
static const struct ec2_shape *
resource_shape(const struct kind *k)
{
	const struct ec2_shape *s;

	s = ec2model_member(ec2model_operation("ec2", k->action)->output, k->list);
	if (strcmp(k->name, "instances") == 0)
		s = ec2model_member(s, "Instances");
	return s;
}

/* Borrows r. The key a resource is found by when refreshing: "REGION ID". */
static jv
idkey(const struct kind *k, jv r)
{
	jv region = jv_object_get(jv_copy(r), jv_string("Region"));
	jv id = jv_object_get(jv_copy(r), jv_string(k->id));
	jv key;

	key = jv_string_fmt("%s %s", jv_string_value(region), jv_string_value(id));
	jv_free(region);
	jv_free(id);
	return key;
}

/*
 * Reads every record from stdin before the first call; returns them, each with a Region (its
 * own, else defregion). A record without an id or region is bad input (exit 3).
 */
static jv
read_records(const struct kind *k, const char *defregion)
{
	struct jsonl in;
	jv recs = jv_array(), rec, id, region;

	jsonl_open(&in, (char *[]){ "-", NULL });
	while (jv_is_valid(rec = jsonl_next(&in))) {
		id = jv_object_get(jv_copy(rec), jv_string(k->id));
		if (jv_get_kind(id) != JV_KIND_STRING || jv_string_length_bytes(jv_copy(id)) == 0)
			jsonl_die(&in, "no %s string", k->id);
		jv_free(id);
		region = jv_object_get(jv_copy(rec), jv_string("Region"));
		if ((!jv_is_valid(region) || jv_get_kind(region) == JV_KIND_NULL) &&
		    defregion != NULL) {
			jv_free(region);
			region = jv_string(defregion);
		}
		if (jv_get_kind(region) != JV_KIND_STRING ||
		    jv_string_length_bytes(jv_copy(region)) == 0)
			jsonl_die(&in, "no Region string, and no region configured");
		recs = jv_array_append(recs, jv_object_set(rec, jv_string("Region"), region));
	}
	jsonl_close(&in);
	return recs;
}

/* Borrows recs. Queues the refresh of recs in batches of ids, one region each; returns the count. */
static size_t
submit_refresh(struct ec2 *ec2, const struct kind *k, jv recs, struct query *qs)
{
	int i, j, n = jv_array_length(jv_copy(recs));
	size_t nq = 0;
	jv region, batch, r;

	for (i = 0; i < n; i = j) {
		region = jv_object_get(jv_array_get(jv_copy(recs), i), jv_string("Region"));
		batch = jv_array();
		for (j = i; j < n && j - i < BATCH; j++) {
			r = jv_array_get(jv_copy(recs), j);
			if (!jv_equal(jv_object_get(jv_copy(r), jv_string("Region")), jv_copy(region))) {
				jv_free(r);
				break;
			}
			batch = jv_array_append(batch, jv_object_get(r, jv_string(k->id)));
		}
		query_submit(ec2, &qs[nq++], k, jv_string_value(region), JV_OBJECT(
		    jv_string("Filters"), JV_ARRAY(JV_OBJECT(jv_string("Name"),
		    jv_string(k->idfilter), jv_string("Values"), batch)),
		    jv_string("MaxResults"), jv_number(1000)));
		jv_free(region);
	}
	return nq;
}

/* Consumes recs. Prints each record as it is now, in input order; returns EXIT_FAIL if any is gone. */
static int
print_refreshed(const struct kind *k, jv recs, struct query *qs, size_t nq)
{
	jv byid = jv_object(), fresh;
	size_t i;
	int status = EXIT_OK;

	for (i = 0; i < nq; i++)
		jv_array_foreach(qs[i].records, j, r)
			byid = jv_object_set(byid, idkey(k, r), r);
	jv_array_foreach(recs, j, r) {
		fresh = jv_object_get(jv_copy(byid), idkey(k, r));
		if (jv_get_kind(fresh) == JV_KIND_OBJECT) {
			out_record(rec_refreshed(r, fresh, resource_shape(k)));
			continue;
		}
		jv_free(fresh);
		fresh = idkey(k, r);
		warnx("%s: no longer exists", jv_string_value(fresh));
		jv_free(fresh);
		jv_free(r);
		status = EXIT_FAIL;
	}
	jv_free(recs);
	jv_free(byid);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "endpoint-url",	required_argument,	NULL,	'E' },
		{ "filter",		required_argument,	NULL,	'f' },
		{ "help",		no_argument,		NULL,	'h' },
		{ "owner",		required_argument,	NULL,	'o' },
		{ "region",		required_argument,	NULL,	'r' },
		{ "version",		no_argument,		NULL,	'V' },
		{ NULL,			0,			NULL,	0 }
	};
	const struct kind *k = NULL;
	struct ec2 *ec2;
	struct query *qs;
	const char *endpoint = NULL, **regions = NULL;
	jv owners = jv_array(), filters = jv_array(), ids = jv_array(), recs, params;
	size_t nregions = 0, nq = 0, i;
	int ch, refresh = 0, max = 8, status = EXIT_OK;

	out_init();
	while ((ch = getopt_long(argc, argv, "hP:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'E':
			endpoint = optarg;
			break;
		case 'f':
			filters = jv_array_append(filters, parse_filter(optarg));
			break;
		case 'h':
			usage(EXIT_OK);
		case 'o':
			owners = jv_array_append(owners, jv_string(optarg));
			break;
		case 'P':
			max = (int)parse_num(optarg, 1, 64, "-P");
			break;
		case 'r':
			regions = xreallocarray(regions, nregions + 1, sizeof(*regions));
			regions[nregions++] = optarg;
			break;
		case 'V':
			print_version();
		default:
			usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(EXIT_USAGE);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(argv[0], kinds[i].name) == 0)
			k = &kinds[i];
	if (k == NULL) {
		warnx("%s: not images, instances or snapshots", argv[0]);
		usage(EXIT_USAGE);
	}
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "-") == 0)
			refresh = 1;
		else
			ids = jv_array_append(ids, jv_string(argv[i]));
	}
	if (refresh && (argc != 2 || jv_array_length(jv_copy(owners)) > 0 ||
	    jv_array_length(jv_copy(filters)) > 0 || nregions > 1))
		errx(EXIT_USAGE, "-: refreshes records by id; no ids, --owner, --filter or more than one --region");
	if (k->ownerparam == NULL && jv_array_length(jv_copy(owners)) > 0)
		errx(EXIT_USAGE, "--owner: instances have no owner to select by");

	ec2 = ec2_new(nregions > 0 ? regions[0] : NULL, endpoint, max);
	if (refresh) {
		recs = read_records(k, ec2_region(ec2));
		qs = xcalloc(jv_array_length(jv_copy(recs)) + 1, sizeof(*qs));
		nq = submit_refresh(ec2, k, recs, qs);
	} else {
		if (nregions == 0) {
			if (ec2_region(ec2) == NULL)
				errx(EXIT_USAGE, "no region: use --region, AWS_REGION or a profile's region");
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
	}
	ec2_run(ec2);

	/* All or nothing: any failed listing means no output at all. */
	for (i = 0; i < nq; i++)
		if (qs[i].diag != NULL) {
			warnx("%s", qs[i].diag);
			status = EXIT_FAIL;
		}
	if (status == EXIT_OK && refresh)
		status = print_refreshed(k, jv_copy(recs), qs, nq);
	else if (status == EXIT_OK)
		for (i = 0; i < nq; i++)
			jv_array_foreach(qs[i].records, j, r)
				out_record(r);

	for (i = 0; i < nq; i++) {
		jv_free(qs[i].records);
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
