/* SPDX-License-Identifier: Apache-2.0 */
/* The test helpers of <promc/testutil.h>: read a sample back (without creating anything), compare
 * an exposition with the expected text, lint as promtool does. */
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "check.h"

static promc_registry_t *setup(void)
{
    promc_registry_t *r = NULL;
    CHECK_RC(promc_registry_new(&r), 0);
    if (r)
        promc_registry_set_created(r, false);
    return r;
}

static void sample_value(void)
{
    promc_registry_t *r = setup();
    REQUIRE(r != NULL);
    const char *ln[] = {"path", "code"};
    promc_counter_t *c, *k;
    REQUIRE_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "http_requests",
                                                            .help = "R.",
                                                            .label_names = ln,
                                                            .label_count = 2,
                                                            .registry = r}),
               0);
    promc_str_t v[] = {PROMC_STR("/a \"q\"\n"), PROMC_STR("200")};
    REQUIRE_RC(promc_counter_labels(c, v, 2, &k), 0);
    promc_counter_add(k, 2.5);
    double x = -1;
    /* Labels in another order than declared; the value escaped in the exposition. */
    promc_label_t want[] = {{PROMC_STR("code"), PROMC_STR("200")},
                            {PROMC_STR("path"), PROMC_STR("/a \"q\"\n")}};
    CHECK_RC(promc_registry_sample_value(r, "http_requests_total", want, 2, &x), 0);
    CHECK(x == 2.5);
    /* Absent: another value, a label missing, a label too many; nothing created. */
    promc_label_t other[] = {{PROMC_STR("code"), PROMC_STR("500")},
                             {PROMC_STR("path"), PROMC_STR("/a \"q\"\n")}};
    CHECK_RC(promc_registry_sample_value(r, "http_requests_total", other, 2, &x), PROMC_ENOENT);
    CHECK_RC(promc_registry_sample_value(r, "http_requests_total", want, 1, &x), PROMC_ENOENT);
    CHECK_RC(promc_registry_sample_value(r, "http_requests_total", NULL, 0, &x), PROMC_ENOENT);
    CHECK_RC(promc_registry_sample_value(r, "http_requests", want, 2, &x), PROMC_ENOENT);
    char *t = NULL;
    size_t len;
    CHECK_RC(promc_registry_write_buf(r, NULL, &t, &len), 0);
    CHECK(t && !strstr(t, "500"));
    promc_buf_free(t);
    /* A histogram's buckets, count and sum; an unlabelled gauge; +Inf. */
    promc_histogram_t *h;
    double b[] = {0.1, 1};
    REQUIRE_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "lat",
                                                              .unit = "seconds",
                                                              .help = "L.",
                                                              .buckets = b,
                                                              .bucket_count = 2,
                                                              .registry = r}),
               0);
    promc_histogram_observe(h, 0.5);
    promc_histogram_observe(h, 5);
    promc_label_t le[] = {{PROMC_STR("le"), PROMC_STR("1.0")}};
    CHECK_RC(promc_registry_sample_value(r, "lat_seconds_bucket", le, 1, &x), 0);
    CHECK(x == 1);
    promc_label_t inf[] = {{PROMC_STR("le"), PROMC_STR("+Inf")}};
    CHECK_RC(promc_registry_sample_value(r, "lat_seconds_bucket", inf, 1, &x), 0);
    CHECK(x == 2);
    CHECK_RC(promc_registry_sample_value(r, "lat_seconds_sum", NULL, 0, &x), 0);
    CHECK(x == 5.5);
    promc_gauge_t *g;
    REQUIRE_RC(
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "temp", .help = "T.", .registry = r}),
        0);
    promc_gauge_set(g, -1e-7);
    CHECK_RC(promc_registry_sample_value(r, "temp", NULL, 0, &x), 0);
    CHECK(x == -1e-7);
    CHECK_RC(promc_registry_sample_value(NULL, "temp", NULL, 0, &x), PROMC_EINVAL);
    promc_counter_free(c);
    promc_histogram_free(h);
    promc_gauge_free(g);
    promc_registry_free(r);
}

