/* SPDX-License-Identifier: Apache-2.0 */
/* The metric API: every type's operations and values, label children, validation errors that leave
 * the registry as it was, error names and versions.  Collectors are in test_emit.c, registries in
 * test_registry.c, exposition in test_expose.c, negotiation in test_negotiate.c. */
#include <math.h>
#include <stdlib.h>
#include <zlib.h>
#include <promc/promc.h>
#include "check.h"

static char *render(promc_registry_t *r, promc_format_t f)
{
    char *out = NULL;
    size_t len = 0;
    int rc = promc_registry_write_buf(r, &(promc_expose_opts_t){.format = f}, &out, &len);
    CHECK_RC(rc, 0);
    CHECK(!out || out[len] == '\0');
    return out;
}

static bool contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static void counter(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    promc_counter_t *c;
    CHECK_RC(promc_counter_new(
                 &c, &(promc_metric_opts_t){.name = "jobs_total", .help = "Jobs.", .registry = r}),
             0);
    CHECK_STR(promc_metric_name(promc_counter_metric(c)), "jobs");
    CHECK(promc_metric_type(promc_counter_metric(c)) == PROMC_COUNTER);
    promc_counter_inc(c);
    CHECK_RC(promc_counter_add(c, 2.5), 0);
    CHECK_RC(promc_counter_add(c, -1), PROMC_ENEGATIVE);
    CHECK_RC(promc_counter_add(c, NAN), PROMC_ENEGATIVE);
    CHECK(promc_counter_value(c) == 3.5);
    CHECK_RC(promc_counter_count_errors(c, -5), -5);
    CHECK_RC(promc_counter_count_errors(c, 0), 0);
    CHECK_RC(promc_counter_count_errors(c, 3), 3);
    CHECK(promc_counter_value(c) == 4.5);
    CHECK_RC(promc_counter_add(c, 1e300), 0);
    CHECK(promc_counter_value(c) == 1e300);
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK(contains(t, "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total 1e+300\n"));
    CHECK(contains(t, "# HELP jobs_created Jobs.\n# TYPE jobs_created gauge\njobs_created 1."));
    promc_buf_free(t);
    /* _created off for the registry. */
    promc_registry_set_created(r, false);
    t = render(r, PROMC_FORMAT_OPENMETRICS);
    CHECK_STR(t, "# HELP jobs Jobs.\n# TYPE jobs counter\njobs_total 1e+300\n# EOF\n");
    promc_buf_free(t);
    /* Labels on a metric without label names. */
    promc_counter_t *child;
    CHECK_RC(promc_counter_labels(c, NULL, 0, &child), PROMC_ENOLABELS);
    promc_counter_free(c);
    t = render(r, PROMC_FORMAT_TEXT);
    CHECK_STR(t, "");
    promc_buf_free(t);
    promc_registry_free(r);
}

