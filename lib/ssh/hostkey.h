/* hostkey.h: SSH host keys: fingerprints, cloud-init's console blocks, known_hosts files. */
#ifndef AMICYCLE_HOSTKEY_H
#define AMICYCLE_HOSTKEY_H

#include <stddef.h>

/* "SHA256:" and 43 base64 characters without padding, as ssh-keygen -l prints them, and a NUL. */
#define HOSTKEY_FP_SIZE	51

/*
 * A host key: its algorithm ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"), its blob in the
 * SSH wire format, and its SHA256 fingerprint. A key known only by its fingerprint (from a
 * FINGERPRINTS block) has no blob, and a type only when the block's "(TYPE)" names one.
 */
struct hostkey {
	char		 type[48];
	unsigned char	*blob;
	size_t		 len;
	char		 fp[HOSTKEY_FP_SIZE];
};

/* A set of keys a server may present, one of which it must. */
struct hostkeys {
	struct hostkey	*v;
	size_t		 n;
};

/* Writes the SHA256 fingerprint of a key blob into fp. */
void	hostkey_fingerprint(const unsigned char *blob, size_t len, char fp[HOSTKEY_FP_SIZE]);

/*
 * Fills k from a copy of a wire-format blob. Returns 0, or -1 if the blob names no type, or is not
 * a whole key of a type this file knows (its fields cut short, or followed by more bytes).
 */
int	hostkey_from_blob(struct hostkey *k, const unsigned char *blob, size_t len);

/* Fills k from the base64 of a blob (a known_hosts or .pub field). Returns 0 or -1. */
int	hostkey_from_base64(struct hostkey *k, const char *b64, size_t len);

void	hostkey_free(struct hostkey *);

/* The type as ssh-keygen -l labels it: "ED25519", "ECDSA", "RSA"; the type itself if unknown. */
const char *hostkey_label(const struct hostkey *);

/* 1 if the server's key (with its blob) is in the set: the same blob, or the same fingerprint. */
int	hostkeys_match(const struct hostkeys *, const struct hostkey *server);

/*
 * The host key algorithms to offer so that the server presents one of the set's keys (libssh2's
 * own preference would pick ECDSA where the set may only know ED25519), comma-separated; NULL if
 * a key's type is unknown (then every algorithm must stay on offer). The caller frees it.
 */
char	*hostkeys_methods(const struct hostkeys *);

/* "ED25519 SHA256:..., ECDSA SHA256:..." for messages; the caller frees it. */
char	*hostkeys_describe(const struct hostkeys *);

void	hostkeys_add(struct hostkeys *, struct hostkey *k);	/* takes k's blob */
void	hostkeys_free(struct hostkeys *);

/*
 * Finds the host keys cloud-init prints on the console: the keys between the
 * "-----BEGIN SSH HOST KEY KEYS-----" and "-----END SSH HOST KEY KEYS-----" markers, or failing
 * those, the SHA256 fingerprints between the "FINGERPRINTS" markers ("256 SHA256:... root@host
 * (ED25519)"). Lines may carry prefixes ("ci-info: ", "ec2: ", syslog's); the last complete block
 * wins (an instance that rebooted prints it again). Fills set and returns CONSOLE_KEYS or
 * CONSOLE_FINGERPRINTS, or CONSOLE_NONE when no complete block with a usable line is there.
 */
enum { CONSOLE_NONE, CONSOLE_KEYS, CONSOLE_FINGERPRINTS };
int	console_hostkeys(const char *text, size_t len, struct hostkeys *set);

/* Decodes base64 (GetConsoleOutput's Output), NUL-terminated. Returns it (the caller frees), or NULL. */
char	*base64_decode(const char *b64, size_t len, size_t *outlen);

/*
 * An OpenSSH known_hosts file, checked with libssh2's knownhost API: plain and hashed (|1|) host
 * names, "[host]:port" for ports other than 22 (and only that, as OpenSSH does), "@revoked" keys
 * refused. "@cert-authority" lines
 * and lines libssh2 cannot read are skipped. Safe to use from several threads.
 */
struct knownhosts;

/* Reads path; a missing file is an empty list when missing_ok. Returns NULL with err set. */
struct knownhosts *knownhosts_open(const char *path, int missing_ok, char *err, size_t errlen);
void	knownhosts_free(struct knownhosts *);

enum { KNOWNHOSTS_MATCH, KNOWNHOSTS_MISMATCH, KNOWNHOSTS_NONE, KNOWNHOSTS_REVOKED };

/*
 * Checks the server's key for host:port. Returns KNOWNHOSTS_MATCH, KNOWNHOSTS_REVOKED,
 * KNOWNHOSTS_MISMATCH (the file has keys for the host, not this one) or KNOWNHOSTS_NONE (no key
 * for the host at all).
 */
int	knownhosts_check(struct knownhosts *, const char *host, int port, const struct hostkey *key);

/* Adds to set the keys the file has for host:port (one per key type). */
void	knownhosts_lookup(struct knownhosts *, const char *host, int port, struct hostkeys *set);

/* Appends "host key" (or "[host]:port key") to the file and the list. Returns 0, or -1 with err. */
int	knownhosts_add(struct knownhosts *, const char *host, int port, const struct hostkey *key,
	    char *err, size_t errlen);

#endif
