/*
 * amicycle-summary: turn a run's records into a Markdown summary for people: the images built
 * (region, name, git sha, build URL), the test results per check, the promotions (environment,
 * account, region, new image), the cleanup (retired, kept, skipped with the reason), the snapshots a
 * sweep deleted or kept (delete-snapshot's records), the channels published or rolled back
 * (publish's records), the images of a revoked family (image-revoke's), the calls of
 * the audit log, and a Mermaid diagram of the lineage: commit -> build -> image -> copies ->
 * environments. It reads every record the make fragments leave in .amicycle and classifies each
 * by its fields, not by the name of its file, so any mix of files (or cat of them) will do; records
 * it has no use for are left out. Record text is data from outside: it is escaped so that it stays
 * inside its table cell or diagram label. Nothing is printed until every record has been read.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "endpoint.h"
#include "jsonl.h"
#include "out.h"
#include "record.h"
#include "strmap.h"
#include "util.h"

enum {
	OPT_VERSION = OPT_FIRST
};

/* What is known of an image, merged from every record that names it. */
struct image {
	char	*region, *id;
	char	*name, *owner, *created;
	char	*build_sha, *tag_sha;	/* the manifest's custom_data git_sha; the GitSha tag */
	char	*build_url, *tag_url;	/* custom_data build_url; the BuildUrl tag */
	char	*build_no, *run, *build_name;	/* custom_data build_number; Packer's run */
	char	*src_region, *src_id;	/* a copy's source */
	int	 built;			/* in a record of ami-from-manifest */
	int	 listed;		/* listed by ec2-describe (before a cleanup) */
	int	 copied;		/* made by copy-image in this run */
	int	 node;			/* in the lineage diagram */
	char	*action, *status, *reason;	/* the last deregister or deprecate Result */
};

struct instance {
	char	*id, *image, *region;
};

struct check {
	char	*instance, *name, *reason;
	int	 passed;
	double	 ms;		/* -1: unknown */
};

/* A tag record with an Environment tag, or a copy-image record. */
struct promotion {
	char	*env, *region, *image, *src_region, *src_id, *owner, *status, *reason;
	char	*src_account;	/* a copy's SourceAccount */
};

/* What delete-snapshot made of a snapshot. */
struct snapshot {
	char	*region, *id, *started, *status, *reason;
};

/* A record of publish: a channel (an SSM parameter or a launch template) and what it holds now. */
struct chan {
	char	*channel, *account, *region;
	char	*now;		/* the image the channel holds after it (or would) */
	char	*version, *previous, *status, *reason;
};

/* An image of a revoked family (image-revoke's record) and the status of each step. */
struct revoked {
	char	*region, *id, *account, *root, *depth, *why;
	char	*step[4];	/* Tag, Deprecate, Share, Disable */
	char	*status;
};

/* The audit log's calls, counted by program, action and region. */
struct calls {
	char	*program, *action, *region;
	long	 done, dryrun, failed;
};

struct summary {
	struct image	 *images;
	size_t		  nimages;
	jv		  index;	/* "REGION ID": the image's index; a cleanup lists thousands */
	struct instance	 *instances;
	size_t		  ninstances;
	struct check	 *checks;
	size_t		  nchecks;
	struct promotion *promotions;
	size_t		  npromotions;
	struct calls	 *calls;
	size_t		  ncalls;
	struct snapshot	 *snapshots;
	size_t		  nsnapshots;
	jv		  snapindex;	/* "REGION ID": the snapshot's index; a sweep has thousands */
	jv		  seen;		/* publish's and image-revoke's records read, as JSON text */
	struct chan	 *chans;
	size_t		  nchans;
	struct revoked	 *revoked;
	size_t		  nrevoked;
};

/* The steps of a revocation, as its Revoke names them. */
static const char *const revoke_steps[] = { "Tag", "Deprecate", "Share", "Disable", NULL };

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: amicycle-summary [--title=TITLE] [FILE ...]\n"
	    "Summarise a run's records (.amicycle/*.jsonl, the audit log) in Markdown:\n"
	    "tables and a Mermaid diagram of the images' lineage.\n"
	    "\n"
	    "  -t, --title=TITLE        the summary's heading (default amicycle)\n");
}

/* Sets *dst to a copy of s, unless *dst is set already or s is NULL. */
static void
setstr(char **dst, const char *s)
{
	if (*dst == NULL && s != NULL)
		*dst = xstrdup(s);
}

/* Replaces *dst with a copy of s (or NULL). */
static void
replstr(char **dst, const char *s)
{
	free(*dst);
	*dst = s != NULL ? xstrdup(s) : NULL;
}

/* Borrows rec. The object rec.field, or jv_null(); the caller frees it. */
static jv
member(jv rec, const char *field)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(field));

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return jv_null();
	}
	return v;
}

