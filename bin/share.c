/*
 * share gives other accounts, organizations and organizational units launch permissions on the
 * images named by the records it reads (ModifyImageAttribute), or takes them away (--remove); with
 * --snapshots it also gives the accounts createVolumePermission on the images' snapshots
 * (ModifySnapshotAttribute), which an account needs to copy an image. It reads and checks all of
 * its input, then describes the images, their snapshots and their permissions as they are, and
 * calls only for what is missing (or, removing, present): sharing twice changes nothing. With
 * --remove --all it takes away every permission the image (and with --snapshots its snapshots)
 * has, whoever holds it, as a revocation wants. An image with a snapshot encrypted with the
 * AWS-managed key aws/ebs is refused: EC2 does not let another account use that key. Every record
 * is written back in input order with its LaunchPermissions as they now are (or would be, under
 * --dry-run) and a Result.
 */
#include <err.h>
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsopt.h"
#include "ec2.h"
#include "ec2res.h"
#include "interrupt.h"
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "util.h"

#define ACTION		"share"

enum {
	OPT_ACCOUNT = OPT_FIRST,
	OPT_ALL,
	OPT_ALLOW_PUBLIC,
	OPT_MANAGED_KEY,
	OPT_ORGANIZATION,
	OPT_OU,
	OPT_PUBLIC,
	OPT_REMOVE,
	OPT_SNAPSHOTS,
	OPT_VERSION
};

#define ACCOUNT_RE	"^[0-9]{12}$"
#define ORG_RE		"^arn:aws[a-z-]*:organizations::[0-9]{12}:organization/o-[a-z0-9]{10,32}$"
#define OU_RE		"^arn:aws[a-z-]*:organizations::[0-9]{12}:ou/o-[a-z0-9]{10,32}/" \
			"ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$"
#define KEY_RE		"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$"
/* A KMS key ARN that names the AWS-managed EBS key by its alias. */
#define MANAGED_ALIAS	":alias/aws/ebs"

/* What the options ask. */
struct want {
	jv		 perms;		/* launch permissions: [{UserId} | {OrganizationArn} | ...] */
	jv		 vperms;	/* createVolumePermission entries: [{UserId} | {Group: all}] */
	jv		 managed;	/* --aws-managed-key ARNs */
	int		 remove, all, snapshots, dryrun;
};

struct image;

/* A snapshot of an image. */
struct snap {
	const char	*id;		/* lives as long as the image's record */
	jv		 rec;		/* as DescribeSnapshots answered; null if not found */
	jv		 now;		/* its createVolumePermission now, or null */
	jv		 change;	/* the entries to add or remove */
	struct image	*img;
};

/* An image and everything its sharing needs. */
struct image {
	struct mrec	*m;
	int		 found;
	jv		 now;		/* its launch permissions now, or null */
	jv		 change;	/* the permissions to add or remove */
	struct snap	*snaps;
	size_t		 nsnaps, pending;
	char		*note;		/* the reminder about customer-managed keys */
	const struct want *wt;
	struct ec2	*ec2;
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: share [--account ID]... [--organization ARN]... [--ou ARN]...\n"
	    "           [--public --allow-public] [--remove [--all]] [--snapshots]\n"
	    "           [--aws-managed-key ARN]...\n"
	    "           [--dry-run] [--audit FILE] [--region REGION] [--endpoint-url URL]\n"
	    "           [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Share images with other accounts, or stop sharing them.\n"
	    "\n"
	    "      --account ID         give account ID launch permission (repeatable)\n"
	    "      --organization ARN   give an organization's accounts launch permission\n"
	    "      --ou ARN             give an OU's accounts launch permission\n"
	    "      --public             make the images public (only with --allow-public)\n"
	    "      --allow-public       allow --public\n"
	    "      --remove             take the permissions away instead\n"
	    "      --all                with --remove: every permission, whoever holds it\n"
	    "      --snapshots          also give the accounts createVolumePermission on the\n"
	    "                           images' snapshots, which copying an image needs\n"
	    "      --aws-managed-key ARN  the ARN of an aws/ebs key, known to be AWS-managed\n"
	    AWSOPT_HELP);
}

