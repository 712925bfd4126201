/* ec2model.h: the shapes of the actions we call (EC2, STS, Auto Scaling, SSM), from the models. */
#ifndef AMICYCLE_EC2MODEL_H
#define AMICYCLE_EC2MODEL_H

/*
 * lib/ec2model.c is written by tools/gen-model.py from botocore's service models and committed;
 * ec2query.h serialises requests and ec2xml.h parses responses by walking these tables. Names
 * are the model's: JSON names are those the AWS CLI prints and takes.
 */

enum ec2_type {
	EC2_STRUCTURE, EC2_LIST, EC2_MAP, EC2_STRING, EC2_BOOLEAN, EC2_INTEGER, EC2_LONG,
	EC2_FLOAT, EC2_DOUBLE, EC2_TIMESTAMP, EC2_BLOB,
	EC2_DOCUMENT		/* any JSON, as it is (the JSON protocol's documents) */
};

/*
 * EC2's dialect of the Query protocol, the Query protocol itself (STS, Auto Scaling), or the JSON
 * protocol (SSM: a JSON body, X-Amz-Target, awsjson.h).
 */
enum ec2_protocol {
	EC2_PROTO_EC2, EC2_PROTO_QUERY, EC2_PROTO_JSON
};

/* How a timestamp travels: ISO 8601 (the default), epoch seconds, or RFC 822 (HTTP dates). */
enum ec2_tsformat {
	EC2_TS_ISO8601, EC2_TS_UNIX, EC2_TS_RFC822
};

#define EC2_M_FLATTENED		0x01	/* a list or map whose items repeat without a wrapper */
#define EC2_M_REQUIRED		0x02	/* a request must give it */
#define EC2_M_IDEMPOTENT	0x04	/* an idempotency token: filled with a UUID when not given */

struct ec2_shape;

/*
 * A reference to a shape: a structure's member, a list's element, a map's key or value. The
 * element name and query key are those of the member's role:
 *   structure member: name is the JSON name, xml the element name in responses, query the key in
 *     requests (the ".Name" segment); for the JSON protocol xml and query are both the key on the
 *     wire;
 *   list element: name NULL; xml NULL (every child of a list's element is an item); query the
 *     Query protocol's segment before the index (NULL: "member"), unused by EC2 (Name.N);
 *   map key and value: name NULL; xml and query the entry's key and value names.
 */
struct ec2_member {
	const char		*name;
	const char		*xml;
	const char		*query;
	const struct ec2_shape	*shape;
	unsigned char		 flags;		/* EC2_M_* */
	unsigned char		 tsformat;	/* enum ec2_tsformat, for timestamps */
};

/*
 * A shape. Structures have their members in model order (the order the AWS CLI prints them in),
 * and byxml, the member indices sorted by xml name (strcmp order). A list has one member, its
 * element; a map two, key then value; scalars none.
 */
struct ec2_shape {
	const char			*name;
	enum ec2_type			 type;
	unsigned			 nmembers;
	const struct ec2_member		*members;
	const unsigned short		*byxml;
};

/*
 * An action: its input and output shapes (NULL when it has none) and, for the Query protocol,
 * the element that wraps the output in the response (<AssumeRoleResult>). service is the model's
 * endpointPrefix, the prefix of an action name in ec2.h ("ssm:GetParameters") and the host's
 * first label; service_id names its endpoint configuration (awsconfig_endpoint("Auto Scaling")
 * reads AWS_ENDPOINT_URL_AUTO_SCALING).
 */
struct ec2_operation {
	const char		*service;	/* "ec2", "sts", "autoscaling", "ssm" */
	const char		*name;		/* "DescribeImages" */
	const char		*version;	/* the Version parameter, "2016-11-15" */
	enum ec2_protocol	 protocol;
	const char		*target;	/* JSON: X-Amz-Target, "AmazonSSM.GetParameters" */
	const char		*content_type;	/* JSON: "application/x-amz-json-1.1" */
	const char		*signing_name;	/* SigV4's service: "ec2", "autoscaling", "ssm" */
	const char		*service_id;	/* "EC2", "Auto Scaling", "SSM" */
	const struct ec2_shape	*input;
	const struct ec2_shape	*output;
	const char		*result_wrapper;
};

/*
 * The shape the member called name of s holds or, when that is a list, its elements' shape
 * ("Images" of DescribeImages' output gives Image); NULL if s has no such member. In ec2shape.c.
 */
const struct ec2_shape *ec2model_member(const struct ec2_shape *s, const char *name);

/* The action name of service ("ec2", "sts", "autoscaling", "ssm"); NULL if the table lacks it. */
const struct ec2_operation *ec2model_operation(const char *service, const char *name);

#endif
