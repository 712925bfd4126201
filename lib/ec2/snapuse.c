/* snapuse.c: which snapshots may go: used by registered images, shared, orphans of images gone. */
#include <stdlib.h>
#include <string.h>

#include "ec2.h"
#include "ec2res.h"
#include "record.h"
#include "snapuse.h"
#include "strmap.h"
#include "util.h"

/* Values per filter: EC2 caps the values of one filter at 200. */
#define BATCH	200

/* What is known of an image a snapshot's description names. */
enum made_state { MADE_UNKNOWN, MADE_EXISTS, MADE_GONE };

struct made {
	char		*id;
	enum made_state	 state;
};

struct snapent {
	struct snapuse	*u;
	char		*id;
	jv		 rec;		/* as DescribeSnapshots says; jv_null(): not this account's */
	jv		 users;		/* [{"ImageId","State"}] */
	jv		 shared;	/* [{"UserId"} | {"Group"}, ...] */
	long		 made;		/* the index of the image it was made for in u->made, or -1 */
};

struct snapuse {
	struct ec2	*ec2;
	char		*region;
	unsigned	 what;
	struct snapent	*snaps;		/* sorted by id, each once */
	size_t		 nsnaps;
	struct made	*made;		/* the images the descriptions name, each once */
	size_t		 nmade;
	jv		 madeidx;	/* image id -> its index in made */
	int		 fallback;	/* the unfiltered DescribeImages is queued */
	jv		 errors;	/* [diag, ...] */
};

/* A DescribeImages by id of some of u's made images. */
struct idcheck {
	struct snapuse	*u;
	jv		 ids;
	int		 filter;	/* by the image-id filter, not ImageIds */
};

/* Error codes of an endpoint that does not take a filter: the read is made without it. */
static const char *const refused[] = {
	"InvalidParameterValue", "InvalidParameter", "InvalidFilter", "UnknownParameter", NULL
};

/* Error codes of a DescribeImages by id that names an image no longer there. */
static const char *const image_gone[] = {
	"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", NULL
};

jv
image_snapshots(jv img)
{
	jv ids = jv_array(), bdms = jv_object_get(jv_copy(img), jv_string("BlockDeviceMappings"));

	if (jv_get_kind(bdms) == JV_KIND_ARRAY)
		jv_array_foreach(bdms, i, m) {
			jv ebs = jv_object_get(m, jv_string("Ebs"));

			if (jv_get_kind(ebs) == JV_KIND_OBJECT && rec_str(ebs, "SnapshotId") != NULL)
				ids = jv_array_append(ids, jv_string(rec_str(ebs, "SnapshotId")));
			jv_free(ebs);
		}
	jv_free(bdms);
	return ids;
}

static int
snapent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snapent *)a)->id, ((const struct snapent *)b)->id);
}

static struct snapent *
find(const struct snapuse *u, const char *id)
{
	struct snapent key = { .id = (char *)id };

	if (id == NULL || u->nsnaps == 0)
		return NULL;
	return bsearch(&key, u->snaps, u->nsnaps, sizeof(*u->snaps), snapent_cmp);
}

static void
fail(struct snapuse *u, const struct ec2_result *res)
{
	u->errors = jv_array_append(u->errors, jv_string(res->diag));
}

/* Borrows list. Queues a read for each BATCH of the ids in list, with params(batch) (consumes it). */
static void
submit_batches(struct snapuse *u, jv list, const char *action, jv (*params)(jv),
    void (*done)(const struct ec2_result *, void *))
{
	int i, n = jv_array_length(jv_copy(list));

	for (i = 0; i < n; i += BATCH)
		ec2_submit_all(u->ec2, u->region, action,
		    params(jv_array_slice(jv_copy(list), i, i + BATCH < n ? i + BATCH : n)), done, u);
}

/* ---- the images that use the snapshots ---- */

