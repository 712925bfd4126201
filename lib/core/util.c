/* util.c: exit statuses, the bad-input exit, usage errors and --help, allocation, number parsing, env(), one-line text, --version. */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void
vdata_errx(const char *where, const char *fmt, va_list ap)
{
	char *msg, *line;

	if (vasprintf(&msg, fmt, ap) < 0 || asprintf(&line, "%s: %s", where, msg) < 0)
		line = NULL;
	/* What was printed comes before the message, and none of it is lost to _exit(). */
	fflush(NULL);
	warnx("%s", line != NULL ? one_line(line) : fmt);
	fflush(stderr);
	_exit(EXIT_DATA);
}

void
data_errx(const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdata_errx(where, fmt, ap);
}

void
usage_error(const char *fmt, ...)
{
	va_list ap;
	char *msg;

	fflush(stdout);
	if (fmt != NULL) {
		va_start(ap, fmt);
		if (vasprintf(&msg, fmt, ap) < 0)
			msg = NULL;
		va_end(ap);
		warnx("%s", msg != NULL ? one_line(msg) : fmt);
		free(msg);
	}
	fprintf(stderr, "Try '%s --help'\n", program_invocation_short_name);
	exit(EXIT_USAGE);
}

int
getopt_cli(int argc, char *argv[], const char *shortopts, const struct option *longopts)
{
	int ch;

	/* glibc's getopt names argv[0] in its messages; the filters' own name the program alone. */
	if (argc > 0)
		argv[0] = program_invocation_short_name;
	if ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) == '?' || ch == ':')
		usage_error(NULL);
	return ch;
}

void
print_help(const char *text)
{
	printf("%s"
	    "  -h, --help               print this help and exit\n"
	    "      --version            print the version and exit\n"
	    "See %s(1).\n", text, program_invocation_short_name);
	exit(EXIT_OK);
}

const char *
plural(long long n)
{
	return n == 1 ? "" : "s";
}

void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		err(EXIT_FAIL, "malloc");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		err(EXIT_FAIL, "calloc");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		err(EXIT_FAIL, "realloc");
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n ? n : 1, size ? size : 1)) == NULL)
		err(EXIT_FAIL, "reallocarray");
	return p;
}

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		err(EXIT_FAIL, "strdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		err(EXIT_FAIL, "strndup");
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		err(EXIT_FAIL, "asprintf");
	return n;
}

long long
parse_num(const char *s, long long min, long long max, const char *option)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno == ERANGE || v < min || v > max)
		usage_error("%s: bad value '%s' (expected %lld..%lld)", option, s, min, max);
	return v;
}

char *
one_line(char *s)
{
	unsigned char *p;

	for (p = (unsigned char *)s; p != NULL && *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

const char *
env(const char *name)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? s : NULL;
}

void
print_version(void)
{
	printf("%s (amicycle) %s\n", program_invocation_short_name, AMICYCLE_VERSION);
	exit(EXIT_OK);
}
