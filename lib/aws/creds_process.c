/* creds_process.c: credentials from a profile's credential_process. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "creds_provider.h"
#include "http.h"
#include "util.h"

/*
 * How long a credential_process may run, in seconds, before it is killed: the SDKs set no limit,
 * but a filter in CI must not hang on a helper that waits for a browser or never closes its
 * output. AMICYCLE_CREDENTIAL_PROCESS_TIMEOUT (seconds) replaces it; it is a hook for the tests,
 * which cannot wait a minute, not a setting.
 */
#define PROCESS_TIMEOUT_S	60

extern char **environ;

/* Reads the child's output from fd until EOF or the deadline; 0, or -1 on a timeout. */
static int
read_output(int fd, int64_t deadline, char **buf, size_t *len, size_t *cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t left;
	ssize_t n;
	int rc;

	for (;;) {
		if (*len + 4096 > *cap) {
			char *t;

			*cap = *cap ? *cap * 2 : 8192;
			t = xmalloc(*cap);
			if (*buf != NULL) {
				/* Not realloc: the old buffer holds secrets, and is wiped. */
				memcpy(t, *buf, *len);
				explicit_bzero(*buf, *len);
				free(*buf);
			}
			*buf = t;
		}
		if ((left = deadline - clock_ms()) <= 0)
			return -1;
		if ((rc = poll(&p, 1, left > 60000 ? 60000 : (int)left)) == -1 && errno == EINTR)
			continue;
		if (rc == 0)
			continue;
		n = read(fd, *buf + *len, *cap - *len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		*len += n;
		if (*len > MAX_DOCUMENT)
			return 0;
	}
}

/* Waits for pid until the deadline; then kills its process group. Returns waitpid()'s status. */
static int
reap(pid_t pid, int64_t deadline, int *timedout)
{
	int status;
	pid_t r;

	for (;;) {
		if ((r = waitpid(pid, &status, *timedout ? 0 : WNOHANG)) == pid)
			return status;
		if (r == -1 && errno != EINTR)
			return -1;
		if (r == 0 && clock_ms() >= deadline) {
			kill(-pid, SIGKILL);
			*timedout = 1;
		} else if (r == 0) {
			clock_sleep_ms(10);
		}
	}
}

/*
 * Runs the profile's credential_process with /bin/sh, stdin from /dev/null, stderr passed on, in
 * a process group of its own (so that a timeout kills whatever it started) and with no file
 * descriptor of the filter's but stdin, stdout and stderr.
 */
int
creds_process(const char *profile, const char *cmd, struct held *out, char **errmsg)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	const char *s = env("AMICYCLE_CREDENTIAL_PROCESS_TIMEOUT"), *why;
	int64_t timeout = PROCESS_TIMEOUT_S, deadline;
	int fd[2], status, rc, timedout;
	pid_t pid;

	if (s != NULL)
		timeout = parse_num(s, 1, 3600, "AMICYCLE_CREDENTIAL_PROCESS_TIMEOUT");
	if (pipe2(fd, O_CLOEXEC) == -1)
		return creds_fail(errmsg, "process: profile %s: pipe: %s", profile,
		    strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	/* Sockets and files of the filter's stay with it, close-on-exec or not (curl's own). */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&sa, 0);
	rc = posix_spawn(&pid, "/bin/sh", &fa, &sa, argv, environ);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	if (rc != 0) {
		close(fd[0]);
		return creds_fail(errmsg, "process: profile %s: cannot run /bin/sh: %s", profile,
		    strerror(rc));
	}
	deadline = clock_ms() + timeout * 1000;
	timedout = read_output(fd[0], deadline, &buf, &len, &cap) == -1;
	close(fd[0]);
	if (timedout)
		kill(-pid, SIGKILL);
	status = reap(pid, deadline, &timedout);
	rc = -1;
	if (timedout)
		creds_fail(errmsg, "process: profile %s: credential_process did not finish within "
		    "%lld s (the timeout): killed", profile, (long long)timeout);
	else if (status == -1)
		creds_fail(errmsg, "process: profile %s: waitpid: %s", profile, strerror(errno));
	else if (len > MAX_DOCUMENT)
		creds_fail(errmsg, "process: profile %s: credential_process wrote more than %d bytes",
		    profile, MAX_DOCUMENT);
	else if (WIFSIGNALED(status))
		creds_fail(errmsg, "process: profile %s: credential_process killed by signal %d",
		    profile, WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		creds_fail(errmsg, "process: profile %s: credential_process exited with status %d",
		    profile, WEXITSTATUS(status));
	else if (creds_json(buf != NULL ? buf : "", len, "SessionToken", "process", out,
	    &why) == -1)
		creds_fail(errmsg, "process: profile %s: credential_process: %s", profile, why);
	else
		rc = 0;
	if (buf != NULL) {
		explicit_bzero(buf, cap);
		free(buf);
	}
	return rc;
}
