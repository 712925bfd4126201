/*
 * keep-last: retention. Within each group of records (-g, a jq expression; one group by default) the
 * newest N (-n, default 5) are kept, and so is every record younger than --min-age; the rest are
 * printed as they came, so that `sort-by-date | keep-last -n 5 | deregister` does what it reads as.
 * --kept prints the kept records instead, --explain every record with a "Retention" member saying
 * why. Because the output feeds deletions it is all or nothing: everything is read and checked
 * before anything is printed, and a group whose dates (-k, default .CreationDate) do not ascend is
 * refused rather than guessed at, since "newest" would then mean "last in the input".
 */
#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dated.h"
#include "jsonl.h"
#include "out.h"
#include "reckey.h"
#include "timefmt.h"
#include "util.h"

#define DEFAULT_COUNT	5

enum {
	OPT_ALLOW_ZERO = OPT_FIRST,
	OPT_EXPLAIN,
	OPT_KEPT,
	OPT_MIN_AGE,
	OPT_NOW,
	OPT_VERSION
};

struct group {
	char		*name;		/* the -g value as compact JSON; NULL without -g */
	uint64_t	 hash;
	size_t		 count;		/* its records */
	size_t		 seen;		/* of them decided so far, while printing */
	struct instant	 last;		/* the newest date read so far, to check the order */
	const char	*file;		/* where that record was */
	unsigned long	 lineno;
};

struct groups {
	struct group	*v;
	size_t		 n;
	size_t		 nalloc;
	uint32_t	*slots;		/* open addressing: 1 + index into v, 0 for empty */
	size_t		 nslots;	/* a power of two, at least twice n */
};

struct policy {
	long long	 count;		/* -n */
	const char	*min_age;	/* --min-age as given, or NULL */
	struct instant	 cutoff;	/* records after it are younger than --min-age */
};

enum verdict { KEEP_NEWEST, KEEP_YOUNG, DROP };

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: keep-last [-n N] [-g EXPR] [-k EXPR] [--min-age DURATION] [--now TIME]\n"
	    "                 [--allow-zero] [--kept | --explain] [FILE ...]\n"
	    "Print the records past the newest N of each group (input sorted, oldest first).\n"
	    "\n"
	    "  -n, --count=N            keep the newest N of each group (default 5)\n"
	    "  -g, --group=EXPR         group records by this jq expression\n"
	    "  -k, --key=EXPR           the date of a record (default .CreationDate)\n"
	    "      --min-age DURATION   also keep every record younger than DURATION (7d)\n"
	    "      --now TIME           measure ages from TIME, not the clock\n"
	    "      --allow-zero         accept -n 0\n"
	    "      --kept               print the kept records instead\n"
	    "      --explain            print every record with the reason for its verdict\n");
}

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The group called name (which it takes), added if new. */
static uint32_t
group_find(struct groups *gs, char *name)
{
	uint64_t h = name ? fnv1a(name) : 0;
	size_t i, mask;
	uint32_t *slot;

	if (gs->n * 2 >= gs->nslots) {
		free(gs->slots);
		gs->nslots = gs->nslots ? gs->nslots * 2 : 64;
		gs->slots = xcalloc(gs->nslots, sizeof(*gs->slots));
		for (i = 0; i < gs->n; i++) {
			mask = gs->nslots - 1;
			for (slot = &gs->slots[gs->v[i].hash & mask]; *slot != 0;
			    slot = &gs->slots[(size_t)(slot - gs->slots + 1) & mask])
				;
			*slot = (uint32_t)i + 1;
		}
	}
	mask = gs->nslots - 1;
	for (slot = &gs->slots[h & mask]; *slot != 0; slot = &gs->slots[(size_t)(slot - gs->slots + 1) & mask]) {
		struct group *g = &gs->v[*slot - 1];

		if (g->hash == h && (name == NULL || strcmp(g->name, name) == 0)) {
			free(name);
			return *slot - 1;
		}
	}
	if (gs->n == gs->nalloc) {
		gs->nalloc = gs->nalloc ? gs->nalloc * 2 : 16;
		gs->v = xreallocarray(gs->v, gs->nalloc, sizeof(*gs->v));
	}
	memset(&gs->v[gs->n], 0, sizeof(gs->v[gs->n]));
	gs->v[gs->n].name = name;
	gs->v[gs->n].hash = h;
	*slot = (uint32_t)++gs->n;
	return *slot - 1;
}

