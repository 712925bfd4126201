/*
 * imageuse.c: who uses these images in a region: whatever can launch an image, or shares it.
 *
 * The reads run in three stages, since some need what others answered. Stage 0: what needs
 * nothing (the images, their references or instances, the default and latest template versions,
 * Auto Scaling groups, launch configurations, SSM parameters, launch permissions). Stage 1: the
 * template versions groups name and, with every version counting, every version of the templates
 * that may name an image. Stage 2: the resolve:ssm: parameters those versions name. Then the
 * template and group users are made from the versions read.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ec2.h"
#include "imageuse.h"
#include "mutate.h"
#include "record.h"
#include "strmap.h"
#include "timefmt.h"
#include "util.h"

#define ID_BATCH	200	/* values per filter: EC2 caps one filter at 200 */
#define REF_BATCH	10	/* DescribeImageReferences takes at most 10 ImageIds */
#define SSM_BATCH	10	/* GetParameters takes at most 10 names */
#define NAMED		3	/* instances named in a reason; an Auto Scaling group may have thousands */
#define DEPTH		"10000"	/* version-depth: beyond any template's number of versions */
#define RESOLVE		"resolve:ssm:"

/* Every state but terminated: a stopped instance needs its image to start again. */
#define LIVE_STATES	JV_ARRAY(jv_string("pending"), jv_string("running"), \
			    jv_string("shutting-down"), jv_string("stopping"), jv_string("stopped"))

/* DescribeImageReferences' errors where EC2 (or this partition, or the policy) lacks it. */
static const char *const no_refs[] = {
	"InvalidAction", "UnauthorizedOperation", "UnknownOperation", NULL
};

/* A template, version or image gone between two reads: it launches nothing. */
static const char *const tpl_gone[] = {
	"InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateId.VersionNotFound",
	"InvalidLaunchTemplateName.NotFoundException", NULL
};

enum { STAGES = 3 };

struct imageuse {
	struct ec2		*ec2;
	char			*region;
	struct imageuse_opts	 opts;
	jv		 ids;		/* image id -> true: the images asked about */
	jv		 list;		/* the same ids, each once, in order */
	jv		 users;		/* image id -> [{Kind, Id, Detail, Source}, ...] */
	jv		 launched;	/* image id -> {Time, Source} */
	jv		 rows;		/* "lt-ID NUMBER" -> template version read, with _Source */
	jv		 specs;		/* what Auto Scaling groups launch: [{Group, Via, ...}] */
	jv		 configs;	/* launch configurations */
	jv		 lcgroups;	/* launch configuration name -> [group name, ...] */
	jv		 every;		/* template id -> source: read its every version */
	jv		 resolved;	/* "NAME[:SELECTOR]" -> image id, or null: none */
	jv		 refs;		/* image ids for DescribeImageReferences after the first batch */
	jv		 unknown;	/* [what could not be told, ...] */
	jv		 errors;	/* [diag, ...] */
	int		 fallback;	/* DescribeImageReferences is unknown here */
	int		 wait[STAGES];	/* reads of each stage outstanding */
};

/* A read about one thing: an image, a template, a batch of ids. */
struct about {
	struct imageuse	*u;
	char		*id;		/* or NULL; for a template version read, the source it stands for */
	jv		 ids;		/* or jv_null() */
	int		 stage;		/* the stage it belongs to, or -1 */
};

static jv	names_params(const struct imageuse *, jv);
static void	stage_versions(struct imageuse *);
static void	stage_resolve(struct imageuse *);
static void	finish(struct imageuse *);

/* Consumes ids. */
static struct about *
about_new(struct imageuse *u, const char *id, jv ids)
{
	struct about *a = xcalloc(1, sizeof(*a));

	a->u = u;
	a->id = id != NULL ? xstrdup(id) : NULL;
	a->ids = ids;
	a->stage = -1;
	return a;
}

static void
about_free(struct about *a)
{
	jv_free(a->ids);
	free(a->id);
	free(a);
}

/* A read of stage has ended; once the last has, the next stage starts. */
static void
advance(struct imageuse *u, int stage)
{
	if (--u->wait[stage] > 0)
		return;
	if (stage == 0)
		stage_versions(u);
	else if (stage == 1)
		stage_resolve(u);
	else
		finish(u);
}

/* 1 if the read failed (remembered as an error unless its code is in ignore). */
static int
failed(struct imageuse *u, const struct ec2_result *res, const char *const *ignore)
{
	if (res->code == NULL)
		return 0;
	if (ignore == NULL || strmap_index(ignore, res->code) == -1)
		u->errors = jv_array_append(u->errors, jv_string(res->diag));
	return 1;
}

/* Borrows obj. Its member name, when it is of kind; else jv_null(). */
static jv
member(jv obj, const char *name, jv_kind kind)
{
	jv v;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_null();
	v = jv_object_get(jv_copy(obj), jv_string(name));
	if (jv_get_kind(v) == kind)
		return v;
	jv_free(v);
	return jv_null();
}

/* Borrows obj. Its member name as a number, or 0. */
static double
number_of(jv obj, const char *name)
{
	jv v = member(obj, name, JV_KIND_NUMBER);
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0;

	jv_free(v);
	return d;
}

/* Borrows obj. 1 if its member name is true. */
static int
is_true(jv obj, const char *name)
{
	jv v = member(obj, name, JV_KIND_TRUE);
	int t = jv_get_kind(v) == JV_KIND_TRUE;

	jv_free(v);
	return t;
}

/* Borrows obj. Its member name's member name2, when it is of kind; else jv_null(). */
static jv
member2(jv obj, const char *name, const char *name2, jv_kind kind)
{
	jv o = member(obj, name, JV_KIND_OBJECT), v = member(o, name2, kind);

	jv_free(o);
	return v;
}

/* Borrows res. The list name of a read's output (empty if none). */
static jv
list_of(const struct ec2_result *res, const char *name)
{
	jv l = member(res->out, name, JV_KIND_ARRAY);

	return jv_get_kind(l) == JV_KIND_ARRAY ? l : (jv_free(l), jv_array());
}

