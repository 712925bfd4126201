/*
 * ssh-probe: test freshly launched instances from outside, over SSH. It reads instance records
 * (from ec2-launch, ec2-wait or ec2-describe instances), waits for each instance's SSH server,
 * verifies its host key (against a known_hosts file, against the keys cloud-init printed on the
 * instance's console, or on first use when asked to: a key that does not match is never
 * accepted), logs in with a key, runs each check in a channel of its own with a timeout, and
 * prints one JSON line per result, or TAP, and JUnit XML on the side for CI. Instances are probed
 * concurrently by a bounded pool of threads; only the main thread prints. All input is read and
 * checked before the first connection. It exits 0 only if every check passed on every instance.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jv.h>

#include "awsopt.h"
#include "clock.h"
#include "ec2.h"
#include "hostkey.h"
#include "interrupt.h"
#include "jsonl.h"
#include "out.h"
#include "progress.h"
#include "record.h"
#include "runq.h"
#include "report.h"
#include "ssh.h"
#include "strmap.h"
#include "timefmt.h"
#include "util.h"

#define TIMEOUT_DEFAULT		"5m"
#define COMMAND_TIMEOUT_DEFAULT	"60s"
#define MAX_OUTPUT_DEFAULT	65536
#define PARALLEL_DEFAULT	8
#define PARALLEL_MAX		256
/* Connection attempts back off from BACKOFF_FIRST_MS, doubling, to BACKOFF_MAX_MS apart. */
#define BACKOFF_FIRST_MS	250
#define BACKOFF_MAX_MS		5000
/* One attempt may not take all of --timeout: a stalled handshake is given up and tried again. */
#define ATTEMPT_MS		30000
/* A login that starts just before the deadline still gets this long. */
#define LOGIN_MS		30000
/* EC2 updates console output every few minutes at best: poll it gently. */
#define CONSOLE_FIRST_MS	2000
#define CONSOLE_MAX_MS		15000
/* Seconds: a year is more than any wait or check needs, and far from overflowing. */
#define DURATION_MAX		(366LL * 86400)
/* Lines of a failed check's output that --tap shows as comments. */
#define TAP_LINES		10

enum {
	OPT_ACCEPT_NEW = OPT_FIRST,
	OPT_CHECKS,
	OPT_COMMAND_TIMEOUT,
	OPT_CONSOLE,
	OPT_JUNIT,
	OPT_KNOWN_HOSTS,
	OPT_MAX_OUTPUT,
	OPT_PORT,
	OPT_PRIVATE,
	OPT_TAP,
	OPT_TIMEOUT,
	OPT_VERSION
};

enum { KEYS_CONSOLE, KEYS_FILE, KEYS_FIRST_USE };

/* Where an instance is; read by the progress line. */
enum { ST_QUEUED, ST_CONSOLE, ST_WAITING, ST_CHECKING, ST_DONE };

struct check {
	char		*name;
	char		*run;
	int		 expect;	/* ExpectExit */
	char		*pattern;	/* ExpectStdout; NULL for none */
	regex_t		 re;
	char		*timeout;	/* as written, for messages */
	int64_t		 timeout_ms;
};

/* One result: the "ssh" step (check NULL) or a check. */
struct result {
	const struct check	*check;
	int			 ran;
	struct ssh_run		 run;
	int64_t			 ms;
	int			 passed;
	char			*reason;	/* NULL when passed */
};

struct target {
	struct runq_task task;			/* its place in the queue of probes */
	pthread_t	 thread;		/* the probe's, once started */
	int		 started;		/* main thread only */
	char		*id;
	char		*addr;
	char		*region;
	char		 fp[HOSTKEY_FP_SIZE];	/* the key the server presented; "" before */
	struct result	*res;			/* [0] is the ssh step, then one per check */
	int		 state;			/* under lock */
	int		 emitted;		/* main thread only */
};

static struct {
	const char	*user;
	const char	*keyfile;
	const char	*knownhosts;
	const char	*junit;
	const char	*timeout;
	int		 mode;
	int		 port;
	int		 private;
	int		 tap;
	int		 parallel;
	int64_t		 timeout_ms;
	size_t		 maxout;
} opt;

static struct check	*checks;
static size_t		 nchecks;
static struct target	*targets;
static size_t		 ntargets;
static struct knownhosts *kh;
static struct ec2	*ec2;		/* --console */

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;	/* states */
static pthread_cond_t	 changed = PTHREAD_COND_INITIALIZER;

