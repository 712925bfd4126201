/* dated.h: dated JSON lines held in memory (raw bytes in one buffer, a small entry each), for filters that print after reading all. */
#ifndef AMICYCLE_DATED_H
#define AMICYCLE_DATED_H

#include <stddef.h>
#include <stdint.h>

#include "jsonl.h"
#include "timefmt.h"

/* 32 bytes a record, whatever its size: the bytes themselves live in the shared buffer. */
struct dated {
	struct instant	 t;	/* the record's date */
	uint64_t	 off;	/* where its bytes start in the buffer */
	uint32_t	 len;
	uint32_t	 aux;	/* the filter's own: a group number, a flag */
};

struct datedset {
	char		*buf;	/* every line's bytes, one after another, without line ends */
	size_t		 used;
	size_t		 cap;
	struct dated	*recs;	/* in input order */
	size_t		 n;
	size_t		 nalloc;
};

/* Appends the current line of r (a line of 2 GiB or more is bad input, as jv_parse_sized takes an int); returns its entry. */
struct dated	*dated_add(struct datedset *, struct jsonl *r, const struct instant *t, uint32_t aux);

/* The entry's bytes, for out_line() or jv_parse_sized(). */
const char	*dated_bytes(const struct datedset *, const struct dated *);

void		 dated_free(struct datedset *);

#endif
