/* SPDX-License-Identifier: Apache-2.0 */
/* Cardinality limits (promc_metric_opts_t.max_children, on_limit, the registry's default): at the
 * limit a new label set is refused with PROMC_ELIMIT or folded into the overflow child, existing
 * children keep working, and promc_metric_children_limited_total counts what happened.  Also the
 * other guard the exposition carries: promc_metric_parent_updated for an update through the parent
 * handle of a labelled metric. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <promc/promc.h>
#include "check.h"

static char *render(promc_registry_t *r, promc_format_t f)
{
    char *t = NULL;
    size_t n;
    CHECK_RC(promc_registry_write_buf(r, &(promc_expose_opts_t){.format = f}, &t, &n), 0);
    return t;
}

static bool has(const char *t, const char *s)
{
    return t && strstr(t, s) != NULL;
}

static const char *const ln[] = {"path"};

static promc_counter_t *labelled(promc_registry_t *r, const char *name, size_t max,
                                 promc_limit_policy_t pol)
{
    promc_counter_t *c = NULL;
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = name,
                                                          .help = "h",
                                                          .label_names = ln,
                                                          .label_count = 1,
                                                          .registry = r,
                                                          .max_children = max,
                                                          .on_limit = pol}),
             0);
    return c;
}

static void refuse_at_limit(void)
{
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_registry_set_created(r, false);
    promc_counter_t *c = labelled(r, "req", 3, PROMC_LIMIT_REFUSE), *k[3], *x = NULL;
    REQUIRE(c != NULL);
    const char *paths[] = {"/a", "/b", "/c"};
    for (int i = 0; i < 3; i++) {
        promc_str_t v = promc_str(paths[i]);
        REQUIRE_RC(promc_counter_labels(c, &v, 1, &k[i]), 0);
        promc_counter_inc(k[i]);
    }
    promc_str_t d = PROMC_STR("/d");
    CHECK_RC(promc_counter_labels(c, &d, 1, &x), PROMC_ELIMIT);
    CHECK(x == NULL);
    CHECK(strstr(promc_last_error(), "'req' has reached its limit of 3 children") != NULL);
    CHECK_RC(promc_counter_labels_inc(c, &d, 1), PROMC_ELIMIT);
    /* Existing children: found, updated. */
    promc_str_t a = PROMC_STR("/a");
    CHECK_RC(promc_counter_labels_inc(c, &a, 1), 0);
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK(has(t, "req_total{path=\"/a\"} 2.0\n") && !has(t, "/d"));
    CHECK(has(t, "# HELP promc_metric_children_limited_total Label sets refused"));
    CHECK(has(t, "# TYPE promc_metric_children_limited_total counter\n"
                 "promc_metric_children_limited_total{action=\"refused\",metric=\"req\"} 2.0\n"));
    promc_buf_free(t);
    t = render(r, PROMC_FORMAT_OPENMETRICS);
    CHECK(has(t, "# TYPE promc_metric_children_limited counter\n"
                 "promc_metric_children_limited_total{action=\"refused\",metric=\"req\"} 2.0\n"));
    promc_buf_free(t);
    /* A removal makes room. */
    promc_str_t b = PROMC_STR("/b");
    CHECK_RC(promc_metric_remove(promc_counter_metric(c), &b, 1), 0);
    CHECK_RC(promc_counter_labels(c, &d, 1, &x), 0);
    promc_counter_free(c);
    promc_registry_free(r);
}

static void overflow_child(void)
{
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_registry_set_created(r, false);
    promc_counter_t *c = labelled(r, "hits", 2, PROMC_LIMIT_OVERFLOW), *a, *b, *o1, *o2;
    REQUIRE(c != NULL);
    promc_str_t v[] = {PROMC_STR("/a"), PROMC_STR("/b"), PROMC_STR("/c"), PROMC_STR("/d")};
    REQUIRE_RC(promc_counter_labels(c, &v[0], 1, &a), 0);
    REQUIRE_RC(promc_counter_labels(c, &v[1], 1, &b), 0);
    REQUIRE_RC(promc_counter_labels(c, &v[2], 1, &o1), 0);
    REQUIRE_RC(promc_counter_labels(c, &v[3], 1, &o2), 0);
    CHECK(o1 == o2 && o1 != a && o1 != b);
    promc_counter_inc(o1);
    CHECK_RC(promc_counter_labels_add(c, &v[3], 1, 2), 0);
    promc_counter_inc(a);
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK(has(t, "hits_total{path=\"/a\"} 1.0\nhits_total{path=\"/b\"} 0.0\n"
                 "hits_total{path=\"__overflow__\"} 3.0\n"));
    CHECK(has(t, "promc_metric_children_limited_total{action=\"folded\",metric=\"hits\"} 3.0\n"));
    promc_buf_free(t);
    /* The overflow child is an ordinary child: found by its values. */
    promc_str_t ov = PROMC_STR(PROMC_OVERFLOW_VALUE);
    promc_counter_t *o3;
    CHECK_RC(promc_counter_labels(c, &ov, 1, &o3), 0);
    CHECK(o3 == o1);
    promc_counter_free(c);
    promc_registry_free(r);
}

