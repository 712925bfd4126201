/*
 * ec2xml: EC2 and STS responses, for every action amicycle calls. The first byte picks the
 * action; the rest is the body. ec2xml_parse() returns an object or an error with a message,
 * never both, and the request id it reports is a string either way; ec2xml_error() reads the
 * same body as an error response without tripping over it.
 */
#include <string.h>

#include <jv.h>

#include "ec2model.h"
#include "ec2xml.h"
#include "fuzz.h"

/* The actions lib/ec2model.c has that the filters and the credential chain call. */
static const char *ops[][2] = {
	{ "ec2", "CopyImage" },
	{ "ec2", "CreateTags" },
	{ "ec2", "DeleteSnapshot" },
	{ "ec2", "DeleteTags" },
	{ "ec2", "DeregisterImage" },
	{ "ec2", "DescribeImages" },
	{ "ec2", "DescribeInstances" },
	{ "ec2", "DescribeLaunchTemplateVersions" },
	{ "ec2", "DescribeLaunchTemplates" },
	{ "ec2", "DescribeSnapshots" },
	{ "ec2", "DisableImageDeprecation" },
	{ "ec2", "EnableImageDeprecation" },
	{ "ec2", "GetConsoleOutput" },
	{ "ec2", "RunInstances" },
	{ "ec2", "TerminateInstances" },
	{ "sts", "AssumeRole" },
	{ "sts", "AssumeRoleWithWebIdentity" },
};
#define NOPS	(sizeof(ops) / sizeof(ops[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ec2_operation *op;
	char *body, *rid, *code, *message;
	size_t len;
	jv v, msg;

	if (size < 1 || size > 1 << 20)
		return 0;
	op = ec2model_operation(ops[data[0] % NOPS][0], ops[data[0] % NOPS][1]);
	FUZZ_ASSERT(op != NULL, "%s is not in the model", ops[data[0] % NOPS][1]);
	/* A body of exactly its length, as libcurl hands it on. */
	len = size - 1;
	body = malloc(len ? len : 1);
	memcpy(body, data + 1, len);
	rid = NULL;
	v = ec2xml_parse(op, body, len, &rid);
	if (jv_is_valid(v)) {
		FUZZ_ASSERT(jv_get_kind(v) == JV_KIND_OBJECT, "%s: a %s", op->name,
		    jv_kind_name(jv_get_kind(v)));
		jv_free(v);
	} else {
		msg = jv_invalid_get_msg(v);
		FUZZ_ASSERT(jv_get_kind(msg) == JV_KIND_STRING, "%s: an error without a message", op->name);
		jv_free(msg);
	}
	FUZZ_ASSERT(rid == NULL || strlen(rid) < len, "request id longer than the body");
	free(rid);
	code = message = rid = NULL;
	if (ec2xml_error(body, len, &code, &message, &rid) == 0) {
		FUZZ_ASSERT(code != NULL, "an error without a code");
		free(code);
		free(message);
		free(rid);
	} else
		FUZZ_ASSERT(code == NULL && message == NULL && rid == NULL, "set on failure");
	free(body);
	return 0;
}
