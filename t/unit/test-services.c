/*
 * Unit tests for the services beside EC2, over the real (trimmed) models in ec2model.c, without an
 * endpoint: SSM's JSON 1.1 requests, responses and errors (lib/ec2/awsjson.c), how they are signed
 * (sigv4_post_lines), how their throttling is retried (retry.c), and Auto Scaling's Query requests
 * and responses (ec2query.c, ec2xml.c with its result wrapper).
 */
#include <stdlib.h>
#include <string.h>

#include "awsjson.h"
#include "ec2model.h"
#include "ec2query.h"
#include "ec2xml.h"
#include "http.h"
#include "retry.h"
#include "sigv4.h"
#include "tap.h"

static const struct ec2_operation *
op(const char *service, const char *name)
{
	const struct ec2_operation *o = ec2model_operation(service, name);

	if (o == NULL) {
		printf("Bail out! %s:%s is not in ec2model.c\n", service, name);
		exit(1);
	}
	return o;
}

/* The body awsjson_body() writes for params (JSON text), or its error message. */
static char *
body_of(const struct ec2_operation *o, const char *params)
{
	char *body, *err = NULL;

	body = awsjson_body(o, jv_parse(params), &err);
	return body != NULL ? body : err;
}

static void
check_body(const char *service, const char *name, const char *params, const char *want)
{
	char *got = body_of(op(service, name), params);

	is_str(got, want, "%s:%s %s", service, name, params);
	free(got);
}

/* The output awsjson_parse() gives for body, as compact JSON (or the error message). */
static void
check_parse(const char *name, const char *body, const char *want)
{
	jv out = awsjson_parse(op("ssm", name), body, strlen(body)), text;

	if (jv_is_valid(out))
		text = jv_dump_string(out, 0);
	else
		text = jv_invalid_get_msg(out);
	is_str(jv_string_value(text), want, "ssm:%s response %.40s", name, body);
	jv_free(text);
}

static void
check_error(const char *body, const char *etype, const char *want_code, const char *want_msg)
{
	char *code = NULL, *msg = NULL;
	int r = awsjson_error(body, strlen(body), etype, &code, &msg);

	if (want_code == NULL) {
		ok(r == -1 && code == NULL, "no error code in '%s' (header %s)", body,
		    etype ? etype : "none");
		return;
	}
	ok(r == 0 && code != NULL && strcmp(code, want_code) == 0 &&
	    (want_msg == NULL ? msg == NULL : msg != NULL && strcmp(msg, want_msg) == 0),
	    "error '%s' (header %s) is %s: %s", body, etype ? etype : "none", want_code,
	    want_msg ? want_msg : "(no message)");
	free(code);
	free(msg);
}

static void
ssm_requests(void)
{
	const struct ec2_operation *o = op("ssm", "DescribeParameters");

	is_str(o->target, "AmazonSSM.DescribeParameters", "X-Amz-Target from the model");
	is_str(o->content_type, "application/x-amz-json-1.1", "Content-Type from jsonVersion");
	is_str(o->signing_name, "ssm", "SSM's signing name");
	is_str(o->service_id, "SSM", "SSM's serviceId (AWS_ENDPOINT_URL_SSM)");
	check_body("ssm", "DescribeParameters",
	    "{\"ParameterFilters\":[{\"Key\":\"Type\",\"Values\":[\"String\"]}],\"MaxResults\":50,"
	    "\"NextToken\":\"t1\"}",
	    "{\"ParameterFilters\":[{\"Key\":\"Type\",\"Values\":[\"String\"]}],\"MaxResults\":50,"
	    "\"NextToken\":\"t1\"}");
	check_body("ssm", "DescribeParameters", "null", "{}");
	check_body("ssm", "DescribeParameters", "{\"NextToken\":null}", "{}");
	check_body("ssm", "GetParameters", "{\"Names\":[\"/images/web/prod:3\",\"a:live\"]}",
	    "{\"Names\":[\"/images/web/prod:3\",\"a:live\"]}");
	check_body("ssm", "DescribeParameters", "{\"ParameterFilters\":[{\"Kye\":\"Type\"}]}",
	    "unknown parameter \"ParameterFilters[0].Kye\"");
	check_body("ssm", "DescribeParameters", "{\"ParameterFilters\":[{\"Values\":[\"x\"]}]}",
	    "missing required parameter \"ParameterFilters[0].Key\"");
	check_body("ssm", "GetParameters", "{}", "missing required parameter \"Names\"");
	check_body("ssm", "GetParameters", "{\"Names\":\"/a\"}",
	    "Names: expected a list, got a string");
	check_body("ssm", "GetParameters", "{\"Names\":[\"/a\"],\"WithDecryption\":\"no\"}",
	    "WithDecryption: expected a boolean, got a string");
	check_body("ssm", "DescribeParameters", "{\"MaxResults\":1.5}",
	    "MaxResults: expected an integer, got a number");
}

