/* report.c: test results for CI systems: TAP on stdout, JUnit XML in a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "report.h"
#include "util.h"

void
tap_plan(size_t n)
{
	char *line;

	xasprintf(&line, "1..%zu", n);
	out_line(line, strlen(line));
	free(line);
}

void
tap_test(size_t n, int ok, const char *desc, const char *diag)
{
	const char *p, *nl;
	char *line, *q;
	size_t len;

	len = (size_t)xasprintf(&line, "%sok %zu - ", ok ? "" : "not ", n);
	line = xrealloc(line, len + 2 * strlen(desc) + 1);
	for (q = line + len, p = desc; *p != '\0'; p++) {
		if (*p == '#' || *p == '\\')
			*q++ = '\\';
		*q++ = *p == '\n' || *p == '\r' ? ' ' : *p;
	}
	out_line(line, (size_t)(q - line));
	free(line);
	for (p = diag; p != NULL && *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		len = (size_t)xasprintf(&line, "#   %.*s", (int)(nl - p), p);
		out_line(line, len);
		free(line);
	}
	fflush(stdout);
}

/* Text for XML 1.0: markup escaped, and characters XML cannot hold replaced. s is valid UTF-8. */
static void
xml(FILE *fp, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	for (; p < end; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\n':
		case '\r':
		case '\t':
			/* As references, so that attribute values keep them too. */
			fprintf(fp, "&#%d;", *p);
			break;
		default:
			if (*p < 0x20)
				fputs("\xef\xbf\xbd", fp);
			else if (*p == 0xef && end - p >= 3 && p[1] == 0xbf &&
			    (p[2] == 0xbe || p[2] == 0xbf)) {
				fputs("\xef\xbf\xbd", fp);	/* U+FFFE, U+FFFF */
				p += 2;
			} else
				putc(*p, fp);
		}
	}
}

/* Borrows obj. Its string at key as XML text; nothing if there is none. */
static void
xmlfield(FILE *fp, jv obj, const char *key)
{
	jv v;

	v = jv_object_get(jv_copy(obj), jv_string(key));
	if (jv_get_kind(v) == JV_KIND_STRING)
		xml(fp, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
	jv_free(v);
}

/* Borrows obj. 1 if it has a non-empty string at key. */
static int
has(jv obj, const char *key)
{
	jv v;
	int yes;

	v = jv_object_get(jv_copy(obj), jv_string(key));
	yes = jv_get_kind(v) == JV_KIND_STRING && jv_string_value(v)[0] != '\0';
	jv_free(v);
	return yes;
}

/* Borrows obj. */
static double
number(jv obj, const char *key)
{
	jv v;
	double d;

	v = jv_object_get(jv_copy(obj), jv_string(key));
	d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0;
	jv_free(v);
	return d;
}

/* Borrows suite. Counts its cases, failures and seconds into the totals. */
static void
count(jv suite, int *tests, int *failures, double *time)
{
	jv cases, c;
	int i, n;

	cases = jv_object_get(jv_copy(suite), jv_string("cases"));
	n = jv_array_length(jv_copy(cases));
	for (i = 0; i < n; i++) {
		c = jv_array_get(jv_copy(cases), i);
		(*tests)++;
		*failures += has(c, "failure");
		*time += number(c, "time");
		jv_free(c);
	}
	jv_free(cases);
}

/* Borrows c. One <testcase>. */
static void
testcase(FILE *fp, jv c)
{
	fputs("    <testcase classname=\"", fp);
	xmlfield(fp, c, "classname");
	fputs("\" name=\"", fp);
	xmlfield(fp, c, "name");
	fprintf(fp, "\" time=\"%.3f\">\n", number(c, "time"));
	if (has(c, "failure")) {
		fputs("      <failure message=\"", fp);
		xmlfield(fp, c, "failure");
		fputs("\">", fp);
		xmlfield(fp, c, "failure");
		fputs("</failure>\n", fp);
	}
	if (has(c, "stdout")) {
		fputs("      <system-out>", fp);
		xmlfield(fp, c, "stdout");
		fputs("</system-out>\n", fp);
	}
	if (has(c, "stderr")) {
		fputs("      <system-err>", fp);
		xmlfield(fp, c, "stderr");
		fputs("</system-err>\n", fp);
	}
	fputs("    </testcase>\n", fp);
}

void
junit_write(FILE *fp, jv suites)
{
	jv suite, cases, c;
	double time = 0, t;
	int i, j, n, m, tests = 0, failures = 0, f;

	n = jv_array_length(jv_copy(suites));
	for (i = 0; i < n; i++) {
		suite = jv_array_get(jv_copy(suites), i);
		count(suite, &tests, &failures, &time);
		jv_free(suite);
	}
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"%d\" "
	    "failures=\"%d\" errors=\"0\" time=\"%.3f\">\n", tests, failures, time);
	for (i = 0; i < n; i++) {
		suite = jv_array_get(jv_copy(suites), i);
		m = f = 0;
		t = 0;
		count(suite, &m, &f, &t);
		fputs("  <testsuite name=\"", fp);
		xmlfield(fp, suite, "name");
		fprintf(fp, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\" time=\"%.3f\"",
		    m, f, t);
		if (has(suite, "hostname")) {
			fputs(" hostname=\"", fp);
			xmlfield(fp, suite, "hostname");
			fputs("\"", fp);
		}
		fputs(">\n", fp);
		cases = jv_object_get(jv_copy(suite), jv_string("cases"));
		for (j = 0; j < m; j++) {
			c = jv_array_get(jv_copy(cases), j);
			testcase(fp, c);
			jv_free(c);
		}
		jv_free(cases);
		fputs("  </testsuite>\n", fp);
		jv_free(suite);
	}
	fputs("</testsuites>\n", fp);
}
