/* sha256.c: SHA-256, HMAC-SHA256 and lower-case hex, from OpenSSL. */
#include <err.h>
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sha256.h"
#include "util.h"

void
hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
sha256_hex(const void *p, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;

	if (!EVP_Digest(len > 0 ? p : "", len, md, &n, EVP_sha256(), NULL) || n != 32)
		errx(EXIT_FAIL, "SHA-256 failed");
	hex_encode(md, n, out);
}

void
hmac_sha256(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned int n;

	if (keylen > INT_MAX ||
	    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &n) == NULL ||
	    n != 32)
		errx(EXIT_FAIL, "HMAC-SHA256 failed");
}