static int
wanted(const struct imageuse *u, const char *image)
{
	return image != NULL && jv_object_has(jv_copy(u->ids), jv_string(image));
}

/* Consumes detail (a string or jv_null()). Adds a user of image, once, if image is asked about. */
static void
add_user(struct imageuse *u, const char *image, const char *kind, const char *id, jv detail,
    const char *source)
{
	jv list, user;
	int dup = 0;

	if (!wanted(u, image) || id == NULL) {
		jv_free(detail);
		return;
	}
	list = jv_object_get(jv_copy(u->users), jv_string(image));
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		list = jv_array();
	}
	user = JV_OBJECT(jv_string("Kind"), jv_string(kind), jv_string("Id"), jv_string(id),
	    jv_string("Detail"), detail, jv_string("Source"), jv_string(source));
	/* An instance is named once by the one read that finds it; anything else may come twice. */
	if (strcmp(kind, "instance") != 0)
		jv_array_foreach(list, i, v) {
			dup |= jv_equal(jv_object_delete(jv_copy(v), jv_string("Source")),
			    jv_object_delete(jv_copy(user), jv_string("Source")));
			jv_free(v);
		}
	if (dup)
		jv_free(user);
	else
		list = jv_array_append(list, user);
	u->users = jv_object_set(u->users, jv_string(image), list);
}

/* Queues a read of stage (or, with stage -1, of none), counted until it ends. Consumes params. */
static void
submit(struct imageuse *u, int stage, const char *action, jv params,
    void (*done)(const struct ec2_result *, void *), void *arg)
{
	if (stage >= 0)
		u->wait[stage]++;
	ec2_submit_all(u->ec2, u->region, action, params, done, arg);
}

/* Borrows ids. Queues action for each batch of up to n of ids, with params(batch). */
static void
batches(struct imageuse *u, int stage, jv ids, int n, const char *action,
    jv (*params)(const struct imageuse *, jv), void (*done)(const struct ec2_result *, void *))
{
	int i, j, len = jv_array_length(jv_copy(ids));
	jv b;

	for (i = 0; i < len; i = j) {
		b = jv_array();
		for (j = i; j < len && j - i < n; j++)
			b = jv_array_append(b, jv_array_get(jv_copy(ids), j));
		submit(u, stage, action, params(u, jv_copy(b)), done, about_new(u, NULL, b));
	}
}

/* ---- the images: Public, LastLaunchedTime; launch permissions ---- */

static void
time_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	jv t;

	if (!failed(a->u, res, NULL)) {
		t = member2(res->out, "LastLaunchedTime", "Value", JV_KIND_STRING);
		if (jv_get_kind(t) == JV_KIND_STRING)
			a->u->launched = jv_object_set(a->u->launched, jv_string(a->id), JV_OBJECT(
			    jv_string("Time"), t, jv_string("Source"),
			    jv_string("DescribeImageAttribute")));
		else
			jv_free(t);
	}
	about_free(a);
}

/* Borrows img. Takes an image's Public and LastLaunchedTime, described now. */
static void
take_image(struct imageuse *u, jv img)
{
	const char *id = rec_str(img, "ImageId"), *t;

	if (!wanted(u, id))
		return;
	if (!u->opts.allow_shared && is_true(img, "Public"))
		add_user(u, id, "shared", "all", jv_string("public"), "DescribeImages");
	if ((t = rec_str(img, "LastLaunchedTime")) != NULL)
		u->launched = jv_object_set(u->launched, jv_string(id), JV_OBJECT(
		    jv_string("Time"), jv_string(t), jv_string("Source"), jv_string("DescribeImages")));
	else if (u->opts.launched_within > 0)
		submit(u, -1, "DescribeImageAttribute", JV_OBJECT(jv_string("ImageId"),
		    jv_string(id), jv_string("Attribute"), jv_string("lastLaunchedTime")),
		    time_done, about_new(u, id, jv_null()));
}

static void
images_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	jv list;

	if (!failed(a->u, res, NULL)) {
		list = list_of(res, "Images");
		jv_array_foreach(list, i, img) {
			take_image(a->u, img);
			jv_free(img);
		}
		jv_free(list);
	}
	about_free(a);
}

/* Consumes batch. */
static jv
images_params(const struct imageuse *u, jv batch)
{
	(void)u;
	return JV_OBJECT(jv_string("Filters"), JV_ARRAY(JV_OBJECT(jv_string("Name"),
	    jv_string("image-id"), jv_string("Values"), batch)),
	    jv_string("IncludeDeprecated"), jv_true(), jv_string("IncludeDisabled"), jv_true(),
	    jv_string("MaxResults"), jv_number(1000));
}

static void
permissions_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	static const char *const fields[][2] = {
		{ "UserId", "account" }, { "OrganizationArn", "organization" },
		{ "OrganizationalUnitArn", "organizational unit" }
	};
	const char *group;
	size_t k;
	jv list;

	/* An image gone since it was listed is shared with no one. */
	if (!(res->code != NULL && ec2_gone(res->code)) && !failed(a->u, res, NULL)) {
		list = list_of(res, "LaunchPermissions");
		jv_array_foreach(list, i, p) {
			if ((group = rec_str(p, "Group")) != NULL && strcmp(group, "all") == 0)
				add_user(a->u, a->id, "shared", "all", jv_string("public"),
				    "DescribeImageAttribute");
			for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
				add_user(a->u, a->id, "shared", rec_str(p, fields[k][0]),
				    jv_string(fields[k][1]), "DescribeImageAttribute");
			jv_free(p);
		}
		jv_free(list);
	}
	about_free(a);
}

/* ---- instances and recipes: DescribeImageReferences, else DescribeInstances ---- */

/* The part of arn after its resource type's "TYPE/", or NULL. */
static const char *
arn_id(const char *arn, const char *type)
{
	const char *p = arn != NULL ? strstr(arn, type) : NULL;

	return p != NULL ? p + strlen(type) : NULL;
}

