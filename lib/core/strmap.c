/* strmap.c: looking a string up in a table of names: constant, or a list made as it goes. */
#include <stddef.h>
#include <string.h>

#include "strmap.h"
#include "util.h"

int
strmap_index(const char *const *names, const char *s)
{
	int i;

	for (i = 0; s != NULL && names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

const char *
strmap_value(const struct strpair *pairs, const char *s)
{
	for (; s != NULL && pairs->name != NULL; pairs++)
		if (strcmp(pairs->name, s) == 0)
			return pairs->value;
	return NULL;
}

size_t
strlist_index(struct strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return i;
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n] = s;
	return l->n++;
}
