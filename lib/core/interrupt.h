/* interrupt.h: finishing the calls in flight when interrupted, then dying by the signal as a shell expects. */
#ifndef AMICYCLE_INTERRUPT_H
#define AMICYCLE_INTERRUPT_H

/*
 * From now on, the first SIGINT, SIGTERM or SIGHUP is only noted (intr_signal() returns it) and
 * the next one ends the program at once. A signal ignored when the program started (the shell
 * does that for background jobs) stays ignored. Call it after reading the input, so that an
 * interrupt while the input is still being typed stops the program as usual.
 */
void	intr_catch(void);

/* The signal received since intr_catch(), or 0. */
int	intr_signal(void);

/*
 * If a signal was received: dies by it, so that a shell or make sees the program was
 * interrupted (a shell waiting for it then stops its script). Returns otherwise.
 */
void	intr_resend(void);

#endif
