/* snapuse.h: which snapshots may go: used by registered images, shared, orphans of images gone. */
#ifndef AMICYCLE_SNAPUSE_H
#define AMICYCLE_SNAPUSE_H

#include <jv.h>

struct ec2;
struct snapuse;

/* What snapuse_submit() reads. */
enum {
	SNAPUSE_USERS	= 1 << 0,	/* the images that use each snapshot */
	SNAPUSE_RECORDS	= 1 << 1,	/* each snapshot as it is now (this account's) */
	SNAPUSE_ORPHANS	= 1 << 2,	/* whether the image a snapshot was made for is gone */
	SNAPUSE_SHARED	= 1 << 3	/* who each snapshot is shared with */
};

/*
 * Borrows ids (snapshot ids, strings; repeats are read once). Queues the reads of what says, for
 * the snapshots ids in region:
 * - SNAPUSE_USERS: DescribeImages of this account's images (deprecated and disabled ones
 *   included) with the block-device-mapping.snapshot-id filter, 200 ids a call, every page. An
 *   endpoint that refuses the filter (InvalidParameterValue, InvalidFilter, ...) gets one paged
 *   DescribeImages of all the account's images instead, matched here: a slower read, not a failure.
 * - SNAPUSE_RECORDS: DescribeSnapshots of this account's snapshots, 200 ids a call, every page.
 * - SNAPUSE_ORPHANS (implies RECORDS): then DescribeImages by id (deprecated and disabled ones
 *   included) of the images the snapshots' descriptions say they were made for: "Created by
 *   CreateImage(i-...) for ami-..." or "Copied for DestinationAmi ami-... from SourceAmi ...". An
 *   image that is gone answers nothing, or InvalidAMIID.NotFound or .Unavailable, which fail the
 *   whole call: such a batch is asked again with the image-id filter, which answers only the
 *   images that exist.
 * - SNAPUSE_SHARED: DescribeSnapshotAttribute createVolumePermission, one call per snapshot
 *   (EC2 has no batch read of it).
 * The answers arrive during ec2_run().
 */
struct snapuse	*snapuse_submit(struct ec2 *, const char *region, jv ids, unsigned what);

/*
 * Borrows ids. Queues SNAPUSE_SHARED's reads for ids, known to u (so that a caller reads only
 * the snapshots its first answers left as candidates). The answers arrive during ec2_run().
 */
void		 snapuse_submit_shared(struct snapuse *, jv ids);

/*
 * After ec2_run(). The diagnostics of the reads that failed after retries, as an array of
 * strings: empty when every read succeeded. A failed read means that what it would tell cannot
 * be told: the caller keeps the snapshots.
 */
jv		 snapuse_errors(const struct snapuse *);

/*
 * After ec2_run(), with SNAPUSE_USERS. Returns the images that use snapshot id, as an array of
 * {"ImageId","State"} objects: empty when none does.
 */
jv		 snapuse_users(const struct snapuse *, const char *id);

/*
 * After ec2_run(), with SNAPUSE_RECORDS. Returns snapshot id as DescribeSnapshots says it is
 * now, with its Region; jv_null() when this account has no such snapshot.
 */
jv		 snapuse_record(const struct snapuse *, const char *id);

/* What a snapshot was made for, by its Description. */
enum snap_origin {
	SNAP_OTHER,	/* no image: a volume backup, or a description that names none */
	SNAP_IMAGE,	/* made for an image that still exists (or that could not be told) */
	SNAP_ORPHAN	/* made for an image that no longer exists */
};

/*
 * After ec2_run(), with SNAPUSE_ORPHANS. What snapshot id was made for; *image, if not NULL, gets
 * the image its description names, or NULL (valid as long as u).
 */
enum snap_origin snapuse_origin(const struct snapuse *, const char *id, const char **image);

/*
 * After ec2_run(), with SNAPUSE_SHARED. Returns who snapshot id is shared with: its
 * createVolumePermission grantees as EC2 gives them ([{"UserId":"111122223333"},
 * {"Group":"all"}]); empty when nobody.
 */
jv		 snapuse_shared(const struct snapuse *, const char *id);

void		 snapuse_free(struct snapuse *);

/* Borrows img, an image record. Its EBS snapshots' ids, as an array of strings. */
jv		 image_snapshots(jv img);

#endif
