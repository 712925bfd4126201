/* jqexpr.c: jq expressions given as options (sort keys, grouping), compiled once with libjq. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>

#include <jq.h>

#include "jqexpr.h"
#include "util.h"

/*
 * jq_compile parses and binds jq's builtins (a few hundred lines of jq) every time: some 15 ms, 30
 * times what a one-record filter needs for everything else. A plain path (".F.G.H") has no builtin
 * to bind and no way to fail to compile, and jq runs each of its steps as jv_get(), so it is run here
 * by jv_get(), and libjq's interpreter is set up only for the expressions that need it.
 */
struct jqexpr {
	jq_state	*jq;		/* NULL: a plain path, run by path_first() */
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

static int
identchar(char c, int first)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

const char *
jqexpr_field(const char *p)
{
	if (p[0] != '.' || !identchar(p[1], 1))
		return NULL;
	for (p += 2; identchar(*p, 0); p++)
		;
	return p;
}

int
jqexpr_fields(const char *p)
{
	while (p != NULL && *p != '\0')
		p = jqexpr_field(p);
	return p != NULL;
}

struct jqexpr *
jqexpr_compile(const char *expr, const char *option)
{
	struct jqexpr *e;

	e = xcalloc(1, sizeof(*e));
	e->expr = expr;
	e->option = option;
	if (*expr != '\0' && jqexpr_fields(expr))
		return e;
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

/* Consumes v. jq's answer to the plain path expr on v: each .F is jv_get(v, "F"), as in jq's INDEX. */
static jv
path_first(const char *expr, jv v)
{
	const char *p, *end;

	for (p = expr; *p != '\0' && jv_is_valid(v); p = end) {
		end = jqexpr_field(p);
		v = jv_get(v, jv_string_sized(p + 1, (int)(end - p - 1)));
	}
	return v;
}

/* Consumes input. The first output of e's jq program, or what jq_next gives when there is none. */
static jv
jq_first(struct jqexpr *e, jv input)
{
	jv out, rest;

	jq_start(e->jq, input, 0);
	out = jq_next(e->jq);
	if (jv_is_valid(out)) {
		/* Drain the rest so the next jq_start begins clean. */
		while (jv_is_valid(rest = jq_next(e->jq)))
			jv_free(rest);
		jv_free(rest);
	}
	return out;
}

jv
jqexpr_first(struct jqexpr *e, jv input)
{
	jv out, msg;

	out = e->jq != NULL ? jq_first(e, input) : path_first(e->expr, input);
	if (jv_is_valid(out))
		return out;
	msg = jv_invalid_get_msg(out);
	if (jv_get_kind(msg) == JV_KIND_NULL) {
		jv_free(msg);
		if (e->jq != NULL && jq_halted(e->jq))
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
	if (e->jq != NULL)
		jq_teardown(&e->jq);
	free(e);
}
