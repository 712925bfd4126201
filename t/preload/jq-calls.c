/*
 * jq-calls.so: an LD_PRELOAD shim that logs every call a program makes to libjq's jq_init and
 * jq_compile, a line each ("jq_init", "jq_compile") appended to the file $AMICYCLE_JQ_CALLS, and
 * then makes the call. t0004 runs filters under it to see whether they set up libjq's interpreter.
 * It is built without the sanitizers: it is loaded ahead of their runtime, which a sanitized
 * filter then has to be told to accept (ASAN_OPTIONS=verify_asan_link_order=0).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jq.h>

static void
note(const char *name)
{
	const char *path;
	char line[32];
	size_t n;
	int fd;

	if ((path = getenv("AMICYCLE_JQ_CALLS")) == NULL || *path == '\0')
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		abort();	/* a call that cannot be logged must not pass for no call */
	n = strlen(name);
	memcpy(line, name, n);
	line[n++] = '\n';
	if (write(fd, line, n) != (ssize_t)n)
		abort();
	close(fd);
}

/* The next definition of name after this one: libjq's. */
static void *
next(const char *name)
{
	void *f;

	if ((f = dlsym(RTLD_NEXT, name)) == NULL)
		abort();
	return f;
}

jq_state *
jq_init(void)
{
	jq_state *(*real)(void) = (jq_state *(*)(void))next("jq_init");

	note("jq_init");
	return real();
}

int
jq_compile(jq_state *jq, const char *program)
{
	int (*real)(jq_state *, const char *) = (int (*)(jq_state *, const char *))next("jq_compile");

	note("jq_compile");
	return real(jq, program);
}