static void
instances_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	jv rsv;

	if (!failed(a->u, res, NULL)) {
		rsv = list_of(res, "Reservations");
		jv_array_foreach(rsv, i, r) {
			jv insts = member(r, "Instances", JV_KIND_ARRAY);

			if (jv_get_kind(insts) == JV_KIND_ARRAY)
				jv_array_foreach(insts, j, inst) {
					add_user(a->u, rec_str(inst, "ImageId"), "instance",
					    rec_str(inst, "InstanceId"), jv_null(), "DescribeInstances");
					jv_free(inst);
				}
			jv_free(insts);
			jv_free(r);
		}
		jv_free(rsv);
	}
	about_free(a);
}

/* Consumes batch. */
static jv
instances_params(const struct imageuse *u, jv batch)
{
	(void)u;
	return JV_OBJECT(jv_string("Filters"), JV_ARRAY(
	    JV_OBJECT(jv_string("Name"), jv_string("image-id"), jv_string("Values"), batch),
	    JV_OBJECT(jv_string("Name"), jv_string("instance-state-name"), jv_string("Values"),
	    LIVE_STATES)), jv_string("MaxResults"), jv_number(1000));
}

/* Consumes batch. */
static jv
refs_params(const struct imageuse *u, jv batch)
{
	jv types = JV_ARRAY(
	    JV_OBJECT(jv_string("ResourceType"), jv_string("ec2:Instance"),
	    jv_string("ResourceTypeOptions"), JV_ARRAY(JV_OBJECT(jv_string("OptionName"),
	    jv_string("state-name"), jv_string("OptionValues"), LIVE_STATES))),
	    JV_OBJECT(jv_string("ResourceType"), jv_string("imagebuilder:ImageRecipe")),
	    JV_OBJECT(jv_string("ResourceType"), jv_string("imagebuilder:ContainerRecipe")));

	if (u->opts.all_versions)
		types = jv_array_append(types, JV_OBJECT(jv_string("ResourceType"),
		    jv_string("ec2:LaunchTemplate"), jv_string("ResourceTypeOptions"),
		    JV_ARRAY(JV_OBJECT(jv_string("OptionName"), jv_string("version-depth"),
		    jv_string("OptionValues"), JV_ARRAY(jv_string(DEPTH))))));
	return JV_OBJECT(jv_string("ImageIds"), batch, jv_string("ResourceTypes"), types,
	    jv_string("MaxResults"), jv_number(1000));
}

static void	templates_done(const struct ec2_result *, void *);
static void	refs_done(const struct ec2_result *, void *);

/*
 * Borrows ids. DescribeImageReferences refuses a whole batch for one image that does not exist
 * (InvalidAMIID.NotFound, naming it in the message): an image deregistered since it was listed
 * uses nothing. Queues the batch again without the images the message names; returns 0 if it
 * names none of them (then the failure stands).
 */
static int
refs_again(struct imageuse *u, const struct ec2_result *res, jv ids)
{
	jv rest = jv_array();
	int n = 0;

	jv_array_foreach(ids, i, id) {
		if (res->message != NULL && strstr(res->message, jv_string_value(id)) != NULL) {
			n++;
			jv_free(id);
		} else
			rest = jv_array_append(rest, id);
	}
	if (n > 0 && jv_array_length(jv_copy(rest)) > 0)
		submit(u, 0, "DescribeImageReferences", refs_params(u, jv_copy(rest)), refs_done,
		    about_new(u, NULL, jv_copy(rest)));
	jv_free(rest);
	return n > 0;
}

/* The first batch of DescribeImageReferences says it is unknown here: read the other way. */
static void
fall_back(struct imageuse *u, const struct ec2_result *res)
{
	u->fallback = 1;
	u->unknown = jv_array_append(u->unknown, jv_string_fmt("%s: DescribeImageReferences: %s: "
	    "without it, Image Builder recipes that name these images cannot be seen", u->region,
	    res->code));
	batches(u, -1, u->list, ID_BATCH, "DescribeInstances", instances_params, instances_done);
	if (u->opts.all_versions)
		submit(u, 0, "DescribeLaunchTemplates", JV_OBJECT(jv_string("MaxResults"),
		    jv_number(200)), templates_done, about_new(u, NULL, jv_null()));
}

/*
 * Only the first batch is sent at once, the others once it has answered: where EC2 does not know
 * the action, one request finds out, not one per 10 images.
 */
static void
refs_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	struct imageuse *u = a->u;
	const char *type, *arn, *image, *id;
	int first = jv_get_kind(u->refs) == JV_KIND_ARRAY, known = res->code == NULL;
	jv list, rest;

	if (first && res->code != NULL && strmap_index(no_refs, res->code) != -1)
		fall_back(u, res);
	else if (res->code != NULL && strcmp(res->code, "InvalidAMIID.NotFound") == 0 &&
	    refs_again(u, res, a->ids))
		known = 1;
	else if (!failed(u, res, NULL)) {
		list = list_of(res, "ImageReferences");
		jv_array_foreach(list, i, r) {
			type = rec_str(r, "ResourceType");
			arn = rec_str(r, "Arn");
			image = rec_str(r, "ImageId");
			if (type == NULL)
				;
			else if (strcmp(type, "ec2:Instance") == 0)
				add_user(u, image, "instance", arn_id(arn, ":instance/"), jv_null(),
				    "DescribeImageReferences");
			else if (strcmp(type, "ec2:LaunchTemplate") == 0 && wanted(u, image) &&
			    (id = arn_id(arn, ":launch-template/")) != NULL)
				u->every = jv_object_set(u->every, jv_string(id),
				    jv_string("DescribeImageReferences"));
			else if (strcmp(type, "imagebuilder:ImageRecipe") == 0)
				add_user(u, image, "image-recipe", arn, jv_string("image recipe"),
				    "DescribeImageReferences");
			else if (strcmp(type, "imagebuilder:ContainerRecipe") == 0)
				add_user(u, image, "image-recipe", arn, jv_string("container recipe"),
				    "DescribeImageReferences");
			jv_free(r);
		}
		jv_free(list);
	}
	if (first) {
		rest = u->refs;
		u->refs = jv_null();
		if (known)
			batches(u, 0, rest, REF_BATCH, "DescribeImageReferences", refs_params,
			    refs_done);
		jv_free(rest);
	}
	about_free(a);
	advance(u, 0);
}

