/*
 * Unit tests for lib/ec2/ec2query.c: CLI-form parameters to EC2 and STS request bodies.
 *
 *   test-ec2query CASES.jsonl
 *
 * CASES.jsonl (t/t0106/cases.jsonl) holds, one a line, {"service", "action", "params", "body"},
 * the body being what the AWS CLI's botocore sends for those parameters (t/t0105 checks that
 * against the CLI when awscli is installed). The rest is built here: idempotency tokens and
 * every kind of bad parameter.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "ec2model.h"
#include "ec2query.h"

static const struct ec2_operation *
op(const char *service, const char *action)
{
	const struct ec2_operation *o = ec2model_operation(service, action);

	if (o == NULL) {
		printf("Bail out! no %s %s in the table\n", service, action);
		exit(1);
	}
	return o;
}

/* The body for params (JSON text), or "error: MESSAGE". The caller frees it. */
static char *
body(const char *service, const char *action, const char *params)
{
	jv p = jv_parse(params);
	char *b, *err = NULL, *r;

	if (!jv_is_valid(p)) {
		printf("Bail out! bad JSON in the test: %s\n", params);
		exit(1);
	}
	if ((b = ec2query_body(op(service, action), p, &err)) != NULL)
		return b;
	r = malloc(strlen(err) + 8);
	sprintf(r, "error: %s", err);
	free(err);
	return r;
}

static void
fails(const char *service, const char *action, const char *params, const char *want)
{
	char *got = body(service, action, params);

	is_str(got, want, "%s %s %s: refused", service, action, params);
	free(got);
}

static void
cases(const char *path)
{
	jv all = jv_load_file(path, 0), c;
	const char *service, *action;
	char *got, *err;
	int i, n;

	if (!jv_is_valid(all)) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	n = jv_array_length(jv_copy(all));
	for (i = 0; i < n; i++) {
		c = jv_array_get(jv_copy(all), i);
		jv sv = jv_object_get(jv_copy(c), jv_string("service"));
		jv av = jv_object_get(jv_copy(c), jv_string("action"));
		jv want = jv_object_get(jv_copy(c), jv_string("body"));

		service = jv_string_value(sv);
		action = jv_string_value(av);
		err = NULL;
		got = ec2query_body(op(service, action), jv_object_get(jv_copy(c), jv_string("params")),
		    &err);
		is_str(got, jv_string_value(want), "%s %s, line %d: the CLI's body", service, action,
		    i + 1);
		if (got == NULL)
			printf("#   error: %s\n", err);
		free(got);
		free(err);
		jv_free(sv);
		jv_free(av);
		jv_free(want);
		jv_free(c);
	}
	jv_free(all);
}

static int
uuid4_at_end(const char *b, const char *key)
{
	const char *p = strstr(b, key);
	size_t i;

	if (p == NULL)
		return 0;
	p += strlen(key);
	if (strlen(p) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)p[i]) || isupper((unsigned char)p[i]))
			return 0;
	}
	return p[14] == '4' && strchr("89ab", p[19]) != NULL;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
tokens(void)
{
	const char *run = "{\"ImageId\":\"ami-1\",\"MinCount\":1,\"MaxCount\":1}";
	char *a = body("ec2", "RunInstances", run), *b = body("ec2", "RunInstances", run);

	ok(starts(a, "Action=RunInstances&Version=2016-11-15&ImageId=ami-1&MinCount=1&MaxCount=1"
	    "&ClientToken=") && uuid4_at_end(a, "&ClientToken="),
	    "RunInstances without ClientToken: a random version 4 UUID is added last, as botocore "
	    "does");
	ok(strcmp(a, b) != 0, "a new token for each body");
	free(a);
	free(b);
	a = body("ec2", "CopyImage", "{\"Name\":\"n\",\"SourceImageId\":\"ami-1\","
	    "\"SourceRegion\":\"us-east-1\"}");
	ok(uuid4_at_end(a, "&ClientToken="), "CopyImage too");
	free(a);
	a = body("ec2", "RunInstances", "{\"ImageId\":\"ami-1\",\"MinCount\":1,\"MaxCount\":1,"
	    "\"UserData\":\"\"}");
	ok(starts(a, "Action=RunInstances&Version=2016-11-15&ImageId=ami-1&MinCount=1&MaxCount=1"
	    "&UserData=&ClientToken="), "empty UserData is sent empty");
	free(a);
}

