/*
 * sort-by-date: sort JSON-lines records by a timestamp, oldest first (newest first with -r). The key is a
 * jq expression (default .CreationDate) whose value is an RFC 3339 time; times compare as instants, so
 * "2024-05-01T14:00:00+02:00" and "2024-05-01T12:00:00Z" are equal. The sort is stable, records are
 * printed byte for byte as they came, and a record without a usable date is an error unless --undated
 * says where to put it. Nothing is printed until every record has been read and checked.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dated.h"
#include "jsonl.h"
#include "out.h"
#include "reckey.h"
#include "strmap.h"
#include "util.h"

enum {
	OPT_UNDATED = OPT_FIRST,
	OPT_VERSION
};

enum undated { UNDATED_ERROR, UNDATED_FIRST, UNDATED_LAST };
/* --undated's values, in enum undated's order. */
static const char *const undated_names[] = { "error", "first", "last", NULL };

struct order {
	int	reverse;
	int	undated_rank;	/* where aux=1 (undated) records go: -1 before the dated ones, 1 after */
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: sort-by-date [-r] [-k EXPR] [--undated=error|first|last] [FILE ...]\n"
	    "Sort JSON-lines records by an RFC 3339 time, oldest first; stable.\n"
	    "\n"
	    "  -k, --key=EXPR           the date of a record (default .CreationDate)\n"
	    "  -r, --reverse            newest first\n"
	    "      --undated=error|first|last\n"
	    "                           where records without a date go (default error)\n");
}

/* A total order: undated place, then date, then input position (so the sort is stable). */
static int
compare(const void *va, const void *vb, void *arg)
{
	const struct dated *a = va, *b = vb;
	const struct order *o = arg;
	int c;

	if (a->aux != b->aux)
		return a->aux ? o->undated_rank : -o->undated_rank;
	if (!a->aux && (c = instant_cmp(&a->t, &b->t)) != 0)
		return o->reverse ? -c : c;
	return (a->off > b->off) - (a->off < b->off);
}

static void
readrec(struct jsonl *r, struct reckey *key, enum undated undated, struct datedset *set)
{
	struct instant t = { 0, 0 };
	struct keyval kv;
	char *msg;
	uint32_t aux = 0;

	reckey_eval(r, &key, 1, &kv);
	if (keyval_time(key, &kv, &t, &msg) == -1) {
		if (undated == UNDATED_ERROR)
			jsonl_die(r, "%s", msg);
		free(msg);
		aux = 1;
	}
	keyval_free(&kv);
	dated_add(set, r, &t, aux);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ "key",	required_argument,	NULL, 'k' },
		{ "reverse",	no_argument,		NULL, 'r' },
		{ "undated",	required_argument,	NULL, OPT_UNDATED },
		{ "version",	no_argument,		NULL, OPT_VERSION },
		{ NULL,		0,			NULL, 0 }
	};
	struct datedset set = { 0 };
	struct jsonl r;
	struct order o = { 0, 0 };
	struct reckey *key;
	const char *expr = ".CreationDate";
	enum undated undated = UNDATED_ERROR;
	size_t i;
	int ch, u;

	out_init();
	while ((ch = getopt_cli(argc, argv, "hk:r", longopts)) != -1) {
		switch (ch) {
		case 'h':
			usage();
		case 'k':
			expr = optarg;
			break;
		case 'r':
			o.reverse = 1;
			break;
		case OPT_UNDATED:
			if ((u = strmap_index(undated_names, optarg)) == -1) {
				usage_error("--undated: bad value '%s' (expected error, first or last)", optarg);
			}
			undated = u;
			break;
		case OPT_VERSION:
			print_version();
		default:
			usage_error(NULL);
		}
	}
	o.undated_rank = undated == UNDATED_FIRST ? -1 : 1;

	key = reckey_compile(expr, "-k");
	jsonl_open(&r, argv + optind);
	while (jsonl_getline(&r))
		readrec(&r, key, undated, &set);
	jsonl_close(&r);
	reckey_free(key);

	if (set.n > 0)
		qsort_r(set.recs, set.n, sizeof(*set.recs), compare, &o);
	for (i = 0; i < set.n; i++)
		out_line(dated_bytes(&set, &set.recs[i]), set.recs[i].len);
	dated_free(&set);
	return out_close();
}