static void __attribute__((noreturn))
usage(void)
{
	print_help(
	    "usage: ssh-probe -u USER -i KEYFILE [-c COMMAND]... [--checks FILE]...\n"
	    "                 [--known-hosts FILE [--accept-new] | --accept-new | --console]\n"
	    "                 [--region REGION] [--endpoint-url URL] [--debug] [--private]\n"
	    "                 [--port PORT] [--timeout DURATION]\n"
	    "                 [--command-timeout DURATION] [--max-output BYTES] [-P N]\n"
	    "                 [--tap] [--junit FILE] [--profile NAME]\n"
	    "                 [--role-arn ARN [--external-id ID] [--role-session-name NAME]]\n"
	    "                 [FILE ...]\n"
	    "Check fresh instances over SSH, with their host keys verified.\n"
	    "\n"
	    "  -u, --user USER          the account to log in as\n"
	    "  -i, --identity KEYFILE   the private key to log in with\n"
	    "  -c, --command COMMAND    a check: COMMAND exits 0 (repeatable)\n"
	    "      --checks FILE        checks as JSON lines (repeatable)\n"
	    "      --known-hosts FILE   verify host keys against FILE\n"
	    "      --accept-new         trust a host key on first use\n"
	    "      --console            verify host keys against the console output\n"
	    "      --region REGION      with --console: the region of records without Region\n"
	    "      --endpoint-url URL   with --console: send EC2 requests to URL\n"
	    "      --debug              with --console: one line on stderr per HTTP request\n"
	    "      --profile NAME       with --console: the credentials of profile NAME\n"
	    "      --role-arn ARN       with --console: act as role ARN (STS AssumeRole)\n"
	    "      --external-id ID     with --role-arn: the ExternalId its trust asks for\n"
	    "      --role-session-name NAME  with --role-arn: the session's name\n"
	    "      --private            connect to the private IP address\n"
	    "      --port PORT          connect to PORT (default 22)\n"
	    "      --timeout DURATION   how long to wait for each SSH server\n"
	    "      --command-timeout DURATION\n"
	    "                           the timeout of checks that set none (default 60s)\n"
	    "      --max-output BYTES   keep at most BYTES of each check's output\n"
	    "  -P, --parallel N         probe at most N instances at once (default 8)\n"
	    "      --tap                print TAP instead of JSON lines\n"
	    "      --junit FILE         also write the results to FILE as JUnit XML\n");
}

/* A warning from any thread, clear of the progress line. */
static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	progress_vwarnx(fmt, ap);
	va_end(ap);
}

static void
set_state(struct target *t, int state)
{
	pthread_mutex_lock(&lock);
	t->state = state;
	if (state == ST_DONE)
		pthread_cond_signal(&changed);
	pthread_mutex_unlock(&lock);
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* "ADDR:PORT", "[ADDR]:PORT" for IPv6; the caller frees it. */
static char *
hostport(const char *addr, int port)
{
	char *s;

	xasprintf(&s, strchr(addr, ':') != NULL ? "[%s]:%d" : "%s:%d", addr, port);
	return s;
}

/* Consumes out, a GetConsoleOutput response. The host keys cloud-init printed, if it has yet. */
static int
console_block(jv out, struct hostkeys *set)
{
	char *text;
	size_t len;
	int found = CONSOLE_NONE;

	out = jv_object_get(out, jv_string("Output"));
	if (jv_get_kind(out) == JV_KIND_STRING) {
		len = (size_t)jv_string_length_bytes(jv_copy(out));
		found = console_hostkeys(jv_string_value(out), len, set);
		/* The client decodes Output as the AWS CLI does; take EC2's base64 as well. */
		if (found == CONSOLE_NONE &&
		    (text = base64_decode(jv_string_value(out), len, &len)) != NULL) {
			found = console_hostkeys(text, len, set);
			free(text);
		}
	}
	jv_free(out);
	return found;
}

/*
 * The keys the instance's console output lists, polled until cloud-init has printed them or the
 * deadline passes. All of EC2 is here; the client is not thread-safe, so calls take turns.
 */
static int
console_keys(struct target *t, int64_t deadline, struct hostkeys *set, char *err, size_t errlen)
{
	static pthread_mutex_t ec2lock = PTHREAD_MUTEX_INITIALIZER;
	const char *code;
	char *why = NULL;
	int64_t wait, now;
	int unknown;
	jv out, msg;

	for (wait = CONSOLE_FIRST_MS;; wait = min64(wait * 2, CONSOLE_MAX_MS)) {
		pthread_mutex_lock(&ec2lock);
		out = ec2_call(ec2, t->region, "GetConsoleOutput", jv_object_set(jv_object_set(
		    jv_object(), jv_string("InstanceId"), jv_string(t->id)), jv_string("Latest"),
		    jv_true()), &code);
		/* A fresh instance may be unknown to the API for a moment. */
		unknown = code != NULL && strcmp(code, "InvalidInstanceID.NotFound") == 0;
		pthread_mutex_unlock(&ec2lock);
		free(why);
		why = NULL;
		if (jv_is_valid(out)) {
			if (console_block(out, set) != CONSOLE_NONE)
				return 0;
		} else {
			msg = jv_invalid_get_msg(out);
			why = xstrdup(jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) :
			    "GetConsoleOutput failed");
			jv_free(msg);
			if (!unknown)
				break;
		}
		if ((now = clock_ms()) >= deadline || intr_signal())
			break;
		clock_sleep_ms(min64(wait, deadline - now));
	}
	if (intr_signal() && why == NULL)
		snprintf(err, errlen, "interrupted while waiting for the console's host keys");
	else if (why != NULL)
		snprintf(err, errlen, "console output: %s", why);
	else
		snprintf(err, errlen, "no SSH host key block in the console output after %s",
		    opt.timeout);
	free(why);
	return -1;
}