/* 1 if s matches the extended regular expression pattern. */
static int
matches(const char *pattern, const char *s)
{
	regex_t re;
	int rc;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		errx(EXIT_FAIL, "regcomp");
	rc = regexec(&re, s, 0, NULL, 0);
	regfree(&re);
	return rc == 0;
}

/* Consumes list. list with {key: value} appended, once; value must match pattern. */
static jv
add_perm(jv list, const char *opt, const char *pattern, const char *key, const char *value)
{
	jv p;

	if (!matches(pattern, value))
		usage_error("--%s '%s': not %s", opt, value, strcmp(opt, "account") == 0 ?
		    "a 12-digit account id" : strcmp(opt, "aws-managed-key") == 0 ?
		    "a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)" : "an ARN of that kind");
	p = key != NULL ? JV_OBJECT(jv_string(key), jv_string(value)) : jv_string(value);
	jv_array_foreach(list, i, q) {
		if (jv_equal(q, jv_copy(p))) {
			jv_free(p);
			return list;
		}
	}
	return jv_array_append(list, p);
}

/* Borrows list and x. 1 if list has x. */
static int
has(jv list, jv x)
{
	int found = 0;

	if (jv_get_kind(list) != JV_KIND_ARRAY)
		return 0;
	jv_array_foreach(list, i, q)
		found |= jv_equal(q, jv_copy(x));
	return found;
}

/* Borrows want and now. What to add (those of want now lacks) or remove (those it has). */
static jv
changes(jv want, jv now, int remove)
{
	jv out = jv_array();

	jv_array_foreach(want, i, p) {
		if (has(now, p) == remove)
			out = jv_array_append(out, p);
		else
			jv_free(p);
	}
	return out;
}

/*
 * Borrows wt's lists and now (what is shared now, or null). The entries to call for: under --all
 * every one now has, else changes() of the options' (vol: the createVolumePermission ones).
 */
static jv
wanted(const struct want *wt, jv now, int vol)
{
	if (wt->all)
		return jv_get_kind(now) == JV_KIND_ARRAY ? jv_copy(now) : jv_array();
	return changes(vol ? wt->vperms : wt->perms, now, wt->remove);
}

/* Borrows list. The list with change added to or removed from it. */
static jv
applied(jv list, jv change, int remove)
{
	jv out = jv_array();

	if (jv_get_kind(list) == JV_KIND_ARRAY)
		jv_array_foreach(list, i, p) {
			if (remove && has(change, p))
				jv_free(p);
			else
				out = jv_array_append(out, p);
		}
	if (!remove)
		jv_array_foreach(change, i, p) {
			if (has(out, p))
				jv_free(p);
			else
				out = jv_array_append(out, p);
		}
	return out;
}

/* A one-line description of the permissions of list, for Reasons: "account 1234..., all". */
static char *
describe_perms(jv list)
{
	char *s = xstrdup(""), *t;

	jv_array_foreach(list, i, p) {
		jv_object_foreach(p, k, v) {
			xasprintf(&t, "%s%s%s %s", s, *s != '\0' ? ", " : "",
			    strcmp(jv_string_value(k), "UserId") == 0 ? "account" :
			    strcmp(jv_string_value(k), "Group") == 0 ? "group" :
			    strcmp(jv_string_value(k), "OrganizationArn") == 0 ? "organization" : "OU",
			    jv_string_value(v));
			free(s);
			s = t;
			jv_free(k);
			jv_free(v);
		}
		jv_free(p);
	}
	return s;
}

/*
 * The refusal of an image whose snapshot sid is encrypted with the AWS-managed key: key, known
 * before any call, or EC2's own refusal (res).
 */
