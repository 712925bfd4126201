/* Unit tests for lib/core/timefmt.c: RFC 3339 parsing by instant, and durations. */
#include <string.h>

#include "tap.h"
#include "timefmt.h"

static int
parses(const char *s, int64_t sec, int32_t nsec)
{
	struct instant t;

	if (rfc3339_parse(s, strlen(s), &t) != 0)
		return 0;
	return t.sec == sec && t.nsec == nsec;
}

static int
rejects(const char *s)
{
	struct instant t;

	return rfc3339_parse(s, strlen(s), &t) == -1;
}

int
main(void)
{
	struct instant a, b;
	char buf[RFC3339_SIZE];
	int64_t d;

	ok(parses("1970-01-01T00:00:00Z", 0, 0), "the epoch");
	ok(parses("2024-05-01T12:34:56.000Z", 1714566896, 0), "EC2's form, with milliseconds");
	ok(parses("2024-05-01T12:34:56Z", 1714566896, 0), "without a fraction");
	ok(parses("2024-05-01T12:34:56.5Z", 1714566896, 500000000), "one fraction digit");
	ok(parses("2024-05-01T12:34:56.123456789Z", 1714566896, 123456789), "nanoseconds");
	ok(parses("2024-05-01T12:34:56.1234567891Z", 1714566896, 123456789), "extra digits cut");
	ok(parses("2024-05-01T14:34:56+02:00", 1714566896, 0), "positive offset");
	ok(parses("2024-05-01T07:04:56-05:30", 1714566896, 0), "negative offset with minutes");
	ok(parses("2024-05-01t12:34:56z", 1714566896, 0), "lower-case t and z");
	ok(parses("2000-02-29T00:00:00Z", 951782400, 0), "leap day of a 400-year leap year");
	ok(parses("1969-12-31T23:59:59Z", -1, 0), "before the epoch");
	ok(rejects("1900-02-29T00:00:00Z"), "no Feb 29th in 1900");
	ok(rejects("2023-02-29T00:00:00Z"), "no Feb 29th in 2023");
	ok(rejects("2024-04-31T00:00:00Z"), "no April 31st");
	ok(rejects("2024-13-01T00:00:00Z"), "no month 13");
	ok(rejects("2024-05-01T24:00:00Z"), "no hour 24");
	ok(rejects("2024-05-01T12:34:56"), "an offset is required");
	ok(rejects("2024-05-01T12:34:56.Z"), "an empty fraction");
	ok(rejects("2024-05-01 12:34:56Z"), "a space for T");
	ok(rejects("2024-5-01T12:34:56Z"), "one-digit month");
	ok(rejects("2024-05-01T12:34:56Zjunk"), "trailing bytes");
	ok(rejects("2024-05-01T12:34:56+0200"), "offset without colon");
	ok(rejects(""), "empty");

	rfc3339_parse("2024-05-01T14:00:00+02:00", 25, &a);
	rfc3339_parse("2024-05-01T12:30:00Z", 20, &b);
	ok(instant_cmp(&a, &b) < 0, "compared by instant, not as strings");
	ok(instant_cmp(&b, &a) > 0 && instant_cmp(&a, &a) == 0, "comparison is antisymmetric");

	rfc3339_format(1714566896, buf);
	is_str(buf, "2024-05-01T12:34:56.000Z", "formatted as EC2 writes it");

	ok(duration_parse("7d", &d) == 0 && d == 7 * 86400, "7d");
	ok(duration_parse("12h", &d) == 0 && d == 12 * 3600, "12h");
	ok(duration_parse("1h30m", &d) == 0 && d == 5400, "1h30m");
	ok(duration_parse("2w", &d) == 0 && d == 14 * 86400, "2w");
	ok(duration_parse("0s", &d) == 0 && d == 0, "0s");
	ok(duration_parse("90", &d) == -1, "a number without a unit");
	ok(duration_parse("7x", &d) == -1, "an unknown unit");
	ok(duration_parse("", &d) == -1, "empty");
	ok(duration_parse("-1d", &d) == -1, "negative");
	ok(duration_parse("99999999999999999999d", &d) == -1, "overflow");
	return done_testing();
}
