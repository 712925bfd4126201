/* creds_container.c: credentials from the container credentials endpoint (ECS, EKS Pod Identity). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "creds_provider.h"
#include "http.h"
#include "retry.h"
#include "util.h"

#define CONTAINER_HOST		"http://169.254.170.2"
#define CONTAINER_TIMEOUT_MS	5000

/* Where the SDKs allow a FULL_URI with plain http, besides loopback addresses. */
static const char *const container_hosts[] = { "169.254.170.2", "169.254.170.23", "fd00:ec2::23",
    NULL };

int
creds_container(struct chain *ch, struct held *out, char **errmsg)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *why, *lines[3] = { "Accept: application/json", NULL, NULL };
	char *url, *scheme = NULL, *host = NULL, *path = NULL, *token = NULL, *auth = NULL;
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	int ret = -1;

	if (rel != NULL)
		xasprintf(&url, "%s%s%s", CONTAINER_HOST, *rel == '/' ? "" : "/", rel);
	else if (full != NULL)
		url = xstrdup(full);
	else {
		creds_tried(ch,
		    "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI unset)");
		return 0;
	}
	if (http_url_split(url, &scheme, &host, &path) == -1) {
		creds_fail(errmsg,
		    "container: AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL");
		goto out;
	}
	if (rel == NULL && strcasecmp(scheme, "https") != 0 && !http_host_loopback(host, container_hosts)) {
		creds_fail(errmsg,
		    "container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to "
		    "a loopback or container host, not %s", host);
		goto out;
	}
	if (tokfile != NULL) {
		if ((token = creds_slurp(tokfile)) == NULL) {
			creds_fail(errmsg,
			    "container: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", tokfile,
			    strerror(errno));
			goto out;
		}
	} else if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN") != NULL) {
		token = xstrdup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	}
	if (token != NULL) {
		if (strpbrk(token, "\r\n") != NULL) {
			creds_fail(errmsg, "container: the authorization token has a line break");
			goto out;
		}
		xasprintf(&auth, "Authorization: %s", token);
		lines[1] = auth;
	}
	req.method = "GET";
	req.url = url;
	req.headers = lines;
	req.timeout_ms = CONTAINER_TIMEOUT_MS;
	req.no_proxy = rel != NULL || strcasecmp(scheme, "https") != 0;
	/* The URL is the credentials' address: messages name only its host. */
	if (retry_http_do(creds_retry(), &req, &resp, NULL, 1, "for container") == -1)
		creds_fail(errmsg, "container: %s: %s", host, resp.error);
	else if (resp.status != 200)
		creds_fail(errmsg, "container: %s: HTTP %ld", host, resp.status);
	else if (creds_json(resp.body, resp.len, "Token", "container", out, &why) == -1)
		creds_fail(errmsg, "container: %s: %s", host, why);
	else
		ret = 1;
out:
	creds_response_wipe(&resp);
	creds_wipe(token);
	creds_wipe(auth);
	free(url);
	free(scheme);
	free(host);
	free(path);
	return ret;
}
