/* awsconfig.c: the shared AWS config and credentials files (~/.aws/config, ~/.aws/credentials). */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "awsconfig.h"
#include "util.h"

/* Session tokens are a kilobyte or more, beyond inih's default 200-byte line. */
#define MAX_LINE	(1 << 20)

enum file { CONFIG, CREDENTIALS };
enum kind { PROFILE, SERVICES, OTHER };

/* A key's value in a section of a file; a NULL key only records that the section exists. */
struct entry {
	enum file	 file;
	enum kind	 kind;
	char		*section;	/* the profile's or services' name */
	char		*raw;		/* the section as written, for duplicate keys */
	char		*key;		/* lower case; "KEY.SUBKEY" for a nested line */
	char		*value;
};

/* One file being parsed. */
struct parse {
	enum file	 file;
	const char	*path;
	FILE		*fp;
	int		 linestart;	/* the reader is at the start of a line */
	char		*reason;	/* why the handler refused a line */
};

static struct {
	int		 loaded;
	char		*error;		/* why the files did not load */
	char		*path[2];
	char		*files;
	struct entry	*v;
	size_t		 n, cap;
} cf;

int
awsconfig_env_true(const char *name)
{
	const char *s = env(name);

	return s != NULL && strcasecmp(s, "true") == 0;
}

static char *
home_path(const char *rest)
{
	const char *home = env("HOME");
	struct passwd *pw;
	char *p;

	if (home == NULL && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	xasprintf(&p, "%s%s", home != NULL ? home : "", rest);
	return p;
}

/* The path from the variable, with a leading ~/ expanded, else the default under ~. */
static char *
file_path(const char *var, const char *dflt)
{
	const char *s = env(var);

	if (s == NULL)
		return home_path(dflt);
	if (s[0] == '~' && s[1] == '/')
		return home_path(s + 1);
	return xstrdup(s);
}

static char *
trimmed(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s))
		s++, len--;
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/* A section's name, trimmed and unquoted: [profile "my name"] is the profile "my name". */
static char *
section_name(const char *s)
{
	char *name = trimmed(s, strlen(s));
	size_t len = strlen(name);

	if (len >= 2 && name[0] == '"' && name[len - 1] == '"') {
		memmove(name, name + 1, len - 2);
		name[len - 2] = '\0';
	}
	return name;
}

/* Classifies a section header as the AWS CLI does; returns the name (to free) in *name. */
static enum kind
classify(enum file file, const char *section, char **name)
{
	size_t n;

	if (file == CREDENTIALS) {
		*name = section_name(section);
		return PROFILE;
	}
	n = strcspn(section, " \t");
	if (section[n] != '\0' && n == 7 && strncmp(section, "profile", 7) == 0) {
		*name = section_name(section + n);
		return PROFILE;
	}
	if (section[n] != '\0' && n == 8 && strncmp(section, "services", 8) == 0) {
		*name = section_name(section + n);
		return SERVICES;
	}
	*name = section_name(section);
	return strcmp(*name, "default") == 0 ? PROFILE : OTHER;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = tolower((unsigned char)*s);
}

static struct entry *
find(enum file file, enum kind kind, const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < cf.n; i++) {
		struct entry *e = &cf.v[i];

		if (e->file == file && e->kind == kind && strcmp(e->section, section) == 0 &&
		    (key == NULL ? e->key == NULL : e->key != NULL && strcmp(e->key, key) == 0))
			return e;
	}
	return NULL;
}

static void
add(enum file file, const char *raw, const char *key, const char *value)
{
	struct entry *e;

	if (cf.n == cf.cap) {
		cf.cap = cf.cap ? cf.cap * 2 : 32;
		cf.v = xreallocarray(cf.v, cf.cap, sizeof(*cf.v));
	}
	e = &cf.v[cf.n++];
	e->file = file;
	e->kind = classify(file, raw, &e->section);
	e->raw = xstrdup(raw);
	e->key = key != NULL ? xstrdup(key) : NULL;
	e->value = value != NULL ? xstrdup(value) : NULL;
}

static struct entry *
find_raw(enum file file, const char *raw, const char *key)
{
	size_t i;

	for (i = 0; i < cf.n; i++)
		if (cf.v[i].file == file && cf.v[i].key != NULL && strcmp(cf.v[i].raw, raw) == 0 &&
		    strcmp(cf.v[i].key, key) == 0)
			return &cf.v[i];
	return NULL;
}

