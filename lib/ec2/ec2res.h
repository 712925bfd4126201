/* ec2res.h: the EC2 resources filters handle (images, instances, snapshots): describing, refreshing by id. */
#ifndef AMICYCLE_EC2RES_H
#define AMICYCLE_EC2RES_H

#include <jv.h>

struct ec2;

/* A kind of resource: how it is described and found by id. */
struct ec2res {
	const char	*name;		/* "images", "instances", "snapshots" */
	const char	*noun;		/* "image", for messages */
	const char	*action;	/* "DescribeImages" */
	const char	*list;		/* the response's list: "Images" ("Reservations" for instances) */
	const char	*id;		/* the id field: "ImageId" */
	const char	*idfilter;	/* the filter that selects by id: "image-id" */
	const char	*idparam;	/* the parameter that names ids: "ImageIds" */
	const char	*ownerparam;	/* the parameter an owner goes in; NULL if none */
};

extern const struct ec2res ec2res_images, ec2res_instances, ec2res_snapshots;

/* The kind called name ("images", "instances", "snapshots"), or NULL. */
const struct ec2res	*ec2res_named(const char *name);

/*
 * Borrows rec. The kind of resource rec is, by its id field: InstanceId (instance records carry
 * an ImageId too), else ImageId, else SnapshotId; NULL if it has none of them as a string.
 */
const struct ec2res	*ec2res_of(jv rec);

/*
 * Consumes params. A Describe call's params with what every lifecycle describe asks: images
 * include deprecated and disabled ones, since a lifecycle tool must see every image it owns.
 */
jv	ec2res_params(const struct ec2res *, jv params);

/* Consumes out (a Describe response). Returns its resources as an array, each with Region. */
jv	ec2res_list(const struct ec2res *, const char *region, jv out);

/*
 * Consumes rec and fresh. The refreshed record: fresh (the resource as it is now) plus the
 * fields of rec a pipeline added (Packer, Result, ...), which are not the resource's own in the
 * service model.
 */
jv	ec2res_merge(const struct ec2res *, jv rec, jv fresh);

/*
 * Consumes recs, an array of records of kind k each with its id and a Region. Describes them by
 * id, in batches of up to 200 ids a call per region, every page, and runs every queued call
 * (ec2_run). Returns an array in recs' order: each record refreshed (ec2res_merge), or null where
 * the resource no longer exists; or jv_invalid_with_msg(diag) if any call failed after retries.
 */
jv	ec2res_refresh(struct ec2 *, const struct ec2res *k, jv recs);

/*
 * ec2res_refresh() for a filter that reads before it changes anything: a call that failed after
 * retries ends the program with its diagnostic and exit 1, nothing having been changed.
 */
jv	ec2res_refresh_or_exit(struct ec2 *, const struct ec2res *k, jv recs);

#endif