/* Borrows out, a DescribeImages answer. Adds each image to the users of its snapshots of u. */
static void
match_users(struct snapuse *u, jv out)
{
	jv list = jv_object_get(jv_copy(out), jv_string("Images"));
	struct snapent *s;
	const char *image, *state;
	int dup;

	if (jv_get_kind(list) == JV_KIND_ARRAY)
		jv_array_foreach(list, i, img) {
			jv sids = image_snapshots(img);

			image = rec_str(img, "ImageId");
			state = rec_str(img, "State");
			jv_array_foreach(sids, j, sid) {
				s = find(u, jv_string_value(sid));
				dup = 0;
				if (s != NULL && image != NULL)
					jv_array_foreach(s->users, k, v) {
						dup |= strcmp(rec_str(v, "ImageId"), image) == 0;
						jv_free(v);
					}
				if (s != NULL && image != NULL && !dup)
					s->users = jv_array_append(s->users, JV_OBJECT(
					    jv_string("ImageId"), jv_string(image),
					    jv_string("State"), jv_string(state != NULL ? state : "?")));
				jv_free(sid);
			}
			jv_free(sids);
			jv_free(img);
		}
	jv_free(list);
}

static void
all_images_done(const struct ec2_result *res, void *arg)
{
	struct snapuse *u = arg;

	if (res->code != NULL)
		fail(u, res);
	else
		match_users(u, res->out);
}

static void
users_done(const struct ec2_result *res, void *arg)
{
	struct snapuse *u = arg;

	if (res->code == NULL)
		match_users(u, res->out);
	else if (strmap_index(refused, res->code) == -1)
		fail(u, res);
	else if (!u->fallback) {
		/* One read of every image answers for every batch of the region. */
		u->fallback = 1;
		ec2_submit_all(u->ec2, u->region, "DescribeImages", ec2res_params(&ec2res_images,
		    JV_OBJECT(jv_string("Owners"), JV_ARRAY(jv_string("self")),
		    jv_string("MaxResults"), jv_number(1000))), all_images_done, u);
	}
}

/* Consumes ids. */
static jv
users_params(jv ids)
{
	return ec2res_params(&ec2res_images, JV_OBJECT(jv_string("Owners"),
	    JV_ARRAY(jv_string("self")), jv_string("Filters"), JV_ARRAY(JV_OBJECT(
	    jv_string("Name"), jv_string("block-device-mapping.snapshot-id"),
	    jv_string("Values"), ids)), jv_string("MaxResults"), jv_number(1000)));
}

/* ---- the images the snapshots were made for ---- */

/*
 * The image id a snapshot's description says it was made for, into buf: CreateImage's
 * "Created by CreateImage(i-...) for ami-... [from vol-...]", CopyImage's "Copied for
 * DestinationAmi ami-... from SourceAmi ami-... for SourceSnapshot snap-...". Returns 0 when
 * desc is neither.
 */
static int
made_for(const char *desc, char *buf, size_t size)
{
	static const char create[] = "Created by CreateImage(", copy[] = "Copied for DestinationAmi ";
	const char *p;
	size_t n;

	if (desc == NULL)
		return 0;
	if (strncmp(desc, create, sizeof(create) - 1) == 0) {
		p = desc + sizeof(create) - 1;
		p += strspn(p, "i-0123456789abcdef");
		if (strncmp(p, ") for ", 6) != 0)
			return 0;
		p += 6;
	} else if (strncmp(desc, copy, sizeof(copy) - 1) == 0)
		p = desc + sizeof(copy) - 1;
	else
		return 0;
	n = strspn(p, "ami-0123456789abcdef");
	if (n >= size || (p[n] != '\0' && p[n] != ' '))
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return rec_id_valid("ImageId", buf);
}

/* The index of image id in u->made, added when new (then appended to *fresh, if not NULL). */
static long
made_add(struct snapuse *u, const char *id, jv *fresh)
{
	jv v = jv_object_get(jv_copy(u->madeidx), jv_string(id));
	long i;

	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		i = (long)jv_number_value(v);
		jv_free(v);
		return i;
	}
	jv_free(v);
	u->made = xreallocarray(u->made, u->nmade + 1, sizeof(*u->made));
	u->made[u->nmade].id = xstrdup(id);
	u->made[u->nmade].state = MADE_UNKNOWN;
	u->madeidx = jv_object_set(u->madeidx, jv_string(id), jv_number((double)u->nmade));
	*fresh = jv_array_append(*fresh, jv_string(id));
	return (long)u->nmade++;
}

static void	check_images(struct snapuse *, jv ids, int filter);

static void
set_made(struct snapuse *u, const char *id, enum made_state st)
{
	jv v = jv_object_get(jv_copy(u->madeidx), jv_string(id));

	if (jv_get_kind(v) == JV_KIND_NUMBER)
		u->made[(size_t)jv_number_value(v)].state = st;
	jv_free(v);
}

