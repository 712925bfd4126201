/*
 * copy-image promotes images to other regions. It describes the images it reads, then for each
 * image and each destination calls CopyImage in the destination region, copying the image's
 * tags, with a ClientToken made from what the copy is (source, destination, name, encryption),
 * so that a retried call or a re-run returns the image made the first time instead of making
 * another. It prints one record per copy: the new image as EC2 describes it, with SourceImageId
 * and SourceRegion, or with --wait as it is once available. A dry run prints the plan, one
 * record per copy without an ImageId, and copy-image applies such a plan when it reads it back.
 * An image another account shared is copied into this one (the record's region by default),
 * and every copy is tagged with its lineage (SourceImageId, SourceRegion, SourceAccount, and the
 * source's GitSha, Version and BuildUrl, from the record when EC2 hides the owner's tags).
 * All of the input is read and checked before the first copy, so bad input changes nothing.
 */
#include <ctype.h>
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
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "util.h"

#define ACTION		"copy-image"
#define NAME_DEFAULT	"{name}"

enum {
	OPT_ENCRYPTED = OPT_FIRST,
	OPT_KMS_KEY,
	OPT_NAME,
	OPT_TIMEOUT,
	OPT_TO,
	OPT_VERSION,
	OPT_WAIT
};

/* What the options say about the copies of image records. */
struct want {
	jv		 to;		/* destination regions, in order */
	const char	*name;		/* the name template */
	int		 named;		/* --name was given */
	int		 encrypted;
	jv		 kms;		/* destination region -> KMS key */
	int		 dryrun;
};

/* One copy of one image to one region. */
struct copy {
	jv		 rec;		/* the plan of the copy; then the new image */
	jv		 source[2];	/* SourceImageId, SourceRegion */
	jv		 params;	/* CopyImage's, ClientToken included; null if none is due */
	struct outcome	 o;
	struct run	*run;
};

/* What a run has read and planned. */
struct run {
	struct mrec	*inputs;	/* aux: "FILE:LINE" */
	size_t		 ninputs;
	char		*found;		/* per input: an image DescribeImages found */
	struct copy	*copies;
	size_t		 ncopies;
	jv		 names;		/* "REGION NAME" -> "SOURCEREGION SOURCEID" of each copy */
	struct ec2	*ec2;
	const struct awsopt *ao;
	int		 dryrun;
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: copy-image [--to REGION...] [--name TEMPLATE]\n"
	    "           [--encrypted [--kms-key REGION=KEY]...]\n"
	    "           [--wait [--timeout DURATION]]\n"
	    "           [--dry-run] [--audit FILE] [--region REGION] [--endpoint-url URL]\n"
	    "           [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Copy images to other regions, idempotently.\n"
	    "\n"
	    "      --to REGION          a region to copy to (repeatable, or R1,R2); default:\n"
	    "                           the image's own (an image another account shared)\n"
	    "      --name TEMPLATE      the copies' names, with {name}, {id}, ... filled in\n"
	    "      --encrypted          encrypt the copies' snapshots\n"
	    "      --kms-key REGION=KEY with --encrypted: the KMS key of copies in REGION\n"
	    "      --wait               wait until each copy is available before printing it\n"
	    "      --timeout DURATION   with --wait: give up after DURATION (default 30m)\n"
	    AWSOPT_HELP);
}

/* Borrows to. 1 if region is one of to's. */
static int
has_region(jv to, const char *region)
{
	int found = 0;

	jv_array_foreach(to, i, r) {
		found |= strcmp(jv_string_value(r), region) == 0;
		jv_free(r);
	}
	return found;
}