/* ---- launch templates, Auto Scaling groups, launch configurations ---- */

/* All versions counting, and DescribeImageReferences unknown: every template's every version. */
static void
templates_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	struct imageuse *u = a->u;
	const char *id;
	jv list;

	if (!failed(u, res, NULL)) {
		list = list_of(res, "LaunchTemplates");
		jv_array_foreach(list, i, lt) {
			if ((id = rec_str(lt, "LaunchTemplateId")) != NULL)
				u->every = jv_object_set(u->every, jv_string(id),
				    jv_string("DescribeLaunchTemplateVersions"));
			jv_free(lt);
		}
		jv_free(list);
	}
	about_free(a);
	advance(u, 0);
}

/* The key of a template version in rows: "lt-ID NUMBER". */
static jv
row_key(const char *tid, double num)
{
	return jv_string_fmt("%s %.0f", tid, num);
}

static void
versions_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	struct imageuse *u = a->u;
	int stage = a->stage;
	const char *tid;
	jv list, num, key;

	if (!failed(u, res, tpl_gone)) {
		list = list_of(res, "LaunchTemplateVersions");
		jv_array_foreach(list, i, v) {
			tid = rec_str(v, "LaunchTemplateId");
			num = member(v, "VersionNumber", JV_KIND_NUMBER);
			if (tid != NULL && jv_get_kind(num) == JV_KIND_NUMBER) {
				key = row_key(tid, jv_number_value(num));
				if (!jv_object_has(jv_copy(u->rows), jv_copy(key)))
					u->rows = jv_object_set(u->rows, key, jv_object_set(
					    jv_copy(v), jv_string("_Source"), jv_string(a->id)));
				else
					jv_free(key);
			}
			jv_free(num);
			jv_free(v);
		}
		jv_free(list);
	}
	about_free(a);
	advance(u, stage);
}

/* Queues a read of template versions for stage, standing for source. Consumes params. */
static void
read_versions(struct imageuse *u, int stage, jv params, const char *source)
{
	struct about *a = about_new(u, source, jv_null());

	a->stage = stage;
	submit(u, stage, "DescribeLaunchTemplateVersions", jv_object_set(params,
	    jv_string("MaxResults"), jv_number(200)), versions_done, a);
}

/* Consumes lts (a LaunchTemplateSpecification, or not an object). What group launches via it. */
static void
add_spec(struct imageuse *u, const char *group, const char *via, jv lts)
{
	jv spec;

	if (jv_get_kind(lts) == JV_KIND_OBJECT && group != NULL) {
		spec = JV_OBJECT(jv_string("Group"), jv_string(group), jv_string("Via"),
		    jv_string(via));
		spec = jv_object_set(spec, jv_string("Template"), member(lts, "LaunchTemplateId",
		    JV_KIND_STRING));
		spec = jv_object_set(spec, jv_string("TemplateName"), member(lts,
		    "LaunchTemplateName", JV_KIND_STRING));
		spec = jv_object_set(spec, jv_string("Version"), member(lts, "Version",
		    JV_KIND_STRING));
		u->specs = jv_array_append(u->specs, spec);
	}
	jv_free(lts);
}

/* Borrows g. What an Auto Scaling group's mixed instances policy launches. */
static void
add_mixed(struct imageuse *u, const char *group, jv g)
{
	jv lt = member2(g, "MixedInstancesPolicy", "LaunchTemplate", JV_KIND_OBJECT);
	jv overrides = member(lt, "Overrides", JV_KIND_ARRAY);
	const char *type, *image;
	char *via;

	add_spec(u, group, "mixed instances policy, launch template",
	    member(lt, "LaunchTemplateSpecification", JV_KIND_OBJECT));
	if (jv_get_kind(overrides) == JV_KIND_ARRAY)
		jv_array_foreach(overrides, i, o) {
			type = rec_str(o, "InstanceType");
			xasprintf(&via, "mixed instances policy, override%s%s", type ? " " : "",
			    type ? type : "");
			if ((image = rec_str(o, "ImageId")) != NULL && group != NULL)
				u->specs = jv_array_append(u->specs, JV_OBJECT(jv_string("Group"),
				    jv_string(group), jv_string("Via"), jv_string(via),
				    jv_string("Image"), jv_string(image)));
			free(via);
			xasprintf(&via, "mixed instances policy, override%s%s, launch template",
			    type ? " " : "", type ? type : "");
			add_spec(u, group, via, member(o, "LaunchTemplateSpecification",
			    JV_KIND_OBJECT));
			free(via);
			jv_free(o);
		}
	jv_free(overrides);
	jv_free(lt);
}

static void
groups_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	struct imageuse *u = a->u;
	const char *name, *lc;
	jv list, names;

	if (!failed(u, res, NULL)) {
		list = list_of(res, "AutoScalingGroups");
		jv_array_foreach(list, i, g) {
			name = rec_str(g, "AutoScalingGroupName");
			add_spec(u, name, "launch template", member(g, "LaunchTemplate",
			    JV_KIND_OBJECT));
			add_mixed(u, name, g);
			if ((lc = rec_str(g, "LaunchConfigurationName")) != NULL && name != NULL) {
				names = jv_object_get(jv_copy(u->lcgroups), jv_string(lc));
				if (jv_get_kind(names) != JV_KIND_ARRAY) {
					jv_free(names);
					names = jv_array();
				}
				u->lcgroups = jv_object_set(u->lcgroups, jv_string(lc),
				    jv_array_append(names, jv_string(name)));
			}
			jv_free(g);
		}
		jv_free(list);
	}
	about_free(a);
	advance(u, 0);
}

static void
configs_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	struct imageuse *u = a->u;

	if (!failed(u, res, NULL))
		u->configs = jv_array_concat(u->configs, list_of(res, "LaunchConfigurations"));
	about_free(a);
	advance(u, 0);
}

