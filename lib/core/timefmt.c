/* timefmt.c: RFC 3339 timestamps and durations ("7d", "12h30m") as EC2 and the options write them. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n digits at *p; returns the value, or -1. */
static int
digits(const char **p, const char *end, int n)
{
	int v = 0;

	if (end - *p < n)
		return -1;
	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

static int
expect(const char **p, const char *end, const char *set)
{
	if (*p >= end || strchr(set, **p) == NULL || **p == '\0')
		return -1;
	(*p)++;
	return 0;
}

int
rfc3339_parse(const char *s, size_t len, struct instant *t)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s, *end = s + len;
	int y, mo, d, h, mi, sec, oh, om, n, maxd;
	int32_t nsec = 0;
	int64_t off = 0;

	if ((y = digits(&p, end, 4)) < 0 || expect(&p, end, "-") ||
	    (mo = digits(&p, end, 2)) < 0 || expect(&p, end, "-") ||
	    (d = digits(&p, end, 2)) < 0 || expect(&p, end, "Tt") ||
	    (h = digits(&p, end, 2)) < 0 || expect(&p, end, ":") ||
	    (mi = digits(&p, end, 2)) < 0 || expect(&p, end, ":") ||
	    (sec = digits(&p, end, 2)) < 0)
		return -1;
	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60)
		return -1;
	maxd = mdays[mo - 1] + (mo == 2 && leap(y));
	if (d < 1 || d > maxd)
		return -1;
	if (p < end && *p == '.') {
		p++;
		for (n = 0; p < end && *p >= '0' && *p <= '9'; p++, n++)
			if (n < 9)
				nsec = nsec * 10 + (*p - '0');
		if (n == 0)
			return -1;
		for (; n < 9; n++)
			nsec *= 10;
	}
	if (p < end && (*p == 'Z' || *p == 'z')) {
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		int sign = *p++ == '-' ? -1 : 1;

		if ((oh = digits(&p, end, 2)) < 0 || expect(&p, end, ":") ||
		    (om = digits(&p, end, 2)) < 0 || oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else
		return -1;
	if (p != end)
		return -1;
	/* A leap second (:60) is the instant just before the next minute's first. */
	t->sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	t->nsec = nsec;
	return 0;
}

int
instant_cmp(const struct instant *a, const struct instant *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	return (a->nsec > b->nsec) - (a->nsec < b->nsec);
}

void
rfc3339_format(int64_t sec, char *buf)
{
	struct tm tm;
	time_t t = (time_t)sec;

	gmtime_r(&t, &tm);
	strftime(buf, RFC3339_SIZE, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

int
duration_parse(const char *s, int64_t *sec)
{
	int64_t total = 0, n, unit;
	const char *p = s;

	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (*p < '0' || *p > '9')
			return -1;
		for (n = 0; *p >= '0' && *p <= '9'; p++) {
			if (n > (INT64_MAX - 9) / 10)
				return -1;
			n = n * 10 + (*p - '0');
		}
		switch (*p++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 604800; break;
		default: return -1;
		}
		if (n > (INT64_MAX - total) / unit)
			return -1;
		total += n * unit;
	}
	*sec = total;
	return 0;
}
