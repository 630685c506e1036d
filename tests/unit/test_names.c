/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 metric and label names (Prometheus 3), the legacy rules behind
 * promc_registry_set_legacy_names(), and how each escaping scheme writes a name, with the
 * negotiation that picks the scheme (escaping= in the Accept header).
 *
 * The escaping rules follow client_golang's model/metric.go (EscapeName), rune by rune.  Where
 * promc differs, on purpose:
 *   - a suffix (_total, _bucket, _count, _created) is appended after the family name is escaped,
 *     in every format; client_golang escapes a counter's family name with its _total, so under
 *     dots and values its counter samples read "x__total" where promc writes "x_total" - promc's
 *     form keeps every sample name equal to its family name plus the suffix, as OpenMetrics
 *     requires of a parser;
 *   - the escaping= of the winning media range decides; client_golang takes the last escaping=
 *     it met while walking the ranges in q order up to the winner.
 *   - in a label name ':' is escaped like any character outside the label set (client_golang keeps
 *     it, as it would in a metric name, and Prometheus then refuses the label; found by
 *     fuzz_names);
 *   - on text 0.0.4 and OpenMetrics 0.0.1 the escaping is applied but not echoed in the
 *     Content-Type (their media types have no such parameter); on OpenMetrics 1.0.0 and text
 *     1.0.0 it is echoed when the Accept header named one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "check.h"

static promc_registry_t *fresh(void)
{
    promc_registry_t *r = NULL;
    CHECK_RC(promc_registry_new(&r), 0);
    if (r)
        promc_registry_set_created(r, false);
    return r;
}

static char *render(promc_registry_t *r, promc_format_t f, promc_escaping_t e)
{
    char *t = NULL;
    size_t len;
    promc_expose_opts_t o = {.format = f, .escaping = e};
    if (promc_registry_write_buf(r, &o, &t, &len) != 0) {
        fprintf(stderr, "render: %s\n", promc_last_error());
        return NULL;
    }
    return t;
}

static bool has(const char *text, const char *line)
{
    bool ok = text && strstr(text, line) != NULL;
    if (!ok)
        fprintf(stderr, "missing %s in:\n%s\n", line, text ? text : "(null)");
    return ok;
}

static void utf8_names_accepted(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    const char *ln[] = {"code.x"};
    promc_gauge_t *g, *k;
    CHECK_RC(promc_gauge_new(&g, &(promc_metric_opts_t){.name = "http.server.requests",
                                                        .help = "H.",
                                                        .label_names = ln,
                                                        .label_count = 1,
                                                        .registry = r}),
             0);
    /* Refused under every rule: empty, bad UTF-8, the __ prefix, a NUL in a label name. */
    promc_gauge_t *x;
    CHECK_RC(promc_gauge_new(&x, &(promc_metric_opts_t){.name = "", .help = "", .registry = r}),
             PROMC_ENAME);
    CHECK_RC(
        promc_gauge_new(&x, &(promc_metric_opts_t){.name = "bad\xff", .help = "", .registry = r}),
        PROMC_EUTF8);
    const char *res[] = {"__x"};
    CHECK_RC(promc_gauge_new(&x, &(promc_metric_opts_t){.name = "ok",
                                                        .help = "",
                                                        .label_names = res,
                                                        .label_count = 1,
                                                        .registry = r}),
             PROMC_ERESERVED);
    promc_label_t nul[] = {{{"a\0b", 3}, PROMC_STR("v")}};
    CHECK_RC(promc_gauge_new(&x, &(promc_metric_opts_t){.name = "ok2",
                                                        .help = "",
                                                        .const_labels = nul,
                                                        .const_label_count = 1,
                                                        .registry = r}),
             PROMC_ELABELNAME);
    /* The legacy rules on another registry. */
    promc_registry_t *old = fresh();
    REQUIRE(old != NULL);
    promc_registry_set_legacy_names(old, true);
    CHECK_RC(promc_gauge_new(&x, &(promc_metric_opts_t){.name = "http.server.requests",
                                                        .help = "",
                                                        .registry = old}),
             PROMC_ENAME);
    CHECK(strstr(promc_last_error(), "'.' at offset 4") != NULL);
    CHECK_RC(promc_gauge_new(&x, &(promc_metric_opts_t){.name = "legacy_ok",
                                                        .help = "",
                                                        .label_names = ln,
                                                        .label_count = 1,
                                                        .registry = old}),
             PROMC_ELABELNAME);
    promc_registry_free(old);
    if (g) {
        promc_str_t v = PROMC_STR("200");
        REQUIRE_RC(promc_gauge_labels(g, &v, 1, &k), 0);
        promc_gauge_set(k, 1);
    }
    promc_gauge_free(g);
    promc_registry_free(r);
}

