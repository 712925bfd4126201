/* awsjson.h: the JSON 1.1 protocol (SSM): requests, responses and errors, driven by ec2model.h. */
#ifndef AMICYCLE_AWSJSON_H
#define AMICYCLE_AWSJSON_H

#include <stddef.h>
#include <jv.h>

#include "ec2model.h"

/*
 * Serialises the parameters of op (protocol EC2_PROTO_JSON), an object in the CLI's JSON form
 * such as {"ParameterFilters":[{"Key":"Type","Values":["String"]}],"MaxResults":50}, into the
 * request body, as botocore does: members under their wire names, in the order of params; null
 * values left out; timestamps (an RFC 3339 string or epoch seconds) as the model says, epoch
 * seconds (a number) by default; blobs (strings) base64-encoded; floats may also be "NaN",
 * "Infinity" or "-Infinity"; documents as they are. An operation without input, or no params,
 * sends "{}". The request also carries op->target as X-Amz-Target and op->content_type as its
 * Content-Type (sigv4_post_lines()).
 *
 * Consumes params (an object, or jv_null() for none). Returns the body (malloc'd, NUL-terminated),
 * or NULL and a malloc'd *errmsg when a parameter is unknown, of the wrong type or missing, in
 * ec2query_body()'s words: "unknown parameter \"ParameterFilters[0].Kye\"",
 * "Names: expected a list, got a string", "missing required parameter \"Names\"".
 */
char	*awsjson_body(const struct ec2_operation *op, jv params, char **errmsg);

/*
 * Parses the body of a successful response to op (HTTP 2xx) the way the AWS CLI v2 prints it:
 * members under their JSON names, in model order; members the model does not know (__type
 * among them) and nulls left out; timestamps as ec2xml_parse() prints them
 * ("2024-05-01T12:34:56+00:00"; epoch seconds in the local time zone, as the CLI does); blobs as
 * the base64 text
 * sent; "NaN", "Infinity" and "-Infinity" floats as those strings. An action without output
 * gives {}, and so does an empty body where the output has no members (elsewhere it is an error:
 * an empty listing must not read as "none").
 *
 * Consumes nothing. Returns the object (the caller owns it), or jv_invalid_with_msg() with
 * "malformed JSON response: ...", "bad response: an empty body" or "bad response: PATH:
 * expected ..., got ...".
 * The request id is the x-amzn-RequestId header's (http.h).
 */
jv	awsjson_parse(const struct ec2_operation *op, const char *body, size_t len);

/*
 * Reads an error response: {"__type":"com.amazonaws.ssm#ParameterNotFound","message":"..."}.
 * The code is __type, else "code", else error_type (the X-Amzn-ErrorType header, or NULL), with
 * any "NAMESPACE#" before it and ":..." after it cut; the message is "message", else "Message".
 * Returns 0 and malloc'd strings (*message NULL when absent; either pointer may be NULL if not
 * wanted), or -1, setting nothing, when no code is found: the caller then reports the HTTP status.
 */
int	awsjson_error(const char *body, size_t len, const char *error_type, char **code,
	    char **message);

#endif
