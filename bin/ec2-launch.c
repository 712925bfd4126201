/*
 * ec2-launch starts one test instance per image record (ImageId, Region) and prints it as an
 * instance record: InstanceId and Region first, then the instance as RunInstances returned it
 * (ImageId, State, PrivateIpAddress, LaunchTime, Tags, ...), the fields a pipeline added to the
 * image record (Packer, ...), and Result. Test instances are tagged Purpose=image-test,
 * SourceImageId and TestRunId (on their volumes too), require IMDSv2 and terminate when shut down
 * from inside. Each RunInstances carries a ClientToken derived from the image, region, options and
 * run id, so a retry, or a re-run with the same run id, returns the instance launched the first
 * time instead of a second one. All input is read and checked before the first call. Interrupted,
 * it starts nothing more, waits for the launches in flight, prints them, and then dies by the
 * signal, so that a cleanup trap finds every instance in its output.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "awsopt.h"
#include "ec2.h"
#include "ec2model.h"
#include "interrupt.h"
#include "jsonl.h"
#include "out.h"
#include "record.h"
#include "strmap.h"
#include "util.h"

#define ACTION		"ec2-launch"
#define USER_DATA_MAX	16384		/* EC2's limit on user data before base64 */

enum {
	OPT_IAM_PROFILE = OPT_FIRST,
	OPT_INSTANCE_TYPE,
	OPT_KEY_NAME,
	OPT_RUN_ID,
	OPT_SECURITY_GROUP,
	OPT_SUBNET,
	OPT_USER_DATA,
	OPT_VERSION
};

/* What every instance of this run is launched with. */
struct opts {
	const char	*type;
	const char	*key;
	const char	*subnet;
	const char	*profile;
	char		*runid;
	jv		 groups;	/* SecurityGroupIds */
	jv		 tags;		/* -t, as [{"Key","Value"}] */
	jv		 userdata;	/* the file's text, or jv_null() */
};

struct run;

/* One image record and the instance launched for it. */
struct launch {
	struct run	*run;
	jv		 image;		/* the input record, with its Region */
	jv		 params;	/* RunInstances' input */
	size_t		 twin;		/* the launch with the same ClientToken: itself, or an earlier one */
	int		 done;
	jv		 inst;		/* the instance, or jv_null() */
	enum result_status	 status;
	char		*reason;
	char		*reqid;
};

struct run {
	struct ec2	*ec2;
	struct launch	*l;
	size_t		 n;
	size_t		 printed;	/* launches printed so far, in input order */
	int		 status;
};

/* Tags ec2-launch sets itself: -t may not replace them. */
static const char *const owntags[] = { "Purpose", "SourceImageId", "TestRunId", NULL };

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: ec2-launch --instance-type TYPE [--key-name NAME] [--subnet ID]\n"
	    "           [--security-group ID]... [--iam-profile NAME|ARN] [--user-data FILE]\n"
	    "           [--run-id ID] [-t KEY=VALUE]... [--dry-run] [--audit FILE]\n"
	    "           [--region REGION] [--endpoint-url URL] [-P N] [--debug]\n"
	    "           " AWSOPT_USAGE_CREDS " [FILE ...]\n"
	    "Launch one test instance per image, IMDSv2 required, idempotently.\n"
	    "\n"
	    "      --instance-type TYPE the instance type (t3.micro); required\n"
	    "      --key-name NAME      the key pair to install\n"
	    "      --subnet ID          the subnet to launch in\n"
	    "      --security-group ID  a security group id, sg-... (repeatable)\n"
	    "      --iam-profile NAME|ARN\n"
	    "                           the instance profile\n"
	    "      --user-data FILE     the user data: UTF-8 text, at most 16384 bytes\n"
	    "      --run-id ID          the run id in client tokens and the TestRunId tag\n"
	    "  -t KEY=VALUE             one more tag for the instances (repeatable)\n"
	    AWSOPT_HELP);
}

