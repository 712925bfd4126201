/*
 * accounts-matrix: turn an accounts file into a CI matrix, one job per account and region. Each
 * line of the input is {"Account","Role","Regions","Environment"}; the output is the matrix of
 * GitHub Actions (JSON on one line, for strategy.matrix through fromJSON) or GitLab's
 * parallel:matrix (YAML). Every line is checked (a 12-digit account, the ARN of a role in that
 * account, region names, no account and region twice) before anything is printed: a bad line is
 * exit 3 naming FILE:LINE, and the output is empty.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsopt.h"
#include "endpoint.h"
#include "jsonl.h"
#include "out.h"
#include "strmap.h"
#include "util.h"

enum {
	OPT_VERSION = OPT_FIRST
};

enum format { FORMAT_GITHUB, FORMAT_GITLAB };
/* --format's values, in enum format's order. */
static const char *const format_names[] = { "github", "gitlab", NULL };
/* The most jobs one matrix may make: GitHub's limit, and GitLab's for parallel:matrix. */
static const size_t format_max[] = { 256, 200 };

/* The fields of a line, and of a job: its matrix names on GitHub and on GitLab. */
static const char *const fields[] = { "Account", "Role", "Regions", "Environment", NULL };
static const char *const github_names[] = { "account", "role", "region", "environment" };
static const char *const gitlab_names[] = { "ACCOUNT", "ROLE", "REGION", "ENVIRONMENT" };

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: accounts-matrix [-f github|gitlab] [FILE ...]\n"
	    "Print the CI matrix of an accounts file: a job per account and region.\n"
	    "\n"
	    "  -f, --format=ENGINE      github: GitHub's strategy.matrix as JSON (default);\n"
	    "                           gitlab: GitLab's parallel:matrix as YAML\n");
}

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
 * Consumes rec, a line of the accounts file. Appends its jobs (objects with the GitHub names) to
 * jobs, which it consumes and returns; seen maps "ACCOUNT REGION" to the FILE:LINE that has it,
 * consumed and returned through *seen.
 */
static jv
readline(struct jsonl *in, jv rec, jv jobs, jv *seen)
{
	const char *account, *role, *environment, *region;
	char roleacct[13], *key, *where;
	jv regions, prev;
	int i, n;

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
	regions = jv_object_get(jv_copy(rec), jv_string("Regions"));
	if (jv_get_kind(regions) != JV_KIND_ARRAY || (n = jv_array_length(jv_copy(regions))) == 0)
		jsonl_die(in, "Regions: expected a non-empty array of region names");
	for (i = 0; i < n; i++) {
		jv r = jv_array_get(jv_copy(regions), i);

		if (jv_get_kind(r) != JV_KIND_STRING || !aws_region_valid(jv_string_value(r)))
			jsonl_die(in, "Regions: '%s' is not a region name",
			    one_line(jv_dump_string_trunc(r, xmalloc(64), 64)));
		region = jv_string_value(r);
		xasprintf(&key, "%s %s", account, region);
		prev = jv_object_get(jv_copy(*seen), jv_string(key));
		if (jv_get_kind(prev) == JV_KIND_STRING)
			jsonl_die(in, "account %s, region %s: already at %s", account, region,
			    jv_string_value(prev));
		jv_free(prev);
		where = jsonl_where(in);
		*seen = jv_object_set(*seen, jv_string(key), jv_string(where));
		free(where);
		free(key);
		jobs = jv_array_append(jobs, JV_OBJECT(
		    jv_string(github_names[0]), jv_string(account),
		    jv_string(github_names[1]), jv_string(role),
		    jv_string(github_names[2]), jv_string(region),
		    jv_string(github_names[3]), jv_string(environment)));
		jv_free(r);
	}
	jv_free(regions);
	jv_free(rec);
	return jobs;
}

/* Borrows jobs. GitLab's parallel:matrix: each value a JSON string, which YAML reads as it is. */
static void
print_gitlab(jv jobs)
{
	size_t i;
	char *line;
	int j;

	out_line("parallel:", 9);
	out_line("  matrix:", 9);
	jv_array_foreach(jobs, ji, job) {
		for (i = 0; i < 4; i++) {
			jv v = jv_object_get(jv_copy(job), jv_string(github_names[i]));
			jv s = jv_dump_string(v, 0);

			j = xasprintf(&line, "    %s %s: %s", i == 0 ? "-" : " ", gitlab_names[i],
			    jv_string_value(s));
			out_line(line, (size_t)j);
			free(line);
			jv_free(s);
		}
		jv_free(job);
		(void)ji;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format",	required_argument,	NULL, 'f' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, OPT_VERSION },
		{ NULL,		0,			NULL, 0 }
	};
	enum format format = FORMAT_GITHUB;
	struct jsonl in;
	jv jobs = jv_array(), seen = jv_object(), rec, s;
	const char *name = NULL;
	size_t n;
	int ch, f;

	out_init();
	while ((ch = getopt_cli(argc, argv, "f:h", longopts)) != -1) {
		switch (ch) {
		case 'f':
			if ((f = strmap_index(format_names, optarg)) == -1)
				usage_error("--format: bad value '%s' (expected github or gitlab)", optarg);
			format = f;
			break;
		case 'h':
			usage();
		case OPT_VERSION:
			print_version();
		default:
			usage_error(NULL);
		}
	}

	jsonl_open(&in, argv + optind);
	while (jv_is_valid(rec = jsonl_next(&in))) {
		jobs = readline(&in, rec, jobs, &seen);
		name = in.name;
	}
	jv_free(rec);
	n = (size_t)jv_array_length(jv_copy(jobs));
	if (n == 0)
		data_errx(argv[optind] != NULL ? argv[optind] : "stdin", "no accounts: a matrix needs a job");
	if (n > format_max[format])
		data_errx(name, "%zu jobs: more than the %zu a %s matrix may have", n,
		    format_max[format], format_names[format]);
	jsonl_close(&in);
	jv_free(seen);

	if (format == FORMAT_GITHUB) {
		s = jv_dump_string(JV_OBJECT(jv_string("include"), jobs), 0);
		out_line(jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
		jv_free(s);
	} else {
		print_gitlab(jobs);
		jv_free(jobs);
	}
	return out_close();
}