static void registry_default(void)
{
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_counter_t *dflt = labelled(r, "dflt", 0, PROMC_LIMIT_REFUSE);
    promc_counter_t *own = labelled(r, "own", 3, PROMC_LIMIT_REFUSE);
    REQUIRE(dflt && own);
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK(has(t, "{action=\"refused\",metric=\"own\"} 0.0\n") && !has(t, "metric=\"dflt\""));
    promc_buf_free(t);
    promc_registry_set_max_children(r, 1);
    promc_str_t v[] = {PROMC_STR("x"), PROMC_STR("y")};
    promc_counter_t *k;
    CHECK_RC(promc_counter_labels(dflt, &v[0], 1, &k), 0);
    CHECK_RC(promc_counter_labels(dflt, &v[1], 1, &k), PROMC_ELIMIT);
    CHECK_RC(promc_counter_labels(own, &v[0], 1, &k), 0);
    CHECK_RC(promc_counter_labels(own, &v[1], 1, &k), 0); /* its own limit, 3, wins */
    promc_registry_set_max_children(r, 0);
    CHECK_RC(promc_counter_labels(dflt, &v[1], 1, &k), 0);
    promc_counter_free(dflt);
    promc_counter_free(own);
    promc_registry_free(r);
}

static void options_and_reserved_name(void)
{
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_counter_t *c;
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "p",
                                                          .help = "h",
                                                          .registry = r,
                                                          .on_limit = (promc_limit_policy_t)7}),
             PROMC_EINVAL);
    promc_gauge_t *g;
    CHECK_RC(
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "promc_metric_children_limited_total",
                                                   .help = "h",
                                                   .registry = r}),
        PROMC_EDUPLICATE);
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "promc_metric_children_limited",
                                                          .help = "h",
                                                          .registry = r}),
             PROMC_EDUPLICATE);
    /* No limited metric: no family. */
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK_STR(t, "");
    promc_buf_free(t);
    promc_registry_free(r);
}