static char *
managed_reason(const char *sid, const char *key, const struct ec2_result *res, const char *region)
{
	char *s, *why;

	if (key != NULL)
		why = xstrdup(key);
	else
		xasprintf(&why, "EC2 says %s: %s", res->code, res->message);
	xasprintf(&s, "%s is encrypted with the AWS-managed key aws/ebs (%s), which EC2 lets no "
	    "other account use: copy the image to a customer-managed key first (copy-image "
	    "--encrypted --kms-key %s=KEY), let the accounts use that key in its key policy, and "
	    "share the copy", sid, why, region);
	free(why);
	return s;
}

/* Borrows the snapshot's record. Its KmsKeyId when it is encrypted with it; else NULL. */
static const char *
snap_key(const struct snap *s)
{
	jv enc;
	int on;

	if (jv_get_kind(s->rec) != JV_KIND_OBJECT)
		return NULL;
	enc = jv_object_get(jv_copy(s->rec), jv_string("Encrypted"));
	on = jv_get_kind(enc) == JV_KIND_TRUE;
	jv_free(enc);
	return on ? rec_str(s->rec, "KmsKeyId") : NULL;
}

/* 1 if key is the AWS-managed EBS key: by its alias, or named by --aws-managed-key. */
static int
aws_managed(const struct want *wt, const char *key)
{
	size_t n = strlen(key), a = strlen(MANAGED_ALIAS);
	jv k = jv_string(key);
	int yes = (n > a && strcmp(key + n - a, MANAGED_ALIAS) == 0) || has(wt->managed, k) ||
	    strcmp(key, "alias/aws/ebs") == 0;

	jv_free(k);
	return yes;
}

/* 1 if EC2's error is its refusal to share what the AWS-managed key encrypts. */
static int
managed_refusal(const struct ec2_result *res)
{
	return res->message != NULL && ((strcmp(res->code, "InvalidParameter") == 0 &&
	    strstr(res->message, "AWS Managed") != NULL) ||
	    (strcmp(res->code, "OperationNotPermitted") == 0 &&
	    strstr(res->message, "default key") != NULL));
}

/* Judges a call of img's (sid: the snapshot's, or NULL); 0 if its step went through. */
static int
judge(struct image *img, const struct ec2_result *res, const char *sid)
{
	char *why;

	outcome_set(&img->m->o, res, img->wt->dryrun);
	if (res->code != NULL && managed_refusal(res)) {
		why = managed_reason(sid != NULL ? sid : "a snapshot of the image", NULL, res,
		    mrec_region(img->m));
		outcome_set_reason(&img->m->o, RESULT_FAILED, why);
		free(why);
	} else if (res->code != NULL && ec2_gone(res->code))
		/* Nothing to share: a failure, not the skip it is for a deletion. */
		outcome_set_reason(&img->m->o, RESULT_FAILED, res->diag);
	if (img->m->o.status == RESULT_FAILED)
		warnx("%s", img->m->o.reason);
	return img->m->o.status == RESULT_DONE || img->m->o.status == RESULT_DRYRUN ? 0 : -1;
}

/* Consumes params: the call's, with DryRun under --dry-run. */
static void
submit(struct image *img, const char *action, jv params,
    void (*done)(const struct ec2_result *, void *), void *arg)
{
	if (img->wt->dryrun)
		params = jv_object_set(params, jv_string("DryRun"), jv_true());
	ec2_submit(img->ec2, mrec_region(img->m), action, params, done, arg);
}

static void submit_snapshots(struct image *);

static void
image_done(const struct ec2_result *res, void *arg)
{
	struct image *img = arg;

	/* Removing, the snapshots follow the image. */
	if (judge(img, res, NULL) == 0 && img->wt->remove)
		submit_snapshots(img);
}

static void
submit_image(struct image *img)
{
	submit(img, "ModifyImageAttribute", JV_OBJECT(jv_string("ImageId"),
	    jv_string(mrec_id(img->m)), jv_string("LaunchPermission"),
	    JV_OBJECT(jv_string(img->wt->remove ? "Remove" : "Add"), jv_copy(img->change))),
	    image_done, img);
}

