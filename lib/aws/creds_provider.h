/* creds_provider.h: what the credential providers (creds_*.c) share with the chain in creds.c. */
#ifndef AMICYCLE_CREDS_PROVIDER_H
#define AMICYCLE_CREDS_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "creds.h"
#include "http.h"

/* The largest credentials document, token file or credential_process output read. */
#define MAX_DOCUMENT		(1 << 20)

/* Credentials being found, with what they came from. */
struct held {
	struct aws_creds	 c;
	char			*source;	/* c.source points here */
	int64_t			 fetched;
};

/* One walk of the provider chain. */
struct chain {
	const char	*region;	/* STS's */
	char		*tried;		/* "SOURCE (why not), ..." */
};

/*
 * A provider returns 1 with the credentials in out, 0 when it is not configured (having noted
 * why with creds_tried()), or -1 with a one-line reason in *errmsg that names the source and
 * never a secret. The chain stops at the first provider that does not return 0.
 */
int	creds_env(struct chain *, struct held *out, char **errmsg);
int	creds_web_identity_env(struct chain *, struct held *out, char **errmsg);
/* The profile's credentials; depth counts the source_profile hops that led here. */
int	creds_profile(struct chain *, const char *profile, int depth, struct held *out,
	    char **errmsg);
int	creds_container(struct chain *, struct held *out, char **errmsg);
int	creds_imds(struct chain *, struct held *out, char **errmsg);

/* Runs a profile's credential_process; 0, or -1 and *errmsg. */
int	creds_process(const char *profile, const char *cmd, struct held *out, char **errmsg);

/*
 * STS AssumeRole signed with signer's credentials, and AssumeRoleWithWebIdentity (unsigned) with
 * the token read from tokenfile now (what names where it was configured, for messages). session
 * NULL makes one up; profile (or NULL) gives duration_seconds and external_id, which external_id
 * (--external-id), when not NULL, replaces. 0, or -1 and *errmsg.
 */
int	creds_sts_assume_role(struct chain *, const char *role, const char *session,
	    const char *external_id, const char *profile, const struct aws_creds *signer,
	    struct held *out, char **errmsg);
int	creds_sts_web_identity(struct chain *, const char *tokenfile, const char *what,
	    const char *role, const char *session, const char *profile, struct held *out,
	    char **errmsg);

/* The retry state (the SDKs' standard mode) of every call the providers make, set up on first use. */
struct retry	*creds_retry(void);

/* Sets h to copies of the strings (token may be NULL or empty: none); fetched is now. */
void	creds_held_set(struct held *h, const char *source, const char *akid, const char *secret,
	    const char *token, int64_t expiration);
/* Wipes and frees what h holds. */
void	creds_held_clear(struct held *h);

/* Adds "SOURCE (why not)" to the chain's list of sources tried. */
void	creds_tried(struct chain *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets *errmsg to the formatted message; returns -1. */
int	creds_fail(char **errmsg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* free() for a string that may be a secret: wiped first. NULL is fine. */
void	creds_wipe(char *s);
/* http_response_free() for a response that may hold credentials. */
void	creds_response_wipe(struct http_response *);

/* Reads a small file (a token) whole, without trailing white space; NULL with errno on failure. */
char	*creds_slurp(const char *path);

/* An RFC 3339 time as seconds since the epoch; -1 if it is not one. */
int	creds_parse_expiration(const char *s, int64_t *sec);

/*
 * Takes the credentials from a JSON document (credential_process, containers, IMDS) whose
 * session token is named tokenkey. Returns 0, or -1 with *why saying what was wrong (never
 * quoting the document).
 */
int	creds_json(const char *doc, size_t len, const char *tokenkey, const char *source,
	    struct held *out, const char **why);

#endif
