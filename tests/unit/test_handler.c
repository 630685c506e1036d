/* SPDX-License-Identifier: Apache-2.0 */
/* The transport-agnostic /metrics handler (<promc/handler.h>): what each kind of request gets
 * through the write callback - head, headers, body whole or in chunks - and what it counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "check.h"

/* What the write callback saw. */
typedef struct seen {
    int calls;
    int heads;
    int status;
    bool complete;
    char headers[512]; /* "Name: value\n"... */
    char *body;
    size_t len;
    int refuse_after; /* refuse the call with this number (1-based); 0: never */
    /* Called while the head is being written, to try a second scrape meanwhile. */
    promc_handler_t *reenter;
    int reenter_status;
} seen_t;

static int record(void *ud, const promc_handler_head_t *head, const void *data, size_t len)
{
    seen_t *s = ud;
    s->calls++;
    if (s->refuse_after && s->calls >= s->refuse_after)
        return 1;
    if (head) {
        s->heads++;
        s->status = head->status;
        s->complete = head->complete;
        s->headers[0] = '\0';
        for (size_t i = 0; i < head->header_count; i++) {
            size_t o = strlen(s->headers);
            snprintf(s->headers + o, sizeof s->headers - o, "%s: %s\n", head->headers[i].name,
                     head->headers[i].value);
        }
        if (s->reenter) {
            seen_t inner = {0};
            promc_handler_request_t req = {0};
            if (promc_handler_serve(s->reenter, &req, record, &inner) == 0)
                s->reenter_status = inner.status;
            free(inner.body);
        }
    }
    char *b = realloc(s->body, s->len + len + 1);
    if (b == NULL)
        return 1;
    s->body = b;
    if (len)
        memcpy(b + s->len, data, len);
    s->len += len;
    b[s->len] = '\0';
    return 0;
}

static promc_registry_t *setup(void)
{
    promc_registry_t *r = NULL;
    CHECK_RC(promc_registry_new(&r), 0);
    if (r)
        promc_registry_set_created(r, false);
    return r;
}

static double requests(promc_registry_t *r, const char *code)
{
    promc_label_t l = {PROMC_STR("code"), promc_str(code)};
    double v = -1;
    if (promc_registry_sample_value(r, "promhttp_metric_handler_requests_total", &l, 1, &v) != 0)
        return -1;
    return v;
}

static void whole_response(void)
{
    promc_registry_t *r = setup();
    REQUIRE(r != NULL);
    promc_counter_t *c;
    REQUIRE_RC(promc_counter_new(
                   &c, &(promc_metric_opts_t){.name = "jobs", .help = "Jobs.", .registry = r}),
               0);
    promc_counter_add(c, 3);
    promc_handler_t *h = NULL;
    REQUIRE_RC(promc_handler_new(&h, &(promc_handler_opts_t){.registry = r}), 0);

    seen_t s = {0};
    CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){.path = "/metrics"}, record, &s), 0);
    CHECK(s.calls == 1 && s.heads == 1 && s.status == 200 && s.complete);
    CHECK(strcmp(s.headers, "Content-Type: text/plain; version=0.0.4; charset=utf-8\n"
                            "Vary: Accept-Encoding\n") == 0);
    CHECK(s.body && strstr(s.body, "jobs_total 3.0\n"));
    /* The same bytes as promc_registry_write_buf(), but for the promhttp counter it bumped. */
    CHECK(s.body && strstr(s.body, "promhttp_metric_handler_requests_in_flight 1.0\n"));
    CHECK(requests(r, "200") == 1);
    free(s.body);

    /* OpenMetrics when Accept ranks it first; gzip when Accept-Encoding takes it. */
    s = (seen_t){0};
    CHECK_RC(promc_handler_serve(
                 h,
                 &(promc_handler_request_t){.method = "HEAD",
                                            .accept = "application/openmetrics-text;version=1.0.0,"
                                                      "text/plain;q=0.5",
                                            .accept_encoding = "gzip"},
                 record, &s),
             0);
    CHECK(s.status == 200 && s.complete);
    CHECK(strcmp(s.headers, "Content-Type: application/openmetrics-text; version=1.0.0; "
                            "charset=utf-8\nContent-Encoding: gzip\nVary: Accept-Encoding\n") == 0);
    CHECK(s.len > 2 && (unsigned char)s.body[0] == 0x1f && (unsigned char)s.body[1] == 0x8b);
    free(s.body);
    CHECK(requests(r, "200") == 2);

    /* Another method: 405 with Allow, not counted as a scrape. */
    s = (seen_t){0};
    CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){.method = "POST"}, record, &s), 0);
    CHECK(s.status == 405 && s.complete);
    CHECK(strstr(s.headers, "Allow: GET, HEAD\n") != NULL);
    CHECK(requests(r, "200") == 2 && requests(r, "500") == 0 && requests(r, "503") == 0);
    free(s.body);

    CHECK_RC(promc_handler_serve(NULL, &(promc_handler_request_t){0}, record, &s), PROMC_EINVAL);
    CHECK_RC(promc_handler_serve(h, NULL, record, &s), PROMC_EINVAL);
    CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){0}, NULL, &s), PROMC_EINVAL);
    CHECK_RC(promc_handler_new(NULL, NULL), PROMC_EINVAL);
    promc_handler_free(h);
    promc_handler_free(NULL);
    promc_counter_free(c);
    promc_registry_free(r);
}

