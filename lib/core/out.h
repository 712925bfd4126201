/* out.h: JSON-lines output on stdout: compact records, one a line, checked when the program ends. */
#ifndef AMICYCLE_OUT_H
#define AMICYCLE_OUT_H

#include <stddef.h>
#include <jv.h>

/*
 * Call first in main(). A reader that goes away early (head(1)) is not an error: SIGPIPE is
 * ignored and the first EPIPE ends the program quietly with status 0.
 */
void	out_init(void);

/* Consumes rec. Writes it as one compact JSON line and flushes, so pipelines stream. */
void	out_record(jv rec);

/* Writes len bytes and a newline, unflushed (for filters that print everything at the end). */
void	out_line(const char *, size_t len);

/* Flushes and closes stdout; a write error (a full disk) is reported. Returns EXIT_OK or EXIT_FAIL. */
int	out_close(void);

#endif
