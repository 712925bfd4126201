/*
 * image-lineage finds the family of each image it reads, and deletes nothing: every image that
 * descends from it, in this account and, with --accounts, in others. A child is an image whose
 * SourceImageId and SourceImageRegion (as EC2 describes a copy) name its parent; or whose lineage
 * tags (SourceImageId, SourceRegion, SourceAccount, as copy-image writes them) do; or, in the
 * parent's region, whose --built-from-tag (SourceAMI: a Packer build's source_ami) holds the
 * parent's id. It lists the images of each account in each region searched once (DescribeImages,
 * Owners self, disabled and deprecated included; the regions of an account at once, the accounts
 * one after the other) and computes the families in memory. It prints every image of the
 * families once, roots first and then breadth first, as EC2 describes it, with Region,
 * "Lineage": {"Root", "Parent", "Depth"}, and "Account" when an account of --accounts holds it.
 * A listing is all or nothing: if one fails, a family could be missing images, so nothing is
 * printed and the exit status is 1.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "awsopt.h"
#include "creds.h"
#include "ec2.h"
#include "ec2res.h"
#include "jsonl.h"
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "strmap.h"
#include "util.h"

#define BUILT_FROM_DEFAULT	"SourceAMI"

enum {
	OPT_ACCOUNTS = OPT_FIRST,
	OPT_BUILT_FROM,
	OPT_VERSION
};

/* One listing: the images an account owns in a region. */
struct listing {
	const char	*region;
	const char	*account;	/* an account of --accounts; NULL: the caller's own */
	jv		 images;	/* as DescribeImages gave them, each with Region */
	char		*diag;		/* why it failed; NULL if it did not */
};

/* An image found, and its place in a family. */
struct image {
	jv		 rec;		/* as DescribeImages gave it, with Region */
	const char	*account;	/* an account of --accounts that holds it, or NULL */
	long		 parent;	/* the image it comes from (an index), or -1 */
	long		 root;		/* its family's root, or -1 while it is in none */
	int		 depth;
};

/* Every image found, and where each id is. */
struct pool {
	struct image	*v;
	size_t		 n;
	jv		 index;		/* ImageId -> index in v */
	const char	*built_from;	/* --built-from-tag */
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: image-lineage [--region REGION]... [--accounts FILE]\n"
	    "           [--built-from-tag KEY] [--endpoint-url URL] [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Find every image that descends from each image read: copies and builds.\n"
	    "\n"
	    "      --region REGION      search this region too (repeatable; default: the\n"
	    "                           regions of the records)\n"
	    "      --accounts FILE      search each account of FILE too, in its Regions,\n"
	    "                           as its Role\n"
	    "      --built-from-tag KEY the tag that names the image a build came from\n"
	    "                           (default " BUILT_FROM_DEFAULT ")\n"
	    "      --endpoint-url URL   send EC2 requests to URL, not the region's endpoint\n"
	    "  -P N                     at most N calls in flight at once (1..64, default 32)\n"
	    "      --debug              a line on stderr per HTTP request (AMICYCLE_DEBUG=1)\n"
	    AWSOPT_HELP_CREDS);
}

/* Consumes rec, a root read and checked (ImageId, Region): appended to the array arg. */
static void
take_root(struct jsonl *in, jv rec, const char *idfield, void *arg)
{
	jv *roots = arg;

	(void)idfield;
	rec_require_image(in, rec);
	*roots = jv_array_append(*roots, rec);
}

static void
listing_done(const struct ec2_result *res, void *arg)
{
	struct listing *l = arg;

	if (res->code != NULL)
		l->diag = xstrdup(res->diag);
	else {
		jv_free(l->images);
		l->images = ec2res_list(&ec2res_images, l->region, jv_copy(res->out));
	}
}

/* Lists the images of the account the credentials act in, in each of ls's n regions at once. */
static void
list_account(struct ec2 *ec2, struct listing *ls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ls[i].images = jv_array();
		ec2_submit_all(ec2, ls[i].region, "DescribeImages", ec2res_params(&ec2res_images,
		    JV_OBJECT(jv_string("Owners"), JV_ARRAY(jv_string("self")),
		    jv_string("MaxResults"), jv_number(1000))), listing_done, &ls[i]);
	}
	ec2_run(ec2);
}

/* Consumes rec, found in account (NULL: the caller's own). Adds it to p, once per image. */
static void
pool_add(struct pool *p, jv rec, const char *account)
{
	struct image *img;
	jv at;

	if (rec_str(rec, "ImageId") == NULL) {
		jv_free(rec);
		return;
	}
	at = jv_object_get(jv_copy(p->index), jv_string(rec_str(rec, "ImageId")));
	if (jv_get_kind(at) == JV_KIND_NUMBER) {
		/* Seen in the caller's own account and again through --accounts: that role acts on it. */
		img = &p->v[(size_t)jv_number_value(at)];
		if (img->account == NULL)
			img->account = account;
		jv_free(at);
		jv_free(rec);
		return;
	}
	jv_free(at);
	p->index = jv_object_set(p->index, jv_string(rec_str(rec, "ImageId")),
	    jv_number((double)p->n));
	p->v = xreallocarray(p->v, p->n + 1, sizeof(*p->v));
	img = &p->v[p->n++];
	img->rec = rec;
	img->account = account;
	img->parent = img->root = -1;
	img->depth = 0;
}