/* inih's handler: one KEY = VALUE line (or an indented line continuing KEY). */
static int
handler(void *arg, const char *section, const char *name, const char *value)
{
	struct parse *p = arg;
	struct entry *e;
	char *key, *sub;
	const char *eq;

	if (*section == '\0') {
		xasprintf(&p->reason, "a key outside any [section]");
		return 0;
	}
	if (*name == '\0') {
		xasprintf(&p->reason, "a line with no key before '='");
		return 0;
	}
	key = xstrdup(name);
	lower(key);
	if ((e = find_raw(p->file, section, key)) == NULL) {
		add(p->file, section, key, value);
		free(key);
		return 1;
	}
	/* inih calls again with the same name for an indented line under KEY. */
	if (*e->value != '\0' || (eq = strpbrk(value, "=:")) == NULL) {
		xasprintf(&p->reason, "%s set twice, or an indented line that is not SUBKEY = VALUE", key);
		free(key);
		return 0;
	}
	sub = trimmed(value, eq - value);
	free(key);
	xasprintf(&key, "%s.%s", name, sub);
	lower(key);
	free(sub);
	sub = trimmed(eq + 1, strlen(eq + 1));
	add(p->file, section, key, sub);
	free(key);
	explicit_bzero(sub, strlen(sub));
	free(sub);
	return 1;
}

/* inih's reader: fgets, noting section headers so that a section with no keys still exists. */
static char *
reader(char *buf, int size, void *arg)
{
	struct parse *p = arg;
	char *s, *end;
	size_t len;

	if (fgets(buf, size, p->fp) == NULL)
		return NULL;
	len = strlen(buf);
	if (p->linestart) {
		for (s = buf; *s == ' ' || *s == '\t'; s++)
			;
		if (*s == '[' && (end = strchr(s, ']')) != NULL) {
			*end = '\0';
			add(p->file, s + 1, NULL, NULL);
			*end = ']';
		}
	}
	p->linestart = len > 0 && buf[len - 1] == '\n';
	return buf;
}

