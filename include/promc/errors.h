/* SPDX-License-Identifier: Apache-2.0 */
/* promc — error codes.
 *
 * Every fallible function returns int: 0 on success, a negative PROMC_E* code on failure.  Codes
 * are stable: a number is never reused for another meaning.  The library never prints, never aborts
 * and never exits; a refused call leaves every object as it was. */
#ifndef PROMC_ERRORS_H
#define PROMC_ERRORS_H

#include <promc/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, number, message).  One table makes the enum, promc_strerror() and promc_err_name().
 * Since: 0.1 */
#define PROMC_ERRNO_MAP(XX)                                                                        \
    XX(EINVAL, -1, "invalid argument")                                                             \
    XX(ENOMEM, -2, "out of memory")                                                                \
    XX(ENAME, -3, "invalid metric name")                                                           \
    XX(ELABELNAME, -4, "invalid label name")                                                       \
    XX(ERESERVED, -5, "reserved label name")                                                       \
    XX(ELABELCOUNT, -6, "wrong number of label values")                                            \
    XX(EDUPLICATE, -7, "duplicated time series in registry")                                       \
    XX(EBUCKETS, -8, "histogram buckets not strictly increasing or too few")                       \
    XX(EUNIT, -9, "invalid unit, or a unit on a type that cannot have one")                        \
    XX(ENEGATIVE, -10, "counters can only be incremented by non-negative amounts")                 \
    XX(ENOENT, -11, "no such series, state or collector")                                          \
    XX(ENOLABELS, -12, "the metric has no label names")                                            \
    XX(EOVERLAP, -13, "label name overlaps the metric's own label names")                          \
    XX(ETOOBIG, -14, "output or input exceeds its cap")                                            \
    XX(ESINK, -15, "the output sink reported a failure")                                           \
    XX(EZLIB, -16, "compression failed")                                                           \
    XX(EADDRINUSE, -17, "address already in use")                                                  \
    XX(EADDR, -18, "cannot resolve or bind the address")                                           \
    XX(ESTATE, -19, "object is in the wrong state for this call")                                  \
    XX(ESYS, -20, "system call failed")                                                            \
    XX(ECOLLECT, -21, "a custom collector reported a failure")                                     \
    XX(EUTF8, -22, "text is not valid UTF-8")                                                      \
    XX(ELIMIT, -23, "the metric has reached its limit of children")                                \
    XX(EMISMATCH, -24, "the exposition differs from the expected text")                            \
    XX(ETIMEDOUT, -25, "the operation ran past its time limit")                                    \
    XX(ECONNECT, -26, "cannot connect to the server")                                              \
    XX(EHTTP, -27, "the server answered with an HTTP error status")                                \
    XX(ECONFIG, -28, "invalid configuration file")

/* The error codes: PROMC_EINVAL = -1 and so on (0 is success).  Since: 0.1 */
typedef enum promc_errno {
#define PROMC_XX_(name, num, msg) PROMC_##name = (num),
    PROMC_ERRNO_MAP(PROMC_XX_)
#undef PROMC_XX_
} promc_errno_t;

/* A static English message for an error code ("unknown error" for a number not in the table).
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API const char *promc_strerror(int err);

/* The code's name, "PROMC_EINVAL" for example ("PROMC_EUNKNOWN" for a number not in the table).
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API const char *promc_err_name(int err);

/* Details of the last error returned to the calling thread, for example
 * "metric name 'http-requests': invalid character '-' at offset 4".  The string is owned by the
 * library, valid until the thread's next promc call; "" when there is nothing to add.
 * Thread-safety: any thread, lock-free (the text is per thread).  Since: 0.1 */
PROMC_API const char *promc_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
