/* A minimal test harness: CHECK records a failure with its line and goes on; the test's main
 * returns check_report(), which prints "N passed, M failed" and the exit status. */
#ifndef PROMC_TEST_CHECK_H
#define PROMC_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_pass, check_fail;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_pass++;                                                                          \
        } else {                                                                                   \
            check_fail++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_RC(expr, want)                                                                       \
    do {                                                                                           \
        int check_rc_ = (expr);                                                                    \
        if (check_rc_ == (want)) {                                                                 \
            check_pass++;                                                                          \
        } else {                                                                                   \
            check_fail++;                                                                          \
            fprintf(stderr, "%s:%d: %s returned %s (%s), wanted %s\n", __FILE__, __LINE__, #expr,  \
                    promc_err_name(check_rc_), promc_last_error(), promc_err_name(want));          \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *check_g_ = (got), *check_w_ = (want);                                          \
        if (check_g_ && strcmp(check_g_, check_w_) == 0) {                                         \
            check_pass++;                                                                          \
        } else {                                                                                   \
            check_fail++;                                                                          \
            fprintf(stderr, "%s:%d: got\n%s\nwanted\n%s\n", __FILE__, __LINE__,                    \
                    check_g_ ? check_g_ : "(null)", check_w_);                                     \
        }                                                                                          \
    } while (0)

static inline int check_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_pass, check_fail);
    return check_fail ? 1 : 0;
}

#endif
