/* dated.c: dated JSON lines held in memory (raw bytes in one buffer, a small entry each), for filters that print after reading all. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dated.h"
#include "util.h"

/*
 * The buffer grows by doubling. Past glibc's mmap threshold realloc moves pages with mremap rather
 * than copying them, and pages not yet written are not resident, so the peak stays near the input size.
 */
struct dated *
dated_add(struct datedset *d, struct jsonl *r, const struct instant *t, uint32_t aux)
{
	struct dated *e;

	if (r->len > INT_MAX)
		jsonl_die(r, "line longer than 2 GiB");
	if (d->cap - d->used < r->len) {
		if (d->cap == 0)
			d->cap = 1 << 16;
		while (d->cap - d->used < r->len)
			d->cap *= 2;
		d->buf = xrealloc(d->buf, d->cap);
	}
	if (d->n == d->nalloc) {
		d->nalloc = d->nalloc ? d->nalloc * 2 : 1024;
		d->recs = xreallocarray(d->recs, d->nalloc, sizeof(*d->recs));
	}
	memcpy(d->buf + d->used, r->line, r->len);
	e = &d->recs[d->n++];
	e->t = *t;
	e->off = d->used;
	e->len = (uint32_t)r->len;
	e->aux = aux;
	d->used += r->len;
	return e;
}

const char *
dated_bytes(const struct datedset *d, const struct dated *e)
{
	return d->buf + e->off;
}

void
dated_free(struct datedset *d)
{
	free(d->buf);
	free(d->recs);
	memset(d, 0, sizeof(*d));
}