static int
streq(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Consumes key, "REGION ID". The index of its image in s, or -1. */
static int
image_index(const struct summary *s, jv key)
{
	jv v = jv_object_get(jv_copy(s->index), key);
	int i = jv_get_kind(v) == JV_KIND_NUMBER ? (int)jv_number_value(v) : -1;

	jv_free(v);
	return i;
}

static struct image *
image_find(const struct summary *s, const char *region, const char *id)
{
	int i;

	if (region == NULL || id == NULL)
		return NULL;
	i = image_index(s, jv_string_fmt("%s %s", region, id));
	return i >= 0 ? &s->images[i] : NULL;
}

/* The image region/id, added when it is new. */
static struct image *
image_get(struct summary *s, const char *region, const char *id)
{
	struct image *im;

	if ((im = image_find(s, region, id)) != NULL)
		return im;
	s->index = jv_object_set(s->index, jv_string_fmt("%s %s", region, id),
	    jv_number((double)s->nimages));
	s->images = xreallocarray(s->images, s->nimages + 1, sizeof(*s->images));
	im = &s->images[s->nimages++];
	memset(im, 0, sizeof(*im));
	im->region = xstrdup(region);
	im->id = xstrdup(id);
	return im;
}

/* Borrows obj. Each of fields that obj has (and is not null) holds an id of its resource. */
static void
check_fields(struct jsonl *in, jv obj, const char *const *fields)
{
	size_t i;
	jv v;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return;
	for (i = 0; fields[i] != NULL; i++) {
		v = jv_object_get(jv_copy(obj), jv_string(fields[i]));
		if (jv_get_kind(v) != JV_KIND_INVALID && jv_get_kind(v) != JV_KIND_NULL)
			jv_free(rec_require_id(in, jv_copy(obj), fields[i]));
		jv_free(v);
	}
}

/*
 * Borrows rec. The checks every record gets before its text is used: its ids are ids (publish's
 * Published and image-revoke's Lineage included) and its Region a region name. The audit log's
 * lines are not checked here: their Region may be empty.
 */
static void
check_ids(struct jsonl *in, jv rec)
{
	static const char *const idfields[] = { "ImageId", "SourceImageId", "InstanceId",
		"SnapshotId", NULL };
	static const char *const published[] = { "ImageId", "PreviousImageId", "LaunchTemplateId",
		NULL };
	static const char *const lineage[] = { "Root", "Parent", NULL };
	const char *region;
	jv v;

	check_fields(in, rec, idfields);
	v = member(rec, "Published");
	check_fields(in, v, published);
	jv_free(v);
	v = member(rec, "Lineage");
	check_fields(in, v, lineage);
	jv_free(v);
	v = jv_object_get(jv_copy(rec), jv_string("Region"));
	if (jv_get_kind(v) != JV_KIND_INVALID && jv_get_kind(v) != JV_KIND_NULL &&
	    ((region = rec_str(rec, "Region")) == NULL || !aws_region_valid(region)))
		jsonl_die(in, "Region is not a region name");
	jv_free(v);
}

/* Borrows rec, an image record. Merges what it says of its image into the image's entry. */
static struct image *
image_merge(struct summary *s, jv rec)
{
	struct image *im;
	jv packer, custom;

	im = image_get(s, rec_str(rec, "Region"), rec_str(rec, "ImageId"));
	setstr(&im->name, rec_str(rec, "Name"));
	setstr(&im->owner, rec_str(rec, "OwnerId"));
	setstr(&im->created, rec_str(rec, "CreationDate"));
	setstr(&im->tag_sha, rec_tag(rec, "GitSha"));
	setstr(&im->tag_url, rec_tag(rec, "BuildUrl"));
	packer = member(rec, "Packer");
	if (jv_get_kind(packer) == JV_KIND_OBJECT) {
		setstr(&im->run, rec_str(packer, "RunUuid"));
		setstr(&im->build_name, rec_str(packer, "BuildName"));
		custom = member(packer, "CustomData");
		if (jv_get_kind(custom) == JV_KIND_OBJECT) {
			setstr(&im->build_sha, rec_str(custom, "git_sha"));
			setstr(&im->build_url, rec_str(custom, "build_url"));
			setstr(&im->build_no, rec_str(custom, "build_number"));
		}
		jv_free(custom);
	}
	jv_free(packer);
	return im;
}

/* Borrows rec, a line of the audit log. */
static void
add_call(struct summary *s, jv rec)
{
	const char *program = rec_str(rec, "Program"), *action = rec_str(rec, "Action");
	const char *region = rec_str(rec, "Region"), *outcome = rec_str(rec, "Outcome");
	struct calls *c = NULL;
	size_t i;

	for (i = 0; i < s->ncalls && c == NULL; i++)
		if (streq(s->calls[i].program, program) && streq(s->calls[i].action, action) &&
		    streq(s->calls[i].region, region))
			c = &s->calls[i];
	if (c == NULL) {
		s->calls = xreallocarray(s->calls, s->ncalls + 1, sizeof(*s->calls));
		c = &s->calls[s->ncalls++];
		memset(c, 0, sizeof(*c));
		setstr(&c->program, program);
		setstr(&c->action, action);
		setstr(&c->region, region);
	}
	if (streq(outcome, "done"))
		c->done++;
	else if (streq(outcome, "dry-run"))
		c->dryrun++;
	else
		c->failed++;
}

/* Borrows rec, a result of ssh-probe. */
static void
add_check(struct summary *s, jv rec)
{
	struct check *c;
	jv ms = jv_object_get(jv_copy(rec), jv_string("DurationMs"));
	jv passed = jv_object_get(jv_copy(rec), jv_string("Passed"));

	s->checks = xreallocarray(s->checks, s->nchecks + 1, sizeof(*s->checks));
	c = &s->checks[s->nchecks++];
	memset(c, 0, sizeof(*c));
	setstr(&c->instance, rec_str(rec, "InstanceId"));
	setstr(&c->name, rec_str(rec, "Check"));
	setstr(&c->reason, rec_str(rec, "Reason"));
	c->passed = jv_get_kind(passed) == JV_KIND_TRUE;
	c->ms = jv_get_kind(ms) == JV_KIND_NUMBER && jv_number_value(ms) >= 0 ? jv_number_value(ms) : -1;
	jv_free(ms);
	jv_free(passed);
}

/* Borrows rec, an instance record: the image it runs, for the test results. */
static void
add_instance(struct summary *s, jv rec)
{
	const char *id = rec_str(rec, "InstanceId");
	struct instance *in;
	size_t i;

	for (i = 0; i < s->ninstances; i++)
		if (streq(s->instances[i].id, id))
			return;
	s->instances = xreallocarray(s->instances, s->ninstances + 1, sizeof(*s->instances));
	in = &s->instances[s->ninstances++];
	in->id = xstrdup(id);
	in->image = rec_str(rec, "ImageId") != NULL ? xstrdup(rec_str(rec, "ImageId")) : NULL;
	in->region = rec_str(rec, "Region") != NULL ? xstrdup(rec_str(rec, "Region")) : NULL;
}

/* Borrows rec and result (its Result). A promotion: an image tagged in place, or a copy. */
static void
add_promotion(struct summary *s, jv rec, jv result, int copy)
{
	struct promotion p = { 0 }, *q = NULL;
	size_t i;

	setstr(&p.env, rec_tag(rec, "Environment"));
	setstr(&p.region, rec_str(rec, "Region"));
	setstr(&p.image, rec_str(rec, "ImageId"));
	/* The image's owner; a copy that failed has none, but its Result names the account acted in. */
	setstr(&p.owner, rec_str(rec, "OwnerId") != NULL ? rec_str(rec, "OwnerId") :
	    rec_str(result, "Account"));
	if (copy) {
		setstr(&p.src_id, rec_str(rec, "SourceImageId"));
		setstr(&p.src_region, rec_str(rec, "SourceRegion"));
		setstr(&p.src_account, rec_str(rec, "SourceAccount"));
	}
	setstr(&p.status, rec_str(result, "Status"));
	setstr(&p.reason, rec_str(result, "Reason"));
	/* The same promotion read twice (a file given twice) is one row: the last says how it went. */
	for (i = 0; i < s->npromotions && q == NULL; i++)
		if (streq(s->promotions[i].env, p.env) && streq(s->promotions[i].region, p.region) &&
		    streq(s->promotions[i].image, p.image) && streq(s->promotions[i].src_id, p.src_id))
			q = &s->promotions[i];
	if (q != NULL) {
		free(q->env), free(q->region), free(q->image), free(q->src_region);
		free(q->src_id), free(q->owner), free(q->status), free(q->reason), free(q->src_account);
	} else {
		s->promotions = xreallocarray(s->promotions, s->npromotions + 1,
		    sizeof(*s->promotions));
		q = &s->promotions[s->npromotions++];
	}
	*q = p;
}

/* Borrows rec and result (its Result), a record of delete-snapshot. A snapshot read twice is one row. */
static void
add_snapshot(struct summary *s, jv rec, jv result)
{
	struct snapshot *sn;
	jv key = jv_string_fmt("%s %s", rec_str(rec, "Region"), rec_str(rec, "SnapshotId"));
	jv at = jv_object_get(jv_copy(s->snapindex), jv_copy(key));

	if (jv_get_kind(at) == JV_KIND_NUMBER) {
		sn = &s->snapshots[(size_t)jv_number_value(at)];
		jv_free(key);
	} else {
		s->snapindex = jv_object_set(s->snapindex, key, jv_number((double)s->nsnapshots));
		s->snapshots = xreallocarray(s->snapshots, s->nsnapshots + 1, sizeof(*s->snapshots));
		sn = &s->snapshots[s->nsnapshots++];
		memset(sn, 0, sizeof(*sn));
		sn->region = xstrdup(rec_str(rec, "Region"));
		sn->id = xstrdup(rec_str(rec, "SnapshotId"));
	}
	jv_free(at);
	replstr(&sn->started, rec_str(rec, "StartTime"));
	replstr(&sn->status, rec_str(result, "Status"));
	replstr(&sn->reason, rec_str(result, "Reason"));
}

/* Borrows obj. Its number field as text (a version, a depth), or NULL. The caller frees it. */
static char *
num_text(jv obj, const char *field)
{
	char *t = NULL;
	jv v;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return NULL;
	v = jv_object_get(jv_copy(obj), jv_string(field));
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		xasprintf(&t, "%.0f", jv_number_value(v));
	jv_free(v);
	return t;
}

/* Borrows pub, a Published. The channel: "parameter NAME", "launch template NAME (ID)"; or NULL. */
static char *
channel_text(jv pub)
{
	const char *name, *id;
	char *t = NULL;

	if (jv_get_kind(pub) != JV_KIND_OBJECT)
		return NULL;
	name = rec_str(pub, "LaunchTemplateName"), id = rec_str(pub, "LaunchTemplateId");
	if (rec_str(pub, "Parameter") != NULL)
		xasprintf(&t, "parameter %s", rec_str(pub, "Parameter"));
	else if (name != NULL || id != NULL)
		xasprintf(&t, "launch template %s%s%s%s", name != NULL ? name : id,
		    name != NULL && id != NULL ? " (" : "", name != NULL && id != NULL ? id : "",
		    name != NULL && id != NULL ? ")" : "");
	return t;
}

/*
 * Borrows pub, a Published. The version the channel holds: "N, label L" for a parameter,
 * "N, default" or "N, not default" for a launch template; or NULL.
 */
static char *
version_text(jv pub)
{
	char *n, *t = NULL;
	jv dflt;

	if (jv_get_kind(pub) != JV_KIND_OBJECT ||
	    (n = num_text(pub, rec_str(pub, "Parameter") != NULL ? "Version" : "VersionNumber")) == NULL)
		return NULL;
	if (rec_str(pub, "Parameter") != NULL) {
		xasprintf(&t, "%s%s%s", n, rec_str(pub, "Label") != NULL ? ", label " : "",
		    rec_str(pub, "Label") != NULL ? rec_str(pub, "Label") : "");
	} else {
		dflt = jv_object_get(jv_copy(pub), jv_string("Default"));
		xasprintf(&t, "%s%s", n, jv_get_kind(dflt) == JV_KIND_TRUE ? ", default" :
		    jv_get_kind(dflt) == JV_KIND_FALSE ? ", not default" : "");
		jv_free(dflt);
	}
	free(n);
	return t;
}

/* Borrows pub, a Published. What the channel held before: "IMAGE (version N)", or NULL. */
static char *
previous_text(jv pub)
{
	const char *id = jv_get_kind(pub) == JV_KIND_OBJECT ? rec_str(pub, "PreviousImageId") : NULL;
	char *n = num_text(pub, "PreviousVersion"), *t = NULL;

	if (id != NULL && n != NULL)
		xasprintf(&t, "%s (version %s)", id, n);
	else if (id != NULL)
		t = xstrdup(id);
	else if (n != NULL)
		xasprintf(&t, "version %s", n);
	free(n);
	return t;
}

static void
chan_free(struct chan *c)
{
	free(c->channel), free(c->account), free(c->region), free(c->now);
	free(c->version), free(c->previous), free(c->status), free(c->reason);
}

/* Borrows rec and result (its Result), a record of publish: one row. */
static void
add_channel(struct summary *s, jv rec, jv result)
{
	struct chan c = { 0 };
	jv pub = member(rec, "Published");

	c.channel = channel_text(pub);
	/* The account acted in (--role-arn), else the image's. */
	setstr(&c.account, rec_str(result, "Account") != NULL ? rec_str(result, "Account") :
	    rec_str(rec, "OwnerId"));
	setstr(&c.region, rec_str(rec, "Region"));
	/* A rollback's Published names the image gone back to; a publish's is the record's. */
	if (jv_get_kind(pub) == JV_KIND_OBJECT)
		setstr(&c.now, rec_str(pub, "ImageId") != NULL ? rec_str(pub, "ImageId") :
		    rec_str(rec, "ImageId"));
	c.version = version_text(pub);
	c.previous = previous_text(pub);
	setstr(&c.status, rec_str(result, "Status"));
	setstr(&c.reason, rec_str(result, "Reason"));
	jv_free(pub);
	s->chans = xreallocarray(s->chans, s->nchans + 1, sizeof(*s->chans));
	s->chans[s->nchans++] = c;
}

static void
revoked_free(struct revoked *r)
{
	size_t i;

	free(r->region), free(r->id), free(r->account), free(r->root), free(r->depth);
	free(r->why), free(r->status);
	for (i = 0; revoke_steps[i] != NULL; i++)
		free(r->step[i]);
}

/* Borrows rec, result (its Result) and revoke (its Revoke): an image of a revoked family. */
static void
add_revoked(struct summary *s, jv rec, jv result, jv revoke)
{
	struct revoked r = { 0 };
	jv lineage = member(rec, "Lineage");
	size_t i;

	setstr(&r.region, rec_str(rec, "Region"));
	setstr(&r.id, rec_str(rec, "ImageId"));
	setstr(&r.account, rec_str(rec, "OwnerId") != NULL ? rec_str(rec, "OwnerId") :
	    rec_str(rec, "Account"));
	if (jv_get_kind(lineage) == JV_KIND_OBJECT)
		setstr(&r.root, rec_str(lineage, "Root"));
	r.depth = num_text(lineage, "Depth");
	setstr(&r.why, rec_tag(rec, "RevokedReason"));
	for (i = 0; revoke_steps[i] != NULL; i++)
		setstr(&r.step[i], rec_str(revoke, revoke_steps[i]));
	setstr(&r.status, rec_str(result, "Status"));
	jv_free(lineage);
	s->revoked = xreallocarray(s->revoked, s->nrevoked + 1, sizeof(*s->revoked));
	s->revoked[s->nrevoked++] = r;
}

/* Borrows rec. 1 if the very same record was read before (a file given twice), else 0. */
static int
seen(struct summary *s, jv rec)
{
	jv key = jv_dump_string(jv_copy(rec), JV_PRINT_SORTED);
	jv v = jv_object_get(jv_copy(s->seen), jv_copy(key));
	int was = jv_is_valid(v);

	jv_free(v);
	if (was)
		jv_free(key);
	else
		s->seen = jv_object_set(s->seen, key, jv_true());
	return was;
}

/* Consumes rec, just read from in: what kind of record it is decides what it adds. */
static void
add_record(struct summary *s, struct jsonl *in, jv rec)
{
	const char *action = NULL;
	struct image *im;
	jv result, passed, packer, published, revoke;

	/* The audit log: {"Time","Program",...,"Action","Outcome"}. */
	if (rec_str(rec, "Program") != NULL && rec_str(rec, "Action") != NULL &&
	    rec_str(rec, "Outcome") != NULL) {
		add_call(s, rec);
		jv_free(rec);
		return;
	}
	check_ids(in, rec);
	passed = jv_object_get(jv_copy(rec), jv_string("Passed"));
	/* No Result: an empty one, whose fields are all missing. */
	if (jv_get_kind(result = member(rec, "Result")) != JV_KIND_OBJECT) {
		jv_free(result);
		result = jv_object();
	}
	action = rec_str(result, "Action");
	published = member(rec, "Published");
	revoke = member(rec, "Revoke");
	if (rec_str(rec, "Check") != NULL && (jv_get_kind(passed) == JV_KIND_TRUE ||
	    jv_get_kind(passed) == JV_KIND_FALSE)) {
		add_check(s, rec);
	} else if (rec_str(rec, "InstanceId") != NULL) {
		add_instance(s, rec);
	} else if (streq(action, "publish") || jv_get_kind(published) == JV_KIND_OBJECT) {
		/* A record read twice (a file given twice) is one row. */
		if (!seen(s, rec))
			add_channel(s, rec, result);
	} else if (jv_get_kind(revoke) == JV_KIND_OBJECT) {
		if (!seen(s, rec))
			add_revoked(s, rec, result, revoke);
	} else if (streq(action, "copy-image")) {
		if (rec_str(rec, "ImageId") != NULL && rec_str(rec, "Region") != NULL) {
			im = image_merge(s, rec);
			if (!streq(im->id, rec_str(rec, "SourceImageId"))) {
				im->copied = 1;
				setstr(&im->src_id, rec_str(rec, "SourceImageId"));
				setstr(&im->src_region, rec_str(rec, "SourceRegion"));
			}
		}
		add_promotion(s, rec, result, 1);
	} else if (streq(action, "delete-snapshot")) {
		if (rec_str(rec, "SnapshotId") != NULL && rec_str(rec, "Region") != NULL)
			add_snapshot(s, rec, result);
	} else if (rec_str(rec, "ImageId") != NULL && rec_str(rec, "Region") != NULL) {
		im = image_merge(s, rec);
		if (rec_str(rec, "SourceImageId") != NULL) {
			setstr(&im->src_id, rec_str(rec, "SourceImageId"));
			setstr(&im->src_region, rec_str(rec, "SourceImageRegion"));
		}
		packer = member(rec, "Packer");
		/* ami-from-manifest's record, or one made from it (tag's); a copy has a source. */
		if (jv_get_kind(packer) == JV_KIND_OBJECT && rec_str(rec, "SourceImageId") == NULL)
			im->built = 1;
		else if (action == NULL)
			im->listed = 1;
		jv_free(packer);
		/* A copy tagged after it was made (image-promote) still says where it came from. */
		if (streq(action, "tag") && rec_tag(rec, "Environment") != NULL)
			add_promotion(s, rec, result, rec_str(rec, "SourceImageId") != NULL &&
			    !streq(rec_str(rec, "SourceImageId"), rec_str(rec, "ImageId")));
		if (streq(action, "deregister") || streq(action, "deprecate")) {
			replstr(&im->action, action);
			replstr(&im->status, rec_str(result, "Status"));
			replstr(&im->reason, rec_str(result, "Reason"));
		}
	}
	jv_free(passed);
	jv_free(result);
	jv_free(published);
	jv_free(revoke);
	jv_free(rec);
}

/*
 * Writes s with letters, digits, the bytes of UTF-8 sequences and the characters in keep as they
 * are, control characters (newlines among them) as spaces, and every other character as the
 * reference PREFIX, its code, ";".
 */
static void
escaped(const char *s, const char *keep, const char *prefix)
{
	unsigned char c;

	for (; s != NULL && (c = *s) != '\0'; s++) {
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c >= 0x80 || strchr(keep, c) != NULL)
			putchar(c);
		else if (c < 0x20 || c == 0x7f)
			putchar(' ');
		else
			printf("%s%u;", prefix, c);
	}
}

