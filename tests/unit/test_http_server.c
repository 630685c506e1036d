/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP server end to end over loopback: endpoints, content negotiation, gzip, name[], HEAD,
 * 405/404, /healthz and /readyz, max-in-flight, the scrape timeout, the request-size and
 * connection caps, custom routes, start errors, IPv6, and stopping with clients connected. */
#define _GNU_SOURCE
#include <promc/promc.h>

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"
#include "http_client.h"

static const char *const LOCAL = "127.0.0.1";

static bool contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static bool header_is(const hc_response_t *r, const char *name, const char *want)
{
    char buf[512];
    const char *v = hc_header(r, name, buf, sizeof buf);
    if (v == NULL || strcmp(v, want) != 0) {
        fprintf(stderr, "header %s: got '%s', want '%s'\n", name, v ? v : "(absent)", want);
        return false;
    }
    return true;
}

/* A registry with one counter and one gauge, values that are easy to find. */
typedef struct fixture {
    promc_registry_t *reg;
    promc_counter_t *a;
    promc_gauge_t *g;
} fixture_t;

static void fixture_init(fixture_t *f)
{
    CHECK_RC(promc_registry_new(&f->reg), 0);
    CHECK_RC(promc_counter_new(&f->a, &(promc_metric_opts_t){.name = "test_a",
                                                             .help = "A test counter.",
                                                             .registry = f->reg}),
             0);
    CHECK_RC(promc_gauge_new(&f->g, &(promc_metric_opts_t){.name = "test_g",
                                                           .help = "A test gauge.",
                                                           .registry = f->reg}),
             0);
    promc_counter_add(f->a, 41);
    promc_counter_inc(f->a);
    promc_gauge_set(f->g, 7);
}

static void fixture_destroy(fixture_t *f)
{
    promc_counter_free(f->a);
    promc_gauge_free(f->g);
    promc_registry_free(f->reg);
}

static promc_http_server_t *start_on(const promc_http_opts_t *o)
{
    promc_http_server_t *s = NULL;
    int rc = promc_http_server_new(&s, o);
    CHECK_RC(rc, 0);
    if (rc == 0)
        CHECK(promc_http_server_port(s) > 0);
    return rc == 0 ? s : NULL;
}

/* ---- the built-in endpoints --------------------------------------------------------------- */

