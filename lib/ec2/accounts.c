/* accounts.c: the accounts file, a JSON line per account: {"Account","Role","Regions","Environment"}. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "awsopt.h"
#include "endpoint.h"
#include "jsonl.h"
#include "strmap.h"
#include "util.h"

/* The fields of a line. */
static const char *const fields[] = { "Account", "Role", "Regions", "Environment", NULL };

/* Borrows rec. Its field as a non-empty string, else the line is bad input. */
static const char *
need_str(struct jsonl *in, jv rec, const char *field)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(field));
	const char *s;

	if (jv_get_kind(v) != JV_KIND_STRING || jv_string_length_bytes(jv_copy(v)) == 0)
		jsonl_die(in, "%s: expected a non-empty string", field);
	s = jv_string_value(v);
	jv_free(v);	/* rec still holds it */
	return s;
}

/* An environment's name, as GitHub and GitLab both take it: letters, digits, - _ . and spaces. */
static int
environment_valid(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (!isalnum((unsigned char)*s) && strchr("-_. ", *s) == NULL)
			return 0;
	return n <= 255;
}

/*
 * Borrows rec. Checks its Regions and fills a's; seen maps "ACCOUNT REGION" to the FILE:LINE that
 * has it, consumed and returned through *seen.
 */
static void
read_regions(struct jsonl *in, jv rec, struct account *a, jv *seen)
{
	jv regions = jv_object_get(jv_copy(rec), jv_string("Regions")), prev;
	char *key, *where;
	int i, n;

	if (jv_get_kind(regions) != JV_KIND_ARRAY || (n = jv_array_length(jv_copy(regions))) == 0)
		jsonl_die(in, "Regions: expected a non-empty array of region names");
	a->regions = xcalloc((size_t)n + 1, sizeof(*a->regions));
	for (i = 0; i < n; i++) {
		jv r = jv_array_get(jv_copy(regions), i);

		if (jv_get_kind(r) != JV_KIND_STRING || !aws_region_valid(jv_string_value(r)))
			jsonl_die(in, "Regions: '%s' is not a region name",
			    one_line(jv_dump_string_trunc(r, xmalloc(64), 64)));
		xasprintf(&key, "%s %s", a->id, jv_string_value(r));
		prev = jv_object_get(jv_copy(*seen), jv_string(key));
		if (jv_get_kind(prev) == JV_KIND_STRING)
			jsonl_die(in, "account %s, region %s: already at %s", a->id,
			    jv_string_value(r), jv_string_value(prev));
		jv_free(prev);
		where = jsonl_where(in);
		*seen = jv_object_set(*seen, jv_string(key), jv_string(where));
		free(where);
		free(key);
		a->regions[a->nregions++] = xstrdup(jv_string_value(r));
		jv_free(r);
	}
	jv_free(regions);
}

/* Consumes rec, a line of the accounts file: checks it and fills a. */
static void
read_line(struct jsonl *in, jv rec, struct account *a, jv *seen)
{
	const char *account, *role, *environment;
	char roleacct[13];

	jv_object_foreach(rec, k, v) {
		jv_free(v);
		if (strmap_index(fields, jv_string_value(k)) == -1)
			jsonl_die(in, "unknown field '%s' (expected Account, Role, Regions, Environment)",
			    one_line(xstrdup(jv_string_value(k))));
		jv_free(k);
	}
	account = need_str(in, rec, "Account");
	if (strlen(account) != 12 || strspn(account, "0123456789") != 12)
		jsonl_die(in, "Account: '%s' is not a 12-digit account id", one_line(xstrdup(account)));
	role = need_str(in, rec, "Role");
	if (awsopt_role_account(role, roleacct) == -1)
		jsonl_die(in, "Role: '%s' is not a role's ARN (arn:aws:iam::ACCOUNT:role/NAME)",
		    one_line(xstrdup(role)));
	if (strcmp(roleacct, account) != 0)
		jsonl_die(in, "Role: %s is a role of account %s, not of %s", role, roleacct, account);
	environment = need_str(in, rec, "Environment");
	if (!environment_valid(environment))
		jsonl_die(in, "Environment: '%s' is not a name (letters, digits, - _ . and spaces)",
		    one_line(xstrdup(environment)));
	a->id = xstrdup(account);
	a->role = xstrdup(role);
	a->environment = xstrdup(environment);
	read_regions(in, rec, a, seen);
	jv_free(rec);
}

void
accounts_read(struct accounts *a, char **paths)
{
	struct jsonl in;
	jv seen = jv_object(), rec;

	memset(a, 0, sizeof(*a));
	jsonl_open(&in, paths);
	while (jv_is_valid(rec = jsonl_next(&in))) {
		a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
		memset(&a->v[a->n], 0, sizeof(a->v[a->n]));
		read_line(&in, rec, &a->v[a->n], &seen);
		a->pairs += a->v[a->n].nregions;
		a->n++;
		free(a->last);
		a->last = xstrdup(in.name);
	}
	jv_free(rec);
	jsonl_close(&in);
	jv_free(seen);
}

void
accounts_free(struct accounts *a)
{
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		for (j = 0; j < a->v[i].nregions; j++)
			free(a->v[i].regions[j]);
		free(a->v[i].regions);
		free(a->v[i].id);
		free(a->v[i].role);
		free(a->v[i].environment);
	}
	free(a->v);
	free(a->last);
	memset(a, 0, sizeof(*a));
}
