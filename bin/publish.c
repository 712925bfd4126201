/*
 * publish puts the image of each record it reads where launches read it: the next version of an SSM
 * parameter (PutParameter, DataType aws:ec2:image, then LabelParameterVersion git-SHA from the
 * image's GitSha tag), or a new version of a launch template made from its default version with only
 * the ImageId changed (CreateLaunchTemplateVersion; with --set-default, ModifyLaunchTemplate makes it
 * the default). One record per region: the parameter or template of that name there is the channel.
 * It reads and checks all of its input, then reads each channel as it is and describes the images,
 * and calls only when the channel holds another image: publishing the image already there is
 * skipped, and an image gone, disabled, not yet available or tagged Revoked=true is refused. With --rollback the
 * records are images to withdraw: a channel that holds one of them (a parameter's value; a
 * template's default or latest version, since launches read either) goes back to the newest
 * earlier version whose image is none of them, still exists, is available and is not tagged
 * Revoked=true, as a new version made from it; a template's default that launched a withdrawn
 * image becomes that new version, one that did not is left alone (and a default that alone did,
 * under a good latest, goes back to the earlier version itself: no version is made). When there is
 * none, that channel is left as it is and the record fails. Every record is written back in input
 * order with a Result and, where a channel holds or held its image, "Published".
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsopt.h"
#include "ec2.h"
#include "ec2res.h"
#include "interrupt.h"
#include "jsonl.h"
#include "mutate.h"
#include "out.h"
#include "record.h"
#include "util.h"

#define ACTION		"publish"
#define LABEL_PREFIX	"git-"

/* SSM's characters for parameter names and labels; EC2's for launch template names and ids. */
#define ALNUM		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define PARAM_CHARS	ALNUM "_.-/"
#define LABEL_CHARS	ALNUM "_.-"
#define TEMPLATE_CHARS	ALNUM "()./_-"
#define HEX		"0123456789abcdef"

enum {
	OPT_CREATE = OPT_FIRST,
	OPT_LAUNCH_TEMPLATE,
	OPT_PARAMETER,
	OPT_ROLLBACK,
	OPT_SET_DEFAULT,
	OPT_VERSION
};

/* What the options ask. */
struct want {
	const char	*param;		/* --parameter NAME, or NULL */
	const char	*tmpl;		/* --launch-template NAME|ID, or NULL */
	const char	*name;		/* whichever of them was given */
	int		 byid, create, rollback, set_default, dryrun;
};

/* One version of a channel: the image it holds. */
struct version {
	long long	 n;
	char		*image;		/* its image id; NULL when it holds none */
	jv		 labels;	/* a parameter version's labels */
};

/* A channel in one region: the parameter or template there, as read, and what becomes of it. */
struct channel {
	const char	*region;
	const struct want *wt;
	struct ec2	*ec2;
	struct mrec	**recs;		/* the records of this region */
	size_t		 nrecs;
	int		 found;		/* the channel exists there */
	char		*diag;		/* why it could not be read, or is not there */
	char		*tid, *tname;	/* a template's id and name */
	long long	 deflt, latest;	/* a template's default and latest versions */
	struct version	*vers;		/* oldest first */
	size_t		 nvers;
	struct mrec	*actor;		/* the record the channel's calls are for */
	struct mrec	*also;		/* --rollback: another withdrawn image's, that the default held */
	struct version	*cur;		/* the version current now (NULL: none); --rollback on a
					   template: the newest that launches a withdrawn image */
	struct version	*dcur;		/* --rollback: a template's default, if it launches one */
	struct version	*target;	/* --rollback: the version to go back to */
	size_t		 cand;		/* --rollback: where its candidates start in the batch */
	long long	 made;		/* the version made (or that would be); 0: none */
	char		*label;		/* the label put on it */
	int		 already;	/* the channel held the image already */
	int		 wrote;		/* the put or the new version went through */
};

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: publish {--parameter NAME | --launch-template NAME|ID [--set-default]}\n"
	    "           [--create] [--rollback]\n"
	    "           [--dry-run] [--audit FILE] [--region REGION] [--endpoint-url URL]\n"
	    "           [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Publish images where launches read them: an SSM parameter or a launch template.\n"
	    "\n"
	    "      --parameter NAME     the SSM parameter (a new version, labelled git-SHA)\n"
	    "      --launch-template NAME|ID  the launch template (a new version)\n"
	    "      --set-default        make the new version the template's default\n"
	    "      --create             create the parameter if it does not exist\n"
	    "      --rollback           take the images back out: the channel returns to\n"
	    "                           the newest earlier image that is not withdrawn,\n"
	    "                           revoked or disabled\n"
	    AWSOPT_HELP);
}

/* 1 if s is min to max characters, all of chars. */
static int
made_of(const char *s, const char *chars, size_t min, size_t max)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, chars) == n;
}

