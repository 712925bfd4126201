/*
 * ami-from-manifest: read the manifest.json that Packer's manifest post-processor writes and print one
 * JSON line per machine image of the current run (the builds whose packer_run_uuid is last_run_uuid),
 * {"ImageId","Region","Packer":{"BuildName","BuilderType","BuildTime","RunUuid","CustomData"}}, one for
 * each region:ami-id pair of a build's artifact_id. Artifacts that name no AMI (docker digests, the null
 * builder's "Null") are skipped with a warning. The manifest is checked whole before anything is
 * printed: a listing that feeds promotion or deletion prints all of its images or none.
 */
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "jsondoc.h"
#include "out.h"
#include "timefmt.h"
#include "util.h"

/* The last second of 9999: Packer writes Unix seconds, and RFC 3339 has four-digit years. */
#define BUILD_TIME_MAX	253402300799LL

static const char *name;	/* the input, for diagnostics */
static int allruns;
static char **want;		/* --build operands */
static int *found;		/* found[i]: want[i] named a selected build */
static size_t nwant;

/* Room for ".builds[-2147483648]", and for that and ".packer_run_uuid". */
#define BUILD_SIZE	32
#define PATH_SIZE	64

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: ami-from-manifest [--all-runs] [--build NAME]... [FILE]\n"
	    "Print the images of a Packer manifest's current run as JSON lines.\n"
	    "\n"
	    "      --all-runs           the images of every run, oldest first\n"
	    "      --build NAME         only the builds called NAME (repeatable)\n");
}

