/* SPDX-License-Identifier: Apache-2.0 */
/* Summary quantiles: options refused with the field named, NaN for an empty window, exact answers
 * for a small window, a window that empties after max_age, labelled children, and observers on
 * several threads with scrapes between them (a stress case, run under TSan too).  The accuracy on
 * large inputs, against client_golang, is tests/conformance/quantiles_vs_golang.py. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <promc/promc.h>
#include "check.h"

static const promc_quantile_t Q[] = {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};

static promc_registry_t *fresh(void)
{
    promc_registry_t *r = NULL;
    CHECK_RC(promc_registry_new(&r), 0);
    if (r)
        promc_registry_set_created(r, false);
    return r;
}

__attribute__((noinline)) static char *text(promc_registry_t *r)
{
    char *t = NULL;
    size_t len;
    return promc_registry_write_buf(r, NULL, &t, &len) == 0 ? t : NULL;
}

static void options_and_small_windows(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_summary_t *s;
    promc_quantile_t bad1[] = {{1.0, 0.01}}, bad2[] = {{0.5, 0}}, bad3[] = {{0.5, 0.1}, {0.5, 0.2}};
    CHECK_RC(promc_summary_new(&s, &(promc_metric_opts_t){.name = "s",
                                                          .help = "",
                                                          .registry = r,
                                                          .quantiles = bad1,
                                                          .quantile_count = 1}),
             PROMC_EINVAL);
    CHECK(strstr(promc_last_error(), "quantiles[0].quantile") != NULL);
    CHECK_RC(promc_summary_new(&s, &(promc_metric_opts_t){.name = "s",
                                                          .help = "",
                                                          .registry = r,
                                                          .quantiles = bad2,
                                                          .quantile_count = 1}),
             PROMC_EINVAL);
    CHECK(strstr(promc_last_error(), "quantiles[0].error") != NULL);
    CHECK_RC(promc_summary_new(&s, &(promc_metric_opts_t){.name = "s",
                                                          .help = "",
                                                          .registry = r,
                                                          .quantiles = bad3,
                                                          .quantile_count = 2}),
             PROMC_EINVAL);
    CHECK_RC(promc_summary_new(&s, &(promc_metric_opts_t){.name = "s",
                                                          .help = "",
                                                          .registry = r,
                                                          .quantiles = Q,
                                                          .quantile_count = 3,
                                                          .max_age = -1}),
             PROMC_EINVAL);
    CHECK_RC(promc_summary_new(&s,
                               &(promc_metric_opts_t){
                                   .name = "s", .help = "", .registry = r, .quantile_count = 3}),
             PROMC_EINVAL);
    /* Unsorted on purpose: the lines come out sorted. */
    promc_quantile_t q[] = {{0.9, 0.01}, {0.5, 0.05}};
    REQUIRE_RC(promc_summary_new(&s, &(promc_metric_opts_t){.name = "rpc",
                                                            .unit = "seconds",
                                                            .help = "R.",
                                                            .registry = r,
                                                            .quantiles = q,
                                                            .quantile_count = 2,
                                                            .max_age = 0.6,
                                                            .age_buckets = 2}),
               0);
    char *t = text(r);
    CHECK(t && strstr(t, "rpc_seconds{quantile=\"0.5\"} NaN\nrpc_seconds{quantile=\"0.9\"} NaN\n"
                         "rpc_seconds_count 0.0\n"));
    promc_buf_free(t);
    for (int i = 1; i <= 10; i++)
        promc_summary_observe(s, i);
    t = text(r);
    /* Ten values: exact, as client_golang answers a window that never filled its buffer. */
    CHECK(t && strstr(t, "rpc_seconds{quantile=\"0.5\"} 5.0\nrpc_seconds{quantile=\"0.9\"} 9.0\n"
                         "rpc_seconds_count 10.0\nrpc_seconds_sum 55.0\n"));
    promc_buf_free(t);
    /* After max_age the window is empty again (count and sum stay). */
    nanosleep(&(struct timespec){0, 700000000}, NULL);
    t = text(r);
    CHECK(t && strstr(t, "rpc_seconds{quantile=\"0.5\"} NaN\n") &&
          strstr(t, "rpc_seconds_count 10.0\n"));
    promc_buf_free(t);
    promc_summary_free(s);

    /* Labelled: each child its own window; "quantile" stays a reserved label name. */
    const char *ln[] = {"path"}, *res[] = {"quantile"};
    CHECK_RC(promc_summary_new(&s, &(promc_metric_opts_t){.name = "x",
                                                          .help = "",
                                                          .registry = r,
                                                          .label_names = res,
                                                          .label_count = 1,
                                                          .quantiles = Q,
                                                          .quantile_count = 3}),
             PROMC_ERESERVED);
    REQUIRE_RC(promc_summary_new(&s, &(promc_metric_opts_t){.name = "lat",
                                                            .help = "L.",
                                                            .registry = r,
                                                            .label_names = ln,
                                                            .label_count = 1,
                                                            .quantiles = Q,
                                                            .quantile_count = 3}),
               0);
    promc_str_t a = PROMC_STR("/a"), b = PROMC_STR("/b");
    CHECK_RC(promc_summary_labels_observe(s, &a, 1, 1), 0);
    CHECK_RC(promc_summary_labels_observe(s, &b, 1, 7), 0);
    t = text(r);
    CHECK(t && strstr(t, "lat{path=\"/a\",quantile=\"0.99\"} 1.0\n") &&
          strstr(t, "lat{path=\"/b\",quantile=\"0.5\"} 7.0\n"));
    promc_buf_free(t);
    promc_summary_free(s);
    promc_registry_free(r);
}

static promc_summary_t *race;
static atomic_bool race_stop;

static void *observer(void *arg)
{
    (void)arg;
    unsigned long n = 0;
    while (!atomic_load(&race_stop))
        promc_summary_observe(race, (double)(n++ % 1000));
    return NULL;
}

static void concurrent_observers(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    REQUIRE_RC(promc_summary_new(&race, &(promc_metric_opts_t){.name = "c",
                                                               .help = "C.",
                                                               .registry = r,
                                                               .quantiles = Q,
                                                               .quantile_count = 3}),
               0);
    pthread_t th[3];
    atomic_store(&race_stop, false);
    for (int i = 0; i < 3; i++)
        REQUIRE(pthread_create(&th[i], NULL, observer, NULL) == 0);
    int sane = 0;
    for (int s = 0; s < 50; s++) {
        char *t = text(r);
        const char *p = t ? strstr(t, "c{quantile=\"0.5\"} ") : NULL;
        double v = p ? strtod(p + 18, NULL) : -1;
        /* Values cycle 0..999: the median is near 500 once enough are in. */
        if (p && (isnan(v) || (v >= 0 && v <= 999)))
            sane++;
        promc_buf_free(t);
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    atomic_store(&race_stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    CHECK(sane == 50);
    char *t = text(r);
    const char *p = t ? strstr(t, "c{quantile=\"0.5\"} ") : NULL;
    double v = p ? strtod(p + 18, NULL) : -1;
    CHECK(v >= 450 && v <= 550);
    if (!(v >= 450 && v <= 550))
        fprintf(stderr, "median %g\n", v);
    promc_buf_free(t);
    promc_summary_free(race);
    promc_registry_free(r);
}

static const check_case_t cases[] = {CHECK_CASE(options_and_small_windows),
                                     CHECK_CASE(concurrent_observers)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_quantiles", cases, argc, argv);
}
