/* out.c: JSON-lines output on stdout: compact records, one a line, checked when the program ends. */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "out.h"
#include "util.h"

static void
check(void)
{
	if (!ferror(stdout))
		return;
	if (errno == EPIPE)
		_exit(EXIT_OK);
	err(EXIT_FAIL, "stdout");
}

void
out_init(void)
{
	signal(SIGPIPE, SIG_IGN);
}

void
out_record(jv rec)
{
	jv s;

	s = jv_dump_string(rec, 0);
	fputs(jv_string_value(s), stdout);
	jv_free(s);
	putchar('\n');
	fflush(stdout);
	check();
}

void
out_line(const char *p, size_t len)
{
	fwrite(p, 1, len, stdout);
	putchar('\n');
	check();
}

int
out_close(void)
{
	if (fflush(stdout) == EOF && errno == EPIPE)
		return EXIT_OK;
	if (ferror(stdout) || fclose(stdout) == EOF) {
		if (errno == EPIPE)
			return EXIT_OK;
		warn("stdout");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
