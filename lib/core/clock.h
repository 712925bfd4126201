/* clock.h: the monotonic clock that deadlines and back-offs are measured on, and sleeping on it. */
#ifndef AMICYCLE_CLOCK_H
#define AMICYCLE_CLOCK_H

#include <stdint.h>

/* Milliseconds on a monotonic clock. */
int64_t	clock_ms(void);

/*
 * Sleeps ms milliseconds, or less when a signal that intr_catch() handles arrives: a program
 * that was interrupted stops waiting.
 */
void	clock_sleep_ms(int64_t ms);

#endif
