/* endpoint.c: where a service's requests go: region names checked, https:// URLs built from them. */
#include <string.h>

#include "endpoint.h"
#include "util.h"

#define REGION_MAX	32

int
aws_region_valid(const char *s)
{
	size_t n, words = 0, len = strlen(s);

	if (len == 0 || len > REGION_MAX)
		return 0;
	/* The first word is letters: a region never starts with a digit. */
	if (strspn(s, "abcdefghijklmnopqrstuvwxyz") == 0)
		return 0;
	for (;;) {
		n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789");
		if (n == 0)
			return 0;
		words++;
		s += n;
		if (*s == '\0')
			return words >= 2;
		if (*s++ != '-')
			return 0;
	}
}

char *
aws_service_url(const char *service, const char *region, const char *endpoint)
{
	char *url;

	if (!aws_region_valid(region))
		return NULL;
	if (endpoint != NULL)
		return xstrdup(endpoint);
	xasprintf(&url, "https://%s.%s.amazonaws.com/", service, region);
	return url;
}
