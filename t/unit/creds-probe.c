/*
 * creds-probe: for the t21xx tests, finds credentials with creds_get() and prints one JSON line
 * saying where they came from: {"Source","AccessKeyId","SessionToken" (whether there is one),
 * "Expiration" (RFC 3339 or null)}. Never the secret or the token. --twice asks again at once
 * (to show the cache and the refresh window), --wait SECONDS asks again after a pause.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jv.h>

#include "awsconfig.h"
#include "creds.h"
#include "http.h"
#include "out.h"
#include "timefmt.h"
#include "util.h"

enum {
	OPT_REGION = OPT_FIRST,
	OPT_TWICE,
	OPT_WAIT
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: creds-probe [--region REGION] [--twice | --wait SECONDS]\n");
	exit(status);
}

static int
probe(const char *region)
{
	const struct aws_creds *c;
	char *errmsg, when[RFC3339_SIZE];
	jv rec;

	if ((c = creds_get(region, &errmsg)) == NULL) {
		warnx("%s", errmsg);
		free(errmsg);
		return EXIT_FAIL;
	}
	rec = jv_object();
	rec = jv_object_set(rec, jv_string("Source"), jv_string(c->source));
	rec = jv_object_set(rec, jv_string("AccessKeyId"), jv_string(c->access_key_id));
	rec = jv_object_set(rec, jv_string("SessionToken"), jv_bool(c->session_token != NULL));
	if (c->expiration != 0) {
		rfc3339_format(c->expiration, when);
		rec = jv_object_set(rec, jv_string("Expiration"), jv_string(when));
	} else {
		rec = jv_object_set(rec, jv_string("Expiration"), jv_null());
	}
	out_record(rec);
	return EXIT_OK;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help",	no_argument,		NULL,	'h' },
		{ "region",	required_argument,	NULL,	OPT_REGION },
		{ "twice",	no_argument,		NULL,	OPT_TWICE },
		{ "wait",	required_argument,	NULL,	OPT_WAIT },
		{ NULL,		0,			NULL,	0 }
	};
	const char *region = NULL;
	long long wait = -1;
	int ch, status, closed;

	out_init();
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(EXIT_OK);
		case OPT_REGION:
			region = optarg;
			break;
		case OPT_TWICE:
			wait = 0;
			break;
		case OPT_WAIT:
			wait = parse_num(optarg, 0, 3600, "--wait");
			break;
		default:
			usage(EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(EXIT_USAGE);

	http_set_ca_bundle(awsconfig_ca_bundle());
	status = probe(region);
	if (status == EXIT_OK && wait >= 0) {
		sleep((unsigned)wait);
		status = probe(region);
	}
	creds_free();
	http_set_ca_bundle(NULL);
	closed = out_close();
	return status > closed ? status : closed;
}
