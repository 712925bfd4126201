/* http.h: HTTP over libcurl: reused connections, timeouts, curl's proxy variables, TLS always verified. */
#ifndef AMICYCLE_HTTP_H
#define AMICYCLE_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct http_request {
	const char		*method;	/* "GET", "PUT", "POST" */
	const char		*url;
	const char *const	*headers;	/* NULL-terminated "Name: value" lines, or NULL */
	const char		*body;		/* sent as is; NULL for none */
	size_t			 bodylen;
	long			 timeout_ms;	/* the whole exchange; 0 for the default (HTTP_TIMEOUT_MS) */
	int			 no_proxy;	/* 1: never through a proxy (instance metadata, container
						   credentials: a proxy would answer with its own host's) */
};

struct http_response {
	long	 status;	/* the HTTP status; 0 when no response arrived */
	char	*body;		/* NUL-terminated; never NULL after a call */
	size_t	 len;
	char	*request_id;	/* x-amzn-RequestId or x-amz-request-id, when the server sent one */
	char	*error_type;	/* X-Amzn-ErrorType (the JSON protocol's error code), when sent */
	int	 transient;	/* no response: a failure worth retrying (refused, reset, timed out) */
	int	 timedout;	/* no response in time */
	int	 toolarge;	/* the transfer was stopped at HTTP_MAX_HELD: 1 by this body alone,
				   2 with the others held at the time */
	size_t	 cap;		/* bytes allocated for body, counted against HTTP_MAX_HELD */
	int64_t	 ms;		/* how long the exchange took, in milliseconds */
	char	 error[256];	/* what went wrong when status == 0 */
};

#define HTTP_CONNECT_TIMEOUT_MS	10000
#define HTTP_TIMEOUT_MS		60000	/* AMICYCLE_HTTP_TIMEOUT_MS overrides it (the tests lower it) */

/*
 * Response bodies held at once, all responses of the process together. A page of 1000 EC2
 * resources is a few MiB; an endpoint sending more than this is broken or hostile, and the
 * transfer that would pass it fails (toolarge) rather than eat the machine's memory.
 */
#define HTTP_MAX_HELD		((size_t)256 << 20)
#define HTTP_MAX_HELD_TEXT	"256 MiB"

/*
 * The CA bundle to verify servers with (AWS_CA_BUNDLE, the profile's ca_bundle); NULL for the
 * system's. Certificates and host names are always verified.
 */
void	http_set_ca_bundle(const char *path);

/*
 * One request, synchronously, on a connection kept for the next call. Returns 0 when a response
 * arrived (whatever its status), -1 when none did (resp->error says why). Redirects are not
 * followed. resp is filled in either way; free it with http_response_free().
 */
int	http_do(const struct http_request *, struct http_response *);

void	http_response_free(struct http_response *);

/*
 * Concurrent requests with curl's multi interface. A job is a request, its response, and what to
 * do when it completes. Jobs start in the order they were added, once their start time has come;
 * how many run at once is the caller's to bound (lib/core/runq.h): the pool keeps connections
 * for about conns of them, reused between jobs. The done callback may add jobs (the next page, a retry) with a start time in the future
 * (a back-off). The job's memory belongs to the caller and must live until done runs; done
 * frees resp (http_response_free) before it adds the job again.
 */
struct http_job {
	struct http_request	 req;
	struct http_response	 resp;
	void			(*done)(struct http_job *, void *arg);
	void			*arg;
	int64_t			 start_ms;	/* not before this time (clock_ms()) */
	int			 rc;		/* as http_do() returns */
	/* private */
	void			*easy;
	void			*hdrs;
	struct http_job		*next;
};

struct http_pool;

struct http_pool	*http_pool_new(int conns);
void			 http_pool_add(struct http_pool *, struct http_job *);
/* Runs until every job, including those added by callbacks, is done. */
void			 http_pool_run(struct http_pool *);
void			 http_pool_free(struct http_pool *);

/*
 * Splits an http(s) URL into scheme, host[:port] and path ("/" if none), malloc'ed; -1 if it is
 * not one, or has user@ before the host.
 */
int	http_url_split(const char *url, char **scheme, char **host, char **path);

/*
 * 1 if host ("name", "name:port", "[v6]" or "[v6]:port", as http_url_split() gives it) is a
 * loopback address: 127.0.0.0/8, ::1 or localhost; or, when also is not NULL, one of its names
 * (NULL-terminated, compared without regard to case). Where plain http may carry a secret.
 */
int	http_host_loopback(const char *host, const char *const *also);

/*
 * 0 if url may carry credentials: https, or plain http to a loopback address (a local stand-in);
 * else -1 with a one-line reason that names the host in *why (the caller frees it). Anywhere else
 * the session token, the signed requests and their answers would cross the network in clear text.
 */
int	http_url_private(const char *url, char **why);

#endif