/* Adds the regions of "R1,R2" to to, each once. */
static jv
add_regions(jv to, const char *arg)
{
	const char *p, *end;
	jv r;

	for (p = arg;; p = end + 1) {
		end = p + strcspn(p, ",");
		if (end == p || strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-") != (size_t)(end - p))
			usage_error("--to '%s': expected regions like us-east-1,eu-west-1", arg);
		r = jv_string_sized(p, (int)(end - p));
		if (!has_region(to, jv_string_value(r)))
			to = jv_array_append(to, r);
		else
			jv_free(r);
		if (*end == '\0')
			return to;
	}
}

/* The tags that say where a copy comes from; the source's own of them travel with it. */
static const char *const lineage[] = { "SourceImageId", "SourceRegion", "SourceAccount", "GitSha",
	"Version", "BuildUrl", NULL };

/* Consumes tags. tags with key set to value (replacing the tag of that key). */
static jv
with_tag(jv tags, const char *key, const char *value)
{
	jv out = jv_array();

	jv_array_foreach(tags, i, t) {
		if (jv_get_kind(t) == JV_KIND_OBJECT && rec_str(t, "Key") != NULL &&
		    strcmp(rec_str(t, "Key"), key) == 0)
			jv_free(t);
		else
			out = jv_array_append(out, t);
	}
	jv_free(tags);
	return jv_array_append(out, JV_OBJECT(jv_string("Key"), jv_string(key), jv_string("Value"),
	    jv_string(value)));
}

/*
 * Consumes plan, a copy to make. The plan with its lineage among its Tags: its source, whatever
 * the source itself came from (a plan read back has them already, the same).
 */
static jv
with_lineage(jv plan)
{
	jv tags = jv_object_get(jv_copy(plan), jv_string("Tags"));

	if (jv_get_kind(tags) != JV_KIND_ARRAY) {
		jv_free(tags);
		tags = jv_array();
	}
	tags = with_tag(tags, "SourceImageId", rec_str(plan, "SourceImageId"));
	tags = with_tag(tags, "SourceRegion", rec_str(plan, "SourceRegion"));
	if (rec_str(plan, "SourceAccount") != NULL)
		tags = with_tag(tags, "SourceAccount", rec_str(plan, "SourceAccount"));
	return jv_object_set(plan, jv_string("Tags"), tags);
}

/* Borrows plan. The plan's lineage tags, for CopyImage's TagSpecifications. */
static jv
lineage_tags(jv plan)
{
	jv tags = jv_object_get(jv_copy(plan), jv_string("Tags")), out = jv_array();
	const char *const *k;
	const char *key;

	if (jv_get_kind(tags) == JV_KIND_ARRAY)
		jv_array_foreach(tags, i, t) {
			key = jv_get_kind(t) == JV_KIND_OBJECT ? rec_str(t, "Key") : NULL;
			for (k = lineage; key != NULL && *k != NULL && strcmp(*k, key) != 0; k++)
				;
			if (key != NULL && *k != NULL && rec_str(t, "Value") != NULL)
				out = jv_array_append(out, t);
			else
				jv_free(t);
		}
	jv_free(tags);
	return out;
}

/* The placeholders of a --name template. */
static const char *const fields[] = { "{name}", "{id}", "{region}", "{source_region}", NULL };

/* Which placeholder s starts with; -1 if none. */
static int
placeholder(const char *s)
{
	int i;

	for (i = 0; fields[i] != NULL; i++)
		if (strncmp(s, fields[i], strlen(fields[i])) == 0)
			return i;
	return -1;
}

/* Each --kms-key must name a --to region: a key lives in one region. */
static void
check_kms(const struct want *wt)
{
	static char bad[256];

	jv_object_foreach(wt->kms, region, k) {
		if (bad[0] == '\0' && !has_region(wt->to, jv_string_value(region)))
			snprintf(bad, sizeof(bad), "%s", jv_string_value(region));
		jv_free(region);
		jv_free(k);
	}
	if (bad[0] != '\0')
		usage_error("--kms-key %s=...: %s is not a region of --to", bad, bad);
}

static void
check_template(const char *template)
{
	const char *t;

	for (t = template; *t != '\0'; t++)
		if (*t == '{' && placeholder(t) == -1)
			usage_error("--name '%s': unknown placeholder at '%s' (expected {name}, "
			    "{id}, {region} or {source_region})", template, t);
}

/*
 * The name template t filled in for a copy of src (name, id, region) to dest; NULL when it uses
 * {name} and the image has none. The caller frees it.
 */
static char *
expand(const char *t, const char *name, const char *id, const char *srcregion, const char *dest)
{
	const char *vals[] = { name, id, dest, srcregion };
	char *s = xstrdup(""), *more;
	size_t n;
	int f;

	while (*t != '\0') {
		if (*t == '{' && (f = placeholder(t)) != -1) {
			if (vals[f] == NULL) {
				free(s);
				return NULL;
			}
			xasprintf(&more, "%s%s", s, vals[f]);
			t += strlen(fields[f]);
		} else {
			n = strcspn(t + 1, "{") + 1;
			xasprintf(&more, "%s%.*s", s, (int)n, t);
			t += n;
		}
		free(s);
		s = more;
	}
	return s;
}

/* 1 if EC2 takes s as an image name: 3 to 128 of letters, digits and ()[] ./-_'@ and space. */
static int
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > 128)
		return 0;
	for (; *s != '\0'; s++)
		if (!isascii((unsigned char)*s) || (!isalnum((unsigned char)*s) &&
		    strchr("()[]./-_'@ ", *s) == NULL))
			return 0;
	return 1;
}