/*
 * Writes s as text in a Markdown table cell or heading: the punctuation that means nothing inside
 * a line as it is, the rest as numeric character references. So no record text can end its cell
 * (|), open code (`), a link ([), emphasis (* _ ~), math ($), HTML (< &) or another line;
 * GitHub's and python-markdown's tables both split cells before they decode references.
 */
static void
md(const char *s)
{
	escaped(s, " .,:;/@=-+%?!#'\"(){}", "&#");
}

/*
 * Writes s in a Mermaid label (inside double quotes): Mermaid's entity codes (#NN;) for every
 * character but " .:/-", so no quote, bracket, backtick or newline from a record ends the label,
 * the node or the code block around the diagram.
 */
static void
mm(const char *s)
{
	escaped(s, " .:/-", "#");
}

/* A table's header row and its delimiter row; cols is NULL-terminated. */
static void
table(const char *const *cols)
{
	size_t i;

	putchar('\n');
	for (i = 0; cols[i] != NULL; i++)
		printf("| %s ", cols[i]);
	printf("|\n");
	for (i = 0; cols[i] != NULL; i++)
		printf("|---");
	printf("|\n");
}

/* One cell of a row: "| TEXT ". */
static void
cell(const char *s)
{
	printf("| ");
	md(s);
	putchar(' ');
}

