/* ssh.h: SSH client sessions over libssh2, every step bounded by a deadline: connect, log in, run. */
#ifndef AMICYCLE_SSH_H
#define AMICYCLE_SSH_H

#include <stddef.h>
#include <stdint.h>

#include "hostkey.h"

/* Call ssh_init() once before any thread uses SSH, ssh_exit() after the last session. */
void	ssh_init(void);
void	ssh_exit(void);

/* Deadlines are milliseconds on the monotonic clock of clock_ms(). */

struct ssh;

/* Why ssh_connect() failed. */
enum {
	SSH_RETRY = 1,	/* not up yet, perhaps: refused, unreachable, reset, no SSH banner, timed out */
	SSH_NOKEX,	/* no host key algorithm in common (of those offered) */
	SSH_FATAL
};

/*
 * Connects to host:port (an address or a name) and does the SSH handshake before deadline,
 * offering the host key algorithms in methods (comma-separated; NULL for libssh2's defaults).
 * Returns the session, or NULL with *why and a one-line err.
 */
struct ssh	*ssh_connect(const char *host, int port, const char *methods, int64_t deadline,
		    int *why, char *err, size_t errlen);

/* The key the server presented (valid until ssh_close()). */
const struct hostkey *ssh_hostkey(struct ssh *);

/*
 * Says before any connection whether libssh2 can log in with the private key in keyfile: before
 * 1.11 it signs with an RSA key only as ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse.
 * Returns 0 (also for a key it cannot tell the type of: the login will say), or -1 with a
 * one-line err naming the fix.
 */
int	ssh_key_usable(const char *keyfile, char *err, size_t errlen);

/*
 * Logs in as user with the unencrypted private key in keyfile (OpenSSH or PEM format; what
 * libssh2 reads, see ssh-probe(1)). Returns 0, or -1 with err.
 */
int	ssh_login(struct ssh *, const char *user, const char *keyfile, int64_t deadline,
	    char *err, size_t errlen);

/* The outcome of one command. */
struct ssh_run {
	int	 status;	/* the exit status; -1 when none arrived */
	char	 signal[32];	/* "KILL" when a signal ended the command; else "" */
	char	*out;		/* the first cap bytes of stdout, NUL-terminated (may hold NULs) */
	size_t	 outlen;
	int	 outcut;	/* stdout had more than cap bytes */
	char	*err;		/* the same for stderr */
	size_t	 errlen;
	int	 errcut;
	int	 timedout;	/* the deadline passed first: the channel was closed, the command left */
	char	 error[256];	/* not empty when the command could not be run or read */
};

/*
 * Runs command in a channel of its own with no input (EOF at once), keeping at most cap bytes of
 * stdout and of stderr (the rest is read and dropped so the command never blocks on a full
 * window), until it exits or the deadline passes. At the deadline the channel is closed: sshd then
 * stops reading the command's output, but the command is not killed (libssh2 1.10 cannot send
 * signals). Returns 0 when the command ran to its end, -1 otherwise (r->timedout or r->error).
 * Free r with ssh_run_free().
 */
int	ssh_run(struct ssh *, const char *command, size_t cap, int64_t deadline, struct ssh_run *r);
void	ssh_run_free(struct ssh_run *);

/* Says goodbye (briefly: a dead server does not hold it up) and frees the session. */
void	ssh_close(struct ssh *);

#endif
