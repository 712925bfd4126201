/* strmap.c: looking a string up in a constant table of names. */
#include <stddef.h>
#include <string.h>

#include "strmap.h"

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