/* Checks the channel's name as SSM or EC2 would, before any call: a usage error otherwise. */
static void
check_name(struct want *wt)
{
	const char *p = wt->param, *bare;

	if (p != NULL) {
		bare = p + (*p == '/');
		if (!made_of(p, PARAM_CHARS, 1, 1011) || strstr(p, "//") != NULL ||
		    (strchr(p, '/') != NULL && *p != '/') || p[strlen(p) - 1] == '/')
			usage_error("--parameter '%s': not an SSM parameter name (letters, digits, "
			    "_ . - and /; a path starts with /)", p);
		if (strncasecmp(bare, "aws", 3) == 0 || strncasecmp(bare, "ssm", 3) == 0)
			usage_error("--parameter '%s': names starting with aws or ssm are reserved", p);
		return;
	}
	wt->byid = strncmp(wt->tmpl, "lt-", 3) == 0;
	if (wt->byid ? !made_of(wt->tmpl + 3, HEX, 17, 17) :
	    !made_of(wt->tmpl, TEMPLATE_CHARS, 3, 128))
		usage_error("--launch-template '%s': not a launch template %s", wt->tmpl,
		    wt->byid ? "id (lt- and 17 hex digits)" : "name (3 to 128 of letters, digits "
		    "and ( ) . / _ -)");
}

/* What check_record() keeps while reading: the regions with a record, publishing. */
struct seen {
	const struct want *wt;
	jv		 regions;	/* region -> the line of its record */
};

/* Borrows rec: an image record, one a region when publishing, its GitSha fit for a label. */
static jv
check_record(struct jsonl *in, jv rec, const char *idfield, void *arg)
{
	struct seen *s = arg;
	const char *region = rec_str(rec, "Region"), *sha = rec_tag(rec, "GitSha");
	jv line;

	(void)idfield;
	rec_require_image(in, rec);
	if (s->wt->rollback)
		return jv_null();
	line = jv_object_get(jv_copy(s->regions), jv_string(region));
	if (jv_get_kind(line) == JV_KIND_NUMBER)
		jsonl_die(in, "a second image for %s in %s (the first is on line %d): publish one "
		    "image a channel", s->wt->name, region, (int)jv_number_value(line));
	jv_free(line);
	s->regions = jv_object_set(s->regions, jv_string(region),
	    jv_number((double)in->lineno));
	if (s->wt->param != NULL && sha != NULL && !made_of(sha, LABEL_CHARS, 1, 96))
		jsonl_die(in, "tag GitSha '%s': not what an SSM label can carry (letters, digits, "
		    "_ . -; at most 96)", sha);
	return jv_null();
}

/* --- reading the channels as they are --- */

static int
version_cmp(const void *a, const void *b)
{
	const struct version *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

/* The version numbered n, or NULL. */
static struct version *
version_of(struct channel *ch, long long n)
{
	size_t i;

	for (i = 0; i < ch->nvers; i++)
		if (ch->vers[i].n == n)
			return &ch->vers[i];
	return NULL;
}

/* Consumes labels. Adds version n holding image (may be NULL). */
static void
add_version(struct channel *ch, long long n, const char *image, jv labels)
{
	struct version *v;

	ch->vers = xreallocarray(ch->vers, ch->nvers + 1, sizeof(*ch->vers));
	v = &ch->vers[ch->nvers++];
	v->n = n;
	v->image = image != NULL && rec_id_valid("ImageId", image) ? xstrdup(image) : NULL;
	v->labels = jv_get_kind(labels) == JV_KIND_ARRAY ? labels : (jv_free(labels), jv_array());
}

/* Borrows obj. Its number member key, or 0. */
static long long
num(jv obj, const char *key)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	long long n = jv_get_kind(v) == JV_KIND_NUMBER ? (long long)jv_number_value(v) : 0;

	jv_free(v);
	return n;
}

/* A read that failed: code names a channel not there (notfound), else the channel is unknown. */
static int
read_failed(struct channel *ch, const struct ec2_result *res, const char *const *notfound)
{
	const char *const *c;

	if (res->code == NULL)
		return 0;
	free(ch->diag);
	ch->diag = xstrdup(res->diag);
	ch->found = -1;
	for (c = notfound; *c != NULL; c++)
		if (strcmp(res->code, *c) == 0)
			ch->found = 0;
	return 1;
}

static void
history_done(const struct ec2_result *res, void *arg)
{
	static const char *const notfound[] = { "ParameterNotFound", NULL };
	struct channel *ch = arg;
	jv list;

	if (read_failed(ch, res, notfound))
		return;
	ch->found = 1;
	list = jv_object_get(jv_copy(res->out), jv_string("Parameters"));
	if (jv_get_kind(list) == JV_KIND_ARRAY)
		jv_array_foreach(list, i, p) {
			add_version(ch, num(p, "Version"), rec_str(p, "Value"),
			    jv_object_get(jv_copy(p), jv_string("Labels")));
			jv_free(p);
		}
	jv_free(list);
	qsort(ch->vers, ch->nvers, sizeof(*ch->vers), version_cmp);
	ch->latest = ch->nvers > 0 ? ch->vers[ch->nvers - 1].n : 0;
}