/* The keys the server must present one of, before connecting; none for trust on first use. */
static int
expected_keys(struct target *t, int64_t deadline, struct hostkeys *set, char *err, size_t errlen)
{
	if (opt.mode == KEYS_CONSOLE) {
		set_state(t, ST_CONSOLE);
		return console_keys(t, deadline, set, err, errlen);
	}
	if (kh != NULL)
		knownhosts_lookup(kh, t->addr, opt.port, set);
	return 0;
}

/* Waits for SSH: connects with back-off until a handshake succeeds or the deadline passes. */
static struct ssh *
reach(struct target *t, const char *methods, int64_t deadline, char *err, size_t errlen)
{
	struct ssh *s;
	char *where, *last;
	int64_t wait, now;
	int why;

	set_state(t, ST_WAITING);
	wait = BACKOFF_FIRST_MS;
	for (;;) {
		s = ssh_connect(t->addr, opt.port, methods, min64(deadline, clock_ms() + ATTEMPT_MS),
		    &why, err, errlen);
		if (s != NULL)
			return s;
		/* Learn the key the server does have, to show it in the mismatch. */
		if (why == SSH_NOKEX && methods != NULL) {
			methods = NULL;
			continue;
		}
		if (why != SSH_RETRY)
			return NULL;
		if ((now = clock_ms()) >= deadline) {
			last = xstrdup(err);
			where = hostport(t->addr, opt.port);
			snprintf(err, errlen, "no SSH on %s after %s: %s", where, opt.timeout, last);
			free(where);
			free(last);
			return NULL;
		}
		clock_sleep_ms(min64(wait, deadline - now));
		wait = min64(wait * 2, BACKOFF_MAX_MS);
		/* Interrupted, a probe in flight stops waiting; checks already running finish. */
		if (intr_signal()) {
			where = hostport(t->addr, opt.port);
			snprintf(err, errlen, "interrupted while waiting for SSH on %s", where);
			free(where);
			return NULL;
		}
	}
}

/* Accepts the server's key or says why not, with both fingerprints when they differ. */
static int
verify(struct target *t, const struct hostkey *key, const struct hostkeys *expect, char *err,
    size_t errlen)
{
	struct hostkeys known = { 0 };
	char *want, *where;
	int rc = -1;

	where = hostport(t->addr, opt.port);
	if (opt.mode == KEYS_CONSOLE) {
		if (hostkeys_match(expect, key))
			rc = 0;
		else {
			want = hostkeys_describe(expect);
			snprintf(err, errlen, "host key mismatch: %s presented %s %s; the console lists %s",
			    where, hostkey_label(key), key->fp, want);
			free(want);
		}
	} else if (kh == NULL) {
		say("%s: %s: accepted %s key %s on first use (--accept-new)", t->id, where,
		    hostkey_label(key), key->fp);
		rc = 0;
	} else {
		switch (knownhosts_check(kh, t->addr, opt.port, key)) {
		case KNOWNHOSTS_MATCH:
			rc = 0;
			break;
		case KNOWNHOSTS_REVOKED:
			snprintf(err, errlen, "host key revoked: %s presented %s %s, revoked in %s",
			    where, hostkey_label(key), key->fp, opt.knownhosts);
			break;
		case KNOWNHOSTS_MISMATCH:
			knownhosts_lookup(kh, t->addr, opt.port, &known);
			want = hostkeys_describe(&known);
			snprintf(err, errlen, "host key mismatch: %s presented %s %s; %s has %s",
			    where, hostkey_label(key), key->fp, opt.knownhosts, want);
			free(want);
			hostkeys_free(&known);
			break;
		default:
			if (opt.mode != KEYS_FIRST_USE) {
				snprintf(err, errlen, "no host key for %s in %s (it presented %s %s)",
				    where, opt.knownhosts, hostkey_label(key), key->fp);
				break;
			}
			if ((rc = knownhosts_add(kh, t->addr, opt.port, key, err, errlen)) == 0)
				say("%s: %s: accepted %s key %s on first use, added to %s", t->id, where,
				    hostkey_label(key), key->fp, opt.knownhosts);
			break;
		}
	}
	free(where);
	return rc;
}