static void
groups_free(struct groups *gs)
{
	size_t i;

	for (i = 0; i < gs->n; i++)
		free(gs->v[i].name);
	free(gs->v);
	free(gs->slots);
}

/* Reads one record: its date, its group; refuses it if it is older than its group's last. */
static void
readrec(struct jsonl *r, struct reckey **keys, size_t nkeys, struct groups *gs, struct datedset *set)
{
	struct keyval kv[2];
	struct instant t;
	struct group *g;
	char *msg, *name = NULL;
	uint32_t gi;
	size_t i;

	reckey_eval(r, keys, nkeys, kv);
	if (keyval_time(keys[0], &kv[0], &t, &msg) == -1)
		jsonl_die(r, "%s", msg);
	if (nkeys > 1 && (name = keyval_dump(keys[1], &kv[1], &msg)) == NULL)
		jsonl_die(r, "%s", msg);
	for (i = 0; i < nkeys; i++)
		keyval_free(&kv[i]);
	gi = group_find(gs, name);
	g = &gs->v[gi];
	if (g->count > 0 && instant_cmp(&t, &g->last) < 0)
		jsonl_die(r, "older than the record at %s:%lu%s%s: each group must be in ascending date "
		    "order (sort-by-date)", g->file, g->lineno, g->name ? " in group " : "",
		    g->name ? g->name : "");
	g->last = t;
	g->file = r->name;
	g->lineno = r->lineno;
	g->count++;
	dated_add(set, r, &t, gi);
}

/* The verdict on the idx-th oldest of the group's records. */
static enum verdict
decide(const struct policy *p, const struct group *g, const struct dated *e, size_t idx)
{
	if (g->count - idx <= (unsigned long long)p->count)
		return KEEP_NEWEST;
	if (p->min_age != NULL && instant_cmp(&e->t, &p->cutoff) > 0)
		return KEEP_YOUNG;
	return DROP;
}

static char *
reason(const struct policy *p, const struct group *g, enum verdict v)
{
	char *s;

	switch (v) {
	case KEEP_NEWEST:
		xasprintf(&s, "newest %lld%s%s", p->count, g->name ? " in group " : "", g->name ? g->name : "");
		break;
	case KEEP_YOUNG:
		xasprintf(&s, "younger than %s", p->min_age);
		break;
	default:
		if (p->count == 0)
			xasprintf(&s, "-n 0 keeps none%s%s", p->min_age ? ", and not younger than " : "",
			    p->min_age ? p->min_age : "");
		else
			xasprintf(&s, "older than the newest %lld%s%s%s%s", p->count,
			    g->name ? " in group " : "", g->name ? g->name : "",
			    p->min_age ? ", and not younger than " : "", p->min_age ? p->min_age : "");
	}
	return s;
}

