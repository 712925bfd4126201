/*
 * tag sets and deletes tags on the EC2 resources named by the records it reads (instances, images
 * or snapshots) and, with --snapshots, on each image's EBS snapshots too. It reads and checks all
 * of its input before the first call, then works in batches: one CreateTags (and one DeleteTags)
 * per 1000 resource ids of a region, batches running concurrently. Every record is written back
 * out, in input order, with the Tags it now carries and a Result. A resource already gone is
 * skipped and the rest of its batch tagged; a batch that fails fails each of its records.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "awsopt.h"
#include "ec2.h"
#include "interrupt.h"
#include "jsonl.h"
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "util.h"

/* EC2's limits: resource ids in one CreateTags or DeleteTags, tags on a resource, characters. */
#define BATCH_IDS	1000
#define MAX_TAGS	50
#define MAX_KEY		128
#define MAX_VALUE	256

enum {
	OPT_DELETE = OPT_FIRST,
	OPT_SNAPSHOTS,
	OPT_VERSION
};

/* The field that names a record's resource: an instance record names its image, not the reverse. */
static const char *const idfields[] = { "InstanceId", "ImageId", "SnapshotId", NULL };

struct opts {
	jv		 set;		/* [{"Key","Value"}]: CreateTags */
	jv		 del;		/* [{"Key"[,"Value"]}]: DeleteTags */
	const char	*actions[2];	/* the calls of each batch, in order */
	int		 nactions;
	int		 snapshots;
	int		 dryrun;
};

/*
 * Up to BATCH_IDS resource ids of one region, tagged by the same calls. A record's aux is the list
 * of its ids: its resource's, then (--snapshots) its image's snapshots.
 */
struct batch {
	const struct opts *opts;
	struct ec2	*ec2;
	const char	*region;	/* borrowed from its first record */
	struct mrec	**recs;		/* those still in the batch */
	size_t		 n;
	int		 step;		/* index into opts->actions */
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: tag [-t KEY=VALUE]... [--delete KEY[=VALUE]]... [--snapshots]\n"
	    "           [--dry-run] [--audit FILE] [--region REGION] [--endpoint-url URL]\n"
	    "           [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Set or delete tags on images (and their snapshots).\n"
	    "\n"
	    "  -t, --tag KEY=VALUE      set this tag (repeatable)\n"
	    "      --delete KEY[=VALUE] delete this tag (repeatable)\n"
	    "      --snapshots          tag the images' snapshots too\n"
	    AWSOPT_HELP);
}

/* The characters of a valid UTF-8 string: its bytes that do not continue a sequence. */
static size_t
nchars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * Parses the argument of -t (KEY=VALUE) or --delete (KEY or KEY=VALUE), split at the first "=",
 * into {"Key","Value"}; a key or value EC2 would refuse is a usage error.
 */
static jv
parse_tag(const char *opt, const char *arg, int need_value)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	jv t;

	if (!utf8_valid(arg, strlen(arg)))
		usage_error("%s: not valid UTF-8", opt);
	if (eq == NULL && need_value)
		usage_error("%s '%s': expected KEY=VALUE", opt, arg);
	if (klen == 0)
		usage_error("%s '%s': empty key", opt, arg);
	if (nchars(arg, klen) > MAX_KEY)
		usage_error("%s: key longer than %d characters", opt, MAX_KEY);
	if (strncasecmp(arg, "aws:", 4) == 0)
		usage_error("%s '%.*s': keys starting aws: are reserved", opt, (int)klen, arg);
	if (eq != NULL && nchars(eq + 1, strlen(eq + 1)) > MAX_VALUE)
		usage_error("%s '%.*s': value longer than %d characters", opt, (int)klen, arg,
		    MAX_VALUE);
	t = JV_OBJECT(jv_string("Key"), jv_string_sized(arg, (int)klen));
	if (eq == NULL)
		return t;
	return jv_object_set(t, jv_string("Value"), jv_string(eq + 1));
}

/* Borrows obj. Its string field, or "" (a tag without Value has the empty value). */
static const char *
str(jv obj, const char *field)
{
	const char *s = rec_str(obj, field);

	return s != NULL ? s : "";
}

/* Borrows tags. The index of key in a list of tags, or -1. */
static int
find_key(jv tags, const char *key)
{
	int found = -1;

	jv_array_foreach(tags, i, t) {
		if (found == -1 && strcmp(str(t, "Key"), key) == 0)
			found = i;
		jv_free(t);
	}
	return found;
}

