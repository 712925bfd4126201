/* awsopt.c: the options every AWS filter takes: where calls go, how, and with whose credentials. */
#include <err.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "awsconfig.h"
#include "awsopt.h"
#include "creds.h"
#include "ec2.h"
#include "record.h"
#include "trace.h"
#include "util.h"

_Static_assert((int)AWSOPT_ROLE_SESSION < (int)OPT_FIRST, "awsopt.h's codes must stay below a filter's own");

/* An IAM role's ARN: its account is the second group. */
#define ROLE_ARN_RE	"^arn:aws[a-z-]*:iam::([0-9]{12}):role/[A-Za-z0-9+=,.@_/-]{1,512}$"

void
awsopt_init(struct awsopt *o)
{
	o->region = o->endpoint = o->audit = NULL;
	o->max = AWSOPT_MAX_DEFAULT;
	o->dryrun = 0;
	o->profile = o->role_arn = o->external_id = o->role_session = NULL;
}

int
awsopt_role_account(const char *arn, char *buf)
{
	regex_t re;
	regmatch_t m[2];
	int rc;

	if (regcomp(&re, ROLE_ARN_RE, REG_EXTENDED) != 0)
		errx(EXIT_FAIL, "regcomp");
	rc = regexec(&re, arn, 2, m, 0);
	regfree(&re);
	if (rc != 0)
		return -1;
	snprintf(buf, 13, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), arn + m[1].rm_so);
	return 0;
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
	case AWSOPT_PROFILE:
		if (*arg == '\0')
			usage_error("--profile: an empty name");
		o->profile = arg;
		return 1;
	case AWSOPT_ROLE_ARN:
		o->role_arn = arg;
		return 1;
	case AWSOPT_EXTERNAL_ID:
		o->external_id = arg;
		return 1;
	case AWSOPT_ROLE_SESSION:
		if (strlen(arg) < 2 || strlen(arg) > 64 || strspn(arg, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-") != strlen(arg))
			usage_error("--role-session-name '%s': 2 to 64 of letters, digits and +=,.@_-",
			    arg);
		o->role_session = arg;
		return 1;
	case 'P':
		o->max = (int)parse_num(arg, 1, 64, "-P");
		return 1;
	default:
		return 0;
	}
}

const char *
awsopt_account(const struct awsopt *o, struct ec2 *ec2)
{
	static char buf[13];
	const char *code, *role = o->role_arn;
	jv out, acct;

	if (buf[0] != '\0')
		return buf;
	if (role == NULL && o->profile != NULL)
		role = awsconfig_get(o->profile, "role_arn");
	if (role != NULL && awsopt_role_account(role, buf) == 0)
		return buf;
	out = ec2_call(ec2, NULL, "sts:GetCallerIdentity", jv_object(), &code);
	if (!jv_is_valid(out)) {
		acct = jv_invalid_get_msg(out);
		warnx("%s", jv_string_value(acct));
		jv_free(acct);
		exit(EXIT_FAIL);
	}
	acct = jv_object_get(out, jv_string("Account"));
	if (jv_get_kind(acct) != JV_KIND_STRING || jv_string_length_bytes(jv_copy(acct)) != 12)
		errx(EXIT_FAIL, "GetCallerIdentity: no Account in the answer");
	snprintf(buf, sizeof(buf), "%s", jv_string_value(acct));
	jv_free(acct);
	return buf;
}

void
awsopt_creds(const struct awsopt *o)
{
	char account[13];

	if (o->role_arn == NULL && (o->external_id != NULL || o->role_session != NULL))
		usage_error("--%s: only with --role-arn",
		    o->external_id != NULL ? "external-id" : "role-session-name");
	if (o->role_arn != NULL && awsopt_role_account(o->role_arn, account) == -1)
		usage_error("--role-arn '%s': not a role's ARN (arn:aws:iam::ACCOUNT:role/NAME)",
		    o->role_arn);
	if (o->profile != NULL)
		awsconfig_set_profile(o->profile);
	creds_set_role(o->role_arn, o->external_id, o->role_session);
}

struct ec2 *
awsopt_client(const struct awsopt *o)
{
	struct ec2 *ec2;

	awsopt_creds(o);
	audit_open(o->audit);
	ec2 = ec2_new(o->region, o->endpoint, o->max);
	if (o->profile != NULL || o->role_arn != NULL)
		rec_result_account(awsopt_account(o, ec2));
	return ec2;
}