static void labels(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    const char *names[] = {"path", "code"};
    promc_counter_t *c;
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "req",
                                                          .help = "R.",
                                                          .label_names = names,
                                                          .label_count = 2,
                                                          .registry = r}),
             0);
    promc_counter_t *a, *b, *a2;
    promc_str_t va[] = {PROMC_STR("/x"), PROMC_STR("200")};
    promc_str_t vb[] = {{"q\"\\\n\0z", 6}, PROMC_STR("")};
    CHECK_RC(promc_counter_labels(c, va, 2, &a), 0);
    CHECK_RC(promc_counter_labels(c, vb, 2, &b), 0);
    CHECK_RC(promc_counter_labels(c, va, 2, &a2), 0);
    CHECK(a == a2);
    CHECK(a != b);
    CHECK_RC(promc_counter_labels(c, va, 1, &a2), PROMC_ELABELCOUNT);
    promc_counter_inc(a);
    promc_counter_inc(a);
    promc_counter_inc(b);
    promc_registry_set_created(r, false);
    char *t = render(r, PROMC_FORMAT_TEXT);
    const char want[] = "# HELP req_total R.\n# TYPE req_total counter\n"
                        "req_total{code=\"200\",path=\"/x\"} 2.0\n"
                        "req_total{code=\"\",path=\"q\\\"\\\\\\n\0z\"} 1.0\n";
    CHECK(t && memcmp(t, want, sizeof want - 1) == 0);
    promc_buf_free(t);
    /* Remove one child: no longer exposed (and its handle no longer to be used). */
    CHECK_RC(promc_metric_remove(promc_counter_metric(c), va, 2), 0);
    CHECK_RC(promc_metric_remove(promc_counter_metric(c), va, 2), PROMC_ENOENT);
    t = render(r, PROMC_FORMAT_TEXT);
    CHECK(t && !contains(t, "/x"));
    promc_buf_free(t);
    /* Re-creating it gives a fresh child at zero. */
    CHECK_RC(promc_counter_labels(c, va, 2, &a2), 0);
    CHECK(promc_counter_value(a2) == 0);
    /* Many children: the table grows and every child is found again. */
    promc_counter_t *kids[3000];
    for (int i = 0; i < 3000; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", i);
        promc_str_t v[] = {promc_str(buf), PROMC_STR("x")};
        CHECK_RC(promc_counter_labels(c, v, 2, &kids[i]), 0);
        promc_counter_add(kids[i], i);
        if (i % 3 == 0)
            CHECK_RC(promc_metric_remove(promc_counter_metric(c), v, 2), 0);
    }
    int bad = 0;
    for (int i = 0; i < 3000; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", i);
        promc_str_t v[] = {promc_str(buf), PROMC_STR("x")};
        promc_counter_t *k;
        CHECK_RC(promc_counter_labels(c, v, 2, &k), 0);
        if (i % 3 == 0)
            bad += promc_counter_value(k) != 0; /* a new child (its memory may be the old one's) */
        else
            bad += k != kids[i] || promc_counter_value(k) != i;
    }
    CHECK(bad == 0);
    promc_metric_clear(promc_counter_metric(c));
    t = render(r, PROMC_FORMAT_TEXT);
    CHECK_STR(t, "# HELP req_total R.\n# TYPE req_total counter\n");
    promc_buf_free(t);
    promc_counter_free(c);
    promc_registry_free(r);
}