/* Checks the options together: something to do, no key both set and deleted, at most 50 set. */
static void
check_opts(struct opts *o)
{
	int nset = jv_array_length(jv_copy(o->set)), i;
	jv t;

	if (nset == 0 && jv_array_length(jv_copy(o->del)) == 0) {
		usage_error("nothing to do: give -t KEY=VALUE or --delete KEY");
	}
	if (nset > MAX_TAGS)
		usage_error("-t: %d tags; EC2 allows %d on a resource", nset, MAX_TAGS);
	for (i = 0; i < nset; i++) {
		t = jv_array_get(jv_copy(o->set), i);
		if (find_key(o->set, str(t, "Key")) != i)
			usage_error("-t: key '%s' given twice", str(t, "Key"));
		if (find_key(o->del, str(t, "Key")) != -1)
			usage_error("key '%s' both set (-t) and deleted (--delete)",
			    str(t, "Key"));
		jv_free(t);
	}
	if (nset > 0)
		o->actions[o->nactions++] = "CreateTags";
	if (jv_array_length(jv_copy(o->del)) > 0)
		o->actions[o->nactions++] = "DeleteTags";
}

/* Consumes tags. tags with o's tags set, in place or appended, and its deletions removed. */
static jv
merge_tags(jv tags, const struct opts *o)
{
	jv out = jv_array();
	int k;

	if (jv_get_kind(tags) != JV_KIND_ARRAY) {
		jv_free(tags);
		tags = jv_array();
	}
	jv_array_foreach(o->set, i, t) {
		if ((k = find_key(tags, str(t, "Key"))) != -1)
			tags = jv_array_set(tags, k, jv_object_set(jv_array_get(jv_copy(tags), k),
			    jv_string("Value"), jv_string(str(t, "Value"))));
		else
			tags = jv_array_append(tags, jv_copy(t));
		jv_free(t);
	}
	/* --delete KEY drops any value; KEY=VALUE only that value, as DeleteTags does. */
	jv_array_foreach(tags, i, t) {
		int drop = 0;

		jv_array_foreach(o->del, j, d) {
			if (strcmp(str(d, "Key"), str(t, "Key")) == 0 &&
			    (!jv_object_has(jv_copy(d), jv_string("Value")) ||
			    strcmp(str(d, "Value"), str(t, "Value")) == 0))
				drop = 1;
			jv_free(d);
		}
		if (drop)
			jv_free(t);
		else
			out = jv_array_append(out, t);
	}
	jv_free(tags);
	return out;
}

/* Borrows rec. A record's Tags must be a list of {"Key","Value"} to be merged with. */
static void
check_rec_tags(struct jsonl *in, jv rec)
{
	jv tags = jv_object_get(jv_copy(rec), jv_string("Tags"));
	int bad = 0;

	if (jv_get_kind(tags) == JV_KIND_ARRAY)
		jv_array_foreach(tags, i, t) {
			jv k = jv_object_get(jv_copy(t), jv_string("Key"));
			jv v = jv_object_get(jv_copy(t), jv_string("Value"));

			if (jv_get_kind(k) != JV_KIND_STRING || (jv_is_valid(v) &&
			    jv_get_kind(v) != JV_KIND_STRING && jv_get_kind(v) != JV_KIND_NULL))
				bad = 1;
			jv_free(k);
			jv_free(v);
			jv_free(t);
		}
	else if (jv_is_valid(tags) && jv_get_kind(tags) != JV_KIND_NULL)
		bad = 1;
	jv_free(tags);
	if (bad)
		jsonl_die(in, "Tags is not a list of {\"Key\",\"Value\"}");
}

/* Borrows rec. Appends to ids the snapshot ids of an image record's EBS block device mappings. */
static jv
snapshot_ids(struct jsonl *in, jv rec, jv ids)
{
	jv bdms = jv_object_get(jv_copy(rec), jv_string("BlockDeviceMappings")), ebs, snap;

	if (!jv_is_valid(bdms) || jv_get_kind(bdms) == JV_KIND_NULL) {
		jv_free(bdms);
		return ids;
	}
	if (jv_get_kind(bdms) != JV_KIND_ARRAY) {
		jv_free(bdms);
		jv_free(ids);
		jsonl_die(in, "BlockDeviceMappings is not a list");
	}
	jv_array_foreach(bdms, i, m) {
		/* Instance store mappings have no Ebs, and an empty EBS volume no snapshot. */
		ebs = jv_get_kind(m) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(m), jv_string("Ebs")) : jv_invalid();
		snap = jv_get_kind(ebs) == JV_KIND_OBJECT ? jv_object_get(jv_copy(ebs),
		    jv_string("SnapshotId")) : jv_invalid();
		jv_free(ebs);
		jv_free(m);
		if (jv_get_kind(snap) == JV_KIND_STRING &&
		    strncmp(jv_string_value(snap), "snap-", 5) == 0) {
			ids = jv_array_append(ids, snap);
		} else if (jv_is_valid(snap) && jv_get_kind(snap) != JV_KIND_NULL) {
			jv_free(snap);
			jv_free(bdms);
			jv_free(ids);
			jsonl_die(in, "BlockDeviceMappings[%d].Ebs.SnapshotId is not a snapshot id",
			    i);
		} else
			jv_free(snap);
	}
	jv_free(bdms);
	return ids;
}

