/*
 * timefmt: RFC 3339 timestamps and durations. A timestamp that parses is in range (nanoseconds
 * below a second) and, when it is whole seconds, formats to text that parses to the same instant;
 * instant_cmp() orders it consistently. A duration that parses is not negative. The input is
 * tried whole, as EC2's fields come, and as a NUL-terminated option argument.
 */
#include <string.h>

#include "fuzz.h"
#include "timefmt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct instant t, u;
	char buf[RFC3339_SIZE], *s;
	int64_t sec;

	if (size > 4096)
		return 0;
	if (rfc3339_parse((const char *)data, size, &t) == 0) {
		FUZZ_ASSERT(t.nsec >= 0 && t.nsec < 1000000000, "nsec %d", (int)t.nsec);
		FUZZ_ASSERT(instant_cmp(&t, &t) == 0, "an instant differs from itself");
		/*
		 * EC2's own form, for years 1000 to 9999: strftime's %Y does not pad years before
		 * 1000 to four digits (the filters only format times after now).
		 */
		if (t.sec >= -30610224000LL && t.sec <= 253402300799LL) {
			rfc3339_format(t.sec, buf);
			FUZZ_ASSERT(rfc3339_parse(buf, strlen(buf), &u) == 0 && u.sec == t.sec &&
			    u.nsec == 0, "%s does not parse back to %lld", buf, (long long)t.sec);
			FUZZ_ASSERT(instant_cmp(&u, &t) == (t.nsec > 0 ? -1 : 0), "instant_cmp disagrees");
		}
	}
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (duration_parse(s, &sec) == 0)
		FUZZ_ASSERT(sec >= 0, "duration %s is %lld seconds", s, (long long)sec);
	free(s);
	return 0;
}
