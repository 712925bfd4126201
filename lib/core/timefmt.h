/* timefmt.h: RFC 3339 timestamps and durations ("7d", "12h30m") as EC2 and the options write them. */
#ifndef AMICYCLE_TIMEFMT_H
#define AMICYCLE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* An instant: seconds since the epoch (UTC) and nanoseconds within that second. */
struct instant {
	int64_t	sec;
	int32_t	nsec;
};

/*
 * Parses "2024-05-01T12:34:56Z", with an optional fraction (up to 9 digits) and "Z" or "+hh:mm".
 * Fields are range-checked (February 30th is an error). Returns 0, or -1 if s is not such a time.
 */
int	rfc3339_parse(const char *s, size_t len, struct instant *);

/* <0, 0, >0 as a is before, at or after b. */
int	instant_cmp(const struct instant *a, const struct instant *b);

/* Writes sec as EC2 does, "2024-05-01T12:34:56.000Z", into buf (at least RFC3339_SIZE bytes). */
#define RFC3339_SIZE	32
void	rfc3339_format(int64_t sec, char *buf);

/*
 * Parses a duration: one or more NUMBER UNIT pairs, units s m h d w ("7d", "1h30m", "0s").
 * Returns 0 and the seconds, or -1 if s is not a duration.
 */
int	duration_parse(const char *s, int64_t *sec);

#endif
