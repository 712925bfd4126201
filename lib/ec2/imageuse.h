/* imageuse.h: which images are in use: by instances not terminated, by launch templates. */
#ifndef AMICYCLE_IMAGEUSE_H
#define AMICYCLE_IMAGEUSE_H

#include <jv.h>

struct ec2;
struct imageuse;

/*
 * Borrows ids (image ids, strings). Queues the reads that tell which of ids, in region, are used:
 * DescribeInstances for instances pending, running, stopping or stopped (200 ids a call, every
 * page), and DescribeLaunchTemplates, then the default and latest versions of each template
 * (ResolveAlias, so a resolve:ssm: parameter comes back as the AMI it names). The answers arrive
 * during ec2_run().
 */
struct imageuse	*imageuse_submit(struct ec2 *, const char *region, jv ids);

/*
 * After ec2_run(). Returns the diagnostics of the reads that failed after retries, as an array of
 * strings: empty when every read succeeded. A template deleted between the two reads is not a
 * failure: it launches nothing.
 */
jv		 imageuse_errors(const struct imageuse *);

/*
 * After ec2_run(). Returns why image id is in use, as an array of strings such as
 * "used by instance i-0123 (running)" or "named in launch template lt-0123 (web) version 3
 * (default)": empty when nothing uses it.
 */
jv		 imageuse_reasons(const struct imageuse *, const char *id);

/*
 * After ec2_run(). Returns what could not be told, as an array of strings: the template versions
 * whose ImageId is not an AMI id (an SSM parameter EC2 did not resolve).
 */
jv		 imageuse_unknown(const struct imageuse *);

void		 imageuse_free(struct imageuse *);

#endif
