/* ec2res.c: the EC2 resources filters handle (images, instances, snapshots): describing, refreshing by id. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "ec2.h"
#include "ec2model.h"
#include "ec2res.h"
#include "strmap.h"
#include "util.h"

/* Filter values per call: EC2 caps the values of one filter at 200. */
#define BATCH	200

const struct ec2res ec2res_images = {
	"images", "image", "DescribeImages", "Images", "ImageId", "image-id", "ImageIds", "Owners"
};
const struct ec2res ec2res_instances = {
	"instances", "instance", "DescribeInstances", "Reservations", "InstanceId", "instance-id",
	"InstanceIds", NULL
};
const struct ec2res ec2res_snapshots = {
	"snapshots", "snapshot", "DescribeSnapshots", "Snapshots", "SnapshotId", "snapshot-id",
	"SnapshotIds", "OwnerIds"
};

/* In the order ec2res_of() tries their id fields; their names in the same order. */
static const struct ec2res *const kinds[] = {
	&ec2res_instances, &ec2res_images, &ec2res_snapshots
};
static const char *const names[] = { "instances", "images", "snapshots", NULL };
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

const struct ec2res *
ec2res_named(const char *name)
{
	int i = strmap_index(names, name);

	return i == -1 ? NULL : kinds[i];
}

const struct ec2res *
ec2res_of(jv rec)
{
	size_t i;
	jv id;
	int kind;

	for (i = 0; i < NKINDS; i++) {
		id = jv_object_get(jv_copy(rec), jv_string(kinds[i]->id));
		kind = jv_get_kind(id);
		jv_free(id);
		if (kind == JV_KIND_STRING)
			return kinds[i];
	}
	return NULL;
}

static int
is_instances(const struct ec2res *k)
{
	return k == &ec2res_instances;
}

jv
ec2res_params(const struct ec2res *k, jv params)
{
	if (k == &ec2res_images) {
		params = jv_object_set(params, jv_string("IncludeDeprecated"), jv_true());
		params = jv_object_set(params, jv_string("IncludeDisabled"), jv_true());
	}
	return params;
}