/* Every launch configuration that names an image is its user, attached to a group or not. */
static void
add_configs(struct imageuse *u)
{
	const char *name;
	jv groups, detail;

	jv_array_foreach(u->configs, i, c) {
		name = rec_str(c, "LaunchConfigurationName");
		groups = name != NULL ? jv_object_get(jv_copy(u->lcgroups), jv_string(name)) :
		    jv_null();
		if (jv_get_kind(groups) == JV_KIND_ARRAY) {
			detail = jv_string("used by Auto Scaling group ");
			jv_array_foreach(groups, j, g) {
				detail = jv_string_concat(j > 0 ? jv_string_append_str(detail, ", ") :
				    detail, g);
			}
		} else
			detail = jv_string("attached to no Auto Scaling group");
		add_user(u, rec_str(c, "ImageId"), "launch-configuration", name, detail,
		    "DescribeLaunchConfigurations");
		jv_free(groups);
		jv_free(c);
	}
}

/*
 * The templates that the default and latest versions read (stage 0) found, as
 * {id: {Name, Default, Latest}}: every template has both, so this is every template.
 */
static jv
templates_of(const struct imageuse *u)
{
	jv tpls = jv_object(), t, n, name;
	const char *tid;

	jv_object_foreach(u->rows, key, row) {
		tid = rec_str(row, "LaunchTemplateId");
		n = member(row, "VersionNumber", JV_KIND_NUMBER);
		t = jv_object_get(jv_copy(tpls), jv_string(tid));
		if (jv_get_kind(t) != JV_KIND_OBJECT) {
			jv_free(t);
			name = member(row, "LaunchTemplateName", JV_KIND_STRING);
			t = JV_OBJECT(jv_string("Name"), name, jv_string("Latest"), jv_number(0));
		}
		if (is_true(row, "DefaultVersion"))
			t = jv_object_set(t, jv_string("Default"), jv_copy(n));
		if (jv_number_value(n) > number_of(t, "Latest"))
			t = jv_object_set(t, jv_string("Latest"), jv_copy(n));
		tpls = jv_object_set(tpls, jv_string(tid), t);
		jv_free(n);
		jv_free(key);
		jv_free(row);
	}
	return tpls;
}

/*
 * Borrows tpls and spec. The key ("lt-ID NUMBER") of the version an Auto Scaling group's spec
 * launches, with $Default, $Latest and no version (the default, as in EC2) resolved; jv_null() if
 * its template does not exist (it launches nothing) or the version is no version.
 */
static jv
spec_key(jv tpls, jv spec)
{
	const char *tid = rec_str(spec, "Template"), *name = rec_str(spec, "TemplateName");
	const char *ver = rec_str(spec, "Version");
	jv t = jv_null(), num, key = jv_null();
	char *end;
	double n;

	if (tid == NULL && name != NULL)
		jv_object_foreach(tpls, k, v) {
			const char *nm = rec_str(v, "Name");

			/* Names are unique in a region, as EC2 keeps them. */
			if (jv_get_kind(key) == JV_KIND_NULL && nm != NULL && strcmp(nm, name) == 0) {
				jv_free(t);
				t = jv_copy(v);
				key = k;
			} else
				jv_free(k);
			jv_free(v);
		}
	else if (tid != NULL) {
		t = jv_object_get(jv_copy(tpls), jv_string(tid));
		key = jv_string(tid);
	}
	if (jv_get_kind(t) != JV_KIND_OBJECT) {
		jv_free(t);
		jv_free(key);
		return jv_null();
	}
	if (ver == NULL || strcmp(ver, "$Default") == 0)
		num = jv_object_get(t, jv_string("Default"));
	else if (strcmp(ver, "$Latest") == 0)
		num = jv_object_get(t, jv_string("Latest"));
	else {
		n = strtod(ver, &end);
		num = *end == '\0' && end != ver && n >= 1 ? jv_number(n) : jv_null();
		jv_free(t);
	}
	if (jv_get_kind(num) != JV_KIND_NUMBER) {
		jv_free(num);
		jv_free(key);
		return jv_null();
	}
	t = row_key(jv_string_value(key), jv_number_value(num));
	jv_free(num);
	jv_free(key);
	return t;
}

/*
 * Stage 1: the launch configurations' and overrides' users, known now; then the versions still
 * to read: every version of the templates in every, and each version a group names by number.
 */
static void
stage_versions(struct imageuse *u)
{
	jv tpls = templates_of(u), asked = jv_object(), key, tid;
	const char *image;

	u->wait[1] = 1;
	add_configs(u);
	jv_object_foreach(u->every, id, src) {
		read_versions(u, 1, JV_OBJECT(jv_string("LaunchTemplateId"), jv_copy(id)),
		    jv_string_value(src));
		jv_free(id);
		jv_free(src);
	}
	jv_array_foreach(u->specs, i, spec) {
		if ((image = rec_str(spec, "Image")) != NULL)
			add_user(u, image, "auto-scaling-group", rec_str(spec, "Group"),
			    jv_string(rec_str(spec, "Via")), "DescribeAutoScalingGroups");
		key = spec_key(tpls, spec);
		if (jv_get_kind(key) == JV_KIND_STRING &&
		    !jv_object_has(jv_copy(u->rows), jv_copy(key)) &&
		    !jv_object_has(jv_copy(asked), jv_copy(key))) {
			const char *sp = strchr(jv_string_value(key), ' ');

			tid = jv_string_sized(jv_string_value(key),
			    (int)(sp - jv_string_value(key)));
			if (!jv_object_has(jv_copy(u->every), jv_copy(tid)))
				read_versions(u, 1, JV_OBJECT(jv_string("LaunchTemplateId"), tid,
				    jv_string("Versions"), JV_ARRAY(jv_string(sp + 1))),
				    "DescribeLaunchTemplateVersions");
			else
				jv_free(tid);
			asked = jv_object_set(asked, key, jv_true());
		} else
			jv_free(key);
		jv_free(spec);
	}
	jv_free(asked);
	jv_free(tpls);
	advance(u, 1);
}

