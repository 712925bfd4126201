/* jsonscan.h: checking a JSON object without building it, and finding its top-level members in the raw bytes. */
#ifndef AMICYCLE_JSONSCAN_H
#define AMICYCLE_JSONSCAN_H

#include <stddef.h>

/* A top-level member to look for: name in, the raw text of its value out. */
struct jsonfield {
	const char	*name;		/* as written in JSON, without escapes; NULL: look for nothing */
	size_t		 namelen;
	const char	*val;		/* the raw text of the last member so named, or NULL if none */
	size_t		 vallen;
};

/*
 * Returns 1 if the len bytes at p are exactly one JSON object (RFC 8259, whitespace around it
 * allowed) and sets each field's val. Returns 0 if they are not, or if the scan cannot answer
 * cheaply (nesting deeper than JSONSCAN_DEPTH, a top-level member name with escapes): the caller
 * then asks jv_parse, which accepts everything this accepts. UTF-8 is not checked here.
 */
#define JSONSCAN_DEPTH	64
int	jsonscan_object(const char *p, size_t len, struct jsonfield *fields, size_t nfields);

/* 1 if the raw JSON value at p is a string that jq would print back byte for byte (no escapes, no DEL). */
int	jsonscan_plain_string(const char *p, size_t len);

#endif
