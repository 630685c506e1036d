/* SPDX-License-Identifier: Apache-2.0 */
/* Custom collectors and the emit API (src/registry/collector.c, src/expose/emit.c): what
 * promc_emit_family / promc_emit_sample write, checked against what client_python 0.16 writes for
 * the same Metric (the expected texts were produced by prometheus_client.exposition.generate_latest
 * and openmetrics.exposition.generate_latest). */
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "check.h"

typedef int (*collect_fn)(void *ud, promc_emit_t *e);

/* Renders a registry holding only the collector `fn`. */
static char *render_collector(collect_fn fn, void *ud, promc_format_t f, int *rc)
{
    promc_registry_t *r;
    promc_collector_t *c;
    char *out = NULL;
    size_t len;
    if (promc_registry_new(&r) || promc_collector_new(&c, fn, ud, NULL, 0) ||
        promc_registry_register_collector(r, c)) {
        *rc = -1000;
        return NULL;
    }
    *rc = promc_registry_write_buf(r, &(promc_expose_opts_t){.format = f}, &out, &len);
    promc_collector_free(c);
    promc_registry_free(r);
    return out;
}

/* ---- text 0.0.4: _created, _gcount and _gsum each go to a gauge family of their own ---------- */

static int side_families(void *ud, promc_emit_t *e)
{
    (void)ud;
    promc_label_t a1[] = {{PROMC_STR("a"), PROMC_STR("1")}};
    promc_label_t a2[] = {{PROMC_STR("a"), PROMC_STR("2")}};
    int rc = promc_emit_family(e, "x", "h", PROMC_GAUGE, NULL);
    rc = rc ? rc : promc_emit_sample(e, "_gsum", a1, 1, 3);
    rc = rc ? rc : promc_emit_sample(e, "", NULL, 0, 1);
    rc = rc ? rc : promc_emit_sample(e, "_created", NULL, 0, 5);
    rc = rc ? rc : promc_emit_sample(e, "_gcount", NULL, 0, 2);
    rc = rc ? rc : promc_emit_sample(e, "_gsum", a2, 1, 4);
    rc = rc ? rc : promc_emit_family(e, "y", "h", PROMC_COUNTER, NULL);
    rc = rc ? rc : promc_emit_sample(e, "_total", NULL, 0, 1);
    return rc;
}

static void text_side_families(void)
{
    int rc;
    char *t = render_collector(side_families, NULL, PROMC_FORMAT_TEXT, &rc);
    CHECK_RC(rc, 0);
    CHECK_STR(t, "# HELP x h\n# TYPE x gauge\nx 1.0\n"
                 "# HELP x_created h\n# TYPE x_created gauge\nx_created 5.0\n"
                 "# HELP x_gcount h\n# TYPE x_gcount gauge\nx_gcount 2.0\n"
                 "# HELP x_gsum h\n# TYPE x_gsum gauge\nx_gsum{a=\"1\"} 3.0\nx_gsum{a=\"2\"} 4.0\n"
                 "# HELP y_total h\n# TYPE y_total counter\ny_total 1.0\n");
    promc_buf_free(t);
}

/* ---- a unit is appended to the family name unless it already ends so, as Metric() does ------- */

static int with_units(void *ud, promc_emit_t *e)
{
    int *bad = ud;
    int rc = promc_emit_family(e, "x", "h", PROMC_GAUGE, "seconds");
    rc = rc ? rc : promc_emit_sample(e, "", NULL, 0, 1);
    rc = rc ? rc : promc_emit_family(e, "y_bytes", "h", PROMC_COUNTER, "bytes");
    rc = rc ? rc : promc_emit_sample(e, "_total", NULL, 0, 1);
    if (rc)
        return rc;
    /* A unit that cannot be part of a name is refused (client_python: "Invalid metric name"), so
     * it can never reach the output. */
    bad[0] = promc_emit_family(e, "z", "h", PROMC_GAUGE, "a b\n# EOF");
    bad[1] = promc_emit_sample(e, "", NULL, 0, 1);
    return 0;
}

static void unit_suffix_appended(void)
{
    int rc, bad[2] = {0, 0};
    char *t = render_collector(with_units, bad, PROMC_FORMAT_OPENMETRICS, &rc);
    CHECK_RC(rc, 0);
    CHECK_STR(t, "# HELP x_seconds h\n# TYPE x_seconds gauge\n# UNIT x_seconds seconds\n"
                 "x_seconds 1.0\n"
                 "# HELP y_bytes h\n# TYPE y_bytes counter\n# UNIT y_bytes bytes\n"
                 "y_bytes_total 1.0\n# EOF\n");
    CHECK_RC(bad[0], PROMC_EUNIT);
    CHECK_RC(bad[1], PROMC_ESTATE);
    promc_buf_free(t);
}

/* ---- a sample's suffix is part of its name: only name characters ----------------------------- */

