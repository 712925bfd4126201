/* imageuse.c: which images are in use: by instances not terminated, by launch templates. */
#include <stdlib.h>
#include <string.h>

#include "ec2.h"
#include "imageuse.h"
#include "util.h"

/* Values per filter: EC2 caps the values of one filter at 200. */
#define BATCH	200
/* Instances named in a reason; an image behind an Auto Scaling group may have thousands. */
#define NAMED	3

struct imageuse {
	struct ec2	*ec2;
	char		*region;
	jv		 instances;	/* image id -> ["i-0123 (running)", ...] */
	jv		 reasons;	/* image id -> [reason, ...], for templates */
	jv		 unknown;	/* [what could not be told, ...] */
	jv		 errors;	/* [diag, ...] */
};

/* One template whose default and latest versions are being read. */
struct tpl {
	struct imageuse	*u;
	char		*label;		/* "lt-0123 (web)" */
};

/* Consumes item. Appends item to the list of image id in the map *map. */
static void
add(jv *map, const char *id, jv item)
{
	jv list = jv_object_get(jv_copy(*map), jv_string(id));

	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		list = jv_array();
	}
	*map = jv_object_set(*map, jv_string(id), jv_array_append(list, item));
}

/* Borrows obj. Its string field, or "" (for building messages). */
static const char *
field(jv obj, const char *name)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(name));
	const char *s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "";

	/* obj holds a reference to v, so its bytes outlive ours. */
	jv_free(v);
	return s;
}

static void
instances_done(const struct ec2_result *res, void *arg)
{
	struct imageuse *u = arg;
	jv rsv;

	if (res->code != NULL) {
		u->errors = jv_array_append(u->errors, jv_string(res->diag));
		return;
	}
	rsv = jv_object_get(jv_copy(res->out), jv_string("Reservations"));
	if (jv_get_kind(rsv) == JV_KIND_ARRAY)
		jv_array_foreach(rsv, i, r) {
			jv insts = jv_object_get(r, jv_string("Instances"));

			if (jv_get_kind(insts) == JV_KIND_ARRAY)
				jv_array_foreach(insts, j, inst) {
					jv state = jv_object_get(jv_copy(inst), jv_string("State"));

					add(&u->instances, field(inst, "ImageId"),
					    jv_string_fmt("%s (%s)", field(inst, "InstanceId"),
					    jv_get_kind(state) == JV_KIND_OBJECT ?
					    field(state, "Name") : "?"));
					jv_free(state);
					jv_free(inst);
				}
			jv_free(insts);
		}
	jv_free(rsv);
}

static void
versions_done(const struct ec2_result *res, void *arg)
{
	struct tpl *t = arg;
	struct imageuse *u = t->u;
	jv versions;

	if (res->code != NULL) {
		/* Deleted since it was listed: it launches nothing now. */
		if (strcmp(res->code, "InvalidLaunchTemplateId.NotFound") != 0 &&
		    strcmp(res->code, "InvalidLaunchTemplateName.NotFoundException") != 0)
			u->errors = jv_array_append(u->errors, jv_string(res->diag));
		goto out;
	}
	versions = jv_object_get(jv_copy(res->out), jv_string("LaunchTemplateVersions"));
	if (jv_get_kind(versions) == JV_KIND_ARRAY)
		jv_array_foreach(versions, i, v) {
			jv data = jv_object_get(jv_copy(v), jv_string("LaunchTemplateData"));
			jv num = jv_object_get(jv_copy(v), jv_string("VersionNumber"));
			jv dflt = jv_object_get(jv_copy(v), jv_string("DefaultVersion"));
			const char *image = jv_get_kind(data) == JV_KIND_OBJECT ?
			    field(data, "ImageId") : "";
			char *which;

			xasprintf(&which, "launch template %s version %.0f (%s)", t->label,
			    jv_get_kind(num) == JV_KIND_NUMBER ? jv_number_value(num) : 0.0,
			    jv_get_kind(dflt) == JV_KIND_TRUE ? "default" : "latest");
			if (strncmp(image, "ami-", 4) == 0)
				add(&u->reasons, image, jv_string_fmt("named in %s", which));
			else if (*image != '\0')
				u->unknown = jv_array_append(u->unknown, jv_string_fmt(
				    "%s: %s: image '%s' is not an AMI id; cannot tell which image it launches",
				    u->region, which, image));
			free(which);
			jv_free(data);
			jv_free(num);
			jv_free(dflt);
			jv_free(v);
		}
	jv_free(versions);
out:
	free(t->label);
	free(t);
}

