/* ssh.c: SSH client sessions over libssh2, every step bounded by a deadline: connect, log in, run. */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "clock.h"
#include "ssh.h"
#include "util.h"

/* How long a goodbye may take before the session is dropped anyway. */
#define GRACE_MS	2000
/* Time to send the close of a timed-out channel (the answer is not awaited). */
#define CLOSE_MS	200

struct ssh {
	LIBSSH2_SESSION	*session;
	int		 fd;
	int		 up;		/* handshake done: a goodbye is due */
	struct hostkey	 key;
};

void
ssh_init(void)
{
	if (libssh2_init(0) != 0)
		errx(EXIT_FAIL, "libssh2: cannot initialise");
}

void
ssh_exit(void)
{
	libssh2_exit();
}

static const char *
lasterr(struct ssh *s)
{
	char *msg;

	libssh2_session_last_error(s->session, &msg, NULL, 0);
	return msg;
}

/*
 * The session is non-blocking: a call that would block returns LIBSSH2_ERROR_EAGAIN, and the
 * socket is polled the way libssh2 last wanted it. Returns -1 once the deadline has passed.
 */
static int
waitsock(struct ssh *s, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int dir;

	if ((left = deadline - clock_ms()) <= 0)
		return -1;
	dir = libssh2_session_block_directions(s->session);
	pfd.fd = s->fd;
	pfd.events = 0;
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		pfd.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd.events |= POLLOUT;
	if (pfd.events == 0)
		pfd.events = POLLIN;
	(void)poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
	return 0;
}

/* Repeats a libssh2 call while it would block; at the deadline rc is LIBSSH2_ERROR_TIMEOUT. */
#define AGAIN(rc, s, deadline, call) do {				\
	while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN)			\
		if (waitsock((s), (deadline)) == -1) {			\
			(rc) = LIBSSH2_ERROR_TIMEOUT;			\
			break;						\
		}							\
} while (0)

/* OpenSSL's passphrase callback: there is none, so an encrypted key is not read. */
static int
nopass(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return 0;
}