jv
ec2res_list(const struct ec2res *k, const char *region, jv out)
{
	jv recs = jv_array(), list;

	list = jv_object_get(out, jv_string(k->list));
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return recs;
	}
	jv_array_foreach(list, i, item) {
		if (is_instances(k)) {
			/* Instances come grouped in reservations; a record is one instance. */
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

/* The model's shape of one resource of kind k: Image, Instance, Snapshot. */
static const struct ec2_shape *
resource_shape(const struct ec2res *k)
{
	const struct ec2_shape *s;

	s = ec2model_member(ec2model_operation("ec2", k->action)->output, k->list);
	if (is_instances(k))
		s = ec2model_member(s, "Instances");
	return s;
}

jv
ec2res_merge(const struct ec2res *k, jv rec, jv fresh)
{
	const struct ec2_shape *shape = resource_shape(k);

	jv_object_foreach(rec, key, val) {
		if (ec2model_member(shape, jv_string_value(key)) == NULL &&
		    !jv_object_has(jv_copy(fresh), jv_copy(key)))
			fresh = jv_object_set(fresh, key, val);
		else {
			jv_free(key);
			jv_free(val);
		}
	}
	jv_free(rec);
	return fresh;
}

/* Borrows r. The key a resource is found by: "REGION ID". */
static jv
idkey(const struct ec2res *k, jv r)
{
	jv region = jv_object_get(jv_copy(r), jv_string("Region"));
	jv id = jv_object_get(jv_copy(r), jv_string(k->id));
	jv key;

	key = jv_string_fmt("%s %s", jv_string_value(region), jv_string_value(id));
	jv_free(region);
	jv_free(id);
	return key;
}

/* One Describe call of up to BATCH ids in one region. */
struct batch {
	const struct ec2res	*kind;
	char			*region;
	jv			 found;		/* the resources, each with Region */
	char			*diag;		/* why the call failed */
};

static void
batch_done(const struct ec2_result *res, void *arg)
{
	struct batch *b = arg;

	if (res->code != NULL)
		b->diag = xstrdup(res->diag);
	else {
		jv_free(b->found);
		b->found = ec2res_list(b->kind, b->region, jv_copy(res->out));
	}
}

/* Borrows recs. The distinct regions of recs, and for each the distinct ids, in input order. */
static jv
ids_by_region(const struct ec2res *k, jv recs)
{
	jv regions = jv_array(), seen = jv_object(), key, region, id;
	int i, n;

	jv_array_foreach(recs, j, r) {
		key = idkey(k, r);
		if (jv_object_has(jv_copy(seen), jv_copy(key))) {
			jv_free(key);
			jv_free(r);
			continue;
		}
		seen = jv_object_set(seen, key, jv_true());
		region = jv_object_get(jv_copy(r), jv_string("Region"));
		id = jv_object_get(r, jv_string(k->id));
		n = jv_array_length(jv_copy(regions));
		for (i = 0; i < n; i++) {
			jv g = jv_array_get(jv_copy(regions), i);

			if (jv_equal(jv_array_get(jv_copy(g), 0), jv_copy(region))) {
				regions = jv_array_set(regions, i, jv_array_append(g, id));
				break;
			}
			jv_free(g);
		}
		if (i == n)
			regions = jv_array_append(regions, JV_ARRAY(jv_copy(region), id));
		jv_free(region);
	}
	jv_free(seen);
	return regions;
}

jv
ec2res_refresh(struct ec2 *ec2, const struct ec2res *k, jv recs)
{
	struct batch *bs;
	jv regions, byid, out, ids, fresh;
	size_t nb = 0, i;
	int n, j;
	char *diag = NULL;

	regions = ids_by_region(k, recs);
	bs = xcalloc(jv_array_length(jv_copy(recs)) + 1, sizeof(*bs));
	jv_array_foreach(regions, g, group) {
		jv rj = jv_array_get(jv_copy(group), 0);
		const char *region = jv_string_value(rj);

		n = jv_array_length(jv_copy(group));
		for (j = 1; j < n; j += BATCH) {
			ids = jv_array_slice(jv_copy(group), j, j + BATCH < n ? j + BATCH : n);
			bs[nb].kind = k;
			bs[nb].region = xstrdup(region);
			bs[nb].found = jv_array();
			ec2_submit_all(ec2, region, k->action, ec2res_params(k, JV_OBJECT(
			    jv_string("Filters"), JV_ARRAY(JV_OBJECT(jv_string("Name"),
			    jv_string(k->idfilter), jv_string("Values"), ids)),
			    jv_string("MaxResults"), jv_number(1000))), batch_done, &bs[nb]);
			nb++;
		}
		jv_free(rj);
		jv_free(group);
	}
	jv_free(regions);
	ec2_run(ec2);

	byid = jv_object();
	for (i = 0; i < nb; i++) {
		if (bs[i].diag != NULL && diag == NULL)
			diag = bs[i].diag;
		else
			free(bs[i].diag);
		jv_array_foreach(bs[i].found, x, r)
			byid = jv_object_set(byid, idkey(k, r), r);
		jv_free(bs[i].found);
		free(bs[i].region);
	}
	free(bs);
	if (diag != NULL) {
		out = jv_invalid_with_msg(jv_string(diag));
		free(diag);
		jv_free(byid);
		jv_free(recs);
		return out;
	}
	out = jv_array();
	jv_array_foreach(recs, x, r) {
		fresh = jv_object_get(jv_copy(byid), idkey(k, r));
		if (jv_get_kind(fresh) == JV_KIND_OBJECT)
			out = jv_array_append(out, ec2res_merge(k, r, fresh));
		else {
			jv_free(fresh);
			jv_free(r);
			out = jv_array_append(out, jv_null());
		}
	}
	jv_free(recs);
	jv_free(byid);
	return out;
}

jv
ec2res_refresh_or_exit(struct ec2 *ec2, const struct ec2res *k, jv recs)
{
	jv fresh = ec2res_refresh(ec2, k, recs), msg;

	if (jv_is_valid(fresh))
		return fresh;
	msg = jv_invalid_get_msg(fresh);
	warnx("%s", jv_string_value(msg));
	jv_free(msg);
	exit(EXIT_FAIL);
}
