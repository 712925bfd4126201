/* report.h: test results for CI systems: TAP on stdout, JUnit XML in a file. */
#ifndef AMICYCLE_REPORT_H
#define AMICYCLE_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include <jv.h>

/* "1..N" on stdout (through out.h, like every line here). */
void	tap_plan(size_t n);

/*
 * "ok N - DESC" or "not ok N - DESC", DESC on one line with '#' and '\' escaped ('#' would start
 * a directive), then each line of diag (NULL for none) as a "#   " comment. Flushed.
 */
void	tap_test(size_t n, int ok, const char *desc, const char *diag);

/*
 * Writes a JUnit XML document to fp. Borrows suites: an array of
 * {"name","hostname","cases":[CASE...]}, CASE being {"classname","name","time" (seconds),
 * "failure" (its message; absent or null when the case passed),"stdout","stderr"}. The totals are
 * counted here. Text is escaped for XML 1.0; characters XML cannot hold become U+FFFD.
 */
void	junit_write(FILE *fp, jv suites);

#endif
