/*
 * copy-image promotes images to other regions. It describes the images it reads, then for each
 * image and each destination calls CopyImage in the destination region, copying the image's
 * tags, with a ClientToken made from what the copy is (source, destination, name, encryption),
 * so that a retried call or a re-run returns the image made the first time instead of making
 * another. It prints one record per copy: the new image as EC2 describes it, with SourceImageId
 * and SourceRegion, or with --wait as it is once available. A dry run prints the plan, one
 * record per copy without an ImageId, and copy-image applies such a plan when it reads it back.
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
#include "jsonl.h"
#include "out.h"
#include "record.h"
#include "util.h"

#define ACTION		"copy-image"
#define NAME_DEFAULT	"{name}"

enum {
	OPT_ENCRYPTED = 0x200,
	OPT_KMS_KEY,
	OPT_NAME,
	OPT_TIMEOUT,
	OPT_TO,
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

/* An input record: an image to copy, or a planned copy. */
struct input {
	jv		 rec;		/* with its Region; an image as DescribeImages has it */
	char		*where;		/* FILE:LINE, for messages */
	int		 planned;	/* SourceImageId and no ImageId */
	int		 found;		/* an image DescribeImages found */
};

/* One copy of one image to one region. */
struct copy {
	jv		 rec;		/* the plan of the copy; then the new image */
	jv		 source[2];	/* SourceImageId, SourceRegion */
	jv		 params;	/* CopyImage's, ClientToken included; null if not called */
	const char	*status;	/* Result.Status; NULL until the call ends */
	char		*reason;
	char		*request_id;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: copy-image --to REGION... [--name TEMPLATE] [--encrypted [--kms-key REGION=KEY]...]\n"
	    "           [--wait [--timeout DURATION]] " AWSOPT_USAGE "\n"
	    "           [FILE ...]\n");
	exit(status);
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
			errx(EXIT_USAGE, "--to '%s': expected regions like us-east-1,eu-west-1", arg);
		r = jv_string_sized(p, (int)(end - p));
		if (!has_region(to, jv_string_value(r)))
			to = jv_array_append(to, r);
		else
			jv_free(r);
		if (*end == '\0')
			return to;
	}
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
		errx(EXIT_USAGE, "--kms-key %s=...: %s is not a region of --to", bad, bad);
}