static void validation(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    promc_registry_set_legacy_names(r, true); /* the legacy rules are tested here */
    promc_counter_t *c;
    promc_histogram_t *h;
    promc_summary_t *s;
    promc_info_t *i;
    promc_enum_t *e;
    CHECK_RC(
        promc_counter_new(&c, &(promc_metric_opts_t){.name = "a-b", .help = "", .registry = r}),
        PROMC_ENAME);
    CHECK(strstr(promc_last_error(), "a-b") != NULL);
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "1a", .help = "", .registry = r}),
             PROMC_ENAME);
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "", .help = "", .registry = r}),
             PROMC_ENAME);
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.help = "", .registry = r}),
             PROMC_EINVAL);
    const char *l1[] = {"__x"};
    CHECK_RC(promc_counter_new(
                 &c,
                 &(promc_metric_opts_t){
                     .name = "a", .help = "", .label_names = l1, .label_count = 1, .registry = r}),
             PROMC_ERESERVED);
    const char *l2[] = {"le"};
    CHECK_RC(promc_histogram_new(
                 &h,
                 &(promc_metric_opts_t){
                     .name = "a", .help = "", .label_names = l2, .label_count = 1, .registry = r}),
             PROMC_ERESERVED);
    const char *l3[] = {"quantile"};
    CHECK_RC(promc_summary_new(
                 &s,
                 &(promc_metric_opts_t){
                     .name = "a", .help = "", .label_names = l3, .label_count = 1, .registry = r}),
             PROMC_ERESERVED);
    const char *l4[] = {"a:b"};
    CHECK_RC(promc_counter_new(
                 &c,
                 &(promc_metric_opts_t){
                     .name = "a", .help = "", .label_names = l4, .label_count = 1, .registry = r}),
             PROMC_ELABELNAME);
    const char *l5[] = {"x", "x"};
    CHECK_RC(promc_counter_new(
                 &c,
                 &(promc_metric_opts_t){
                     .name = "a", .help = "", .label_names = l5, .label_count = 2, .registry = r}),
             PROMC_ELABELNAME);
    double unsorted[] = {1, 0.5};
    CHECK_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "a",
                                                            .help = "",
                                                            .buckets = unsorted,
                                                            .bucket_count = 2,
                                                            .registry = r}),
             PROMC_EBUCKETS);
    double repeated[] = {1, 1, 2};
    CHECK_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "a",
                                                            .help = "",
                                                            .buckets = repeated,
                                                            .bucket_count = 3,
                                                            .registry = r}),
             PROMC_EBUCKETS);
    const char *dup_states[] = {"on", "on"};
    CHECK_RC(promc_enum_new(&e, &(promc_metric_opts_t){.name = "a",
                                                       .help = "",
                                                       .states = dup_states,
                                                       .state_count = 2,
                                                       .registry = r}),
             PROMC_EINVAL);
    double inf_only[] = {INFINITY};
    CHECK_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "a",
                                                            .help = "",
                                                            .buckets = inf_only,
                                                            .bucket_count = 1,
                                                            .registry = r}),
             PROMC_EBUCKETS);
    CHECK_RC(
        promc_info_new(
            &i, &(promc_metric_opts_t){.name = "a", .help = "", .unit = "bytes", .registry = r}),
        PROMC_EUNIT);
    CHECK_RC(
        promc_counter_new(
            &c, &(promc_metric_opts_t){.name = "a", .help = "", .unit = "by-tes", .registry = r}),
        PROMC_EUNIT);
    CHECK_RC(promc_enum_new(&e, &(promc_metric_opts_t){.name = "a", .help = "", .registry = r}),
             PROMC_EINVAL);
    const char *st[] = {"on", "off"};
    const char *l6[] = {"a"};
    CHECK_RC(promc_enum_new(&e, &(promc_metric_opts_t){.name = "a",
                                                       .help = "",
                                                       .label_names = l6,
                                                       .label_count = 1,
                                                       .states = st,
                                                       .state_count = 2,
                                                       .registry = r}),
             PROMC_EOVERLAP);
    /* Nothing of the refused calls reached the registry. */
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK_STR(t, "");
    promc_buf_free(t);

    /* Duplicates: every name a metric exposes is taken. */
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "x", .help = "X", .registry = r}),
             0);
    promc_gauge_t *g;
    CHECK_RC(
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "x_total", .help = "", .registry = r}),
        PROMC_EDUPLICATE);
    CHECK_RC(
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "x_created", .help = "", .registry = r}),
        PROMC_EDUPLICATE);
    CHECK_RC(promc_gauge_new(&g, &(promc_metric_opts_t){.name = "x", .help = "", .registry = r}),
             PROMC_EDUPLICATE);
    CHECK_RC(
        promc_histogram_new(&h, &(promc_metric_opts_t){.name = "y", .help = "", .registry = r}), 0);
    CHECK_RC(
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "y_bucket", .help = "", .registry = r}),
        PROMC_EDUPLICATE);
    promc_registry_set_created(r, false);
    t = render(r, PROMC_FORMAT_TEXT);
    CHECK(contains(t, "x_total 0.0\n") && contains(t, "y_count 0.0"));
    promc_buf_free(t);
    /* Unregistering frees the names; a metric registers again elsewhere. */
    CHECK_RC(promc_registry_unregister(r, promc_counter_metric(c)), 0);
    CHECK_RC(promc_registry_unregister(r, promc_counter_metric(c)), PROMC_ENOENT);
    CHECK_RC(
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "x_total", .help = "", .registry = r}),
        0);
    CHECK_RC(promc_registry_register(r, promc_counter_metric(c)), PROMC_EDUPLICATE);
    promc_gauge_free(g);
    CHECK_RC(promc_registry_register(r, promc_counter_metric(c)), 0);
    CHECK_RC(promc_registry_register(r, promc_counter_metric(c)), PROMC_ESTATE);
    promc_counter_free(c);
    promc_histogram_free(h);
    promc_registry_free(r);
}

