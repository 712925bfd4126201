/* ec2xml.h: EC2 and STS responses (XML) read into the AWS CLI's JSON, driven by ec2model.h. */
#ifndef AMICYCLE_EC2XML_H
#define AMICYCLE_EC2XML_H

#include <stddef.h>
#include <jv.h>

#include "ec2model.h"

/*
 * Parses the body of a successful response to op (HTTP 2xx) the way the AWS CLI v2 does and
 * returns the output object as the CLI prints it (without ResponseMetadata): members under their
 * JSON names, in model order; lists as arrays (an empty <tagSet/> is []); booleans, integers and
 * floats typed ("true" is true; float NaN and infinities become "NaN", "Infinity", "-Infinity",
 * which JSON cannot hold); timestamps as the CLI prints them, "2024-05-01T12:34:56+00:00", with
 * ".123000" when there is a fraction and the offset as sent (epoch-second timestamps in the local
 * time zone, as the CLI does); blobs as the base64 text sent; strings as sent. Elements the model
 * does not know are ignored, and so are namespaces. An action without output gives {}, and so
 * does an empty body where the output has no members (anywhere else it is an error). As in
 * the CLI (botocore's decode_console_output), GetConsoleOutput's Output is decoded from base64.
 *
 * Consumes nothing. Returns the object (the caller owns it), or jv_invalid_with_msg() with
 * "malformed XML response: unclosed token at line 1" (truncated or not XML) or "bad response:
 * ..." (a value that is not of its type, or no <AssumeRoleResult> wrapper). If request_id is not
 * NULL, *request_id gets the request id (EC2's <requestId>, STS's <ResponseMetadata><RequestId>),
 * malloc'd, or NULL when there is none; it is set on failure too, as far as it was read.
 */
jv	ec2xml_parse(const struct ec2_operation *op, const char *body, size_t len,
	    char **request_id);

/*
 * Reads an error response: EC2's <Response><Errors><Error><Code>..</Code><Message>..</Message>
 * </Error></Errors><RequestID>..</RequestID></Response> or the Query protocol's (STS)
 * <ErrorResponse><Error><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId>
 * </ErrorResponse>. Returns 0 and malloc'd strings (*message and *request_id NULL when absent;
 * any pointer may be NULL if not wanted), or -1, setting nothing, when the body is not such an
 * error (not XML, no <Code>): the caller then reports the HTTP status.
 */
int	ec2xml_error(const char *body, size_t len, char **code, char **message, char **request_id);

/*
 * A timestamp as received (ISO 8601 with or without offset, epoch seconds, an HTTP date) as the
 * AWS CLI prints it, "2024-05-01T12:34:56+00:00" (see ec2xml_parse()), into out. Returns 0, or -1
 * when s is none of these.
 */
int	ec2xml_timestamp(const char *s, size_t len, char out[40]);

#endif
