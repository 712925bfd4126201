/* sha256.h: SHA-256, HMAC-SHA256 and lower-case hex, from OpenSSL. */
#ifndef AMICYCLE_SHA256_H
#define AMICYCLE_SHA256_H

#include <stddef.h>

/* The lower-case hex SHA-256 of len bytes at p. */
void	sha256_hex(const void *p, size_t len, char out[65]);

/* HMAC-SHA256 of the string msg under key. */
void	hmac_sha256(const void *key, size_t keylen, const char *msg, unsigned char out[32]);

/* n bytes at p as 2n lower-case hex digits and a NUL in out. */
void	hex_encode(const unsigned char *p, size_t n, char *out);

#endif