static void
check_template(const char *template)
{
	const char *t;

	for (t = template; *t != '\0'; t++)
		if (*t == '{' && placeholder(t) == -1)
			errx(EXIT_USAGE, "--name '%s': unknown placeholder at '%s' (expected {name}, "
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
	jv p, enc, inputs;
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

/* What a run has read and planned. */
struct run {
	struct input	*inputs;
	size_t		 ninputs;
	struct copy	*copies;
	size_t		 ncopies;
	jv		 names;		/* "REGION NAME" -> "SOURCEREGION SOURCEID" of each copy */
};

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
	static char why[512];
	const char *name = rec_str(c->rec, "Name"), *region = rec_str(c->rec, "Region");
	jv key, src, had;

	if (!valid_name(name))
		errx(EXIT_DATA, "%s: name '%s': not an image name (3 to 128 letters, digits, spaces "
		    "and ()[]./-_'@)", where, name);
	key = jv_string_fmt("%s %s", region, name);
	src = jv_string_fmt("%s %s", jv_string_value(c->source[1]), jv_string_value(c->source[0]));
	had = jv_object_get(jv_copy(r->names), jv_copy(key));
	if (jv_is_valid(had) && !jv_equal(jv_copy(had), jv_copy(src))) {
		snprintf(why, sizeof(why), "two copies named '%s' in %s: %s and %s", name, region,
		    jv_string_value(had), jv_string_value(src));
		jv_free(key);
		jv_free(src);
		jv_free(had);
		errx(EXIT_DATA, "%s: %s", where, why);
	}
	jv_free(had);
	r->names = jv_object_set(r->names, key, src);
}

/* Consumes rec, an image record; checks it and returns it with its Region. */
static jv
check_image(struct jsonl *in, jv rec, const struct want *wt, const char *defregion)
{
	static char why[512];
	const char *region = NULL;

	if (ec2res_of(rec) == &ec2res_instances)
		snprintf(why, sizeof(why), "an instance record (InstanceId), not an image");
	else if (ec2res_of(rec) != &ec2res_images)
		snprintf(why, sizeof(why), "no ImageId string (nor SourceImageId, as a planned copy "
		    "has)");
	else if (rec_str(rec, "ImageId") == NULL)
		snprintf(why, sizeof(why), "empty ImageId");
	else if ((region = ec2res_region(rec, defregion)) == NULL)
		snprintf(why, sizeof(why), "no Region string, and no region configured");
	else if (jv_array_length(jv_copy(wt->to)) == 0) {
		snprintf(why, sizeof(why), "%s: nowhere to copy it: no --to",
		    rec_str(rec, "ImageId"));
		region = NULL;
	}
	if (region == NULL) {
		jv_free(rec);
		jsonl_die(in, "%s", why);
	}
	return jv_object_set(rec, jv_string("Region"), jv_string(region));
}

/* Consumes rec, a planned copy (SourceImageId and no ImageId); checks it and returns it. */
static jv
check_planned(struct jsonl *in, jv rec, const struct want *wt)
{
	static const char *const need[] = { "SourceImageId", "SourceRegion", "Region", "Name", NULL };
	static char why[512];
	const char *const *f;
	jv enc;
	int kind;

	why[0] = '\0';
	enc = jv_object_get(jv_copy(rec), jv_string("Encrypted"));
	kind = jv_get_kind(enc);
	jv_free(enc);
	if (jv_array_length(jv_copy(wt->to)) > 0 || wt->named || wt->encrypted)
		snprintf(why, sizeof(why), "a planned copy (SourceImageId, no ImageId) says where it "
		    "goes, its name and encryption: no --to, --name, --encrypted or --kms-key with it");
	for (f = need; why[0] == '\0' && *f != NULL; f++)
		if (rec_str(rec, *f) == NULL)
			snprintf(why, sizeof(why), "a planned copy (SourceImageId, no ImageId) "
			    "without a %s string", *f);
	if (why[0] == '\0' && kind != JV_KIND_INVALID && kind != JV_KIND_TRUE &&
	    kind != JV_KIND_FALSE)
		snprintf(why, sizeof(why), "Encrypted: not true or false");
	if (why[0] == '\0' && rec_str(rec, "KmsKeyId") != NULL && kind != JV_KIND_TRUE)
		snprintf(why, sizeof(why), "KmsKeyId without \"Encrypted\":true");
	if (why[0] != '\0') {
		jv_free(rec);
		jsonl_die(in, "%s", why);
	}
	return jv_object_delete(rec, jv_string("Result"));
}

/* Reads and checks every record before anything is called, into r->inputs, in order. */
static void
read_inputs(struct run *r, struct jsonl *in, const struct want *wt, const char *defregion)
{
	struct input *p;
	jv rec;

	while (jv_is_valid(rec = jsonl_next(in))) {
		r->inputs = xreallocarray(r->inputs, r->ninputs + 1, sizeof(*r->inputs));
		p = &r->inputs[r->ninputs];
		p->rec = jv_null();
		p->where = jsonl_where(in);
		p->planned = ec2res_of(rec) == NULL &&
		    jv_object_has(jv_copy(rec), jv_string("SourceImageId"));
		p->found = 0;
		r->ninputs++;
		p->rec = p->planned ? check_planned(in, rec, wt) :
		    check_image(in, rec, wt, defregion);
	}
}

/*
 * Describes the images to copy, so that their names, descriptions and tags are what EC2 has,
 * whatever the records say. A failed describe ends the program: nothing has been changed.
 */
static void
describe_sources(struct ec2 *ec2, struct run *r)
{
	static char why[1024];
	jv batch = jv_array(), fresh, msg, f;
	size_t i, j = 0;

	for (i = 0; i < r->ninputs; i++)
		if (!r->inputs[i].planned)
			batch = jv_array_append(batch, jv_copy(r->inputs[i].rec));
	fresh = ec2res_refresh(ec2, &ec2res_images, batch);
	if (!jv_is_valid(fresh)) {
		msg = jv_invalid_get_msg(fresh);
		snprintf(why, sizeof(why), "%s", jv_string_value(msg));
		jv_free(msg);
		errx(EXIT_FAIL, "%s", why);
	}
	for (i = 0; i < r->ninputs; i++) {
		if (r->inputs[i].planned)
			continue;
		f = jv_array_get(jv_copy(fresh), (int)j++);
		if ((r->inputs[i].found = jv_get_kind(f) == JV_KIND_OBJECT)) {
			jv_free(r->inputs[i].rec);
			r->inputs[i].rec = f;
		} else
			jv_free(f);
	}
	jv_free(fresh);
}

/* The copies of input p: the image to each --to region. */
static void
image_copies(struct run *r, const struct input *p, const struct want *wt)
{
	static char why[512];
	const char *id = rec_str(p->rec, "ImageId"), *region = rec_str(p->rec, "Region");
	struct copy *c;
	char *name;

	if (!p->found)
		warnx("%s %s: no such image", region, id);
	jv_array_foreach(wt->to, j, dest) {
		name = expand(wt->name, rec_str(p->rec, "Name"), id, region, jv_string_value(dest));
		if (name == NULL && p->found) {
			snprintf(why, sizeof(why), "%s: no Name, which --name '%s' uses", id, wt->name);
			jv_free(dest);
			errx(EXIT_DATA, "%s: %s", p->where, why);
		}
		c = add_copy(r, plan_record(wt, p->rec, region, jv_string_value(dest), name));
		free(name);
		jv_free(dest);
		if (p->found)
			check_name(r, p->where, c);
		else {
			c->status = "failed";
			xasprintf(&c->reason, "no image %s in %s", id, region);
		}
	}
}

/* The copies the inputs make, in order: each image to each --to region, each planned copy. */
static void
plan_copies(struct run *r, const struct want *wt)
{
	struct input *p;
	size_t i;

	for (i = 0; i < r->ninputs; i++) {
		p = &r->inputs[i];
		if (p->planned) {
			check_name(r, p->where, add_copy(r, p->rec));
			p->rec = jv_null();
		} else
			image_copies(r, p, wt);
	}
}

static void
copy_done(const struct ec2_result *res, void *arg)
{
	struct copy *c = arg;
	jv id;

	if (res->request_id != NULL)
		c->request_id = xstrdup(res->request_id);
	if (res->code == NULL) {
		id = jv_object_get(jv_copy(res->out), jv_string("ImageId"));
		if (jv_get_kind(id) == JV_KIND_STRING) {
			c->rec = jv_object_set(c->rec, jv_string("ImageId"), id);
			c->status = "done";
			return;
		}
		jv_free(id);
		c->reason = xstrdup("CopyImage answered without an ImageId");
		warnx("%s: CopyImage: %s", res->region, c->reason);
	} else if (strcmp(res->code, "DryRunOperation") == 0) {
		c->status = "dry-run";
		return;
	} else {
		warnx("%s", res->diag);
		xasprintf(&c->reason, "%s: %s", res->code, res->message);
	}
	c->status = "failed";
}

/* Queues the CopyImage call of c, or settles it at once: a copy to its own region is skipped. */
static void
copy_submit(struct ec2 *ec2, struct copy *c, int dryrun)
{
	const char *dest = rec_str(c->rec, "Region");

	if (c->status != NULL)
		return;
	if (strcmp(dest, rec_str(c->rec, "SourceRegion")) == 0) {
		c->status = "skipped";
		xasprintf(&c->reason, "the image is in %s already", dest);
		/* The image promoted to this region is the source itself, as it is. */
		c->rec = jv_object_delete(c->rec, jv_string("Encrypted"));
		c->rec = jv_object_delete(c->rec, jv_string("KmsKeyId"));
		if (!dryrun)
			c->rec = jv_object_set(c->rec, jv_string("ImageId"),
			    jv_string(rec_str(c->rec, "SourceImageId")));
		return;
	}
	c->params = copy_params(c->rec, dryrun);
	ec2_submit(ec2, dest, "CopyImage", jv_copy(c->params), copy_done, c);
}

static void
run_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->ninputs; i++) {
		jv_free(r->inputs[i].rec);
		free(r->inputs[i].where);
	}
	for (i = 0; i < r->ncopies; i++) {
		jv_free(r->copies[i].rec);
		jv_free(r->copies[i].params);
		jv_free(r->copies[i].source[0]);
		jv_free(r->copies[i].source[1]);
		free(r->copies[i].reason);
		free(r->copies[i].request_id);
	}
	free(r->inputs);
	free(r->copies);
	jv_free(r->names);
}