/*
 * The image id names in p, if it is in region (unless NULL) and owned by owner (unless NULL);
 * -1 if there is none.
 */
static long
pool_find(const struct pool *p, const char *id, const char *region, const char *owner)
{
	jv at;
	long i;

	if (id == NULL)
		return -1;
	at = jv_object_get(jv_copy(p->index), jv_string(id));
	i = jv_get_kind(at) == JV_KIND_NUMBER ? (long)jv_number_value(at) : -1;
	jv_free(at);
	if (i == -1 || (region != NULL && strcmp(rec_str(p->v[i].rec, "Region"), region) != 0) ||
	    (owner != NULL && rec_str(p->v[i].rec, "OwnerId") != NULL &&
	    strcmp(rec_str(p->v[i].rec, "OwnerId"), owner) != 0))
		return -1;
	return i;
}

/*
 * The image that image i comes from, by the first of these that names an image found: EC2's
 * SourceImageId and SourceImageRegion; copy-image's lineage tags; the --built-from-tag, in its
 * own region. -1 if none does.
 */
static long
parent_of(const struct pool *p, size_t i)
{
	jv rec = p->v[i].rec;
	long at;

	if ((at = pool_find(p, rec_str(rec, "SourceImageId"), rec_str(rec, "SourceImageRegion"),
	    NULL)) == -1 && (at = pool_find(p, rec_tag(rec, "SourceImageId"),
	    rec_tag(rec, "SourceRegion"), rec_tag(rec, "SourceAccount"))) == -1)
		at = pool_find(p, rec_tag(rec, p->built_from), rec_str(rec, "Region"), NULL);
	return at == (long)i ? -1 : at;
}

/* The Lineage of img, placed in a family: its root, its parent (null for a root), its depth. */
static jv
lineage(const struct pool *p, const struct image *img)
{
	return JV_OBJECT(jv_string("Root"), jv_string(rec_str(p->v[img->root].rec, "ImageId")),
	    jv_string("Parent"), img->parent == -1 || img->depth == 0 ? jv_null() :
	    jv_string(rec_str(p->v[img->parent].rec, "ImageId")),
	    jv_string("Depth"), jv_number(img->depth));
}

/*
 * Borrows roots. The families of the roots, in the order they are printed: the roots (each once,
 * in input order), then breadth first, each image's children in the order they were listed.
 * Returns the number of images in *np; a root not found is reported and sets *status.
 */
static size_t *
families(struct pool *p, jv roots, size_t *np, int *status)
{
	size_t *order = xcalloc(p->n + 1, sizeof(*order)), n = 0, head, i;
	long at;

	for (i = 0; i < p->n; i++)
		p->v[i].parent = parent_of(p, i);
	jv_array_foreach(roots, k, r) {
		if ((at = pool_find(p, rec_str(r, "ImageId"), rec_str(r, "Region"), NULL)) == -1) {
			warnx("%s %s: no such image in the accounts and regions searched",
			    rec_str(r, "Region"), rec_str(r, "ImageId"));
			*status = EXIT_FAIL;
		} else if (p->v[at].root == -1) {
			p->v[at].root = at;
			order[n++] = (size_t)at;
		}
		jv_free(r);
	}
	for (head = 0; head < n; head++)
		for (i = 0; i < p->n; i++)
			if (p->v[i].root == -1 && p->v[i].parent == (long)order[head]) {
				p->v[i].root = p->v[order[head]].root;
				p->v[i].depth = p->v[order[head]].depth + 1;
				order[n++] = i;
			}
	*np = n;
	return order;
}

/* Prints the images of order, n of them, each with its Lineage (and Account). */
static void
print_families(const struct pool *p, const size_t *order, size_t n)
{
	const struct image *img;
	jv rec;
	size_t i;

	for (i = 0; i < n; i++) {
		img = &p->v[order[i]];
		rec = jv_object_set(jv_copy(img->rec), jv_string("Lineage"), lineage(p, img));
		if (img->account != NULL)
			rec = jv_object_set(rec, jv_string("Account"), jv_string(img->account));
		out_record(rec);
	}
}

/* The listings: the caller's account in rs, then each account of a in its Regions. */
static struct listing *
plan_listings(const struct strlist *rs, const struct accounts *a, size_t *np)
{
	struct listing *ls = xcalloc(rs->n + a->pairs + 1, sizeof(*ls));
	size_t n = 0, i, j;

	for (i = 0; i < rs->n; i++)
		ls[n++].region = rs->v[i];
	for (i = 0; i < a->n; i++)
		for (j = 0; j < a->v[i].nregions; j++) {
			ls[n].account = a->v[i].id;
			ls[n++].region = a->v[i].regions[j];
		}
	*np = n;
	return ls;
}

