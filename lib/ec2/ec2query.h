/* ec2query.h: request parameters in the AWS CLI's JSON form to a Query protocol body (EC2, STS). */
#ifndef AMICYCLE_EC2QUERY_H
#define AMICYCLE_EC2QUERY_H

#include <jv.h>

#include "ec2model.h"

/*
 * Serialises the parameters of op, an object in the CLI's JSON form such as
 *   {"Owners":["self"],"Filters":[{"Name":"tag:Project","Values":["web"]}],"MaxResults":1000}
 * into the form-encoded POST body, as botocore does:
 *   Action=DescribeImages&Version=2016-11-15&Owner.1=self&Filter.1.Name=tag%3AProject&...
 * Members and map entries go in the order of params, as botocore writes the CLI's: the body is the
 * CLI's byte for byte. EC2 flattens lists as Key.N and drops empty ones; the Query protocol
 * (STS) writes Key.member.N, and "Key=" for an empty list. Booleans are true/false; timestamps
 * (an RFC 3339 string or epoch seconds) are written as the model says, ISO 8601 by default
 * ("2015-01-25T08:00:00Z"); blobs (strings) are base64-encoded; floats may also be "NaN",
 * "Infinity" or "-Infinity". Keys and values are encoded like Python's urlencode(): all but
 * A-Za-z0-9-_.~ as %XX, a space as "+". An idempotency token the caller leaves out (RunInstances'
 * and CopyImage's ClientToken) is filled with a random UUID, as botocore does; retries must send
 * the same body again. As in the CLI (botocore's base64_encode_user_data), RunInstances' UserData
 * is given as text and sent in base64.
 *
 * Consumes params (an object, or jv_null() for none). Returns the body (malloc'd, NUL-terminated),
 * or NULL and a malloc'd *errmsg when a parameter is unknown, of the wrong type or missing:
 * "unknown parameter \"Filters[0].Nmae\"", "Filters[0].Values: expected a list, got a string",
 * "missing required parameter \"ImageId\"". Nothing is silently dropped.
 */
char	*ec2query_body(const struct ec2_operation *op, jv params, char **errmsg);

/*
 * A timestamp given as epoch seconds (a number, or a string of one) or an RFC 3339 string, as
 * the CLI takes it, written into buf in format: ISO 8601 "2015-01-25T08:00:00Z" (".123000Z" with
 * a fraction), epoch seconds "1422172800", or an HTTP date. Borrows v. Returns 0, or -1 and *why
 * ("expected a timestamp", "timestamp out of range").
 */
int	ec2query_timestamp(jv v, enum ec2_tsformat format, char buf[64], const char **why);

/* What v (borrowed) is, for messages: "a string", "a list", "null", ... */
const char	*ec2query_kind_name(jv v);

/* n bytes of data in base64, padded, malloc'd. */
char	*ec2query_base64(const void *data, size_t n);

#endif