/* ---- SSM parameters ---- */

static void
values_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	struct imageuse *u = a->u;
	const char *type, *dt;
	jv list;

	/* A parameter deleted since it was listed comes back in InvalidParameters: no user. */
	if (!failed(u, res, NULL)) {
		list = list_of(res, "Parameters");
		jv_array_foreach(list, i, p) {
			type = rec_str(p, "Type");
			dt = rec_str(p, "DataType");
			if (type != NULL && strcmp(type, "String") == 0)
				add_user(u, rec_str(p, "Value"), "ssm-parameter", rec_str(p, "Name"),
				    jv_string(dt != NULL ? dt : "text"), "GetParameters");
			jv_free(p);
		}
		jv_free(list);
	}
	about_free(a);
}

/* Every String parameter (never a SecureString: its value is not read), 10 names a call. */
static void
parameters_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	struct imageuse *u = a->u;
	const char *type, *name;
	jv list, names = jv_array();

	if (!failed(u, res, NULL)) {
		list = list_of(res, "Parameters");
		jv_array_foreach(list, i, p) {
			type = rec_str(p, "Type");
			if (type != NULL && strcmp(type, "String") == 0 &&
			    (name = rec_str(p, "Name")) != NULL)
				names = jv_array_append(names, jv_string(name));
			jv_free(p);
		}
		jv_free(list);
	}
	batches(u, -1, names, SSM_BATCH, "ssm:GetParameters", names_params, values_done);
	jv_free(names);
	about_free(a);
}

/* Borrows p. 1 if GetParameters' parameter p answers name: "NAME", "NAME:VERSION", "NAME:LABEL". */
static int
answers(jv p, const char *name)
{
	const char *pn = rec_str(p, "Name"), *sel = rec_str(p, "Selector");
	size_t len = strcspn(name, ":");

	if (pn == NULL)
		return 0;
	if (strcmp(pn, name) == 0)
		return 1;
	if (sel != NULL)
		return strlen(pn) == len && strncmp(pn, name, len) == 0 && strcmp(sel, name + len) == 0;
	/* No Selector said: the one parameter of that name answers its selector. */
	return strlen(pn) == len && strncmp(pn, name, len) == 0;
}

static void
resolve_done(const struct ec2_result *res, void *arg)
{
	struct about *a = arg;
	struct imageuse *u = a->u;
	jv list, value;

	if (!failed(u, res, NULL)) {
		list = list_of(res, "Parameters");
		jv_array_foreach(a->ids, i, name) {
			value = jv_null();
			jv_array_foreach(list, j, p) {
				if (jv_get_kind(value) == JV_KIND_NULL && answers(p, jv_string_value(name)))
					value = member(p, "Value", JV_KIND_STRING);
				jv_free(p);
			}
			u->resolved = jv_object_set(u->resolved, name, value);
		}
		jv_free(list);
	}
	about_free(a);
	advance(u, 2);
}

/* Borrows row. Its LaunchTemplateData's ImageId, or NULL. */
static const char *
row_image(jv row)
{
	jv data = member(row, "LaunchTemplateData", JV_KIND_OBJECT);
	const char *s = rec_str(data, "ImageId");

	/* row holds a reference to data, so the string outlives ours. */
	jv_free(data);
	return s;
}

/* Consumes batch. */
static jv
names_params(const struct imageuse *u, jv batch)
{
	(void)u;
	return JV_OBJECT(jv_string("Names"), batch);
}

/* Stage 2: the resolve:ssm: parameters the versions read name, 10 a call. */
static void
stage_resolve(struct imageuse *u)
{
	jv names = jv_object(), list;
	const char *image;

	u->wait[2] = 1;
	jv_object_foreach(u->rows, key, row) {
		if ((image = row_image(row)) != NULL && strncmp(image, RESOLVE, strlen(RESOLVE)) == 0)
			names = jv_object_set(names, jv_string(image + strlen(RESOLVE)), jv_true());
		jv_free(key);
		jv_free(row);
	}
	list = jv_keys(names);
	batches(u, 2, list, SSM_BATCH, "ssm:GetParameters", names_params, resolve_done);
	jv_free(list);
	advance(u, 2);
}

/* ---- the template and group users ---- */

/*
 * Borrows row. The image a template version launches, as {Image, Via} (Via: its resolve:ssm:
 * name, or null), or jv_null() when it cannot be told, which is said in unknown under label.
 */
static jv
launches(struct imageuse *u, jv row, const char *label)
{
	const char *image = row_image(row), *v;
	jv value;

	if (image == NULL)
		return jv_null();
	if (strncmp(image, "ami-", 4) == 0)
		return JV_OBJECT(jv_string("Image"), jv_string(image), jv_string("Via"), jv_null());
	if (strncmp(image, RESOLVE, strlen(RESOLVE)) == 0) {
		value = jv_object_get(jv_copy(u->resolved), jv_string(image + strlen(RESOLVE)));
		v = jv_get_kind(value) == JV_KIND_STRING ? jv_string_value(value) : NULL;
		if (v != NULL && strncmp(v, "ami-", 4) == 0)
			return JV_OBJECT(jv_string("Image"), value, jv_string("Via"), jv_string(image));
		/* Invalid: GetParameters failed, which is an error already. */
		if (jv_get_kind(value) == JV_KIND_NULL)
			u->unknown = jv_array_append(u->unknown, jv_string_fmt("%s: %s: image '%s': "
			    "no SSM parameter of that name; cannot tell which image it launches",
			    u->region, label, image));
		else if (v != NULL)
			u->unknown = jv_array_append(u->unknown, jv_string_fmt("%s: %s: image '%s' "
			    "holds '%s', not an AMI id; cannot tell which image it launches",
			    u->region, label, image, v));
		jv_free(value);
		return jv_null();
	}
	u->unknown = jv_array_append(u->unknown, jv_string_fmt("%s: %s: image '%s' is not an AMI "
	    "id; cannot tell which image it launches", u->region, label, image));
	return jv_null();
}

