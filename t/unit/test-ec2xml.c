/*
 * Unit tests for lib/ec2/ec2xml.c: realistic EC2 and STS responses read into the AWS CLI's JSON.
 *
 *   test-ec2xml DIR
 *
 * DIR (t/t0104) holds SERVICE-ACTION.xml responses and the JSON the AWS CLI prints for each
 * (t/t0105 checks those against the CLI's own parser when awscli is installed). The rest is
 * built here: errors, truncated and malformed bodies, namespaces, encodings, large responses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "ec2model.h"
#include "ec2xml.h"

static const struct fixture {
	const char	*service;
	const char	*action;
	const char	*request_id;
} fixtures[] = {
	{ "ec2", "DescribeImages", "59dbff89-35bd-4eac-99ed-be587EXAMPLE" },
	{ "ec2", "DescribeInstances", "8f7724cf-496f-496e-8fe3-example" },
	{ "ec2", "DescribeSnapshots", "59dbff89-35bd-4eac-99ed-be587EXAMPLE" },
	{ "ec2", "DescribeImageAttribute", "59dbff89-35bd-4eac-99ed-be587EXAMPLE" },
	{ "ec2", "DescribeLaunchTemplateVersions", "65cadec1-b364-4354-8ca8-4176dexample" },
	{ "ec2", "TerminateInstances", "59dbff89-35bd-4eac-99ed-be587EXAMPLE" },
	{ "ec2", "GetConsoleOutput", "59dbff89-35bd-4eac-99ed-be587EXAMPLE" },
	{ "ec2", "DeregisterImage", "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE" },
	{ "ec2", "CreateTags", "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE" },
	{ "sts", "AssumeRole", "c6104cbe-af31-11e0-8154-cbc7ccf896c7" },
	{ "sts", "AssumeRoleWithWebIdentity", "ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE" },
	{ "sts", "GetCallerIdentity", "01234567-89ab-cdef-0123-456789abcdef" },
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp;
	char *buf = NULL;
	size_t cap = 0, n;

	if ((fp = fopen(path, "rb")) == NULL) {
		printf("Bail out! cannot open %s\n", path);
		exit(1);
	}
	*len = 0;
	do {
		if (*len + 4096 + 1 > cap)
			buf = realloc(buf, cap = 2 * cap + 4096 + 1);
		n = fread(buf + *len, 1, 4096, fp);
		*len += n;
	} while (n > 0);
	fclose(fp);
	buf[*len] = '\0';
	return buf;
}

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

/* The compact JSON of v (consumed), members in the order they are; the caller frees it. */
static char *
dump(jv v)
{
	jv s;
	char *r;

	if (!jv_is_valid(v)) {
		s = jv_invalid_get_msg(v);
		r = strdup(jv_get_kind(s) == JV_KIND_STRING ? jv_string_value(s) : "invalid");
		jv_free(s);
		return r;
	}
	s = jv_dump_string(v, 0);
	r = strdup(jv_string_value(s));
	jv_free(s);
	return r;
}

static void
fixture(const char *dir, const struct fixture *f)
{
	char path[4096], *body, *rid = NULL, *got, *want;
	size_t len;
	jv out, expect;

	snprintf(path, sizeof(path), "%s/%s-%s.xml", dir, f->service, f->action);
	body = slurp(path, &len);
	snprintf(path, sizeof(path), "%s/%s-%s.json", dir, f->service, f->action);
	expect = jv_array_get(jv_load_file(path, 0), 0);
	out = ec2xml_parse(op(f->service, f->action), body, len, &rid);
	ok(jv_equal(jv_copy(out), jv_copy(expect)), "%s %s: the output the AWS CLI prints",
	    f->service, f->action);
	got = dump(out);
	want = dump(expect);
	is_str(got, want, "%s %s: members in the CLI's order", f->service, f->action);
	is_str(rid, f->request_id, "%s %s: request id", f->service, f->action);
	free(got);
	free(want);
	free(rid);
	free(body);
}

/* Parses body as action's response; returns its compact JSON or the error message. */
static char *
parse(const char *service, const char *action, const char *body, char **rid)
{
	return dump(ec2xml_parse(op(service, action), body, strlen(body), rid));
}

static void
parsed_as(const char *service, const char *action, const char *body, const char *want,
    const char *what)
{
	char *got = parse(service, action, body, NULL);

	is_str(got, want, "%s", what);
	free(got);
}