static void
versions_done(const struct ec2_result *res, void *arg)
{
	static const char *const notfound[] = { "InvalidLaunchTemplateId.NotFound", NULL };
	struct channel *ch = arg;
	jv list, data;

	if (read_failed(ch, res, notfound))
		return;
	list = jv_object_get(jv_copy(res->out), jv_string("LaunchTemplateVersions"));
	if (jv_get_kind(list) == JV_KIND_ARRAY)
		jv_array_foreach(list, i, v) {
			data = jv_object_get(jv_copy(v), jv_string("LaunchTemplateData"));
			add_version(ch, num(v, "VersionNumber"), jv_get_kind(data) ==
			    JV_KIND_OBJECT ? rec_str(data, "ImageId") : NULL, jv_array());
			jv_free(data);
			jv_free(v);
		}
	jv_free(list);
	qsort(ch->vers, ch->nvers, sizeof(*ch->vers), version_cmp);
}

static void
template_done(const struct ec2_result *res, void *arg)
{
	static const char *const notfound[] = { "InvalidLaunchTemplateId.NotFound",
	    "InvalidLaunchTemplateName.NotFoundException", NULL };
	struct channel *ch = arg;
	jv list, lt;

	if (read_failed(ch, res, notfound))
		return;
	list = jv_object_get(jv_copy(res->out), jv_string("LaunchTemplates"));
	lt = jv_get_kind(list) == JV_KIND_ARRAY ? jv_array_get(list, 0) : (jv_free(list), jv_null());
	if (jv_get_kind(lt) != JV_KIND_OBJECT || rec_str(lt, "LaunchTemplateId") == NULL) {
		xasprintf(&ch->diag, "%s: %s: no launch template %s", ch->region, res->action,
		    ch->wt->name);
		jv_free(lt);
		return;
	}
	ch->found = 1;
	ch->tid = xstrdup(rec_str(lt, "LaunchTemplateId"));
	if (rec_str(lt, "LaunchTemplateName") != NULL)
		ch->tname = xstrdup(rec_str(lt, "LaunchTemplateName"));
	ch->deflt = num(lt, "DefaultVersionNumber");
	ch->latest = num(lt, "LatestVersionNumber");
	jv_free(lt);
	ec2_submit_all(ch->ec2, ch->region, "DescribeLaunchTemplateVersions",
	    JV_OBJECT(jv_string("LaunchTemplateId"), jv_string(ch->tid),
	    jv_string("MaxResults"), jv_number(200)), versions_done, ch);
}

/* Queues the reads of a channel: a parameter's history, or a template and its versions. */
static void
read_channel(struct channel *ch)
{
	const struct want *wt = ch->wt;

	if (wt->param != NULL)
		ec2_submit_all(ch->ec2, ch->region, "ssm:GetParameterHistory",
		    JV_OBJECT(jv_string("Name"), jv_string(wt->param), jv_string("MaxResults"),
		    jv_number(50)), history_done, ch);
	else
		ec2_submit(ch->ec2, ch->region, "DescribeLaunchTemplates",
		    JV_OBJECT(jv_string(wt->byid ? "LaunchTemplateIds" : "LaunchTemplateNames"),
		    JV_ARRAY(jv_string(wt->tmpl))), template_done, ch);
}

/* --- planning --- */

/* Sets m's outcome to status and reason; a failure is also said on stderr. */
static void
decide(struct mrec *m, enum result_status status, const char *reason)
{
	outcome_set_reason(&m->o, status, reason);
	if (status == RESULT_FAILED)
		warnx("%s", reason);
}

/* 1 if some record of ch names image. */
static int
withdrawn(const struct channel *ch, const char *image)
{
	size_t i;

	for (i = 0; i < ch->nrecs; i++)
		if (strcmp(mrec_id(ch->recs[i]), image) == 0)
			return 1;
	return 0;
}

