/*
 * accounts-matrix: turn an accounts file into a CI matrix, one job per account and region. Each
 * line of the input is {"Account","Role","Regions","Environment"}; the output is the matrix of
 * GitHub Actions (JSON on one line, for strategy.matrix through fromJSON) or GitLab's
 * parallel:matrix (YAML). Every line is checked (a 12-digit account, the ARN of a role in that
 * account, region names, no account and region twice) before anything is printed: a bad line is
 * exit 3 naming FILE:LINE, and the output is empty.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "accounts.h"
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

/* The fields of a job: its matrix names on GitHub and on GitLab. */
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

/* The jobs of the accounts: an object with the GitHub names per account and region, in order. */
static jv
jobs_of(const struct accounts *a)
{
	const struct account *acct;
	jv jobs = jv_array();
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		acct = &a->v[i];
		for (j = 0; j < acct->nregions; j++)
			jobs = jv_array_append(jobs, JV_OBJECT(
			    jv_string(github_names[0]), jv_string(acct->id),
			    jv_string(github_names[1]), jv_string(acct->role),
			    jv_string(github_names[2]), jv_string(acct->regions[j]),
			    jv_string(github_names[3]), jv_string(acct->environment)));
	}
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
	struct accounts a;
	jv jobs, s;
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

	accounts_read(&a, argv + optind);
	if (a.n == 0)
		data_errx(argv[optind] != NULL ? argv[optind] : "stdin", "no accounts: a matrix needs a job");
	if (a.pairs > format_max[format])
		data_errx(a.last, "%zu jobs: more than the %zu a %s matrix may have", a.pairs,
		    format_max[format], format_names[format]);
	jobs = jobs_of(&a);
	accounts_free(&a);

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