static jv
tag(const char *key, const char *value)
{
	return JV_OBJECT(jv_string("Key"), jv_string(key), jv_string("Value"), jv_string(value));
}

/* Parses -t KEY=VALUE. */
static jv
parse_tag(const char *s)
{
	const char *eq = strchr(s, '=');
	char *key;
	jv t;

	if (eq == NULL || eq == s)
		usage_error("-t '%s': expected KEY=VALUE", s);
	key = xstrndup(s, (size_t)(eq - s));
	if (strmap_index(owntags, key) != -1)
		usage_error("-t %s: ec2-launch sets this tag itself", key);
	t = tag(key, eq + 1);
	free(key);
	return t;
}

/* Consumes tags and t. Appends t to tags; a key given twice is a usage error. */
static jv
add_tag(jv tags, jv t)
{
	const char *key = rec_str(t, "Key");

	jv_array_foreach(tags, i, have) {
		if (strcmp(rec_str(have, "Key"), key) == 0)
			usage_error("-t %s: given twice", key);
		jv_free(have);
	}
	return jv_array_append(tags, t);
}

/* The text of the user-data file: at most 16 KB, as EC2 takes, and UTF-8, as JSON carries it. */
static jv
read_user_data(const char *path)
{
	char buf[USER_DATA_MAX + 1];
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		usage_error("--user-data %s: %s", path, strerror(errno));
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			usage_error("--user-data %s: %s", path, strerror(errno));
		}
		len += (size_t)n;
	}
	close(fd);
	if (len > USER_DATA_MAX)
		usage_error("--user-data %s: more than %d bytes, EC2's limit", path,
		    USER_DATA_MAX);
	if (!utf8_valid(buf, len))
		usage_error("--user-data %s: not text (UTF-8); compressed user data is not "
		    "supported", path);
	return len > 0 ? jv_string_sized(buf, (int)len) : jv_null();
}

/*
 * The run id that goes into every ClientToken and the TestRunId tag: --run-id, else
 * AMICYCLE_RUN_ID, else the CI job (GitHub Actions: run, attempt and job; GitLab CI: job id;
 * both change when a job is re-run), else a random one: every run outside CI launches anew.
 */
static char *
run_id(const char *given)
{
	unsigned char r[8];
	const char *v;
	char *id;

	if (given != NULL)
		return xstrdup(given);
	if ((v = env("AMICYCLE_RUN_ID")) != NULL)
		return xstrdup(v);
	if ((v = env("GITHUB_RUN_ID")) != NULL) {
		xasprintf(&id, "github-%s-%s-%s", v, env("GITHUB_RUN_ATTEMPT") ?
		    env("GITHUB_RUN_ATTEMPT") : "1", env("GITHUB_JOB") ? env("GITHUB_JOB") : "job");
		return id;
	}
	if ((v = env("CI_JOB_ID")) != NULL) {
		xasprintf(&id, "gitlab-job-%s", v);
		return id;
	}
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		err(EXIT_FAIL, "getrandom");
	xasprintf(&id, "local-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
	    r[5], r[6], r[7]);
	return id;
}

