/* imagestate.h: filters that put images in a state (disable, protect): read it first, call only where it differs. */
#ifndef AMICYCLE_IMAGESTATE_H
#define AMICYCLE_IMAGESTATE_H

#include <jv.h>

struct awsopt;

/* What one such filter wants, and how it gets there. */
struct imagestate {
	const char	*action;	/* the Result's Action: "disable" */
	const char	*field;		/* the field it changes: "State" */
	/*
	 * Borrows img, the image as DescribeImages gives it now. The EC2 action that puts it in
	 * the wanted state, with its parameters besides ImageId and DryRun in *params (an object,
	 * consumed by the caller); or NULL when it is in that state already, with the Reason it is
	 * skipped in *why (allocated).
	 */
	const char	*(*plan)(jv img, const void *arg, jv *params, char **why);
	/*
	 * Borrows img. The field's value once the call is done: what a --dry-run's record shows.
	 * (Done for real, a record shows the image as it is described after the calls.)
	 */
	jv		(*after)(jv img, const void *arg);
	const void	*arg;
};

/*
 * Runs the filter over the records of paths (NULL-terminated; none: standard input), with the
 * options ao: reads and checks them all before any call (mutate_read(): bad input is exit 3,
 * nothing changed); describes the images as they are (one paged DescribeImages per region, by
 * id, disabled ones included: a failure ends the program, exit 1, nothing changed); skips the
 * images gone and those plan() finds in the state already; calls concurrently for the rest;
 * describes the ones done again; and prints every record in input order with its field as it now
 * is and a Result. Returns the exit status: EXIT_FAIL if a record failed or was interrupted.
 */
int	imagestate_run(const struct imagestate *, const struct awsopt *ao, char **paths);

#endif
