/* creds.h: AWS credentials from the environment, web identity, profiles, containers and IMDS. */
#ifndef AMICYCLE_CREDS_H
#define AMICYCLE_CREDS_H

#include <stdint.h>

struct aws_creds {
	char		*access_key_id;
	char		*secret_access_key;
	char		*session_token;	/* NULL for long-term keys */
	int64_t		 expiration;	/* seconds since the epoch; 0 for none */
	const char	*source;	/* "env", "web-identity", "profile NAME", "process", "assume-role",
					   "container", "imds" */
};

/*
 * The current credentials, found as the AWS SDKs find them, in this order:
 *   env            AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN]
 *   web-identity   AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME]:
 *                  STS AssumeRoleWithWebIdentity (unsigned)
 *   the profile    (awsconfig.h) role_arn + source_profile or credential_source: STS AssumeRole
 *                  signed with the source's credentials ("assume-role"); role_arn +
 *                  web_identity_token_file ("web-identity"); aws_access_key_id and
 *                  aws_secret_access_key ("profile NAME"); credential_process ("process",
 *                  run with /bin/sh, killed with its process group after 60 s)
 *   container      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or _FULL_URI
 *                  (https, or a loopback or container host), with AWS_CONTAINER_AUTHORIZATION_TOKEN
 *                  or _TOKEN_FILE
 *   imds           IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT (http://169.254.169.254); not
 *                  when AWS_EC2_METADATA_DISABLED=true
 * The first source that is configured decides: if it fails, that is the error (a broken
 * credential_process does not fall through to the instance's role). A malformed config file,
 * or AWS_PROFILE naming a profile that is not there, is an error before any source is tried.
 *
 * STS is called at https://sts.REGION.amazonaws.com/ and signed for REGION: region, else
 * awsconfig_region(), else the global endpoint signed for us-east-1. awsconfig_endpoint("STS")
 * (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile) replaces the URL; one with plain http to
 * a host that is not loopback ends the program with a usage error (EXIT_USAGE). Requests go through
 * lib/http.h as the caller set it up (http_set_ca_bundle()); instance metadata and container
 * credentials never through a proxy. STS, IMDS and container requests are retried as EC2's are
 * (lib/retry.h: AWS_MAX_ATTEMPTS, throttling and transient errors, the back-off slept), except an
 * IMDS token request that gets no answer at all: that is no IMDS, and the chain ends at once.
 *
 * Not supported: SSO profiles, mfa_serial (a filter cannot prompt), IMDSv1.
 *
 * Temporary credentials are kept, and fetched again (the chain walked again: with the same
 * environment, the same source) once within the refresh window of their expiration: a tenth of
 * their lifetime, at most five minutes, or AMICYCLE_CREDS_REFRESH_SECONDS (a test hook). If
 * that fails while the old ones are still valid, the old ones are returned and the next try is
 * ten seconds later.
 *
 * Returns the credentials, valid until the next creds_get() or creds_free() (credentials are
 * not per region: region only says where STS is), or NULL with a one-line reason in *errmsg
 * (the caller frees it) that names the source and never a secret. Not thread safe.
 */
const struct aws_creds	*creds_get(const char *region, char **errmsg);

/*
 * --role-arn: every set of credentials the chain finds is then used to assume role (STS
 * AssumeRole, with external_id and session when not NULL; a session name is made up otherwise),
 * and creds_get() returns the role's ("assume-role"), refreshed as above: the chain is walked and
 * the role assumed again. The strings must outlive their use. NULL role turns it off. Another
 * role than the one set (a filter that acts in several accounts, one after the other) forgets
 * the credentials held, so the next creds_get() assumes it.
 */
void			 creds_set_role(const char *role, const char *external_id, const char *session);

/* Forgets the credentials (wiping them) and the configuration (awsconfig_free()). */
void			 creds_free(void);

#endif