/* Marks r failed, for the reason given. */
static void __attribute__((format(printf, 2, 3)))
fail(struct result *r, const char *fmt, ...)
{
	va_list ap;

	r->passed = 0;
	free(r->reason);
	va_start(ap, fmt);
	if (vasprintf(&r->reason, fmt, ap) < 0)
		err(EXIT_FAIL, "vasprintf");
	va_end(ap);
}

/* Judges a check that ran. */
static void
judge(struct result *r)
{
	const struct check *c = r->check;
	const struct ssh_run *run = &r->run;

	r->passed = 1;
	if (run->error[0] != '\0')
		fail(r, "%s", run->error);
	else if (run->timedout)
		fail(r, "timed out after %s", c->timeout);
	else if (run->signal[0] != '\0')
		fail(r, "killed by signal %s", run->signal);
	else if (run->status != c->expect)
		fail(r, "exit status %d, expected %d", run->status, c->expect);
	else if (c->pattern != NULL && regexec(&c->re, run->out, 0, NULL, 0) != 0)
		fail(r, "stdout does not match \"%s\"", c->pattern);
}

/* Everything for one instance; runs in a worker thread and touches only t. */
static void
probe(struct target *t)
{
	struct hostkeys expect = { 0 };
	struct result *r;
	struct ssh *s = NULL;
	char err[1024], *methods = NULL;
	int64_t start, deadline;
	size_t i;

	start = clock_ms();
	deadline = start + opt.timeout_ms;
	err[0] = '\0';
	r = &t->res[0];
	if (expected_keys(t, deadline, &expect, err, sizeof(err)) == 0) {
		methods = hostkeys_methods(&expect);
		s = reach(t, methods, deadline, err, sizeof(err));
	}
	if (s != NULL) {
		snprintf(t->fp, sizeof(t->fp), "%s", ssh_hostkey(s)->fp);
		if (verify(t, ssh_hostkey(s), &expect, err, sizeof(err)) != 0 ||
		    ssh_login(s, opt.user, opt.keyfile,
		    deadline > clock_ms() + LOGIN_MS ? deadline : clock_ms() + LOGIN_MS,
		    err, sizeof(err)) != 0) {
			ssh_close(s);
			s = NULL;
		}
	}
	r->ms = clock_ms() - start;
	r->passed = s != NULL;
	if (s == NULL) {
		fail(r, "%s", err);
		say("%s: %s", t->id, err);
	}
	hostkeys_free(&expect);
	free(methods);

	set_state(t, ST_CHECKING);
	for (i = 0; i < nchecks; i++) {
		r = &t->res[1 + i];
		if (s == NULL) {
			fail(r, "not run: ssh failed");
			continue;
		}
		start = clock_ms();
		ssh_run(s, r->check->run, opt.maxout, start + r->check->timeout_ms, &r->run);
		r->ms = clock_ms() - start;
		r->ran = 1;
		judge(r);
	}
	ssh_close(s);
}

static void *
probe_thread(void *arg)
{
	struct target *t = arg;

	probe(t);
	set_state(t, ST_DONE);
	return NULL;
}

/* The queue starts a probe: on a thread of its own, since libssh2 blocks. */
static void
probe_start(struct runq_task *task)
{
	struct target *t = (struct target *)task;
	int rc;

	t->started = 1;
	if ((rc = pthread_create(&t->thread, NULL, probe_thread, t)) != 0)
		errx(EXIT_FAIL, "pthread_create: %s", strerror(rc));
}

/* An interrupt came before the probe started: each of its results says so. */
static void
probe_interrupted(struct runq_task *task)
{
	struct target *t = (struct target *)task;
	size_t i;

	for (i = 0; i <= nchecks; i++)
		fail(&t->res[i], "interrupted before the probe started");
	set_state(t, ST_DONE);
}

/* Borrows rec. The string at key, or NULL when absent; anything but a non-empty string is bad. */
static const char *
field(struct jsonl *in, jv rec, const char *key, int required, const char *what)
{
	jv v;
	const char *s;

	v = jv_object_get(jv_copy(rec), jv_string(key));
	if (jv_get_kind(v) == JV_KIND_NULL || !jv_is_valid(v)) {
		jv_free(v);
		if (required)
			jsonl_die(in, "no %s%s", key, what);
		return NULL;
	}
	if (jv_get_kind(v) != JV_KIND_STRING || jv_string_length_bytes(jv_copy(v)) == 0)
		jsonl_die(in, "%s is not a non-empty string", key);
	/* rec holds the string, so it outlives v. */
	s = jv_string_value(v);
	jv_free(v);
	return s;
}