/* 1 if c stands for an image: a copy made, or a destination the image is in already. */
static int
has_image(const struct copy *c)
{
	return strcmp(c->status, "done") == 0 || strcmp(c->status, "skipped") == 0;
}

/*
 * Describes the images of copies (those made, and sources already in a destination): once, or
 * with wait until each is available or timeout_s has passed. Their records become the images
 * as described, keeping the plan's own fields; one that does not become available fails.
 */
static void
describe_copies(struct ec2 *ec2, struct copy *copies, size_t n, int wait, int64_t timeout_s,
    const char *timeout)
{
	struct ec2wait w;
	jv batch = jv_array(), fresh, msg, f;
	size_t i, j = 0;
	char *why;

	for (i = 0; i < n; i++)
		if (has_image(&copies[i]))
			batch = jv_array_append(batch, jv_copy(copies[i].rec));
	if (wait) {
		ec2wait(ec2, batch, EC2WAIT_AVAILABLE, timeout_s, &w);
		for (i = 0; i < n; i++) {
			if (!has_image(&copies[i]))
				continue;
			jv_free(copies[i].rec);
			copies[i].rec = jv_array_get(jv_copy(w.recs), (int)j);
			if ((why = ec2wait_why(&w, j, timeout)) != NULL) {
				copies[i].status = "failed";
				free(copies[i].reason);
				copies[i].reason = why;
			}
			j++;
		}
		ec2wait_free(&w);
		return;
	}
	fresh = ec2res_refresh(ec2, &ec2res_images, batch);
	if (!jv_is_valid(fresh)) {
		/* The copies are made; only their description is missing. */
		msg = jv_invalid_get_msg(fresh);
		warnx("describing the copies: %s", jv_string_value(msg));
		jv_free(msg);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!has_image(&copies[i]))
			continue;
		f = jv_array_get(jv_copy(fresh), (int)j++);
		if (jv_get_kind(f) == JV_KIND_OBJECT) {
			jv_free(copies[i].rec);
			copies[i].rec = f;
		} else
			jv_free(f);
	}
	jv_free(fresh);
}