/*
 * Borrows src. The plan of the copy of image src (in srcregion) to dest, named name (unless
 * NULL): what CopyImage is called with, the source's tags (which the copy gets), and the fields
 * a pipeline added to the source (not the encryption an earlier copy had, nor its Result).
 */
static jv
plan_record(const struct want *wt, jv src, const char *srcregion, const char *dest,
    const char *name)
{
	jv plan, tags, key, base;

	plan = JV_OBJECT(jv_string("SourceImageId"), jv_string(rec_str(src, "ImageId")),
	    jv_string("SourceRegion"), jv_string(srcregion), jv_string("Region"),
	    jv_string(dest));
	if (name != NULL)
		plan = jv_object_set(plan, jv_string("Name"), jv_string(name));
	if (rec_str(src, "OwnerId") != NULL)
		plan = jv_object_set(plan, jv_string("SourceAccount"), jv_string(rec_str(src, "OwnerId")));
	if (rec_str(src, "Description") != NULL)
		plan = jv_object_set(plan, jv_string("Description"),
		    jv_string(rec_str(src, "Description")));
	tags = jv_object_get(jv_copy(src), jv_string("Tags"));
	if (jv_get_kind(tags) == JV_KIND_ARRAY)
		plan = jv_object_set(plan, jv_string("Tags"), tags);
	else
		jv_free(tags);
	if (wt->encrypted) {
		plan = jv_object_set(plan, jv_string("Encrypted"), jv_true());
		key = jv_object_get(jv_copy(wt->kms), jv_string(dest));
		if (jv_get_kind(key) == JV_KIND_STRING)
			plan = jv_object_set(plan, jv_string("KmsKeyId"), key);
		else
			jv_free(key);
	}
	base = jv_object_delete(jv_copy(src), jv_string("Encrypted"));
	base = jv_object_delete(base, jv_string("KmsKeyId"));
	base = jv_object_delete(base, jv_string("Result"));
	return ec2res_merge(&ec2res_images, base, plan);
}

/* Borrows plan. CopyImage's params for it, with the ClientToken they give. */
static jv
copy_params(jv plan, int dryrun)
{
	jv p, enc, inputs, tags;
	char *token;

	p = JV_OBJECT(jv_string("SourceImageId"), jv_string(rec_str(plan, "SourceImageId")),
	    jv_string("SourceRegion"), jv_string(rec_str(plan, "SourceRegion")),
	    jv_string("Name"), jv_string(rec_str(plan, "Name")),
	    jv_string("CopyImageTags"), jv_true());
	if (rec_str(plan, "Description") != NULL)
		p = jv_object_set(p, jv_string("Description"),
		    jv_string(rec_str(plan, "Description")));
	enc = jv_object_get(jv_copy(plan), jv_string("Encrypted"));
	if (jv_get_kind(enc) == JV_KIND_TRUE) {
		p = jv_object_set(p, jv_string("Encrypted"), jv_true());
		if (rec_str(plan, "KmsKeyId") != NULL)
			p = jv_object_set(p, jv_string("KmsKeyId"),
			    jv_string(rec_str(plan, "KmsKeyId")));
	}
	jv_free(enc);
	tags = lineage_tags(plan);
	if (jv_array_length(jv_copy(tags)) > 0)
		p = jv_object_set(p, jv_string("TagSpecifications"), JV_ARRAY(JV_OBJECT(
		    jv_string("ResourceType"), jv_string("image"), jv_string("Tags"), tags)));
	else
		jv_free(tags);
	/* The same copy, the same token: the call's params and where it goes. */
	inputs = jv_object_set(jv_copy(p), jv_string("Region"), jv_string(rec_str(plan, "Region")));
	token = client_token(ACTION, inputs);
	jv_free(inputs);
	p = jv_object_set(p, jv_string("ClientToken"), jv_string(token));
	free(token);
	if (dryrun)
		p = jv_object_set(p, jv_string("DryRun"), jv_true());
	return p;
}

