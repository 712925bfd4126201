/*
 * hostkey: cloud-init's host key blocks as ssh-probe reads them from GetConsoleOutput (base64,
 * then console_hostkeys()). Every key found has a fingerprint in ssh-keygen's form, a key with a
 * blob has the fingerprint of that blob, and the set can be described and offered in a handshake.
 * The input is the console text itself; its base64 is decoded too, as the Output field would be.
 */
#include <string.h>

#include "fuzz.h"
#include "hostkey.h"

static void
check_set(const char *text, size_t len)
{
	struct hostkeys set = { NULL, 0 };
	char fp[HOSTKEY_FP_SIZE], *s;
	size_t i;
	int found;

	found = console_hostkeys(text, len, &set);
	FUZZ_ASSERT(found == CONSOLE_NONE || found == CONSOLE_KEYS || found == CONSOLE_FINGERPRINTS,
	    "console_hostkeys returned %d", found);
	FUZZ_ASSERT((found == CONSOLE_NONE) == (set.n == 0), "%zu keys, returned %d", set.n, found);
	for (i = 0; i < set.n; i++) {
		FUZZ_ASSERT(strncmp(set.v[i].fp, "SHA256:", 7) == 0, "fingerprint %s", set.v[i].fp);
		if (set.v[i].blob != NULL) {
			hostkey_fingerprint(set.v[i].blob, set.v[i].len, fp);
			FUZZ_ASSERT(strcmp(fp, set.v[i].fp) == 0, "fingerprint %s of a blob that has %s",
			    set.v[i].fp, fp);
			FUZZ_ASSERT(hostkeys_match(&set, &set.v[i]), "a key does not match its own set");
		}
	}
	s = hostkeys_describe(&set);
	free(s);
	s = hostkeys_methods(&set);
	free(s);
	hostkeys_free(&set);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	size_t len;

	if (size > 1 << 20)
		return 0;
	/* GetConsoleOutput's text ends where its length says; no NUL is promised. */
	text = malloc(size ? size : 1);
	memcpy(text, data, size);
	check_set(text, size);
	free(text);
	if ((text = base64_decode((const char *)data, size, &len)) != NULL) {
		FUZZ_ASSERT(len <= size, "%zu bytes decoded from %zu", len, size);
		FUZZ_ASSERT(text[len] == '\0', "decoded text not NUL-terminated");
		check_set(text, len);
		free(text);
	}
	return 0;
}