static void
templates_done(const struct ec2_result *res, void *arg)
{
	struct imageuse *u = arg;
	struct tpl *t;
	jv list;

	if (res->code != NULL) {
		u->errors = jv_array_append(u->errors, jv_string(res->diag));
		return;
	}
	list = jv_object_get(jv_copy(res->out), jv_string("LaunchTemplates"));
	if (jv_get_kind(list) == JV_KIND_ARRAY)
		jv_array_foreach(list, i, lt) {
			const char *id = field(lt, "LaunchTemplateId"), *name = field(lt, "LaunchTemplateName");

			t = xcalloc(1, sizeof(*t));
			t->u = u;
			if (*name != '\0')
				xasprintf(&t->label, "%s (%s)", id, name);
			else
				t->label = xstrdup(id);
			ec2_submit_all(u->ec2, u->region, "DescribeLaunchTemplateVersions", JV_OBJECT(
			    jv_string("LaunchTemplateId"), jv_string(id),
			    jv_string("Versions"), JV_ARRAY(jv_string("$Default"), jv_string("$Latest")),
			    jv_string("ResolveAlias"), jv_true()), versions_done, t);
			jv_free(lt);
		}
	jv_free(list);
}

struct imageuse *
imageuse_submit(struct ec2 *ec2, const char *region, jv ids)
{
	struct imageuse *u = xcalloc(1, sizeof(*u));
	int i, j, n = jv_array_length(jv_copy(ids));
	jv batch;

	u->ec2 = ec2;
	u->region = xstrdup(region);
	u->instances = jv_object();
	u->reasons = jv_object();
	u->unknown = jv_array();
	u->errors = jv_array();
	for (i = 0; i < n; i = j) {
		batch = jv_array();
		for (j = i; j < n && j - i < BATCH; j++)
			batch = jv_array_append(batch, jv_array_get(jv_copy(ids), j));
		ec2_submit_all(ec2, region, "DescribeInstances", JV_OBJECT(
		    jv_string("Filters"), JV_ARRAY(
		    JV_OBJECT(jv_string("Name"), jv_string("image-id"), jv_string("Values"), batch),
		    JV_OBJECT(jv_string("Name"), jv_string("instance-state-name"), jv_string("Values"),
		    JV_ARRAY(jv_string("pending"), jv_string("running"), jv_string("stopping"),
		    jv_string("stopped")))),
		    jv_string("MaxResults"), jv_number(1000)), instances_done, u);
	}
	ec2_submit_all(ec2, region, "DescribeLaunchTemplates",
	    JV_OBJECT(jv_string("MaxResults"), jv_number(200)), templates_done, u);
	return u;
}

jv
imageuse_errors(const struct imageuse *u)
{
	return jv_copy(u->errors);
}

jv
imageuse_reasons(const struct imageuse *u, const char *id)
{
	jv insts = jv_object_get(jv_copy(u->instances), jv_string(id));
	jv tpls = jv_object_get(jv_copy(u->reasons), jv_string(id));
	jv why = jv_array(), s;
	int i, n;

	if (jv_get_kind(insts) == JV_KIND_ARRAY && (n = jv_array_length(jv_copy(insts))) > 0) {
		s = n == 1 ? jv_string("used by instance ") : jv_string_fmt("used by %d instances: ", n);
		for (i = 0; i < n && i < NAMED; i++)
			s = jv_string_concat(i > 0 ? jv_string_append_str(s, ", ") : s,
			    jv_array_get(jv_copy(insts), i));
		if (n > NAMED)
			s = jv_string_append_str(s, ", ...");
		why = jv_array_append(why, s);
	}
	if (jv_get_kind(tpls) == JV_KIND_ARRAY)
		why = jv_array_concat(why, jv_copy(tpls));
	jv_free(insts);
	jv_free(tpls);
	return why;
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
	jv_free(u->instances);
	jv_free(u->reasons);
	jv_free(u->unknown);
	jv_free(u->errors);
	free(u->region);
	free(u);
}