/* One family, one sample, under each scheme: the exact lines. */
static void escaping_schemes(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    const char *ln[] = {"code.x"};
    promc_gauge_t *g, *k, *colon, *ck;
    REQUIRE_RC(promc_gauge_new(&g, &(promc_metric_opts_t){.name = "http.server.requests",
                                                          .help = "H.",
                                                          .label_names = ln,
                                                          .label_count = 1,
                                                          .registry = r}),
               0);
    promc_str_t v = PROMC_STR("200");
    REQUIRE_RC(promc_gauge_labels(g, &v, 1, &k), 0);
    promc_gauge_set(k, 1);
    const char *cl[] = {"a:b"};
    REQUIRE_RC(promc_gauge_new(&colon, &(promc_metric_opts_t){.name = "x:y",
                                                              .help = "X.",
                                                              .label_names = cl,
                                                              .label_count = 1,
                                                              .registry = r}),
               0);
    REQUIRE_RC(promc_gauge_labels(colon, &v, 1, &ck), 0);
    promc_counter_t *c, *t, *legacy;
    REQUIRE_RC(promc_counter_new(
                   &c, &(promc_metric_opts_t){.name = "req.count", .help = "C.", .registry = r}),
               0);
    promc_counter_inc(c);
    REQUIRE_RC(promc_counter_new(
                   &t, &(promc_metric_opts_t){.name = "1température", .help = "T.", .registry = r}),
               0);
    REQUIRE_RC(promc_counter_new(
                   &legacy, &(promc_metric_opts_t){.name = "a_b", .help = "L.", .registry = r}),
               0);

    char *s = render(r, PROMC_FORMAT_TEXT, PROMC_ESCAPING_UNDERSCORES);
    CHECK(has(s, "# HELP http_server_requests H.\n# TYPE http_server_requests gauge\n"
                 "http_server_requests{code_x=\"200\"} 1.0\n"));
    CHECK(has(s, "\nreq_count_total 1.0\n"));
    CHECK(has(s, "\n_temp_rature_total 0.0\n")); /* a leading digit and é: one '_' each */
    CHECK(has(s, "\na_b_total 0.0\n"));
    CHECK(has(s, "\nx:y{a_b=\"200\"} 0.0\n")); /* ':' is legacy in a metric name only */
    promc_buf_free(s);

    s = render(r, PROMC_FORMAT_TEXT_1_0_0, PROMC_ESCAPING_ALLOW_UTF8);
    CHECK(has(s, "# HELP \"http.server.requests\" H.\n# TYPE \"http.server.requests\" gauge\n"
                 "{\"http.server.requests\",\"code.x\"=\"200\"} 1.0\n"));
    CHECK(has(s, "\n{\"req.count_total\"} 1.0\n"));
    CHECK(has(s, "\n{\"1température_total\"} 0.0\n"));
    CHECK(has(s, "\na_b_total 0.0\n")); /* a legacy name stays unquoted */
    promc_buf_free(s);

    s = render(r, PROMC_FORMAT_OPENMETRICS, PROMC_ESCAPING_ALLOW_UTF8);
    CHECK(has(s, "# TYPE \"req.count\" counter\n{\"req.count_total\"} 1.0\n"));
    promc_buf_free(s);

    s = render(r, PROMC_FORMAT_TEXT, PROMC_ESCAPING_DOTS);
    CHECK(has(s, "\nhttp_dot_server_dot_requests{code_dot_x=\"200\"} 1.0\n"));
    CHECK(has(s, "\nreq_dot_count_total 1.0\n"));
    CHECK(has(s, "\n__temp__rature_total 0.0\n"));
    CHECK(has(s, "\na__b_total 0.0\n")); /* dots escapes legacy names' '_' too */
    promc_buf_free(s);

    s = render(r, PROMC_FORMAT_TEXT, PROMC_ESCAPING_VALUES);
    CHECK(has(s, "\nU__http_2e_server_2e_requests{U__code_2e_x=\"200\"} 1.0\n"));
    CHECK(has(s, "\nU__req_2e_count_total 1.0\n"));
    CHECK(has(s, "\nU___31_temp_e9_rature_total 0.0\n"));
    CHECK(has(s, "\na_b_total 0.0\n")); /* values leaves legacy names alone */
    promc_buf_free(s);

    promc_counter_free(c);
    promc_counter_free(t);
    promc_counter_free(legacy);
    promc_gauge_free(colon);
    promc_gauge_free(g);
    promc_registry_free(r);
}