/* RunInstances' input for image in region, with the ClientToken derived from all of it. */
static jv
run_params(const struct opts *o, const char *image, const char *region, int dryrun)
{
	jv tags, p, inputs;
	char *token;

	tags = jv_array_concat(JV_ARRAY(tag("Purpose", "image-test"), tag("SourceImageId", image),
	    tag("TestRunId", o->runid)), jv_copy(o->tags));
	p = JV_OBJECT(jv_string("ImageId"), jv_string(image),
	    jv_string("InstanceType"), jv_string(o->type),
	    jv_string("MinCount"), jv_number(1),
	    jv_string("MaxCount"), jv_number(1),
	    jv_string("InstanceInitiatedShutdownBehavior"), jv_string("terminate"),
	    jv_string("MetadataOptions"), JV_OBJECT(jv_string("HttpTokens"), jv_string("required"),
	    jv_string("HttpEndpoint"), jv_string("enabled")),
	    jv_string("TagSpecifications"), JV_ARRAY(
	    JV_OBJECT(jv_string("ResourceType"), jv_string("instance"), jv_string("Tags"),
	    jv_copy(tags)),
	    JV_OBJECT(jv_string("ResourceType"), jv_string("volume"), jv_string("Tags"), tags)));
	if (o->key != NULL)
		p = jv_object_set(p, jv_string("KeyName"), jv_string(o->key));
	if (o->subnet != NULL)
		p = jv_object_set(p, jv_string("SubnetId"), jv_string(o->subnet));
	if (jv_array_length(jv_copy(o->groups)) > 0)
		p = jv_object_set(p, jv_string("SecurityGroupIds"), jv_copy(o->groups));
	if (o->profile != NULL)
		p = jv_object_set(p, jv_string("IamInstanceProfile"), JV_OBJECT(
		    jv_string(strncmp(o->profile, "arn:", 4) == 0 ? "Arn" : "Name"),
		    jv_string(o->profile)));
	if (jv_get_kind(o->userdata) == JV_KIND_STRING)
		p = jv_object_set(p, jv_string("UserData"), jv_copy(o->userdata));
	/* The run id is in the tags, so it is in the token. */
	inputs = JV_OBJECT(jv_string("Region"), jv_string(region), jv_string("RunInstances"),
	    jv_copy(p));
	token = client_token(ACTION, inputs);
	jv_free(inputs);
	p = jv_object_set(p, jv_string("ClientToken"), jv_string(token));
	free(token);
	if (dryrun)
		p = jv_object_set(p, jv_string("DryRun"), jv_true());
	return p;
}

/*
 * Reads every image record into r's launches before the first call; a record without an
 * image id, or without a region name, is bad input (exit 3: rec_require()).
 */
static void
read_images(struct run *r, char **paths, const struct opts *o, int dryrun)
{
	struct launch *l = NULL;
	struct jsonl in;
	const char *defregion = ec2_region(r->ec2);
	size_t n = 0;
	jv rec, tokens = jv_object(), token, twin;

	jsonl_open(&in, paths);
	while (jv_is_valid(rec = jsonl_next(&in))) {
		rec = rec_require(&in, rec, "ImageId", defregion);
		l = xreallocarray(l, n + 1, sizeof(*l));
		memset(&l[n], 0, sizeof(l[n]));
		l[n].run = r;
		l[n].image = rec;
		l[n].params = run_params(o, rec_str(rec, "ImageId"), rec_str(rec, "Region"), dryrun);
		l[n].inst = jv_null();
		/* The same image twice in a region is one instance: one call, printed twice. */
		token = jv_object_get(jv_copy(l[n].params), jv_string("ClientToken"));
		twin = jv_object_get(jv_copy(tokens), jv_copy(token));
		if (jv_get_kind(twin) == JV_KIND_NUMBER) {
			l[n].twin = (size_t)jv_number_value(twin);
			jv_free(token);
		} else {
			l[n].twin = n;
			tokens = jv_object_set(tokens, token, jv_number((double)n));
		}
		jv_free(twin);
		n++;
	}
	jsonl_close(&in);
	jv_free(tokens);
	r->l = l;
	r->n = n;
}

/* 1 if name is a field of an image as EC2 describes it, not one a pipeline added. */
static int
image_field(const char *name)
{
	static const struct ec2_shape *image;

	if (image == NULL)
		image = ec2model_member(ec2model_operation("ec2", "DescribeImages")->output, "Images");
	return ec2model_member(image, name) != NULL;
}

/*
 * Borrows image, consumes inst. The instance record: InstanceId and Region first (a cleanup can
 * read them from a line cut short), the instance, then what the pipeline added to the image.
 */