static void
read_targets(char **paths)
{
	struct jsonl in;
	struct target *t;
	const char *addrkey, *region;
	size_t i;
	jv rec;

	addrkey = opt.private ? "PrivateIpAddress" : "PublicIpAddress";
	jsonl_open(&in, paths);
	while (jv_is_valid(rec = jsonl_next(&in))) {
		targets = xreallocarray(targets, ntargets + 1, sizeof(*targets));
		t = &targets[ntargets++];
		memset(t, 0, sizeof(*t));
		/*
		 * Its id, and its Region when it has one, are checked as every filter checks them;
		 * --console asks EC2 for the instance, so it needs a region.
		 */
		if (ec2 != NULL || field(&in, rec, "Region", 0, "") != NULL)
			rec = rec_require(&in, rec, "InstanceId", ec2 != NULL ? ec2_region(ec2) : NULL);
		t->id = xstrdup(field(&in, rec, "InstanceId", 1, ""));
		rec = rec_require_id(&in, rec, "InstanceId");
		t->addr = xstrdup(field(&in, rec, addrkey, 1, opt.private ? "" :
		    " (an instance without a public address needs --private)"));
		if ((region = field(&in, rec, "Region", 0, "")) != NULL)
			t->region = xstrdup(region);
		t->res = xcalloc(1 + nchecks, sizeof(*t->res));
		for (i = 0; i < nchecks; i++)
			t->res[1 + i].check = &checks[i];
		jv_free(rec);
	}
	jsonl_close(&in);
}

static int64_t
duration_ms(const char *s, const char *what)
{
	int64_t sec;

	if (duration_parse(s, &sec) != 0 || sec <= 0 || sec > DURATION_MAX)
		usage_error("%s: bad duration '%s' (expected e.g. 30s, 5m, 1h)", what, s);
	return sec * 1000;
}

static struct check *
newcheck(const char *name, const char *run, const char *timeout)
{
	struct check *c;

	checks = xreallocarray(checks, nchecks + 1, sizeof(*checks));
	c = &checks[nchecks++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->run = xstrdup(run);
	c->timeout = xstrdup(timeout);
	return c;
}

/* One check a line: {"Name","Run","ExpectExit":0,"ExpectStdout":"REGEX","Timeout":"30s"}. */
static void
read_checks(char **paths, const char *deftimeout)
{
	static const char *const keys[] = { "Name", "Run", "ExpectExit", "ExpectStdout", "Timeout", NULL };
	struct jsonl in;
	struct check *c;
	const char *name, *run, *timeout, *pattern;
	char msg[256];
	double d;
	jv rec, v;
	int i, n, rc;
	int64_t sec;

	jsonl_open(&in, paths);
	while (jv_is_valid(rec = jsonl_next(&in))) {
		v = jv_keys(jv_copy(rec));
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			jv k = jv_array_get(jv_copy(v), i);

			if (strmap_index(keys, jv_string_value(k)) == -1)
				jsonl_die(&in, "unknown key \"%s\" (a check has Name, Run, ExpectExit, "
				    "ExpectStdout, Timeout)", jv_string_value(k));
			jv_free(k);
		}
		jv_free(v);
		run = field(&in, rec, "Run", 1, " (the command to run)");
		name = field(&in, rec, "Name", 0, "");
		timeout = field(&in, rec, "Timeout", 0, "");
		pattern = field(&in, rec, "ExpectStdout", 0, "");
		if (timeout == NULL)
			timeout = deftimeout;
		if (duration_parse(timeout, &sec) != 0 || sec <= 0 || sec > DURATION_MAX)
			jsonl_die(&in, "Timeout: bad duration \"%s\" (expected e.g. 30s, 5m)", timeout);
		c = newcheck(name != NULL ? name : run, run, timeout);
		c->timeout_ms = sec * 1000;
		v = jv_object_get(jv_copy(rec), jv_string("ExpectExit"));
		if (jv_get_kind(v) == JV_KIND_NUMBER) {
			d = jv_number_value(v);
			if (d != (int)d || d < 0 || d > 255)
				jsonl_die(&in, "ExpectExit: %g is not an exit status (0..255)", d);
			c->expect = (int)d;
		} else if (jv_get_kind(v) != JV_KIND_NULL && jv_is_valid(v))
			jsonl_die(&in, "ExpectExit is not a number");
		jv_free(v);
		if (pattern != NULL) {
			c->pattern = xstrdup(pattern);
			if ((rc = regcomp(&c->re, pattern, REG_EXTENDED | REG_NOSUB | REG_NEWLINE)) != 0) {
				regerror(rc, &c->re, msg, sizeof(msg));
				jsonl_die(&in, "ExpectStdout: bad regular expression \"%s\": %s", pattern,
				    msg);
			}
		}
		jv_free(rec);
	}
	jsonl_close(&in);
}

/* Consumes v. A JSON string's bytes, NULs and all. */
static jv
setstr(jv rec, const char *key, const char *s, size_t len)
{
	return jv_object_set(rec, jv_string(key), jv_string_sized(s, (int)len));
}