/* Borrows img. ", image resolve:ssm:NAME" when the image came through a parameter, else "". */
static jv
via(jv img)
{
	jv v = member(img, "Via", JV_KIND_STRING);
	jv s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_fmt(", image %s", jv_string_value(v)) :
	    jv_string("");

	jv_free(v);
	return s;
}

/*
 * After the last stage: each version read that counts (default, latest, or any with every
 * version counting) is a user of its image; each version a group names makes the group one.
 */
static void
finish(struct imageuse *u)
{
	jv tpls = templates_of(u), images = jv_object(), t, img, s, name, d, sk;
	const char *tid, *nm;
	char *label;
	double n;
	int dflt, latest;

	jv_object_foreach(u->rows, key, row) {
		tid = rec_str(row, "LaunchTemplateId");
		n = number_of(row, "VersionNumber");
		t = jv_object_get(jv_copy(tpls), jv_string(tid));
		nm = rec_str(t, "Name");
		dflt = is_true(row, "DefaultVersion");
		latest = n == number_of(t, "Latest");
		xasprintf(&label, "launch template %s%s%s%s version %.0f%s", tid, nm ? " (" : "",
		    nm ? nm : "", nm ? ")" : "", n, dflt && latest ? " (default, latest)" :
		    dflt ? " (default)" : latest ? " (latest)" : "");
		img = launches(u, row, label);
		if (jv_get_kind(img) == JV_KIND_OBJECT && (dflt || latest || u->opts.all_versions)) {
			s = via(img);
			add_user(u, rec_str(img, "Image"), "launch-template", tid, jv_string_fmt(
			    "%s%sversion %.0f%s%s", nm ? nm : "", nm ? ", " : "", n,
			    dflt && latest ? " (default, latest)" : dflt ? " (default)" :
			    latest ? " (latest)" : "", jv_string_value(s)), rec_str(row, "_Source"));
			jv_free(s);
		}
		if (jv_get_kind(img) == JV_KIND_OBJECT) {
			name = nm != NULL ? jv_string_fmt("%s (%s)", tid, nm) : jv_string(tid);
			img = jv_object_set(img, jv_string("Label"), jv_string_fmt("%s version %.0f",
			    jv_string_value(name), n));
			jv_free(name);
		}
		images = jv_object_set(images, key, img);
		free(label);
		jv_free(t);
		jv_free(row);
	}
	jv_array_foreach(u->specs, i, spec) {
		sk = spec_key(tpls, spec);
		img = jv_get_kind(sk) == JV_KIND_STRING ? jv_object_get(jv_copy(images), sk) :
		    (jv_free(sk), jv_null());
		if (jv_get_kind(img) == JV_KIND_OBJECT) {
			s = via(img);
			d = jv_string_fmt("%s %s%s", rec_str(spec, "Via"), rec_str(img, "Label"),
			    jv_string_value(s));
			add_user(u, rec_str(img, "Image"), "auto-scaling-group", rec_str(spec, "Group"),
			    d, "DescribeAutoScalingGroups");
			jv_free(s);
		}
		jv_free(img);
		jv_free(spec);
	}
	jv_free(images);
	jv_free(tpls);
}

/* ---- the lookup ---- */

int
imageuse_parse_versions(const char *arg)
{
	if (strcmp(arg, "default") == 0)
		return 0;
	if (strcmp(arg, "all") == 0)
		return 1;
	return -1;
}

struct imageuse *
imageuse_submit(struct ec2 *ec2, const char *region, jv ids, const struct imageuse_opts *opts)
{
	struct imageuse *u = xcalloc(1, sizeof(*u));
	jv first = jv_array();
	int n;

	u->ec2 = ec2;
	u->region = xstrdup(region);
	u->opts = *opts;
	u->ids = jv_object();
	u->list = jv_array();
	jv_array_foreach(ids, i, id) {
		if (jv_get_kind(id) == JV_KIND_STRING && !jv_object_has(jv_copy(u->ids), jv_copy(id))) {
			u->ids = jv_object_set(u->ids, jv_copy(id), jv_true());
			u->list = jv_array_append(u->list, id);
		} else
			jv_free(id);
	}
	u->users = jv_object();
	u->launched = jv_object();
	u->rows = jv_object();
	u->specs = jv_array();
	u->configs = jv_array();
	u->lcgroups = jv_object();
	u->every = jv_object();
	u->resolved = jv_object();
	u->refs = jv_array();
	u->unknown = jv_array();
	u->errors = jv_array();
	if ((n = jv_array_length(jv_copy(u->list))) == 0)
		return u;

	u->wait[0] = 1;
	if (!u->opts.described)
		batches(u, -1, u->list, ID_BATCH, "DescribeImages", images_params, images_done);
	if (!u->opts.allow_shared)
		jv_array_foreach(u->list, i, id) {
			submit(u, -1, "DescribeImageAttribute", JV_OBJECT(jv_string("ImageId"),
			    jv_copy(id), jv_string("Attribute"), jv_string("launchPermission")),
			    permissions_done, about_new(u, jv_string_value(id), jv_null()));
			jv_free(id);
		}
	jv_array_foreach(u->list, i, id) {
		if (i < REF_BATCH)
			first = jv_array_append(first, id);
		else
			u->refs = jv_array_append(u->refs, id);
	}
	submit(u, 0, "DescribeImageReferences", refs_params(u, jv_copy(first)), refs_done,
	    about_new(u, NULL, first));
	read_versions(u, 0, JV_OBJECT(jv_string("Versions"), JV_ARRAY(jv_string("$Default"),
	    jv_string("$Latest"))), "DescribeLaunchTemplateVersions");
	submit(u, 0, "autoscaling:DescribeAutoScalingGroups", JV_OBJECT(jv_string("MaxRecords"),
	    jv_number(100)), groups_done, about_new(u, NULL, jv_null()));
	submit(u, 0, "autoscaling:DescribeLaunchConfigurations", JV_OBJECT(jv_string("MaxRecords"),
	    jv_number(100)), configs_done, about_new(u, NULL, jv_null()));
	submit(u, -1, "ssm:DescribeParameters", JV_OBJECT(jv_string("ParameterFilters"),
	    JV_ARRAY(JV_OBJECT(jv_string("Key"), jv_string("Type"), jv_string("Option"),
	    jv_string("Equals"), jv_string("Values"), JV_ARRAY(jv_string("String")))),
	    jv_string("MaxResults"), jv_number(50)), parameters_done,
	    about_new(u, NULL, jv_null()));
	advance(u, 0);
	return u;
}