static int bad_suffix(void *ud, promc_emit_t *e)
{
    int *got = ud;
    int rc = promc_emit_family(e, "x", "h", PROMC_GAUGE, NULL);
    if (rc)
        return rc;
    got[0] = promc_emit_sample(e, " 1\ninjected", NULL, 0, 1);
    got[1] = promc_emit_sample(e, "{a=\"b\"}", NULL, 0, 1);
    got[2] = promc_emit_sample(e, "_ok:1", NULL, 0, 2);
    return 0;
}

static void sample_suffix_checked(void)
{
    int rc, got[3] = {0, 0, 0};
    char *t = render_collector(bad_suffix, got, PROMC_FORMAT_TEXT, &rc);
    CHECK_RC(rc, 0);
    CHECK_RC(got[0], PROMC_ENAME);
    CHECK_RC(got[1], PROMC_ENAME);
    CHECK_RC(got[2], 0);
    CHECK_STR(t, "# HELP x h\n# TYPE x gauge\nx_ok:1 2.0\n");
    promc_buf_free(t);
}

/* ---- a sample's label names are distinct (client_python's labels are a dict) ----------------- */

static int dup_labels(void *ud, promc_emit_t *e)
{
    int *got = ud;
    promc_label_t twice[] = {{PROMC_STR("b"), PROMC_STR("1")},
                             {PROMC_STR("a"), PROMC_STR("2")},
                             {PROMC_STR("b"), PROMC_STR("3")}};
    int rc = promc_emit_family(e, "x", "h", PROMC_GAUGE, NULL);
    if (rc)
        return rc;
    got[0] = promc_emit_sample(e, "", twice, 3, 1);
    got[1] = promc_emit_sample(e, "", twice, 2, 2);
    return 0;
}

static void duplicate_label_names(void)
{
    int rc, got[2] = {0, 0};
    char *t = render_collector(dup_labels, got, PROMC_FORMAT_TEXT, &rc);
    CHECK_RC(rc, 0);
    CHECK_RC(got[0], PROMC_ELABELNAME);
    CHECK_RC(got[1], 0);
    CHECK_STR(t, "# HELP x h\n# TYPE x gauge\nx{a=\"2\",b=\"1\"} 2.0\n");
    promc_buf_free(t);
}

/* The text of a whole registry in format f. */
static char *render(promc_registry_t *r, promc_format_t f)
{
    char *out = NULL;
    size_t len = 0;
    int rc = promc_registry_write_buf(r, &(promc_expose_opts_t){.format = f}, &out, &len);
    CHECK_RC(rc, 0);
    CHECK(!out || out[len] == '\0');
    return out;
}

static int collect(void *ud, promc_emit_t *e)
{
    int *calls = ud;
    (*calls)++;
    int rc = promc_emit_family(e, "queue_items", "Items.", PROMC_COUNTER, NULL);
    promc_label_t l[] = {{PROMC_STR("z"), PROMC_STR("1")}, {PROMC_STR("b"), PROMC_STR("\"")}};
    rc = rc ? rc : promc_emit_sample(e, "_total", l, 2, 3);
    rc = rc ? rc : promc_emit_sample(e, "_created", l, 2, 10);
    rc = rc ? rc : promc_emit_family(e, "up", "Up.", PROMC_GAUGE, NULL);
    rc = rc ? rc : promc_emit_sample(e, "", NULL, 0, 1);
    rc = rc ? rc : promc_emit_family(e, "empty", "E.", PROMC_UNTYPED, NULL);
    return rc;
}

static int failing_collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    CHECK_RC(promc_emit_family(e, "", "", PROMC_GAUGE, NULL),
             PROMC_ENAME); /* bad under both name rules */
    return PROMC_ECOLLECT;
}