/* A result as its JSON record (new reference). */
static jv
record(const struct target *t, const struct result *r)
{
	jv rec;
	char *where;

	rec = jv_object_set(jv_object(), jv_string("InstanceId"), jv_string(t->id));
	if (r->check == NULL) {
		rec = jv_object_set(rec, jv_string("Check"), jv_string("ssh"));
		where = hostport(t->addr, opt.port);
		rec = jv_object_set(rec, jv_string("Address"), jv_string(where));
		free(where);
		if (t->fp[0] != '\0')
			rec = jv_object_set(rec, jv_string("HostKey"), jv_string(t->fp));
	} else {
		rec = jv_object_set(rec, jv_string("Check"), jv_string(r->check->name));
		rec = jv_object_set(rec, jv_string("ExitStatus"), r->run.status >= 0 && r->ran ?
		    jv_number(r->run.status) : jv_null());
		if (r->run.signal[0] != '\0')
			rec = jv_object_set(rec, jv_string("ExitSignal"), jv_string(r->run.signal));
		rec = setstr(rec, "Stdout", r->ran ? r->run.out : "", r->ran ? r->run.outlen : 0);
		if (r->run.outcut)
			rec = jv_object_set(rec, jv_string("StdoutTruncated"), jv_true());
		rec = setstr(rec, "Stderr", r->ran ? r->run.err : "", r->ran ? r->run.errlen : 0);
		if (r->run.errcut)
			rec = jv_object_set(rec, jv_string("StderrTruncated"), jv_true());
	}
	rec = jv_object_set(rec, jv_string("DurationMs"), jv_number((double)r->ms));
	rec = jv_object_set(rec, jv_string("Passed"), jv_bool(r->passed));
	if (r->reason != NULL)
		rec = jv_object_set(rec, jv_string("Reason"), jv_string(r->reason));
	return rec;
}

/* The reason a result failed and the start of its output, for --tap. The caller frees it. */
static char *
diagnosis(const struct result *r)
{
	static const char *const names[] = { "Stdout", "Stderr" };
	const char *p, *nl, *streams[2];
	char *diag, *s;
	int i, n;

	if (r->passed)
		return NULL;
	diag = xstrdup(r->reason);
	streams[0] = r->ran ? r->run.out : "";
	streams[1] = r->ran ? r->run.err : "";
	for (i = 0; i < 2; i++) {
		for (n = 0, p = streams[i]; *p != '\0'; n++, p = *nl != '\0' ? nl + 1 : nl) {
			nl = p + strcspn(p, "\n");
			if (n == TAP_LINES)
				xasprintf(&s, "%s\n%s: ...", diag, names[i]);
			else
				xasprintf(&s, "%s\n%s: %.*s", diag, names[i], (int)(nl - p), p);
			free(diag);
			diag = s;
			if (n == TAP_LINES)
				break;
		}
	}
	return diag;
}

/* A result as a JUnit test case (new reference). */
static jv
junit_case(const struct target *t, const struct result *r)
{
	jv c;

	c = jv_object_set(jv_object(), jv_string("classname"), jv_string(t->id));
	c = jv_object_set(c, jv_string("name"), jv_string(r->check ? r->check->name : "ssh"));
	c = jv_object_set(c, jv_string("time"), jv_number((double)r->ms / 1000));
	if (!r->passed)
		c = jv_object_set(c, jv_string("failure"), jv_string(r->reason));
	if (r->ran) {
		c = setstr(c, "stdout", r->run.out, r->run.outlen);
		c = setstr(c, "stderr", r->run.err, r->run.errlen);
	}
	return c;
}

/* Prints an instance's results; returns its JUnit test suite (new reference). */
static jv
emit(struct target *t, size_t *n, int *status)
{
	const struct result *r;
	jv cases;
	char *desc, *diag, *where;
	size_t i;

	cases = jv_array();
	progress_hide();
	for (i = 0; i <= nchecks; i++) {
		r = &t->res[i];
		if (!r->passed)
			*status = EXIT_FAIL;
		if (opt.tap) {
			xasprintf(&desc, "%s: %s", t->id, r->check ? r->check->name : "ssh");
			diag = diagnosis(r);
			tap_test(++*n, r->passed, desc, diag);
			free(diag);
			free(desc);
		} else
			out_record(record(t, r));
		if (opt.junit != NULL)
			cases = jv_array_append(cases, junit_case(t, r));
	}
	t->emitted = 1;
	where = hostport(t->addr, opt.port);
	cases = jv_object_set(jv_object_set(jv_object_set(jv_object(), jv_string("name"),
	    jv_string(t->id)), jv_string("hostname"), jv_string(where)), jv_string("cases"), cases);
	free(where);
	return cases;
}

