/* record.h: the fields of AWS records that filters read and write: ids, Region, Tags, Result. */
#ifndef AMICYCLE_RECORD_H
#define AMICYCLE_RECORD_H

#include <jv.h>

/*
 * Borrows rec. The value of rec's string field, or NULL when it is missing, not a string or
 * empty. The pointer lives as long as rec does.
 */
const char	*rec_str(jv rec, const char *field);

/*
 * Borrows rec. The region rec is in: its Region, else defregion when it has none (missing or
 * null); NULL when neither, or when Region is not a non-empty string.
 */
const char	*rec_region(jv rec, const char *defregion);

/* Borrows rec. The value of the tag key in rec's Tags, or NULL. Lives as long as rec does. */
const char	*rec_tag(jv rec, const char *key);

/*
 * Consumes rec. Returns rec with "Result":{"Action","Status","Reason","RequestId"}, replacing any
 * earlier Result; reason and request_id are left out when NULL. Status is one of "done",
 * "dry-run", "skipped", "failed".
 */
jv		 rec_result(jv rec, const char *action, const char *status, const char *reason,
		    const char *request_id);

/*
 * Borrows inputs. An idempotency token for a call that creates something (CopyImage,
 * RunInstances): prefix, then a digest of inputs as canonical JSON, at most 64 characters as EC2
 * allows. The same inputs give the same token, so a retry or a re-run returns the resource made
 * the first time instead of making another. The caller frees it.
 */
char		*client_token(const char *prefix, jv inputs);

#endif