void
imageuse_image(struct imageuse *u, jv img)
{
	take_image(u, img);
}

jv
imageuse_errors(const struct imageuse *u)
{
	return jv_copy(u->errors);
}

jv
imageuse_users(const struct imageuse *u, const char *id)
{
	jv list = jv_object_get(jv_copy(u->users), jv_string(id)), keys;

	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return jv_array();
	}
	keys = jv_array();
	jv_array_foreach(list, i, v) {
		keys = jv_array_append(keys, JV_ARRAY(jv_object_get(jv_copy(v), jv_string("Kind")),
		    jv_object_get(jv_copy(v), jv_string("Id")),
		    jv_object_get(jv_copy(v), jv_string("Detail"))));
		jv_free(v);
	}
	return jv_sort(list, keys);
}

/* Borrows users. "used by instance i-0123 [SOURCE]", "used by N instances: a, b, ... [SOURCE]". */
static jv
instances_reason(jv users)
{
	jv ids = jv_array(), src = jv_null(), s;
	int i, n;

	jv_array_foreach(users, k, v) {
		if (strcmp(rec_str(v, "Kind"), "instance") == 0) {
			ids = jv_array_append(ids, jv_object_get(jv_copy(v), jv_string("Id")));
			if (jv_get_kind(src) == JV_KIND_NULL)
				src = jv_object_get(jv_copy(v), jv_string("Source"));
		}
		jv_free(v);
	}
	if ((n = jv_array_length(jv_copy(ids))) == 0) {
		jv_free(ids);
		jv_free(src);
		return jv_null();
	}
	s = n == 1 ? jv_string("used by instance ") : jv_string_fmt("used by %d instances: ", n);
	for (i = 0; i < n && i < NAMED; i++)
		s = jv_string_concat(i > 0 ? jv_string_append_str(s, ", ") : s,
		    jv_array_get(jv_copy(ids), i));
	if (n > NAMED)
		s = jv_string_append_str(s, ", ...");
	s = jv_string_append_str(s, " [");
	s = jv_string_append_str(jv_string_concat(s, src), "]");
	jv_free(ids);
	return s;
}

/* Borrows user. Why it keeps its image: "PHRASE ID: DETAIL [SOURCE]". */
static jv
user_reason(jv user)
{
	static const struct strpair phrases[] = {
		{ "auto-scaling-group", "used by Auto Scaling group" },
		{ "image-recipe", "named in Image Builder recipe" },
		{ "launch-configuration", "named in launch configuration" },
		{ "launch-template", "named in launch template" },
		{ "ssm-parameter", "held by SSM parameter" },
		{ NULL, NULL }
	};
	const char *kind = rec_str(user, "Kind"), *id = rec_str(user, "Id");
	const char *detail = rec_str(user, "Detail"), *src = rec_str(user, "Source");
	const char *phrase = strmap_value(phrases, kind);

	if (strcmp(kind, "shared") == 0 && strcmp(id, "all") == 0)
		return jv_string_fmt("shared publicly (launch permission group all) [%s]", src);
	if (strcmp(kind, "shared") == 0)
		return jv_string_fmt("shared with %s %s [%s]", detail, id, src);
	return jv_string_fmt("%s %s%s%s [%s]", phrase != NULL ? phrase : kind, id,
	    detail != NULL ? ": " : "", detail != NULL ? detail : "", src);
}

jv
imageuse_reasons(const struct imageuse *u, const char *id)
{
	jv users = imageuse_users(u, id), why = jv_array(), s, l;
	struct instant t;
	const char *kind, *time_s;

	s = instances_reason(users);
	if (jv_get_kind(s) == JV_KIND_STRING)
		why = jv_array_append(why, s);
	else
		jv_free(s);
	jv_array_foreach(users, i, v) {
		kind = rec_str(v, "Kind");
		if (strcmp(kind, "instance") != 0 &&
		    !(strcmp(kind, "shared") == 0 && u->opts.allow_shared))
			why = jv_array_append(why, user_reason(v));
		jv_free(v);
	}
	jv_free(users);
	l = jv_object_get(jv_copy(u->launched), jv_string(id));
	if (u->opts.launched_within > 0 && jv_get_kind(l) == JV_KIND_OBJECT &&
	    (time_s = rec_str(l, "Time")) != NULL &&
	    rfc3339_parse(time_s, strlen(time_s), &t) == 0 &&
	    (int64_t)time(NULL) - t.sec < u->opts.launched_within)
		why = jv_array_append(why, jv_string_fmt("launched %s, within "
		    "--protect-launched-within %s [%s]", time_s, u->opts.launched_arg,
		    rec_str(l, "Source")));
	jv_free(l);
	return why;
}

jv
imageuse_last_launched(const struct imageuse *u, const char *id)
{
	jv l = jv_object_get(jv_copy(u->launched), jv_string(id));
	jv t = member(l, "Time", JV_KIND_STRING);

	jv_free(l);
	return t;
}

jv
imageuse_unknown(const struct imageuse *u)
{
	return jv_copy(u->unknown);
}

void
imageuse_free(struct imageuse *u)
{
	if (u == NULL)
		return;
	jv_free(u->ids);
	jv_free(u->list);
	jv_free(u->users);
	jv_free(u->launched);
	jv_free(u->rows);
	jv_free(u->specs);
	jv_free(u->configs);
	jv_free(u->lcgroups);
	jv_free(u->every);
	jv_free(u->resolved);
	jv_free(u->refs);
	jv_free(u->unknown);
	jv_free(u->errors);
	free(u->region);
	free(u);
}