static void
snap_done(const struct ec2_result *res, void *arg)
{
	struct snap *s = arg;
	struct image *img = s->img;
	int failed = img->m->o.status == RESULT_FAILED || img->m->o.status == RESULT_INTERRUPTED;

	img->pending--;
	/* A snapshot that failed before is the image's outcome. */
	if (failed || judge(img, res, s->id) == -1)
		return;
	/* Adding, the image is shared once each of its snapshots is. */
	if (img->pending == 0 && !img->wt->remove && jv_array_length(jv_copy(img->change)) > 0)
		submit_image(img);
}

static void
submit_snapshots(struct image *img)
{
	struct snap *s;
	size_t i;

	for (i = 0; i < img->nsnaps; i++)
		if (jv_array_length(jv_copy(img->snaps[i].change)) > 0)
			img->pending++;
	for (i = 0; i < img->nsnaps; i++) {
		s = &img->snaps[i];
		if (jv_array_length(jv_copy(s->change)) == 0)
			continue;
		submit(img, "ModifySnapshotAttribute", JV_OBJECT(jv_string("SnapshotId"),
		    jv_string(s->id), jv_string("Attribute"), jv_string("createVolumePermission"),
		    jv_string("CreateVolumePermission"),
		    JV_OBJECT(jv_string(img->wt->remove ? "Remove" : "Add"), jv_copy(s->change))),
		    snap_done, s);
	}
}

/* Starts img's calls: adding, the snapshots and then the image; removing, the other way. */
static void
start(struct image *img)
{
	if (img->m->o.status != RESULT_NONE)
		return;
	if (img->wt->remove ? jv_array_length(jv_copy(img->change)) > 0 : 0) {
		submit_image(img);
		return;
	}
	submit_snapshots(img);
	if (img->pending == 0 && jv_array_length(jv_copy(img->change)) > 0)
		submit_image(img);
}

/* --- reading what is shared now --- */

/*
 * A Describe*Attribute call's list (key) into *dest; a failed call fails img (once) instead: its
 * sharing cannot be planned.
 */
static void
take_list(const struct ec2_result *res, const char *key, jv *dest, struct image *img)
{
	if (res->code != NULL) {
		if (img->m->o.status != RESULT_FAILED) {
			outcome_set_reason(&img->m->o, RESULT_FAILED, res->diag);
			warnx("%s", res->diag);
		}
		return;
	}
	jv_free(*dest);
	*dest = jv_object_get(jv_copy(res->out), jv_string(key));
	if (jv_get_kind(*dest) != JV_KIND_ARRAY) {
		jv_free(*dest);
		*dest = jv_array();
	}
}

static void
image_attr_done(const struct ec2_result *res, void *arg)
{
	struct image *img = arg;

	take_list(res, "LaunchPermissions", &img->now, img);
}

static void
snap_attr_done(const struct ec2_result *res, void *arg)
{
	struct snap *s = arg;

	take_list(res, "CreateVolumePermissions", &s->now, s->img);
}

/* The snapshots of img's image as EC2 describes it (its BlockDeviceMappings). */
static void
find_snapshots(struct image *img)
{
	jv bdms = jv_object_get(jv_copy(img->m->rec), jv_string("BlockDeviceMappings")), ebs, id;
	struct snap *s;

	if (jv_get_kind(bdms) != JV_KIND_ARRAY) {
		jv_free(bdms);
		return;
	}
	jv_array_foreach(bdms, i, b) {
		ebs = jv_get_kind(b) == JV_KIND_OBJECT ? jv_object_get(b, jv_string("Ebs")) :
		    (jv_free(b), jv_null());
		id = jv_get_kind(ebs) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(ebs), jv_string("SnapshotId")) : jv_null();
		if (jv_get_kind(id) == JV_KIND_STRING &&
		    rec_id_valid("SnapshotId", jv_string_value(id))) {
			img->snaps = xreallocarray(img->snaps, img->nsnaps + 1, sizeof(*s));
			s = &img->snaps[img->nsnaps++];
			memset(s, 0, sizeof(*s));
			/* Until DescribeSnapshots says more: what the image says of it. */
			s->rec = jv_object_set(ebs, jv_string("Region"),
			    jv_string(mrec_region(img->m)));
			s->id = NULL;
			s->now = jv_null();
			s->change = jv_array();
			s->img = img;
		} else
			jv_free(ebs);
		jv_free(id);
	}
	jv_free(bdms);
}