static void types(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    promc_registry_set_legacy_names(r, true); /* the legacy rules are tested here */
    promc_registry_set_created(r, false);
    promc_gauge_t *g;
    CHECK_RC(promc_gauge_new(&g,
                             &(promc_metric_opts_t){
                                 .name = "temp", .help = "T.", .unit = "celsius", .registry = r}),
             0);
    CHECK_STR(promc_metric_name(promc_gauge_metric(g)), "temp_celsius");
    promc_gauge_inc(g);
    promc_gauge_add(g, 10);
    promc_gauge_dec(g);
    promc_gauge_sub(g, 0.5);
    CHECK(promc_gauge_value(g) == 9.5);
    promc_gauge_set(g, -2);
    CHECK(promc_gauge_value(g) == -2);
    PROMC_GAUGE_TRACK_INPROGRESS(g)
    {
        CHECK(promc_gauge_value(g) == -1);
    }
    CHECK(promc_gauge_value(g) == -2);
    promc_gauge_set_to_current_time(g);
    CHECK(promc_gauge_value(g) > 1.7e9);

    double bounds[] = {1, 2, 5};
    promc_histogram_t *h;
    CHECK_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "lat",
                                                            .help = "L.",
                                                            .buckets = bounds,
                                                            .bucket_count = 3,
                                                            .registry = r}),
             0);
    promc_histogram_observe(h, 1);
    promc_histogram_observe(h, 1.5);
    promc_histogram_observe(h, 7);
    promc_histogram_observe(h, NAN);
    CHECK(promc_histogram_count(h) == 3);
    CHECK(isnan(promc_histogram_sum(h)));
    PROMC_HISTOGRAM_TIME(h)
    {
        CHECK(promc_histogram_count(h) == 3);
    }
    CHECK(promc_histogram_count(h) == 4);

    double neg[] = {-1, 0};
    promc_histogram_t *hn;
    CHECK_RC(promc_histogram_new(&hn, &(promc_metric_opts_t){.name = "neg",
                                                             .help = "N.",
                                                             .buckets = neg,
                                                             .bucket_count = 2,
                                                             .registry = r}),
             0);
    promc_summary_t *s;
    CHECK_RC(
        promc_summary_new(&s, &(promc_metric_opts_t){.name = "sz", .help = "S.", .registry = r}),
        0);
    promc_summary_observe(s, 3);
    promc_summary_observe(s, 4);
    CHECK(promc_summary_count(s) == 2 && promc_summary_sum(s) == 7);

    promc_info_t *in;
    CHECK_RC(
        promc_info_new(&in, &(promc_metric_opts_t){.name = "build", .help = "B.", .registry = r}),
        0);
    promc_label_t il[] = {{PROMC_STR("version"), PROMC_STR("1.0")},
                          {PROMC_STR("a"), PROMC_STR("x")}};
    CHECK_RC(promc_info_set(in, il, 2), 0);
    promc_label_t bad[] = {{PROMC_STR("1x"), PROMC_STR("1.0")}};
    CHECK_RC(promc_info_set(in, bad, 1), PROMC_ELABELNAME);
    promc_label_t twice[] = {{PROMC_STR("k"), PROMC_STR("1")}, {PROMC_STR("k"), PROMC_STR("2")}};
    CHECK_RC(promc_info_set(in, twice, 2), PROMC_ELABELNAME);

    const char *states[] = {"starting", "running", "stopped"};
    promc_enum_t *e;
    CHECK_RC(promc_enum_new(&e, &(promc_metric_opts_t){.name = "state",
                                                       .help = "E.",
                                                       .states = states,
                                                       .state_count = 3,
                                                       .registry = r}),
             0);
    CHECK(promc_enum_get(e) == 0);
    CHECK_RC(promc_enum_set_state(e, "stopped"), 0);
    CHECK_RC(promc_enum_set_state(e, "flying"), PROMC_ENOENT);
    CHECK_RC(promc_enum_set(e, 3), PROMC_ENOENT);
    CHECK(promc_enum_get(e) == 2);

    char *t = render(r, PROMC_FORMAT_OPENMETRICS);
    const char *want_tail =
        "# HELP lat L.\n# TYPE lat histogram\n"
        "lat_bucket{le=\"1.0\"} 2.0\nlat_bucket{le=\"2.0\"} 3.0\nlat_bucket{le=\"5.0\"} 3.0\n"
        "lat_bucket{le=\"+Inf\"} 4.0\nlat_count 4.0\n";
    CHECK(contains(t, want_tail));
    CHECK(contains(t, "# HELP temp_celsius T.\n# TYPE temp_celsius gauge\n# UNIT temp_celsius "
                      "celsius\ntemp_celsius 1."));
    /* A histogram whose first bound is negative has no _sum, as in client_python, and in
     * OpenMetrics no _count either. */
    CHECK(contains(t, "neg_bucket{le=\"+Inf\"} 0.0\n# HELP sz"));
    CHECK(contains(t, "sz_count 2.0\nsz_sum 7.0\n"));
    CHECK(contains(t, "# TYPE build info\nbuild_info{a=\"x\",version=\"1.0\"} 1.0\n"));
    CHECK(contains(t, "# TYPE state stateset\nstate{state=\"starting\"} 0.0\n"
                      "state{state=\"running\"} 0.0\nstate{state=\"stopped\"} 1.0\n# EOF\n"));
    promc_buf_free(t);
    t = render(r, PROMC_FORMAT_TEXT);
    CHECK(contains(t, "# HELP build_info B.\n# TYPE build_info gauge\n"));
    CHECK(contains(t, "# TYPE state gauge\n"));
    CHECK(contains(t, "neg_bucket{le=\"+Inf\"} 0.0\nneg_count 0.0\n# HELP sz"));
    promc_buf_free(t);

    /* name[] filtering keeps only the samples named, and drops families left empty. */
    const char *only[] = {"lat_count", "sz_sum", "nothing"};
    char *out;
    size_t len;
    CHECK_RC(
        promc_registry_write_buf(
            r, &(promc_expose_opts_t){.format = PROMC_FORMAT_TEXT, .names = only, .name_count = 3},
            &out, &len),
        0);
    CHECK_STR(out, "# HELP lat L.\n# TYPE lat histogram\nlat_count 4.0\n"
                   "# HELP sz S.\n# TYPE sz summary\nsz_sum 7.0\n");
    promc_buf_free(out);
    promc_registry_free(r);
    promc_gauge_free(g);
    promc_histogram_free(h);
    promc_histogram_free(hn);
    promc_summary_free(s);
    promc_info_free(in);
    promc_enum_free(e);
}