/* What publishing needs: the image not there already, the channel there (or --create). */
static void
plan_publish(struct channel *ch)
{
	const struct want *wt = ch->wt;
	const char *id, *sha;
	char *why;

	ch->actor = ch->recs[0];
	id = mrec_id(ch->actor);
	if (ch->found != 1 && !(ch->found == 0 && wt->param != NULL && wt->create)) {
		decide(ch->actor, RESULT_FAILED, ch->diag);
		return;
	}
	if (ch->found == 1)
		ch->cur = wt->param != NULL ? version_of(ch, ch->latest) :
		    version_of(ch, wt->set_default ? ch->deflt : ch->latest);
	if (ch->cur != NULL && ch->cur->image != NULL && strcmp(ch->cur->image, id) == 0) {
		ch->already = 1;
		xasprintf(&why, "already published: %s holds %s in %s (version %lld)", wt->name, id,
		    ch->region, ch->cur->n);
		decide(ch->actor, RESULT_SKIPPED, why);
		free(why);
		return;
	}
	ch->made = ch->latest + 1;
	if (wt->param != NULL && (sha = rec_tag(ch->actor->rec, "GitSha")) != NULL &&
	    *sha != '\0')
		xasprintf(&ch->label, "%s%s", LABEL_PREFIX, sha);
}

/* 1 if ch's version i is one a rollback may go back to, if its image is still good. */
static int
candidate(const struct channel *ch, size_t i)
{
	return ch->vers[i].n < ch->cur->n && ch->vers[i].image != NULL &&
	    !withdrawn(ch, ch->vers[i].image);
}

/* 1 if version v (may be NULL) holds image. */
static int
holds(const struct version *v, const char *image)
{
	return v != NULL && v->image != NULL && strcmp(v->image, image) == 0;
}

/* 1 if version v (may be NULL) holds one of the images withdrawn from ch. */
static int
offends(const struct channel *ch, const struct version *v)
{
	return v != NULL && v->image != NULL && withdrawn(ch, v->image);
}

/* The image version v (may be NULL) holds, for a reason. */
static const char *
image_of(const struct version *v)
{
	return v != NULL && v->image != NULL ? v->image : "no image";
}

/*
 * Sets what a rollback takes ch back from: a parameter's current version; of a template, whose
 * $Default and $Latest launches read, the default if it launches a withdrawn image (dcur), and the
 * newest of the default and latest versions that does (cur). Returns what the channel holds, for
 * the records it does not; the caller frees it.
 */
static char *
rollback_from(struct channel *ch)
{
	struct version *d, *l;
	char *s;

	if (ch->wt->param != NULL) {
		ch->cur = version_of(ch, ch->latest);
		return xstrdup(image_of(ch->cur));
	}
	d = version_of(ch, ch->deflt);
	l = version_of(ch, ch->latest);
	ch->dcur = offends(ch, d) ? d : NULL;
	ch->cur = offends(ch, l) ? l : ch->dcur;
	if (d == l)
		return xstrdup(image_of(d));
	xasprintf(&s, "%s, the default; %s, the latest", image_of(d), image_of(l));
	return s;
}

/*
 * What a rollback needs: the record whose image the channel holds, and of a template the record
 * of another image its default holds (the others are skipped), and the earlier versions it may go
 * back to, newest first, appended to batch for describing.
 */
static jv
plan_rollback(struct channel *ch, jv batch)
{
	const struct want *wt = ch->wt;
	const char *id;
	char *why, *held;
	size_t i;

	ch->cand = (size_t)jv_array_length(jv_copy(batch));
	held = ch->found == 1 ? rollback_from(ch) : NULL;
	for (i = 0; i < ch->nrecs; i++) {
		id = mrec_id(ch->recs[i]);
		if (ch->found == -1) {
			/* Said once for the channel. */
			if (i == 0)
				warnx("%s", ch->diag);
			outcome_set_reason(&ch->recs[i]->o, RESULT_FAILED, ch->diag);
			continue;
		}
		if (ch->actor == NULL && holds(ch->cur, id)) {
			ch->actor = ch->recs[i];
			continue;
		}
		if (ch->also == NULL && holds(ch->dcur, id) && !holds(ch->cur, id)) {
			ch->also = ch->recs[i];
			continue;
		}
		if (ch->found == 0)
			xasprintf(&why, "not what %s holds in %s: there is no such %s there",
			    wt->name, ch->region, wt->param != NULL ? "parameter" : "launch template");
		else
			xasprintf(&why, "not what %s holds in %s (%s)", wt->name, ch->region, held);
		decide(ch->recs[i], RESULT_SKIPPED, why);
		free(why);
	}
	free(held);
	if (ch->actor == NULL)
		return batch;
	for (i = ch->nvers; i-- > 0;)
		if (candidate(ch, i))
			batch = jv_array_append(batch, JV_OBJECT(jv_string("ImageId"),
			    jv_string(ch->vers[i].image), jv_string("Region"), jv_string(ch->region)));
	return batch;
}

/*
 * Borrows img, the image id in region as DescribeImages gives it, or null when it is not there.
 * Why no channel may hold it (gone, tagged Revoked=true, disabled or not yet available), or NULL
 * when it may. The caller frees the reason.
 */
