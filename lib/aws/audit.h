/* audit.h: the audit log: one JSON line per mutating EC2 call, written and flushed as it ends. */
#ifndef AMICYCLE_AUDIT_H
#define AMICYCLE_AUDIT_H

#include <jv.h>

/*
 * Opens the audit log for appending: path (--audit), else AMICYCLE_AUDIT_LOG, else none.
 * A log that cannot be opened ends the program with EXIT_FAIL before anything is changed.
 */
void	audit_open(const char *path);

/* 1 if mutating calls are being logged. */
int	audit_enabled(void);

/*
 * Appends one line for a call that has ended: time, caller, service ("ec2", "ssm", the model's
 * endpoint prefix), region, action, resources (ids; a launch template's id or name; an SSM
 * parameter's name), parameters, request id, outcome, and the attempts it took (after a lost answer, an earlier
 * attempt may have acted although the last one failed). Borrows params (the call's input) and
 * out (its output, or jv_null()); code is NULL on success. Credentials never reach the log; user
 * data is logged as its SHA-256.
 */
void	audit_call(const char *service, const char *region, const char *action, jv params, jv out,
	    const char *code, const char *message, const char *request_id,
	    const char *access_key_id, int attempts);

#endif