static void errors(void)
{
    CHECK_STR(promc_strerror(PROMC_ENOMEM), "out of memory");
    CHECK_STR(promc_err_name(PROMC_EDUPLICATE), "PROMC_EDUPLICATE");
    CHECK_STR(promc_err_name(0), "PROMC_OK");
    CHECK_STR(promc_strerror(-9999), "unknown error");
    CHECK_STR(promc_version_string(), PROMC_VERSION_STRING);
    CHECK(promc_version_number() == PROMC_VERSION_NUMBER);
    size_t n;
    const double *b = promc_histogram_default_buckets(&n);
    CHECK(n == 14 && b[0] == 0.005 && b[13] == 10.0);
}

/* promc_metric_remove's argument checks match promc_*_labels': a count without its array, or a
 * value with a length but no bytes, is PROMC_EINVAL (docs/errors.md), never a crash. */
static void remove_argument_checks(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    const char *ln[] = {"a"};
    promc_counter_t *c, *child;
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "rm",
                                                          .help = "h",
                                                          .label_names = ln,
                                                          .label_count = 1,
                                                          .registry = r}),
             0);
    promc_str_t v[] = {PROMC_STR("x")};
    CHECK_RC(promc_counter_labels(c, v, 1, &child), 0);
    promc_metric_t *m = promc_counter_metric(c);
    CHECK_RC(promc_metric_remove(m, NULL, 1), PROMC_EINVAL);
    promc_str_t bad[] = {{NULL, 3}};
    CHECK_RC(promc_counter_labels(c, bad, 1, &child), PROMC_EINVAL);
    CHECK_RC(promc_metric_remove(m, bad, 1), PROMC_EINVAL);
    /* The child is still there, and goes with the right values. */
    CHECK_RC(promc_metric_remove(m, v, 1), 0);
    CHECK_RC(promc_metric_remove(m, v, 1), PROMC_ENOENT);
    promc_counter_free(c);
    promc_registry_free(r);
}