/*
 * Describes the images and their snapshots as they are, then what is shared: the images'
 * launch permissions, and with --snapshots the snapshots' createVolumePermission. A failed
 * describe ends the program: nothing has been changed.
 */
static void
read_state(struct image *imgs, size_t n, struct ec2 *ec2, const struct want *wt)
{
	jv batch = jv_array(), fresh, f;
	size_t i, j, k = 0;
	struct snap *s;

	for (i = 0; i < n; i++)
		batch = jv_array_append(batch, jv_copy(imgs[i].m->rec));
	fresh = ec2res_refresh_or_exit(ec2, &ec2res_images, batch);
	batch = jv_array();
	for (i = 0; i < n; i++) {
		f = jv_array_get(jv_copy(fresh), (int)i);
		if (!(imgs[i].found = jv_get_kind(f) == JV_KIND_OBJECT)) {
			jv_free(f);
			f = jv_string_fmt("%s: no image %s (or none shared with this account)",
			    mrec_region(imgs[i].m), mrec_id(imgs[i].m));
			outcome_set_reason(&imgs[i].m->o, RESULT_FAILED, jv_string_value(f));
			warnx("%s", jv_string_value(f));
			jv_free(f);
			continue;
		}
		jv_free(imgs[i].m->rec);
		imgs[i].m->rec = f;
		find_snapshots(&imgs[i]);
		for (j = 0; j < imgs[i].nsnaps; j++) {
			s = &imgs[i].snaps[j];
			s->id = rec_str(s->rec, "SnapshotId");
			batch = jv_array_append(batch, jv_copy(s->rec));
		}
	}
	jv_free(fresh);
	fresh = ec2res_refresh_or_exit(ec2, &ec2res_snapshots, batch);
	for (i = 0; i < n; i++)
		for (j = 0; j < imgs[i].nsnaps; j++) {
			f = jv_array_get(jv_copy(fresh), (int)k++);
			s = &imgs[i].snaps[j];
			if (jv_get_kind(f) == JV_KIND_OBJECT) {
				jv_free(s->rec);
				s->rec = f;
				s->id = rec_str(s->rec, "SnapshotId");
			} else
				jv_free(f);
		}
	jv_free(fresh);
	for (i = 0; i < n; i++) {
		if (!imgs[i].found)
			continue;
		ec2_submit(ec2, mrec_region(imgs[i].m), "DescribeImageAttribute",
		    JV_OBJECT(jv_string("ImageId"), jv_string(mrec_id(imgs[i].m)),
		    jv_string("Attribute"), jv_string("launchPermission")), image_attr_done, &imgs[i]);
		for (j = 0; wt->snapshots && j < imgs[i].nsnaps; j++)
			ec2_submit(ec2, mrec_region(imgs[i].m), "DescribeSnapshotAttribute",
			    JV_OBJECT(jv_string("SnapshotId"), jv_string(imgs[i].snaps[j].id),
			    jv_string("Attribute"), jv_string("createVolumePermission")),
			    snap_attr_done, &imgs[i].snaps[j]);
	}
	ec2_run(ec2);
}

/*
 * What img needs: the permissions missing (or, removing, present); nothing, and it is skipped.
 * Adding, a snapshot the AWS-managed key encrypts refuses the image; one a customer-managed key
 * encrypts gets the reminder that the key policy must let the accounts in.
 */