static void
nothing(void)
{
	char *b, *err = NULL;

	b = ec2query_body(op("sts", "GetCallerIdentity"), jv_null(), &err);
	is_str(b, "Action=GetCallerIdentity&Version=2011-06-15", "null parameters are none");
	free(b);
	b = ec2query_body(op("ec2", "DescribeImages"), jv_object(), &err);
	is_str(b, "Action=DescribeImages&Version=2016-11-15", "{} is none");
	free(b);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-ec2query CASES.jsonl\n");
		return 2;
	}
	cases(argv[1]);
	tokens();
	nothing();

	fails("ec2", "DescribeImages", "{\"Owner\":[\"self\"]}",
	    "error: unknown parameter \"Owner\"");
	fails("ec2", "DescribeImages", "{\"Filters\":[{\"Name\":\"n\",\"Values\":[\"v\"]},"
	    "{\"Nmae\":\"n\"}]}", "error: unknown parameter \"Filters[1].Nmae\"");
	fails("ec2", "DescribeImages", "{\"MaxResults\":\"1000\"}",
	    "error: MaxResults: expected an integer, got a string");
	fails("ec2", "DescribeImages", "{\"MaxResults\":1.5}",
	    "error: MaxResults: expected an integer, got a number");
	fails("ec2", "DescribeImages", "{\"DryRun\":\"true\"}",
	    "error: DryRun: expected a boolean, got a string");
	fails("ec2", "DescribeImages", "{\"DryRun\":null}",
	    "error: DryRun: expected a boolean, got null");
	fails("ec2", "DescribeImages", "{\"Owners\":\"self\"}",
	    "error: Owners: expected a list, got a string");
	fails("ec2", "DescribeImages", "{\"Filters\":[\"tag:Project=web\"]}",
	    "error: Filters[0]: expected an object, got a string");
	fails("ec2", "DescribeImages", "{\"Filters\":[{\"Name\":\"n\",\"Values\":[\"a\",5]}]}",
	    "error: Filters[0].Values[1]: expected a string, got a number");
	fails("ec2", "DescribeImages", "[\"self\"]",
	    "error: parameters: expected an object, got a list");
	fails("ec2", "DeregisterImage", "{\"DryRun\":true}",
	    "error: missing required parameter \"ImageId\"");
	fails("ec2", "CreateTags", "{\"Resources\":[\"ami-1\"]}",
	    "error: missing required parameter \"Tags\"");
	fails("ec2", "EnableImageDeprecation", "{\"ImageId\":\"ami-1\",\"DeprecateAt\":\"tomorrow\"}",
	    "error: DeprecateAt: expected a timestamp, got \"tomorrow\"");
	fails("ec2", "EnableImageDeprecation", "{\"ImageId\":\"ami-1\",\"DeprecateAt\":true}",
	    "error: DeprecateAt: expected a timestamp, got a boolean");
	fails("ec2", "RunInstances", "{\"ImageId\":\"ami-1\",\"MinCount\":1,\"MaxCount\":1,"
	    "\"BlockDeviceMappings\":[{\"Ebs\":{\"VolumeSize\":\"16\"}}]}",
	    "error: BlockDeviceMappings[0].Ebs.VolumeSize: expected an integer, got a string");
	fails("sts", "AssumeRole", "{\"RoleArn\":\"arn:aws:iam::1:role/r\","
	    "\"RoleSessionName\":\"s\",\"PolicyArns\":[{\"Arn\":\"x\"}]}",
	    "error: unknown parameter \"PolicyArns[0].Arn\"");
	fails("sts", "GetCallerIdentity", "{\"DryRun\":true}",
	    "error: unknown parameter \"DryRun\"");
	return done_testing();
}