static jv
instance_record(jv image, jv inst)
{
	jv rec;

	rec = JV_OBJECT(jv_string("InstanceId"), jv_object_get(jv_copy(inst),
	    jv_string("InstanceId")), jv_string("Region"), jv_object_get(jv_copy(image),
	    jv_string("Region")));
	jv_object_foreach(inst, key, val)
		rec = jv_object_set(rec, key, val);
	jv_object_foreach(image, key, val) {
		if (!image_field(jv_string_value(key)) && !jv_object_has(jv_copy(rec), jv_copy(key)))
			rec = jv_object_set(rec, key, val);
		else {
			jv_free(key);
			jv_free(val);
		}
	}
	jv_free(inst);
	return rec;
}

/* Prints the launches that are settled, in input order. */
static void
print_ready(struct run *r)
{
	struct launch *l, *t;
	jv rec;

	while (r->printed < r->n) {
		l = &r->l[r->printed];
		t = &r->l[l->twin];
		if (!t->done)
			return;
		if (jv_get_kind(t->inst) == JV_KIND_OBJECT)
			rec = instance_record(l->image, jv_copy(t->inst));
		else
			rec = jv_copy(l->image);
		out_record(rec_result(rec, ACTION, t->status, t->reason, t->reqid));
		r->printed++;
	}
}

/* Borrows inst. 1 if the instance has ended: its ClientToken was used by an earlier run. */
static int
ended(jv inst)
{
	jv state = jv_object_get(jv_copy(inst), jv_string("State"));
	const char *name = jv_get_kind(state) == JV_KIND_OBJECT ? rec_str(state, "Name") : NULL;
	int gone;

	gone = name != NULL && (strcmp(name, "shutting-down") == 0 ||
	    strcmp(name, "terminated") == 0);
	jv_free(state);
	return gone;
}


static void
launched(const struct ec2_result *res, void *arg)
{
	struct launch *l = arg;
	struct run *r = l->run;
	jv insts;

	l->done = 1;
	l->reqid = res->request_id != NULL ? xstrdup(res->request_id) : NULL;
	if (res->code == NULL) {
		insts = jv_object_get(jv_copy(res->out), jv_string("Instances"));
		l->inst = jv_array_get(insts, 0);
		if (jv_get_kind(l->inst) != JV_KIND_OBJECT) {
			jv_free(l->inst);
			l->inst = jv_null();
			l->status = RESULT_FAILED;
			xasprintf(&l->reason, "%s: RunInstances: no instance in the answer",
			    res->region);
		} else if (ended(l->inst)) {
			l->status = RESULT_FAILED;
			xasprintf(&l->reason, "%s: RunInstances: the ClientToken's instance %s has "
			    "already ended: a new test run needs a new run id (--run-id, "
			    "AMICYCLE_RUN_ID)", res->region, rec_str(l->inst, "InstanceId"));
		} else
			l->status = RESULT_DONE;
	} else if (strcmp(res->code, "DryRunOperation") == 0) {
		l->status = RESULT_DRYRUN;
	} else if (ec2_interrupted(res->code)) {
		l->status = RESULT_INTERRUPTED;
		l->reason = xstrdup("interrupted before launch");
		r->status = EXIT_FAIL;
	} else {
		l->status = RESULT_FAILED;
		if (strcmp(res->code, "IdempotentInstanceTerminated") == 0)
			xasprintf(&l->reason, "%s: a new test run needs a new run id (--run-id, "
			    "AMICYCLE_RUN_ID)", res->diag);
		else
			l->reason = xstrdup(res->diag);
	}
	if (l->status == RESULT_FAILED) {
		warnx("%s", l->reason);
		r->status = EXIT_FAIL;
	}
	print_ready(r);
}