static void
errors(void)
{
	char *code = NULL, *msg = NULL, *rid = NULL;
	const char *ec2 =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Response><Errors><Error><Code>InvalidAMIID.NotFound</Code>"
	    "<Message>The image id '[ami-0abcdef1234567890]' does not exist</Message></Error>"
	    "</Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>";
	const char *dryrun =
	    "<Response><Errors><Error><Code>DryRunOperation</Code><Message>Request would have "
	    "succeeded, but DryRun flag is set.</Message></Error></Errors>"
	    "<RequestID>5b2d4c9d-0000-example</RequestID></Response>";
	const char *sts =
	    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
	    "  <Error>\n    <Type>Sender</Type>\n    <Code>InvalidIdentityToken</Code>\n"
	    "    <Message>No OpenIDConnect provider found in your account for https://token."
	    "actions.githubusercontent.com</Message>\n  </Error>\n"
	    "  <RequestId>7e0f6a3c-0000-example</RequestId>\n</ErrorResponse>\n";
	const char *twice =
	    "<Response><Errors><Error><Code>First</Code></Error><Error><Code>Second</Code>"
	    "<Message>no</Message></Error></Errors></Response>";

	ok(ec2xml_error(ec2, strlen(ec2), &code, &msg, &rid) == 0, "EC2 error: read");
	is_str(code, "InvalidAMIID.NotFound", "EC2 error: code");
	is_str(msg, "The image id '[ami-0abcdef1234567890]' does not exist", "EC2 error: message");
	is_str(rid, "ea966190-f9aa-478e-9ede-example", "EC2 error: request id (<RequestID>)");
	free(code);
	free(msg);
	free(rid);

	ok(ec2xml_error(dryrun, strlen(dryrun), &code, NULL, NULL) == 0, "DryRun error: read");
	is_str(code, "DryRunOperation", "DryRun error: code, with message and id not wanted");
	free(code);

	ok(ec2xml_error(sts, strlen(sts), &code, &msg, &rid) == 0, "STS error: read");
	is_str(code, "InvalidIdentityToken", "STS error: code");
	is_str(msg, "No OpenIDConnect provider found in your account for "
	    "https://token.actions.githubusercontent.com", "STS error: message");
	is_str(rid, "7e0f6a3c-0000-example", "STS error: request id (<RequestId>)");
	free(code);
	free(msg);
	free(rid);

	code = msg = rid = NULL;
	ok(ec2xml_error(twice, strlen(twice), &code, &msg, &rid) == 0 &&
	    strcmp(code, "First") == 0 && msg == NULL && rid == NULL,
	    "several errors: the first; no message or request id is NULL");
	free(code);

	code = msg = rid = NULL;
	ok(ec2xml_error("<html><body><b>Http/1.1 Service Unavailable</b></body></html>", 62,
	    &code, &msg, &rid) == -1 && code == NULL, "an HTML page is no EC2 error");
	ok(ec2xml_error("", 0, &code, &msg, &rid) == -1 && code == NULL, "an empty body neither");
	ok(ec2xml_error(ec2, 120, &code, &msg, &rid) == -1 && code == NULL,
	    "a truncated error body neither");
	ok(ec2xml_error("<CreateTagsResponse><requestId>x</requestId><return>true</return>"
	    "</CreateTagsResponse>", 86, &code, &msg, &rid) == -1 && code == NULL,
	    "a successful response neither");
	ok(ec2xml_error("<Response><Code>X</Code></Response>", 35, &code, &msg, &rid) == -1,
	    "a <Code> outside <Error> does not count");
}