static void negotiation(void)
{
    static const struct {
        const char *accept;
        promc_format_t format;
        promc_escaping_t escaping;
        bool asked;
        const char *content_type;
    } cases[] = {
        {NULL, PROMC_FORMAT_TEXT, PROMC_ESCAPING_UNDERSCORES, false,
         "text/plain; version=0.0.4; charset=utf-8"},
        /* Prometheus 3's default scrape protocols. */
        {"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
         "application/openmetrics-text;version=0.0.1;q=0.5,"
         "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
         "text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
         PROMC_FORMAT_OPENMETRICS, PROMC_ESCAPING_ALLOW_UTF8, true,
         "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8"},
        {"text/plain;version=1.0.0;escaping=underscores", PROMC_FORMAT_TEXT_1_0_0,
         PROMC_ESCAPING_UNDERSCORES, true,
         "text/plain; version=1.0.0; charset=utf-8; escaping=underscores"},
        {"text/plain;version=1.0.0", PROMC_FORMAT_TEXT_1_0_0, PROMC_ESCAPING_UNDERSCORES, false,
         "text/plain; version=1.0.0; charset=utf-8"},
        {"application/openmetrics-text;version=0.0.1;escaping=dots", PROMC_FORMAT_OPENMETRICS_0_0_1,
         PROMC_ESCAPING_DOTS, true, "application/openmetrics-text; version=0.0.1; charset=utf-8"},
        {"text/plain;version=0.0.4;escaping=values", PROMC_FORMAT_TEXT, PROMC_ESCAPING_VALUES, true,
         "text/plain; version=0.0.4; charset=utf-8"},
        {"text/plain;escaping=bogus", PROMC_FORMAT_TEXT, PROMC_ESCAPING_UNDERSCORES, false,
         "text/plain; version=0.0.4; charset=utf-8"},
        {"application/openmetrics-text; version=1.0.0; escaping=\"values\"; q=0.9",
         PROMC_FORMAT_OPENMETRICS, PROMC_ESCAPING_VALUES, true,
         "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=values"},
        {"text/plain;version=2.0.0", PROMC_FORMAT_TEXT, PROMC_ESCAPING_UNDERSCORES, false,
         "text/plain; version=0.0.4; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        promc_escaping_t e = (promc_escaping_t)99;
        bool asked = !cases[i].asked;
        promc_format_t f = promc_format_negotiate_escaping(cases[i].accept, &e, &asked);
        CHECK(f == cases[i].format && e == cases[i].escaping && asked == cases[i].asked);
        CHECK(strcmp(promc_content_type(f, e, asked), cases[i].content_type) == 0);
        CHECK(promc_format_negotiate(cases[i].accept) == f);
        if (f != cases[i].format || e != cases[i].escaping)
            fprintf(stderr, "case %zu: format %d escaping %d\n", i, (int)f, (int)e);
    }
    CHECK(strcmp(promc_escaping_name(PROMC_ESCAPING_ALLOW_UTF8), "allow-utf-8") == 0);
    CHECK(strcmp(promc_escaping_name(PROMC_ESCAPING_VALUES), "values") == 0);
}

typedef struct got {
    char ct[128];
    char *body;
    size_t len;
} got_t;

static int keep(void *ud, const promc_handler_head_t *head, const void *data, size_t len)
{
    got_t *g = ud;
    if (head)
        snprintf(g->ct, sizeof g->ct, "%s", head->headers[0].value);
    char *b = realloc(g->body, g->len + len + 1);
    if (!b)
        return 1;
    memcpy(b + g->len, data, len);
    g->body = b;
    g->len += len;
    b[g->len] = '\0';
    return 0;
}

/* The handler: Prometheus 3 asking for allow-utf-8 gets it, echoed; an old scraper gets
 * underscores. */
static void handler_negotiates(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_gauge_t *g;
    REQUIRE_RC(promc_gauge_new(
                   &g, &(promc_metric_opts_t){.name = "queue.depth", .help = "Q.", .registry = r}),
               0);
    promc_handler_t *h;
    REQUIRE_RC(promc_handler_new(&h, &(promc_handler_opts_t){.registry = r, .no_instrument = true}),
               0);
    got_t a = {{0}, NULL, 0};
    CHECK_RC(promc_handler_serve(h,
                                 &(promc_handler_request_t){
                                     .accept = "application/openmetrics-text;version=1.0.0;"
                                               "escaping=allow-utf-8;q=0.6,text/plain;q=0.3"},
                                 keep, &a),
             0);
    CHECK(strcmp(a.ct, "application/openmetrics-text; version=1.0.0; charset=utf-8; "
                       "escaping=allow-utf-8") == 0);
    CHECK(has(a.body, "# TYPE \"queue.depth\" gauge\n{\"queue.depth\"} 0.0\n# EOF\n"));
    free(a.body);
    got_t b = {{0}, NULL, 0};
    CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){.accept = "text/plain"}, keep, &b),
             0);
    CHECK(strcmp(b.ct, "text/plain; version=0.0.4; charset=utf-8") == 0);
    CHECK(has(b.body, "# TYPE queue_depth gauge\nqueue_depth 0.0\n"));
    free(b.body);
    promc_handler_free(h);
    promc_gauge_free(g);
    promc_registry_free(r);
}

static const check_case_t cases[] = {CHECK_CASE(utf8_names_accepted), CHECK_CASE(escaping_schemes),
                                     CHECK_CASE(negotiation), CHECK_CASE(handler_negotiates)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_names", cases, argc, argv);
}