/* Consumes plan. Adds the copy it describes; returns it. */
static struct copy *
add_copy(struct run *r, jv plan)
{
	struct copy *c;

	r->copies = xreallocarray(r->copies, r->ncopies + 1, sizeof(*r->copies));
	c = &r->copies[r->ncopies++];
	memset(c, 0, sizeof(*c));
	c->source[0] = jv_object_get(jv_copy(plan), jv_string("SourceImageId"));
	c->source[1] = jv_object_get(jv_copy(plan), jv_string("SourceRegion"));
	c->params = jv_null();
	c->rec = plan;
	return c;
}

/* Checks the name of copy c, and that no other copy to its region has the same name. */
static void
check_name(struct run *r, const char *where, const struct copy *c)
{
	const char *name = rec_str(c->rec, "Name"), *region = rec_str(c->rec, "Region");
	jv key, src, had;

	if (!valid_name(name))
		data_errx(where, "name '%s': not an image name (3 to 128 letters, digits, spaces "
		    "and ()[]./-_'@)", name);
	key = jv_string_fmt("%s %s", region, name);
	src = jv_string_fmt("%s %s", jv_string_value(c->source[1]), jv_string_value(c->source[0]));
	had = jv_object_get(jv_copy(r->names), jv_copy(key));
	if (jv_is_valid(had) && !jv_equal(jv_copy(had), jv_copy(src)))
		data_errx(where, "two copies named '%s' in %s: %s and %s", name, region,
		    jv_string_value(had), jv_string_value(src));
	jv_free(had);
	r->names = jv_object_set(r->names, key, src);
}

/*
 * Borrows rec, read with its id in idfield: ImageId for an image to copy, SourceImageId (and no
 * ImageId) for a planned copy. Checks what mutate_read() does not; returns "FILE:LINE".
 */
static jv
check_record(struct jsonl *in, jv rec, const char *idfield, void *arg)
{
	static const char *const need[] = { "SourceRegion", "Name", NULL };
	const struct want *wt = arg;
	const char *const *f;
	jv enc;
	int kind;

	if (strcmp(idfield, "ImageId") == 0) {
		rec_require_image(in, rec);
		return jv_string_fmt("%s:%lu", in->name, in->lineno);
	}
	if (jv_array_length(jv_copy(wt->to)) > 0 || wt->named || wt->encrypted)
		jsonl_die(in, "a planned copy (SourceImageId, no ImageId) says where it goes, its "
		    "name and encryption: no --to, --name, --encrypted or --kms-key with it");
	for (f = need; *f != NULL; f++)
		if (rec_str(rec, *f) == NULL)
			jsonl_die(in, "a planned copy (SourceImageId, no ImageId) without a %s string",
			    *f);
	enc = jv_object_get(jv_copy(rec), jv_string("Encrypted"));
	kind = jv_get_kind(enc);
	jv_free(enc);
	if (kind != JV_KIND_INVALID && kind != JV_KIND_TRUE && kind != JV_KIND_FALSE)
		jsonl_die(in, "Encrypted: not true or false");
	if (rec_str(rec, "KmsKeyId") != NULL && kind != JV_KIND_TRUE)
		jsonl_die(in, "KmsKeyId without \"Encrypted\":true");
	return jv_string_fmt("%s:%lu", in->name, in->lineno);
}

static int
planned(const struct mrec *m)
{
	return strcmp(m->idfield, "SourceImageId") == 0;
}

/*
 * Describes the images to copy, so that their names, descriptions and tags are what EC2 has,
 * whatever the records say. A failed describe ends the program: nothing has been changed.
 */
