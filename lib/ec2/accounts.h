/* accounts.h: the accounts file, a JSON line per account: {"Account","Role","Regions","Environment"}. */
#ifndef AMICYCLE_ACCOUNTS_H
#define AMICYCLE_ACCOUNTS_H

#include <stddef.h>

/* One line of the file: an account, the role that acts in it, where it runs, its environment. */
struct account {
	char		*id;		/* Account: 12 digits */
	char		*role;		/* Role: the ARN of a role of that account */
	char		*environment;	/* Environment: letters, digits, - _ . and spaces */
	char		**regions;	/* Regions: region names, NULL-terminated */
	size_t		 nregions;
};

struct accounts {
	struct account	*v;		/* in the file's order */
	size_t		 n;
	size_t		 pairs;		/* account and region pairs: the sum of the nregions */
	char		*last;		/* the last input read ("stdin" or a path), for messages */
};

/*
 * Reads the accounts files paths (jsonl_open()'s: NULL-terminated, "-" is stdin, none is stdin)
 * into a. Every line is checked: only those four fields, a 12-digit account, the ARN of a role in
 * that account, an environment name, a non-empty array of region names, and no account and region
 * on two lines. A bad line ends the program: "PROG: FILE:LINE: ..." and exit 3. No line at all
 * is no error here (a->n is 0): whether it is one is the caller's to say.
 */
void	accounts_read(struct accounts *a, char **paths);

void	accounts_free(struct accounts *a);

#endif