static char *
unfit(jv img, const char *id, const char *region)
{
	const char *state, *revoked;
	char *why = NULL;

	if (jv_get_kind(img) != JV_KIND_OBJECT)
		xasprintf(&why, "%s: no image %s (or none shared with this account)", region, id);
	else if ((revoked = rec_tag(img, "Revoked")) != NULL && strcmp(revoked, "true") == 0)
		xasprintf(&why, "%s: %s is tagged Revoked=true", region, id);
	else if ((state = rec_str(img, "State")) == NULL || strcmp(state, "available") != 0)
		xasprintf(&why, "%s: %s is %s, not available", region, id,
		    state != NULL ? state : "in no state");
	return why;
}

/* Borrows img, as for unfit(). 1 if a channel may go back to it. */
static int
good_image(jv img)
{
	char *why = unfit(img, "", "");
	int good = why == NULL;

	free(why);
	return good;
}

/* Borrows fresh, the batch described. Picks ch's target: its newest candidate still good. */
static void
pick_target(struct channel *ch, jv fresh)
{
	size_t i, k = ch->cand;
	jv img;
	char *why;

	if (ch->actor == NULL)
		return;
	for (i = ch->nvers; i-- > 0 && ch->target == NULL;) {
		if (!candidate(ch, i))
			continue;
		img = jv_array_get(jv_copy(fresh), (int)k++);
		if (good_image(img))
			ch->target = &ch->vers[i];
		jv_free(img);
	}
	if (ch->target != NULL) {
		/* A template whose $Latest is good keeps it: only its default goes back. */
		ch->made = ch->cur->n == ch->latest ? ch->latest + 1 : 0;
		return;
	}
	xasprintf(&why, "no earlier image that is not revoked: %s left as it is", ch->wt->name);
	outcome_set_reason(&ch->actor->o, RESULT_FAILED, why);
	warnx("%s: %s", ch->region, why);
	free(why);
}

/* Describes the images the channels may go back to, in one batch; picks each channel's target. */
static void
plan_rollbacks(struct channel *chs, size_t n, struct ec2 *ec2)
{
	jv batch = jv_array(), fresh;
	size_t i;

	for (i = 0; i < n; i++)
		batch = plan_rollback(&chs[i], batch);
	fresh = ec2res_refresh_or_exit(ec2, &ec2res_images, batch);
	for (i = 0; i < n; i++)
		pick_target(&chs[i], fresh);
	jv_free(fresh);
}

/*
 * Describes the images to publish, in one batch: one gone, tagged Revoked=true, disabled or not
 * yet available is refused (its record fails), so that a release revoked since it was promoted is
 * not published again by a job run again. Then plans each channel.
 */
static void
plan_publishes(struct channel *chs, size_t n, struct ec2 *ec2)
{
	jv batch = jv_array(), fresh, img;
	size_t i;
	char *why, *t;

	for (i = 0; i < n; i++)
		batch = jv_array_append(batch, jv_copy(chs[i].recs[0]->rec));
	fresh = ec2res_refresh_or_exit(ec2, &ec2res_images, batch);
	for (i = 0; i < n; i++) {
		img = jv_array_get(jv_copy(fresh), (int)i);
		why = unfit(img, mrec_id(chs[i].recs[0]), chs[i].region);
		jv_free(img);
		if (why == NULL) {
			plan_publish(&chs[i]);
			continue;
		}
		xasprintf(&t, "%s: not published to %s", why, chs[i].wt->name);
		decide(chs[i].recs[0], RESULT_FAILED, t);
		free(t);
		free(why);
	}
	jv_free(fresh);
}

/* --- the calls --- */

/* Judges a call of ch's; 0 if its step went through (or would, under --dry-run). */
static int
judge(struct channel *ch, const struct ec2_result *res)
{
	outcome_set(&ch->actor->o, res, ch->wt->dryrun);
	if (res->code != NULL && ec2_gone(res->code))
		outcome_set_reason(&ch->actor->o, RESULT_FAILED, res->diag);
	if (ch->actor->o.status == RESULT_FAILED)
		warnx("%s", ch->actor->o.reason);
	return ch->actor->o.status == RESULT_DONE || ch->actor->o.status == RESULT_DRYRUN ? 0 : -1;
}

/* Consumes params: with DryRun under --dry-run (EC2's calls only: SSM has no dry run). */
static void
submit(struct channel *ch, const char *action, jv params,
    void (*done)(const struct ec2_result *, void *))
{
	if (ch->wt->dryrun)
		params = jv_object_set(params, jv_string("DryRun"), jv_true());
	ec2_submit(ch->ec2, ch->region, action, params, done, ch);
}