static void name_filter(void)
{
    promc_registry_t *r = setup();
    REQUIRE(r != NULL);
    promc_gauge_t *a, *b;
    REQUIRE_RC(
        promc_gauge_new(&a, &(promc_metric_opts_t){.name = "a_b", .help = "A.", .registry = r}), 0);
    REQUIRE_RC(
        promc_gauge_new(&b, &(promc_metric_opts_t){.name = "c", .help = "C.", .registry = r}), 0);
    promc_handler_t *h = NULL;
    REQUIRE_RC(promc_handler_new(&h, &(promc_handler_opts_t){.registry = r, .no_instrument = true}),
               0);
    /* The key percent-encoded as browsers send it, another parameter between, a value encoded. */
    seen_t s = {0};
    CHECK_RC(
        promc_handler_serve(
            h, &(promc_handler_request_t){.query = "name%5B%5D=a%5Fb&x=1&name[]=zz+z"}, record, &s),
        0);
    CHECK(s.body && strcmp(s.body, "# HELP a_b A.\n# TYPE a_b gauge\na_b 0.0\n") == 0);
    free(s.body);
    /* No name[]: everything; a malformed escape is taken literally. */
    s = (seen_t){0};
    CHECK_RC(
        promc_handler_serve(h, &(promc_handler_request_t){.query = "name[]=%zz&&"}, record, &s), 0);
    CHECK(s.body && strcmp(s.body, "") == 0);
    free(s.body);
    s = (seen_t){0};
    CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){.query = "foo=bar"}, record, &s), 0);
    CHECK(s.body && strstr(s.body, "a_b 0.0\n") && strstr(s.body, "c 0.0\n"));
    free(s.body);
    /* no_instrument: nothing was registered. */
    CHECK(requests(r, "200") == -1);
    promc_handler_free(h);
    promc_gauge_free(a);
    promc_gauge_free(b);
    promc_registry_free(r);
}

/* A registry whose text is past the 1 MiB the handler holds. */
static promc_gauge_t *big_registry(promc_registry_t *r)
{
    static const char *const ln[] = {"id"};
    promc_gauge_t *g = NULL;
    if (promc_gauge_new(&g, &(promc_metric_opts_t){.name = "big_family_with_a_long_name",
                                                   .help = "Big.",
                                                   .label_names = ln,
                                                   .label_count = 1,
                                                   .registry = r}) != 0)
        return NULL;
    for (int i = 0; i < 40000; i++) {
        char v[32];
        snprintf(v, sizeof v, "%d", i);
        promc_str_t s = promc_str(v);
        promc_gauge_t *k;
        if (promc_gauge_labels(g, &s, 1, &k) != 0)
            return g;
        promc_gauge_set(k, i);
    }
    return g;
}

static void streams_past_a_mebibyte(void)
{
    promc_registry_t *r = setup();
    REQUIRE(r != NULL);
    promc_gauge_t *g = big_registry(r);
    REQUIRE(g != NULL);
    char *want = NULL;
    size_t want_len = 0;
    REQUIRE_RC(promc_registry_write_buf(r, NULL, &want, &want_len), 0);
    REQUIRE(want_len > (1u << 20));
    promc_handler_t *h = NULL;
    REQUIRE_RC(
        promc_handler_new(
            &h, &(promc_handler_opts_t){.registry = r, .max_in_flight = 1, .no_instrument = true}),
        0);
    /* Streams: one head (not complete), chunks after it, the same bytes.  A second scrape while
     * this one's head is written finds the limit of one taken. */
    seen_t s = {.reenter = h};
    CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){0}, record, &s), 0);
    CHECK(s.heads == 1 && s.status == 200 && !s.complete && s.calls > 2);
    CHECK(s.reenter_status == 503);
    CHECK(s.len == want_len && memcmp(s.body, want, want_len) == 0);
    free(s.body);
    /* The limit is free again afterwards. */
    s = (seen_t){0};
    CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){.no_stream = true}, record, &s), 0);
    CHECK(s.calls == 1 && s.complete && s.len == want_len);
    free(s.body);
    /* The client goes away in the middle: PROMC_ESINK, nothing more written. */
    s = (seen_t){.refuse_after = 3};
    CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){0}, record, &s), PROMC_ESINK);
    CHECK(s.calls == 3);
    free(s.body);
    promc_buf_free(want);
    promc_handler_free(h);
    promc_gauge_free(g);
    promc_registry_free(r);
}