static void
describe_sources(struct run *r)
{
	jv batch = jv_array(), fresh, f, tags;
	size_t i, j = 0;

	r->found = xcalloc(r->ninputs + 1, 1);
	for (i = 0; i < r->ninputs; i++)
		if (!planned(&r->inputs[i]))
			batch = jv_array_append(batch, jv_copy(r->inputs[i].rec));
	fresh = ec2res_refresh_or_exit(r->ec2, &ec2res_images, batch);
	for (i = 0; i < r->ninputs; i++) {
		if (planned(&r->inputs[i]))
			continue;
		f = jv_array_get(jv_copy(fresh), (int)j++);
		if ((r->found[i] = jv_get_kind(f) == JV_KIND_OBJECT)) {
			/*
			 * EC2 shows an image's tags to its owner only: a source shared from another
			 * account keeps the record's, its GitSha, Version and BuildUrl among them.
			 */
			tags = jv_object_get(jv_copy(r->inputs[i].rec), jv_string("Tags"));
			if (!jv_object_has(jv_copy(f), jv_string("Tags")) &&
			    jv_get_kind(tags) == JV_KIND_ARRAY)
				f = jv_object_set(f, jv_string("Tags"), tags);
			else
				jv_free(tags);
			jv_free(r->inputs[i].rec);
			r->inputs[i].rec = f;
		} else
			jv_free(f);
	}
	jv_free(fresh);
}

/* The copies of input i: the image to each --to region, else to its own region. */
static void
image_copies(struct run *r, size_t i, const struct want *wt)
{
	const struct mrec *m = &r->inputs[i];
	const char *id = mrec_id(m), *region = mrec_region(m), *where = jv_string_value(m->aux);
	struct copy *c;
	char *name;

	jv to = jv_array_length(jv_copy(wt->to)) > 0 ? jv_copy(wt->to) : JV_ARRAY(jv_string(region));

	if (!r->found[i])
		warnx("%s %s: no such image", region, id);
	jv_array_foreach(to, j, dest) {
		name = expand(wt->name, rec_str(m->rec, "Name"), id, region, jv_string_value(dest));
		if (name == NULL && r->found[i])
			data_errx(where, "%s: no Name, which --name '%s' uses", id, wt->name);
		c = add_copy(r, plan_record(wt, m->rec, region, jv_string_value(dest), name));
		free(name);
		jv_free(dest);
		if (r->found[i])
			check_name(r, where, c);
		else {
			xasprintf(&name, "no image %s in %s", id, region);
			outcome_set_reason(&c->o, RESULT_FAILED, name);
			free(name);
		}
	}
	jv_free(to);
}

/*
 * 1 if copy c would be its source itself: the same region, and the source is in the account
 * calls are made in (asked of STS only then, once). An image another account shared is copied
 * into this one even in its own region.
 */
static int
is_source(struct run *r, const struct copy *c)
{
	const char *owner = rec_str(c->rec, "SourceAccount");

	if (strcmp(rec_str(c->rec, "Region"), rec_str(c->rec, "SourceRegion")) != 0)
		return 0;
	return owner == NULL || strcmp(owner, awsopt_account(r->ao, r->ec2)) == 0;
}

/* The copy to a region the image is in already: the image itself. */
static void
skip(struct copy *c, int dryrun)
{
	char *why;

	xasprintf(&why, "the image is in %s already", rec_str(c->rec, "Region"));
	outcome_set_reason(&c->o, RESULT_SKIPPED, why);
	free(why);
	c->rec = jv_object_delete(c->rec, jv_string("Encrypted"));
	c->rec = jv_object_delete(c->rec, jv_string("KmsKeyId"));
	if (!dryrun)
		c->rec = jv_object_set(c->rec, jv_string("ImageId"), jv_copy(c->source[0]));
}

/*
 * The copies the inputs make, in order: each image to each --to region, each planned copy, and
 * what each needs: a call (its params), or nothing (skipped: the image is in that region).
 */
static void
plan_copies(struct run *r, const struct want *wt)
{
	struct copy *c;
	size_t i;

	for (i = 0; i < r->ninputs; i++) {
		if (!planned(&r->inputs[i])) {
			image_copies(r, i, wt);
			continue;
		}
		c = add_copy(r, jv_object_delete(r->inputs[i].rec, jv_string("Result")));
		r->inputs[i].rec = jv_null();
		check_name(r, jv_string_value(r->inputs[i].aux), c);
	}
	for (i = 0; i < r->ncopies; i++) {
		c = &r->copies[i];
		if (c->o.status != RESULT_NONE)
			continue;
		if (is_source(r, c))
			skip(c, wt->dryrun);
		else {
			c->rec = with_lineage(c->rec);
			c->params = copy_params(c->rec, wt->dryrun);
		}
	}
}

