/* jsonl.h: reading JSON-lines records from file operands or stdin, with FILE:LINE diagnostics. */
#ifndef AMICYCLE_JSONL_H
#define AMICYCLE_JSONL_H

#include <stdio.h>
#include <jv.h>

struct jsonl {
	char		**paths;	/* remaining operands; NULL-terminated */
	int		  usestdin;	/* no operands: read stdin once */
	FILE		 *fp;
	const char	 *name;		/* current input for diagnostics: the operand, or "stdin" */
	unsigned long	  lineno;
	char		 *line;		/* the current line, without its LF or CRLF */
	size_t		  len;
	size_t		  cap;
	int		  nolf;		/* the line ends its input without a newline (cut short?) */
};

/* Reads the operands in order ("-" is stdin); none means stdin. paths is NULL-terminated. */
void	jsonl_open(struct jsonl *, char **paths);

/*
 * Reads the next non-blank line into r->line. Returns 1, or 0 at the end of the last input.
 * An input that cannot be opened or read is reported and ends the program with EXIT_FAIL.
 */
int	jsonl_getline(struct jsonl *);

/*
 * Reads and parses the next record. Returns the JSON object (the caller owns it), or
 * jv_invalid() without a message at the end. A line that is not valid UTF-8, not JSON or not an
 * object is bad input: "PROG: FILE:LINE: ..." and exit EXIT_DATA.
 */
jv	jsonl_next(struct jsonl *);

/* Parses r->line as jsonl_next does. */
jv	jsonl_parse(struct jsonl *);

/* "PROG: FILE:LINE: MESSAGE" for the current line, and exit EXIT_DATA (by data_errx()). */
void	jsonl_die(struct jsonl *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/* "FILE:LINE" of the current line, for diagnostics kept until later; the caller frees it. */
char	*jsonl_where(struct jsonl *);

void	jsonl_close(struct jsonl *);

/*
 * Consumes v, an invalid value from jv_parse_sized(). Returns jq's message without the input that
 * jq quotes after it (a 10 MB line is no diagnostic); the caller frees it.
 */
char	*jsonl_parse_msg(jv v);

/* 1 if the len bytes at p are valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
int	utf8_valid(const char *p, size_t len);

#endif