/* Prints the record with "Retention":{"Keep":…,"Reason":…} set; frees why. */
static void
explain(const char *line, uint32_t len, int keep, char *why)
{
	jv rec, ret;

	rec = jv_parse_sized(line, (int)len);
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		errx(EXIT_FAIL, "internal error: a checked record no longer parses");
	ret = jv_object_set(jv_object(), jv_string("Keep"), jv_bool(keep));
	ret = jv_object_set(ret, jv_string("Reason"), jv_string(why));
	free(why);
	out_record(jv_object_set(rec, jv_string("Retention"), ret));
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "allow-zero",	no_argument,		NULL, OPT_ALLOW_ZERO },
		{ "count",	required_argument,	NULL, 'n' },
		{ "explain",	no_argument,		NULL, OPT_EXPLAIN },
		{ "group",	required_argument,	NULL, 'g' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "kept",	no_argument,		NULL, OPT_KEPT },
		{ "key",	required_argument,	NULL, 'k' },
		{ "min-age",	required_argument,	NULL, OPT_MIN_AGE },
		{ "now",	required_argument,	NULL, OPT_NOW },
		{ "version",	no_argument,		NULL, OPT_VERSION },
		{ NULL,		0,			NULL, 0 }
	};
	struct policy p = { DEFAULT_COUNT, NULL, { 0, 0 } };
	struct datedset set = { 0 };
	struct groups gs = { 0 };
	struct jsonl r;
	struct reckey *keys[2];
	struct instant now;
	struct timespec ts;
	struct group *g;
	struct dated *e;
	const char *keyexpr = ".CreationDate", *groupexpr = NULL, *nowarg = NULL;
	enum verdict v;
	int64_t min_age = 0;
	int allow_zero = 0, kept = 0, explaining = 0, ch;
	size_t i, nkeys;

	out_init();
	while ((ch = getopt_cli(argc, argv, "g:hk:n:", longopts)) != -1) {
		switch (ch) {
		case OPT_MIN_AGE:
			if (duration_parse(optarg, &min_age) == -1) {
				usage_error("--min-age: bad value '%s' (expected a duration such as 7d, 12h or 1h30m)",
				    optarg);
			}
			p.min_age = optarg;
			break;
		case OPT_EXPLAIN:
			explaining = 1;
			break;
		case 'g':
			groupexpr = optarg;
			break;
		case 'h':
			usage();
		case OPT_KEPT:
			kept = 1;
			break;
		case 'k':
			keyexpr = optarg;
			break;
		case OPT_NOW:
			if (rfc3339_parse(optarg, strlen(optarg), &now) == -1) {
				usage_error("--now: bad value '%s' (expected an RFC 3339 time such as "
				    "2024-05-01T12:00:00Z)", optarg);
			}
			nowarg = optarg;
			break;
		case 'n':
			p.count = parse_num(optarg, 0, INT32_MAX, "-n");
			break;
		case OPT_VERSION:
			print_version();
		case OPT_ALLOW_ZERO:
			allow_zero = 1;
			break;
		default:
			usage_error(NULL);
		}
	}
	if (p.count == 0 && !allow_zero) {
		usage_error("-n 0: no record is kept by count (only --min-age keeps any); "
		    "add --allow-zero if that is meant");
	}
	if (kept && explaining) {
		usage_error("--kept and --explain cannot be used together");
	}
	if (nowarg == NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		now.sec = ts.tv_sec;
		now.nsec = (int32_t)ts.tv_nsec;
	}
	p.cutoff = now;
	p.cutoff.sec = now.sec < INT64_MIN + min_age ? INT64_MIN : now.sec - min_age;

	keys[0] = reckey_compile(keyexpr, "-k");
	nkeys = 1;
	if (groupexpr != NULL)
		keys[nkeys++] = reckey_compile(groupexpr, "-g");
	jsonl_open(&r, argv + optind);
	while (jsonl_getline(&r))
		readrec(&r, keys, nkeys, &gs, &set);
	jsonl_close(&r);
	for (i = 0; i < nkeys; i++)
		reckey_free(keys[i]);

	for (i = 0; i < set.n; i++) {
		e = &set.recs[i];
		g = &gs.v[e->aux];
		v = decide(&p, g, e, g->seen++);
		if (explaining)
			explain(dated_bytes(&set, e), e->len, v != DROP, reason(&p, g, v));
		else if ((v != DROP) == kept)
			out_line(dated_bytes(&set, e), e->len);
	}
	groups_free(&gs);
	dated_free(&set);
	return out_close();
}