/* Reads one file into cf; returns 0, or -1 with cf.error set. */
static int
load_file(enum file file)
{
	struct parse p = { .file = file, .path = cf.path[file], .linestart = 1 };
	int line, rerr;

	if ((p.fp = fopen(p.path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		xasprintf(&cf.error, "%s: %s", p.path, strerror(errno));
		return -1;
	}
	line = ini_parse_stream(reader, &p, handler, &p);
	rerr = ferror(p.fp);
	fclose(p.fp);
	if (rerr) {
		xasprintf(&cf.error, "%s: read error", p.path);
	} else if (line > 0 && p.reason != NULL) {
		xasprintf(&cf.error, "%s:%d: %s", p.path, line, p.reason);
	} else if (line > 0) {
		xasprintf(&cf.error, "%s:%d: not a [section] or KEY = VALUE line", p.path, line);
	} else if (line < 0) {
		xasprintf(&cf.error, "%s: cannot parse (out of memory)", p.path);
	}
	free(p.reason);
	return cf.error != NULL ? -1 : 0;
}

static void
free_entries(void)
{
	while (cf.n > 0) {
		struct entry *e = &cf.v[--cf.n];

		if (e->value != NULL)
			explicit_bzero(e->value, strlen(e->value));
		free(e->section);
		free(e->raw);
		free(e->key);
		free(e->value);
	}
}

static void
load(void)
{
	if (cf.loaded)
		return;
	cf.loaded = 1;
	cf.path[CONFIG] = file_path("AWS_CONFIG_FILE", "/.aws/config");
	cf.path[CREDENTIALS] = file_path("AWS_SHARED_CREDENTIALS_FILE", "/.aws/credentials");
	xasprintf(&cf.files, "%s or %s", cf.path[CONFIG], cf.path[CREDENTIALS]);

	/*
	 * Debian's inih takes its options at run time. Read lines of any length from the heap,
	 * stop at the first error so that its line is the one the handler explains, and keep
	 * ';' inside values, as Python's configparser (and so the AWS CLI) does.
	 */
	ini_use_stack = 0;
	ini_allow_realloc = 1;
	ini_max_line = MAX_LINE;
	ini_stop_on_first_error = 1;
	ini_allow_inline_comments = 0;
	ini_allow_multiline = 1;
	ini_allow_no_value = 0;

	if (load_file(CONFIG) == -1 || load_file(CREDENTIALS) == -1)
		free_entries();
}

void
awsconfig_free(void)
{
	free_entries();
	free(cf.v);
	free(cf.error);
	free(cf.path[CONFIG]);
	free(cf.path[CREDENTIALS]);
	free(cf.files);
	memset(&cf, 0, sizeof(cf));
}

static const char *explicit_profile;

void
awsconfig_set_profile(const char *profile)
{
	explicit_profile = profile;
}

int
awsconfig_profile_explicit(void)
{
	return explicit_profile != NULL;
}

const char *
awsconfig_profile(void)
{
	const char *s;

	if (explicit_profile != NULL)
		return explicit_profile;
	if ((s = env("AWS_PROFILE")) != NULL || (s = env("AWS_DEFAULT_PROFILE")) != NULL)
		return s;
	return "default";
}

int
awsconfig_has_profile(const char *profile)
{
	load();
	return find(CREDENTIALS, PROFILE, profile, NULL) != NULL ||
	    find(CONFIG, PROFILE, profile, NULL) != NULL;
}

const char *
awsconfig_files(void)
{
	load();
	return cf.files;
}

int
awsconfig_check(char **errmsg)
{
	const char *profile = awsconfig_profile();

	load();
	if (cf.error != NULL) {
		*errmsg = xstrdup(cf.error);
		return -1;
	}
	/* As with the AWS CLI, a missing "default" is no error; a missing named profile is. */
	if (strcmp(profile, "default") != 0 && !awsconfig_has_profile(profile)) {
		xasprintf(errmsg, "profile %s not found in %s", profile, cf.files);
		return -1;
	}
	return 0;
}

static const char *
lookup(enum file file, enum kind kind, const char *section, const char *key)
{
	struct entry *e = find(file, kind, section, key);

	return e != NULL ? e->value : NULL;
}

const char *
awsconfig_get(const char *profile, const char *key)
{
	const char *v;
	char *k;

	load();
	if (profile == NULL)
		profile = awsconfig_profile();
	k = xstrdup(key);
	lower(k);
	if ((v = lookup(CREDENTIALS, PROFILE, profile, k)) == NULL)
		v = lookup(CONFIG, PROFILE, profile, k);
	free(k);
	return v;
}

const char *
awsconfig_region(void)
{
	const char *s;

	if ((s = env("AWS_REGION")) != NULL || (s = env("AWS_DEFAULT_REGION")) != NULL)
		return s;
	s = awsconfig_get(NULL, "region");
	return s != NULL && *s != '\0' ? s : NULL;
}

const char *
awsconfig_endpoint(const char *service)
{
	const char *s, *services, *found = NULL;
	char *var, *key, *p;

	if (awsconfig_env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") ||
	    ((s = awsconfig_get(NULL, "ignore_configured_endpoint_urls")) != NULL &&
	    strcasecmp(s, "true") == 0))
		return NULL;

	/* "Elastic Beanstalk" is AWS_ENDPOINT_URL_ELASTIC_BEANSTALK and elastic_beanstalk. */
	xasprintf(&var, "AWS_ENDPOINT_URL_%s", service);
	xasprintf(&key, "%s.endpoint_url", service);
	for (p = var; *p != '\0'; p++)
		*p = *p == ' ' || *p == '-' ? '_' : toupper((unsigned char)*p);
	for (p = key; *p != '\0'; p++)
		*p = *p == ' ' || *p == '-' ? '_' : tolower((unsigned char)*p);

	if ((s = env(var)) != NULL || (s = env("AWS_ENDPOINT_URL")) != NULL)
		found = s;
	else if ((services = awsconfig_get(NULL, "services")) != NULL &&
	    (s = lookup(CONFIG, SERVICES, services, key)) != NULL && *s != '\0')
		found = s;
	else if ((s = awsconfig_get(NULL, "endpoint_url")) != NULL && *s != '\0')
		found = s;
	free(var);
	free(key);
	return found;
}

const char *
awsconfig_ca_bundle(void)
{
	const char *s;

	if ((s = env("AWS_CA_BUNDLE")) != NULL)
		return s;
	s = awsconfig_get(NULL, "ca_bundle");
	return s != NULL && *s != '\0' ? s : NULL;
}
