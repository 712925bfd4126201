/* trace.c: --debug and AMICYCLE_DEBUG=1: one line on stderr per HTTP request, never a secret. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "trace.h"
#include "util.h"

static int enabled = -1;

void
trace_enable(void)
{
	enabled = 1;
}

int
trace_on(void)
{
	const char *s;

	if (enabled == -1)
		enabled = (s = env("AMICYCLE_DEBUG")) != NULL && strcmp(s, "0") != 0;
	return enabled;
}