static void
copy_done(const struct ec2_result *res, void *arg)
{
	struct copy *c = arg;
	struct run *r = c->run;
	jv id;

	outcome_set(&c->o, res, r->dryrun);
	if (res->code != NULL && ec2_gone(res->code)) {
		/* A source gone makes no copy: a failure, not the skip it is for a deletion. */
		c->o.status = RESULT_FAILED;
		free(c->o.reason);
		c->o.reason = xstrdup(res->diag);
	}
	if (res->code == NULL) {
		id = jv_object_get(jv_copy(res->out), jv_string("ImageId"));
		if (jv_get_kind(id) == JV_KIND_STRING)
			c->rec = jv_object_set(c->rec, jv_string("ImageId"), id);
		else {
			jv_free(id);
			c->o.status = RESULT_FAILED;
			xasprintf(&c->o.reason, "%s: CopyImage: no ImageId in the answer",
			    res->region);
		}
	}
	if (c->o.status == RESULT_FAILED)
		warnx("%s", c->o.reason);
}

/*
 * Calls CopyImage for every copy due, -P at a time in input order (the queue of lib/ec2); those an
 * interrupt kept from starting come back interrupted.
 */
static void
copy_all(struct run *r)
{
	struct copy *c;
	size_t i, left = 0;

	for (i = 0; i < r->ncopies; i++) {
		c = &r->copies[i];
		if (jv_get_kind(c->params) != JV_KIND_OBJECT)
			continue;
		c->run = r;
		ec2_submit(r->ec2, rec_str(c->rec, "Region"), "CopyImage", jv_copy(c->params),
		    copy_done, c);
	}
	ec2_run(r->ec2);
	for (i = 0; i < r->ncopies; i++)
		left += r->copies[i].o.status == RESULT_INTERRUPTED;
	if (left > 0)
		warnx("interrupted: %zu cop%s not started", left, left == 1 ? "y" : "ies");
}

/* 1 if c stands for an image: a copy made, or a destination the image is in already. */
static int
has_image(const struct copy *c)
{
	return c->o.status == RESULT_DONE || c->o.status == RESULT_SKIPPED;
}

/*
 * Describes the images of copies (those made, and sources already in a destination): once, or
 * with wait until each is available or timeout_s has passed. Their records become the images
 * as described, keeping the plan's own fields; one that does not become available fails.
 */
static void
describe_copies(struct run *r, int wait, int64_t timeout_s, const char *timeout)
{
	struct ec2wait w;
	struct copy *c;
	jv batch = jv_array(), fresh, msg, f;
	size_t i, j = 0;
	char *why;

	for (i = 0; i < r->ncopies; i++)
		if (has_image(&r->copies[i]))
			batch = jv_array_append(batch, jv_copy(r->copies[i].rec));
	if (wait) {
		ec2wait(r->ec2, batch, EC2WAIT_AVAILABLE, timeout_s, &w);
		for (i = 0; i < r->ncopies; i++) {
			if (!has_image(c = &r->copies[i]))
				continue;
			jv_free(c->rec);
			c->rec = jv_array_get(jv_copy(w.recs), (int)j);
			if ((why = ec2wait_why(&w, j, timeout)) != NULL) {
				c->o.status = RESULT_FAILED;
				free(c->o.reason);
				c->o.reason = why;
			}
			j++;
		}
		ec2wait_free(&w);
		return;
	}
	fresh = ec2res_refresh(r->ec2, &ec2res_images, batch);
	if (!jv_is_valid(fresh)) {
		/* The copies are made; only their description is missing. */
		msg = jv_invalid_get_msg(fresh);
		warnx("describing the copies: %s", jv_string_value(msg));
		jv_free(msg);
		return;
	}
	for (i = 0; i < r->ncopies; i++) {
		if (!has_image(c = &r->copies[i]))
			continue;
		f = jv_array_get(jv_copy(fresh), (int)j++);
		if (jv_get_kind(f) == JV_KIND_OBJECT) {
			jv_free(c->rec);
			c->rec = f;
		} else
			jv_free(f);
	}
	jv_free(fresh);
}

