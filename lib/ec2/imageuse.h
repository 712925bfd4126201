/* imageuse.h: who uses these images in a region: whatever can launch an image, or shares it. */
#ifndef AMICYCLE_IMAGEUSE_H
#define AMICYCLE_IMAGEUSE_H

#include <stdint.h>

#include <jv.h>

struct ec2;
struct imageuse;

/* What the filters that ask (deregister, image-users) let the user choose. */
struct imageuse_opts {
	int		 all_versions;	/* --launch-template-versions all: every version counts */
	int		 allow_shared;	/* --allow-shared: sharing is no reason (and is not read) */
	int64_t		 launched_within;	/* --protect-launched-within, in seconds; 0: none */
	const char	*launched_arg;	/* that option as given, for the Reason */
	int		 described;	/* the caller describes the images: imageuse_image() */
};

/* --launch-template-versions ARG: 0 for "default", 1 for "all", -1 for anything else. */
int		 imageuse_parse_versions(const char *arg);

/*
 * Borrows ids (image ids, strings). Queues the reads that tell who uses which of ids in region,
 * each one paged read for all the images (in batches where EC2 caps the ids of one call), not a
 * call per image, except launch permissions, which EC2 answers per image only:
 * - DescribeImageReferences (10 ids a call): instances in every state but terminated, Image
 *   Builder recipes and, with all_versions, the launch templates that name an image. Where EC2
 *   does not know it (UnknownOperation, InvalidAction, UnauthorizedOperation): DescribeInstances
 *   (200 ids a call) and, with all_versions, every template's every version; recipes cannot be
 *   seen then, which imageuse_unknown() says.
 * - Always: the default and latest version of every launch template; the versions Auto Scaling
 *   groups name (LaunchTemplate, MixedInstancesPolicy and its overrides; $Default and $Latest
 *   resolved); every launch configuration; every SSM String parameter whose value is an image
 *   id (DescribeParameters, GetParameters 10 names a call; never a SecureString);
 *   resolve:ssm:NAME[:VERSION|:LABEL] images of templates (GetParameters); DescribeImages for
 *   Public and LastLaunchedTime, unless the caller describes them (with launched_within,
 *   DescribeImageAttribute lastLaunchedTime for an image whose record lacks it);
 *   DescribeImageAttribute launchPermission per image, unless allow_shared.
 * The answers arrive during ec2_run(). opts is copied (launched_arg must outlive the lookup).
 */
struct imageuse	*imageuse_submit(struct ec2 *, const char *region, jv ids,
		    const struct imageuse_opts *opts);

/*
 * Borrows img, an image as DescribeImages gives it now, for a lookup whose opts said described
 * (deregister refreshes its records anyway: one DescribeImages, not two). Takes its Public and
 * LastLaunchedTime; with launched_within and no LastLaunchedTime, queues DescribeImageAttribute
 * lastLaunchedTime for it, so the caller runs ec2_run() again after the last image.
 */
void		 imageuse_image(struct imageuse *, jv img);

/*
 * After ec2_run(). Returns the diagnostics of the reads that failed after retries, as an array of
 * strings: empty when every read succeeded. Any failure means the answers are incomplete: a
 * caller that deletes deletes nothing in this region. A template, version or image gone between
 * two reads is no failure: it launches nothing.
 */
jv		 imageuse_errors(const struct imageuse *);

/*
 * After ec2_run(). Returns who uses image id, as an array of {"Kind", "Id", "Detail", "Source"}
 * sorted by Kind, Id, Detail: Kind one of instance, launch-template, auto-scaling-group,
 * launch-configuration, ssm-parameter, shared, image-recipe; Detail a string or null; Source
 * the read that answered. Empty when nothing uses it. With allow_shared, sharing is not listed.
 */
jv		 imageuse_users(const struct imageuse *, const char *id);

/*
 * After ec2_run(). Returns why image id must stay, as an array of strings built from its users
 * ("used by instance i-0123 [DescribeImageReferences]", "named in launch template lt-0123: web,
 * version 3 (latest) [DescribeLaunchTemplateVersions]"), without sharing when allow_shared, and
 * with a launch inside launched_within: empty when it may go.
 */
jv		 imageuse_reasons(const struct imageuse *, const char *id);

/* After ec2_run(). Returns image id's LastLaunchedTime (a string), or jv_null() when unknown. */
jv		 imageuse_last_launched(const struct imageuse *, const char *id);

/*
 * After ec2_run(). Returns what could not be told, as an array of strings: template versions whose
 * image is neither an AMI id nor an SSM parameter that resolves; recipes unseen without
 * DescribeImageReferences.
 */
jv		 imageuse_unknown(const struct imageuse *);

void		 imageuse_free(struct imageuse *);

#endif