/* The instances by state, on the progress line; the first not done is named. */
static void
show_progress(struct progress *p)
{
	static const char *const names[] = { "queued", "waiting for the console",
	    "waiting for SSH", "checking", "done" };
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < ntargets; i++)
		progress_count(p, names[targets[i].state], targets[i].region, targets[i].id);
	pthread_mutex_unlock(&lock);
	progress_show(p);
}

/* An instance done and not yet printed; ntargets if none. Called with the lock held. */
static size_t
finished(void)
{
	size_t i;

	for (i = 0; i < ntargets; i++)
		if (targets[i].state == ST_DONE && !targets[i].emitted)
			break;
	return i;
}

/*
 * Runs the probes through the queue, -P at a time in input order, each on a thread, and prints
 * each instance's results as it finishes. Interrupted, no more probes start (those queued are
 * printed as interrupted) and those running finish.
 */
static int
run_all(jv *suites)
{
	struct runq *q;
	struct progress p;
	struct timespec ts;
	size_t i, left, n = 0;
	int status = EXIT_OK;

	progress_begin(&p, "done", ntargets, opt.timeout_ms);
	if (opt.tap)
		tap_plan(ntargets * (1 + nchecks));
	q = runq_new(opt.parallel);
	for (i = 0; i < ntargets; i++) {
		targets[i].task.start = probe_start;
		targets[i].task.interrupted = probe_interrupted;
		runq_add(q, &targets[i].task);
	}
	for (left = ntargets; left > 0;) {
		/* After a signal, this hands the queued probes back at once. */
		runq_pump(q);
		show_progress(&p);
		progress_tick(&p);
		pthread_mutex_lock(&lock);
		if ((i = finished()) == ntargets) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec++;
			pthread_cond_timedwait(&changed, &lock, &ts);
			i = finished();
		}
		pthread_mutex_unlock(&lock);
		if (i < ntargets) {
			if (targets[i].started) {
				pthread_join(targets[i].thread, NULL);
				runq_end(q);
			}
			*suites = jv_array_append(*suites, emit(&targets[i], &n, &status));
			left--;
		}
	}
	runq_free(q);
	show_progress(&p);
	progress_end(&p);
	return status;
}