/* Launches everything, printing as it goes; returns EXIT_OK or EXIT_FAIL. */
static int
launch_all(struct run *r)
{
	struct launch *l;
	size_t i, left = 0;

	/* -P at a time in input order (the queue of lib/ec2); an interrupt starts no more. */
	for (i = 0; i < r->n; i++) {
		l = &r->l[i];
		if (l->twin == i)
			ec2_submit(r->ec2, rec_str(l->image, "Region"), "RunInstances",
			    jv_copy(l->params), launched, l);
	}
	ec2_run(r->ec2);
	for (i = 0; i < r->n; i++)
		left += r->l[i].twin == i && r->l[i].status == RESULT_INTERRUPTED;
	if (left > 0)
		warnx("interrupted: %zu launch%s not started", left, left == 1 ? "" : "es");
	print_ready(r);
	return r->status;
}

static void
run_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		jv_free(r->l[i].image);
		jv_free(r->l[i].params);
		jv_free(r->l[i].inst);
		free(r->l[i].reason);
		free(r->l[i].reqid);
	}
	free(r->l);
	ec2_free(r->ec2);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		AWSOPT_LONGOPTS,
		{ "help",		no_argument,		NULL,	'h' },
		{ "iam-profile",	required_argument,	NULL,	OPT_IAM_PROFILE },
		{ "instance-type",	required_argument,	NULL,	OPT_INSTANCE_TYPE },
		{ "key-name",		required_argument,	NULL,	OPT_KEY_NAME },
		{ "run-id",		required_argument,	NULL,	OPT_RUN_ID },
		{ "security-group",	required_argument,	NULL,	OPT_SECURITY_GROUP },
		{ "subnet",		required_argument,	NULL,	OPT_SUBNET },
		{ "user-data",		required_argument,	NULL,	OPT_USER_DATA },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		{ NULL,			0,			NULL,	0 }
	};
	struct awsopt ao;
	struct opts o;
	struct run r;
	const char *runid = NULL, *userdata = NULL;
	int ch, status;

	out_init();
	awsopt_init(&ao);
	memset(&o, 0, sizeof(o));
	o.groups = jv_array();
	o.tags = jv_array();
	while ((ch = getopt_cli(argc, argv, "hP:t:", longopts)) != -1) {
		switch (ch) {
		case OPT_SECURITY_GROUP:
			if (strncmp(optarg, "sg-", 3) != 0)
				usage_error("--security-group '%s': not a group id (sg-...)",
				    optarg);
			o.groups = jv_array_append(o.groups, jv_string(optarg));
			break;
		case 'h':
			usage();
		case OPT_IAM_PROFILE:
			o.profile = optarg;
			break;
		case OPT_INSTANCE_TYPE:
			o.type = optarg;
			break;
		case OPT_KEY_NAME:
			o.key = optarg;
			break;
		case OPT_RUN_ID:
			runid = optarg;
			break;
		case OPT_SUBNET:
			o.subnet = optarg;
			break;
		case 't':
			o.tags = add_tag(o.tags, parse_tag(optarg));
			break;
		case OPT_USER_DATA:
			userdata = optarg;
			break;
		case OPT_VERSION:
			print_version();
		default:
			if (!awsopt_parse(&ao, ch, optarg))
				usage_error(NULL);
		}
	}
	argv += optind;
	if (o.type == NULL) {
		usage_error("--instance-type is required");
	}
	if (runid != NULL && *runid == '\0')
		usage_error("--run-id: empty");
	o.userdata = userdata != NULL ? read_user_data(userdata) : jv_null();
	o.runid = run_id(runid);

	memset(&r, 0, sizeof(r));
	r.ec2 = awsopt_client(&ao);
	read_images(&r, argv, &o, ao.dryrun);
	intr_catch();
	status = launch_all(&r);

	run_free(&r);
	jv_free(o.groups);
	jv_free(o.tags);
	jv_free(o.userdata);
	free(o.runid);
	ch = out_close();
	intr_resend();
	return status != EXIT_OK ? status : ch;
}