/* Borrows roots. The regions this account is searched in: the roots', then --region's. */
static void
search_regions(jv roots, const struct strlist *given, struct strlist *regions)
{
	size_t i;

	/* roots holds each Region string as long as regions points at it. */
	for (i = 0; i < (size_t)jv_array_length(jv_copy(roots)); i++) {
		jv r = jv_array_get(jv_copy(roots), (int)i);

		strlist_index(regions, rec_str(r, "Region"));
		jv_free(r);
	}
	for (i = 0; i < given->n; i++)
		strlist_index(regions, given->v[i]);
}

/*
 * Runs the listings ls: the first own of this account with ec2, at once; then those of each
 * account of a, as its role (assumed with the credentials found otherwise), with a client of its
 * own, one account after the other: the credentials are the process's. Returns the client last
 * made, which the caller frees.
 */
static struct ec2 *
list_all(struct ec2 *ec2, const struct awsopt *o, struct listing *ls, size_t own,
    const struct accounts *a)
{
	size_t i;

	list_account(ec2, ls, own);
	ls += own;
	for (i = 0; i < a->n; ls += a->v[i++].nregions) {
		creds_set_role(a->v[i].role, NULL, NULL);
		ec2_free(ec2);
		ec2 = ec2_new(NULL, o->endpoint, o->max);
		list_account(ec2, ls, a->v[i].nregions);
	}
	return ec2;
}

/*
 * 1 if a listing failed, each said on stderr, and that nothing is printed: a family without a
 * listing's images would pass for whole.
 */
static int
listings_failed(const struct listing *ls, size_t n)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < n; i++)
		if (ls[i].diag != NULL) {
			warnx("%s", ls[i].diag);
			failed = 1;
		}
	if (failed)
		warnx("a listing failed: the families would be incomplete, none printed");
	return failed;
}

/* Adds the images of the listings ls, n of them, to p, in the order they were listed. */
static void
pool_fill(struct pool *p, const struct listing *ls, size_t n)
{
	size_t i;
	int j;

	for (i = 0; i < n; i++)
		for (j = 0; j < jv_array_length(jv_copy(ls[i].images)); j++)
			pool_add(p, jv_array_get(jv_copy(ls[i].images), j), ls[i].account);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "accounts",		required_argument,	NULL,	OPT_ACCOUNTS },
		{ "built-from-tag",	required_argument,	NULL,	OPT_BUILT_FROM },
		{ "debug",		no_argument,		NULL,	AWSOPT_DEBUG },
		{ "endpoint-url",	required_argument,	NULL,	AWSOPT_ENDPOINT },
		{ "help",		no_argument,		NULL,	'h' },
		{ "region",		required_argument,	NULL,	AWSOPT_REGION },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		AWSOPT_CREDS_LONGOPTS,
		{ NULL,			0,			NULL,	0 }
	};
	static const char *const idfields[] = { "ImageId", NULL };
	struct pool pool = { NULL, 0, jv_object(), BUILT_FROM_DEFAULT };
	struct accounts accts = { 0 };
	struct listing *ls = NULL;
	struct awsopt o;
	struct ec2 *ec2;
	const char *accounts = NULL;
	struct strlist given = { NULL, 0 }, regions = { NULL, 0 };
	jv roots = jv_array();
	size_t nls = 0, i, n, *order;
	int ch, status = EXIT_OK;

	out_init();
	awsopt_init(&o);
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case OPT_ACCOUNTS:
			accounts = optarg;
			break;
		case OPT_BUILT_FROM:
			if (*optarg == '\0' || strlen(optarg) > 128)
				usage_error("--built-from-tag '%s': a tag key is 1 to 128 characters",
				    optarg);
			pool.built_from = optarg;
			break;
		case 'h':
			usage();
		case AWSOPT_REGION:
			strlist_index(&given, optarg);
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&o, ch, optarg))
				usage_error(NULL);
		}
	}
	argv += optind;

	awsopt_creds(&o);
	ec2 = ec2_new(given.n > 0 ? given.v[0] : NULL, o.endpoint, o.max);
	if (accounts != NULL)
		accounts_read(&accts, (char *[]){ (char *)accounts, NULL });
	mutate_read_each(argv, ec2_region(ec2), idfields, take_root, &roots);

	if (jv_array_length(jv_copy(roots)) > 0) {
		search_regions(roots, &given, &regions);
		ls = plan_listings(&regions, &accts, &nls);
		ec2 = list_all(ec2, &o, ls, regions.n, &accts);
	}

	if (listings_failed(ls, nls))
		status = EXIT_FAIL;
	else {
		pool_fill(&pool, ls, nls);
		order = families(&pool, roots, &n, &status);
		print_families(&pool, order, n);
		free(order);
	}

	for (i = 0; i < nls; i++) {
		jv_free(ls[i].images);
		free(ls[i].diag);
	}
	free(ls);
	for (i = 0; i < pool.n; i++)
		jv_free(pool.v[i].rec);
	free(pool.v);
	jv_free(pool.index);
	accounts_free(&accts);
	jv_free(roots);
	free(regions.v);
	free(given.v);
	ec2_free(ec2);
	ch = out_close();
	return status != EXIT_OK ? status : ch;
}
