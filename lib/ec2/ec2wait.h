/* ec2wait.h: waiting for EC2 images and instances to reach a state, polling with back-off. */
#ifndef AMICYCLE_EC2WAIT_H
#define AMICYCLE_EC2WAIT_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

struct ec2;

/* The state to wait for, and the kind of resource it applies to. */
enum ec2wait_state {
	EC2WAIT_AVAILABLE,		/* images: available */
	EC2WAIT_RUNNING,		/* instances: running, with a PublicIpAddress */
	EC2WAIT_RUNNING_PRIVATE,	/* instances: running, with a PrivateIpAddress */
	EC2WAIT_TERMINATED		/* instances: terminated, or no longer described at all */
};

/* What became of one resource. */
enum ec2wait_outcome {
	EC2WAIT_REACHED,	/* it is in the state */
	EC2WAIT_WAITING,	/* not yet, when the time ran out or the wait stopped early */
	EC2WAIT_STUCK,		/* in a state it cannot leave for the one waited for (an image
				   failed, an instance terminated while waited for running), or gone */
	EC2WAIT_ERROR		/* describing it failed after retries */
};

struct ec2wait {
	enum ec2wait_state state;
	jv	  recs;		/* the records as last described, in input order */
	size_t	  n;
	int	 *outcome;	/* per record: enum ec2wait_outcome */
	char	**reason;	/* per record: why it is not in the state ("still pending", "image
				   failed: ...", a describe's diagnostic); NULL when it is */
	int	  stopped;	/* 1 if the wait stopped early: at the first stuck record or error, or
				   interrupted */
	int	  interrupted;	/* 1 if a signal intr_catch() handles stopped it */
	int	  told;		/* a failed describe has been reported */
};

/*
 * The default timeouts, as --timeout takes them: copying an image to another region takes
 * minutes per GiB; an instance boots, or terminates, in a minute or two.
 */
#define EC2WAIT_TIMEOUT_IMAGES		"30m"
#define EC2WAIT_TIMEOUT_INSTANCES	"10m"

/* Parses --timeout's DURATION ("90s", "1h30m"); a bad one is a usage error (exit 2). */
int64_t		 ec2wait_timeout(const char *);

/* The kind of resource ("images", "instances") state applies to. */
const char	*ec2wait_kind(enum ec2wait_state);

/*
 * Consumes recs, an array of records of the kind state applies to, each with its id and a
 * Region. Describes them by id (batched per region, as ec2res_refresh() does) at once, then
 * again after pauses that grow from about 1 s to about 15 s, with jitter, until each is in
 * state, or timeout_s seconds have passed (the last pause ends at the deadline, and one last
 * describe follows), or one is stuck or a describe fails (then it stops at once). Resources not
 * found are given 30 s to appear (EC2 is eventually consistent), except when waiting for
 * terminated, which they then are. A signal that intr_catch() (interrupt.h) handles stops the
 * wait after the describe in flight. The wait's progress goes to stderr after each describe and
 * as its cadence asks (progress.h: "ec2-wait: 2 of 3 available, 1 pending (eu-west-1 ami-...)
 * 4m10s / 30m"). Fills w; free it with ec2wait_free().
 */
void	ec2wait(struct ec2 *, jv recs, enum ec2wait_state, int64_t timeout_s, struct ec2wait *w);

/*
 * Why record i of w is not in the state, for its Result's Reason ("still pending after 30m",
 * "image failed: ..."); NULL if it is. Reports it on stderr when it is news: "PROG: REGION ID:
 * REASON" for one stuck or still waiting at the timeout (timeout is the option's text), the
 * diagnostic of a failed describe once. The caller frees it.
 */
char	*ec2wait_why(struct ec2wait *w, size_t i, const char *timeout);

void	ec2wait_free(struct ec2wait *);

#endif
