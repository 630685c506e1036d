/* SPDX-License-Identifier: Apache-2.0 */
/* The timing and in-progress macros record on every way out of their block or scope (GCC and
 * Clang): the end, return, goto, break and continue; and the scope forms leave break and continue
 * to the enclosing loop. */
#include <promc/promc.h>
#include "check.h"

static promc_registry_t *reg;
static promc_histogram_t *hist;
static promc_summary_t *summ;
static promc_gauge_t *busy, *last;

static void setup(void)
{
    REQUIRE_RC(promc_registry_new(&reg), 0);
    REQUIRE_RC(promc_histogram_new(
                   &hist, &(promc_metric_opts_t){.name = "h", .help = "h", .registry = reg}),
               0);
    REQUIRE_RC(
        promc_summary_new(&summ, &(promc_metric_opts_t){.name = "s", .help = "s", .registry = reg}),
        0);
    REQUIRE_RC(promc_gauge_new(
                   &busy, &(promc_metric_opts_t){.name = "busy", .help = "b", .registry = reg}),
               0);
    REQUIRE_RC(promc_gauge_new(
                   &last, &(promc_metric_opts_t){.name = "last", .help = "l", .registry = reg}),
               0);
}

static void teardown(void)
{
    promc_histogram_free(hist);
    promc_summary_free(summ);
    promc_gauge_free(busy);
    promc_gauge_free(last);
    promc_registry_free(reg);
}

static int early_return(int fail)
{
    PROMC_GAUGE_TRACK_INPROGRESS(busy)
    {
        PROMC_HISTOGRAM_TIME(hist)
        {
            if (fail)
                return -1; /* both macros record on the way out */
        }
    }
    return 0;
}

static void block_forms(void)
{
    setup();
    CHECK(early_return(1) == -1);
    CHECK(promc_histogram_count(hist) == 1);
    CHECK(promc_gauge_value(busy) == 0);
    CHECK(early_return(0) == 0);
    CHECK(promc_histogram_count(hist) == 2);
    CHECK(promc_gauge_value(busy) == 0);
    /* goto out of the block */
    PROMC_SUMMARY_TIME(summ)
    {
        goto out;
    }
out:
    CHECK(promc_summary_count(summ) == 1);
    /* break inside the block leaves the block (a one-pass loop), and records */
    int after = 0;
    promc_gauge_set(last, -1);
    for (int i = 0; i < 3; i++) {
        PROMC_GAUGE_TIME(last)
        {
            if (i >= 0)
                break;
        }
        after++;
    }
    CHECK(after == 3);
    CHECK(promc_gauge_value(last) >= 0); /* set to the (tiny) seconds elapsed, not left at -1 */
    /* nesting, one per line */
    PROMC_HISTOGRAM_TIME(hist)
    PROMC_SUMMARY_TIME(summ) {}
    CHECK(promc_histogram_count(hist) == 3 && promc_summary_count(summ) == 2);
    teardown();
}

static int job(int i)
{
    PROMC_INPROGRESS_SCOPE(busy);
    PROMC_TIME_SCOPE_HISTOGRAM(hist);
    if (i == 1)
        return -1;
    CHECK(promc_gauge_value(busy) == 1);
    return 0;
}

static void scope_forms(void)
{
    setup();
    CHECK(job(0) == 0 && job(1) == -1 && job(2) == 0);
    CHECK(promc_histogram_count(hist) == 3);
    CHECK(promc_gauge_value(busy) == 0);
    /* break and continue go to the enclosing loop, and each pass records. */
    int ran = 0;
    for (int i = 0; i < 10; i++) {
        PROMC_TIME_SCOPE_SUMMARY(summ);
        if (i == 1)
            continue;
        if (i == 4)
            break;
        ran++;
    }
    CHECK(ran == 3);
    CHECK(promc_summary_count(summ) == 5);
    {
        PROMC_TIME_SCOPE_GAUGE(last);
        promc_gauge_set(last, -1);
    }
    CHECK(promc_gauge_value(last) >= 0); /* set on leaving the scope, after the body's -1 */
    teardown();
}

static const check_case_t cases[] = {CHECK_CASE(block_forms), CHECK_CASE(scope_forms)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_scopes", cases, argc, argv);
}
