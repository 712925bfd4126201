/* jqexpr.h: jq expressions given as options (sort keys, grouping), compiled once with libjq. */
#ifndef AMICYCLE_JQEXPR_H
#define AMICYCLE_JQEXPR_H

#include <jv.h>

struct jqexpr;

/*
 * Compiles expr; option names it in diagnostics. A compile error is a usage error:
 * "PROG: OPTION: EXPR: jq's message" and exit EXIT_USAGE. A plain path (".F", ".F.G.H") needs
 * no compiling and is run without libjq's interpreter, so a filter whose expressions are all
 * paths never calls jq_init.
 */
struct jqexpr	*jqexpr_compile(const char *expr, const char *option);

/*
 * Consumes input. Returns the expression's first output, or jv_invalid_with_msg() when it
 * produces nothing or raises an error (the message says which).
 */
jv		 jqexpr_first(struct jqexpr *, jv input);

void		 jqexpr_free(struct jqexpr *);

/* jq's FIELD token, "." [a-zA-Z_][a-zA-Z_0-9]*, at p: returns its end, or NULL. */
const char	*jqexpr_field(const char *p);

/* Whether p is FIELD tokens and nothing else (".G.H", or "" for none): a plain path's steps. */
int		 jqexpr_fields(const char *p);

#endif
