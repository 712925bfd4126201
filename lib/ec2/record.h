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

/*
 * 1 if s is an id of the resource the field idfield names: "ami-" for ImageId and SourceImageId,
 * "i-" for InstanceId, "snap-" for SnapshotId (any lowercase word for another field), then 8 or
 * 17 lowercase hex digits, as EC2 writes them.
 */
int		 rec_id_valid(const char *idfield, const char *s);

struct jsonl;

/*
 * Consumes rec, which the reader in has just read, and returns it: rec's idfield holds an id of
 * its resource (rec_id_valid()). Bad input ends the program: "PROG: FILE:LINE: ..." and exit 3.
 */
jv		 rec_require_id(struct jsonl *in, jv rec, const char *idfield);

/*
 * Consumes rec, which the reader in has just read. The check every filter that takes records makes
 * before any call: rec's idfield holds an id of its resource (rec_id_valid()), and rec is in a
 * region: its Region, else defregion, a region name either way (aws_region_valid()). Returns rec
 * with its Region set. Bad input ends the program: "PROG: FILE:LINE: ..." and exit 3.
 */
jv		 rec_require(struct jsonl *in, jv rec, const char *idfield, const char *defregion);

/*
 * Borrows rec, which the reader in has just read, for a filter of images: an instance record (it
 * has an InstanceId, and may name the image it was launched from) ends the program as bad input.
 */
void		 rec_require_image(struct jsonl *in, jv rec);

/* Borrows rec. The value of the tag key in rec's Tags, or NULL. Lives as long as rec does. */
const char	*rec_tag(jv rec, const char *key);

/* What became of a record: the Status of its Result. */
enum result_status {
	RESULT_NONE,		/* not decided yet: printed as "failed", never claimed done */
	RESULT_DONE,		/* "done" */
	RESULT_DRYRUN,		/* "dry-run": EC2 said DryRunOperation, it would have been done */
	RESULT_SKIPPED,		/* "skipped": nothing to do, or refused for a reason */
	RESULT_FAILED,		/* "failed" */
	RESULT_INTERRUPTED	/* "interrupted": a signal came before its call was sent */
};

/* The Status that r is printed as. */
const char	*result_name(enum result_status r);

/*
 * Borrows rec. 1 if rec carries the Result of an earlier filter whose step did not happen: its
 * Status is "failed" or "interrupted". Such a record is passed on as it is, not acted on.
 */
int		 rec_failed(jv rec);

/*
 * Consumes rec. Returns rec with "Result":{"Action","Status","Reason","RequestId"}, replacing any
 * earlier Result; reason and request_id are left out when NULL.
 */
jv		 rec_result(jv rec, const char *action, enum result_status status, const char *reason,
		    const char *request_id);

/*
 * The account the filter acts in, when it may be another than the caller's own (--profile,
 * --role-arn): every Result rec_result() makes then has "Account". The string must outlive its
 * use; NULL leaves it out.
 */
void		 rec_result_account(const char *account);

/*
 * Borrows inputs. An idempotency token for a call that creates something (CopyImage,
 * RunInstances): prefix, then a digest of inputs as canonical JSON, at most 64 characters as EC2
 * allows. The same inputs give the same token, so a retry or a re-run returns the resource made
 * the first time instead of making another. The caller frees it.
 */
char		*client_token(const char *prefix, jv inputs);

#endif