static void
label_done(const struct ec2_result *res, void *arg)
{
	struct channel *ch = arg;
	jv bad;
	char *why;

	if (judge(ch, res) == -1)
		return;
	bad = jv_object_get(jv_copy(res->out), jv_string("InvalidLabels"));
	if (jv_get_kind(bad) == JV_KIND_ARRAY && jv_array_length(jv_copy(bad)) > 0) {
		xasprintf(&why, "%s: LabelParameterVersion: %s version %lld: SSM refused the label %s",
		    ch->region, ch->wt->name, ch->made, ch->label);
		decide(ch->actor, RESULT_FAILED, why);
		free(why);
	}
	jv_free(bad);
}

static void
put_done(const struct ec2_result *res, void *arg)
{
	struct channel *ch = arg;
	jv labels, first;

	if (judge(ch, res) == -1)
		return;
	ch->wrote = 1;
	ch->made = num(res->out, "Version");
	if (ch->target != NULL && jv_array_length(jv_copy(ch->target->labels)) > 0) {
		/* Going back, the version's labels move with its image. */
		labels = jv_copy(ch->target->labels);
		first = jv_array_get(jv_copy(labels), 0);
		if (jv_get_kind(first) == JV_KIND_STRING)
			ch->label = xstrdup(jv_string_value(first));
		jv_free(first);
	} else if (ch->label != NULL)
		labels = JV_ARRAY(jv_string(ch->label));
	else
		return;
	ec2_submit(ch->ec2, ch->region, "ssm:LabelParameterVersion",
	    JV_OBJECT(jv_string("Name"), jv_string(ch->wt->param), jv_string("ParameterVersion"),
	    jv_number((double)ch->made), jv_string("Labels"), labels), label_done, ch);
}

static void
modify_done(const struct ec2_result *res, void *arg)
{
	judge(arg, res);
}

static void
submit_default(struct channel *ch, long long version)
{
	submit(ch, "ModifyLaunchTemplate", JV_OBJECT(jv_string("LaunchTemplateId"),
	    jv_string(ch->tid), jv_string("DefaultVersion"), jv_string_fmt("%lld", version)),
	    modify_done);
}

static void
create_done(const struct ec2_result *res, void *arg)
{
	struct channel *ch = arg;
	jv v;

	if (judge(ch, res) == -1)
		return;
	if (ch->wt->dryrun) {
		/* The version is not made: the dry run names the one it would be made from. */
		if (ch->dcur != NULL)
			submit_default(ch, ch->target->n);
		return;
	}
	ch->wrote = 1;
	v = jv_object_get(jv_copy(res->out), jv_string("LaunchTemplateVersion"));
	ch->made = num(v, "VersionNumber");
	jv_free(v);
	if (ch->wt->set_default || ch->dcur != NULL)
		submit_default(ch, ch->made);
}

/*
 * Makes ch's template a new version from version source with image as its ImageId, described by
 * desc: CreateLaunchTemplateVersion, then create_done().
 */
static void
create_version(struct channel *ch, long long source, const char *image, const char *desc)
{
	char *tok;
	jv key;

	/* The same template state, source and image: a retried call makes one version, not two. */
	key = JV_ARRAY(jv_string(ch->tid), jv_number((double)ch->deflt),
	    jv_number((double)ch->latest), jv_number((double)source), jv_string(image));
	tok = client_token("publish", key);
	jv_free(key);
	submit(ch, "CreateLaunchTemplateVersion", JV_OBJECT(jv_string("LaunchTemplateId"),
	    jv_string(ch->tid), jv_string("SourceVersion"), jv_string_fmt("%lld", source),
	    jv_string("VersionDescription"), jv_string(desc), jv_string("LaunchTemplateData"),
	    JV_OBJECT(jv_string("ImageId"), jv_string(image)),
	    jv_string("ClientToken"), jv_string(tok)), create_done);
	free(tok);
}

/* Consumes nothing. The image that ch's calls put in place. */
static const char *
new_image(const struct channel *ch)
{
	return ch->target != NULL ? ch->target->image : mrec_id(ch->actor);
}

/* Starts ch's calls, if it has any to make. */
static void
start(struct channel *ch)
{
	const struct want *wt = ch->wt;
	const char *sha;
	char *desc;

	if (ch->actor == NULL || ch->actor->o.status != RESULT_NONE)
		return;
	if (wt->param != NULL && wt->dryrun) {
		/* SSM has no DryRun: the plan is the answer. */
		outcome_set_reason(&ch->actor->o, RESULT_DRYRUN, NULL);
		return;
	}
	if (wt->param != NULL) {
		ec2_submit(ch->ec2, ch->region, "ssm:PutParameter", JV_OBJECT(jv_string("Name"),
		    jv_string(wt->param), jv_string("Value"), jv_string(new_image(ch)),
		    jv_string("Type"), jv_string("String"), jv_string("DataType"),
		    jv_string("aws:ec2:image"), jv_string("Overwrite"), jv_true()), put_done, ch);
		return;
	}
	if (wt->rollback && ch->made == 0) {
		submit_default(ch, ch->target->n);
		return;
	}
	if (wt->rollback) {
		xasprintf(&desc, "%s again (version %lld), in place of %s (version %lld)",
		    ch->target->image, ch->target->n, ch->cur->image, ch->cur->n);
		create_version(ch, ch->target->n, ch->target->image, desc);
		free(desc);
		return;
	}
	sha = rec_tag(ch->actor->rec, "GitSha");
	desc = xstrdup(mrec_id(ch->actor));
	if (sha != NULL && *sha != '\0') {
		free(desc);
		xasprintf(&desc, "%s git %.200s", mrec_id(ch->actor), sha);
	}
	create_version(ch, ch->deflt, mrec_id(ch->actor), desc);
	free(desc);
}

