/* Unit tests for lib/core/progress.c: durations, the plain line's counts and changes, the switch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"
#include "tap.h"

static char	 path[] = "/tmp/test-progress.XXXXXX";
static FILE	*log_fp;
static long	 seen;

/* What went to stderr since the last call; the caller frees it. */
static char *
written(void)
{
	long end;
	char *s;

	fflush(stderr);
	fseek(log_fp, 0, SEEK_END);
	end = ftell(log_fp);
	s = calloc(1, (size_t)(end - seen) + 1);
	fseek(log_fp, seen, SEEK_SET);
	if (s == NULL || fread(s, 1, (size_t)(end - seen), log_fp) != (size_t)(end - seen))
		abort();
	seen = end;
	return s;
}

/* Borrows s. The line with its elapsed time written T: "... 4m10s / 45m" -> "... T / 45m". */
static char *
untimed(const char *s)
{
	const char *slash = strstr(s, " / "), *sp;
	char *out;

	if (slash == NULL)
		return strdup(s);
	for (sp = slash; sp > s && sp[-1] != ' '; sp--)
		;
	out = calloc(1, strlen(s) + 2);
	if (out == NULL)
		abort();
	memcpy(out, s, (size_t)(sp - s));
	strcat(out, "T");
	strcat(out, slash);
	return out;
}

static int
is_line(const char *want, const char *desc)
{
	char *got = written(), *line = untimed(got);
	int r = is_str(line, want, "%s", desc);

	free(line);
	free(got);
	return r;
}

static int
duration(int64_t sec, const char *want)
{
	char buf[32];

	progress_duration(sec, buf, sizeof(buf));
	return is_str(buf, want, "%lld s is %s", (long long)sec, want);
}

int
main(void)
{
	static const char *const many[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" };
	struct progress p;
	size_t i;
	int fd;

	duration(0, "0s");
	duration(45, "45s");
	duration(250, "4m10s");
	duration(2700, "45m");
	duration(5400, "1h30m");
	duration(7205, "2h5s");

	/* stderr to a file: not a terminal, so plain lines. */
	if ((fd = mkstemp(path)) == -1 || dup2(fd, STDERR_FILENO) == -1 ||
	    (log_fp = fopen(path, "r")) == NULL)
		abort();
	unlink(path);
	unsetenv("AMICYCLE_PROGRESS");

	progress_begin(&p, "available", 3, 45 * 60 * 1000);
	progress_count(&p, "available", "us-east-1", "ami-1");
	progress_count(&p, "pending", "eu-west-1", "ami-2");
	progress_count(&p, "pending", "us-west-2", "ami-3");
	progress_show(&p);
	is_line("test-progress: 1 of 3 available, 2 pending (eu-west-1 ami-2) T / 45m\n",
	    "the counts, the first still waiting, the time and the timeout");
	progress_count(&p, "available", "us-east-1", "ami-1");
	progress_count(&p, "pending", "eu-west-1", "ami-2");
	progress_count(&p, "pending", "us-west-2", "ami-3");
	progress_show(&p);
	progress_tick(&p);
	is_line("", "the same counts again: no line before 30 s");
	progress_count(&p, "available", "us-east-1", "ami-1");
	progress_count(&p, "available", "eu-west-1", "ami-2");
	progress_count(&p, "failed", "us-west-2", "ami-3");
	progress_show(&p);
	is_line("test-progress: 2 of 3 available, 1 failed (us-west-2 ami-3) T / 45m\n",
	    "a change: a line at once");
	progress_end(&p);
	is_line("", "the end of a plain wait adds nothing");

	progress_begin(&p, "running", 2, 0);
	progress_count(&p, "running", NULL, "i-1");
	progress_count(&p, "running", NULL, "i-2");
	progress_show(&p);
	progress_end(&p);
	is_line("", "all there at the first look: no line");

	progress_begin(&p, "done", 11, 60000);
	for (i = 0; i < 10; i++)
		progress_count(&p, many[i], NULL, many[i]);
	progress_count(&p, "done", NULL, "z");
	progress_show(&p);
	progress_end(&p);
	is_line("test-progress: 1 of 11 done, 1 a, 1 b, 1 c, 1 d, 1 e, 1 f, 1 g, 3 other (a) T / 1m\n",
	    "past seven states, the rest are other");

	progress_begin(&p, "done", 1, 60000);
	progress_count(&p, "wait\ning\033[2J", NULL, "i-\n1");
	progress_show(&p);
	progress_end(&p);
	is_line("test-progress: 0 of 1 done, 1 wait ing [2J (i- 1) T / 1m\n",
	    "control characters in a state or id do not reach the terminal");

	setenv("AMICYCLE_PROGRESS", "0", 1);
	progress_begin(&p, "done", 1, 0);
	progress_count(&p, "waiting", NULL, "i-1");
	progress_show(&p);
	progress_sleep(&p, 1);
	progress_end(&p);
	is_line("", "AMICYCLE_PROGRESS=0: nothing");

	progress_warnx("a %s", "warning");
	is_line("test-progress: a warning\n", "progress_warnx is warnx");
	fclose(log_fp);
	return done_testing();
}