/* Registration, scrape order, a failing collector, and freeing while registered. */
static void collector_lifecycle(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    promc_registry_set_legacy_names(r, true); /* the legacy rules are tested here */
    int calls = 0;
    promc_collector_t *c;
    const char *names[] = {"queue_items_total", "queue_items_created", "up"};
    CHECK_RC(promc_collector_new(&c, collect, &calls, names, 3), 0);
    CHECK_RC(promc_registry_register_collector(r, c), 0);
    promc_gauge_t *g;
    CHECK_RC(promc_gauge_new(&g, &(promc_metric_opts_t){.name = "up", .help = "", .registry = r}),
             PROMC_EDUPLICATE);
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK_STR(t, "# HELP queue_items_total Items.\n# TYPE queue_items_total counter\n"
                 "queue_items_total{b=\"\\\"\",z=\"1\"} 3.0\n"
                 "# HELP queue_items_created Items.\n# TYPE queue_items_created gauge\n"
                 "queue_items_created{b=\"\\\"\",z=\"1\"} 10.0\n"
                 "# HELP up Up.\n# TYPE up gauge\nup 1.0\n"
                 "# HELP empty E.\n# TYPE empty untyped\n");
    promc_buf_free(t);
    t = render(r, PROMC_FORMAT_OPENMETRICS);
    CHECK_STR(t, "# HELP queue_items Items.\n# TYPE queue_items counter\n"
                 "queue_items_total{b=\"\\\"\",z=\"1\"} 3.0\n"
                 "queue_items_created{b=\"\\\"\",z=\"1\"} 10.0\n"
                 "# HELP up Up.\n# TYPE up gauge\nup 1.0\n"
                 "# HELP empty E.\n# TYPE empty unknown\n# EOF\n");
    promc_buf_free(t);
    CHECK(calls == 2);
    promc_collector_t *f;
    CHECK_RC(promc_collector_new(&f, failing_collect, NULL, NULL, 0), 0);
    CHECK_RC(promc_registry_register_collector(r, f), 0);
    char *out;
    size_t len;
    CHECK_RC(promc_registry_write_buf(r, NULL, &out, &len), PROMC_ECOLLECT);
    promc_collector_free(f);
    promc_collector_free(c);
    promc_registry_free(r);
}

static double queue_len = 3;
static double bytes_sent = 1024;

static double read_value(void *ud)
{
    return *(double *)ud;
}

/* Gauges and counters whose value a callback gives at each scrape (set_function, GaugeFunc). */
static void func_metrics(void)
{
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_registry_set_legacy_names(r, true); /* the legacy rules are tested here */
    promc_registry_set_created(r, false);
    promc_collector_t *q, *b;
    REQUIRE_RC(promc_gauge_func_new(
                   &q,
                   &(promc_metric_opts_t){
                       .name = "queue_length", .help = "Jobs waiting.", .ns = "app", .registry = r},
                   read_value, &queue_len),
               0);
    REQUIRE_RC(promc_counter_func_new(
                   &b,
                   &(promc_metric_opts_t){
                       .name = "sent_total", .help = "Bytes sent.", .unit = "bytes", .registry = r},
                   read_value, &bytes_sent),
               0);
    char *t = render(r, PROMC_FORMAT_TEXT);
    CHECK_STR(t, "# HELP app_queue_length Jobs waiting.\n# TYPE app_queue_length gauge\n"
                 "app_queue_length 3.0\n"
                 "# HELP sent_bytes_total Bytes sent.\n# TYPE sent_bytes_total counter\n"
                 "sent_bytes_total 1024.0\n");
    promc_buf_free(t);
    queue_len = 7;
    bytes_sent = 4096;
    t = render(r, PROMC_FORMAT_OPENMETRICS);
    CHECK_STR(t,
              "# HELP app_queue_length Jobs waiting.\n# TYPE app_queue_length gauge\n"
              "app_queue_length 7.0\n"
              "# HELP sent_bytes Bytes sent.\n# TYPE sent_bytes counter\n# UNIT sent_bytes bytes\n"
              "sent_bytes_total 4096.0\n# EOF\n");
    promc_buf_free(t);
    /* Its names are taken; label names, no callback, bad names are refused. */
    promc_gauge_t *g;
    CHECK_RC(
        promc_gauge_new(
            &g, &(promc_metric_opts_t){.name = "app_queue_length", .help = "h", .registry = r}),
        PROMC_EDUPLICATE);
    promc_collector_t *x = NULL;
    const char *ln[] = {"k"};
    CHECK_RC(
        promc_gauge_func_new(
            &x,
            &(promc_metric_opts_t){.name = "y", .label_names = ln, .label_count = 1, .registry = r},
            read_value, &queue_len),
        PROMC_EINVAL);
    CHECK_RC(
        promc_gauge_func_new(&x, &(promc_metric_opts_t){.name = "y", .registry = r}, NULL, NULL),
        PROMC_EINVAL);
    CHECK_RC(promc_gauge_func_new(&x, &(promc_metric_opts_t){.name = "bad-name", .registry = r},
                                  read_value, &queue_len),
             PROMC_ENAME);
    CHECK_RC(promc_counter_func_new(
                 &x, &(promc_metric_opts_t){.name = "sent", .unit = "bytes", .registry = r},
                 read_value, &queue_len),
             PROMC_EDUPLICATE);
    CHECK(x == NULL);
    promc_collector_free(q);
    t = render(r, PROMC_FORMAT_TEXT);
    CHECK(t && !strstr(t, "queue"));
    promc_buf_free(t);
    promc_collector_free(b);
    promc_registry_free(r);
}

static const check_case_t cases[] = {
    CHECK_CASE(func_metrics),          CHECK_CASE(collector_lifecycle),
    CHECK_CASE(text_side_families),    CHECK_CASE(unit_suffix_appended),
    CHECK_CASE(sample_suffix_checked), CHECK_CASE(duplicate_label_names),
};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_emit", cases, argc, argv);
}