/* Every proper prefix of a response is an error that says the XML is malformed. */
static void
truncated(const char *dir)
{
	char path[4096], *body, *msg, *end;
	size_t len, cut, bad = 0;
	jv out, m;

	snprintf(path, sizeof(path), "%s/ec2-DescribeImages.xml", dir);
	body = slurp(path, &len);
	end = strstr(body, "</DescribeImagesResponse>");
	for (cut = 0; cut < (size_t)(end - body) + strlen("</DescribeImagesResponse>"); cut++) {
		out = ec2xml_parse(op("ec2", "DescribeImages"), body, cut, NULL);
		if (jv_is_valid(out) || !jv_invalid_has_msg(jv_copy(out))) {
			bad++;
			jv_free(out);
			continue;
		}
		m = jv_invalid_get_msg(out);
		if (strncmp(jv_string_value(m), "malformed XML response: ", 24) != 0)
			bad++;
		jv_free(m);
	}
	ok(bad == 0, "each of the %zu truncations of DescribeImages is \"malformed XML response\"",
	    cut);
	msg = parse("ec2", "DescribeImages", "<DescribeImagesResponse><imagesSet><item><imageId>"
	    "ami-1</imageId></item></imag", NULL);
	is_str(msg, "malformed XML response: unclosed token at line 1",
	    "cut inside a tag: the message names expat's error and the line");
	free(msg);
	msg = parse("ec2", "DescribeImages", "", NULL);
	is_str(msg, "malformed XML response: no element found at line 1", "an empty body");
	free(msg);
	msg = parse("ec2", "DescribeImages", "<html><body>502 Bad Gateway</html>", NULL);
	is_str(msg, "malformed XML response: mismatched tag at line 1", "not XML");
	free(msg);
	free(body);
}