/* The bucket helpers give client_golang's LinearBuckets / ExponentialBuckets values, refuse what
 * those panic on, and feed a histogram. */
static void bucket_helpers(void)
{
    double b[6] = {0};
    CHECK_RC(promc_buckets_linear(b, -15, 5, 6), 0);
    CHECK(b[0] == -15 && b[1] == -10 && b[3] == 0 && b[5] == 10);
    CHECK_RC(promc_buckets_exponential(b, 100, 1.2, 3), 0);
    CHECK(b[0] == 100 && b[1] == 120 && b[2] == 144);
    double keep[2] = {7, 7};
    CHECK_RC(promc_buckets_linear(keep, 0, 0, 2), PROMC_EINVAL);
    CHECK_RC(promc_buckets_linear(keep, 0, -1, 2), PROMC_EINVAL);
    CHECK_RC(promc_buckets_linear(keep, NAN, 1, 2), PROMC_EINVAL);
    CHECK_RC(promc_buckets_linear(keep, 0, 1, 0), PROMC_EINVAL);
    CHECK_RC(promc_buckets_exponential(keep, 0, 2, 2), PROMC_EINVAL);
    CHECK_RC(promc_buckets_exponential(keep, 1, 1, 2), PROMC_EINVAL);
    CHECK_RC(promc_buckets_exponential(keep, 1, INFINITY, 2), PROMC_EINVAL);
    CHECK_RC(promc_buckets_exponential(NULL, 1, 2, 2), PROMC_EINVAL);
    CHECK(keep[0] == 7 && keep[1] == 7);
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    double e[4];
    REQUIRE_RC(promc_buckets_exponential(e, 0.001, 10, 4), 0);
    promc_histogram_t *h;
    REQUIRE_RC(promc_histogram_new(
                   &h,
                   &(promc_metric_opts_t){
                       .name = "lat", .help = "h", .buckets = e, .bucket_count = 4, .registry = r}),
               0);
    promc_histogram_observe(h, 0.05);
    promc_registry_set_created(r, false);
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK(contains(t, "lat_bucket{le=\"0.01\"} 0.0\nlat_bucket{le=\"0.1\"} 1.0\n"));
    promc_buf_free(t);
    promc_histogram_free(h);
    promc_registry_free(r);
}

/* Const labels (client_golang's ConstLabels): on every sample, sorted with the other labels, around
 * a histogram's le, merged with info labels; refused when they clash. */
