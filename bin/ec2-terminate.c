/*
 * ec2-terminate terminates the instances its input records name (InstanceId, Region), up to 1000
 * ids a TerminateInstances call per region, and prints each record back with the instance's new
 * State and Result. It is made to run from a cleanup trap, so it takes what it is given: records
 * without an InstanceId (a launch that failed, a dry-run plan) pass through untouched; an instance
 * already terminated, or gone (InvalidInstanceID.NotFound), is skipped; a last line cut short by
 * a writer that was killed is forgiven with a warning, and the instance it begins with is still
 * terminated when its id and region can be read. One bad id fails a whole call in EC2, so a call
 * that fails on an id is made again one instance at a time: one instance never keeps the others
 * running. Interrupted once, it finishes the terminations all the same.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsopt.h"
#include "ec2.h"
#include "endpoint.h"
#include "interrupt.h"
#include "jsonl.h"
#include "out.h"
#include "record.h"
#include "util.h"

#define ACTION	"ec2-terminate"
#define BATCH	1000		/* TerminateInstances' limit on ids a call */

enum { OPT_VERSION = OPT_FIRST };

struct run {
	struct ec2	*ec2;
	jv		 results;	/* "REGION ID" -> {"Status","Reason","RequestId","State"} */
	int		 dryrun;
	int		 status;
};

/* One TerminateInstances call: ids of one region. */
struct batch {
	struct run	*run;
	char		*region;
	jv		 ids;
};

/* One input record, and the key of its result when it names an instance. */
struct item {
	jv	 rec;
	jv	 key;		/* "REGION ID", or jv_null() */
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: ec2-terminate [--dry-run] [--audit FILE] [--region REGION]\n"
	    "           [--endpoint-url URL] [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Terminate instances; safe in a cleanup trap.\n"
	    "\n"
	    AWSOPT_HELP);
}

/* 1 if the current line, which ends its input without a newline, is a whole record. */
static int
whole(struct jsonl *in)
{
	jv v;
	int ok;

	if (!utf8_valid(in->line, in->len) || memchr(in->line, '\0', in->len) != NULL)
		return 0;
	v = jv_parse_sized(in->line, (int)in->len);
	ok = jv_get_kind(v) == JV_KIND_OBJECT;
	jv_free(v);
	return ok;
}

/* The length of the run of characters at p that are in set. */
static size_t
span(const char *p, const char *end, const char *set)
{
	const char *q;

	for (q = p; q < end && *q != '\0' && strchr(set, *q) != NULL; q++)
		;
	return (size_t)(q - p);
}

/*
 * The instance that a line cut short begins with, as ec2-launch writes its records
 * ({"InstanceId":"i-...","Region":"...",...), or jv_invalid() if its start does not say.
 */
static jv
salvage(struct jsonl *in)
{
	static const char idkey[] = "{\"InstanceId\":\"", regionkey[] = "\",\"Region\":\"";
	const char *p = in->line, *end = in->line + in->len, *id, *region;
	size_t idlen, regionlen;
	jv rec;

	if ((size_t)(end - p) < sizeof(idkey) - 1 || memcmp(p, idkey, sizeof(idkey) - 1) != 0)
		return jv_invalid();
	id = p + sizeof(idkey) - 1;
	if (end - id < 3 || strncmp(id, "i-", 2) != 0)
		return jv_invalid();
	idlen = 2 + span(id + 2, end, "0123456789abcdef");
	p = id + idlen;
	if (idlen < 3 || (size_t)(end - p) < sizeof(regionkey) - 1 ||
	    memcmp(p, regionkey, sizeof(regionkey) - 1) != 0)
		return jv_invalid();
	region = p + sizeof(regionkey) - 1;
	regionlen = span(region, end, "-0123456789abcdefghijklmnopqrstuvwxyz");
	if (regionlen == 0 || region + regionlen >= end || region[regionlen] != '"')
		return jv_invalid();
	rec = JV_OBJECT(jv_string("InstanceId"), jv_string_sized(id, (int)idlen),
	    jv_string("Region"), jv_string_sized(region, (int)regionlen));
	/* What is salvaged is checked as any record is, by the same rules. */
	if (!rec_id_valid("InstanceId", rec_str(rec, "InstanceId")) ||
	    !aws_region_valid(rec_str(rec, "Region"))) {
		jv_free(rec);
		return jv_invalid();
	}
	return rec;
}

/*
 * The next record, or jv_invalid() at the end. A line that ends the input without a newline
 * and is no whole record was cut short: it is reported, and what can be read of it returned.
 */
static jv
next_record(struct jsonl *in)
{
	char *where;
	jv rec;

	while (jsonl_getline(in)) {
		if (!in->nolf || whole(in))
			return jsonl_parse(in);
		where = jsonl_where(in);
		rec = salvage(in);
		if (jv_is_valid(rec))
			warnx("%s: line cut short; terminating %s, the instance it begins with",
			    where, rec_str(rec, "InstanceId"));
		else
			warnx("%s: line cut short, without an instance id at its start: ignored",
			    where);
		free(where);
		if (jv_is_valid(rec))
			return rec;
	}
	return jv_invalid();
}