/* An update through the parent handle of a labelled metric is reported, not silently lost. */
static void parent_update_reported(void)
{
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_registry_set_created(r, false);
    promc_counter_t *c = labelled(r, "jobs", 0, PROMC_LIMIT_REFUSE), *k;
    REQUIRE(c != NULL);
    promc_str_t v = PROMC_STR("/a");
    REQUIRE_RC(promc_counter_labels(c, &v, 1, &k), 0);
    promc_counter_inc(k);
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK(!has(t, "promc_metric_parent_updated"));
    promc_buf_free(t);
    promc_counter_inc(c); /* the mistake */
    t = render(r, PROMC_FORMAT_TEXT);
    CHECK(has(t, "jobs_total{path=\"/a\"} 1.0\n"));
    CHECK(has(t, "# TYPE promc_metric_parent_updated gauge\n"
                 "promc_metric_parent_updated{metric=\"jobs\"} 1.0\n"));
    promc_buf_free(t);
    const char *only[] = {"jobs_total"};
    char *f = NULL;
    size_t n;
    CHECK_RC(
        promc_registry_write_buf(r, &(promc_expose_opts_t){.names = only, .name_count = 1}, &f, &n),
        0);
    CHECK(f && !has(f, "parent_updated")); /* name[] filtering applies to it too */
    promc_buf_free(f);
    /* Each type's parent: gauge, histogram, info. */
    const char *ln2[] = {"k"};
    promc_gauge_t *g;
    promc_histogram_t *h;
    promc_info_t *in;
    promc_metric_opts_t o = {.help = "h", .label_names = ln2, .label_count = 1, .registry = r};
    o.name = "g";
    REQUIRE_RC(promc_gauge_new(&g, &o), 0);
    o.name = "hh";
    REQUIRE_RC(promc_histogram_new(&h, &o), 0);
    o.name = "inf";
    REQUIRE_RC(promc_info_new(&in, &o), 0);
    promc_gauge_set(g, 3);
    promc_histogram_observe(h, 1);
    promc_label_t l = {PROMC_STR("version"), PROMC_STR("1")};
    CHECK_RC(promc_info_set(in, &l, 1), 0);
    t = render(r, PROMC_FORMAT_OPENMETRICS);
    CHECK(has(t, "promc_metric_parent_updated{metric=\"g\"} 1.0\n"));
    CHECK(has(t, "promc_metric_parent_updated{metric=\"hh\"} 1.0\n"));
    CHECK(has(t, "promc_metric_parent_updated{metric=\"inf\"} 1.0\n"));
    promc_buf_free(t);
    promc_gauge_free(g);
    promc_histogram_free(h);
    promc_info_free(in);
    promc_counter_free(c);
    promc_registry_free(r);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* expire_seconds: children whose value did not change for that long go, at promc_metric_expire()
 * and after scrapes; changing ones stay; the count is exposed. */
static void expiry(void)
{
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_registry_set_created(r, false);
    const char *ln2[] = {"conn"};
    promc_gauge_t *g;
    REQUIRE_RC(promc_gauge_new(&g, &(promc_metric_opts_t){.name = "conn_bytes",
                                                          .help = "h",
                                                          .label_names = ln2,
                                                          .label_count = 1,
                                                          .registry = r,
                                                          .expire_seconds = 0.2}),
               0);
    promc_str_t a = PROMC_STR("a"), b = PROMC_STR("b"), c = PROMC_STR("c");
    CHECK_RC(promc_gauge_labels_set(g, &a, 1, 1), 0);
    CHECK_RC(promc_gauge_labels_set(g, &b, 1, 1), 0);
    CHECK(promc_metric_expire(promc_gauge_metric(g)) == 0); /* nothing is old yet */
    /* a changes every 60 ms; b is set to the value it has, which is not a change, until its
     * 200 ms are up and a sweep takes it. */
    size_t gone = 0;
    for (int i = 0; i < 10 && !gone; i++) {
        sleep_ms(60);
        CHECK_RC(promc_gauge_labels_add(g, &a, 1, 1), 0);
        CHECK_RC(promc_gauge_labels_set(g, &b, 1, 1), 0);
        gone += promc_metric_expire(promc_gauge_metric(g));
    }
    CHECK(gone == 1);
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK(has(t, "conn_bytes{conn=\"a\"} ") && !has(t, "conn=\"b\""));
    CHECK(has(t, "promc_metric_children_expired_total{metric=\"conn_bytes\"} 1.0\n"));
    promc_buf_free(t);
    /* A scrape sweeps too: c, left alone, is gone after a scrape past its expiry. */
    CHECK_RC(promc_gauge_labels_set(g, &c, 1, 5), 0);
    (void)promc_metric_expire(promc_gauge_metric(g)); /* the sweep that first sees c's 5 */
    sleep_ms(250);
    t = render(r, PROMC_FORMAT_TEXT); /* written (still there), then swept */
    CHECK(has(t, "conn=\"c\""));
    promc_buf_free(t);
    t = render(r, PROMC_FORMAT_TEXT);
    CHECK(!has(t, "conn=\"c\"") && !has(t, "conn=\"a\""));
    CHECK(has(t, "promc_metric_children_expired_total{metric=\"conn_bytes\"} 3.0\n"));
    promc_buf_free(t);
    /* Re-created at zero on the next update. */
    CHECK_RC(promc_gauge_labels_add(g, &b, 1, 2), 0);
    t = render(r, PROMC_FORMAT_TEXT);
    CHECK(has(t, "conn_bytes{conn=\"b\"} 2.0\n"));
    promc_buf_free(t);
    /* Options: no expiry on a metric without labels, none negative. */
    promc_gauge_t *bad;
    CHECK_RC(promc_gauge_new(&bad,
                             &(promc_metric_opts_t){
                                 .name = "x", .help = "h", .registry = r, .expire_seconds = 1}),
             PROMC_EINVAL);
    CHECK_RC(promc_gauge_new(&bad, &(promc_metric_opts_t){.name = "x",
                                                          .help = "h",
                                                          .label_names = ln2,
                                                          .label_count = 1,
                                                          .registry = r,
                                                          .expire_seconds = -1}),
             PROMC_EINVAL);
    CHECK(promc_metric_expire(NULL) == 0);
    promc_gauge_free(g);
    promc_registry_free(r);
}

static const check_case_t cases[] = {
    CHECK_CASE(expiry),           CHECK_CASE(parent_update_reported),
    CHECK_CASE(refuse_at_limit),  CHECK_CASE(overflow_child),
    CHECK_CASE(registry_default), CHECK_CASE(options_and_reserved_name),
};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_limits", cases, argc, argv);
}
