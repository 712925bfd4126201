/* jqexpr.c: jq expressions given as options (sort keys, grouping), compiled once with libjq. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>

#include <jq.h>

#include "jqexpr.h"
#include "util.h"

struct jqexpr {
	jq_state	*jq;
	const char	*expr;
	const char	*option;
	struct jqexpr	*next;
};

/*
 * The expressions not yet freed, torn down at exit. jq holds its run stack by a pointer past the
 * end of the block, so a program that exits with a jq_state alive (an input that cannot be read,
 * a write error on stdout: exit 1) would be reported by LeakSanitizer, and fail the SANITIZE=1
 * suite, although nothing leaks. Bad input leaves by data_errx(), which runs no atexit handler.
 */
static struct jqexpr *live;
static int registered;

static void
teardown_live(void)
{
	while (live != NULL)
		jqexpr_free(live);
}

static void
compile_error(void *arg, jv msg)
{
	struct jqexpr *e = arg;

	msg = jq_format_error(msg);
	warnx("%s: %s: %s", e->option, e->expr, jv_string_value(msg));
	jv_free(msg);
}

struct jqexpr *
jqexpr_compile(const char *expr, const char *option)
{
	struct jqexpr *e;

	e = xcalloc(1, sizeof(*e));
	e->expr = expr;
	e->option = option;
	if ((e->jq = jq_init()) == NULL)
		errx(EXIT_FAIL, "jq_init failed");
	jq_set_error_cb(e->jq, compile_error, e);
	if (!registered) {
		atexit(teardown_live);
		registered = 1;
	}
	e->next = live;
	live = e;
	if (!jq_compile(e->jq, expr))
		usage_error(NULL);
	return e;
}

jv
jqexpr_first(struct jqexpr *e, jv input)
{
	jv out, rest, msg;

	jq_start(e->jq, input, 0);
	out = jq_next(e->jq);
	if (jv_is_valid(out)) {
		/* Drain the rest so the next jq_start begins clean. */
		while (jv_is_valid(rest = jq_next(e->jq)))
			jv_free(rest);
		jv_free(rest);
		return out;
	}
	msg = jv_invalid_get_msg(out);
	if (jv_get_kind(msg) == JV_KIND_NULL) {
		jv_free(msg);
		if (jq_halted(e->jq))
			return jv_invalid_with_msg(jv_string_fmt("%s halted", e->expr));
		return jv_invalid_with_msg(jv_string_fmt("%s produced no value", e->expr));
	}
	if (jv_get_kind(msg) != JV_KIND_STRING)
		msg = jv_dump_string(msg, 0);
	out = jv_invalid_with_msg(jv_string_fmt("%s: %s", e->expr, jv_string_value(msg)));
	jv_free(msg);
	return out;
}

void
jqexpr_free(struct jqexpr *e)
{
	struct jqexpr **p;

	if (e == NULL)
		return;
	for (p = &live; *p != NULL; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			break;
		}
	jq_teardown(&e->jq);
	free(e);
}
