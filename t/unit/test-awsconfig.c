/* Unit tests for lib/aws/awsconfig.c: profiles, precedence of files and variables, endpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "awsconfig.h"
#include "tap.h"

static char	dir[] = "/tmp/test-awsconfig.XXXXXX";
static char	cfgpath[64], crdpath[64];

static void
write_file(const char *path, const char *text)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF || fclose(fp) == EOF) {
		perror(path);
		exit(1);
	}
}

/* Starts afresh with these variables set (NULL: unset). */
static void
reset(const char *profile, const char *region, const char *dflt_region)
{
	static const char *const vars[] = { "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION",
	    "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2",
	    "AWS_ENDPOINT_URL_ELASTIC_BEANSTALK", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	    "AWS_CA_BUNDLE" };
	size_t i;

	awsconfig_free();
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	if (profile != NULL)
		setenv("AWS_PROFILE", profile, 1);
	if (region != NULL)
		setenv("AWS_REGION", region, 1);
	if (dflt_region != NULL)
		setenv("AWS_DEFAULT_REGION", dflt_region, 1);
}

int
main(void)
{
	char *err = NULL, want[256];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(cfgpath, sizeof(cfgpath), "%s/config", dir);
	snprintf(crdpath, sizeof(crdpath), "%s/credentials", dir);
	setenv("AWS_CONFIG_FILE", cfgpath, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", crdpath, 1);
	write_file(cfgpath,
	    "[default]\n"
	    "region = eu-west-1\n"
	    "[profile dev]\n"
	    "Region = us-west-2\n"
	    "endpoint_url = http://127.0.0.1:4566\n"
	    "services = local\n"
	    "ca_bundle = /etc/dev-ca.pem\n"
	    "s3 =\n"
	    "    max_concurrent_requests = 20\n"
	    "    multipart_threshold = 64MB\n"
	    "[services local]\n"
	    "ec2 =\n"
	    "  endpoint_url = http://127.0.0.1:9000\n"
	    "elastic_beanstalk =\n"
	    "  endpoint_url = http://127.0.0.1:9001\n"
	    "[profile \"two words\"]\n"
	    "region = ap-east-1\n"
	    "[profile ignoring]\n"
	    "endpoint_url = http://127.0.0.1:4566\n"
	    "ignore_configured_endpoint_urls = true\n"
	    "[sso-session corp]\n"
	    "region = us-east-1\n");
	write_file(crdpath,
	    "[dev]\n"
	    "region = us-east-2\n"
	    "[profile dev]\n"
	    "region = not-a-profile-here\n");

	reset(NULL, NULL, NULL);
	is_str(awsconfig_profile(), "default", "no AWS_PROFILE: default");
	ok(awsconfig_check(&err) == 0, "the files load");
	is_str(awsconfig_region(), "eu-west-1", "the default profile's region");
	ok(awsconfig_endpoint("EC2") == NULL, "no endpoint configured for default");
	ok(awsconfig_ca_bundle() == NULL, "no CA bundle for default");
	ok(!awsconfig_has_profile("corp"), "an sso-session is not a profile");
	ok(awsconfig_has_profile("two words"), "a quoted profile name");
	is_str(awsconfig_get("two words", "region"), "ap-east-1", "its region");
	ok(awsconfig_has_profile("profile dev"), "[profile dev] in the credentials file is 'profile dev'");

	reset("dev", NULL, NULL);
	is_str(awsconfig_profile(), "dev", "AWS_PROFILE selects");
	is_str(awsconfig_region(), "us-east-2", "the credentials file wins for region");
	is_str(awsconfig_get("dev", "REGION"), "us-east-2", "keys are not case sensitive");
	is_str(awsconfig_get(NULL, "s3.max_concurrent_requests"), "20", "a nested key");
	is_str(awsconfig_get(NULL, "s3.multipart_threshold"), "64MB", "a second nested key");
	is_str(awsconfig_endpoint("EC2"), "http://127.0.0.1:9000", "the services section for EC2");
	is_str(awsconfig_endpoint("Elastic Beanstalk"), "http://127.0.0.1:9001",
	    "a service id with a space");
	is_str(awsconfig_endpoint("STS"), "http://127.0.0.1:4566", "the profile's endpoint_url");
	is_str(awsconfig_ca_bundle(), "/etc/dev-ca.pem", "the profile's ca_bundle");

	reset("dev", "ca-central-1", "sa-east-1");
	is_str(awsconfig_region(), "ca-central-1", "AWS_REGION first");
	reset("dev", NULL, "sa-east-1");
	is_str(awsconfig_region(), "sa-east-1", "AWS_DEFAULT_REGION next");
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
	is_str(awsconfig_endpoint("EC2"), "http://127.0.0.1:1", "AWS_ENDPOINT_URL before the files");
	setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:2", 1);
	is_str(awsconfig_endpoint("EC2"), "http://127.0.0.1:2", "AWS_ENDPOINT_URL_EC2 first");
	setenv("AWS_ENDPOINT_URL_ELASTIC_BEANSTALK", "http://127.0.0.1:3", 1);
	is_str(awsconfig_endpoint("Elastic Beanstalk"), "http://127.0.0.1:3",
	    "AWS_ENDPOINT_URL_ELASTIC_BEANSTALK");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "True", 1);
	ok(awsconfig_endpoint("EC2") == NULL, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	setenv("AWS_CA_BUNDLE", "/etc/env-ca.pem", 1);
	is_str(awsconfig_ca_bundle(), "/etc/env-ca.pem", "AWS_CA_BUNDLE first");

	reset("ignoring", NULL, NULL);
	ok(awsconfig_endpoint("EC2") == NULL, "ignore_configured_endpoint_urls in the profile");

	reset("nope", NULL, NULL);
	ok(awsconfig_check(&err) == -1, "a missing named profile fails the check");
	snprintf(want, sizeof(want), "profile nope not found in %s or %s", cfgpath, crdpath);
	is_str(err, want, "and says where it looked");
	free(err);
	err = NULL;
	ok(awsconfig_get(NULL, "region") == NULL, "no values for it");

	write_file(cfgpath, "[default]\nregion = eu-west-1\n= no key\n");
	reset(NULL, NULL, NULL);
	ok(awsconfig_check(&err) == -1, "a line with no key fails");
	ok(err != NULL && strstr(err, "/config:3: a line with no key before '='") != NULL,
	    "with FILE:LINE");
	ok(awsconfig_get(NULL, "region") == NULL, "and nothing is read from bad files");
	free(err);

	awsconfig_free();
	unlink(cfgpath);
	unlink(crdpath);
	rmdir(dir);
	return done_testing();
}