static void
ssm_responses(void)
{
	check_parse("DescribeParameters",
	    "{\"NextToken\":\"n2\",\"Parameters\":[{\"Version\":3,\"Type\":\"String\","
	    "\"__unknown\":1,\"Name\":\"/images/web/prod\",\"DataType\":\"aws:ec2:image\","
	    "\"LastModifiedDate\":1.700000000123E9,\"Policies\":[],\"Description\":null}]}",
	    "{\"Parameters\":[{\"Name\":\"/images/web/prod\",\"Type\":\"String\","
	    "\"LastModifiedDate\":\"2023-11-14T22:13:20.123000+00:00\",\"Version\":3,"
	    "\"Policies\":[],\"DataType\":\"aws:ec2:image\"}],\"NextToken\":\"n2\"}");
	check_parse("GetParameters",
	    "{\"InvalidParameters\":[\"/nope\"],\"Parameters\":[{\"Name\":\"/a\",\"Value\":"
	    "\"ami-0123456789abcdef0\",\"Selector\":\":2\"}]}",
	    "{\"Parameters\":[{\"Name\":\"/a\",\"Value\":\"ami-0123456789abcdef0\","
	    "\"Selector\":\":2\"}],\"InvalidParameters\":[\"/nope\"]}");
	check_parse("GetParameters", "{}", "{}");
	/* An empty listing must never read as "no parameters". */
	check_parse("DescribeParameters", "", "bad response: an empty body");
	check_parse("DescribeParameters", "{\"Parameters\":", "malformed JSON response: "
	    "Unfinished JSON term at EOF at line 1, column 14");
	check_parse("DescribeParameters", "{\"Parameters\":[{\"Version\":\"3\"}]}",
	    "bad response: Parameters[0].Version: expected an integer, got a string");
	check_parse("DescribeParameters", "[]",
	    "bad response: parameters: expected an object, got a list");
}

static void
ssm_errors(void)
{
	struct http_response r;
	char *code = NULL;
	const char *throttle = "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}";

	check_error("{\"__type\":\"com.amazonaws.ssm#ParameterNotFound\",\"message\":\"gone\"}",
	    NULL, "ParameterNotFound", "gone");
	check_error("{\"__type\":\"InvalidNextToken:http://internal/\",\"Message\":\"stale\"}",
	    NULL, "InvalidNextToken", "stale");
	check_error("", "AccessDeniedException:http://internal.amazon.com/", "AccessDeniedException",
	    NULL);
	check_error("<html>bad gateway</html>", NULL, NULL, NULL);
	check_error("{\"message\":\"no code\"}", NULL, NULL, NULL);

	/* SSM's throttle is retried as throttling (adaptive mode paces it). */
	memset(&r, 0, sizeof(r));
	r.status = 400;
	awsjson_error(throttle, strlen(throttle), NULL, &code, NULL);
	ok(code != NULL && retry_classify(0, &r, code) == RETRY_THROTTLE,
	    "SSM's ThrottlingException is retried as throttling");
	free(code);
}

