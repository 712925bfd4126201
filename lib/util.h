/* util.h: exit statuses, allocation that cannot fail, bounded number parsing, one-line strings, --version. */
#ifndef AMICYCLE_UTIL_H
#define AMICYCLE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Exit statuses, the same for every filter and listed in every man page. */
enum {
	EXIT_OK = 0,	/* success */
	EXIT_FAIL = 1,	/* an operation or check failed */
	EXIT_USAGE = 2,	/* usage error */
	EXIT_DATA = 3	/* bad input data */
};

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));

/*
 * Parse a decimal integer in [min, max] from an option argument; on anything else print
 * "PROG: OPTION: bad value 'S' (expected MIN..MAX)" and exit EXIT_USAGE.
 */
long long parse_num(const char *s, long long min, long long max, const char *option);

/*
 * Turns every control character of s (newlines, carriage returns, tabs, escapes) into a space, in
 * place, so that a string a server sent cannot forge diagnostic lines. Returns s; NULL is kept.
 */
char	*fold_line(char *s);

/* Print "PROG (amicycle) VERSION" on stdout and exit 0. */
void	 print_version(void) __attribute__((noreturn));

#endif
