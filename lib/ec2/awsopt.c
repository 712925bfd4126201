/* awsopt.c: the options every AWS filter takes: --region, --endpoint-url, -P, --dry-run, --audit, --debug. */
#include <stddef.h>

#include "audit.h"
#include "awsopt.h"
#include "ec2.h"
#include "trace.h"
#include "util.h"

_Static_assert((int)AWSOPT_REGION < (int)OPT_FIRST, "awsopt.h's codes must stay below a filter's own");

void
awsopt_init(struct awsopt *o)
{
	o->region = o->endpoint = o->audit = NULL;
	o->max = AWSOPT_MAX_DEFAULT;
	o->dryrun = 0;
}

int
awsopt_parse(struct awsopt *o, int ch, const char *arg)
{
	switch (ch) {
	case AWSOPT_AUDIT:
		o->audit = arg;
		return 1;
	case AWSOPT_DEBUG:
		trace_enable();
		return 1;
	case AWSOPT_DRYRUN:
		o->dryrun = 1;
		return 1;
	case AWSOPT_ENDPOINT:
		o->endpoint = arg;
		return 1;
	case AWSOPT_REGION:
		o->region = arg;
		return 1;
	case 'P':
		o->max = (int)parse_num(arg, 1, 64, "-P");
		return 1;
	default:
		return 0;
	}
}

struct ec2 *
awsopt_client(const struct awsopt *o)
{
	audit_open(o->audit);
	return ec2_new(o->region, o->endpoint, o->max);
}