/*
 * Reads every record before the first call. A record with an InstanceId that is not a string,
 * or without a Region when none is configured, is bad input (exit 3). Returns *np items.
 */
static struct item *
read_records(char **paths, const char *defregion, size_t *np)
{
	struct item *items = NULL;
	struct jsonl in;
	size_t n = 0;
	jv rec, id, key;

	jsonl_open(&in, paths);
	while (jv_is_valid(rec = next_record(&in))) {
		key = jv_null();
		id = jv_object_get(jv_copy(rec), jv_string("InstanceId"));
		if (jv_is_valid(id) && jv_get_kind(id) != JV_KIND_NULL) {
			rec = rec_require(&in, rec, "InstanceId", defregion);
			key = jv_string_fmt("%s %s", rec_str(rec, "Region"), rec_str(rec, "InstanceId"));
		}
		jv_free(id);
		items = xreallocarray(items, n + 1, sizeof(*items));
		items[n].rec = rec;
		items[n].key = key;
		n++;
	}
	jsonl_close(&in);
	*np = n;
	return items;
}

/* Notes the outcome for one instance; state is its new State, or jv_null(). Consumes state. */
static void
settle(struct run *r, const char *region, const char *id, enum result_status status, const char *reason,
    const char *reqid, jv state)
{
	jv res = JV_OBJECT(jv_string("Status"), jv_number(status));

	if (reason != NULL)
		res = jv_object_set(res, jv_string("Reason"), jv_string(reason));
	if (reqid != NULL)
		res = jv_object_set(res, jv_string("RequestId"), jv_string(reqid));
	res = jv_object_set(res, jv_string("State"), state);
	r->results = jv_object_set(r->results, jv_string_fmt("%s %s", region, id), res);
	if (status == RESULT_FAILED || status == RESULT_INTERRUPTED)
		r->status = EXIT_FAIL;
}

static void	submit(struct run *, const char *region, jv ids);

/* Errors that one id of a call can cause: made again one id at a time, the others succeed. */
static int
one_by_one(const char *code)
{
	return strncmp(code, "InvalidInstanceID.", 18) == 0 ||
	    strcmp(code, "OperationNotPermitted") == 0 ||
	    strcmp(code, "UnauthorizedOperation") == 0;
}

/* Borrows out. Notes what TerminatingInstances says of each id of b. */
static void
answered(struct batch *b, jv out, const char *reqid)
{
	jv list, seen = jv_object(), prev;
	const char *id, *was, *reason;

	list = jv_object_get(jv_copy(out), jv_string("TerminatingInstances"));
	if (jv_get_kind(list) == JV_KIND_ARRAY)
		jv_array_foreach(list, i, t) {
			if ((id = rec_str(t, "InstanceId")) != NULL) {
				prev = jv_object_get(jv_copy(t), jv_string("PreviousState"));
				if (jv_get_kind(prev) != JV_KIND_OBJECT ||
				    (was = rec_str(prev, "Name")) == NULL)
					was = "";
				if (strcmp(was, "terminated") == 0)
					reason = "already terminated";
				else if (strcmp(was, "shutting-down") == 0)
					reason = "already shutting down";
				else
					reason = NULL;
				settle(b->run, b->region, id, reason != NULL ? RESULT_SKIPPED : RESULT_DONE,
				    reason, reqid, jv_object_get(jv_copy(t),
				    jv_string("CurrentState")));
				jv_free(prev);
				seen = jv_object_set(seen, jv_string(id), jv_true());
			}
			jv_free(t);
		}
	jv_free(list);
	jv_array_foreach(b->ids, i, idv) {
		if (!jv_object_has(jv_copy(seen), jv_copy(idv))) {
			warnx("%s: TerminateInstances: %s: not in the answer", b->region,
			    jv_string_value(idv));
			settle(b->run, b->region, jv_string_value(idv), RESULT_FAILED,
			    "not in TerminateInstances' answer", reqid, jv_null());
		}
		jv_free(idv);
	}
	jv_free(seen);
}

static void
terminated(const struct ec2_result *res, void *arg)
{
	struct batch *b = arg;
	enum result_status status;
	const char *reason;
	int n = jv_array_length(jv_copy(b->ids));

	if (res->code == NULL)
		answered(b, res->out, res->request_id);
	else if (n > 1 && one_by_one(res->code)) {
		jv_array_foreach(b->ids, i, id)
			submit(b->run, b->region, JV_ARRAY(id));
	} else {
		if (strcmp(res->code, "DryRunOperation") == 0) {
			status = RESULT_DRYRUN;
			reason = NULL;
		} else if (ec2_interrupted(res->code)) {
			status = RESULT_INTERRUPTED;
			reason = "not terminated: interrupted";
		} else if (strcmp(res->code, "InvalidInstanceID.NotFound") == 0) {
			status = RESULT_SKIPPED;
			reason = "already gone (InvalidInstanceID.NotFound)";
		} else {
			warnx("%s", res->diag);
			status = RESULT_FAILED;
			reason = res->diag;
		}
		jv_array_foreach(b->ids, i, id) {
			settle(b->run, b->region, jv_string_value(id), status, reason,
			    res->request_id, jv_null());
			jv_free(id);
		}
	}
	jv_free(b->ids);
	free(b->region);
	free(b);
}

