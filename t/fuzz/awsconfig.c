/*
 * awsconfig: the shared config and credentials files, read with libinih as the AWS CLI reads
 * them. The input is the config file, then a NUL byte and the credentials file. Loading either
 * succeeds or fails with a one-line message that names a file; every lookup after it answers.
 * The files live in memory (memfd), named by /proc/self/fd paths.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "awsconfig.h"
#include "fuzz.h"

static int fds[2] = { -1, -1 };

static void
setfile(int i, const char *var, const uint8_t *p, size_t len)
{
	char path[64];

	if (fds[i] == -1) {
		FUZZ_ASSERT((fds[i] = memfd_create(var, 0)) != -1, "memfd_create");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
		setenv(var, path, 1);
	}
	FUZZ_ASSERT(ftruncate(fds[i], 0) == 0, "ftruncate");
	FUZZ_ASSERT(len == 0 || pwrite(fds[i], p, len, 0) == (ssize_t)len, "pwrite");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *unset[] = { "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION",
	    "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_CA_BUNDLE",
	    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" };
	const uint8_t *nul;
	char *msg = NULL;
	size_t i, n;

	if (size > 1 << 16)
		return 0;
	for (i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		unsetenv(unset[i]);
	nul = memchr(data, '\0', size);
	n = nul != NULL ? (size_t)(nul - data) : size;
	setfile(0, "AWS_CONFIG_FILE", data, n);
	setfile(1, "AWS_SHARED_CREDENTIALS_FILE", nul != NULL ? nul + 1 : data,
	    nul != NULL ? size - n - 1 : 0);
	awsconfig_free();
	if (awsconfig_check(&msg) != 0) {
		FUZZ_ASSERT(msg != NULL && strstr(msg, "/proc/self/fd/") == msg,
		    "a failure that names no file: %s", msg ? msg : "(none)");
		FUZZ_ASSERT(strchr(msg, '\n') == NULL, "a message of more than one line: %s", msg);
		free(msg);
	}
	(void)awsconfig_profile();
	(void)awsconfig_has_profile("default");
	(void)awsconfig_has_profile("dev");
	(void)awsconfig_get(NULL, "region");
	(void)awsconfig_get("dev", "role_arn");
	(void)awsconfig_get(NULL, "s3.max_concurrent_requests");
	(void)awsconfig_region();
	(void)awsconfig_endpoint("EC2");
	(void)awsconfig_endpoint("STS");
	(void)awsconfig_ca_bundle();
	(void)awsconfig_files();
	awsconfig_free();
	return 0;
}