static void
values(void)
{
	char *rid = NULL, *got;

	parsed_as("ec2", "DescribeImages", "<DescribeImagesResponse><imagesSet><item>"
	    "<blockDeviceMapping><item><ebs><volumeSize>eight</volumeSize></ebs></item>"
	    "</blockDeviceMapping></item></imagesSet></DescribeImagesResponse>",
	    "bad response: an integer expected, got \"eight\" at line 1",
	    "an integer that is not one is an error, as in the CLI");
	parsed_as("ec2", "DescribeSnapshots", "<DescribeSnapshotsResponse><snapshotSet><item>"
	    "<startTime>yesterday</startTime></item></snapshotSet></DescribeSnapshotsResponse>",
	    "bad response: a timestamp expected, got \"yesterday\" at line 1",
	    "so is a timestamp that is not one");
	parsed_as("ec2", "DescribeSnapshots", "<DescribeSnapshotsResponse><snapshotSet><item>"
	    "<startTime>99999999999999</startTime></item></snapshotSet></DescribeSnapshotsResponse>",
	    "bad response: a timestamp expected, got \"99999999999999\" at line 1",
	    "epoch seconds past year 9999 are an error, not \"+00:00\"");
	parsed_as("ec2", "DescribeSnapshots", "<DescribeSnapshotsResponse><snapshotSet><item>"
	    "<startTime>-99999999999999</startTime></item></snapshotSet></DescribeSnapshotsResponse>",
	    "bad response: a timestamp expected, got \"-99999999999999\" at line 1",
	    "so are epoch seconds before year 1");
	parsed_as("ec2", "DescribeSnapshots", "<DescribeSnapshotsResponse><snapshotSet><item>"
	    "<startTime>0000-01-01T00:00:00Z</startTime></item></snapshotSet></DescribeSnapshotsResponse>",
	    "bad response: a timestamp expected, got \"0000-01-01T00:00:00Z\" at line 1",
	    "and year 0");
	parsed_as("ec2", "DescribeSnapshots", "<DescribeSnapshotsResponse><snapshotSet><item>"
	    "<startTime>253402300799</startTime></item></snapshotSet></DescribeSnapshotsResponse>",
	    "{\"Snapshots\":[{\"StartTime\":\"9999-12-31T23:59:59+00:00\"}]}",
	    "the last second of year 9999 is still a timestamp");
	parsed_as("ec2", "DescribeSnapshots", "<DescribeSnapshotsResponse><snapshotSet>"
	    "<item><startTime>2024-05-01T12:34:56Z</startTime></item>"
	    "<item><startTime> 2024-05-01T12:34:56.000001Z </startTime></item>"
	    "<item><startTime>2024-05-01T12:34:56.9999999-05:30</startTime></item>"
	    "<item><startTime>2024-05-01t12:34:56z</startTime></item>"
	    "<item><startTime>2024-05-01T12:34:56</startTime></item>"
	    "<item><startTime>Wed, 01 May 2024 12:34:56 GMT</startTime></item>"
	    "</snapshotSet></DescribeSnapshotsResponse>",
	    "{\"Snapshots\":[{\"StartTime\":\"2024-05-01T12:34:56+00:00\"},"
	    "{\"StartTime\":\"2024-05-01T12:34:56.000001+00:00\"},"
	    "{\"StartTime\":\"2024-05-01T12:34:56.999999-05:30\"},"
	    "{\"StartTime\":\"2024-05-01T12:34:56+00:00\"},"
	    "{\"StartTime\":\"2024-05-01T12:34:56\"},"
	    "{\"StartTime\":\"2024-05-01T12:34:56+00:00\"}]}",
	    "timestamps as CLI v2 prints them: offset kept, microseconds cut, no offset stays none");
	parsed_as("ec2", "DescribeImages", "<ec2:DescribeImagesResponse "
	    "xmlns:ec2=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><ec2:imagesSet><ec2:item>"
	    "<ec2:imageId>ami-1</ec2:imageId><ec2:isPublic>true</ec2:isPublic></ec2:item>"
	    "</ec2:imagesSet></ec2:DescribeImagesResponse>",
	    "{\"Images\":[{\"ImageId\":\"ami-1\",\"Public\":true}]}",
	    "namespace prefixes do not matter");
	parsed_as("ec2", "DescribeImages", "<DescribeImagesResponse><imagesSet><item>"
	    "<imageId>ami-1</imageId><name><![CDATA[a<b & c]]></name><description>x&#10;y"
	    "</description><isPublic>yes</isPublic><imageId>ami-2</imageId><stateReason>"
	    "<code>c1</code></stateReason><stateReason><code>c2</code></stateReason></item>"
	    "</imagesSet></DescribeImagesResponse>",
	    "{\"Images\":[{\"Description\":\"x\\ny\",\"Name\":\"a<b & c\",\"StateReason\":"
	    "{\"Code\":\"c1\"},\"ImageId\":\"ami-1\",\"Public\":false}]}",
	    "CDATA and character references; a boolean other than true is false; "
	    "a repeated member: the first");
	parsed_as("ec2", "DescribeImages",
	    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><DescribeImagesResponse><imagesSet>"
	    "<item><name>caf\xe9</name></item></imagesSet></DescribeImagesResponse>",
	    "{\"Images\":[{\"Name\":\"caf\xc3\xa9\"}]}", "a declared encoding is honoured");
	parsed_as("ec2", "DescribeImages", "<DescribeImagesResponse><imagesSet><item>"
	    "<name>a<b>ignored</b>c</name></item></imagesSet></DescribeImagesResponse>",
	    "{\"Images\":[{\"Name\":\"a\"}]}", "a scalar is the text before its first child");
	parsed_as("ec2", "DescribeImages", "<DescribeImagesResponse><requestId>r</requestId>"
	    "</DescribeImagesResponse>", "{}", "no images element: no Images member");
	parsed_as("ec2", "DescribeImages", "<DescribeImagesResponse><imagesSet>\n</imagesSet>"
	    "</DescribeImagesResponse>", "{\"Images\":[]}", "an empty list is []");
	parsed_as("sts", "GetCallerIdentity", "<GetCallerIdentityResponse><ResponseMetadata>"
	    "<RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
	    "bad response: no <GetCallerIdentityResult> element",
	    "STS: a response without its result element is an error");

	parsed_as("ec2", "GetConsoleOutput", "<GetConsoleOutputResponse><output>QUJD\nREVG</output>"
	    "</GetConsoleOutputResponse>", "{\"Output\":\"ABCDEF\"}",
	    "console output: line breaks in the base64 are skipped");
	parsed_as("ec2", "GetConsoleOutput", "<GetConsoleOutputResponse><output>/w==QQ==</output>"
	    "</GetConsoleOutputResponse>", "{\"Output\":\"\xef\xbf\xbd\"}",
	    "console output: a bad UTF-8 byte is U+FFFD; the data ends at its padding");
	parsed_as("ec2", "GetConsoleOutput", "<GetConsoleOutputResponse><output>not base64!</output>"
	    "</GetConsoleOutputResponse>", "{\"Output\":\"not base64!\"}",
	    "console output that is not base64 is left as it came");
	got = parse("ec2", "DeleteSnapshot", "<DeleteSnapshotResponse><requestId>id-1</requestId>"
	    "<return>true</return></DeleteSnapshotResponse>", &rid);
	ok(strcmp(got, "{}") == 0 && rid != NULL && strcmp(rid, "id-1") == 0,
	    "an action without output: {} and the request id");
	free(got);
	free(rid);
	got = parse("ec2", "DescribeImages", "<DescribeImagesResponse><imagesSet/>"
	    "</DescribeImagesResponse>", &rid);
	ok(rid == NULL, "no request id: NULL");
	free(got);
	got = parse("ec2", "DescribeImages", "<DescribeImagesResponse><requestId>id-2</requestId>"
	    "<imagesSet><item></DescribeImagesResponse>", &rid);
	ok(rid != NULL && strcmp(rid, "id-2") == 0, "a broken response still gives its request id");
	free(got);
	free(rid);
}

