/*
 * sigv4: the SigV4 canonical request, string to sign and Authorization header for any request
 * line, headers and body. The input is "METHOD\nPATH\nQUERY\nName: value\n...\n\nBODY" (the first
 * byte of METHOD, odd or even, also says whether the path is normalised). The canonical request
 * starts with the method and ends with the body's SHA-256; the header names its signed headers.
 */
#include <string.h>

#include "fuzz.h"
#include "sha256.h"
#include "sigv4.h"

#define MAXHEADERS	16

/* The next line of [*p, end), NUL-terminated in place (the input is a copy). */
static char *
nextline(char **p, char *end)
{
	char *s = *p, *nl;

	if (s >= end)
		return NULL;
	if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
		nl = end;
	*nl = '\0';
	*p = nl < end ? nl + 1 : end;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigv4_header h[MAXHEADERS];
	struct sigv4_request r;
	char *buf, *p, *end, *line, *colon, *creq, *sts, *auth, hash[65], want[80];
	size_t n;

	if (size > 1 << 16)
		return 0;
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	end = buf + size;
	memset(&r, 0, sizeof(r));
	r.method = nextline(&p, end);
	r.path = nextline(&p, end);
	r.query = nextline(&p, end);
	if (r.method == NULL || r.path == NULL || r.query == NULL) {
		free(buf);
		return 0;
	}
	r.normalize_path = r.method[0] & 1;
	for (n = 0; n < MAXHEADERS && (line = nextline(&p, end)) != NULL && *line != '\0'; n++) {
		if ((colon = strchr(line, ':')) != NULL)
			*colon++ = '\0';
		h[n].name = line;
		h[n].value = colon != NULL ? colon : "";
	}
	r.headers = h;
	r.nheaders = n;
	/* What is left is the body, NULs and all. */
	r.body = p;
	r.bodylen = (size_t)(end - p);
	r.region = "us-east-1";
	r.service = "ec2";
	r.amzdate = "20150830T123600Z";

	creq = sigv4_canonical_request(&r);
	FUZZ_ASSERT(creq != NULL, "no canonical request");
	FUZZ_ASSERT(strncmp(creq, r.method, strlen(r.method)) == 0 && creq[strlen(r.method)] == '\n',
	    "the canonical request does not start with the method");
	sha256_hex(r.body, r.bodylen, hash);
	snprintf(want, sizeof(want), "\n%s", hash);
	FUZZ_ASSERT(strlen(creq) > strlen(want) &&
	    strcmp(creq + strlen(creq) - strlen(want), want) == 0,
	    "the canonical request does not end with the payload hash");
	sts = sigv4_string_to_sign(&r, creq);
	FUZZ_ASSERT(strncmp(sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/ec2/aws4_request\n",
	    70) == 0, "string to sign: %s", sts);
	auth = sigv4_authorization(&r, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	FUZZ_ASSERT(strncmp(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ec2/aws4_request, SignedHeaders=",
	    91) == 0, "authorization: %s", auth);
	free(auth);
	free(sts);
	free(creq);
	free(buf);
	return 0;
}
