/* jsondoc.h: one whole JSON document from a file or stdin (a Packer manifest), with FILE:LINE diagnostics. */
#ifndef AMICYCLE_JSONDOC_H
#define AMICYCLE_JSONDOC_H

#include <jv.h>

/* The name diagnostics give path: path itself, or "stdin" for "-". */
const char	*jsondoc_name(const char *path);

/*
 * Reads path ("-" is stdin) whole and parses it as one JSON document. Returns the JSON object
 * (the caller owns it). An input that cannot be opened or read: "PROG: FILE: strerror", exit
 * EXIT_FAIL. An empty input, invalid UTF-8, a NUL byte, anything but one JSON value, or a value
 * that is not an object: "PROG: FILE:LINE: ..." (FILE: alone where no line applies), exit EXIT_DATA.
 */
jv		 jsondoc_read(const char *path);

/*
 * The checks of jsondoc_read() on len bytes at buf, which it borrows. Returns the JSON object
 * (the caller owns it), or jv_invalid_with_msg() with the message ("not valid UTF-8", "not valid
 * JSON: ...", "not a JSON object (a JSON array)", ...) and *lineno the line it names (0: none).
 */
jv		 jsondoc_parse(const char *buf, size_t len, unsigned long *lineno);

#endif
