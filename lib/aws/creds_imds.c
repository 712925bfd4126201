/* creds_imds.c: credentials of the instance profile from the EC2 instance metadata service (IMDSv2). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jv.h>

#include "awsconfig.h"
#include "creds_provider.h"
#include "http.h"
#include "retry.h"
#include "util.h"

#define IMDS_HOST		"http://169.254.169.254"
#define IMDS_HOST6		"http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL		"21600"
/* A machine without IMDS must not wait long for the token: that is the first contact. */
#define IMDS_TOKEN_TIMEOUT_MS	1000
#define IMDS_TIMEOUT_MS		2000

/* The Code of IMDS's credentials document when it is not "Success" (to free), else NULL. */
static char *
imds_code(const struct http_response *resp)
{
	jv v = jv_parse_sized(resp->body, (int)resp->len);
	jv code = jv_get_kind(v) == JV_KIND_OBJECT ? jv_object_get(v, jv_string("Code")) :
	    (jv_free(v), jv_invalid());
	char *s = NULL;

	if (jv_get_kind(code) == JV_KIND_STRING && strcmp(jv_string_value(code), "Success") != 0)
		s = xstrdup(jv_string_value(code));
	jv_free(code);
	return s;
}

int
creds_imds(struct chain *ch, struct held *out, char **errmsg)
{
	const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT"), *mode, *why;
	const char *lines[2] = { NULL, NULL };
	char *url = NULL, *hdr = NULL, *role = NULL, *root, *code = NULL;
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	size_t n;
	int ret = -1;

	if (awsconfig_env_true("AWS_EC2_METADATA_DISABLED")) {
		creds_tried(ch, "imds (AWS_EC2_METADATA_DISABLED=true)");
		return 0;
	}
	if (base == NULL)
		base = (mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")) != NULL &&
		    strcasecmp(mode, "IPv6") == 0 ? IMDS_HOST6 : IMDS_HOST;
	root = xstrndup(base, strlen(base) - (base[strlen(base) - 1] == '/'));

	xasprintf(&url, "%s/latest/api/token", root);
	lines[0] = "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL;
	req.method = "PUT";
	req.url = url;
	req.headers = lines;
	req.timeout_ms = IMDS_TOKEN_TIMEOUT_MS;
	req.no_proxy = 1;
	/*
	 * No answer at all is no IMDS (not on EC2, or IMDS off): not retried, so the chain ends here
	 * at once without credentials. An IMDS that answers 5xx is busy, and gets the retries.
	 */
	if (retry_http_do(creds_retry(), &req, &resp, NULL, 0, "for imds") == -1 || resp.status != 200 ||
	    resp.len == 0) {
		if (resp.status == 0)
			creds_tried(ch, "imds (%s: %s)", root, resp.error);
		else
			creds_tried(ch, "imds (%s: token: HTTP %ld)", root, resp.status);
		ret = 0;
		goto out;
	}
	for (n = resp.len; n > 0 && (resp.body[n - 1] == '\n' || resp.body[n - 1] == '\r'); n--)
		;
	xasprintf(&hdr, "X-aws-ec2-metadata-token: %.*s", (int)n, resp.body);
	creds_response_wipe(&resp);
	lines[0] = hdr;
	req.method = "GET";
	req.timeout_ms = IMDS_TIMEOUT_MS;

	free(url);
	xasprintf(&url, "%s/latest/meta-data/iam/security-credentials/", root);
	req.url = url;
	if (retry_http_do(creds_retry(), &req, &resp, NULL, 1, "for imds") == -1) {
		creds_fail(errmsg, "imds: %s: %s", root, resp.error);
		goto out;
	}
	if (resp.status == 404) {
		creds_tried(ch, "imds (%s: no instance profile)", root);
		ret = 0;
		goto out;
	}
	if (resp.status != 200) {
		creds_fail(errmsg, "imds: %s: security-credentials: HTTP %ld", root, resp.status);
		goto out;
	}
	role = xstrndup(resp.body, strcspn(resp.body, "\r\n"));
	http_response_free(&resp);
	if (*role == '\0' || strchr(role, '/') != NULL) {
		creds_fail(errmsg, "imds: %s: security-credentials: no role name", root);
		goto out;
	}

	free(url);
	xasprintf(&url, "%s/latest/meta-data/iam/security-credentials/%s", root, role);
	req.url = url;
	if (retry_http_do(creds_retry(), &req, &resp, NULL, 1, "for imds") == -1)
		creds_fail(errmsg, "imds: %s: %s", root, resp.error);
	else if (resp.status != 200)
		creds_fail(errmsg, "imds: %s: role %s: HTTP %ld", root, role, resp.status);
	else if ((code = imds_code(&resp)) != NULL)
		creds_fail(errmsg, "imds: %s: role %s: %s", root, role, code);
	else if (creds_json(resp.body, resp.len, "Token", "imds", out, &why) == -1)
		creds_fail(errmsg, "imds: %s: role %s: %s", root, role, why);
	else
		ret = 1;
	free(code);
out:
	creds_response_wipe(&resp);
	creds_wipe(hdr);
	free(url);
	free(role);
	free(root);
	return ret;
}
