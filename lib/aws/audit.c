/* audit.c: the audit log: one JSON line per mutating EC2 call, written and flushed as it ends. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "sha256.h"
#include "util.h"

static int	 fd = -1;

/* The CI systems' variables that say which job made a call. */
static const char *const civars[] = {
	"GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_ACTOR", "GITHUB_SHA",
	"CI_PROJECT_PATH", "CI_JOB_ID", "GITLAB_USER_LOGIN", "CI_COMMIT_SHA", NULL
};

/* Parameters and output fields that name the resources a call touched. */
static const char *const idkeys[] = { "ImageId", "SourceImageId", "SnapshotId", "InstanceId",
	"LaunchTemplateId", "LaunchTemplateName", NULL };
/* SSM names its resource, a parameter, by Name (which EC2 uses for other things: an image's name). */
static const char *const ssmkeys[] = { "Name", NULL };
static const char *const idlists[] = { "ImageIds", "InstanceIds", "SnapshotIds", "Resources", NULL };
static const char *const outlists[] = { "Instances", "TerminatingInstances", "DeleteSnapshotResults",
	NULL };

void
audit_open(const char *path)
{
	if (path == NULL && (path = getenv("AMICYCLE_AUDIT_LOG")) != NULL && *path == '\0')
		path = NULL;
	if (path == NULL)
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		err(EXIT_FAIL, "audit log %s", path);
}

int
audit_enabled(void)
{
	return fd != -1;
}

static jv
caller(const char *access_key_id)
{
	struct passwd *pw;
	const char *const *v;
	char host[256];
	jv c = jv_object(), ci = jv_object();

	if ((pw = getpwuid(getuid())) != NULL)
		c = jv_object_set(c, jv_string("User"), jv_string(pw->pw_name));
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		c = jv_object_set(c, jv_string("Host"), jv_string(host));
	}
	if (access_key_id != NULL)
		c = jv_object_set(c, jv_string("AccessKeyId"), jv_string(access_key_id));
	for (v = civars; *v != NULL; v++)
		if (getenv(*v) != NULL && *getenv(*v) != '\0')
			ci = jv_object_set(ci, jv_string(*v), jv_string(getenv(*v)));
	if (jv_object_length(jv_copy(ci)) > 0)
		c = jv_object_set(c, jv_string("CI"), ci);
	else
		jv_free(ci);
	return c;
}

/* Consumes ids and id. ids with id at its end, unless ids has it already. */
static jv
add_id(jv ids, jv id)
{
	jv_array_foreach(ids, i, have) {
		int same = jv_equal(have, jv_copy(id));

		if (same) {
			jv_free(id);
			return ids;
		}
	}
	return jv_array_append(ids, id);
}

/* Borrows obj. Appends to ids the resource ids obj names, keys the names of keys that hold one. */
static jv
collect(jv ids, jv obj, const char *const *keys)
{
	const char *const *k;
	jv v;

	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return ids;
	for (k = keys; *k != NULL; k++) {
		v = jv_object_get(jv_copy(obj), jv_string(*k));
		if (jv_get_kind(v) == JV_KIND_STRING)
			ids = add_id(ids, v);
		else
			jv_free(v);
	}
	for (k = idlists; *k != NULL; k++) {
		v = jv_object_get(jv_copy(obj), jv_string(*k));
		if (jv_get_kind(v) == JV_KIND_ARRAY)
			jv_array_foreach(v, i, id)
				ids = add_id(ids, id);
		jv_free(v);
	}
	for (k = outlists; *k != NULL; k++) {
		v = jv_object_get(jv_copy(obj), jv_string(*k));
		if (jv_get_kind(v) == JV_KIND_ARRAY)
			jv_array_foreach(v, i, item) {
				ids = collect(ids, item, keys);
				jv_free(item);
			}
		jv_free(v);
	}
	return ids;
}

/* Consumes params. User data can hold anything: log its digest, not its text. */
static jv
redact(jv params)
{
	jv ud = jv_object_get(jv_copy(params), jv_string("UserData"));
	char hex[65], *s;

	if (jv_get_kind(ud) == JV_KIND_STRING) {
		sha256_hex(jv_string_value(ud), jv_string_length_bytes(jv_copy(ud)), hex);
		xasprintf(&s, "sha256:%s", hex);
		params = jv_object_set(params, jv_string("UserData"), jv_string(s));
		free(s);
	}
	jv_free(ud);
	return params;
}

void
audit_call(const char *service, const char *region, const char *action, jv params, jv out,
    const char *code, const char *message, const char *request_id, const char *access_key_id,
    int attempts)
{
	const char *const *keys = strcmp(service, "ssm") == 0 ? ssmkeys : idkeys;
	struct timespec ts;
	struct tm tm;
	char when[64];
	const char *outcome;
	jv line, dry, s;
	size_t off, len;
	ssize_t n;

	if (fd == -1)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ", ts.tv_nsec / 1000000);
	dry = jv_object_get(jv_copy(params), jv_string("DryRun"));
	if (code == NULL)
		outcome = "done";
	else if (strcmp(code, "DryRunOperation") == 0)
		outcome = "dry-run";
	else
		outcome = "failed";
	line = JV_OBJECT(jv_string("Time"), jv_string(when),
	    jv_string("Program"), jv_string(program_invocation_short_name),
	    jv_string("Caller"), caller(access_key_id),
	    jv_string("Service"), jv_string(service),
	    jv_string("Region"), jv_string(region ? region : ""),
	    jv_string("Action"), jv_string(action));
	line = jv_object_set(line, jv_string("Resources"),
	    collect(collect(jv_array(), params, keys), out, keys));
	line = jv_object_set(line, jv_string("Parameters"), redact(jv_copy(params)));
	line = jv_object_set(line, jv_string("DryRun"), jv_bool(jv_get_kind(dry) == JV_KIND_TRUE));
	line = jv_object_set(line, jv_string("RequestId"),
	    request_id ? jv_string(request_id) : jv_null());
	line = jv_object_set(line, jv_string("Outcome"), jv_string(outcome));
	line = jv_object_set(line, jv_string("Attempts"), jv_number(attempts));
	if (code != NULL) {
		line = jv_object_set(line, jv_string("Code"), jv_string(code));
		line = jv_object_set(line, jv_string("Message"), jv_string(message ? message : ""));
	}
	jv_free(dry);
	s = jv_string_append_str(jv_dump_string(line, 0), "\n");
	/* One write(2) per line, so lines from concurrent writers do not interleave. */
	len = jv_string_length_bytes(jv_copy(s));
	for (off = 0; off < len; off += n)
		if ((n = write(fd, jv_string_value(s) + off, len - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			err(EXIT_FAIL, "audit log");
		}
	jv_free(s);
}
