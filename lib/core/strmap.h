/* strmap.h: looking a string up in a table of names: constant, or a list made as it goes. */
#ifndef AMICYCLE_STRMAP_H
#define AMICYCLE_STRMAP_H

#include <stddef.h>

/* A name and what it stands for, in a table that { NULL, NULL } ends. */
struct strpair {
	const char	*name;
	const char	*value;
};

/* The index of s in names, which NULL ends; -1 if s is NULL or not there. */
int		 strmap_index(const char *const *names, const char *s);

/* The value s is paired with in pairs; NULL if s is NULL or not there. */
const char	*strmap_value(const struct strpair *pairs, const char *s);

/* Distinct strings, borrowed (each must outlive the list), in the order they were added. */
struct strlist {
	const char	**v;
	size_t		  n;
};

/* The index of s in l, added at the end when it is not there. free(l->v) when done. */
size_t		 strlist_index(struct strlist *l, const char *s);

#endif