/* The output record of c: the image or plan, its source, its Result. */
static jv
result(struct copy *c, int *status)
{
	jv rec;

	/* EC2's describe may leave out SourceImageId: the plan's is the truth. */
	rec = jv_object_set(jv_copy(c->rec), jv_string("SourceImageId"), jv_copy(c->source[0]));
	rec = jv_object_set(rec, jv_string("SourceRegion"), jv_copy(c->source[1]));
	if (strcmp(c->status, "failed") == 0)
		*status = EXIT_FAIL;
	return rec_result(rec, ACTION, c->status, c->reason, c->request_id);
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
		{ "version",		no_argument,		NULL,	'V' },
		{ "wait",		no_argument,		NULL,	OPT_WAIT },
		{ NULL,			0,			NULL,	0 }
	};
	struct awsopt o;
	struct want wt = { jv_array(), NAME_DEFAULT, 0, 0, jv_object(), 0 };
	struct jsonl in;
	struct ec2 *ec2;
	/* Static, so that what it holds is reachable, not lost, when bad input ends the program. */
	static struct run r;
	const char *timeout = NULL, *eq;
	int64_t timeout_s;
	size_t i;
	int ch, wait = 0, status = EXIT_OK;

	out_init();
	awsopt_init(&o);
	while ((ch = getopt_long(argc, argv, "hP:", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_ENCRYPTED:
			wt.encrypted = 1;
			break;
		case 'h':
			usage(EXIT_OK);
		case OPT_KMS_KEY:
			if ((eq = strchr(optarg, '=')) == NULL || eq == optarg || eq[1] == '\0')
				errx(EXIT_USAGE, "--kms-key '%s': expected REGION=KEY", optarg);
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
		case 'V':
			print_version();
		case OPT_WAIT:
			wait = 1;
			break;
		default:
			if (awsopt_parse(&o, ch, optarg))
				break;
			usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	wt.dryrun = o.dryrun;
	if (jv_object_length(jv_copy(wt.kms)) > 0 && !wt.encrypted)
		errx(EXIT_USAGE, "--kms-key: only with --encrypted");
	check_kms(&wt);
	if (timeout != NULL && !wait)
		errx(EXIT_USAGE, "--timeout: only with --wait");
	if (timeout == NULL)
		timeout = EC2WAIT_TIMEOUT_IMAGES;
	timeout_s = ec2wait_timeout(timeout);

	ec2 = awsopt_client(&o);
	r.names = jv_object();
	jsonl_open(&in, argv);
	read_inputs(&r, &in, &wt, ec2_region(ec2));
	jsonl_close(&in);
	describe_sources(ec2, &r);
	plan_copies(&r, &wt);

	for (i = 0; i < r.ncopies; i++)
		copy_submit(ec2, &r.copies[i], wt.dryrun);
	ec2_run(ec2);
	if (!wt.dryrun)
		describe_copies(ec2, r.copies, r.ncopies, wait, timeout_s, timeout);
	for (i = 0; i < r.ncopies; i++)
		out_record(result(&r.copies[i], &status));

	run_free(&r);
	jv_free(wt.to);
	jv_free(wt.kms);
	ec2_free(ec2);
	ch = out_close();
	return status != EXIT_OK ? status : ch;
}