static void
ssm_signing(void)
{
	char **lines = sigv4_post_lines("ssm.eu-west-1.amazonaws.com", "/",
	    "application/x-amz-json-1.1", "AmazonSSM.GetParameters", "{}", "eu-west-1", "ssm",
	    1700000000, "AKIDEXAMPLE", "secret", NULL);
	int i, target = 0, ctype = 0, auth = 0;

	for (i = 0; lines[i] != NULL; i++) {
		target |= strcmp(lines[i], "X-Amz-Target: AmazonSSM.GetParameters") == 0;
		ctype |= strcmp(lines[i], "Content-Type: application/x-amz-json-1.1") == 0;
		auth |= strncmp(lines[i], "Authorization: ", 15) == 0 &&
		    strstr(lines[i], "/eu-west-1/ssm/aws4_request") != NULL &&
		    strstr(lines[i], "SignedHeaders=content-type;host;x-amz-date;x-amz-target,") !=
		    NULL;
	}
	ok(target && ctype && auth, "a JSON request signs X-Amz-Target and its Content-Type for ssm");
	sigv4_lines_free(lines);
}

static void
autoscaling(void)
{
	const struct ec2_operation *o = op("autoscaling", "DescribeAutoScalingGroups");
	const char *xml =
	    "<DescribeAutoScalingGroupsResponse xmlns=\"http://autoscaling.amazonaws.com/doc/"
	    "2011-01-01/\"><DescribeAutoScalingGroupsResult><AutoScalingGroups><member>"
	    "<AutoScalingGroupName>web</AutoScalingGroupName><LaunchTemplate><LaunchTemplateId>"
	    "lt-0abc</LaunchTemplateId><Version>3</Version></LaunchTemplate><MinSize>1</MinSize>"
	    "</member></AutoScalingGroups><NextToken>n2</NextToken>"
	    "</DescribeAutoScalingGroupsResult><ResponseMetadata><RequestId>rid-1</RequestId>"
	    "</ResponseMetadata></DescribeAutoScalingGroupsResponse>";
	char *body, *err = NULL, *rid = NULL;
	jv out, text;

	ok(o->protocol == EC2_PROTO_QUERY && strcmp(o->signing_name, "autoscaling") == 0 &&
	    strcmp(o->service_id, "Auto Scaling") == 0,
	    "Auto Scaling: the Query protocol, signed as autoscaling, configured as Auto Scaling");
	body = ec2query_body(o, jv_parse("{\"AutoScalingGroupNames\":[\"web\",\"db\"],"
	    "\"MaxRecords\":100,\"NextToken\":\"n1\"}"), &err);
	is_str(body, "Action=DescribeAutoScalingGroups&Version=2011-01-01&AutoScalingGroupNames"
	    ".member.1=web&AutoScalingGroupNames.member.2=db&MaxRecords=100&NextToken=n1",
	    "Auto Scaling's Query body");
	free(body);
	out = ec2xml_parse(o, xml, strlen(xml), &rid);
	text = jv_dump_string(out, 0);
	is_str(jv_string_value(text), "{\"AutoScalingGroups\":[{\"AutoScalingGroupName\":\"web\","
	    "\"LaunchTemplate\":{\"LaunchTemplateId\":\"lt-0abc\",\"Version\":\"3\"},"
	    "\"MinSize\":1}],\"NextToken\":\"n2\"}", "Auto Scaling's response, unwrapped");
	is_str(rid, "rid-1", "Auto Scaling's request id");
	jv_free(text);
	free(rid);
	o = op("autoscaling", "DescribeLaunchConfigurations");
	out = ec2xml_parse(o, "", 0, &rid);
	ok(!jv_is_valid(out), "an empty Auto Scaling listing is an error, not \"none\"");
	jv_free(out);
	free(rid);
}

int
main(void)
{
	/* Epoch-second timestamps are printed in the local time zone, as the CLI does. */
	setenv("TZ", "UTC", 1);
	ssm_requests();
	ssm_responses();
	ssm_errors();
	ssm_signing();
	autoscaling();
	return done_testing();
}