/* Queues TerminateInstances for ids (consumed), all in region. */
static void
submit(struct run *r, const char *region, jv ids)
{
	struct batch *b = xcalloc(1, sizeof(*b));
	jv params;

	b->run = r;
	b->region = xstrdup(region);
	b->ids = ids;
	params = JV_OBJECT(jv_string("InstanceIds"), jv_copy(ids));
	if (r->dryrun)
		params = jv_object_set(params, jv_string("DryRun"), jv_true());
	ec2_submit(r->ec2, region, "TerminateInstances", params, terminated, b);
}

/* Queues the calls: each instance once, up to BATCH ids a call, one region each. */
static void
submit_all(struct run *r, const struct item *items, size_t n)
{
	jv byregion = jv_object(), seen = jv_object(), ids;
	const char *region;
	size_t i;
	int j, len;

	for (i = 0; i < n; i++) {
		if (jv_get_kind(items[i].key) == JV_KIND_NULL ||
		    jv_object_has(jv_copy(seen), jv_copy(items[i].key)))
			continue;
		seen = jv_object_set(seen, jv_copy(items[i].key), jv_true());
		region = rec_str(items[i].rec, "Region");
		ids = jv_object_get(jv_copy(byregion), jv_string(region));
		if (!jv_is_valid(ids))
			ids = jv_array();
		byregion = jv_object_set(byregion, jv_string(region), jv_array_append(ids,
		    jv_object_get(jv_copy(items[i].rec), jv_string("InstanceId"))));
	}
	jv_object_foreach(byregion, reg, all) {
		len = jv_array_length(jv_copy(all));
		for (j = 0; j < len; j += BATCH)
			submit(r, jv_string_value(reg), jv_array_slice(jv_copy(all), j,
			    j + BATCH < len ? j + BATCH : len));
		jv_free(reg);
		jv_free(all);
	}
	jv_free(byregion);
	jv_free(seen);
}

/* Prints every record in input order: instances with their new State and Result. */
static void
print_records(struct run *r, struct item *items, size_t n)
{
	jv res, state, rec, st;
	size_t i;

	for (i = 0; i < n; i++) {
		rec = jv_copy(items[i].rec);
		if (jv_get_kind(items[i].key) == JV_KIND_NULL) {
			out_record(rec);
			continue;
		}
		res = jv_object_get(jv_copy(r->results), jv_copy(items[i].key));
		state = jv_object_get(jv_copy(res), jv_string("State"));
		if (jv_get_kind(state) == JV_KIND_OBJECT)
			rec = jv_object_set(rec, jv_string("State"), state);
		else
			jv_free(state);
		st = jv_object_get(jv_copy(res), jv_string("Status"));
		out_record(rec_result(rec, ACTION, jv_get_kind(st) == JV_KIND_NUMBER ?
		    (enum result_status)jv_number_value(st) : RESULT_NONE, rec_str(res, "Reason"),
		    rec_str(res, "RequestId")));
		jv_free(st);
		jv_free(res);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		AWSOPT_LONGOPTS,
		{ "help",		no_argument,		NULL,	'h' },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ NULL,			0,			NULL,	0 }
	};
	struct awsopt ao;
	struct item *items;
	struct run r;
	size_t n, i;
	int ch;

	out_init();
	awsopt_init(&ao);
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case 'h':
			usage();
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&ao, ch, optarg))
				usage_error(NULL);
		}
	}
	argv += optind;

	memset(&r, 0, sizeof(r));
	r.ec2 = awsopt_client(&ao);
	r.results = jv_object();
	r.dryrun = ao.dryrun;
	items = read_records(argv, ec2_region(r.ec2), &n);
	/*
	 * A cleanup is not left half done: one interrupt is noted, the queued terminations still
	 * start, and the program dies by the signal at the end.
	 */
	intr_catch();
	ec2_finish_queued(r.ec2);
	submit_all(&r, items, n);
	ec2_run(r.ec2);
	print_records(&r, items, n);

	for (i = 0; i < n; i++) {
		jv_free(items[i].rec);
		jv_free(items[i].key);
	}
	free(items);
	jv_free(r.results);
	ec2_free(r.ec2);
	ch = out_close();
	intr_resend();
	return r.status != EXIT_OK ? r.status : ch;
}
