/* progress.h: what a long wait shows on stderr: one live line on a terminal, plain lines in a CI log. */
#ifndef AMICYCLE_PROGRESS_H
#define AMICYCLE_PROGRESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The line, for the things a filter waits on:
 *
 *	PROG: 2 of 3 available, 1 pending (eu-west-1 ami-...) 4m10s / 45m
 *
 * how many are in the state waited for, how many in each other state (in the order they were
 * first seen), the region and id of the first thing still waiting, the time since the wait began
 * and its timeout.
 *
 * While stderr is a terminal the line is rewritten in place ("\r", erase to the end of the line)
 * once a second, cut to the terminal's width, and erased before any diagnostic (progress_warnx())
 * and at the end. Elsewhere (a CI log) it is a plain line, printed when the counts or the first
 * thing waiting change and every 30 s in between, and never for a wait that is over at once.
 * AMICYCLE_PROGRESS=0 turns it off. Nothing sleeps here: the waits call progress_sleep(), or
 * progress_tick() whenever they wake, on the monotonic clock of clock.h.
 */

#define PROGRESS_PLAIN_MS	30000	/* the plain line's cadence */
#define PROGRESS_LIVE_MS	1000	/* the live line's */
#define PROGRESS_STATES		8	/* distinct states on one line; more are counted as "other" */

enum progress_mode { PROGRESS_OFF, PROGRESS_LIVE, PROGRESS_PLAIN };

struct progress {
	enum progress_mode mode;
	const char	*goal;		/* the state waited for */
	size_t		 total, ngoal, nstates;
	char		 state[PROGRESS_STATES][32];
	size_t		 count[PROGRESS_STATES];
	char		 first[160];	/* "REGION ID" of the first thing still waiting */
	char		*shown;		/* plain: the counts of the last line printed; NULL before */
	int64_t		 start, timeout_ms, next;	/* clock_ms(); next: when a line is due */
};

/*
 * Starts showing the wait for total things to reach state goal (borrowed: it must outlive p),
 * timeout_ms at most (0 for none shown). Nothing is printed until progress_show().
 */
void	progress_begin(struct progress *p, const char *goal, size_t total, int64_t timeout_ms);

/*
 * Counts one thing, in state (goal, or what else it is in); region may be NULL. Count each thing
 * once, in the order they were given, then call progress_show().
 */
void	progress_count(struct progress *p, const char *state, const char *region, const char *id);

/* Shows the counts made since the last progress_show(), as the mode has it; starts a new count. */
void	progress_show(struct progress *p);

/* Shows the line again if it is due (the live line's clock, the plain line's 30 s). */
void	progress_tick(struct progress *p);

/*
 * Sleeps ms milliseconds on clock_sleep_ms(), waking to show the line when it is due; like it,
 * stops early when a signal that intr_catch() handles arrives.
 */
void	progress_sleep(struct progress *p, int64_t ms);

/* Ends the wait: erases the live line. p can be begun again. */
void	progress_end(struct progress *p);

/* Erases the live line, if one is showing, before other output to the terminal. Thread-safe. */
void	progress_hide(void);

/* warnx(3) clear of the live line, which comes back at the next tick. Thread-safe. */
void	progress_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	progress_vwarnx(const char *fmt, va_list) __attribute__((format(printf, 1, 0)));

/* "0s", "45s", "4m10s", "45m", "1h30m", "2h5s": seconds as the options write durations. */
void	progress_duration(int64_t sec, char *buf, size_t size);

#endif