static void timeout_and_limits(void)
{
    promc_registry_t *r = setup();
    REQUIRE(r != NULL);
    promc_handler_t *h = NULL, *h2 = NULL;
    REQUIRE_RC(promc_handler_new(&h, &(promc_handler_opts_t){.registry = r}), 0);
    /* A timeout already past when the first bytes are written: 503, counted. */
    seen_t s = {0};
    CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){.scrape_timeout = "0.000000001"},
                                 record, &s),
             0);
    CHECK(s.status == 503 && s.complete && s.body && strstr(s.body, "scrape abandoned"));
    free(s.body);
    CHECK(requests(r, "503") == 1);
    /* Malformed timeouts are ignored. */
    const char *bad[] = {"", "x", "-1", "0", "nan", "inf", "1s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = (seen_t){0};
        CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){.scrape_timeout = bad[i]},
                                     record, &s),
                 0);
        CHECK(s.status == 200);
        free(s.body);
    }
    CHECK(requests(r, "200") == 7);
    /* A second handler on the registry shares the metrics; they stay until the last one goes. */
    REQUIRE_RC(promc_handler_new(&h2, &(promc_handler_opts_t){.registry = r}), 0);
    s = (seen_t){0};
    CHECK_RC(promc_handler_serve(h2, &(promc_handler_request_t){0}, record, &s), 0);
    free(s.body);
    CHECK(requests(r, "200") == 8);
    promc_handler_free(h);
    CHECK(requests(r, "200") == 8);
    promc_handler_free(h2);
    CHECK(requests(r, "200") == -1);
    /* A refused whole response. */
    REQUIRE_RC(promc_handler_new(&h, &(promc_handler_opts_t){.registry = r}), 0);
    s = (seen_t){.refuse_after = 1};
    CHECK_RC(promc_handler_serve(h, &(promc_handler_request_t){0}, record, &s), PROMC_ESINK);
    free(s.body);
    promc_handler_free(h);
    promc_registry_free(r);
}

/* promc_handler_serve_buf(): the whole response in one buffer, even past the streaming size. */
static void serve_buf(void)
{
    promc_registry_t *r = setup();
    REQUIRE(r != NULL);
    promc_gauge_t *g = big_registry(r);
    REQUIRE(g != NULL);
    char *want = NULL;
    size_t want_len = 0;
    REQUIRE_RC(promc_registry_write_buf(r, NULL, &want, &want_len), 0);
    promc_handler_t *h = NULL;
    REQUIRE_RC(promc_handler_new(&h, &(promc_handler_opts_t){.registry = r, .no_instrument = true}),
               0);
    promc_handler_response_t out;
    CHECK_RC(promc_handler_serve_buf(h, &(promc_handler_request_t){0}, &out), 0);
    CHECK(out.status == 200 && out.header_count == 2);
    CHECK(strcmp(out.headers[0].name, "Content-Type") == 0 &&
          strcmp(out.headers[0].value, "text/plain; version=0.0.4; charset=utf-8") == 0);
    CHECK(out.len == want_len && memcmp(out.body, want, want_len) == 0);
    promc_handler_response_free(&out);
    CHECK(out.body == NULL && out.len == 0);
    CHECK_RC(promc_handler_serve_buf(h, &(promc_handler_request_t){.method = "PUT"}, &out), 0);
    CHECK(out.status == 405 && out.header_count == 2 && strcmp(out.headers[1].name, "Allow") == 0);
    promc_handler_response_free(&out);
    CHECK_RC(promc_handler_serve_buf(h, NULL, &out), PROMC_EINVAL);
    promc_handler_response_free(NULL);
    promc_buf_free(want);
    promc_handler_free(h);
    promc_gauge_free(g);
    promc_registry_free(r);
}

static const check_case_t cases[] = {CHECK_CASE(whole_response), CHECK_CASE(name_filter),
                                     CHECK_CASE(serve_buf), CHECK_CASE(streams_past_a_mebibyte),
                                     CHECK_CASE(timeout_and_limits)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_handler", cases, argc, argv);
}