static void compare(void)
{
    promc_registry_t *r = setup();
    REQUIRE(r != NULL);
    promc_gauge_t *g;
    REQUIRE_RC(
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "up", .help = "Up.", .registry = r}), 0);
    promc_gauge_set(g, 1);
    const char *want = "# HELP up Up.\n# TYPE up gauge\nup 1.0\n";
    CHECK_RC(promc_registry_compare(r, NULL, want), 0);
    CHECK_RC(promc_registry_compare(r, NULL, "# HELP up Up.\n# TYPE up gauge\nup 2.0\n"),
             PROMC_EMISMATCH);
    CHECK(strstr(promc_last_error(), "line 3: got 'up 1.0', want 'up 2.0'") != NULL);
    CHECK_RC(promc_registry_compare(r, NULL, "# HELP up Up.\n"), PROMC_EMISMATCH);
    CHECK(strstr(promc_last_error(), "line 2:") && strstr(promc_last_error(), "more lines"));
    CHECK_RC(promc_registry_compare(r, &(promc_expose_opts_t){.format = PROMC_FORMAT_OPENMETRICS},
                                    "# HELP up Up.\n# TYPE up gauge\nup 1.0\n# EOF\n"),
             0);
    promc_gauge_free(g);
    promc_registry_free(r);
}

static int snake_collector(void *ud, promc_emit_t *e)
{
    (void)ud;
    int rc = promc_emit_family(e, "queueDepth", "", PROMC_GAUGE, NULL);
    promc_label_t l = {PROMC_STR("queueName"), PROMC_STR("a")};
    return rc ? rc : promc_emit_sample(e, "", &l, 1, 3);
}

static void lint(void)
{
    promc_registry_t *r = setup();
    REQUIRE(r != NULL);
    promc_counter_t *ok;
    REQUIRE_RC(promc_counter_new(
                   &ok, &(promc_metric_opts_t){.name = "jobs", .help = "Jobs.", .registry = r}),
               0);
    char *report = NULL;
    CHECK_RC(promc_registry_lint(r, &report), 0);
    CHECK_STR(report, "");
    promc_buf_free(report);
    promc_gauge_t *g1, *g2, *g3;
    REQUIRE_RC(
        promc_gauge_new(
            &g1, &(promc_metric_opts_t){.name = "sessions_total", .help = "S.", .registry = r}),
        0);
    REQUIRE_RC(promc_gauge_new(&g2, &(promc_metric_opts_t){.name = "latency",
                                                           .unit = "milliseconds",
                                                           .help = "L.",
                                                           .registry = r}),
               0);
    REQUIRE_RC(
        promc_gauge_new(&g3, &(promc_metric_opts_t){.name = "silent", .help = "", .registry = r}),
        0);
    promc_collector_t *col;
    REQUIRE_RC(promc_collector_new(&col, snake_collector, NULL, NULL, 0), 0);
    REQUIRE_RC(promc_registry_register_collector(r, col), 0);
    int n = promc_registry_lint(r, &report);
    CHECK(n == 6);
    CHECK(report && strstr(report, "sessions_total non-counter metrics should not have "
                                   "\"_total\" suffix\n"));
    CHECK(report && strstr(report, "latency_milliseconds use base unit \"seconds\" instead of "
                                   "\"milliseconds\"\n"));
    CHECK(report && strstr(report, "silent no help text\n"));
    CHECK(report && strstr(report, "queueDepth no help text\n"));
    CHECK(report && strstr(report, "queueDepth metric names should be written in 'snake_case'"));
    CHECK(report && strstr(report, "queueDepth label names should be written in 'snake_case'"));
    if (n != 6)
        fprintf(stderr, "%s", report ? report : "(no report)");
    promc_buf_free(report);
    promc_collector_free(col);
    promc_counter_free(ok);
    promc_gauge_free(g1);
    promc_gauge_free(g2);
    promc_gauge_free(g3);
    promc_registry_free(r);
}

static const check_case_t cases[] = {CHECK_CASE(sample_value), CHECK_CASE(compare),
                                     CHECK_CASE(lint)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_testutil", cases, argc, argv);
}