/* --- the records out --- */

/* Consumes o. o with key set to s, or null when s is NULL. */
static jv
set_str(jv o, const char *key, const char *s)
{
	return jv_object_set(o, jv_string(key), s != NULL ? jv_string(s) : jv_null());
}

/* Consumes o. o with key set to n, or null when n is 0. */
static jv
set_num(jv o, const char *key, long long n)
{
	return jv_object_set(o, jv_string(key), n != 0 ? jv_number((double)n) : jv_null());
}

/* What the channel holds after ch's calls (or would, under --dry-run): the record's Published. */
static jv
published(const struct channel *ch)
{
	const struct want *wt = ch->wt;
	const struct version *prev = ch->already ? NULL : ch->cur;
	long long n = ch->already ? ch->cur->n : ch->made != 0 ? ch->made : ch->target->n;
	int ok = ch->actor->o.status == RESULT_DONE || ch->actor->o.status == RESULT_DRYRUN;
	jv p = jv_object();

	if (wt->param != NULL) {
		p = set_str(p, "Parameter", wt->param);
		p = set_num(p, "Version", n);
		p = set_str(p, "Label", ch->label);
	} else {
		p = set_str(p, "LaunchTemplateId", ch->tid);
		p = set_str(p, "LaunchTemplateName", ch->tname);
		p = set_num(p, "VersionNumber", n);
		p = jv_object_set(p, jv_string("Default"), jv_bool(ch->already ? ch->deflt == n :
		    (wt->rollback ? ch->dcur != NULL : wt->set_default) && ok));
	}
	if (ch->target != NULL) {
		p = set_str(p, "ImageId", ch->target->image);
		if (ch->made != 0)
			p = set_num(p, "SourceVersion", ch->target->n);
	}
	p = set_num(p, "PreviousVersion", prev != NULL ? prev->n : 0);
	return set_str(p, "PreviousImageId", prev != NULL ? prev->image : NULL);
}

/* Which of a template's launches read version v: "default", "latest" or both. */
static const char *
reads(const struct channel *ch, const struct version *v)
{
	return v->n != ch->latest ? "default" : v == ch->dcur ? "default and latest" : "latest";
}

/*
 * The Reason of a rollback: from what to what. A template says which versions launched a
 * withdrawn image, and the version made; the caller frees it.
 */
static char *
rollback_reason(const struct channel *ch)
{
	char *why, *also = NULL, *made = NULL;

	if (ch->wt->param != NULL) {
		xasprintf(&why, "%s in %s back from %s (version %lld) to %s (version %lld)",
		    ch->wt->name, ch->region, ch->cur->image, ch->cur->n, ch->target->image,
		    ch->target->n);
		return why;
	}
	if (ch->dcur != NULL && ch->dcur != ch->cur)
		xasprintf(&also, " and %s (version %lld, default)", ch->dcur->image, ch->dcur->n);
	if (ch->made != 0)
		xasprintf(&made, ", as version %lld%s", ch->made, ch->dcur != NULL ?
		    ", the default" : "");
	xasprintf(&why, "%s in %s back from %s (version %lld, %s)%s to %s (version %lld)%s",
	    ch->wt->name, ch->region, ch->cur->image, ch->cur->n, reads(ch, ch->cur),
	    also != NULL ? also : "", ch->target->image, ch->target->n, made != NULL ? made : "");
	free(also);
	free(made);
	return why;
}

/*
 * Sets the actor's Published, and the Reason of a rollback done; the record of another image the
 * default held gets the same outcome.
 */
static void
finish(struct channel *ch)
{
	struct mrec *m = ch->actor;

	if (m == NULL)
		return;
	if (m->o.status != RESULT_INTERRUPTED && m->o.status != RESULT_NONE &&
	    (m->o.status != RESULT_FAILED || ch->wrote)) {
		m->rec = jv_object_set(m->rec, jv_string("Published"), published(ch));
		if (ch->target != NULL && m->o.reason == NULL)
			m->o.reason = rollback_reason(ch);
	}
	if (ch->also == NULL)
		return;
	outcome_set_reason(&ch->also->o, m->o.status, m->o.reason);
	if (m->o.request_id != NULL)
		ch->also->o.request_id = xstrdup(m->o.request_id);
	if (jv_object_has(jv_copy(m->rec), jv_string("Published")))
		ch->also->rec = jv_object_set(ch->also->rec, jv_string("Published"),
		    jv_object_get(jv_copy(m->rec), jv_string("Published")));
}