static void
row_end(void)
{
	printf("|\n");
}

/* A duration as people read it: 117 ms, 3.2 s, 4m05s. */
static void
cell_ms(double ms)
{
	char buf[64];

	if (ms < 0)
		buf[0] = '\0';
	else if (ms < 1000)
		snprintf(buf, sizeof(buf), "%.0f ms", ms);
	else if (ms < 60000)
		snprintf(buf, sizeof(buf), "%.1f s", ms / 1000);
	else
		snprintf(buf, sizeof(buf), "%lldm%02llds", (long long)(ms / 1000) / 60,
		    (long long)(ms / 1000) % 60);
	cell(buf);
}

static const char *
sha_of(const struct image *im)
{
	return im->build_sha != NULL ? im->build_sha : im->tag_sha;
}

static const char *
url_of(const struct image *im)
{
	return im->build_url != NULL ? im->build_url : im->tag_url;
}

/* "STATUS: REASON", or STATUS alone. The caller frees it. */
static char *
status_text(const char *status, const char *reason)
{
	char *t;

	xasprintf(&t, "%s%s%s", status != NULL ? status : "unknown", reason != NULL ? ": " : "",
	    reason != NULL ? reason : "");
	return t;
}

static void
print_built(const struct summary *s)
{
	static const char *const cols[] = { "Region", "Image", "Name", "Git sha", "Build URL", NULL };
	size_t i;

	printf("\n## Built images\n");
	table(cols);
	for (i = 0; i < s->nimages; i++) {
		const struct image *im = &s->images[i];

		if (!im->built)
			continue;
		cell(im->region), cell(im->id), cell(im->name), cell(sha_of(im)), cell(url_of(im));
		row_end();
	}
}

