/* SPDX-License-Identifier: Apache-2.0 */
/* The unit-test harness: named cases, checks that go on, requirements that end the case.
 *
 *   static void counts_up(void) { ... CHECK(x == 1); REQUIRE(p != NULL); ... }
 *   static const check_case_t cases[] = {CHECK_CASE(counts_up), ...};
 *   int main(int argc, char **argv) { return CHECK_MAIN("test_counter", cases, argc, argv); }
 *
 * CHECK, CHECK_RC and CHECK_STR record a failure with its file and line and go on.  REQUIRE and
 * REQUIRE_RC record it and end the current case at once (longjmp back to the runner), for failures
 * that make the rest of the case meaningless (a NULL object, a server that did not start); the
 * runner goes on with the next case.
 *
 * The binary runs every case in order; `BINARY CASE...` runs only the named ones (a name that
 * matches no case is an error, so a typo never passes), `BINARY --list` prints the names.
 * tests/unit/CMakeLists.txt registers each case as its own ctest, BINARY.CASE, so
 * `ctest -R test_metrics.labels` runs one case.  The exit status is 0 only if no check failed. */
#ifndef PROMC_TEST_CHECK_H
#define PROMC_TEST_CHECK_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} check_case_t;

#define CHECK_CASE(fn)                                                                             \
    {                                                                                              \
#fn, fn                                                                                    \
    }

static int check_pass, check_fail;
static jmp_buf check_case_end;
static int check_in_case;
static const char *check_argv0 = "";

/* Ends the running case (REQUIRE); outside a case (in main) it ends the program. */
static inline void check_abort_case(void)
{
    if (check_in_case)
        longjmp(check_case_end, 1);
    fprintf(stderr, "a requirement failed outside a case: stopping\n");
    exit(1);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_pass++;                                                                          \
        } else {                                                                                   \
            check_fail++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_pass++;                                                                          \
        } else {                                                                                   \
            check_fail++;                                                                          \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s (case ends here)\n", __FILE__, __LINE__,    \
                    #cond);                                                                        \
            check_abort_case();                                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_RC_(expr, want, fatal)                                                               \
    do {                                                                                           \
        int check_rc_ = (expr);                                                                    \
        if (check_rc_ == (want)) {                                                                 \
            check_pass++;                                                                          \
        } else {                                                                                   \
            check_fail++;                                                                          \
            fprintf(stderr, "%s:%d: %s returned %s (%s), wanted %s\n", __FILE__, __LINE__, #expr,  \
                    promc_err_name(check_rc_), promc_last_error(), promc_err_name(want));          \
            if (fatal)                                                                             \
                check_abort_case();                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_RC(expr, want)   CHECK_RC_(expr, want, 0)
#define REQUIRE_RC(expr, want) CHECK_RC_(expr, want, 1)

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

static inline int check_run_case(const check_case_t *c)
{
    int fail0 = check_fail;
    check_in_case = 1;
    if (setjmp(check_case_end) == 0)
        c->fn();
    check_in_case = 0;
    printf("%s: %s\n", check_fail == fail0 ? "ok" : "FAIL", c->name);
    fflush(stdout);
    return check_fail == fail0;
}

static inline int check_main(const char *suite, const check_case_t *cases, size_t n, int argc,
                             char **argv)
{
    check_argv0 = argc > 0 ? argv[0] : suite;
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    size_t ran = 0;
    if (argc <= 1) {
        for (size_t i = 0; i < n; i++, ran++)
            check_run_case(&cases[i]);
    } else {
        for (int a = 1; a < argc; a++) {
            size_t i = 0;
            while (i < n && strcmp(cases[i].name, argv[a]) != 0)
                i++;
            if (i == n) {
                fprintf(stderr, "%s: no case named '%s' (--list shows them)\n", suite, argv[a]);
                return 2;
            }
            check_run_case(&cases[i]);
            ran++;
        }
    }
    printf("%s: %zu cases, %d checks passed, %d failed\n", suite, ran, check_pass, check_fail);
    return check_fail ? 1 : 0;
}

#define CHECK_MAIN(suite, cases, argc, argv)                                                       \
    check_main(suite, cases, sizeof(cases) / sizeof((cases)[0]), argc, argv)

#endif
