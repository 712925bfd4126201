/* hostkey.c: SSH host keys: fingerprints, cloud-init's console blocks, known_hosts files. */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh2.h>
#include <openssl/evp.h>

#include "hostkey.h"
#include "util.h"

/*
 * Key types, their ssh-keygen labels, libssh2's known_hosts type bits, the algorithms to offer,
 * and the blob's shape after the type string (RFC 4253, 5656, 8709; OpenSSH's PROTOCOL.u2f): how
 * many fields, the curve the first one names, and the fixed length of the public key or point.
 */
static const struct keytype {
	const char	*type;
	const char	*label;
	int		 bits;		/* the size a FINGERPRINTS line gives, to tell ECDSA curves apart */
	int		 khmask;
	const char	*methods;
	int		 nfields;
	const char	*curve;		/* ECDSA: field 0, and the next one is an uncompressed point */
	size_t		 keylen;	/* the key's (or point's) length when fixed; 0 when not */
} keytypes[] = {
	/* In the order the algorithms are offered. */
	{ "ssh-ed25519", "ED25519", 256, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519", 1, NULL, 32 },
	{ "ecdsa-sha2-nistp256", "ECDSA", 256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256",
	    2, "nistp256", 65 },
	{ "ecdsa-sha2-nistp384", "ECDSA", 384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384",
	    2, "nistp384", 97 },
	{ "ecdsa-sha2-nistp521", "ECDSA", 521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521",
	    2, "nistp521", 133 },
	/* libssh2 1.10 has only ssh-rsa (SHA-1); later versions take the SHA-2 names first. */
	{ "ssh-rsa", "RSA", 0, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "rsa-sha2-512,rsa-sha2-256,ssh-rsa", 2,
	    NULL, 0 },
	{ "ssh-dss", "DSA", 0, LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss", 4, NULL, 0 },
	{ "sk-ssh-ed25519@openssh.com", "ED25519-SK", 0, 0, NULL, 2, NULL, 32 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", "ECDSA-SK", 0, 0, NULL, 3, "nistp256", 65 },
};
#define NKEYTYPES	(sizeof(keytypes) / sizeof(keytypes[0]))

static const struct keytype *
keytype(const char *type)
{
	size_t i;

	for (i = 0; i < NKEYTYPES; i++)
		if (strcmp(keytypes[i].type, type) == 0)
			return &keytypes[i];
	return NULL;
}

void
hostkey_fingerprint(const unsigned char *blob, size_t len, char fp[HOSTKEY_FP_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char b64[64];
	unsigned int mdlen;
	char *pad;

	EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	/* OpenSSH prints the base64 without its padding. */
	if ((pad = strchr((char *)b64, '=')) != NULL)
		*pad = '\0';
	memcpy(fp, "SHA256:", 7);
	snprintf(fp + 7, HOSTKEY_FP_SIZE - 7, "%.43s", (char *)b64);
}

/* The wire-format string at *p, before end: its bytes, its length in *n; NULL if cut short. */
static const unsigned char *
wire_string(const unsigned char **p, const unsigned char *end, size_t *n)
{
	const unsigned char *s = *p;
	uint32_t len;

	if (end - s < 4)
		return NULL;
	len = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
	if (len > (size_t)(end - s) - 4)
		return NULL;
	*n = len;
	*p = s + 4 + len;
	return s + 4;
}

/*
 * 1 if the fields after a known type's string at p fill the blob exactly, with the curve and key
 * length the type fixes: a key cut short on a console (or with bytes after it) is not a key.
 */
static int
well_formed(const struct keytype *t, const unsigned char *p, const unsigned char *end)
{
	const unsigned char *f;
	size_t n;
	int i;

	for (i = 0; i < t->nfields; i++) {
		if ((f = wire_string(&p, end, &n)) == NULL || n == 0)
			return 0;
		if (i == 0 && t->curve != NULL &&
		    (n != strlen(t->curve) || memcmp(f, t->curve, n) != 0))
			return 0;
		if (i == (t->curve != NULL) && t->keylen > 0 &&
		    (n != t->keylen || (t->curve != NULL && f[0] != 0x04)))
			return 0;
	}
	return p == end;
}

int
hostkey_from_blob(struct hostkey *k, const unsigned char *blob, size_t len)
{
	const unsigned char *p = blob, *type;
	const struct keytype *t;
	size_t n, i;

	memset(k, 0, sizeof(*k));
	if ((type = wire_string(&p, blob + len, &n)) == NULL || n == 0 || n >= sizeof(k->type))
		return -1;
	for (i = 0; i < n; i++)
		if (!isgraph(type[i]))
			return -1;
	memcpy(k->type, type, n);
	if ((t = keytype(k->type)) != NULL && !well_formed(t, p, blob + len)) {
		k->type[0] = '\0';
		return -1;
	}
	k->blob = xmalloc(len);
	memcpy(k->blob, blob, len);
	k->len = len;
	hostkey_fingerprint(blob, len, k->fp);
	return 0;
}

int
hostkey_from_base64(struct hostkey *k, const char *b64, size_t len)
{
	unsigned char *blob;
	size_t n;
	int rc;

	memset(k, 0, sizeof(*k));
	if ((blob = (unsigned char *)base64_decode(b64, len, &n)) == NULL)
		return -1;
	rc = hostkey_from_blob(k, blob, n);
	free(blob);
	return rc;
}

void
hostkey_free(struct hostkey *k)
{
	free(k->blob);
	k->blob = NULL;
}

const char *
hostkey_label(const struct hostkey *k)
{
	const struct keytype *t;

	if ((t = keytype(k->type)) != NULL)
		return t->label;
	return k->type;
}

void
hostkeys_add(struct hostkeys *set, struct hostkey *k)
{
	set->v = xreallocarray(set->v, set->n + 1, sizeof(*set->v));
	set->v[set->n++] = *k;
	k->blob = NULL;
}

void
hostkeys_free(struct hostkeys *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		hostkey_free(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

int
hostkeys_match(const struct hostkeys *set, const struct hostkey *server)
{
	const struct hostkey *k;
	size_t i;

	for (i = 0; i < set->n; i++) {
		k = &set->v[i];
		if (k->blob != NULL && server->blob != NULL) {
			if (k->len == server->len && memcmp(k->blob, server->blob, k->len) == 0)
				return 1;
		} else if (strcmp(k->fp, server->fp) == 0)
			return 1;
	}
	return 0;
}

char *
hostkeys_methods(const struct hostkeys *set)
{
	const struct keytype *t;
	char *list, *s;
	size_t i, j;
	int want[NKEYTYPES] = { 0 };

	for (i = 0; i < set->n; i++) {
		if ((t = keytype(set->v[i].type)) == NULL || t->methods == NULL)
			return NULL;
		want[t - keytypes] = 1;
	}
	list = NULL;
	for (j = 0; j < NKEYTYPES; j++) {
		if (!want[j])
			continue;
		xasprintf(&s, "%s%s%s", list ? list : "", list ? "," : "", keytypes[j].methods);
		free(list);
		list = s;
	}
	return list;
}

char *
hostkeys_describe(const struct hostkeys *set)
{
	char *list, *s;
	size_t i;

	list = xstrdup("");
	for (i = 0; i < set->n; i++) {
		xasprintf(&s, "%s%s%s%s%s", list, i ? ", " : "", hostkey_label(&set->v[i]),
		    set->v[i].type[0] ? " " : "", set->v[i].fp);
		free(list);
		list = s;
	}
	return list;
}

/*
 * Base64 as EC2 and OpenSSH write it; whitespace is skipped, padding is optional, anything else
 * is an error.
 */
char *
base64_decode(const char *in, size_t len, size_t *outlen)
{
	char *out;
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0, pad = 0, v;
	unsigned char c;

	out = xmalloc(len / 4 * 3 + 4);
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad)
			goto bad;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)(acc >> bits & 0xff);
		}
	}
	/* Six leftover bits cannot be: one base64 character alone encodes no byte. */
	if (bits >= 6 || pad > 2)
		goto bad;
	out[n] = '\0';
	*outlen = n;
	return out;
bad:
	free(out);
	return NULL;
}

/* The next whitespace-separated word of *p; NULL at the end. */
static char *
word(char **p)
{
	char *w;

	w = *p + strspn(*p, " \t");
	if (*w == '\0')
		return NULL;
	*p = w + strcspn(w, " \t");
	if (**p != '\0')
		*(*p)++ = '\0';
	return w;
}

/* A KEYS line: "TYPE BASE64 COMMENT", after whatever prefix the console put before it. */
static void
keys_line(char *line, struct hostkeys *set)
{
	struct hostkey k;
	char *p, *w, *b64;

	p = line;
	while ((w = word(&p)) != NULL) {
		if (keytype(w) == NULL)
			continue;
		if ((b64 = word(&p)) == NULL)
			return;
		if (hostkey_from_base64(&k, b64, strlen(b64)) != 0)
			return;
		if (strcmp(k.type, w) != 0) {
			hostkey_free(&k);
			return;
		}
		hostkeys_add(set, &k);
		return;
	}
}

/* A FINGERPRINTS line: "BITS SHA256:FP COMMENT (TYPE)", after a prefix. */
static void
fingerprints_line(char *line, struct hostkeys *set)
{
	struct hostkey k;
	char *p, *w, *prev, *fp, *label, *end;
	long bits;
	size_t i;

	memset(&k, 0, sizeof(k));
	p = line;
	prev = fp = label = NULL;
	bits = 0;
	while ((w = word(&p)) != NULL) {
		if (fp == NULL && strncmp(w, "SHA256:", 7) == 0) {
			fp = w;
			if (prev != NULL && (bits = strtol(prev, &end, 10), *end != '\0'))
				bits = 0;
		} else if (fp != NULL && w[0] == '(' && w[strlen(w) - 1] == ')')
			label = w;
		prev = w;
	}
	if (fp == NULL || strlen(fp) != HOSTKEY_FP_SIZE - 1)
		return;
	for (i = 7; fp[i] != '\0'; i++)
		if (!isalnum((unsigned char)fp[i]) && fp[i] != '+' && fp[i] != '/')
			return;
	memcpy(k.fp, fp, HOSTKEY_FP_SIZE);
	if (label != NULL) {
		label[strlen(label) - 1] = '\0';
		label++;
		for (i = 0; i < NKEYTYPES; i++)
			if (strcmp(keytypes[i].label, label) == 0 &&
			    (keytypes[i].bits == 0 || keytypes[i].bits == bits)) {
				snprintf(k.type, sizeof(k.type), "%s", keytypes[i].type);
				break;
			}
	}
	hostkeys_add(set, &k);
}

int
console_hostkeys(const char *text, size_t len, struct hostkeys *set)
{
	static const char begin_keys[] = "-----BEGIN SSH HOST KEY KEYS-----";
	static const char end_keys[] = "-----END SSH HOST KEY KEYS-----";
	static const char begin_fps[] = "-----BEGIN SSH HOST KEY FINGERPRINTS-----";
	static const char end_fps[] = "-----END SSH HOST KEY FINGERPRINTS-----";
	struct hostkeys keys = { 0 }, fps = { 0 }, cur = { 0 };
	const char *p, *nl, *end = text + len;
	char *line;
	size_t n;
	int in = CONSOLE_NONE;

	for (p = text; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		line = xstrndup(p, n);
		if (strstr(line, begin_keys) != NULL || strstr(line, begin_fps) != NULL) {
			hostkeys_free(&cur);
			in = strstr(line, begin_keys) != NULL ? CONSOLE_KEYS : CONSOLE_FINGERPRINTS;
		} else if (in == CONSOLE_KEYS && strstr(line, end_keys) != NULL) {
			if (cur.n > 0)
				hostkeys_free(&keys), keys = cur, memset(&cur, 0, sizeof(cur));
			in = CONSOLE_NONE;
		} else if (in == CONSOLE_FINGERPRINTS && strstr(line, end_fps) != NULL) {
			if (cur.n > 0)
				hostkeys_free(&fps), fps = cur, memset(&cur, 0, sizeof(cur));
			in = CONSOLE_NONE;
		} else if (in == CONSOLE_KEYS)
			keys_line(line, &cur);
		else if (in == CONSOLE_FINGERPRINTS)
			fingerprints_line(line, &cur);
		free(line);
	}
	hostkeys_free(&cur);
	if (keys.n > 0) {
		hostkeys_free(&fps);
		*set = keys;
		return CONSOLE_KEYS;
	}
	*set = fps;
	return fps.n > 0 ? CONSOLE_FINGERPRINTS : CONSOLE_NONE;
}

struct knownhosts {
	pthread_mutex_t		 lock;		/* libssh2 keeps its errors in the session */
	LIBSSH2_SESSION		*session;	/* never connected: libssh2's knownhost API wants one */
	LIBSSH2_KNOWNHOSTS	*hosts;
	struct hostkeys		 revoked;	/* refused for every host */
	char			*path;
};

/* "@revoked HOSTS TYPE BASE64": the key is refused whatever the host patterns say. */
static void
revoked_line(char *line, struct hostkeys *set)
{
	struct hostkey k;
	char *p, *b64;

	p = line;
	if (word(&p) == NULL || word(&p) == NULL || word(&p) == NULL || (b64 = word(&p)) == NULL)
		return;
	if (hostkey_from_base64(&k, b64, strlen(b64)) == 0)
		hostkeys_add(set, &k);
}

struct knownhosts *
knownhosts_open(const char *path, int missing_ok, char *err, size_t errlen)
{
	struct knownhosts *kh;
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if ((fp = fopen(path, "re")) == NULL && !(errno == ENOENT && missing_ok)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	kh = xcalloc(1, sizeof(*kh));
	pthread_mutex_init(&kh->lock, NULL);
	kh->path = xstrdup(path);
	if ((kh->session = libssh2_session_init()) == NULL ||
	    (kh->hosts = libssh2_knownhost_init(kh->session)) == NULL)
		errx(EXIT_FAIL, "libssh2: cannot initialise");
	while (fp != NULL && (n = getline(&line, &cap, fp)) != -1) {
		/* OpenSSH skips what it cannot read; libssh2 would reject the whole file. */
		if (strncmp(line, "@revoked", 8) == 0 && isspace((unsigned char)line[8]))
			revoked_line(line, &kh->revoked);
		else if (line[0] != '@')
			(void)libssh2_knownhost_readline(kh->hosts, line, (size_t)n,
			    LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	}
	free(line);
	if (fp != NULL) {
		if (ferror(fp)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			fclose(fp);
			knownhosts_free(kh);
			return NULL;
		}
		fclose(fp);
	}
	return kh;
}

void
knownhosts_free(struct knownhosts *kh)
{
	if (kh == NULL)
		return;
	if (kh->hosts != NULL)
		libssh2_knownhost_free(kh->hosts);
	if (kh->session != NULL)
		libssh2_session_free(kh->session);
	hostkeys_free(&kh->revoked);
	pthread_mutex_destroy(&kh->lock);
	free(kh->path);
	free(kh);
}

static int
khmask(const char *type)
{
	const struct keytype *t;

	if ((t = keytype(type)) != NULL && t->khmask != 0)
		return t->khmask;
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

/*
 * The name known_hosts gives host:port. libssh2 would also try the bare host for other ports than
 * 22; OpenSSH does not, and neither do we: another port may well be another server.
 */
static char *
hostname(const char *host, int port)
{
	char *name;

	if (port == 22)
		return xstrdup(host);
	xasprintf(&name, "[%s]:%d", host, port);
	return name;
}

/* Called with the lock held. */
static void
lookup(struct knownhosts *kh, const char *host, int port, struct hostkeys *set)
{
	struct libssh2_knownhost *e;
	struct hostkey k;
	char *name;
	size_t i;

	/*
	 * libssh2 has no look-up by name alone (hashed names must be hashed with their salt), but a
	 * check with a key that cannot be right answers MISMATCH with the entry of that type.
	 */
	name = hostname(host, port);
	for (i = 0; i < NKEYTYPES; i++) {
		if (keytypes[i].khmask == 0)
			continue;
		e = NULL;
		if (libssh2_knownhost_checkp(kh->hosts, name, -1, "AAAA", 4,
		    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_BASE64 | keytypes[i].khmask,
		    &e) != LIBSSH2_KNOWNHOST_CHECK_MISMATCH || e == NULL || e->key == NULL)
			continue;
		if (hostkey_from_base64(&k, e->key, strlen(e->key)) == 0)
			hostkeys_add(set, &k);
	}
	free(name);
}

void
knownhosts_lookup(struct knownhosts *kh, const char *host, int port, struct hostkeys *set)
{
	pthread_mutex_lock(&kh->lock);
	lookup(kh, host, port, set);
	pthread_mutex_unlock(&kh->lock);
}

int
knownhosts_check(struct knownhosts *kh, const char *host, int port, const struct hostkey *key)
{
	struct hostkeys known = { 0 };
	char *name;
	int rc;

	if (hostkeys_match(&kh->revoked, key))
		return KNOWNHOSTS_REVOKED;
	name = hostname(host, port);
	pthread_mutex_lock(&kh->lock);
	rc = libssh2_knownhost_checkp(kh->hosts, name, -1, (const char *)key->blob, key->len,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | khmask(key->type), NULL);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		rc = KNOWNHOSTS_MATCH;
	else {
		/* A key of another type than the file's counts as a different key too. */
		lookup(kh, host, port, &known);
		rc = known.n > 0 ? KNOWNHOSTS_MISMATCH : KNOWNHOSTS_NONE;
		hostkeys_free(&known);
	}
	pthread_mutex_unlock(&kh->lock);
	free(name);
	return rc;
}

int
knownhosts_add(struct knownhosts *kh, const char *host, int port, const struct hostkey *key,
    char *err, size_t errlen)
{
	unsigned char *b64;
	char *line, *name;
	FILE *fp;
	int rc = 0, last;

	b64 = xmalloc(key->len / 3 * 4 + 8);
	EVP_EncodeBlock(b64, key->blob, (int)key->len);
	name = hostname(host, port);
	xasprintf(&line, "%s %s %s\n", name, key->type, (char *)b64);
	pthread_mutex_lock(&kh->lock);
	if ((fp = fopen(kh->path, "a+e")) == NULL)
		rc = -1;
	else {
		/* A last line without its newline would otherwise swallow ours. */
		last = fseek(fp, -1, SEEK_END) == 0 ? fgetc(fp) : '\n';
		/* Output after input needs a positioning call in between (C11 7.21.5.3). */
		if (fseek(fp, 0, SEEK_END) == -1 ||
		    (last != '\n' && last != EOF && fputc('\n', fp) == EOF) ||
		    fputs(line, fp) == EOF)
			rc = -1;
		if (fclose(fp) == EOF)
			rc = -1;
	}
	if (rc == -1)
		snprintf(err, errlen, "%s: %s", kh->path, strerror(errno));
	else
		(void)libssh2_knownhost_readline(kh->hosts, line, strlen(line),
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	pthread_mutex_unlock(&kh->lock);
	free(line);
	free(name);
	free(b64);
	return rc;
}