/* Frees what main() made, so that leak checkers see only real leaks. */
static void
cleanup(void)
{
	size_t i, j;

	knownhosts_free(kh);
	if (ec2 != NULL)
		ec2_free(ec2);
	ssh_exit();
	for (i = 0; i < ntargets; i++) {
		for (j = 0; j <= nchecks; j++) {
			ssh_run_free(&targets[i].res[j].run);
			free(targets[i].res[j].reason);
		}
		free(targets[i].res);
		free(targets[i].id);
		free(targets[i].addr);
		free(targets[i].region);
	}
	free(targets);
	for (i = 0; i < nchecks; i++) {
		if (checks[i].pattern != NULL)
			regfree(&checks[i].re);
		free(checks[i].pattern);
		free(checks[i].name);
		free(checks[i].run);
		free(checks[i].timeout);
	}
	free(checks);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "accept-new",		no_argument,		NULL,	OPT_ACCEPT_NEW },
		{ "checks",		required_argument,	NULL,	OPT_CHECKS },
		{ "command",		required_argument,	NULL,	'c' },
		{ "command-timeout",	required_argument,	NULL,	OPT_COMMAND_TIMEOUT },
		{ "console",		no_argument,		NULL,	OPT_CONSOLE },
		{ "debug",		no_argument,		NULL,	AWSOPT_DEBUG },
		{ "endpoint-url",	required_argument,	NULL,	AWSOPT_ENDPOINT },
		{ "help",		no_argument,		NULL,	'h' },
		{ "identity",		required_argument,	NULL,	'i' },
		{ "junit",		required_argument,	NULL,	OPT_JUNIT },
		{ "known-hosts",	required_argument,	NULL,	OPT_KNOWN_HOSTS },
		{ "max-output",		required_argument,	NULL,	OPT_MAX_OUTPUT },
		{ "parallel",		required_argument,	NULL,	'P' },
		{ "port",		required_argument,	NULL,	OPT_PORT },
		{ "private",		no_argument,		NULL,	OPT_PRIVATE },
		{ "region",		required_argument,	NULL,	AWSOPT_REGION },
		{ "tap",		no_argument,		NULL,	OPT_TAP },
		{ "timeout",		required_argument,	NULL,	OPT_TIMEOUT },
		{ "user",		required_argument,	NULL,	'u' },
		{ "version",		no_argument,		NULL,	OPT_VERSION },
		AWSOPT_CREDS_LONGOPTS,
		{ NULL,			0,			NULL,	0 }
	};
	struct awsopt aws;
	const char *command_timeout = COMMAND_TIMEOUT_DEFAULT;
	char **commands, **checkfiles, errbuf[512];
	size_t ncommands = 0, ncheckfiles = 0, i;
	FILE *junit = NULL;
	jv suites;
	int ch, console = 0, acceptnew = 0, status;

	out_init();
	awsopt_init(&aws);
	opt.timeout = TIMEOUT_DEFAULT;
	opt.port = 22;
	opt.parallel = PARALLEL_DEFAULT;
	opt.maxout = MAX_OUTPUT_DEFAULT;
	commands = xcalloc((size_t)argc, sizeof(*commands));
	checkfiles = xcalloc((size_t)argc, sizeof(*checkfiles));
	while ((ch = getopt_cli(argc, argv, "c:hi:P:u:", longopts)) != -1) {
		switch (ch) {
		case OPT_ACCEPT_NEW:
			acceptnew = 1;
			break;
		case OPT_CHECKS:
			checkfiles[ncheckfiles++] = optarg;
			break;
		case 'c':
			commands[ncommands++] = optarg;
			break;
		case OPT_COMMAND_TIMEOUT:
			command_timeout = optarg;
			break;
		case OPT_CONSOLE:
			console = 1;
			break;
		case AWSOPT_DEBUG:
		case AWSOPT_ENDPOINT:
		case AWSOPT_REGION:
		case AWSOPT_PROFILE:
		case AWSOPT_ROLE_ARN:
		case AWSOPT_EXTERNAL_ID:
		case AWSOPT_ROLE_SESSION:
			awsopt_parse(&aws, ch, optarg);
			break;
		case 'h':
			usage();
		case 'i':
			opt.keyfile = optarg;
			break;
		case OPT_JUNIT:
			opt.junit = optarg;
			break;
		case OPT_KNOWN_HOSTS:
			opt.knownhosts = optarg;
			break;
		case OPT_MAX_OUTPUT:
			opt.maxout = (size_t)parse_num(optarg, 0, 64 << 20, "--max-output");
			break;
		case 'P':
			opt.parallel = (int)parse_num(optarg, 1, PARALLEL_MAX, "-P");
			break;
		case OPT_PORT:
			opt.port = (int)parse_num(optarg, 1, 65535, "--port");
			break;
		case OPT_PRIVATE:
			opt.private = 1;
			break;
		case OPT_TAP:
			opt.tap = 1;
			break;
		case OPT_TIMEOUT:
			opt.timeout = optarg;
			break;
		case 'u':
			opt.user = optarg;
			break;
		case OPT_VERSION:
			print_version();
		default:
			usage_error(NULL);
		}
	}
	argv += optind;
	if (console && (opt.knownhosts || acceptnew))
		usage_error("--console verifies keys on its own: no --known-hosts or --accept-new");
	if (opt.user == NULL || opt.keyfile == NULL)
		usage_error("-u USER and -i KEYFILE are required");
	opt.timeout_ms = duration_ms(opt.timeout, "--timeout");
	(void)duration_ms(command_timeout, "--command-timeout");
	if (acceptnew)
		opt.mode = KEYS_FIRST_USE;
	else if (opt.knownhosts != NULL)
		opt.mode = KEYS_FILE;
	else
		opt.mode = KEYS_CONSOLE;

	if (access(opt.keyfile, R_OK) != 0)
		err(EXIT_FAIL, "%s", opt.keyfile);
	if (ssh_key_usable(opt.keyfile, errbuf, sizeof(errbuf)) != 0)
		errx(EXIT_FAIL, "%s", errbuf);
	for (i = 0; i < ncommands; i++)
		newcheck(commands[i], commands[i], command_timeout)->timeout_ms =
		    duration_ms(command_timeout, "--command-timeout");
	if (ncheckfiles > 0)
		read_checks(checkfiles, command_timeout);
	if (opt.mode == KEYS_CONSOLE)
		ec2 = awsopt_client(&aws);
	read_targets(argv);
	if (ntargets == 0)
		errx(EXIT_FAIL, "no instance records: nothing to probe");
	if (opt.knownhosts != NULL &&
	    (kh = knownhosts_open(opt.knownhosts, opt.mode == KEYS_FIRST_USE, errbuf,
	    sizeof(errbuf))) == NULL)
		errx(EXIT_FAIL, "%s", errbuf);
	if (opt.junit != NULL && (junit = fopen(opt.junit, "we")) == NULL)
		err(EXIT_FAIL, "%s", opt.junit);

	ssh_init();
	suites = jv_array();
	/* From now on an interrupt lets the probes running finish, then ends the program. */
	intr_catch();
	status = run_all(&suites);
	if (junit != NULL) {
		junit_write(junit, suites);
		if (ferror(junit) || fclose(junit) == EOF) {
			warn("%s", opt.junit);
			status = EXIT_FAIL;
		}
	}
	jv_free(suites);

	cleanup();
	free(commands);
	free(checkfiles);
	ch = out_close();
	intr_resend();
	return status > ch ? status : ch;
}