static void metrics_endpoint(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s =
        start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg, .threads = 2});
    if (!s)
        return;
    unsigned port = promc_http_server_port(s);
    hc_response_t r;

    CHECK_RC(hc_get(port, "/metrics", "", &r), 0);
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8"));
    CHECK(contains(r.body, "# HELP test_a_total A test counter.\n# TYPE test_a_total counter\n"
                           "test_a_total 42.0\n"));
    CHECK(contains(r.body, "test_g 7.0\n"));
    /* The scrape being served is in flight; none has been counted yet. */
    CHECK(contains(r.body, "promhttp_metric_handler_requests_in_flight 1.0\n"));
    CHECK(contains(r.body, "promhttp_metric_handler_requests_total{code=\"200\"} 0.0\n"));
    CHECK(contains(r.body, "promhttp_metric_handler_requests_total{code=\"503\"} 0.0\n"));
    hc_response_free(&r);

    CHECK_RC(hc_get(port, "/metrics", "", &r), 0);
    CHECK(contains(r.body, "promhttp_metric_handler_requests_total{code=\"200\"} 1.0\n"));
    hc_response_free(&r);

    /* OpenMetrics when asked for. */
    CHECK_RC(hc_get(port, "/metrics",
                    "Accept: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n", &r),
             0);
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Content-Type",
                    "application/openmetrics-text; version=1.0.0; charset=utf-8"));
    CHECK(contains(r.body, "# TYPE test_a counter\n"));
    CHECK(r.body_len >= 6 && strcmp(r.body + r.body_len - 6, "# EOF\n") == 0);
    hc_response_free(&r);

    /* gzip when Accept-Encoding allows it; the same text once inflated. */
    CHECK_RC(hc_get(port, "/metrics?name[]=test_a_total&name[]=test_g", "", &r), 0);
    char *plain = r.body;
    size_t plain_len = r.body_len;
    r.body = NULL;
    CHECK_RC(hc_get(port, "/metrics?name[]=test_a_total&name[]=test_g",
                    "Accept-Encoding: gzip, deflate\r\n", &r),
             0);
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Content-Encoding", "gzip"));
    CHECK(header_is(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8"));
    size_t ulen = 0;
    char *unz = hc_gunzip(r.body, r.body_len, &ulen);
    CHECK(unz != NULL);
    CHECK(unz && ulen == plain_len && memcmp(unz, plain, ulen) == 0);
    free(unz);
    hc_response_free(&r);
    /* gzip refused with q=0: plain. */
    CHECK_RC(hc_get(port, "/metrics", "Accept-Encoding: gzip;q=0\r\n", &r), 0);
    char buf[64];
    CHECK(hc_header(&r, "Content-Encoding", buf, sizeof buf) == NULL);
    CHECK(contains(r.body, "test_a_total 42.0\n"));
    hc_response_free(&r);

    /* name[]: only the samples named, and the key may come percent-encoded. */
    CHECK(plain && contains(plain, "test_a_total 42.0\n") && contains(plain, "test_g 7.0\n"));
    CHECK(plain && !contains(plain, "test_a_created") && !contains(plain, "promhttp_"));
    free(plain);
    CHECK_RC(hc_get(port, "/metrics?name%5B%5D=test_g", "", &r), 0);
    CHECK(r.status == 200);
    CHECK_STR(r.body, "# HELP test_g A test gauge.\n# TYPE test_g gauge\ntest_g 7.0\n");
    hc_response_free(&r);

    CHECK_RC(hc_close_server(s, 1), 0);
    fixture_destroy(&f);
}

static void head_and_methods(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s = start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg});
    if (!s)
        return;
    unsigned port = promc_http_server_port(s);
    hc_response_t r;

    /* HEAD: the GET's headers and length, no body: the next response on the same connection
     * must start right after the headers. */
    int fd = hc_connect(port);
    CHECK(fd >= 0);
    CHECK(hc_send_str(fd, "HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK_RC(hc_read_response(fd, &r, 20000, true), 0);
    CHECK(r.status == 200);
    char len[32];
    CHECK(hc_header(&r, "Content-Length", len, sizeof len) != NULL && atol(len) > 100);
    CHECK(header_is(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8"));
    hc_response_free(&r);
    CHECK(hc_send_str(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK_RC(hc_read_response(fd, &r, 20000, false), 0);
    CHECK(r.status == 200);
    CHECK_STR(r.body, "ok\n");
    hc_response_free(&r);
    close(fd);

    static const char *const methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        char raw[256];
        snprintf(raw, sizeof raw, "%s /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
                 methods[i]);
        CHECK_RC(hc_exchange(port, raw, &r), 0);
        CHECK(r.status == 405);
        CHECK(header_is(&r, "Allow", "GET, HEAD"));
        hc_response_free(&r);
    }
    CHECK_RC(hc_exchange(port, "DELETE /healthz HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    CHECK(r.status == 405);
    hc_response_free(&r);
    /* A method evhttp does not know: an error, never a 200. */
    CHECK_RC(hc_exchange(port, "BREW /metrics HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    CHECK(r.status >= 400 && r.status < 600);
    hc_response_free(&r);

    CHECK_RC(hc_get(port, "/nope", "", &r), 0);
    CHECK(r.status == 404);
    hc_response_free(&r);
    CHECK_RC(hc_get(port, "/metrics/extra", "", &r), 0);
    CHECK(r.status == 404);
    hc_response_free(&r);

    CHECK_RC(hc_get(port, "/", "", &r), 0);
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Content-Type", "text/html; charset=utf-8"));
    CHECK(contains(r.body, "href=\"/metrics\""));
    hc_response_free(&r);

    /* Keep-alive: three requests on one connection. */
    fd = hc_connect(port);
    for (int i = 0; i < 3; i++) {
        CHECK(hc_send_str(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
        CHECK_RC(hc_read_response(fd, &r, 20000, false), 0);
        CHECK(r.status == 200);
        hc_response_free(&r);
    }
    close(fd);

    CHECK_RC(hc_close_server(s, 1), 0);
    fixture_destroy(&f);
}

static void health_and_ready(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s =
        start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg, .start_unready = true});
    if (!s)
        return;
    unsigned port = promc_http_server_port(s);
    hc_response_t r;
    CHECK_RC(hc_get(port, "/healthz", "", &r), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    CHECK_RC(hc_get(port, "/readyz", "", &r), 0);
    CHECK(r.status == 503);
    hc_response_free(&r);
    promc_http_server_set_ready(s, true);
    CHECK_RC(hc_get(port, "/readyz", "", &r), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    promc_http_server_set_ready(s, false);
    CHECK_RC(hc_get(port, "/readyz", "", &r), 0);
    CHECK(r.status == 503);
    hc_response_free(&r);
    CHECK_RC(hc_close_server(s, 1), 0);
    fixture_destroy(&f);

    /* Ready from the start by default. */
    fixture_init(&f);
    s = start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg});
    if (!s)
        return;
    CHECK_RC(hc_get(promc_http_server_port(s), "/readyz", "", &r), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    CHECK_RC(hc_close_server(s, 1), 0);
    fixture_destroy(&f);
}

/* ---- limits ------------------------------------------------------------------------------- */

/* A collector that blocks until released, to hold a scrape in flight. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered;
    bool open;
} gate_t;

static int gate_collect(void *ud, promc_emit_t *e)
{
    gate_t *g = ud;
    pthread_mutex_lock(&g->mu);
    g->entered++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    int rc = promc_emit_family(e, "gated", "Behind the gate.", PROMC_GAUGE, NULL);
    return rc ? rc : promc_emit_sample(e, "", NULL, 0, 1);
}

static void max_in_flight(void)
{
    fixture_t f;
    fixture_init(&f);
    gate_t g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false};
    promc_collector_t *c;
    static const char *const names[] = {"gated"};
    CHECK_RC(promc_collector_new(&c, gate_collect, &g, names, 1), 0);
    CHECK_RC(promc_registry_register_collector(f.reg, c), 0);
    enum { THREADS = 4, EXTRA = 12 };
    promc_http_server_t *s = start_on(&(promc_http_opts_t){
        .address = LOCAL, .registry = f.reg, .threads = THREADS, .max_in_flight = 1});
    if (!s)
        return;
    unsigned port = promc_http_server_port(s);

    /* The first scrape enters the collector and stays there. */
    int first = hc_connect(port);
    CHECK(hc_send_str(first, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"));
    pthread_mutex_lock(&g.mu);
    double deadline = hc_now() + 20;
    while (g.entered == 0 && hc_now() < deadline) {
        pthread_mutex_unlock(&g.mu);
        hc_sleep_ms(5);
        pthread_mutex_lock(&g.mu);
    }
    CHECK(g.entered == 1);
    pthread_mutex_unlock(&g.mu);

    /* More scrapes over other connections: those the kernel gives to another thread are over the
     * limit and get 503 at once (the chance that all land on the blocked thread is 4^-12). */
    int fds[EXTRA];
    for (int i = 0; i < EXTRA; i++) {
        fds[i] = hc_connect(port);
        CHECK(fds[i] >= 0 && hc_send_str(fds[i], "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"));
    }
    int got503 = 0, answered[EXTRA] = {0};
    deadline = hc_now() + 20;
    while (got503 == 0 && hc_now() < deadline) {
        for (int i = 0; i < EXTRA; i++) {
            if (answered[i] || hc_wait_readable(fds[i], 0) <= 0)
                continue;
            hc_response_t r;
            CHECK_RC(hc_read_response(fds[i], &r, 20000, false), 0);
            CHECK(r.status == 503);
            CHECK(contains(r.body, "limit 1"));
            got503 += r.status == 503;
            answered[i] = 1;
            hc_response_free(&r);
        }
        hc_sleep_ms(5);
    }
    CHECK(got503 > 0);

    /* Open the gate: the first scrape completes; those queued behind it on its thread too. */
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    hc_response_t r;
    CHECK_RC(hc_read_response(first, &r, 20000, false), 0);
    CHECK(r.status == 200);
    CHECK(contains(r.body, "gated 1.0\n"));
    hc_response_free(&r);
    for (int i = 0; i < EXTRA; i++) {
        if (!answered[i]) {
            CHECK_RC(hc_read_response(fds[i], &r, 20000, false), 0);
            CHECK(r.status == 200 || r.status == 503);
            got503 += r.status == 503;
            hc_response_free(&r);
        }
        close(fds[i]);
    }
    close(first);

    /* The 503s were counted by code. */
    CHECK_RC(hc_get(port, "/metrics?name[]=promhttp_metric_handler_requests_total", "", &r), 0);
    char want[128];
    snprintf(want, sizeof want, "promhttp_metric_handler_requests_total{code=\"503\"} %d.0\n",
             got503);
    CHECK(contains(r.body, want));
    if (!contains(r.body, want))
        fprintf(stderr, "wanted %s in:\n%s\n", want, r.body);
    hc_response_free(&r);

    CHECK_RC(hc_close_server(s, 1), 0);
    promc_collector_free(c);
    fixture_destroy(&f);
}

static int slow_collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    hc_sleep_ms(300);
    int rc = promc_emit_family(e, "slow", "A slow collector.", PROMC_GAUGE, NULL);
    return rc ? rc : promc_emit_sample(e, "", NULL, 0, 1);
}

static int failing_collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    (void)e;
    return PROMC_ECOLLECT;
}

static void scrape_timeout_and_errors(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_collector_t *slow;
    static const char *const names[] = {"slow"};
    CHECK_RC(promc_collector_new(&slow, slow_collect, NULL, names, 1), 0);
    CHECK_RC(promc_registry_register_collector(f.reg, slow), 0);
    promc_http_server_t *s = start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg});
    if (!s)
        return;
    unsigned port = promc_http_server_port(s);
    hc_response_t r;

    CHECK_RC(hc_get(port, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds: 0.05\r\n", &r), 0);
    CHECK(r.status == 503);
    CHECK(contains(r.body, "X-Prometheus-Scrape-Timeout-Seconds"));
    hc_response_free(&r);
    /* A generous timeout, or an unusable header, lets it finish. */
    CHECK_RC(hc_get(port, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n", &r), 0);
    CHECK(r.status == 200);
    CHECK(contains(r.body, "slow 1.0\n"));
    hc_response_free(&r);
    CHECK_RC(hc_get(port, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds: soon\r\n", &r), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    CHECK_RC(hc_get(port, "/metrics?name[]=promhttp_metric_handler_requests_total", "", &r), 0);
    CHECK(contains(r.body, "promhttp_metric_handler_requests_total{code=\"503\"} 1.0\n"));
    CHECK(contains(r.body, "promhttp_metric_handler_requests_total{code=\"200\"} 2.0\n"));
    hc_response_free(&r);

    /* A failing collector: 500, counted. */
    promc_collector_t *bad;
    static const char *const bad_names[] = {"bad"};
    CHECK_RC(promc_collector_new(&bad, failing_collect, NULL, bad_names, 1), 0);
    CHECK_RC(promc_registry_register_collector(f.reg, bad), 0);
    CHECK_RC(hc_get(port, "/metrics", "", &r), 0);
    CHECK(r.status == 500);
    CHECK(contains(r.body, "error"));
    hc_response_free(&r);
    promc_collector_free(bad);
    CHECK_RC(hc_get(port, "/metrics?name[]=promhttp_metric_handler_requests_total", "", &r), 0);
    CHECK(contains(r.body, "promhttp_metric_handler_requests_total{code=\"500\"} 1.0\n"));
    hc_response_free(&r);

    CHECK_RC(hc_close_server(s, 1), 0);
    promc_collector_free(slow);
    fixture_destroy(&f);
}

static void request_size_cap(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s = start_on(
        &(promc_http_opts_t){.address = LOCAL, .registry = f.reg, .max_request_bytes = 1024});
    if (!s)
        return;
    unsigned port = promc_http_server_port(s);
    hc_response_t r;
    char big[4096];
    memset(big, 'a', sizeof big);
    memcpy(big, "X-Big: ", 7);
    memcpy(big + sizeof big - 3, "\r\n", 3);
    /* Headers over the cap: 400 and the connection closes, as http.h says (evhttp's parser
     * reports it as a malformed header; no 431). */
    CHECK_RC(hc_get(port, "/metrics", big, &r), 0);
    CHECK(r.status == 400);
    CHECK(header_is(&r, "Connection", "close"));
    hc_response_free(&r);
    /* A request line over the cap: the same. */
    char longpath[2048];
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    CHECK_RC(hc_get(port, longpath, "", &r), 0);
    CHECK(r.status == 400);
    hc_response_free(&r);
    /* A body over the cap: 413. */
    char raw[4096];
    snprintf(raw, sizeof raw,
             "POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 3000\r\n\r\n%03000d", 0);
    CHECK_RC(hc_exchange(port, raw, &r), 0);
    CHECK(r.status == 413);
    CHECK(header_is(&r, "Connection", "close"));
    hc_response_free(&r);
    /* Under the cap all is well. */
    CHECK_RC(hc_get(port, "/healthz", "X-Small: yes\r\n", &r), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    CHECK_RC(hc_close_server(s, 1), 0);
    fixture_destroy(&f);
}

static void connection_cap(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s = start_on(&(promc_http_opts_t){
        .address = LOCAL, .registry = f.reg, .threads = 1, .max_connections = 2});
    if (!s)
        return;
    unsigned port = promc_http_server_port(s);
    hc_response_t r;
    int a = hc_connect(port), b = hc_connect(port);
    CHECK(a >= 0 && b >= 0);
    for (int i = 0; i < 2; i++) {
        int fd = i ? b : a;
        CHECK(hc_send_str(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
        CHECK_RC(hc_read_response(fd, &r, 20000, false), 0);
        CHECK(r.status == 200);
        hc_response_free(&r);
    }
    /* A third connection is served at once: the longest-idle one (a) is closed for it, as
     * nginx closes idle keep-alive connections when it runs short. */
    int c = hc_connect(port);
    CHECK(c >= 0);
    CHECK(hc_send_str(c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK_RC(hc_read_response(c, &r, 2000, false), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    char byte;
    CHECK(hc_wait_readable(a, 2000) == 1 && read(a, &byte, 1) == 0); /* a: end of stream */
    close(a);
    /* b, more recently active, still works. */
    CHECK(hc_send_str(b, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK_RC(hc_read_response(b, &r, 2000, false), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    close(b);
    close(c);
    CHECK_RC(hc_close_server(s, 1), 0);
    fixture_destroy(&f);
}

/* A request that has begun must be complete within header_timeout_seconds (slowloris); a
 * connection that sends nothing is only subject to the idle timeout. */
static void header_timeout(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s = start_on(&(promc_http_opts_t){.address = LOCAL,
                                                           .registry = f.reg,
                                                           .threads = 1,
                                                           .timeout_seconds = 20,
                                                           .header_timeout_seconds = 0.5});
    if (!s)
        return;
    unsigned port = promc_http_server_port(s);
    int slow = hc_connect(port), quiet = hc_connect(port);
    CHECK(slow >= 0 && quiet >= 0);
    double t0 = hc_now();
    CHECK(hc_send_str(slow, "GET /healthz HTTP/1.1\r\nHost: t\r\n"));
    bool closed = false;
    char byte;
    while (!closed && hc_now() - t0 < 5) {
        /* A header line every 200 ms keeps the idle timeout away, not the header deadline. */
        if (hc_wait_readable(slow, 200) == 1)
            closed = read(slow, &byte, 1) <= 0;
        else if (!hc_send_str(slow, "X-Slow: y\r\n"))
            closed = true;
    }
    double took = hc_now() - t0;
    CHECK(closed && took >= 0.4 && took < 2.5);
    /* The quiet connection is still there, and serves a request. */
    CHECK(hc_wait_readable(quiet, 0) == 0);
    hc_response_t r;
    CHECK(hc_send_str(quiet, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK_RC(hc_read_response(quiet, &r, 2000, false), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    /* Served requests end the deadline: after 1.5 s more of quiet the connection still works. */
    CHECK(hc_wait_readable(quiet, 1500) == 0);
    CHECK(hc_send_str(quiet, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK_RC(hc_read_response(quiet, &r, 2000, false), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    close(slow);
    close(quiet);
    CHECK_RC(hc_close_server(s, 1), 0);
    fixture_destroy(&f);
}

/* ---- routes ------------------------------------------------------------------------------- */

static atomic_int hits_echo, hits_fallback;
/* Handlers run on server threads: they count what went wrong, and the main thread CHECKs it. */
static atomic_int handler_errors;

#define HANDLER_EXPECT(cond)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            atomic_fetch_add(&handler_errors, 1);                                                  \
            fprintf(stderr, "%s:%d: handler expectation failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                                          \
    } while (0)

static void echo_handler(void *ud, promc_http_request_t *req)
{
    HANDLER_EXPECT(ud == (void *)&hits_echo);
    atomic_fetch_add(&hits_echo, 1);
    char body[512];
    const char *q = promc_http_request_query(req);
    const char *h = promc_http_request_header(req, "x-test");
    snprintf(body, sizeof body, "%s %s q=%s h=%s", promc_http_request_method(req),
             promc_http_request_path(req), q ? q : "(none)", h ? h : "(none)");
    HANDLER_EXPECT(promc_http_request_set_header(req, "X-Reply", "yes") == 0);
    HANDLER_EXPECT(promc_http_request_set_header(req, "X-Bad", "a\r\nInjected: 1") == PROMC_EINVAL);
    HANDLER_EXPECT(promc_http_request_respond(req, 999, NULL, NULL, 0) == PROMC_EINVAL);
    HANDLER_EXPECT(promc_http_request_respond(req, 201, "text/plain", body, strlen(body)) == 0);
    HANDLER_EXPECT(promc_http_request_respond(req, 200, NULL, "again", 5) == PROMC_ESTATE);
    HANDLER_EXPECT(promc_http_request_set_header(req, "X-Late", "no") == PROMC_ESTATE);
}

static void silent_handler(void *ud, promc_http_request_t *req)
{
    (void)ud;
    (void)req;
}

static void fallback_handler(void *ud, promc_http_request_t *req)
{
    (void)ud;
    atomic_fetch_add(&hits_fallback, 1);
    int rc = promc_http_request_respond(req, 418, "text/plain", "teapot\n", 7);
    (void)rc; /* the test checks the answer the client gets */
}

static void routes(void)
{
    const promc_http_route_t routes[] = {
        {.path = "/echo", .fn = echo_handler, .ud = &hits_echo},
        {.path = "/silent", .fn = silent_handler},
        {.path = NULL, .fn = fallback_handler},
    };
    /* Routes only: no built-ins, no promhttp metrics in the default registry. */
    promc_http_server_t *s = start_on(&(promc_http_opts_t){
        .address = LOCAL, .no_builtin = true, .routes = routes, .route_count = 3, .threads = 2});
    if (!s)
        return;
    unsigned port = promc_http_server_port(s);
    hc_response_t r;
    CHECK_RC(hc_get(port, "/echo?x=1&y=%20", "X-Test: hello\r\n", &r), 0);
    CHECK(r.status == 201);
    CHECK_STR(r.body, "GET /echo q=x=1&y=%20 h=hello");
    CHECK(header_is(&r, "X-Reply", "yes"));
    char buf[64];
    CHECK(hc_header(&r, "X-Bad", buf, sizeof buf) == NULL);
    CHECK(hc_header(&r, "Injected", buf, sizeof buf) == NULL);
    hc_response_free(&r);
    CHECK_RC(hc_exchange(port, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi", &r),
             0);
    CHECK_STR(r.body, "POST /echo q=(none) h=(none)");
    hc_response_free(&r);
    CHECK_RC(hc_exchange(port, "HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    CHECK(r.status == 201 && r.body_len == 0);
    CHECK(hc_header(&r, "Content-Length", buf, sizeof buf) && atoi(buf) > 0);
    hc_response_free(&r);
    CHECK_RC(hc_get(port, "/silent", "", &r), 0);
    CHECK(r.status == 500);
    hc_response_free(&r);
    CHECK_RC(hc_get(port, "/metrics", "", &r), 0);
    CHECK(r.status == 418);
    hc_response_free(&r);
    CHECK_RC(hc_get(port, "/healthz", "", &r), 0);
    CHECK(r.status == 418);
    hc_response_free(&r);
    CHECK(atomic_load(&hits_echo) == 3);
    CHECK(atomic_load(&handler_errors) == 0);
    CHECK(atomic_load(&hits_fallback) == 2);
    CHECK_RC(hc_close_server(s, 1), 0);

    char *text = NULL;
    size_t len = 0;
    CHECK_RC(promc_registry_write_buf(promc_registry_default(), NULL, &text, &len), 0);
    CHECK(text && !contains(text, "promhttp_"));
    promc_buf_free(text);

    /* Without a fallback, an unknown path is a plain 404. */
    s = start_on(&(promc_http_opts_t){
        .address = LOCAL, .no_builtin = true, .routes = routes, .route_count = 1});
    if (!s)
        return;
    CHECK_RC(hc_get(promc_http_server_port(s), "/other", "", &r), 0);
    CHECK(r.status == 404);
    hc_response_free(&r);
    CHECK_RC(hc_close_server(s, 0), 0);
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

/* Whether nothing listens on the port any more. */
static bool port_closed(unsigned port)
{
    int fd = hc_connect(port);
    if (fd < 0)
        return true;
    close(fd);
    return false;
}

static _Atomic(promc_http_server_t *) self_server;
static atomic_int self_stop_rc = 1;

/* A handler that tries to stop and free its own server: refused, and the server serves on. */
static void self_stop_handler(void *ud, promc_http_request_t *req)
{
    (void)ud;
    promc_http_server_t *s = atomic_load(&self_server);
    atomic_store(&self_stop_rc, promc_http_server_stop(s, 0));
    promc_http_server_free(s); /* a no-op on the server's own thread */
    int rc = promc_http_request_respond(req, 200, "text/plain", "still here", 10);
    (void)rc;
}

static void teapot_metrics(void *ud, promc_http_request_t *req)
{
    (void)ud;
    int rc = promc_http_request_respond(req, 418, "text/plain", "mine\n", 5);
    (void)rc;
}

static void lifecycle(void)
{
    fixture_t f;
    fixture_init(&f);
    /* An application route for a built-in path wins; the other built-ins stay. */
    const promc_http_route_t routes[] = {{.path = "/metrics", .fn = teapot_metrics},
                                         {.path = "/self", .fn = self_stop_handler}};
    promc_http_server_t *s = start_on(&(promc_http_opts_t){
        .address = LOCAL, .registry = f.reg, .routes = routes, .route_count = 2});
    if (!s)
        return;
    atomic_store(&self_server, s);
    unsigned port = promc_http_server_port(s);
    hc_response_t r;
    CHECK_RC(hc_get(port, "/metrics", "", &r), 0);
    CHECK(r.status == 418);
    hc_response_free(&r);
    CHECK_RC(hc_get(port, "/healthz", "", &r), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    CHECK_RC(hc_get(port, "/self", "", &r), 0);
    CHECK(r.status == 200);
    CHECK_STR(r.body, "still here");
    hc_response_free(&r);
    CHECK_RC(atomic_load(&self_stop_rc), PROMC_ESTATE);
    CHECK_RC(hc_get(port, "/healthz", "", &r), 0); /* the handler's free did nothing */
    CHECK(r.status == 200);
    hc_response_free(&r);
    /* Stop, stop again, then free. */
    CHECK_RC(promc_http_server_stop(s, 1), 0);
    CHECK(port_closed(port));
    CHECK_RC(promc_http_server_stop(s, 1), 0);
    promc_http_server_free(s);

    /* Free alone stops a running server. */
    s = start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg});
    if (!s)
        return;
    port = promc_http_server_port(s);
    CHECK_RC(hc_get(port, "/readyz", "", &r), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    promc_http_server_free(s);
    CHECK(port_closed(port));
    fixture_destroy(&f);
}

/* The names of 0.1 stay for one minor release and behave as the new ones. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static void old_names_handler(void *ud, promc_http_request_t *req)
{
    (void)ud;
    int rc = promc_http_set_header(req, "X-Old", "yes");
    rc = rc ? rc : promc_http_respond(req, 202, "text/plain", "old", 3);
    (void)rc;
}

static void deprecated_names(void)
{
    const promc_http_route_t routes[] = {{.path = "/old", .fn = old_names_handler}};
    promc_http_server_t *s = NULL;
    CHECK_RC(promc_http_start(&s, &(promc_http_opts_t){.address = LOCAL,
                                                       .no_builtin = true,
                                                       .start_unready = true,
                                                       .routes = routes,
                                                       .route_count = 1}),
             0);
    if (!s)
        return;
    promc_http_set_ready(s, true);
    unsigned port = promc_http_port(s);
    CHECK(port == promc_http_server_port(s));
    hc_response_t r;
    CHECK_RC(hc_get(port, "/old", "", &r), 0);
    CHECK(r.status == 202);
    CHECK(header_is(&r, "X-Old", "yes"));
    hc_response_free(&r);
    CHECK_RC(promc_http_stop(s, 1), 0);
    CHECK(port_closed(port));
}
#pragma GCC diagnostic pop

/* ---- start errors, sharing, IPv6 ---------------------------------------------------------- */

static int listening_socket(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void start_errors(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s = NULL;
    unsigned port = 0;
    int taken = listening_socket(&port);
    CHECK(taken >= 0);
    for (unsigned threads = 1; threads <= 3; threads += 2) {
        CHECK_RC(promc_http_server_new(&s, &(promc_http_opts_t){.address = LOCAL,
                                                                .port = port,
                                                                .registry = f.reg,
                                                                .threads = threads}),
                 PROMC_EADDRINUSE);
        CHECK(s == NULL);
        /* The same port on "0.0.0.0" is taken too. */
        CHECK_RC(promc_http_server_new(
                     &s, &(promc_http_opts_t){.port = port, .registry = f.reg, .threads = threads}),
                 PROMC_EADDRINUSE);
    }
    close(taken);

    /* A running promc server's port is taken for a second one, with or without SO_REUSEPORT. */
    promc_http_server_t *first =
        start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg, .threads = 2});
    if (first) {
        promc_http_server_t *second = NULL;
        CHECK_RC(promc_http_server_new(&second,
                                       &(promc_http_opts_t){.address = LOCAL,
                                                            .port = promc_http_server_port(first),
                                                            .registry = f.reg,
                                                            .threads = 2}),
                 PROMC_EADDRINUSE);
        CHECK_RC(promc_http_server_new(&second,
                                       &(promc_http_opts_t){.address = LOCAL,
                                                            .port = promc_http_server_port(first),
                                                            .registry = f.reg}),
                 PROMC_EADDRINUSE);
        CHECK(second == NULL);
        CHECK_RC(hc_close_server(first, 0), 0);
    }

    CHECK_RC(
        promc_http_server_new(&s, &(promc_http_opts_t){.address = "300.1.2.3", .registry = f.reg}),
        PROMC_EADDR);
    CHECK_RC(promc_http_server_new(
                 &s, &(promc_http_opts_t){.address = "no-such-host.invalid", .registry = f.reg}),
             PROMC_EADDR);
    /* Host names are never resolved, not even "localhost" (a static binary could not): the
     * error says so. */
    CHECK_RC(
        promc_http_server_new(&s, &(promc_http_opts_t){.address = "localhost", .registry = f.reg}),
        PROMC_EADDR);
    CHECK(contains(promc_last_error(), "'localhost' is not a numeric IPv4 or IPv6 address"));
    CHECK_RC(promc_http_server_new(
                 &s, &(promc_http_opts_t){.address = "localhost", .registry = f.reg, .threads = 2}),
             PROMC_EADDR);
    /* 192.0.2.1 (TEST-NET-1) is no address of this machine. */
    CHECK_RC(
        promc_http_server_new(&s, &(promc_http_opts_t){.address = "192.0.2.1", .registry = f.reg}),
        PROMC_EADDR);
    CHECK_RC(promc_http_server_new(&s, &(promc_http_opts_t){.port = 65536, .registry = f.reg}),
             PROMC_EINVAL);
    CHECK_RC(promc_http_server_new(&s, NULL), PROMC_EINVAL);
    CHECK_RC(promc_http_server_new(NULL, &(promc_http_opts_t){.registry = f.reg}), PROMC_EINVAL);
    const promc_http_route_t dup[] = {{.path = "/a", .fn = silent_handler},
                                      {.path = "/a", .fn = silent_handler}};
    CHECK_RC(promc_http_server_new(&s, &(promc_http_opts_t){.address = LOCAL,
                                                            .registry = f.reg,
                                                            .routes = dup,
                                                            .route_count = 2}),
             PROMC_EINVAL);
    const promc_http_route_t nofn[] = {{.path = "/a"}};
    CHECK_RC(promc_http_server_new(&s, &(promc_http_opts_t){.address = LOCAL,
                                                            .registry = f.reg,
                                                            .routes = nofn,
                                                            .route_count = 1}),
             PROMC_EINVAL);
    const promc_http_route_t relative[] = {{.path = "a", .fn = silent_handler}};
    CHECK_RC(promc_http_server_new(&s, &(promc_http_opts_t){.address = LOCAL,
                                                            .registry = f.reg,
                                                            .routes = relative,
                                                            .route_count = 1}),
             PROMC_EINVAL);
    CHECK(s == NULL);
    CHECK_RC(promc_http_server_stop(NULL, 1), 0);
    promc_http_server_free(NULL);

    /* Someone else's promhttp_ metric: EDUPLICATE, nothing registered by us. */
    promc_gauge_t *squat;
    CHECK_RC(promc_gauge_new(&squat,
                             &(promc_metric_opts_t){
                                 .name = "promhttp_metric_handler_requests_in_flight",
                                 .help = "Not ours.",
                                 .registry = f.reg,
                             }),
             0);
    CHECK_RC(promc_http_server_new(&s, &(promc_http_opts_t){.address = LOCAL, .registry = f.reg}),
             PROMC_EDUPLICATE);
    char *text = NULL;
    size_t len;
    CHECK_RC(promc_registry_write_buf(f.reg, NULL, &text, &len), 0);
    CHECK(text && !contains(text, "promhttp_metric_handler_requests_total"));
    promc_buf_free(text);
    promc_gauge_free(squat);
    fixture_destroy(&f);
}

static void shared_metrics(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *a = start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg});
    promc_http_server_t *b = start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg});
    if (!a || !b)
        return;
    hc_response_t r;
    CHECK_RC(hc_get(promc_http_server_port(a), "/metrics", "", &r), 0);
    hc_response_free(&r);
    CHECK_RC(hc_get(promc_http_server_port(b), "/metrics", "", &r), 0);
    /* One set of metrics, counting both servers' scrapes. */
    CHECK(contains(r.body, "promhttp_metric_handler_requests_total{code=\"200\"} 1.0\n"));
    hc_response_free(&r);
    /* A scrape is counted before its response goes out: alternating between the two servers
     * (two threads), each response counts every scrape answered before it. */
    int late = 0;
    for (int i = 0; i < 200; i++) {
        promc_http_server_t *on = i % 2 ? a : b;
        CHECK_RC(hc_get(promc_http_server_port(on),
                        "/metrics?name[]=promhttp_metric_handler_requests_total", "", &r),
                 0);
        char want[128];
        snprintf(want, sizeof want, "promhttp_metric_handler_requests_total{code=\"200\"} %d.0\n",
                 2 + i);
        if (!contains(r.body, want))
            late++;
        hc_response_free(&r);
    }
    CHECK(late == 0);
    if (late)
        fprintf(stderr, "%d of 200 scrapes did not count every scrape answered before them\n",
                late);
    CHECK_RC(hc_close_server(a, 1), 0);
    CHECK_RC(hc_get(promc_http_server_port(b), "/metrics", "", &r), 0);
    CHECK(contains(r.body, "promhttp_metric_handler_requests_total{code=\"200\"} 202.0\n"));
    hc_response_free(&r);
    CHECK_RC(hc_close_server(b, 1), 0);
    char *text = NULL;
    size_t len;
    CHECK_RC(promc_registry_write_buf(f.reg, NULL, &text, &len), 0);
    CHECK(text && !contains(text, "promhttp_") && contains(text, "test_a_total 42.0"));
    promc_buf_free(text);
    fixture_destroy(&f);
}

static void ipv6(void)
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool have_v6 = probe >= 0 && bind(probe, (struct sockaddr *)&a6, sizeof a6) == 0;
    if (probe >= 0)
        close(probe);
    if (!have_v6) {
        printf("SKIP ipv6: this machine cannot bind [::1] (no IPv6 loopback); the IPv6 "
               "listener is NOT tested here\n");
        return;
    }
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s =
        start_on(&(promc_http_opts_t){.address = "::1", .registry = f.reg, .threads = 2});
    if (s) {
        int fd = hc_connect_to("::1", promc_http_server_port(s));
        CHECK(fd >= 0);
        hc_response_t r;
        CHECK(hc_send_str(fd, "GET /metrics HTTP/1.1\r\nHost: [::1]\r\n\r\n"));
        CHECK_RC(hc_read_response(fd, &r, 20000, false), 0);
        CHECK(r.status == 200 && contains(r.body, "test_a_total 42.0"));
        hc_response_free(&r);
        close(fd);
        CHECK_RC(hc_close_server(s, 1), 0);
    }
    /* "::" takes IPv4 clients too (dual stack). */
    s = start_on(&(promc_http_opts_t){.address = "::", .registry = f.reg});
    if (s) {
        hc_response_t r;
        CHECK_RC(hc_get(promc_http_server_port(s), "/healthz", "", &r), 0);
        CHECK(r.status == 200);
        hc_response_free(&r);
        int fd = hc_connect_to("::1", promc_http_server_port(s));
        CHECK(fd >= 0);
        close(fd);
        CHECK_RC(hc_close_server(s, 1), 0);
    }
    fixture_destroy(&f);
}

/* ---- stopping ----------------------------------------------------------------------------- */

static void stop_with_clients(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s =
        start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg, .threads = 2});
    if (!s)
        return;
    unsigned port = promc_http_server_port(s);
    hc_response_t r;
    /* An idle keep-alive connection, one that sent half a request, one that sent nothing. */
    int idle = hc_connect(port);
    CHECK(hc_send_str(idle, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK_RC(hc_read_response(idle, &r, 20000, false), 0);
    hc_response_free(&r);
    int half = hc_connect(port);
    CHECK(hc_send_str(half, "GET /metrics HTTP/1.1\r\nHost:"));
    int mute = hc_connect(port);
    CHECK(idle >= 0 && half >= 0 && mute >= 0);
    hc_sleep_ms(50);
    double t0 = hc_now();
    CHECK_RC(hc_close_server(s, 10), 0);
    double took = hc_now() - t0;
    CHECK(took < 5); /* idle connections do not hold the drain */
    if (took >= 5)
        fprintf(stderr, "stop took %.2f s\n", took);
    /* Every connection was closed; the port is free again. */
    char c;
    CHECK(hc_wait_readable(idle, 5000) == 1 && recv(idle, &c, 1, 0) <= 0);
    CHECK(hc_wait_readable(half, 5000) == 1 && recv(half, &c, 1, 0) <= 0);
    CHECK(hc_wait_readable(mute, 5000) == 1 && recv(mute, &c, 1, 0) <= 0);
    close(idle);
    close(half);
    close(mute);
    CHECK(port_closed(port));
    fixture_destroy(&f);
}

/* A collector with a large output (over 6 MB), for a response that outlasts the socket buffers
 * (net.ipv4.tcp_wmem lets a send buffer grow to 4 MB by default). */
#define BIG_SAMPLES 160000
static int big_collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    int rc = promc_emit_family(e, "big", "A big family.", PROMC_GAUGE, NULL);
    char v[32];
    for (int i = 0; rc == 0 && i < BIG_SAMPLES; i++) {
        snprintf(v, sizeof v, "value-%08d-padding-padding", i);
        promc_label_t l = {PROMC_STR("i"), promc_str(v)};
        rc = promc_emit_sample(e, "", &l, 1, i);
    }
    return rc;
}

typedef struct stopper {
    promc_http_server_t *s;
    double drain;
    double took;
    int rc;
    atomic_bool done;
} stopper_t;

static void *stop_thread(void *arg)
{
    stopper_t *st = arg;
    double t0 = hc_now();
    st->rc = hc_close_server(st->s, st->drain);
    st->took = hc_now() - t0;
    atomic_store(&st->done, true);
    return NULL;
}

static int slow_reader_socket(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void stop_drains_in_flight(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_collector_t *big;
    static const char *const names[] = {"big"};
    CHECK_RC(promc_collector_new(&big, big_collect, NULL, names, 1), 0);
    CHECK_RC(promc_registry_register_collector(f.reg, big), 0);

    /* 1. A client that reads nothing: stop waits for the drain time, then gives up. */
    promc_http_server_t *s = start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg});
    if (!s)
        return;
    int fd = slow_reader_socket(promc_http_server_port(s));
    CHECK(fd >= 0 && hc_send_str(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(hc_wait_readable(fd, 20000) == 1); /* the response has started */
    double t0 = hc_now();
    CHECK_RC(hc_close_server(s, 0.5), 0);
    double took = hc_now() - t0;
    CHECK(took >= 0.4 && took < 5);
    if (!(took >= 0.4 && took < 5))
        fprintf(stderr, "stop with a stuck client took %.2f s (drain 0.5 s)\n", took);
    close(fd);

    /* 2. A client that reads slowly: the response is finished within the drain time. */
    s = start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg});
    if (!s)
        return;
    fd = slow_reader_socket(promc_http_server_port(s));
    CHECK(fd >= 0 && hc_send_str(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"));
    CHECK(hc_wait_readable(fd, 20000) == 1);
    stopper_t st = {s, 30, 0, -1, false};
    pthread_t th;
    pthread_create(&th, NULL, stop_thread, &st);
    hc_sleep_ms(200);
    CHECK(!atomic_load(&st.done)); /* still sending */
    hc_response_t r;
    CHECK_RC(hc_read_response(fd, &r, 30000, false), 0);
    CHECK(r.status == 200);
    CHECK(r.body_len > (size_t)BIG_SAMPLES * 40);
    char last[128];
    snprintf(last, sizeof last, "big{i=\"value-%08d-padding-padding\"} %d.0\n", BIG_SAMPLES - 1,
             BIG_SAMPLES - 1);
    CHECK(contains(r.body, last));
    hc_response_free(&r);
    pthread_join(th, NULL);
    CHECK_RC(st.rc, 0);
    CHECK(st.took < 25);
    close(fd);

    promc_collector_free(big);
    fixture_destroy(&f);
}

/* A child process (its own descriptor table) connects and sends GET /healthz on `n` connections,
 * then reads the answers; its exit status is the number of 200s.  Only system calls after fork():
 * the parent has threads. */
static int child_clients(unsigned port, int n)
{
    int fds[16], ok = 0;
    for (int i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&a, sizeof a) != 0 ||
            send(fds[i], req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1))
            return 0;
    }
    for (int i = 0; i < n; i++) {
        char buf[256];
        size_t got = 0;
        struct pollfd p = {fds[i], POLLIN, 0};
        while (got < 12 && poll(&p, 1, 20000) == 1) {
            ssize_t r = recv(fds[i], buf + got, sizeof buf - got, 0);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0)
            ok++;
    }
    return ok;
}

static double process_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* accept() failing with EMFILE: the server backs off instead of spinning, and serves the waiting
 * connections once descriptors are available again. */
static void accept_errors(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s = start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg});
    if (!s)
        return;
    enum { CLIENTS = 4 };
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    int lowest = dup(0); /* the lowest free descriptor: the limit goes there */
    CHECK(lowest >= 0);
    close(lowest);
    struct rlimit low = {(rlim_t)lowest, old.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    pid_t child = fork();
    if (child == 0) {
        setrlimit(RLIMIT_NOFILE, &old); /* the child's own table is not the point */
        _exit(child_clients(promc_http_server_port(s), CLIENTS));
    }
    CHECK(child > 0);
    /* The connections wait in the backlog; every accept() fails. */
    double cpu0 = process_cpu();
    hc_sleep_ms(500);
    double spent = process_cpu() - cpu0;
    CHECK(spent < 0.2);
    if (spent >= 0.2)
        fprintf(stderr, "the server used %.2f s of CPU in 0.5 s of EMFILE\n", spent);
    CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == CLIENTS);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == CLIENTS))
        fprintf(stderr, "child: status %d\n", status);
    hc_response_t r;
    CHECK_RC(hc_get(promc_http_server_port(s), "/healthz", "", &r), 0);
    CHECK(r.status == 200);
    hc_response_free(&r);
    CHECK_RC(hc_close_server(s, 1), 0);
    fixture_destroy(&f);
}

/* Many connections over several threads all get served. */
static void threads_share_port(void)
{
    fixture_t f;
    fixture_init(&f);
    promc_http_server_t *s =
        start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg, .threads = 3});
    if (!s)
        return;
    enum { N = 24 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = hc_connect(promc_http_server_port(s));
        CHECK(fds[i] >= 0 && hc_send_str(fds[i], "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    }
    for (int i = 0; i < N; i++) {
        hc_response_t r;
        CHECK_RC(hc_read_response(fds[i], &r, 20000, false), 0);
        CHECK(r.status == 200);
        hc_response_free(&r);
        close(fds[i]);
    }
    CHECK_RC(hc_close_server(s, 1), 0);
    fixture_destroy(&f);
}

/* ---- streamed scrapes ------------------------------------------------------------------------ */

/* A scrape past 1 MiB is streamed in chunks (HTTP/1.1 GET), framed by the connection closing for
 * HTTP/1.0, and still measured whole for HEAD; every form carries exactly what
 * promc_registry_write() gives.  A timeout after streaming began truncates the response. */
static void streamed_scrape(void)
{
    fixture_t f;
    fixture_init(&f);
    static const char *const id[] = {"id"};
    promc_counter_t *big;
    CHECK_RC(promc_counter_new(&big, &(promc_metric_opts_t){.name = "big",
                                                            .help = "Many children.",
                                                            .label_names = id,
                                                            .label_count = 1,
                                                            .registry = f.reg}),
             0);
    for (int i = 0; i < 60000; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        promc_str_t sv = promc_str(v);
        promc_counter_t *child;
        CHECK_RC(promc_counter_labels(big, &sv, 1, &child), 0);
        promc_counter_add(child, i);
    }
    const char *only[] = {"big_total"};
    char *want = NULL;
    size_t want_len = 0;
    CHECK_RC(promc_registry_write_buf(f.reg, &(promc_expose_opts_t){.names = only, .name_count = 1},
                                      &want, &want_len),
             0);
    CHECK(want_len > (1u << 20) + 100000); /* well past the point where streaming starts */
    promc_http_server_t *s = start_on(&(promc_http_opts_t){.address = LOCAL, .registry = f.reg});
    if (s == NULL || want == NULL)
        return;
    unsigned port = promc_http_server_port(s);
    hc_response_t r;

    CHECK_RC(hc_get(port, "/metrics?name[]=big_total", "", &r), 0);
    CHECK(r.status == 200 && r.chunked);
    CHECK(r.body_len == want_len && memcmp(r.body, want, want_len) == 0);
    hc_response_free(&r);

    CHECK_RC(hc_get(port, "/metrics?name[]=big_total", "Accept-Encoding: gzip\r\n", &r), 0);
    CHECK(r.status == 200);
    CHECK(header_is(&r, "Content-Encoding", "gzip"));
    size_t ulen = 0;
    char *unz = hc_gunzip(r.body, r.body_len, &ulen);
    /* Compressed, it stays under the streaming threshold (held whole); it must match all the same.
     */
    CHECK(!r.chunked);
    CHECK(unz && ulen == want_len && memcmp(unz, want, want_len) == 0);
    free(unz);
    hc_response_free(&r);

    CHECK_RC(hc_exchange(port, "GET /metrics?name[]=big_total HTTP/1.0\r\n\r\n", &r), 0);
    CHECK(r.status == 200 && !r.chunked);
    CHECK(r.body_len == want_len && memcmp(r.body, want, want_len) == 0);
    hc_response_free(&r);

    CHECK_RC(hc_exchange(port, "HEAD /metrics?name[]=big_total HTTP/1.1\r\nHost: t\r\n\r\n", &r),
             0);
    char len[32];
    CHECK(r.status == 200 && hc_header(&r, "Content-Length", len, sizeof len) &&
          strtoull(len, NULL, 10) == want_len);
    hc_response_free(&r);

    /* Keep-alive goes on after a streamed response: two on one connection. */
    int fd = hc_connect(port);
    CHECK(fd >= 0);
    for (int i = 0; i < 2 && fd >= 0; i++) {
        CHECK(hc_send_str(fd, "GET /metrics?name[]=big_total HTTP/1.1\r\nHost: t\r\n\r\n"));
        CHECK_RC(hc_read_response(fd, &r, 20000, false), 0);
        CHECK(r.chunked && r.body_len == want_len);
        hc_response_free(&r);
    }
    if (fd >= 0)
        close(fd);

    /* Gzip past the threshold too: values that barely compress. */
    promc_gauge_t *noise;
    CHECK_RC(promc_gauge_new(&noise, &(promc_metric_opts_t){.name = "noise",
                                                            .help = "Incompressible values.",
                                                            .label_names = id,
                                                            .label_count = 1,
                                                            .registry = f.reg}),
             0);
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 100000; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        promc_str_t sv = promc_str(v);
        promc_gauge_t *child;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (promc_gauge_labels(noise, &sv, 1, &child) == 0)
            promc_gauge_set(child, (double)(x >> 11) / 9007199254740992.0);
    }
    const char *noise_only[] = {"noise"};
    char *noise_want = NULL;
    size_t noise_len = 0;
    CHECK_RC(promc_registry_write_buf(f.reg,
                                      &(promc_expose_opts_t){.names = noise_only, .name_count = 1},
                                      &noise_want, &noise_len),
             0);
    CHECK_RC(hc_get(port, "/metrics?name[]=noise", "Accept-Encoding: gzip\r\n", &r), 0);
    CHECK(r.status == 200 && r.chunked && r.body_len > (1u << 20));
    CHECK(header_is(&r, "Content-Encoding", "gzip"));
    unz = hc_gunzip(r.body, r.body_len, &ulen);
    CHECK(unz && noise_want && ulen == noise_len && memcmp(unz, noise_want, noise_len) == 0);
    free(unz);
    hc_response_free(&r);
    promc_buf_free(noise_want);
    promc_gauge_free(noise);

    /* A slow collector after the big family: the timeout passes once streaming has begun. */
    promc_collector_t *slow;
    static const char *const names[] = {"slow"};
    CHECK_RC(promc_collector_new(&slow, slow_collect, NULL, names, 1), 0);
    CHECK_RC(promc_registry_register_collector(f.reg, slow), 0);
    CHECK(hc_get(port, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds: 0.1\r\n", &r) == -2);
    CHECK(r.status == 200 && r.chunked && r.body_len >= (1u << 20));
    hc_response_free(&r);
    CHECK_RC(hc_get(port, "/metrics?name[]=promhttp_metric_handler_requests_total", "", &r), 0);
    CHECK(contains(r.body, "promhttp_metric_handler_requests_total{code=\"503\"} 1.0\n"));
    /* GET, gzip, HTTP/1.0, HEAD, the two on one connection and the streamed gzip. */
    CHECK(contains(r.body, "promhttp_metric_handler_requests_total{code=\"200\"} 7.0\n"));
    hc_response_free(&r);

    CHECK_RC(hc_close_server(s, 1), 0);
    promc_collector_free(slow);
    promc_buf_free(want);
    promc_counter_free(big);
    fixture_destroy(&f);
}

/* ---- opts.sched_batch ------------------------------------------------------------------------ */

/* How many of this process's threads are the server's ("promc-http") and, of those, how many run
 * under `policy` (field 41 of /proc/self/task/TID/stat). */
static void count_http_threads(int policy, int *threads, int *with_policy)
{
    *threads = *with_policy = 0;
    DIR *d = opendir("/proc/self/task");
    CHECK(d != NULL);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[32] = "", stat[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue; /* the thread exited meanwhile */
        if (fgets(comm, sizeof comm, f) == NULL)
            comm[0] = '\0';
        fclose(f);
        if (strcmp(comm, "promc-http\n") != 0)
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        f = fopen(path, "r");
        size_t n = f ? fread(stat, 1, sizeof stat - 1, f) : 0;
        if (f)
            fclose(f);
        stat[n] = '\0';
        const char *p = strrchr(stat, ')'); /* fields from the third on follow the name */
        int field = 2;
        while (p && field < 41) {
            p = strchr(p + 1, ' ');
            field++;
        }
        (*threads)++;
        if (p && atoi(p + 1) == policy)
            (*with_policy)++;
    }
    closedir(d);
}

static void sched_batch(void)
{
    for (int batch = 1; batch >= 0; batch--) {
        promc_http_server_t *s = start_on(&(promc_http_opts_t){
            .address = LOCAL, .no_builtin = true, .threads = 3, .sched_batch = batch});
        if (s == NULL)
            return;
        /* Each thread sets its policy as it starts: wait for all three, for up to 5 s. */
        int threads = 0, batched = 0;
        for (int i = 0; i < 500; i++) {
            count_http_threads(SCHED_BATCH, &threads, &batched);
            if (threads == 3 && batched == (batch ? 3 : 0) && i >= (batch ? 0 : 20))
                break;
            usleep(10000);
        }
        CHECK(threads == 3);
        CHECK(batched == (batch ? 3 : 0));
        if (batched != (batch ? 3 : 0))
            fprintf(stderr, "sched_batch=%d: %d of %d server threads under SCHED_BATCH\n", batch,
                    batched, threads);
        CHECK_RC(hc_close_server(s, 1), 0);
    }
}

static const check_case_t cases[] = {
    CHECK_CASE(metrics_endpoint),
    CHECK_CASE(head_and_methods),
    CHECK_CASE(health_and_ready),
    CHECK_CASE(max_in_flight),
    CHECK_CASE(scrape_timeout_and_errors),
    CHECK_CASE(request_size_cap),
    CHECK_CASE(connection_cap),
    CHECK_CASE(header_timeout),
    CHECK_CASE(routes),
    CHECK_CASE(lifecycle),
    CHECK_CASE(deprecated_names),
    CHECK_CASE(start_errors),
    CHECK_CASE(shared_metrics),
    CHECK_CASE(ipv6),
    CHECK_CASE(stop_with_clients),
    CHECK_CASE(stop_drains_in_flight),
    CHECK_CASE(threads_share_port),
    CHECK_CASE(accept_errors),
    CHECK_CASE(sched_batch),
    CHECK_CASE(streamed_scrape),
};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_http_server", cases, argc, argv);
}
