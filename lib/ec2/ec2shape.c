/* ec2shape.c: finding one's way in the generated tables of ec2model.c (which only hold data). */
#include <string.h>

#include "ec2model.h"

const struct ec2_shape *
ec2model_member(const struct ec2_shape *s, const char *name)
{
	const struct ec2_shape *m;
	unsigned i;

	for (i = 0; s != NULL && i < s->nmembers; i++)
		if (s->members[i].name != NULL && strcmp(s->members[i].name, name) == 0) {
			m = s->members[i].shape;
			return m->type == EC2_LIST ? m->members[0].shape : m;
		}
	return NULL;
}