/* The output record of c: the image or plan, its source, its Result. */
static jv
result(const struct copy *c, int *status)
{
	jv rec;

	/* EC2's describe may leave out SourceImageId: the plan's is the truth. */
	rec = jv_object_set(jv_copy(c->rec), jv_string("SourceImageId"), jv_copy(c->source[0]));
	rec = jv_object_set(rec, jv_string("SourceRegion"), jv_copy(c->source[1]));
	if (c->o.status == RESULT_FAILED || c->o.status == RESULT_INTERRUPTED)
		*status = EXIT_FAIL;
	return rec_result(rec, ACTION, c->o.status, c->o.reason, c->o.request_id);
}

static void
run_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->ninputs; i++) {
		jv_free(r->inputs[i].rec);
		jv_free(r->inputs[i].aux);
	}
	for (i = 0; i < r->ncopies; i++) {
		jv_free(r->copies[i].rec);
		jv_free(r->copies[i].params);
		jv_free(r->copies[i].source[0]);
		jv_free(r->copies[i].source[1]);
		free(r->copies[i].o.reason);
		free(r->copies[i].o.request_id);
	}
	free(r->inputs);
	free(r->found);
	free(r->copies);
	jv_free(r->names);
	ec2_free(r->ec2);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		AWSOPT_LONGOPTS,
		{ "encrypted",		no_argument,		NULL,	OPT_ENCRYPTED },
		{ "help",		no_argument,		NULL,	'h' },
		{ "kms-key",		required_argument,	NULL,	OPT_KMS_KEY },
		{ "name",		required_argument,	NULL,	OPT_NAME },
		{ "timeout",		required_argument,	NULL,	OPT_TIMEOUT },
		{ "to",			required_argument,	NULL,	OPT_TO },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ "wait",		no_argument,		NULL,	OPT_WAIT },
		{ NULL,			0,			NULL,	0 }
	};
	struct awsopt o;
	struct want wt = { jv_array(), NAME_DEFAULT, 0, 0, jv_object(), 0 };
	static const char *const idfields[] = { "ImageId", "SourceImageId", NULL };
	struct run r = { 0 };
	const char *timeout = NULL, *eq;
	int64_t timeout_s;
	size_t i;
	int ch, wait = 0, status = EXIT_OK;

	out_init();
	awsopt_init(&o);
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case OPT_ENCRYPTED:
			wt.encrypted = 1;
			break;
		case 'h':
			usage();
		case OPT_KMS_KEY:
			if ((eq = strchr(optarg, '=')) == NULL || eq == optarg || eq[1] == '\0')
				usage_error("--kms-key '%s': expected REGION=KEY", optarg);
			wt.kms = jv_object_set(wt.kms, jv_string_sized(optarg, (int)(eq - optarg)),
			    jv_string(eq + 1));
			break;
		case OPT_NAME:
			check_template(optarg);
			wt.name = optarg;
			wt.named = 1;
			break;
		case OPT_TIMEOUT:
			timeout = optarg;
			break;
		case OPT_TO:
			wt.to = add_regions(wt.to, optarg);
			break;
		case OPT_VERSION:
			print_version();
		case OPT_WAIT:
			wait = 1;
			break;
		default:
			if (awsopt_parse(&o, ch, optarg))
				break;
			usage_error(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	wt.dryrun = o.dryrun;
	if (jv_object_length(jv_copy(wt.kms)) > 0 && !wt.encrypted)
		usage_error("--kms-key: only with --encrypted");
	check_kms(&wt);
	if (timeout != NULL && !wait)
		usage_error("--timeout: only with --wait");
	if (timeout == NULL)
		timeout = EC2WAIT_TIMEOUT_IMAGES;
	timeout_s = ec2wait_timeout(timeout);

	r.ec2 = awsopt_client(&o);
	r.ao = &o;
	r.dryrun = o.dryrun;
	r.names = jv_object();
	r.inputs = mutate_read(argv, ec2_region(r.ec2), idfields, check_record, &wt, &r.ninputs);
	describe_sources(&r);
	plan_copies(&r, &wt);
	intr_catch();
	copy_all(&r);
	/* Interrupted, no more calls start: the copies are printed as CopyImage answered. */
	if (!r.dryrun && !intr_signal())
		describe_copies(&r, wait, timeout_s, timeout);
	for (i = 0; i < r.ncopies; i++)
		out_record(result(&r.copies[i], &status));

	run_free(&r);
	jv_free(wt.to);
	jv_free(wt.kms);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