/* Borrows rec. The record's own checks; returns the resource ids to tag for it. */
static jv
check_rec(struct jsonl *in, jv rec, const char *idfield, void *arg)
{
	const struct opts *o = arg;
	jv ids;

	check_rec_tags(in, rec);
	ids = JV_ARRAY(jv_string(rec_str(rec, idfield)));
	if (o->snapshots && strcmp(idfield, "ImageId") == 0)
		ids = snapshot_ids(in, rec, ids);
	return ids;
}

/* A record that would carry more tags than EC2 allows fails alone rather than failing its batch. */
static int
over_limit(struct mrec *m, const struct opts *o)
{
	jv tags = merge_tags(jv_object_get(jv_copy(m->rec), jv_string("Tags")), o);
	int n = jv_array_length(tags);
	char *msg;

	if (n <= MAX_TAGS)
		return 0;
	xasprintf(&msg, "%s: %s: would carry %d tags; EC2 allows %d on a resource",
	    mrec_region(m), mrec_id(m), n, MAX_TAGS);
	warnx("%s", msg);
	outcome_set_reason(&m->o, RESULT_FAILED, msg);
	free(msg);
	return 1;
}

/*
 * Groups the records into batches: those of one region, in input order, up to BATCH_IDS resource
 * ids each. Returns the batches and their number in *nbp.
 */
static struct batch *
plan_batches(struct mrec *recs, size_t n, const struct opts *o, struct ec2 *ec2, size_t *nbp)
{
	struct batch *bs = NULL, *b = NULL;
	char *placed = xcalloc(n + 1, 1);
	size_t i, j, nb = 0, nids = 0, len;

	for (i = 0; i < n; i++)
		placed[i] = over_limit(&recs[i], o);
	for (i = 0; i < n; i++) {
		if (placed[i])
			continue;
		b = NULL;
		for (j = i; j < n; j++) {
			if (placed[j] || strcmp(mrec_region(&recs[j]), mrec_region(&recs[i])) != 0)
				continue;
			len = (size_t)jv_array_length(jv_copy(recs[j].aux));
			if (b == NULL || (b->n > 0 && nids + len > BATCH_IDS)) {
				bs = xreallocarray(bs, nb + 1, sizeof(*bs));
				b = &bs[nb++];
				memset(b, 0, sizeof(*b));
				b->opts = o;
				b->ec2 = ec2;
				b->region = mrec_region(&recs[j]);
				b->recs = xcalloc(BATCH_IDS, sizeof(*b->recs));
				nids = 0;
			}
			b->recs[b->n++] = &recs[j];
			nids += len;
			placed[j] = 1;
		}
	}
	free(placed);
	*nbp = nb;
	return bs;
}

static void	batch_submit(struct batch *);

/* 1 if the error message names id (a whole id: ami-0123 is not in ami-01234). */
static int
mentions(const char *msg, const char *id)
{
	const char *p;
	size_t len = strlen(id);

	for (p = msg; p != NULL && (p = strstr(p, id)) != NULL; p++)
		if ((p == msg || strchr("abcdefghijklmnopqrstuvwxyz0123456789-", p[-1]) == NULL) &&
		    (p[len] == '\0' || strchr("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF",
		    p[len]) == NULL))
			return 1;
	return 0;
}

/*
 * A call failed because resources are gone: the records whose resource it names are skipped, the
 * snapshots it names left out, and the rest of the batch stays. Returns how many ids were dropped.
 */
static size_t
drop_gone(struct batch *b, const struct ec2_result *res)
{
	struct mrec *m;
	size_t i, kept = 0, dropped = 0;
	int main_gone;
	jv ids;

	for (i = 0; i < b->n; i++) {
		m = b->recs[i];
		ids = jv_array();
		main_gone = 0;
		jv_array_foreach(m->aux, k, id) {
			if (res->message != NULL && mentions(res->message, jv_string_value(id))) {
				dropped++;
				main_gone |= k == 0;
				jv_free(id);
			} else
				ids = jv_array_append(ids, id);
		}
		jv_free(m->aux);
		m->aux = ids;
		if (main_gone)
			outcome_set(&m->o, res, b->opts->dryrun);
		else
			b->recs[kept++] = m;
	}
	b->n = kept;
	return dropped;
}