/* A large response: n images, each like the fixture's first. */
static void
large(void)
{
	static const char item[] =
	    "<item><imageId>ami-%08d</imageId><imageLocation>123456789012/web-%d</imageLocation>"
	    "<imageState>available</imageState><imageOwnerId>123456789012</imageOwnerId>"
	    "<creationDate>2024-05-01T12:34:56.000Z</creationDate><isPublic>false</isPublic>"
	    "<architecture>x86_64</architecture><imageType>machine</imageType>"
	    "<name>web-%d</name><description>Web server image number %d, built by CI from "
	    "the main branch of the web repository</description>"
	    "<rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>"
	    "<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs>"
	    "<snapshotId>snap-%08d</snapshotId><volumeSize>8</volumeSize>"
	    "<deleteOnTermination>true</deleteOnTermination><volumeType>gp3</volumeType>"
	    "<encrypted>false</encrypted></ebs></item></blockDeviceMapping>"
	    "<virtualizationType>hvm</virtualizationType><tagSet><item><key>Name</key>"
	    "<value>web</value></item><item><key>Build</key><value>%d</value></item></tagSet>"
	    "<hypervisor>xen</hypervisor><enaSupport>true</enaSupport></item>\n";
	const int n = 5000;
	char *body, *p, *console;
	size_t cap = (size_t)n * (sizeof(item) + 64) + 256, size = 4 << 20;
	clock_t t0;
	jv out, last;
	int i;

	body = malloc(cap);
	p = body + sprintf(body, "<DescribeImagesResponse><requestId>r</requestId><imagesSet>\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, item, i, i, i, i, i, i);
	sprintf(p, "</imagesSet><nextToken>t</nextToken></DescribeImagesResponse>");
	t0 = clock();
	out = ec2xml_parse(op("ec2", "DescribeImages"), body, strlen(body), NULL);
	printf("# %d images, %zu bytes: %.3f s of CPU\n", n, strlen(body),
	    (double)(clock() - t0) / CLOCKS_PER_SEC);
	ok(jv_is_valid(out) &&
	    jv_array_length(jv_object_get(jv_copy(out), jv_string("Images"))) == n,
	    "%d images (%zu MB) parsed", n, strlen(body) >> 20);
	last = jv_array_get(jv_object_get(jv_copy(out), jv_string("Images")), n - 1);
	p = dump(jv_object_get(jv_copy(last), jv_string("Tags")));
	is_str(p, "[{\"Key\":\"Name\",\"Value\":\"web\"},{\"Key\":\"Build\",\"Value\":\"4999\"}]",
	    "the last image is whole");
	free(p);
	jv_free(last);
	jv_free(out);
	free(body);

	/* One long text, as GetConsoleOutput sends: 4 MB of base64, arriving in many pieces. */
	console = malloc(size + 200);
	p = console + sprintf(console, "<GetConsoleOutputResponse><output>");
	for (i = 0; i < (int)size; i += 4)
		memcpy(p + i, "QUJD", 4);
	p += size;
	sprintf(p, "</output></GetConsoleOutputResponse>");
	out = ec2xml_parse(op("ec2", "GetConsoleOutput"), console, strlen(console), NULL);
	out = jv_object_get(out, jv_string("Output"));
	ok(jv_get_kind(out) == JV_KIND_STRING &&
	    (size_t)jv_string_length_bytes(jv_copy(out)) == size / 4 * 3 &&
	    strncmp(jv_string_value(out), "ABCABC", 6) == 0,
	    "a 4 MB text value: GetConsoleOutput's, decoded from base64 as the CLI does");
	jv_free(out);
	free(console);
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: test-ec2xml DIR\n");
		return 2;
	}
	setenv("TZ", "UTC", 1);		/* epoch seconds are shown in local time */
	tzset();
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		fixture(argv[1], &fixtures[i]);
	errors();
	truncated(argv[1]);
	values();
	large();
	return done_testing();
}
