/* reckey.h: key options (-k, -g) evaluated on raw JSON lines; a leading .Field is read from the bytes, not a parsed record. */
#ifndef AMICYCLE_RECKEY_H
#define AMICYCLE_RECKEY_H

#include <stddef.h>
#include <jv.h>

#include "jsonl.h"
#include "timefmt.h"

struct reckey;

/* A key's value on one record: a plain string still in the line (str), or a jv (v). */
struct keyval {
	const char	*str;	/* the string's bytes, without quotes; NULL: see v */
	size_t		 len;
	jv		 v;	/* the value, or jv_invalid_with_msg() if the expression failed */
};

#define RECKEY_MAX	4

/* Compiles expr as jqexpr_compile does (a bad expression exits EXIT_USAGE); option names it. */
struct reckey	*reckey_compile(const char *expr, const char *option);
void		 reckey_free(struct reckey *);

/*
 * Checks the current line of r as jsonl_parse does (bad input ends the program the same way) and
 * evaluates the n keys (at most RECKEY_MAX) on it into vals[]. vals[i].str points into r->line, so it
 * lasts until the next line is read; release each value with keyval_free().
 */
void	reckey_eval(struct jsonl *r, struct reckey **keys, size_t n, struct keyval *vals);

/* Borrows kv. Returns 0 and the time, or -1 and a message ("-k EXPR: null or missing"; caller frees). */
int	keyval_time(struct reckey *, const struct keyval *, struct instant *, char **msg);

/*
 * Borrows kv. Returns the value as compact JSON (jv_dump_string's form, so equal values give equal
 * text; caller frees), or NULL and a message (caller frees) if the expression failed on this record.
 */
char	*keyval_dump(struct reckey *, const struct keyval *, char **msg);

void	keyval_free(struct keyval *);

#endif