static void
images_done(const struct ec2_result *res, void *arg)
{
	struct idcheck *c = arg;
	struct snapuse *u = c->u;
	int n = jv_array_length(jv_copy(c->ids));
	jv list;

	if (res->code != NULL && !c->filter && strmap_index(image_gone, res->code) != -1) {
		/*
		 * One id gone fails the whole call. The image-id filter answers the same ids with
		 * the images that exist, and nothing for the others: one more call, not one per id.
		 */
		if (n == 1) {
			jv id = jv_array_get(jv_copy(c->ids), 0);

			set_made(u, jv_string_value(id), MADE_GONE);
			jv_free(id);
		} else
			check_images(u, jv_copy(c->ids), 1);
	} else if (res->code != NULL)
		fail(u, res);
	else {
		/* Gone unless listed: EC2 answers nothing for an image deregistered a while ago. */
		jv_array_foreach(c->ids, i, id) {
			set_made(u, jv_string_value(id), MADE_GONE);
			jv_free(id);
		}
		list = jv_object_get(jv_copy(res->out), jv_string("Images"));
		if (jv_get_kind(list) == JV_KIND_ARRAY)
			jv_array_foreach(list, i, img) {
				const char *id = rec_str(img, "ImageId"), *st = rec_str(img, "State");

				if (id != NULL && (st == NULL || strcmp(st, "deregistered") != 0))
					set_made(u, id, MADE_EXISTS);
				jv_free(img);
			}
		jv_free(list);
	}
	jv_free(c->ids);
	free(c);
}

/*
 * Consumes ids. Queues DescribeImages of ids (image ids, at most BATCH): as ImageIds, or with
 * filter as the image-id filter.
 */
static void
check_images(struct snapuse *u, jv ids, int filter)
{
	struct idcheck *c = xcalloc(1, sizeof(*c));
	jv p;

	c->u = u;
	c->ids = ids;
	c->filter = filter;
	if (filter)
		p = JV_OBJECT(jv_string("Filters"), JV_ARRAY(JV_OBJECT(jv_string("Name"),
		    jv_string("image-id"), jv_string("Values"), jv_copy(ids))),
		    jv_string("MaxResults"), jv_number(1000));
	else
		p = JV_OBJECT(jv_string("ImageIds"), jv_copy(ids));
	ec2_submit_all(u->ec2, u->region, "DescribeImages", ec2res_params(&ec2res_images, p),
	    images_done, c);
}

/* ---- the snapshots as they are ---- */

static void
records_done(const struct ec2_result *res, void *arg)
{
	struct snapuse *u = arg;
	struct snapent *s;
	char image[32];
	jv recs, fresh = jv_array();
	int i, n;

	if (res->code != NULL) {
		fail(u, res);
		jv_free(fresh);
		return;
	}
	recs = ec2res_list(&ec2res_snapshots, u->region, jv_copy(res->out));
	jv_array_foreach(recs, j, r) {
		if ((s = find(u, rec_str(r, "SnapshotId"))) == NULL) {
			jv_free(r);
			continue;
		}
		if ((u->what & SNAPUSE_ORPHANS) && made_for(rec_str(r, "Description"), image,
		    sizeof(image)))
			s->made = made_add(u, image, &fresh);
		jv_free(s->rec);
		s->rec = r;
	}
	jv_free(recs);
	n = jv_array_length(jv_copy(fresh));
	for (i = 0; i < n; i += BATCH)
		check_images(u, jv_array_slice(jv_copy(fresh), i, i + BATCH < n ? i + BATCH : n), 0);
	jv_free(fresh);
}

/* Consumes ids. */
static jv
records_params(jv ids)
{
	return JV_OBJECT(jv_string("OwnerIds"), JV_ARRAY(jv_string("self")),
	    jv_string("Filters"), JV_ARRAY(JV_OBJECT(jv_string("Name"), jv_string("snapshot-id"),
	    jv_string("Values"), ids)), jv_string("MaxResults"), jv_number(1000));
}

/* ---- sharing ---- */

static void
shared_done(const struct ec2_result *res, void *arg)
{
	struct snapent *s = arg;
	jv perms;

	if (res->code != NULL) {
		/* Gone since: there is nothing left to share, nor to delete. */
		if (strcmp(res->code, "InvalidSnapshot.NotFound") != 0)
			fail(s->u, res);
		return;
	}
	perms = jv_object_get(jv_copy(res->out), jv_string("CreateVolumePermissions"));
	if (jv_get_kind(perms) == JV_KIND_ARRAY)
		s->shared = jv_array_concat(s->shared, perms);
	else
		jv_free(perms);
}