/* A non-blocking TCP connection, tried address by address until one answers or the deadline. */
static int
tcp_connect(const char *host, int port, int64_t deadline, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	struct pollfd pfd;
	socklen_t sl;
	int64_t left;
	char serv[16];
	int fd, rc, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%d", port);
	if ((rc = getaddrinfo(host, serv, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	fd = -1;
	e = ETIMEDOUT;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		if (e == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			do {
				left = deadline - clock_ms();
				/* Past the deadline, still take an answer that is already there. */
				rc = poll(&pfd, 1, left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left);
			} while (rc == -1 && errno == EINTR);
			e = rc == 0 ? ETIMEDOUT : errno;
			sl = sizeof(e);
			if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 && e == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "connect: %s", strerror(e));
	return fd;
}

/*
 * The algorithms of the comma-separated list methods that libssh2 has, in that order; NULL if it
 * has none. libssh2 1.10 strips the names it lacks itself, but with an overlapping memcpy
 * (undefined behaviour, which ASan stops at), and it lacks the rsa-sha2 names. The caller frees it.
 */
static char *
supported(LIBSSH2_SESSION *session, const char *methods)
{
	const char **algs, *p, *end;
	char *list = NULL, *s;
	size_t len;
	int n, i;

	if ((n = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &algs)) <= 0)
		return NULL;
	for (p = methods; *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		len = (size_t)(end - p);
		for (i = 0; i < n; i++)
			if (strlen(algs[i]) == len && memcmp(algs[i], p, len) == 0)
				break;
		if (i == n)
			continue;
		xasprintf(&s, "%s%s%.*s", list ? list : "", list ? "," : "", (int)len, p);
		free(list);
		list = s;
	}
	libssh2_free(session, algs);
	return list;
}

struct ssh *
ssh_connect(const char *host, int port, const char *methods, int64_t deadline, int *why,
    char *err, size_t errlen)
{
	struct ssh *s;
	const char *blob;
	char *offer;
	size_t len;
	int rc, type;

	*why = SSH_RETRY;
	s = xcalloc(1, sizeof(*s));
	if ((s->fd = tcp_connect(host, port, deadline, err, errlen)) == -1) {
		free(s);
		return NULL;
	}
	if ((s->session = libssh2_session_init()) == NULL)
		errx(EXIT_FAIL, "libssh2: cannot make a session");
	libssh2_session_set_blocking(s->session, 0);
	if (methods != NULL) {
		offer = supported(s->session, methods);
		rc = offer == NULL ? -1 :
		    libssh2_session_method_pref(s->session, LIBSSH2_METHOD_HOSTKEY, offer);
		free(offer);
		if (rc != 0) {
			snprintf(err, errlen, "libssh2 has none of the host key algorithms %s", methods);
			*why = SSH_NOKEX;
			goto fail;
		}
	}
	AGAIN(rc, s, deadline, libssh2_session_handshake(s->session, s->fd));
	if (rc == LIBSSH2_ERROR_TIMEOUT) {
		/*
		 * libssh2 frees a key exchange's state only when the exchange fails, not with the
		 * session: make it fail.
		 */
		shutdown(s->fd, SHUT_RDWR);
		(void)libssh2_session_handshake(s->session, s->fd);
	}
	if (rc != 0) {
		/* A server still starting up accepts and closes: those are worth another try. */
		if (rc == LIBSSH2_ERROR_KEX_FAILURE)
			*why = SSH_NOKEX;
		snprintf(err, errlen, "SSH handshake: %s",
		    rc == LIBSSH2_ERROR_TIMEOUT ? "timed out" : lasterr(s));
		goto fail;
	}
	s->up = 1;
	blob = libssh2_session_hostkey(s->session, &len, &type);
	if (blob == NULL || hostkey_from_blob(&s->key, (const unsigned char *)blob, len) != 0) {
		snprintf(err, errlen, "the server sent no host key");
		*why = SSH_FATAL;
		goto fail;
	}
	return s;
fail:
	ssh_close(s);
	return NULL;
}

const struct hostkey *
ssh_hostkey(struct ssh *s)
{
	return &s->key;
}

/* Private key files are small; a bigger file is not one, and libssh2 will say so. */
#define KEYFILE_MAX	(64 * 1024)

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The public key's type in an "openssh-key-v1" blob (PROTOCOL.key: magic, cipher, KDF, KDF
 * options, key count, then the first public key, whose first string is its type), copied into
 * type; -1 if the blob is not one.
 */
static int
openssh_key_type(const unsigned char *p, size_t len, char *type, size_t typelen)
{
	static const char magic[] = "openssh-key-v1";
	uint32_t n;
	int i;

	if (len < sizeof(magic) || memcmp(p, magic, sizeof(magic)) != 0)
		return -1;
	p += sizeof(magic);
	len -= sizeof(magic);
	/* cipher, KDF and KDF options are strings; then the key count, the public key's length. */
	for (i = 0; i < 3; i++) {
		if (len < 4 || (n = be32(p)) > len - 4)
			return -1;
		p += 4 + n;
		len -= 4 + n;
	}
	if (len < 12)
		return -1;
	p += 8;
	len -= 8;
	if ((n = be32(p)) > len - 4 || n >= typelen)
		return -1;
	memcpy(type, p + 4, n);
	type[n] = '\0';
	return 0;
}

/* The key type of a private key file ("ssh-rsa", "ssh-ed25519", ...), or "" when unknown. */
static void
key_type(const char *text, size_t len, char *type, size_t typelen)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	static const char end[] = "-----END OPENSSH PRIVATE KEY-----";
	const char *b, *e;
	unsigned char *blob;
	size_t bloblen;
	EVP_PKEY *pkey;
	BIO *bio;

	type[0] = '\0';
	if ((b = strstr(text, begin)) != NULL && (e = strstr(b, end)) != NULL) {
		b += sizeof(begin) - 1;
		if ((blob = (unsigned char *)base64_decode(b, (size_t)(e - b), &bloblen)) != NULL) {
			if (openssh_key_type(blob, bloblen, type, typelen) != 0)
				type[0] = '\0';
			free(blob);
		}
		return;
	}
	/* PEM: PKCS#1 ("RSA PRIVATE KEY") or PKCS#8, unencrypted (no passphrase is tried). */
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL)
		return;
	if ((pkey = PEM_read_bio_PrivateKey(bio, NULL, nopass, NULL)) != NULL) {
		if (EVP_PKEY_is_a(pkey, "RSA"))
			snprintf(type, typelen, "ssh-rsa");
		EVP_PKEY_free(pkey);
	}
	/* Not a key OpenSSL reads: that is libssh2's to say, and no error may stay queued. */
	ERR_clear_error();
	BIO_free(bio);
}

int
ssh_key_usable(const char *keyfile, char *err, size_t errlen)
{
	char *text, type[64];
	size_t len;
	FILE *fp;

	/* libssh2_version() answers for the library loaded, LIBSSH2_VERSION_NUM for the headers. */
	if (libssh2_version(0x010b00) != NULL)
		return 0;
	if ((fp = fopen(keyfile, "r")) == NULL)
		return 0;
	text = xmalloc(KEYFILE_MAX + 1);
	len = fread(text, 1, KEYFILE_MAX, fp);
	fclose(fp);
	text[len] = '\0';
	key_type(text, len, type, sizeof(type));
	explicit_bzero(text, len);
	free(text);
	if (strcmp(type, "ssh-rsa") != 0)
		return 0;
	snprintf(err, errlen, "%s: an RSA key, which libssh2 %s signs with SHA-1 only (ssh-rsa), "
	    "refused by OpenSSH 8.8 and later: use an ED25519 key pair (EC2 supports them) or "
	    "libssh2 1.11 or later", keyfile, libssh2_version(0));
	return -1;
}