static void
print_tests(const struct summary *s)
{
	static const char *const cols[] = { "Region", "Image", "Instance", "Check", "Result",
		"Duration", "Reason", NULL };
	const struct instance *in;
	size_t i, j;

	printf("\n## Tests\n");
	table(cols);
	for (i = 0; i < s->nchecks; i++) {
		const struct check *c = &s->checks[i];

		for (in = NULL, j = 0; j < s->ninstances && in == NULL; j++)
			if (streq(s->instances[j].id, c->instance))
				in = &s->instances[j];
		cell(in != NULL ? in->region : NULL), cell(in != NULL ? in->image : NULL);
		cell(c->instance), cell(c->name), cell(c->passed ? "✅ pass" : "❌ fail");
		cell_ms(c->ms), cell(c->reason);
		row_end();
	}
}

/* By environment, the images tagged in place before their copies, then by region and image. */
static int
promotion_cmp(const void *va, const void *vb)
{
	const struct promotion *a = va, *b = vb;
	int c;

	if ((c = strcmp(a->env != NULL ? a->env : "", b->env != NULL ? b->env : "")) != 0)
		return c;
	if ((a->src_id != NULL) != (b->src_id != NULL))
		return a->src_id != NULL ? 1 : -1;
	if ((c = strcmp(a->region != NULL ? a->region : "", b->region != NULL ? b->region : "")))
		return c;
	if ((c = strcmp(a->image != NULL ? a->image : "", b->image != NULL ? b->image : "")))
		return c;
	return strcmp(a->src_id != NULL ? a->src_id : "", b->src_id != NULL ? b->src_id : "");
}

