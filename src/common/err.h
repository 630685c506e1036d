/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: error reporting.  The details of a failure are kept per thread for
 * promc_last_error(). */
#ifndef PROMC_COMMON_ERR_H
#define PROMC_COMMON_ERR_H

#include <promc/errors.h>

/* Records details for promc_last_error() and returns `err`, so a failure path reads
 * `return promc__err(PROMC_ENAME, "metric name '%s': ...", name);`. */
int promc__err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Empties promc_last_error() after a success. */
void promc__err_clear(void);

#endif
