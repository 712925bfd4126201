/* creds_profile.c: the credentials of a profile in the shared config and credentials files. */
#include <stdlib.h>
#include <string.h>

#include "awsconfig.h"
#include "creds_provider.h"
#include "util.h"

/* The longest source_profile chain followed: a longer one is taken for a loop. */
#define MAX_CHAIN		5

/* The profile's own keys: 1, 0 if it has none, -1 if it has half of them. */
static int
static_keys(const char *profile, struct held *out, char **errmsg)
{
	const char *akid = awsconfig_get(profile, "aws_access_key_id");
	const char *secret = awsconfig_get(profile, "aws_secret_access_key");
	char *source;

	if (akid == NULL && secret == NULL)
		return 0;
	if (akid == NULL || secret == NULL || *akid == '\0' || *secret == '\0')
		return creds_fail(errmsg, "profile %s: %s without %s", profile,
		    akid ? "aws_access_key_id" : "aws_secret_access_key",
		    akid ? "aws_secret_access_key" : "aws_access_key_id");
	xasprintf(&source, "profile %s", profile);
	creds_held_set(out, source, akid, secret, awsconfig_get(profile, "aws_session_token"), 0);
	free(source);
	return 1;
}

/* The credentials a role_arn profile assumes the role with. */
static int
role_source(struct chain *ch, const char *profile, int depth, struct held *src, char **errmsg)
{
	const char *sp = awsconfig_get(profile, "source_profile");
	const char *cs = awsconfig_get(profile, "credential_source");
	int rc;

	if (sp != NULL) {
		if (strcmp(sp, profile) == 0) {
			/* A profile that is its own source uses its own keys. */
			if ((rc = static_keys(profile, src, errmsg)) == 0)
				rc = creds_fail(errmsg,
				    "profile %s: is its own source_profile but has no keys",
				    profile);
			return rc;
		}
		if (!awsconfig_has_profile(sp))
			return creds_fail(errmsg, "profile %s: source_profile %s not found in %s",
			    profile,
			    sp, awsconfig_files());
		if (depth + 1 >= MAX_CHAIN)
			return creds_fail(errmsg,
			    "profile %s: source_profile chain longer than %d (a loop?)",
			    profile, MAX_CHAIN);
		if ((rc = creds_profile(ch, sp, depth + 1, src, errmsg)) == 0)
			rc = creds_fail(errmsg, "profile %s: source_profile %s has no credentials",
			    profile,
			    sp);
		return rc;
	}
	if (strcmp(cs, "Environment") == 0)
		rc = creds_env(ch, src, errmsg);
	else if (strcmp(cs, "EcsContainer") == 0)
		rc = creds_container(ch, src, errmsg);
	else if (strcmp(cs, "Ec2InstanceMetadata") == 0)
		rc = creds_imds(ch, src, errmsg);
	else
		return creds_fail(errmsg, "profile %s: credential_source %s is not Environment, "
		    "EcsContainer or Ec2InstanceMetadata", profile, cs);
	if (rc == 0)
		rc = creds_fail(errmsg, "profile %s: credential_source %s has no credentials",
		    profile, cs);
	return rc;
}

static int
assume_role(struct chain *ch, const char *profile, int depth, struct held *out, char **errmsg)
{
	struct held src = { 0 };
	int rc;

	if (awsconfig_get(profile, "mfa_serial") != NULL)
		return creds_fail(errmsg,
		    "profile %s: mfa_serial needs a prompt for a code, which a filter "
		    "cannot give", profile);
	if ((rc = role_source(ch, profile, depth, &src, errmsg)) != 1)
		return -1;
	rc = creds_sts_assume_role(ch, awsconfig_get(profile, "role_arn"),
	    awsconfig_get(profile, "role_session_name"), NULL, profile, &src.c, out,
	errmsg) == 0 ? 1 : -1;
	creds_held_clear(&src);
	return rc;
}

int
creds_profile(struct chain *ch, const char *profile, int depth, struct held *out, char **errmsg)
{
	const char *role = awsconfig_get(profile, "role_arn"), *s;
	int rc;

	if (role != NULL) {
		if (awsconfig_get(profile, "source_profile") != NULL ||
		    awsconfig_get(profile, "credential_source") != NULL)
			return assume_role(ch, profile, depth, out, errmsg);
		if ((s = awsconfig_get(profile, "web_identity_token_file")) != NULL)
			return creds_sts_web_identity(ch, s, "web_identity_token_file", role,
			    awsconfig_get(profile, "role_session_name"), profile, out,
			errmsg) == 0 ?
			    1 : -1;
		return creds_fail(errmsg,
		    "profile %s: role_arn needs source_profile, credential_source "
		    "or web_identity_token_file", profile);
	}
	if ((rc = static_keys(profile, out, errmsg)) != 0)
		return rc;
	if ((s = awsconfig_get(profile, "credential_process")) != NULL)
		return creds_process(profile, s, out, errmsg) == 0 ? 1 : -1;
	creds_tried(ch, "profile %s (no keys, role_arn or credential_process in %s)", profile,
	    awsconfig_files());
	return 0;
}