/* 1 if promotion p is a copy from another account than the one it is in. */
static int
owner_other(const struct promotion *p)
{
	return p->src_account != NULL && !streq(p->src_account, p->owner);
}

static void
print_promotions(struct summary *s)
{
	static const char *const cols[] = { "Environment", "Account", "Region", "Image", "Copied from",
		"Status", NULL };
	const struct image *im;
	char *t;
	size_t i;

	qsort(s->promotions, s->npromotions, sizeof(*s->promotions), promotion_cmp);
	printf("\n## Promotions\n");
	table(cols);
	for (i = 0; i < s->npromotions; i++) {
		const struct promotion *p = &s->promotions[i];

		im = p->image != NULL ? image_find(s, p->region, p->image) : NULL;
		cell(p->env), cell(p->owner != NULL ? p->owner : im != NULL ? im->owner : NULL);
		cell(p->region), cell(p->image);
		if (p->src_id != NULL) {
			/* From another account (a promotion into production's): which one. */
			xasprintf(&t, "%s%s%s%s%s", p->src_id, p->src_region != NULL ? " in " : "",
			    p->src_region != NULL ? p->src_region : "", owner_other(p) ? " of " : "",
			    owner_other(p) ? p->src_account : "");
			cell(t);
			free(t);
		} else
			cell(NULL);
		t = status_text(p->status, p->reason);
		cell(t);
		free(t);
		row_end();
	}
}

/* In input order: what publish did to each channel, rollbacks among them. */
static void
print_channels(const struct summary *s)
{
	static const char *const cols[] = { "Channel", "Account", "Region", "Image", "Version",
		"Previous", "Status", "Reason", NULL };
	size_t i;

	printf("\n## Channels\n");
	table(cols);
	for (i = 0; i < s->nchans; i++) {
		const struct chan *c = &s->chans[i];

		cell(c->channel), cell(c->account), cell(c->region), cell(c->now), cell(c->version);
		cell(c->previous), cell(c->status != NULL ? c->status : "unknown"), cell(c->reason);
		row_end();
	}
}

/* In input order: each image of the revoked family, after the reasons (RevokedReason) given. */
static void
print_revocations(const struct summary *s)
{
	static const char *const cols[] = { "Image", "Region", "Account", "Root", "Depth", "Tag",
		"Deprecate", "Share", "Disable", "Status", NULL };
	struct strlist why = { 0 };
	size_t i, j;

	printf("\n## Revocations\n");
	for (i = 0; i < s->nrevoked; i++)
		if (s->revoked[i].why != NULL)
			strlist_index(&why, s->revoked[i].why);
	for (i = 0; i < why.n; i++) {
		printf("%s", i == 0 ? "\nReason: " : "; ");
		md(why.v[i]);
	}
	if (why.n > 0)
		putchar('\n');
	table(cols);
	for (i = 0; i < s->nrevoked; i++) {
		const struct revoked *r = &s->revoked[i];

		cell(r->id), cell(r->region), cell(r->account), cell(r->root), cell(r->depth);
		for (j = 0; revoke_steps[j] != NULL; j++)
			cell(r->step[j] != NULL ? r->step[j] : "not run");
		cell(r->status != NULL ? r->status : "unknown");
		row_end();
	}
	free(why.v);
}

/* What became of an image in the cleanup. */
static const char *
cleanup_outcome(const struct image *im)
{
	int dereg = streq(im->action, "deregister");

	if (im->action == NULL)
		return "kept";
	if (streq(im->status, "done"))
		return dereg ? "retired" : "deprecated";
	if (streq(im->status, "dry-run"))
		return dereg ? "would retire (dry run)" : "would deprecate (dry run)";
	if (streq(im->status, "skipped"))
		return dereg ? "skipped" : "not deprecated";
	return im->status != NULL ? im->status : "failed";
}

/* Region, then newest first (EC2's dates compare as strings), then input order. */
static int
cleanup_cmp(const void *va, const void *vb)
{
	const struct image *a = *(const struct image *const *)va, *b = *(const struct image *const *)vb;
	int c;

	if ((c = strcmp(a->region, b->region)) != 0)
		return c;
	if ((c = strcmp(b->created != NULL ? b->created : "", a->created != NULL ? a->created : "")))
		return c;
	return (a > b) - (a < b);
}

static size_t
print_cleanup(const struct summary *s)
{
	static const char *const cols[] = { "Region", "Image", "Name", "Created", "Outcome", "Reason",
		NULL };
	const struct image **rows;
	size_t i, n;

	rows = xreallocarray(NULL, s->nimages + 1, sizeof(*rows));
	for (i = n = 0; i < s->nimages; i++)
		if (s->images[i].listed || s->images[i].action != NULL)
			rows[n++] = &s->images[i];
	if (n > 0) {
		qsort(rows, n, sizeof(*rows), cleanup_cmp);
		printf("\n## Cleanup\n");
		table(cols);
	}
	for (i = 0; i < n; i++) {
		cell(rows[i]->region), cell(rows[i]->id), cell(rows[i]->name);
		cell(rows[i]->created), cell(cleanup_outcome(rows[i])), cell(rows[i]->reason);
		row_end();
	}
	free(rows);
	return n;
}

/* What became of a snapshot in the sweep. */
static const char *
snapshot_outcome(const struct snapshot *sn)
{
	if (streq(sn->status, "done"))
		return "deleted";
	if (streq(sn->status, "dry-run"))
		return "would delete (dry run)";
	if (streq(sn->status, "skipped"))
		return "kept";
	return sn->status != NULL ? sn->status : "failed";
}

/* In input order: the sweep's own, oldest first. */
static void
print_snapshots(const struct summary *s)
{
	static const char *const cols[] = { "Region", "Snapshot", "Started", "Outcome", "Reason",
		NULL };
	size_t i;

	printf("\n## Snapshots\n");
	table(cols);
	for (i = 0; i < s->nsnapshots; i++) {
		const struct snapshot *sn = &s->snapshots[i];

		cell(sn->region), cell(sn->id), cell(sn->started), cell(snapshot_outcome(sn));
		cell(sn->reason);
		row_end();
	}
}

