/* creds_env.c: the credentials provider for AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. */
#include "creds_provider.h"
#include "util.h"

int
creds_env(struct chain *ch, struct held *out, char **errmsg)
{
	const char *akid = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");

	if (akid == NULL && secret == NULL) {
		creds_tried(ch, "env (AWS_ACCESS_KEY_ID unset)");
		return 0;
	}
	if (akid == NULL || secret == NULL)
		return creds_fail(errmsg, "env: %s is set but %s is not",
		    akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	creds_held_set(out, "env", akid, secret, env("AWS_SESSION_TOKEN"), 0);
	return 1;
}
