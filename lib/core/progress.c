/* progress.c: what a long wait shows on stderr: one live line on a terminal, plain lines in a CI log. */
#include <sys/ioctl.h>

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "interrupt.h"
#include "progress.h"
#include "util.h"

/*
 * stderr is shared by the threads of a filter (ssh-probe's probes warn, --debug traces): the live
 * line and the diagnostics that erase it take turns.
 */
static pthread_mutex_t	outlock = PTHREAD_MUTEX_INITIALIZER;
static int		live;		/* a live line is on the terminal */

void
progress_duration(int64_t sec, char *buf, size_t size)
{
	int64_t h = sec / 3600, m = sec % 3600 / 60, s = sec % 60;
	int n = 0;

	buf[0] = '\0';
	if (h > 0)
		n += snprintf(buf + n, size - (size_t)n, "%lldh", (long long)h);
	if (m > 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, "%lldm", (long long)m);
	if ((s > 0 || sec <= 0) && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "%llds", (long long)(s > 0 ? s : 0));
}

static enum progress_mode
mode_of_stderr(void)
{
	const char *v = env("AMICYCLE_PROGRESS"), *term = env("TERM");

	if (v != NULL && strcmp(v, "0") == 0)
		return PROGRESS_OFF;
	/* A dumb terminal (an editor's shell buffer) cannot erase a line: give it plain lines. */
	if (isatty(STDERR_FILENO) && (term == NULL || strcmp(term, "dumb") != 0))
		return PROGRESS_LIVE;
	return PROGRESS_PLAIN;
}

void
progress_begin(struct progress *p, const char *goal, size_t total, int64_t timeout_ms)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode_of_stderr();
	p->goal = goal;
	p->total = total;
	p->timeout_ms = timeout_ms;
	p->start = clock_ms();
}

void
progress_count(struct progress *p, const char *state, const char *region, const char *id)
{
	char name[sizeof(p->state[0])];
	size_t i;

	if (strcmp(state, p->goal) == 0) {
		p->ngoal++;
		return;
	}
	/* A state may be EC2's text: it stays on the line. */
	snprintf(name, sizeof(name), "%s", state);
	one_line(name);
	for (i = 0; i < p->nstates && strcmp(p->state[i], name) != 0; i++)
		;
	/* The last place is kept for "other": what the line has no room to name. */
	if (i == p->nstates && p->nstates >= PROGRESS_STATES - 1) {
		snprintf(name, sizeof(name), "other");
		for (i = 0; i < p->nstates && strcmp(p->state[i], name) != 0; i++)
			;
	}
	if (i == p->nstates) {
		memcpy(p->state[i], name, sizeof(name));
		p->count[i] = 0;
		p->nstates++;
	}
	p->count[i]++;
	if (p->first[0] == '\0') {
		snprintf(p->first, sizeof(p->first), "%s%s%s", region != NULL ? region : "",
		    region != NULL ? " " : "", id);
		one_line(p->first);
	}
}

/* Writes the line: the counts last shown, the time. */
static void
draw(struct progress *p)
{
	struct winsize ws;
	char elapsed[32], limit[32], *line;
	size_t width = 80;

	progress_duration((clock_ms() - p->start) / 1000, elapsed, sizeof(elapsed));
	progress_duration(p->timeout_ms / 1000, limit, sizeof(limit));
	xasprintf(&line, "%s: %s %s%s%s", program_invocation_short_name, p->shown, elapsed,
	    p->timeout_ms > 0 ? " / " : "", p->timeout_ms > 0 ? limit : "");
	pthread_mutex_lock(&outlock);
	if (p->mode == PROGRESS_LIVE) {
		if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
			width = ws.ws_col;
		/* One column short of the width, so that the terminal does not wrap. */
		if (strlen(line) >= width)
			line[width > 1 ? width - 1 : 0] = '\0';
		fprintf(stderr, "\r\033[K%s", line);
		live = 1;
	} else
		fprintf(stderr, "%s\n", line);
	fflush(stderr);
	pthread_mutex_unlock(&outlock);
	free(line);
	p->next = clock_ms() + (p->mode == PROGRESS_LIVE ? PROGRESS_LIVE_MS : PROGRESS_PLAIN_MS);
}

void
progress_show(struct progress *p)
{
	char *counts, *more;
	size_t i;

	xasprintf(&counts, "%zu of %zu %s", p->ngoal, p->total, p->goal);
	for (i = 0; i < p->nstates; i++) {
		xasprintf(&more, "%s, %zu %s", counts, p->count[i], p->state[i]);
		free(counts);
		counts = more;
	}
	if (p->first[0] != '\0') {
		xasprintf(&more, "%s (%s)", counts, p->first);
		free(counts);
		counts = more;
	}
	/*
	 * Nothing was waited for (all there at the first look): nothing to show. Otherwise the live
	 * line is redrawn; the plain one only when the counts changed.
	 */
	if (p->mode == PROGRESS_OFF || (p->shown == NULL && p->ngoal == p->total) ||
	    (p->mode == PROGRESS_PLAIN && p->shown != NULL && strcmp(p->shown, counts) == 0))
		free(counts);
	else {
		free(p->shown);
		p->shown = counts;
		draw(p);
	}
	p->ngoal = p->nstates = 0;
	p->first[0] = '\0';
}

void
progress_tick(struct progress *p)
{
	if (p->mode != PROGRESS_OFF && p->shown != NULL && clock_ms() >= p->next)
		draw(p);
}

void
progress_sleep(struct progress *p, int64_t ms)
{
	int64_t end = clock_ms() + ms, now, d;

	for (;;) {
		progress_tick(p);
		if ((now = clock_ms()) >= end || intr_signal())
			return;
		d = end - now;
		if (p->mode != PROGRESS_OFF && p->shown != NULL && p->next - now < d)
			d = p->next - now;
		clock_sleep_ms(d);
	}
}

void
progress_end(struct progress *p)
{
	if (p->mode == PROGRESS_LIVE)
		progress_hide();
	free(p->shown);
	p->shown = NULL;
}

void
progress_hide(void)
{
	pthread_mutex_lock(&outlock);
	if (live) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		live = 0;
	}
	pthread_mutex_unlock(&outlock);
}

void
progress_vwarnx(const char *fmt, va_list ap)
{
	pthread_mutex_lock(&outlock);
	if (live) {
		fputs("\r\033[K", stderr);
		live = 0;
	}
	vwarnx(fmt, ap);
	pthread_mutex_unlock(&outlock);
}

void
progress_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	progress_vwarnx(fmt, ap);
	va_end(ap);
}