static void
print_calls(const struct summary *s)
{
	static const char *const cols[] = { "Program", "Action", "Region", "Done", "Dry run",
		"Failed", NULL };
	char n[3][32];
	size_t i;

	printf("\n## Changes (audit log)\n");
	table(cols);
	for (i = 0; i < s->ncalls; i++) {
		const struct calls *c = &s->calls[i];

		snprintf(n[0], sizeof(n[0]), "%ld", c->done);
		snprintf(n[1], sizeof(n[1]), "%ld", c->dryrun);
		snprintf(n[2], sizeof(n[2]), "%ld", c->failed);
		cell(c->program), cell(c->action), cell(c->region);
		cell(n[0]), cell(n[1]), cell(n[2]);
		row_end();
	}
}

/* Edges between two kinds of node, each drawn once. */
struct edges {
	struct edge { char from, to; size_t a, b; } *v;
	size_t		  n;
};

/* Commits' edges first, then builds', images', environments'. */
static int
edge_cmp(const void *va, const void *vb)
{
	static const char order[] = "cbie";
	const struct edge *a = va, *b = vb;
	long c;

	if ((c = strchr(order, a->from) - strchr(order, b->from)) != 0)
		return c < 0 ? -1 : 1;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	if ((c = strchr(order, a->to) - strchr(order, b->to)) != 0)
		return c < 0 ? -1 : 1;
	return (a->b > b->b) - (a->b < b->b);
}

static void
edge(struct edges *e, char from, size_t a, char to, size_t b)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (e->v[i].from == from && e->v[i].a == a && e->v[i].to == to && e->v[i].b == b)
			return;
	e->v = xreallocarray(e->v, e->n + 1, sizeof(*e->v));
	e->v[e->n++] = (struct edge){ from, to, a, b };
}

/*
 * The lineage as a Mermaid flowchart: commits (c), builds (b), the images built and their
 * sources (i), their copies (i too, drawn with another shape), the environments (e). Node ids are
 * made here, a letter and an index; record text only ever goes into labels, through mm().
 */
static void
print_lineage(struct summary *s)
{
	struct strlist commits = { 0 }, builds = { 0 }, envs = { 0 };
	struct edges edges = { 0 };
	struct image *im, *src;
	size_t i, c, b = 0;

	for (i = 0; i < s->nimages; i++) {
		im = &s->images[i];
		if (im->copied && (src = image_find(s, im->src_region, im->src_id)) != NULL) {
			src->node = im->node = 1;
			edge(&edges, 'i', (size_t)(src - s->images), 'i', i);
		}
		if (!im->built)
			continue;
		im->node = 1;
		if (im->run != NULL)
			b = strlist_index(&builds, im->run);
		if (sha_of(im) != NULL) {
			c = strlist_index(&commits, sha_of(im));
			if (im->run != NULL)
				edge(&edges, 'c', c, 'b', b);
			else
				edge(&edges, 'c', c, 'i', i);
		}
		if (im->run != NULL)
			edge(&edges, 'b', b, 'i', i);
	}
	for (i = 0; i < s->npromotions; i++) {
		const struct promotion *p = &s->promotions[i];

		if (p->env == NULL || !streq(p->status, "done") || p->image == NULL ||
		    (im = image_find(s, p->region, p->image)) == NULL)
			continue;
		im->node = 1;
		edge(&edges, 'i', (size_t)(im - s->images), 'e', strlist_index(&envs, p->env));
	}
	for (i = 0; i < s->nimages && !s->images[i].node; i++)
		;
	if (i == s->nimages && commits.n == 0) {
		free(commits.v), free(builds.v), free(envs.v), free(edges.v);
		return;
	}

	printf("\n## Lineage\n\n```mermaid\nflowchart LR\n");
	for (i = 0; i < commits.n; i++) {
		printf("  c%zu{{\"commit ", i);
		mm(commits.v[i]);
		printf("\"}}\n");
	}
	for (i = 0; i < builds.n; i++) {
		for (im = s->images; !streq(im->run, builds.v[i]); im++)
			;
		printf("  b%zu[[\"build", i);
		if (im->build_name != NULL)
			putchar(' '), mm(im->build_name);
		if (im->build_no != NULL)
			printf(" #35;"), mm(im->build_no);
		printf("\"]]\n");
	}
	for (i = 0; i < s->nimages; i++) {
		im = &s->images[i];
		if (!im->node)
			continue;
		printf(im->copied ? "  i%zu([\"" : "  i%zu[\"", i);
		mm(im->id);
		printf("<br>");
		mm(im->region);
		if (im->name != NULL)
			printf("<br>"), mm(im->name);
		printf(im->copied ? "\"])\n" : "\"]\n");
	}
	for (i = 0; i < envs.n; i++) {
		printf("  e%zu>\"", i);
		mm(envs.v[i]);
		printf("\"]\n");
	}
	if (edges.n > 0)
		qsort(edges.v, edges.n, sizeof(*edges.v), edge_cmp);
	for (i = 0; i < edges.n; i++)
		printf("  %c%zu --> %c%zu\n", edges.v[i].from, edges.v[i].a, edges.v[i].to,
		    edges.v[i].b);
	printf("```\n");
	free(commits.v), free(builds.v), free(envs.v), free(edges.v);
}

/* Results counted by Status: done, dry-run, skipped, and the rest (failed, interrupted). */
struct tally {
	size_t	 n[4];
};

static void
tally_add(struct tally *t, const char *status)
{
	t->n[streq(status, "done") ? 0 : streq(status, "dry-run") ? 1 :
	    streq(status, "skipped") ? 2 : 3]++;
}

