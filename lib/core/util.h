/* util.h: exit statuses, the bad-input exit, usage errors and --help, allocation, number parsing, env(), one-line text, --version. */
#ifndef AMICYCLE_UTIL_H
#define AMICYCLE_UTIL_H

#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses, the same for every filter and listed in every man page. */
enum {
	EXIT_OK = 0,	/* success */
	EXIT_FAIL = 1,	/* an operation or check failed */
	EXIT_USAGE = 2,	/* usage error */
	EXIT_DATA = 3	/* bad input data */
};

/*
 * Bad input: "PROG: WHERE: MESSAGE" (folded to one line) on stderr, and exit EXIT_DATA; WHERE is
 * "FILE:LINE" or what else names the bad part. What was printed is flushed first, then _exit():
 * no atexit handler runs, nor a leak checker's, so callers need not free what the half-read
 * input made. Every other exit (0, 1, 2) is still leak-checked.
 */
void	 data_errx(const char *where, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	 vdata_errx(const char *where, const char *fmt, va_list)
	    __attribute__((format(printf, 2, 0), noreturn));

/*
 * A usage error: "PROG: MESSAGE" (folded to one line; none when fmt is NULL), then
 * "Try 'PROG --help'", on stderr, and exit EXIT_USAGE. Every exit 2 goes through here.
 */
void	 usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * getopt_long as every filter calls it: getopt's own messages name the program alone (not the
 * path it was run by), and an unknown option or a missing argument is a usage_error(), so '?'
 * never comes back.
 */
int	 getopt_cli(int argc, char *argv[], const char *shortopts, const struct option *longopts);

/*
 * --help: prints text on stdout, then the -h and --version lines every filter has and
 * "See PROG(1).", and exits 0.
 */
void	 print_help(const char *text) __attribute__((noreturn));

/* "s" unless n is 1: "%zu image%s", n, plural(n). */
const char	*plural(long long n);

/* getopt_long codes of a filter's long-only options start here, above letters and awsopt.h's. */
enum { OPT_FIRST = 0x200 };

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) __attribute__((format(printf, 2, 3)));

/*
 * Parse a decimal integer in [min, max] from an option argument; on anything else print
 * "PROG: OPTION: bad value 'S' (expected MIN..MAX)" as a usage_error().
 */
long long parse_num(const char *s, long long min, long long max, const char *option);

/*
 * Folds s to one line in place: every control character (newline, carriage return, tab, escape,
 * ...) becomes a space, so that text from outside (a record, a server's message) printed in a
 * diagnostic cannot forge more lines or drive the terminal. Returns s; NULL stays NULL.
 */
char	*one_line(char *s);

/* The value of the environment variable name, or NULL when it is unset or empty (as the SDKs read it). */
const char	*env(const char *name);

/* Print "PROG (amicycle) VERSION" on stdout and exit 0. */
void	 print_version(void) __attribute__((noreturn));

#endif
