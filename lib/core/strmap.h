/* strmap.h: looking a string up in a constant table of names. */
#ifndef AMICYCLE_STRMAP_H
#define AMICYCLE_STRMAP_H

/* A name and what it stands for, in a table that { NULL, NULL } ends. */
struct strpair {
	const char	*name;
	const char	*value;
};

/* The index of s in names, which NULL ends; -1 if s is NULL or not there. */
int		 strmap_index(const char *const *names, const char *s);

/* The value s is paired with in pairs; NULL if s is NULL or not there. */
const char	*strmap_value(const struct strpair *pairs, const char *s);

#endif