static void
plan(struct image *img)
{
	const struct want *wt = img->wt;
	const char *key;
	char *why, *who, *keys = NULL, *t;
	size_t i, total;

	if (img->m->o.status != RESULT_NONE)
		return;
	jv_free(img->change);
	img->change = wanted(wt, img->now, 0);
	total = (size_t)jv_array_length(jv_copy(img->change));
	for (i = 0; i < img->nsnaps; i++) {
		jv_free(img->snaps[i].change);
		img->snaps[i].change = wt->snapshots ? wanted(wt, img->snaps[i].now, 1) :
		    jv_array();
		total += (size_t)jv_array_length(jv_copy(img->snaps[i].change));
	}
	who = wt->all ? xstrdup("anyone") : describe_perms(wt->perms);
	if (total == 0) {
		xasprintf(&why, "%s with %s%s", wt->remove ? "not shared" : "already shared", who,
		    wt->snapshots ? ", snapshots included" : "");
		outcome_set_reason(&img->m->o, RESULT_SKIPPED, why);
		free(why);
		free(who);
		return;
	}
	free(who);
	if (wt->remove)
		return;
	for (i = 0; i < img->nsnaps; i++) {
		if ((key = snap_key(&img->snaps[i])) == NULL)
			continue;
		if (aws_managed(wt, key)) {
			why = managed_reason(img->snaps[i].id, key, NULL, mrec_region(img->m));
			outcome_set_reason(&img->m->o, RESULT_FAILED, why);
			warnx("%s %s: %s", mrec_region(img->m), mrec_id(img->m), why);
			free(why);
			free(keys);
			return;
		}
		if (keys != NULL && strstr(keys, key) != NULL)
			continue;
		xasprintf(&t, "%s%s%s", keys != NULL ? keys : "", keys != NULL ? ", " : "", key);
		free(keys);
		keys = t;
	}
	if (keys != NULL)
		xasprintf(&img->note, "the snapshots are encrypted with KMS key %s: its key policy "
		    "must let the accounts use it (amicycle does not edit key policies)", keys);
	free(keys);
}

/* Sets the record's permissions as they are now, or would be under --dry-run. */
static void
finish(struct image *img)
{
	enum result_status st = img->m->o.status;
	int acted = st == RESULT_DONE || st == RESULT_DRYRUN;
	jv perms = jv_object();
	size_t i;

	if (jv_get_kind(img->now) == JV_KIND_ARRAY)
		img->m->rec = jv_object_set(img->m->rec, jv_string("LaunchPermissions"),
		    acted ? applied(img->now, img->change, img->wt->remove) : jv_copy(img->now));
	for (i = 0; img->wt->snapshots && i < img->nsnaps; i++)
		if (jv_get_kind(img->snaps[i].now) == JV_KIND_ARRAY)
			perms = jv_object_set(perms, jv_string(img->snaps[i].id), acted ?
			    applied(img->snaps[i].now, img->snaps[i].change, img->wt->remove) :
			    jv_copy(img->snaps[i].now));
	if (jv_object_length(jv_copy(perms)) > 0)
		img->m->rec = jv_object_set(img->m->rec, jv_string("CreateVolumePermissions"), perms);
	else
		jv_free(perms);
	if (acted && img->note != NULL) {
		free(img->m->o.reason);
		img->m->o.reason = xstrdup(img->note);
	}
}

