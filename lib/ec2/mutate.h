/* mutate.h: what the filters that change AWS resources share: check input first, judge each call. */
#ifndef AMICYCLE_MUTATE_H
#define AMICYCLE_MUTATE_H

#include <jv.h>

#include "record.h"

struct ec2_result;
struct jsonl;

/* 1 if the EC2 error code says the resource is already gone (InvalidAMIID.NotFound, ...). */
int	ec2_gone(const char *code);

/* What became of one record. */
struct outcome {
	enum result_status	 status;
	char		*reason;
	char		*request_id;
};

/*
 * Judges a call's result: success is done; DryRunOperation under --dry-run is dry-run; a
 * resource already gone is skipped; a call an interrupt kept from being sent is interrupted;
 * anything else is failed with the diagnostic as reason. Replaces what o held. Prints nothing:
 * the caller reports each failed call once.
 */
void	outcome_set(struct outcome *, const struct ec2_result *, int dryrun);

/* Sets o to status and a copy of reason (may be NULL), without a call. */
void	outcome_set_reason(struct outcome *, enum result_status status, const char *reason);

/* One record of a mutating filter: as read, and what became of it. */
struct mrec {
	jv		 rec;		/* the record as read, with its Region set */
	const char	*idfield;	/* the field that names its resource */
	jv		 aux;		/* what the filter's check made of it, or jv_null() */
	struct outcome	 o;
};

/*
 * Reads and checks every record before the first call. A record names its resource in the first
 * of idfields (NULL-terminated) that it has, as an id ("ami-0abc...", "i-...", "snap-..."), and
 * has a Region: its own, else defregion, which is set in the record. check, if not NULL, borrows
 * each record for the filter's own checks (jsonl_die on bad input) and returns its aux. Bad input
 * ends the program: "PROG: FILE:LINE: ..." and exit 3, with nothing changed. Returns the records
 * in input order and their number in *np.
 */
struct mrec	*mutate_read(char **paths, const char *defregion, const char *const *idfields,
		    jv (*check)(struct jsonl *, jv rec, const char *idfield, void *arg), void *arg,
		    size_t *np);

/* A check for mutate_read() of filters of images with none of their own: rec_require_image(). */
jv		 mutate_check_image(struct jsonl *in, jv rec, const char *idfield, void *arg);

/*
 * mutate_read() for a filter that keeps its records its own way: take consumes each record,
 * checked as mutate_read() says, as it is read (jsonl_die on bad input: nothing has been sent
 * yet). Returns the number of records.
 */
size_t		 mutate_read_each(char **paths, const char *defregion, const char *const *idfields,
		    void (*take)(struct jsonl *, jv rec, const char *idfield, void *arg), void *arg);

/* The id of m's resource, and its region. They live as long as m->rec does. */
const char	*mrec_id(const struct mrec *);
const char	*mrec_region(const struct mrec *);

/*
 * outcome_set() for a call of m's that answers {"Return": true}, as EC2's image actions do (a
 * boolean, or the string "true"): a Return of false fails it too. Prints each failure once.
 */
void		 outcome_set_return(struct mrec *m, const struct ec2_result *, int dryrun);

/*
 * Prints every record in input order with its Result, after update (if not NULL) has consumed and
 * returned each record that is done or dry-run, in the state it now has or would have. Consumes
 * the records and frees the array. Returns EXIT_FAIL if any record failed or was interrupted,
 * else EXIT_OK.
 */
int		 mutate_print(struct mrec *, size_t n, const char *action,
		    jv (*update)(jv rec, void *arg), void *arg);

/* A --protect-tag KEY[=VALUE]: the records with that tag (of that value) are refused. */
struct protect {
	char		*key;
	const char	*value;		/* NULL: any value; points into the argument */
};

/* Adds --protect-tag arg (KEY or KEY=VALUE; anything else is a usage error) to *p, *n long. */
void		 protect_add(struct protect **p, size_t *n, const char *arg);

/*
 * Borrows rec; consumes why (an array of strings). Returns why with a reason for each protect
 * tag rec carries: "protect tag KEY" or "protect tag KEY=VALUE".
 */
jv		 protect_reasons(const struct protect *p, size_t n, jv rec, jv why);

void		 protect_free(struct protect *p, size_t n);

#endif