int
ssh_login(struct ssh *s, const char *user, const char *keyfile, int64_t deadline, char *err,
    size_t errlen)
{
	int rc;

	AGAIN(rc, s, deadline,
	    libssh2_userauth_publickey_fromfile(s->session, user, NULL, keyfile, NULL));
	switch (rc) {
	case 0:
		return 0;
	case LIBSSH2_ERROR_FILE:
		snprintf(err, errlen, "%s: cannot use the key: %s", keyfile, lasterr(s));
		break;
	case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
	case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
		snprintf(err, errlen, "login as %s refused with the key %s", user, keyfile);
		break;
	case LIBSSH2_ERROR_TIMEOUT:
		snprintf(err, errlen, "login as %s: timed out", user);
		break;
	default:
		snprintf(err, errlen, "login as %s: %s", user, lasterr(s));
		break;
	}
	return -1;
}

/* Appends what fits under cap, and notes the rest as cut. */
static void
keep(char **buf, size_t *len, int *cut, size_t cap, const char *p, size_t n)
{
	if (n > cap - *len) {
		n = cap - *len;
		*cut = 1;
	}
	if (n == 0)
		return;
	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

int
ssh_run(struct ssh *s, const char *command, size_t cap, int64_t deadline, struct ssh_run *r)
{
	LIBSSH2_CHANNEL *ch;
	char buf[16384], *sig;
	size_t siglen;
	ssize_t n, m;
	int rc;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	r->out = xstrdup("");
	r->err = xstrdup("");
	while ((ch = libssh2_channel_open_session(s->session)) == NULL) {
		if (libssh2_session_last_errno(s->session) != LIBSSH2_ERROR_EAGAIN) {
			snprintf(r->error, sizeof(r->error), "cannot open a channel: %s", lasterr(s));
			return -1;
		}
		if (waitsock(s, deadline) == -1) {
			r->timedout = 1;
			return -1;
		}
	}
	AGAIN(rc, s, deadline, libssh2_channel_exec(ch, command));
	if (rc == 0)
		AGAIN(rc, s, deadline, libssh2_channel_send_eof(ch));
	while (rc == 0) {
		if ((n = libssh2_channel_read(ch, buf, sizeof(buf))) > 0) {
			keep(&r->out, &r->outlen, &r->outcut, cap, buf, (size_t)n);
			continue;
		}
		if ((m = libssh2_channel_read_stderr(ch, buf, sizeof(buf))) > 0) {
			keep(&r->err, &r->errlen, &r->errcut, cap, buf, (size_t)m);
			continue;
		}
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			rc = (int)n;
		else if (m < 0 && m != LIBSSH2_ERROR_EAGAIN)
			rc = (int)m;
		else if (libssh2_channel_eof(ch))
			break;
		else if (waitsock(s, deadline) == -1)
			rc = LIBSSH2_ERROR_TIMEOUT;
	}
	if (rc == 0)
		AGAIN(rc, s, deadline, libssh2_channel_close(ch));
	if (rc == 0)
		AGAIN(rc, s, deadline, libssh2_channel_wait_closed(ch));
	if (rc == 0) {
		sig = NULL;
		if (libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL) == 0 &&
		    sig != NULL)
			snprintf(r->signal, sizeof(r->signal), "%.*s", (int)siglen, sig);
		else
			r->status = libssh2_channel_get_exit_status(ch);
		if (sig != NULL)
			libssh2_free(s->session, sig);
	} else if (rc == LIBSSH2_ERROR_TIMEOUT)
		r->timedout = 1;
	else
		snprintf(r->error, sizeof(r->error), "%s", lasterr(s));
	if (rc == 0) {
		AGAIN(n, s, deadline, libssh2_channel_free(ch));
		return 0;
	}
	/*
	 * The command runs on, and libssh2 1.10 cannot send it a signal. A close makes sshd stop
	 * reading its output (its next write fails) but sshd answers only when the command has
	 * exited: do not wait for that. The channel is freed with the session.
	 */
	deadline = clock_ms() + CLOSE_MS;
	AGAIN(n, s, deadline, libssh2_channel_close(ch));
	if (n == 0)
		AGAIN(n, s, deadline, libssh2_channel_free(ch));
	return -1;
}

void
ssh_run_free(struct ssh_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void
ssh_close(struct ssh *s)
{
	int64_t deadline;
	int rc;

	if (s == NULL)
		return;
	if (s->up) {
		deadline = clock_ms() + GRACE_MS;
		AGAIN(rc, s, deadline, libssh2_session_disconnect(s->session, "done"));
	}
	/* With the socket shut, freeing the session cannot wait on a peer that went away. */
	shutdown(s->fd, SHUT_RDWR);
	deadline = clock_ms() + GRACE_MS;
	AGAIN(rc, s, deadline, libssh2_session_free(s->session));
	close(s->fd);
	hostkey_free(&s->key);
	free(s);
}