static void
image_free(struct image *img)
{
	size_t i;

	for (i = 0; i < img->nsnaps; i++) {
		jv_free(img->snaps[i].rec);
		jv_free(img->snaps[i].now);
		jv_free(img->snaps[i].change);
	}
	free(img->snaps);
	jv_free(img->now);
	jv_free(img->change);
	free(img->note);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "account",		required_argument,	NULL,	OPT_ACCOUNT },
		{ "all",		no_argument,		NULL,	OPT_ALL },
		{ "allow-public",	no_argument,		NULL,	OPT_ALLOW_PUBLIC },
		AWSOPT_LONGOPTS,
		{ "aws-managed-key",	required_argument,	NULL,	OPT_MANAGED_KEY },
		{ "help",		no_argument,		NULL,	'h' },
		{ "organization",	required_argument,	NULL,	OPT_ORGANIZATION },
		{ "ou",			required_argument,	NULL,	OPT_OU },
		{ "public",		no_argument,		NULL,	OPT_PUBLIC },
		{ "remove",		no_argument,		NULL,	OPT_REMOVE },
		{ "snapshots",		no_argument,		NULL,	OPT_SNAPSHOTS },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ NULL,			0,			NULL,	0 }
	};
	static const char *const idfields[] = { "ImageId", NULL };
	struct want wt = { jv_array(), jv_array(), jv_array(), 0, 0, 0, 0 };
	struct awsopt ao;
	struct ec2 *ec2;
	struct mrec *recs;
	struct image *imgs;
	size_t n, i;
	int ch, public = 0, allow_public = 0, accounts = 0, status;

	out_init();
	awsopt_init(&ao);
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case OPT_ACCOUNT:
			wt.perms = add_perm(wt.perms, "account", ACCOUNT_RE, "UserId", optarg);
			wt.vperms = add_perm(wt.vperms, "account", ACCOUNT_RE, "UserId", optarg);
			accounts = 1;
			break;
		case OPT_ALL:
			wt.all = 1;
			break;
		case OPT_ALLOW_PUBLIC:
			allow_public = 1;
			break;
		case 'h':
			usage();
		case OPT_MANAGED_KEY:
			wt.managed = add_perm(wt.managed, "aws-managed-key", KEY_RE, NULL, optarg);
			break;
		case OPT_ORGANIZATION:
			wt.perms = add_perm(wt.perms, "organization", ORG_RE, "OrganizationArn",
			    optarg);
			break;
		case OPT_OU:
			wt.perms = add_perm(wt.perms, "ou", OU_RE, "OrganizationalUnitArn", optarg);
			break;
		case OPT_PUBLIC:
			public = 1;
			break;
		case OPT_REMOVE:
			wt.remove = 1;
			break;
		case OPT_SNAPSHOTS:
			wt.snapshots = 1;
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&ao, ch, optarg))
				usage_error(NULL);
		}
	}
	argv += optind;
	if (public && !allow_public && !wt.remove)
		usage_error("--public: refused unless --allow-public (anyone could launch the images)");
	if (public) {
		wt.perms = add_perm(wt.perms, "public", "^all$", "Group", "all");
		wt.vperms = add_perm(wt.vperms, "public", "^all$", "Group", "all");
		accounts = 1;
	}
	if (wt.all && !wt.remove)
		usage_error("--all: only with --remove (every permission the images have)");
	if (wt.all && jv_array_length(jv_copy(wt.perms)) > 0)
		usage_error("--remove --all takes every permission away: give no --account, "
		    "--organization, --ou or --public with it");
	if (!wt.all && jv_array_length(jv_copy(wt.perms)) == 0)
		usage_error("with whom: give --account, --organization, --ou or --public "
		    "(or --remove --all)");
	if (wt.snapshots && !accounts && !wt.all)
		usage_error("--snapshots: a snapshot is shared with accounts only (--account), not "
		    "with organizations or OUs");
	wt.dryrun = ao.dryrun;

	ec2 = awsopt_client(&ao);
	recs = mutate_read(argv, ec2_region(ec2), idfields, mutate_check_image, NULL, &n);
	imgs = xcalloc(n + 1, sizeof(*imgs));
	for (i = 0; i < n; i++) {
		imgs[i].m = &recs[i];
		imgs[i].now = jv_null();
		imgs[i].change = jv_array();
		imgs[i].wt = &wt;
		imgs[i].ec2 = ec2;
	}
	read_state(imgs, n, ec2, &wt);
	for (i = 0; i < n; i++)
		plan(&imgs[i]);
	/* Interrupted, the calls in flight finish, the rest are printed interrupted. */
	intr_catch();
	for (i = 0; i < n; i++)
		start(&imgs[i]);
	ec2_run(ec2);
	for (i = 0; i < n; i++) {
		finish(&imgs[i]);
		image_free(&imgs[i]);
	}
	status = mutate_print(recs, n, ACTION, NULL, NULL);

	free(imgs);
	jv_free(wt.perms);
	jv_free(wt.vperms);
	jv_free(wt.managed);
	ec2_free(ec2);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
