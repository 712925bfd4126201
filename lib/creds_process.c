/* creds_process.c: credentials from a profile's credential_process. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "creds_provider.h"
#include "util.h"

extern char **environ;

/* Runs the profile's credential_process with /bin/sh, stdin from /dev/null, stderr passed on. */
int
creds_process(const char *profile, const char *cmd, struct held *out, char **errmsg)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	const char *why;
	int fd[2], status, rc;
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC) == -1)
		return creds_fail(errmsg, "process: profile %s: pipe: %s", profile,
		    strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	if (rc != 0) {
		close(fd[0]);
		return creds_fail(errmsg, "process: profile %s: cannot run /bin/sh: %s", profile,
		    strerror(rc));
	}
	for (;;) {
		if (len + 4096 > cap) {
			char *t;

			cap = cap ? cap * 2 : 8192;
			t = xmalloc(cap);
			if (buf != NULL) {
				memcpy(t, buf, len);
				explicit_bzero(buf, len);
				free(buf);
			}
			buf = t;
		}
		n = read(fd[0], buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		if (len > MAX_DOCUMENT)
			break;
	}
	close(fd[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	rc = -1;
	if (status == -1)
		creds_fail(errmsg, "process: profile %s: waitpid: %s", profile, strerror(errno));
	else if (len > MAX_DOCUMENT)
		creds_fail(errmsg,
		    "process: profile %s: credential_process wrote more than %d bytes",
		    profile, MAX_DOCUMENT);
	else if (WIFSIGNALED(status))
		creds_fail(errmsg, "process: profile %s: credential_process killed by signal %d",
		    profile,
		    WTERMSIG(status));
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