/* The channels of the records: one a region, in the order their regions first come. */
static struct channel *
channels(struct mrec *recs, size_t n, const struct want *wt, struct ec2 *ec2, size_t *nch)
{
	struct channel *chs = xcalloc(n + 1, sizeof(*chs)), *ch;
	size_t i, j;

	*nch = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < *nch; j++)
			if (strcmp(chs[j].region, mrec_region(&recs[i])) == 0)
				break;
		ch = &chs[j];
		if (j == *nch) {
			(*nch)++;
			ch->region = mrec_region(&recs[i]);
			ch->wt = wt;
			ch->ec2 = ec2;
		}
		ch->recs = xreallocarray(ch->recs, ch->nrecs + 1, sizeof(*ch->recs));
		ch->recs[ch->nrecs++] = &recs[i];
	}
	return chs;
}

static void
channel_free(struct channel *ch)
{
	size_t i;

	for (i = 0; i < ch->nvers; i++) {
		free(ch->vers[i].image);
		jv_free(ch->vers[i].labels);
	}
	free(ch->vers);
	free(ch->recs);
	free(ch->diag);
	free(ch->tid);
	free(ch->tname);
	free(ch->label);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		AWSOPT_LONGOPTS,
		{ "create",		no_argument,		NULL,	OPT_CREATE },
		{ "help",		no_argument,		NULL,	'h' },
		{ "launch-template",	required_argument,	NULL,	OPT_LAUNCH_TEMPLATE },
		{ "parameter",		required_argument,	NULL,	OPT_PARAMETER },
		{ "rollback",		no_argument,		NULL,	OPT_ROLLBACK },
		{ "set-default",	no_argument,		NULL,	OPT_SET_DEFAULT },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ NULL,			0,			NULL,	0 }
	};
	static const char *const idfields[] = { "ImageId", NULL };
	struct want wt;
	struct seen seen;
	struct awsopt ao;
	struct ec2 *ec2;
	struct mrec *recs;
	struct channel *chs;
	size_t n, nch, i;
	int ch, status;

	out_init();
	awsopt_init(&ao);
	memset(&wt, 0, sizeof(wt));
	while ((ch = getopt_cli(argc, argv, "hP:", longopts)) != -1) {
		switch (ch) {
		case OPT_CREATE:
			wt.create = 1;
			break;
		case 'h':
			usage();
		case OPT_LAUNCH_TEMPLATE:
			wt.tmpl = optarg;
			break;
		case OPT_PARAMETER:
			wt.param = optarg;
			break;
		case OPT_ROLLBACK:
			wt.rollback = 1;
			break;
		case OPT_SET_DEFAULT:
			wt.set_default = 1;
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&ao, ch, optarg))
				usage_error(NULL);
		}
	}
	argv += optind;
	if ((wt.param != NULL) == (wt.tmpl != NULL))
		usage_error("give one of --parameter and --launch-template");
	if (wt.set_default && wt.tmpl == NULL)
		usage_error("--set-default: only with --launch-template");
	if (wt.create && wt.param == NULL)
		usage_error("--create: only with --parameter (a launch template is not made here)");
	if (wt.create && wt.rollback)
		usage_error("--create: not with --rollback (there is nothing to go back to)");
	wt.name = wt.param != NULL ? wt.param : wt.tmpl;
	check_name(&wt);
	wt.dryrun = ao.dryrun;

	ec2 = awsopt_client(&ao);
	seen.wt = &wt;
	seen.regions = jv_object();
	recs = mutate_read(argv, ec2_region(ec2), idfields, check_record, &seen, &n);
	jv_free(seen.regions);
	chs = channels(recs, n, &wt, ec2, &nch);
	for (i = 0; i < nch; i++)
		read_channel(&chs[i]);
	ec2_run(ec2);
	if (wt.rollback)
		plan_rollbacks(chs, nch, ec2);
	else
		plan_publishes(chs, nch, ec2);
	/* Interrupted, the calls in flight finish, the rest are printed interrupted. */
	intr_catch();
	for (i = 0; i < nch; i++)
		start(&chs[i]);
	ec2_run(ec2);
	for (i = 0; i < nch; i++) {
		finish(&chs[i]);
		channel_free(&chs[i]);
	}
	status = mutate_print(recs, n, ACTION, NULL, NULL);

	free(chs);
	ec2_free(ec2);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
