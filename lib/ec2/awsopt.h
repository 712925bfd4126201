/*
 * awsopt.h: the options every AWS filter takes: --region, --endpoint-url, -P, --dry-run, --audit,
 * --debug, and whose credentials: --profile, --role-arn, --external-id, --role-session-name.
 */
#ifndef AMICYCLE_AWSOPT_H
#define AMICYCLE_AWSOPT_H

#include <getopt.h>

struct ec2;

struct awsopt {
	const char	*region;	/* --region: where records without Region go */
	const char	*endpoint;	/* --endpoint-url */
	const char	*audit;		/* --audit FILE (else AMICYCLE_AUDIT_LOG) */
	int		 max;		/* -P N: calls in flight at once */
	int		 dryrun;	/* --dry-run: DryRun=true, nothing changes */
	const char	*profile;	/* --profile */
	const char	*role_arn;	/* --role-arn */
	const char	*external_id;	/* --external-id */
	const char	*role_session;	/* --role-session-name */
};

/*
 * -P's default: a cap, not a setting to tune. EC2's limits are token buckets per account, region
 * and action, and the adaptive limiter (ratelimit.h) paces each region and action at its bucket's
 * rate once EC2 throttles it, so the cap need not guard them; what it does bound is the round
 * trips in a row: at 32, a listing of every default region (17 to 33 of them) takes about one
 * round trip a page, and one region's calls may reach about 700 a second at 45 ms round trips,
 * above any of EC2's refill rates.
 */
#define AWSOPT_MAX_DEFAULT	32

/* getopt_long codes: above every letter, below a filter's own (OPT_FIRST, util.h). */
enum {
	AWSOPT_AUDIT = 0x100,
	AWSOPT_DEBUG,
	AWSOPT_DRYRUN,
	AWSOPT_ENDPOINT,
	AWSOPT_REGION,
	AWSOPT_PROFILE,
	AWSOPT_ROLE_ARN,
	AWSOPT_EXTERNAL_ID,
	AWSOPT_ROLE_SESSION
};

/* The entries for whose credentials: every filter that calls AWS has them (in AWSOPT_LONGOPTS). */
#define AWSOPT_CREDS_LONGOPTS \
	{ "external-id",	required_argument,	NULL,	AWSOPT_EXTERNAL_ID }, \
	{ "profile",		required_argument,	NULL,	AWSOPT_PROFILE }, \
	{ "role-arn",		required_argument,	NULL,	AWSOPT_ROLE_ARN }, \
	{ "role-session-name",	required_argument,	NULL,	AWSOPT_ROLE_SESSION }

/* Entries for a filter's getopt_long table (with "P:" in its short options). */
#define AWSOPT_LONGOPTS \
	{ "audit",		required_argument,	NULL,	AWSOPT_AUDIT }, \
	{ "debug",		no_argument,		NULL,	AWSOPT_DEBUG }, \
	{ "dry-run",		no_argument,		NULL,	AWSOPT_DRYRUN }, \
	{ "endpoint-url",	required_argument,	NULL,	AWSOPT_ENDPOINT }, \
	{ "region",		required_argument,	NULL,	AWSOPT_REGION }, \
	AWSOPT_CREDS_LONGOPTS

/* --help's lines for --region, --endpoint-url, -P and --debug, which every filter that calls EC2 takes. */
#define AWSOPT_HELP_CALLS \
	"      --region REGION      the region of records without Region\n" \
	"      --endpoint-url URL   send EC2 requests to URL, not the region's endpoint\n" \
	"  -P N                     at most N calls in flight at once (1..64, default 32)\n" \
	"      --debug              a line on stderr per HTTP request (AMICYCLE_DEBUG=1)\n" \
	AWSOPT_HELP_CREDS

/* --help's lines for AWSOPT_CREDS_LONGOPTS. */
#define AWSOPT_HELP_CREDS \
	"      --profile NAME       the credentials and settings of profile NAME\n" \
	"      --role-arn ARN       act as role ARN (STS AssumeRole, refreshed)\n" \
	"      --external-id ID     with --role-arn: the ExternalId its trust asks for\n" \
	"      --role-session-name NAME  with --role-arn: the session's name\n"

/* The usage line's part for them. */
#define AWSOPT_USAGE_CREDS \
	"[--profile NAME] [--role-arn ARN [--external-id ID]\n" \
	"           [--role-session-name NAME]]"

/* --help's lines for all of AWSOPT_LONGOPTS and -P: the filters that change something. */
#define AWSOPT_HELP \
	"      --dry-run            send each call with DryRun=true; change nothing\n" \
	"      --audit FILE         log every call in FILE (default $AMICYCLE_AUDIT_LOG)\n" \
	AWSOPT_HELP_CALLS

/*
 * The account of role ARN arn (arn:aws:iam::ACCOUNT:role/NAME, in any partition) into buf, 13
 * bytes; -1 if arn is not a role's ARN. --role-arn and accounts-matrix(1) check ARNs with it.
 */
int		 awsopt_role_account(const char *arn, char *buf);

/* Defaults: no region or endpoint given, AWSOPT_MAX_DEFAULT calls at once, no dry run. */
void		 awsopt_init(struct awsopt *);

/* Handles getopt_long's ch when it is one of these options; returns 1 if it was. */
int		 awsopt_parse(struct awsopt *, int ch, const char *arg);

/*
 * Checks --profile, --role-arn, --external-id and --role-session-name (a usage error ends the
 * program) and makes the credential chain (creds.h) use them, for a filter that makes its client
 * itself (ec2_new()). awsopt_client() does this first.
 */
void		 awsopt_creds(const struct awsopt *);

/*
 * Opens the audit log and makes the EC2 client the options describe, with the credentials they
 * name (--profile: that profile's, not the environment's keys; --role-arn: the role's, assumed
 * with those). With --profile or --role-arn the filter may act in another account: every Result
 * then names it (rec_result_account()): the role ARN's account, else the profile's role_arn's,
 * else the one STS GetCallerIdentity answers (a failure there ends the program, exit 1).
 */
struct ec2	*awsopt_client(const struct awsopt *);

/*
 * The account calls are made in, found once: the --role-arn's account, else the profile's
 * role_arn's, else STS GetCallerIdentity's answer (a failure there ends the program, exit 1).
 */
const char	*awsopt_account(const struct awsopt *, struct ec2 *);

#endif