void
snapuse_submit_shared(struct snapuse *u, jv ids)
{
	struct snapent *s;

	jv_array_foreach(ids, i, id) {
		if ((s = find(u, jv_string_value(id))) != NULL)
			ec2_submit(u->ec2, u->region, "DescribeSnapshotAttribute", JV_OBJECT(
			    jv_string("SnapshotId"), jv_string(s->id),
			    jv_string("Attribute"), jv_string("createVolumePermission")), shared_done, s);
		jv_free(id);
	}
}

/* ---- the whole ---- */

struct snapuse *
snapuse_submit(struct ec2 *ec2, const char *region, jv ids, unsigned what)
{
	struct snapuse *u = xcalloc(1, sizeof(*u));
	size_t i, m;
	jv list;

	if (what & SNAPUSE_ORPHANS)
		what |= SNAPUSE_RECORDS;
	u->ec2 = ec2;
	u->region = xstrdup(region);
	u->what = what;
	u->madeidx = jv_object();
	u->errors = jv_array();
	u->snaps = xcalloc((size_t)jv_array_length(jv_copy(ids)) + 1, sizeof(*u->snaps));
	jv_array_foreach(ids, j, id) {
		u->snaps[u->nsnaps++].id = xstrdup(jv_string_value(id));
		jv_free(id);
	}
	if (u->nsnaps > 0)
		qsort(u->snaps, u->nsnaps, sizeof(*u->snaps), snapent_cmp);
	for (i = m = 0; i < u->nsnaps; i++)
		if (m > 0 && strcmp(u->snaps[m - 1].id, u->snaps[i].id) == 0)
			free(u->snaps[i].id);
		else
			u->snaps[m++] = u->snaps[i];
	u->nsnaps = m;
	list = jv_array();
	for (i = 0; i < u->nsnaps; i++) {
		u->snaps[i].u = u;
		u->snaps[i].rec = jv_null();
		u->snaps[i].users = jv_array();
		u->snaps[i].shared = jv_array();
		u->snaps[i].made = -1;
		list = jv_array_append(list, jv_string(u->snaps[i].id));
	}
	if (what & SNAPUSE_USERS)
		submit_batches(u, list, "DescribeImages", users_params, users_done);
	if (what & SNAPUSE_RECORDS)
		submit_batches(u, list, "DescribeSnapshots", records_params, records_done);
	if (what & SNAPUSE_SHARED)
		snapuse_submit_shared(u, list);
	jv_free(list);
	return u;
}

jv
snapuse_errors(const struct snapuse *u)
{
	return jv_copy(u->errors);
}

jv
snapuse_users(const struct snapuse *u, const char *id)
{
	const struct snapent *s = find(u, id);

	return s != NULL ? jv_copy(s->users) : jv_array();
}

jv
snapuse_record(const struct snapuse *u, const char *id)
{
	const struct snapent *s = find(u, id);

	return s != NULL ? jv_copy(s->rec) : jv_null();
}

enum snap_origin
snapuse_origin(const struct snapuse *u, const char *id, const char **image)
{
	const struct snapent *s = find(u, id);
	const struct made *m;

	if (image != NULL)
		*image = NULL;
	if (s == NULL || s->made < 0)
		return SNAP_OTHER;
	m = &u->made[s->made];
	if (image != NULL)
		*image = m->id;
	return m->state == MADE_GONE ? SNAP_ORPHAN : SNAP_IMAGE;
}

jv
snapuse_shared(const struct snapuse *u, const char *id)
{
	const struct snapent *s = find(u, id);

	return s != NULL ? jv_copy(s->shared) : jv_array();
}

void
snapuse_free(struct snapuse *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->nsnaps; i++) {
		free(u->snaps[i].id);
		jv_free(u->snaps[i].rec);
		jv_free(u->snaps[i].users);
		jv_free(u->snaps[i].shared);
	}
	for (i = 0; i < u->nmade; i++)
		free(u->made[i].id);
	free(u->snaps);
	free(u->made);
	jv_free(u->madeidx);
	jv_free(u->errors);
	free(u->region);
	free(u);
}
