/* jsondoc.c: one whole JSON document from a file or stdin (a Packer manifest), with FILE:LINE diagnostics. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "jsonl.h"
#include "util.h"

const char *
jsondoc_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

static char *
slurp(const char *path, size_t *lenp)
{
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "re")) == NULL)
		err(EXIT_FAIL, "%s", path);
	do {
		if (cap - len < BUFSIZ) {
			cap = cap ? cap * 2 : 2 * BUFSIZ;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp))
		err(EXIT_FAIL, "%s", jsondoc_name(path));
	if (fp != stdin)
		fclose(fp);
	*lenp = len;
	return buf;
}

/*
 * Checks the text line by line, so that a bad byte is reported where an editor shows it.
 * Returns the number of the first bad line, or 0.
 */
static unsigned long
badline(const char *p, size_t len, const char **why)
{
	const char *nl, *end = p + len;
	unsigned long lineno;

	for (lineno = 1; p < end; lineno++, p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if (!utf8_valid(p, nl - p)) {
			*why = "not valid UTF-8";
			return lineno;
		}
		if (memchr(p, '\0', nl - p) != NULL) {
			*why = "NUL byte in line";
			return lineno;
		}
	}
	return 0;
}

static int
blank(const char *p, size_t len)
{
	for (; len > 0; p++, len--)
		if (strchr(" \t\r\n", *p) == NULL)
			return 0;
	return 1;
}

jv
jsondoc_parse(const char *buf, size_t len, unsigned long *lineno)
{
	const char *why, *at;
	char *msg;
	jv v, err;

	if ((*lineno = badline(buf, len, &why)) != 0)
		return jv_invalid_with_msg(jv_string(why));
	if (blank(buf, len))
		return jv_invalid_with_msg(jv_string("empty input"));
	v = jv_parse_sized(buf, (int)len);
	if (!jv_is_valid(v)) {
		msg = jsonl_parse_msg(v);
		/* jq says where: "... at line N, column M". */
		if ((at = strstr(msg, " at line ")) == NULL || sscanf(at, " at line %lu,", lineno) != 1)
			*lineno = 0;
		err = jv_invalid_with_msg(jv_string_fmt("not valid JSON: %s", msg));
		free(msg);
		return err;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		err = jv_invalid_with_msg(jv_string_fmt("not a JSON object (a JSON %s)",
		    jv_kind_name(jv_get_kind(v))));
		jv_free(v);
		return err;
	}
	return v;
}

jv
jsondoc_read(const char *path)
{
	const char *name = jsondoc_name(path);
	unsigned long lineno;
	char *buf, *where;
	size_t len;
	jv v;

	buf = slurp(path, &len);
	v = jsondoc_parse(buf, len, &lineno);
	free(buf);
	if (!jv_is_valid(v)) {
		if (lineno != 0) {
			xasprintf(&where, "%s:%lu", name, lineno);
			data_errx(where, "%s", jsonl_parse_msg(v));
		}
		data_errx(name, "%s", jsonl_parse_msg(v));
	}
	return v;
}