static void const_labels(void)
{
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_registry_set_legacy_names(r, true); /* the legacy rules are tested here */
    promc_registry_set_created(r, false);
    const promc_label_t cl[] = {{PROMC_STR("region"), PROMC_STR("eu")},
                                {PROMC_STR("env"), PROMC_STR("pr\"od")}};
    const char *ln[] = {"path"};
    promc_counter_t *c, *k;
    REQUIRE_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "req",
                                                            .help = "R.",
                                                            .label_names = ln,
                                                            .label_count = 1,
                                                            .const_labels = cl,
                                                            .const_label_count = 2,
                                                            .registry = r}),
               0);
    promc_str_t v = PROMC_STR("/a");
    REQUIRE_RC(promc_counter_labels(c, &v, 1, &k), 0);
    promc_counter_inc(k);
    CHECK(promc_metric_label_count(promc_counter_metric(c)) == 1);
    promc_gauge_t *g;
    REQUIRE_RC(promc_gauge_new(&g, &(promc_metric_opts_t){.name = "up",
                                                          .help = "U.",
                                                          .const_labels = cl,
                                                          .const_label_count = 1,
                                                          .registry = r}),
               0);
    promc_gauge_set(g, 1);
    double b[] = {1};
    promc_histogram_t *h;
    REQUIRE_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "lat",
                                                              .help = "L.",
                                                              .buckets = b,
                                                              .bucket_count = 1,
                                                              .const_labels = cl,
                                                              .const_label_count = 2,
                                                              .registry = r}),
               0);
    promc_histogram_observe(h, 0.5);
    promc_info_t *in;
    REQUIRE_RC(promc_info_new(&in, &(promc_metric_opts_t){.name = "build",
                                                          .help = "B.",
                                                          .const_labels = cl,
                                                          .const_label_count = 1,
                                                          .registry = r}),
               0);
    promc_label_t il[] = {{PROMC_STR("version"), PROMC_STR("1.0")}};
    CHECK_RC(promc_info_set(in, il, 1), 0);
    promc_label_t clash[] = {{PROMC_STR("region"), PROMC_STR("us")}};
    CHECK_RC(promc_info_set(in, clash, 1), PROMC_EOVERLAP);
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK(contains(t, "req_total{env=\"pr\\\"od\",path=\"/a\",region=\"eu\"} 1.0\n"));
    CHECK(contains(t, "up{region=\"eu\"} 1.0\n"));
    CHECK(contains(t, "lat_bucket{env=\"pr\\\"od\",le=\"1.0\",region=\"eu\"} 1.0\n"));
    CHECK(contains(t, "lat_count{env=\"pr\\\"od\",region=\"eu\"} 1.0\n"));
    CHECK(contains(t, "build_info{region=\"eu\",version=\"1.0\"} 1.0\n"));
    promc_buf_free(t);
    /* Refused: a clash with a label name, twice the same, a reserved name, bad name, bad UTF-8. */
    promc_counter_t *x;
    const promc_label_t dup[] = {{PROMC_STR("path"), PROMC_STR("x")}};
    CHECK_RC(promc_counter_new(&x, &(promc_metric_opts_t){.name = "x1",
                                                          .help = "h",
                                                          .label_names = ln,
                                                          .label_count = 1,
                                                          .const_labels = dup,
                                                          .const_label_count = 1,
                                                          .registry = r}),
             PROMC_ELABELNAME);
    const promc_label_t twice[] = {{PROMC_STR("a"), PROMC_STR("1")},
                                   {PROMC_STR("a"), PROMC_STR("2")}};
    CHECK_RC(promc_counter_new(&x, &(promc_metric_opts_t){.name = "x2",
                                                          .help = "h",
                                                          .const_labels = twice,
                                                          .const_label_count = 2,
                                                          .registry = r}),
             PROMC_ELABELNAME);
    const promc_label_t le[] = {{PROMC_STR("le"), PROMC_STR("1")}};
    CHECK_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "x3",
                                                            .help = "h",
                                                            .const_labels = le,
                                                            .const_label_count = 1,
                                                            .registry = r}),
             PROMC_ERESERVED);
    const promc_label_t badn[] = {{PROMC_STR("1a"), PROMC_STR("1")}};
    CHECK_RC(promc_counter_new(&x, &(promc_metric_opts_t){.name = "x4",
                                                          .help = "h",
                                                          .const_labels = badn,
                                                          .const_label_count = 1,
                                                          .registry = r}),
             PROMC_ELABELNAME);
    const promc_label_t badv[] = {{PROMC_STR("a"), PROMC_STR("\xff")}};
    CHECK_RC(promc_counter_new(&x, &(promc_metric_opts_t){.name = "x5",
                                                          .help = "h",
                                                          .const_labels = badv,
                                                          .const_label_count = 1,
                                                          .registry = r}),
             PROMC_EUTF8);
    promc_counter_free(c);
    promc_gauge_free(g);
    promc_histogram_free(h);
    promc_info_free(in);
    promc_registry_free(r);
}

static const check_case_t cases[] = {
    CHECK_CASE(const_labels), CHECK_CASE(bucket_helpers),
    CHECK_CASE(counter),      CHECK_CASE(labels),
    CHECK_CASE(validation),   CHECK_CASE(types),
    CHECK_CASE(errors),       CHECK_CASE(remove_argument_checks),
};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_metrics", cases, argc, argv);
}