/* "SEP N WHATs (D done, R dry-run, S skipped, F failed)", the counts that are not 0. */
static void
print_tally(const char **sep, const char *what, const struct tally *t)
{
	static const char *const names[] = { "done", "dry-run", "skipped", "failed" };
	size_t i, n = t->n[0] + t->n[1] + t->n[2] + t->n[3];
	const char *open = " (";

	printf("%s%zu %s%s", *sep, n, what, plural((long long)n));
	for (i = 0; i < 4; i++)
		if (t->n[i] > 0)
			printf("%s%zu %s", open, t->n[i], names[i]), open = ", ";
	printf("%s", *open == ',' ? ")" : "");
	*sep = " · ";
}

/* One line of counts under the heading, for a glance. */
static void
print_overview(const struct summary *s)
{
	size_t i, built = 0, passed = 0, retired = 0, kept = 0, skipped = 0, deleted = 0;
	struct tally chans = { { 0 } }, revoked = { { 0 } };
	const char *sep = "";

	for (i = 0; i < s->nchans; i++)
		tally_add(&chans, s->chans[i].status);
	for (i = 0; i < s->nrevoked; i++)
		tally_add(&revoked, s->revoked[i].status);
	for (i = 0; i < s->nimages; i++) {
		built += s->images[i].built;
		if (!s->images[i].listed && s->images[i].action == NULL)
			continue;
		if (s->images[i].action == NULL)
			kept++;
		else if (streq(s->images[i].action, "deregister") &&
		    streq(s->images[i].status, "done"))
			retired++;
		else if (streq(s->images[i].status, "skipped"))
			skipped++;
	}
	for (i = 0; i < s->nchecks; i++)
		passed += s->checks[i].passed;
	for (i = 0; i < s->nsnapshots; i++)
		deleted += streq(s->snapshots[i].status, "done");
	putchar('\n');
	if (built > 0)
		printf("%s%zu image%s built", sep, built, plural(built)), sep = " · ";
	if (s->nchecks > 0)
		printf("%s%zu of %zu check%s passed", sep, passed, s->nchecks, plural(s->nchecks)),
		    sep = " · ";
	if (s->npromotions > 0)
		printf("%s%zu promotion%s", sep, s->npromotions, plural(s->npromotions)), sep = " · ";
	if (s->nchans > 0)
		print_tally(&sep, "channel update", &chans);
	if (s->nrevoked > 0)
		print_tally(&sep, "revocation", &revoked);
	if (retired + kept + skipped > 0)
		printf("%s%zu retired, %zu kept, %zu skipped", sep, retired, kept, skipped), sep = " · ";
	if (s->nsnapshots > 0)
		printf("%s%zu of %zu snapshot%s deleted", sep, deleted, s->nsnapshots,
		    plural((long long)s->nsnapshots)), sep = " · ";
	printf("%s\n", *sep == '\0' ? "No records of a run." : "");
}

static void
summary_free(struct summary *s)
{
	size_t i;

	for (i = 0; i < s->nimages; i++) {
		struct image *im = &s->images[i];

		free(im->region), free(im->id), free(im->name), free(im->owner), free(im->created);
		free(im->build_sha), free(im->tag_sha), free(im->build_url), free(im->tag_url);
		free(im->build_no), free(im->run), free(im->build_name), free(im->src_region);
		free(im->src_id), free(im->action), free(im->status), free(im->reason);
	}
	for (i = 0; i < s->ninstances; i++)
		free(s->instances[i].id), free(s->instances[i].image), free(s->instances[i].region);
	for (i = 0; i < s->nchecks; i++)
		free(s->checks[i].instance), free(s->checks[i].name), free(s->checks[i].reason);
	for (i = 0; i < s->npromotions; i++) {
		struct promotion *p = &s->promotions[i];

		free(p->env), free(p->region), free(p->image), free(p->src_region);
		free(p->src_id), free(p->owner), free(p->status), free(p->reason);
		free(p->src_account);
	}
	for (i = 0; i < s->ncalls; i++)
		free(s->calls[i].program), free(s->calls[i].action), free(s->calls[i].region);
	for (i = 0; i < s->nsnapshots; i++) {
		struct snapshot *sn = &s->snapshots[i];

		free(sn->region), free(sn->id), free(sn->started), free(sn->status), free(sn->reason);
	}
	for (i = 0; i < s->nchans; i++)
		chan_free(&s->chans[i]);
	for (i = 0; i < s->nrevoked; i++)
		revoked_free(&s->revoked[i]);
	free(s->images), free(s->instances), free(s->checks), free(s->promotions);
	free(s->calls), free(s->snapshots), free(s->chans), free(s->revoked);
	jv_free(s->index);
	jv_free(s->snapindex);
	jv_free(s->seen);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ "title",	required_argument,	NULL, 't' },
		{ "version",	no_argument,		NULL, OPT_VERSION },
		{ NULL,		0,			NULL, 0 }
	};
	struct summary s = { 0 };
	struct jsonl in;
	const char *title = "amicycle";
	size_t i;
	jv rec;
	int ch, built = 0;

	out_init();
	s.index = jv_object();
	s.snapindex = jv_object();
	s.seen = jv_object();
	while ((ch = getopt_cli(argc, argv, "ht:", longopts)) != -1) {
		switch (ch) {
		case 'h':
			usage();
		case 't':
			title = optarg;
			break;
		case OPT_VERSION:
			print_version();
		default:
			usage_error(NULL);
		}
	}

	jsonl_open(&in, argv + optind);
	while (jv_is_valid(rec = jsonl_next(&in)))
		add_record(&s, &in, rec);
	jv_free(rec);
	jsonl_close(&in);

	printf("# ");
	md(title);
	putchar('\n');
	print_overview(&s);
	for (i = 0; i < s.nimages; i++)
		built |= s.images[i].built;
	if (built)
		print_built(&s);
	if (s.nchecks > 0)
		print_tests(&s);
	if (s.npromotions > 0)
		print_promotions(&s);
	if (s.nchans > 0)
		print_channels(&s);
	if (s.nrevoked > 0)
		print_revocations(&s);
	print_cleanup(&s);
	if (s.nsnapshots > 0)
		print_snapshots(&s);
	if (s.ncalls > 0)
		print_calls(&s);
	print_lineage(&s);
	summary_free(&s);
	return out_close();
}