/* "PROG: FILE: PATH: MESSAGE" and exit EXIT_DATA: the manifest is malformed. */
#define bad(path, fmt, ...) \
	data_errx(name, "%s: " fmt, (path), ##__VA_ARGS__)

enum {
	OPT_ALL_RUNS = OPT_FIRST,
	OPT_BUILD,
	OPT_VERSION
};

/* Borrows s. Returns it JSON-quoted, as diagnostics show strings from the input; the caller frees. */
static char *
quote(jv s)
{
	jv q;
	char *p;

	q = jv_dump_string(jv_copy(s), 0);
	p = xstrdup(jv_string_value(q));
	jv_free(q);
	return p;
}

/* Consumes s. "PROG: FILE: PATH: WHAT "S"" and exit EXIT_DATA. */
static void __attribute__((noreturn))
bad_string(const char *path, const char *what, jv s)
{
	bad(path, "%s %s", what, quote(s));
}

/* Borrows obj. Returns the value of its key (a new reference); dies unless it is there and of kind. */
static jv
field(jv obj, const char *key, const char *path, jv_kind kind)
{
	char where[PATH_SIZE];
	jv v;

	snprintf(where, sizeof(where), "%s.%s", path, key);
	v = jv_object_get(jv_copy(obj), jv_string(key));
	if (!jv_is_valid(v))
		bad(where, "missing");
	if (jv_get_kind(v) != kind)
		bad(where, "not a JSON %s (a JSON %s)", jv_kind_name(kind), jv_kind_name(jv_get_kind(v)));
	return v;
}

/* Borrows b. Returns its key's value (a new reference), or jv_invalid() if it has none. */
static jv
get(jv b, const char *key)
{
	return jv_object_get(jv_copy(b), jv_string(key));
}

static int
region_ok(const char *p, size_t len)
{
	size_t i, letters, digits;
	int words = 0;

	/* us-east-1, us-gov-west-1, ap-southeast-2: two letters, words, a number. */
	if (len < 2 || p[0] < 'a' || p[0] > 'z' || p[1] < 'a' || p[1] > 'z')
		return 0;
	for (i = 2; i < len && p[i] == '-'; words++) {
		for (i++, letters = 0; i < len && p[i] >= 'a' && p[i] <= 'z'; i++)
			letters++;
		for (digits = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++)
			digits++;
		if ((letters == 0) == (digits == 0))
			return 0;
		if (digits > 0)
			return i == len && words >= 1;
	}
	return 0;
}

static int
ami_ok(const char *p, size_t len)
{
	size_t i;

	/* ami- and 8 hex digits (before 2016) or 17. */
	if ((len != 12 && len != 21) || memcmp(p, "ami-", 4) != 0)
		return 0;
	for (i = 4; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* Borrows b. Whether its artifact is meant to name AMIs (and must then be well-formed). */
static int
names_amis(jv b)
{
	static const char *ami_builders[] = {
		"amazon-chroot", "amazon-ebs", "amazon-ebssurrogate", "amazon-instance", NULL
	};
	const char **t;
	const char *id, *p, *end;
	jv type, v;
	int yes = 0;

	type = get(b, "builder_type");
	for (t = ami_builders; *t != NULL && !yes; t++)
		yes = jv_equal(jv_copy(type), jv_string(*t));
	jv_free(type);
	/* Or another builder's artifact, turned into AMIs by a post-processor such as amazon-import. */
	v = get(b, "artifact_id");
	id = jv_string_value(v);
	end = id + jv_string_length_bytes(jv_copy(v));
	for (p = id; !yes && (p = memmem(p, end - p, "ami-", 4)) != NULL; p++)
		yes = p == id || p[-1] == ':' || p[-1] == ',';
	jv_free(v);
	return yes;
}

/* Borrows b and run. Whether --all-runs and --build select build b; notes which names matched. */
static int
selected(jv b, jv run)
{
	jv bname, full;
	size_t i;
	int sel;

	sel = allruns || jv_equal(get(b, "packer_run_uuid"), jv_copy(run));
	if (!sel || nwant == 0)
		return sel;
	bname = get(b, "name");
	/* Packer's -only names a build TYPE.NAME; the manifest has the two apart. */
	full = jv_string_concat(jv_string_concat(get(b, "builder_type"), jv_string(".")),
	    jv_copy(bname));
	for (sel = 0, i = 0; i < nwant; i++)
		if (jv_equal(jv_string(want[i]), jv_copy(bname)) ||
		    jv_equal(jv_string(want[i]), jv_copy(full)))
			sel = found[i] = 1;
	jv_free(bname);
	jv_free(full);
	return sel;
}

/*
 * Borrows b and calls f for each comma-separated REGION:AMI pair of its artifact_id, with the
 * pair's bytes; returns early with f's nonzero return.
 */
static int
each_pair(jv b, int (*f)(const char *pair, size_t len, const char *colon, void *), void *arg)
{
	const char *p, *end, *last, *colon;
	jv id;
	int r = 0;

	id = get(b, "artifact_id");
	p = jv_string_value(id);
	last = p + jv_string_length_bytes(jv_copy(id));
	for (;; p = end + 1) {
		if ((end = memchr(p, ',', last - p)) == NULL)
			end = last;
		colon = memchr(p, ':', end - p);
		if ((r = f(p, end - p, colon, arg)) != 0 || end == last)
			break;
	}
	jv_free(id);
	return r;
}

static int
pair_bad(const char *p, size_t len, const char *colon, void *arg)
{
	const char *path = arg;
	char where[PATH_SIZE];

	if (colon != NULL && region_ok(p, colon - p) && ami_ok(colon + 1, p + len - colon - 1))
		return 0;
	snprintf(where, sizeof(where), "%s.artifact_id", path);
	bad_string(where, "bad region:ami-id pair", jv_string_sized(p, len));
}

/*
 * Borrows builds and run. Dies unless build i has every field Packer writes, of the right kind,
 * and, when it is selected and names AMIs, a well-formed artifact_id.
 */
static void
check_build(jv builds, int i, jv run)
{
	char path[BUILD_SIZE], where[PATH_SIZE];
	jv b, v;
	double sec;

	snprintf(path, sizeof(path), ".builds[%d]", i);
	b = jv_array_get(jv_copy(builds), i);
	if (jv_get_kind(b) != JV_KIND_OBJECT)
		bad(path, "not an object (a JSON %s)", jv_kind_name(jv_get_kind(b)));
	jv_free(field(b, "name", path, JV_KIND_STRING));
	jv_free(field(b, "builder_type", path, JV_KIND_STRING));
	jv_free(field(b, "artifact_id", path, JV_KIND_STRING));
	jv_free(field(b, "packer_run_uuid", path, JV_KIND_STRING));
	/* build_time is absent under strip_time. */
	if (jv_object_has(jv_copy(b), jv_string("build_time"))) {
		v = field(b, "build_time", path, JV_KIND_NUMBER);
		sec = jv_number_value(v);
		jv_free(v);
		snprintf(where, sizeof(where), "%s.build_time", path);
		if (sec != floor(sec) || sec < 0 || sec > BUILD_TIME_MAX)
			bad(where, "not Unix seconds (%.17g)", sec);
	}
	/* custom_data is null when the template sets none. */
	v = get(b, "custom_data");
	if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL && jv_get_kind(v) != JV_KIND_OBJECT) {
		snprintf(where, sizeof(where), "%s.custom_data", path);
		bad(where, "not a JSON object or null (a JSON %s)", jv_kind_name(jv_get_kind(v)));
	}
	jv_free(v);
	if (selected(b, run) && names_amis(b))
		each_pair(b, pair_bad, path);
	jv_free(b);
}

/* Borrows b. Returns the record's "Packer" member. */
static jv
packer_info(jv b)
{
	char when[RFC3339_SIZE];
	jv info, t, cd;

	info = jv_object();
	info = jv_object_set(info, jv_string("BuildName"), get(b, "name"));
	info = jv_object_set(info, jv_string("BuilderType"), get(b, "builder_type"));
	t = get(b, "build_time");
	if (jv_is_valid(t)) {
		rfc3339_format((int64_t)jv_number_value(t), when);
		info = jv_object_set(info, jv_string("BuildTime"), jv_string(when));
	} else
		info = jv_object_set(info, jv_string("BuildTime"), jv_null());
	jv_free(t);
	info = jv_object_set(info, jv_string("RunUuid"), get(b, "packer_run_uuid"));
	cd = get(b, "custom_data");
	info = jv_object_set(info, jv_string("CustomData"), jv_is_valid(cd) ? cd : jv_null());
	return info;
}

/* What pair_add() appends to, and the "Packer" member every record of a build shares. */
struct images {
	jv	recs;
	jv	info;
};

static int
pair_add(const char *p, size_t len, const char *colon, void *arg)
{
	struct images *im = arg;
	jv rec;

	rec = jv_object();
	rec = jv_object_set(rec, jv_string("ImageId"),
	    jv_string_sized(colon + 1, p + len - colon - 1));
	rec = jv_object_set(rec, jv_string("Region"), jv_string_sized(p, colon - p));
	rec = jv_object_set(rec, jv_string("Packer"), jv_copy(im->info));
	im->recs = jv_array_append(im->recs, rec);
	return 0;
}

/* Borrows b. Says which build is skipped, and why. */
static void
skip(jv b, const char *path)
{
	char *qname, *qtype, *qid;
	jv v;

	qname = quote(v = get(b, "name"));
	jv_free(v);
	qtype = quote(v = get(b, "builder_type"));
	jv_free(v);
	qid = quote(v = get(b, "artifact_id"));
	jv_free(v);
	warnx("%s: %s: skipping build %s of type %s: artifact_id %s names no AMI", name, path,
	    qname, qtype, qid);
	free(qname);
	free(qtype);
	free(qid);
}

/*
 * Borrows builds and run; consumes recs. Appends a record per REGION:AMI pair of build i, if it is
 * selected (check_build() has seen it), and returns recs; a build that names no AMI is skipped
 * with a warning.
 */
static jv
add_images(jv recs, jv builds, int i, jv run)
{
	char path[BUILD_SIZE];
	struct images im;
	jv b;

	snprintf(path, sizeof(path), ".builds[%d]", i);
	b = jv_array_get(jv_copy(builds), i);
	if (selected(b, run)) {
		if (names_amis(b)) {
			im.recs = recs;
			im.info = packer_info(b);
			each_pair(b, pair_add, &im);
			recs = im.recs;
			jv_free(im.info);
		} else
			skip(b, path);
	}
	jv_free(b);
	return recs;
}

/* Borrows m. Returns its builds after checking the manifest's shape; sets *run to last_run_uuid. */
static jv
builds_of(jv m, jv *run)
{
	jv builds, b;
	int i, n, match = 0;

	builds = field(m, "builds", "", JV_KIND_ARRAY);
	*run = field(m, "last_run_uuid", "", JV_KIND_STRING);
	if ((n = jv_array_length(jv_copy(builds))) == 0)
		bad(".builds", "no builds");
	for (i = 0; i < n && !match; i++) {
		b = jv_array_get(jv_copy(builds), i);
		if (jv_get_kind(b) == JV_KIND_OBJECT)
			match = jv_equal(get(b, "packer_run_uuid"), jv_copy(*run));
		jv_free(b);
	}
	if (!match)
		bad_string(".last_run_uuid", "no build has packer_run_uuid", jv_copy(*run));
	return builds;
}

/* Borrows recs and run. Returns EXIT_FAIL, having said why, when nothing is to be printed. */
static int
check_found(jv recs, jv run)
{
	const char *in = allruns ? "any run" : "run ";
	char *q;
	size_t i;
	int status = EXIT_OK;

	q = allruns ? xstrdup("") : quote(run);
	for (i = 0; i < nwant; i++)
		if (!found[i]) {
			warnx("%s: no build named \"%s\" in %s%s", name, want[i], in, q);
			status = EXIT_FAIL;
		}
	if (status == EXIT_OK && jv_array_length(jv_copy(recs)) == 0) {
		warnx("%s: no AMI in %s%s%s", name, nwant > 0 ? "the builds --build selects in " : "",
		    in, q);
		status = EXIT_FAIL;
	}
	free(q);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "all-runs",	no_argument,		NULL,	OPT_ALL_RUNS },
		{ "build",	required_argument,	NULL,	OPT_BUILD },
		{ "help",	no_argument,		NULL,	'h' },
		{ "version",	no_argument,		NULL,	OPT_VERSION },
		{ NULL,		0,			NULL,	0 }
	};
	const char *path;
	jv manifest, builds, run, recs;
	int ch, i, n, status;

	out_init();
	want = xcalloc(argc, sizeof(*want));
	while ((ch = getopt_cli(argc, argv, "h", longopts)) != -1) {
		switch (ch) {
		case OPT_ALL_RUNS:
			allruns = 1;
			break;
		case OPT_BUILD:
			want[nwant++] = optarg;
			break;
		case 'h':
			usage();
		case OPT_VERSION:
			print_version();
		default:
			usage_error(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage_error("one manifest at most (%d files given)", argc);
	found = xcalloc(nwant, sizeof(*found));
	path = argc == 1 ? argv[0] : "-";
	name = jsondoc_name(path);

	manifest = jsondoc_read(path);
	builds = builds_of(manifest, &run);
	n = jv_array_length(jv_copy(builds));
	/* All or nothing: the whole manifest is checked before any record is made. */
	for (i = 0; i < n; i++)
		check_build(builds, i, run);
	recs = jv_array();
	for (i = 0; i < n; i++)
		recs = add_images(recs, builds, i, run);
	if ((status = check_found(recs, run)) == EXIT_OK) {
		n = jv_array_length(jv_copy(recs));
		for (i = 0; i < n; i++)
			out_record(jv_array_get(jv_copy(recs), i));
	}
	jv_free(recs);
	jv_free(run);
	jv_free(builds);
	jv_free(manifest);
	free(found);
	free(want);
	ch = out_close();
	return status > ch ? status : ch;
}
