/* awsconfig.h: the shared AWS config and credentials files (~/.aws/config, ~/.aws/credentials). */
#ifndef AMICYCLE_AWSCONFIG_H
#define AMICYCLE_AWSCONFIG_H

/*
 * The files are AWS_CONFIG_FILE (default ~/.aws/config: sections [default] and [profile NAME],
 * plus [services NAME] for per-service endpoints) and AWS_SHARED_CREDENTIALS_FILE (default
 * ~/.aws/credentials: sections [NAME]). A missing file is an empty one. They are read once, on
 * first use, as Python's configparser reads them (as the AWS CLI does): key names are not case
 * sensitive, ';' only starts a comment at the start of a line, an indented line under an empty
 * "KEY =" is a nested "KEY.SUBKEY = VALUE". Where both files set a key for a profile, the
 * credentials file wins. Nothing here prints a value from the files.
 */

/*
 * Loads the files (once) and checks them. Returns 0, or -1 and a one-line reason in *errmsg (the
 * caller frees it): a file that cannot be read, a syntax error ("FILE:LINE: ..."), or a profile
 * named by AWS_PROFILE that neither file has.
 */
int		 awsconfig_check(char **errmsg);

/*
 * The selected profile: the one awsconfig_set_profile() named (--profile), else AWS_PROFILE, else
 * AWS_DEFAULT_PROFILE, else "default".
 */
const char	*awsconfig_profile(void);

/*
 * Selects profile as --profile does (the string must outlive its use): it wins over AWS_PROFILE,
 * and, as in the AWS CLI, the credentials then come from it and not from the environment's keys.
 */
void		 awsconfig_set_profile(const char *profile);

/* 1 if awsconfig_set_profile() named the profile. */
int		 awsconfig_profile_explicit(void);

/*
 * The value of key ("region", "role_arn", "s3.max_concurrent_requests") in profile (NULL for the
 * selected one), or NULL when unset or when the files did not load (see awsconfig_check()). The
 * string lives until awsconfig_free().
 */
const char	*awsconfig_get(const char *profile, const char *key);

/* 1 if either file has a section for profile. */
int		 awsconfig_has_profile(const char *profile);

/* "FILE or FILE", the two files' paths, for messages. */
const char	*awsconfig_files(void);

/* The configured region: AWS_REGION, AWS_DEFAULT_REGION, the profile's region; NULL if none. */
const char	*awsconfig_region(void);

/*
 * The configured endpoint for a service by its SDK id ("EC2", "STS"): AWS_ENDPOINT_URL_<ID>,
 * AWS_ENDPOINT_URL, the profile's services section (KEY.endpoint_url), the profile's
 * endpoint_url; NULL if none, or when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the profile's
 * ignore_configured_endpoint_urls) is true.
 */
const char	*awsconfig_endpoint(const char *service);

/* The CA bundle: AWS_CA_BUNDLE, the profile's ca_bundle; NULL for the system's. */
const char	*awsconfig_ca_bundle(void);

/* 1 if the environment variable name is set to "true" in any case. */
int		 awsconfig_env_true(const char *name);

/* Forgets everything read (values are wiped); the next call reads the files again. */
void		 awsconfig_free(void);

#endif