static void
batch_done(const struct ec2_result *res, void *arg)
{
	struct batch *b = arg;
	struct outcome o = { RESULT_NONE, NULL, NULL };
	size_t i;

	outcome_set(&o, res, b->opts->dryrun);
	if (o.status == RESULT_SKIPPED) {
		if (drop_gone(b, res) > 0) {
			free(o.reason);
			free(o.request_id);
			if (b->n > 0)
				batch_submit(b);
			return;
		}
		/* Gone, but which of the batch EC2 does not say: the batch cannot be done. */
		free(o.reason);
		o.status = RESULT_FAILED;
		o.reason = xstrdup(res->diag);
	}
	if (o.status == RESULT_INTERRUPTED && b->step > 0)
		outcome_set_reason(&o, RESULT_INTERRUPTED,
		    "interrupted after its first call: the second was not sent");
	if (o.status == RESULT_FAILED)
		warnx("%s", res->diag);
	else if (o.status != RESULT_INTERRUPTED && ++b->step < b->opts->nactions) {
		free(o.reason);
		free(o.request_id);
		batch_submit(b);
		return;
	}
	for (i = 0; i < b->n; i++)
		outcome_set_reason(&b->recs[i]->o, o.status, o.reason);
	for (i = 0; o.request_id != NULL && i < b->n; i++)
		b->recs[i]->o.request_id = xstrdup(o.request_id);
	free(o.reason);
	free(o.request_id);
}

/* Queues the batch's current call, for the resource ids of the records still in it. */
static void
batch_submit(struct batch *b)
{
	const char *action = b->opts->actions[b->step];
	jv ids = jv_array(), seen = jv_object(), params;
	size_t i;

	for (i = 0; i < b->n; i++)
		jv_array_foreach(b->recs[i]->aux, k, id) {
			/* Images may share snapshots. */
			if (jv_object_has(jv_copy(seen), jv_copy(id))) {
				jv_free(id);
				continue;
			}
			seen = jv_object_set(seen, jv_copy(id), jv_true());
			ids = jv_array_append(ids, id);
		}
	jv_free(seen);
	params = JV_OBJECT(jv_string("Resources"), ids, jv_string("Tags"),
	    jv_copy(strcmp(action, "CreateTags") == 0 ? b->opts->set : b->opts->del));
	if (b->opts->dryrun)
		params = jv_object_set(params, jv_string("DryRun"), jv_true());
	ec2_submit(b->ec2, b->region, action, params, batch_done, b);
}

/* Consumes rec. The record with the Tags it now carries (or would, under --dry-run). */
static jv
updated(jv rec, void *arg)
{
	const struct opts *o = arg;
	jv tags = jv_object_get(jv_copy(rec), jv_string("Tags"));

	/* A record without Tags gets them only when some are set. */
	if (jv_get_kind(tags) == JV_KIND_ARRAY || jv_array_length(jv_copy(o->set)) > 0)
		return jv_object_set(rec, jv_string("Tags"), merge_tags(tags, o));
	jv_free(tags);
	return rec;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		AWSOPT_LONGOPTS,
		{ "delete",		required_argument,	NULL,	OPT_DELETE },
		{ "help",		no_argument,		NULL,	'h' },
		{ "snapshots",		no_argument,		NULL,	OPT_SNAPSHOTS },
		{ "tag",		required_argument,	NULL,	't' },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ NULL,			0,			NULL,	0 }
	};
	struct awsopt ao;
	struct opts o;
	struct ec2 *ec2;
	struct mrec *recs;
	struct batch *batches;
	size_t n, nb, i;
	int ch, status;

	out_init();
	awsopt_init(&ao);
	memset(&o, 0, sizeof(o));
	o.set = jv_array();
	o.del = jv_array();
	while ((ch = getopt_cli(argc, argv, "hP:t:", longopts)) != -1) {
		switch (ch) {
		case OPT_DELETE:
			o.del = jv_array_append(o.del, parse_tag("--delete", optarg, 0));
			break;
		case 'h':
			usage();
		case OPT_SNAPSHOTS:
			o.snapshots = 1;
			break;
		case 't':
			o.set = jv_array_append(o.set, parse_tag("-t", optarg, 1));
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&ao, ch, optarg))
				usage_error(NULL);
		}
	}
	argv += optind;
	check_opts(&o);
	o.dryrun = ao.dryrun;

	ec2 = awsopt_client(&ao);
	recs = mutate_read(argv, ec2_region(ec2), idfields, check_rec, &o, &n);
	/* Interrupted, the calls in flight finish, the rest are printed interrupted. */
	intr_catch();
	batches = plan_batches(recs, n, &o, ec2, &nb);
	for (i = 0; i < nb; i++)
		batch_submit(&batches[i]);
	ec2_run(ec2);
	status = mutate_print(recs, n, "tag", updated, &o);

	for (i = 0; i < nb; i++)
		free(batches[i].recs);
	free(batches);
	jv_free(o.set);
	jv_free(o.del);
	ec2_free(ec2);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
