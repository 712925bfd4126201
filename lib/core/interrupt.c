/* interrupt.c: finishing the calls in flight when interrupted, then dying by the signal as a shell expects. */
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "interrupt.h"

static const int sigs[] = { SIGHUP, SIGINT, SIGTERM };
static volatile sig_atomic_t caught;
static int mine[sizeof(sigs) / sizeof(sigs[0])];	/* handled here, not ignored from the start */

static struct sigaction dfl;

static void
note(int sig)
{
	size_t i;

	caught = sig;
	/* A second signal ends the program at once: whoever sends it means it. */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (mine[i])
			sigaction(sigs[i], &dfl, NULL);
}

void
intr_catch(void)
{
	struct sigaction sa, old;
	size_t i;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = note;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		mine[i] = sigaction(sigs[i], &sa, NULL) == 0;
	}
}

int
intr_signal(void)
{
	return caught;
}

void
intr_resend(void)
{
	sigset_t set;
	int sig = caught;

	if (sig == 0)
		return;
	sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}
