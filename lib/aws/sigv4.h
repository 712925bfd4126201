/* sigv4.h: AWS Signature Version 4 (the Authorization header). */
#ifndef AMICYCLE_SIGV4_H
#define AMICYCLE_SIGV4_H

#include <stddef.h>
#include <time.h>

struct sigv4_header {
	const char	*name;
	const char	*value;
};

/*
 * A request as it is sent. Every header given is signed: pass Host, X-Amz-Date, Content-Type,
 * X-Amz-Security-Token (when the service wants it signed), and not User-Agent or Authorization.
 */
struct sigv4_request {
	const char			*method;	/* "GET", "POST" */
	const char			*path;		/* as on the request line: "/", "/example/.." */
	const char			*query;		/* the raw query after '?'; "" for none */
	const struct sigv4_header	*headers;	/* repeated names are allowed */
	size_t				 nheaders;
	const void			*body;
	size_t				 bodylen;
	const char			*region;	/* "us-east-1" */
	const char			*service;	/* "ec2", "sts" */
	const char			*amzdate;	/* the X-Amz-Date: "20150830T123600Z" */
	int				 normalize_path; /* resolve . .. and //: 1 for every service but S3 */
};

/*
 * The canonical request (method, URI, query, headers, signed headers, payload hash), malloc'ed.
 * The path is URI-encoded once more as it stands on the request line, as every service but S3
 * wants; the query is percent-decoded ('+' is a plus), re-encoded and sorted.
 */
char	*sigv4_canonical_request(const struct sigv4_request *);

/* The string to sign for creq (from sigv4_canonical_request()), malloc'ed. */
char	*sigv4_string_to_sign(const struct sigv4_request *, const char *creq);

/* The Authorization header's value, "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...", malloc'ed. */
char	*sigv4_authorization(const struct sigv4_request *, const char *access_key_id,
	    const char *secret_access_key);

/*
 * Signs r at time now (r->amzdate and r->headers must not hold the date or token): returns the
 * "Name: value" lines to send beside r->headers, X-Amz-Date, X-Amz-Security-Token (signed; only
 * when token is not NULL) and Authorization, NULL-terminated; free with sigv4_lines_free().
 */
char	**sigv4_sign_headers(const struct sigv4_request *r, time_t now, const char *access_key_id,
	    const char *secret_access_key, const char *token);
void	 sigv4_lines_free(char **);

/*
 * The header lines of a Query-protocol request (EC2, STS): a form-encoded POST of body to host
 * ("name[:port]") and path: Host and Content-Type, then, when access_key_id is not NULL, what
 * sigv4_sign_headers() adds, signed for region and service at now. NULL-terminated; free with
 * sigv4_lines_free().
 */
char	**sigv4_query_lines(const char *host, const char *path, const char *body,
	    const char *region, const char *service, time_t now, const char *access_key_id,
	    const char *secret_access_key, const char *token);

/*
 * The same for any POST of body with content_type and, when target is not NULL, an X-Amz-Target
 * header (the JSON protocol: "application/x-amz-json-1.1", "AmazonSSM.GetParameters"): Host,
 * Content-Type and X-Amz-Target, all signed, then what sigv4_sign_headers() adds.
 */
char	**sigv4_post_lines(const char *host, const char *path, const char *content_type,
	    const char *target, const char *body, const char *region, const char *service,
	    time_t now, const char *access_key_id, const char *secret_access_key,
	    const char *token);

/* t as an X-Amz-Date, "20150830T123600Z" (UTC). */
void	 sigv4_amzdate(time_t t, char out[17]);

#endif
