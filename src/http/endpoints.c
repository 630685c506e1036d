/* SPDX-License-Identifier: Apache-2.0 */
/* The built-in endpoints (/metrics, /, /healthz, /readyz) and the promhttp_* metrics.
 *
 * A scrape is written into the response by promc_registry_write() on the worker that received it,
 * held whole up to STREAM_AFTER bytes and streamed in chunks past that; how the timeout and the
 * failures after streaming began are answered is in docs/http.md, under /metrics. */
#include "http_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h> /* TAILQ_*, which evkeyvalq is made of */

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <promc/expose.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "fork.h"

#define MAX_NAME_FILTERS 256
#define STREAM_AFTER     (1u << 20) /* bytes of a scrape held whole before it is streamed */

static const char INDEX_HTML[] =
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\"><title>promc exporter</title></head>\n"
    "<body><h1>promc exporter</h1>\n"
    "<p><a href=\"/metrics\">Metrics</a></p>\n"
    "</body></html>\n";

/* ---- the promhttp_* metrics, one set per registry ------------------------------------------ */

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static promc__http_shared_t *shared_list;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* fork() (fork.h, level 10): shared_lock is held while registry and metric locks are taken. */
static void fork_prepare(void)
{
    pthread_mutex_lock(&shared_lock);
}

static void fork_release(void)
{
    pthread_mutex_unlock(&shared_lock);
}

static void fork_init(void)
{
    (void)promc__atfork_add(PROMC__FORK_HTTP, fork_prepare, fork_release, fork_release);
}

static void shared_destroy(promc__http_shared_t *sh)
{
    promc_counter_free(sh->requests);
    promc_gauge_free(sh->in_flight);
    promc__free(sh);
}

static int code_child(promc__http_shared_t *sh, const char *code, promc_counter_t **out)
{
    promc_str_t v = promc_str(code);
    return promc_counter_labels(sh->requests, &v, 1, out);
}

static int shared_create(promc_registry_t *reg, promc__http_shared_t **out)
{
    static const char *const code_label[] = {"code"};
    promc__http_shared_t *sh = promc__calloc(1, sizeof *sh);
    if (sh == NULL)
        return promc__err(PROMC_ENOMEM, "promhttp metrics");
    sh->registry = reg;
    int rc =
        promc_counter_new(&sh->requests, &(promc_metric_opts_t){
                                             .name = "promhttp_metric_handler_requests",
                                             .help = "Total number of scrapes by HTTP status code.",
                                             .label_names = code_label,
                                             .label_count = 1,
                                             .registry = reg,
                                         });
    if (rc != 0)
        goto fail;
    rc = promc_gauge_new(&sh->in_flight, &(promc_metric_opts_t){
                                             .name = "promhttp_metric_handler_requests_in_flight",
                                             .help = "Current number of scrapes being served.",
                                             .registry = reg,
                                         });
    if (rc != 0)
        goto fail;
    /* As client_golang does, the usual codes are there at zero from the start. */
    if ((rc = code_child(sh, "200", &sh->code_200)) != 0 ||
        (rc = code_child(sh, "500", &sh->code_500)) != 0 ||
        (rc = code_child(sh, "503", &sh->code_503)) != 0)
        goto fail;
    *out = sh;
    return 0;
fail:
    shared_destroy(sh);
    return rc;
}

int promc__http_shared_acquire(promc_registry_t *reg, promc__http_shared_t **out)
{
    int rc = 0;
    pthread_once(&fork_once, fork_init);
    pthread_mutex_lock(&shared_lock);
    promc__http_shared_t *sh = shared_list;
    while (sh && sh->registry != reg)
        sh = sh->next;
    if (sh == NULL) {
        rc = shared_create(reg, &sh);
        if (rc == 0) {
            sh->next = shared_list;
            shared_list = sh;
        }
    }
    if (rc == 0) {
        sh->refs++;
        *out = sh;
    }
    pthread_mutex_unlock(&shared_lock);
    return rc;
}

/* The metrics are unregistered under shared_lock, so a server starting on the same registry
 * meanwhile finds either these (still listed) or none registered.  Lock order: shared_lock, then
 * the registry's lock (taken inside promc_counter_new/free); nothing takes them the other way. */
void promc__http_shared_release(promc__http_shared_t *sh)
{
    pthread_mutex_lock(&shared_lock);
    if (--sh->refs == 0) {
        promc__http_shared_t **pp = &shared_list;
        while (*pp != sh)
            pp = &(*pp)->next;
        *pp = sh->next;
        shared_destroy(sh);
    }
    pthread_mutex_unlock(&shared_lock);
}

/* ---- /metrics ------------------------------------------------------------------------------- */

typedef struct scrape_sink {
    promc_http_request_t *r;
    struct evbuffer *out; /* the request's output buffer; once streaming, our own */
    int64_t deadline_ns;  /* 0: none */
    const char *content_type;
    bool gzip;
    bool can_stream;
    bool streaming;
    bool timed_out;
    bool oom;
    bool gone; /* streaming, and the connection failed */
} scrape_sink_t;

static void scrape_done(promc_http_request_t *r, int status);

/* The headers a successful scrape adds to the common ones.  Returns nonzero when out of memory. */
static int scrape_headers(promc_http_request_t *r, bool gzip)
{
    return (gzip && promc_http_request_set_header(r, "Content-Encoding", "gzip") != 0) ||
           promc_http_request_set_header(r, "Vary", "Accept-Encoding") != 0;
}

/* Past STREAM_AFTER: sends the status and headers, then what is held as the first chunk. */
static int start_streaming(scrape_sink_t *s)
{
    struct evbuffer *own = evbuffer_new();
    if (own == NULL || evbuffer_add_buffer(own, s->out) != 0 || scrape_headers(s->r, s->gzip)) {
        if (own)
            evbuffer_free(own);
        s->oom = true;
        return 1;
    }
    s->out = own;
    s->streaming = true;
    /* Out of memory for a header here still streams the 200 (without that header). */
    (void)promc__http_stream_start(s->r, 200, s->content_type);
    return 0;
}

static int sink_evbuffer(void *ud, const void *data, size_t len)
{
    scrape_sink_t *s = ud;
    if (s->deadline_ns && promc__now_mono_ns() > s->deadline_ns) {
        s->timed_out = true;
        return 1;
    }
    if (evbuffer_add(s->out, data, len) != 0) {
        s->oom = true;
        return 1;
    }
    if (!s->streaming) {
        if (!s->can_stream || evbuffer_get_length(s->out) < STREAM_AFTER)
            return 0;
        if (start_streaming(s) != 0)
            return 1;
    }
    if (promc__http_stream_chunk(s->r, s->out) != 0) {
        s->gone = true;
        return 1;
    }
    return 0;
}

/* Ends a streamed scrape: the last chunk when it completed, a truncated response when not. */
static void finish_streaming(scrape_sink_t *s, int rc)
{
    bool complete = rc == 0 && !s->timed_out && !s->gone &&
                    !(s->deadline_ns && promc__now_mono_ns() > s->deadline_ns);
    if (complete && evbuffer_get_length(s->out) > 0 && promc__http_stream_chunk(s->r, s->out) != 0)
        complete = false;
    evbuffer_free(s->out);
    bool late = s->timed_out || (s->deadline_ns && promc__now_mono_ns() > s->deadline_ns);
    /* A client that went away was sent a 200 as far as it got, as a held response would be:
     * 500 and 503 are for the scrape's own failures. */
    bool failed = !complete && (late || rc != PROMC_ESINK || !s->gone);
    scrape_done(s->r, !failed ? 200 : late ? 503 : 500);
    promc__http_stream_end(s->r, complete);
}

/* X-Prometheus-Scrape-Timeout-Seconds as a deadline; 0 when absent or not a positive number. */
static int64_t scrape_deadline(promc_http_request_t *r, int64_t start_ns)
{
    const char *h = promc_http_request_header(r, "X-Prometheus-Scrape-Timeout-Seconds");
    if (h == NULL)
        return 0;
    char *end;
    errno = 0;
    double s = strtod(h, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == h || *end != '\0' || errno != 0 || !(s > 0) || !isfinite(s))
        return 0;
    if (s > 1e6)
        s = 1e6;
    return start_ns + (int64_t)(s * 1e9);
}

/* The name[] query parameters (decoded).  Returns the count, or -1 when out of memory; the values
 * point into `kv`. */
static int name_filters(promc_http_request_t *r, struct evkeyvalq *kv, const char **names)
{
    int n = 0;
    if (r->query == NULL)
        return 0;
    if (evhttp_parse_query_str(r->query, kv) != 0)
        return 0; /* a malformed query selects nothing special: the whole registry */
    struct evkeyval *e;
    TAILQ_FOREACH(e, kv, next)
    {
        bool match = strcmp(e->key, "name[]") == 0;
        if (!match && strchr(e->key, '%')) {
            char *k = evhttp_uridecode(e->key, 1, NULL);
            if (k == NULL)
                return -1;
            match = strcmp(k, "name[]") == 0;
            free(k); /* libevent's allocation */
        }
        if (match && n < MAX_NAME_FILTERS)
            names[n++] = e->value;
    }
    return n;
}

/* write_scrape() and the in-flight check answer 200, 500 or 503 only. */
static void count_code(promc__http_shared_t *sh, int status)
{
    promc_counter_inc(status == 200 ? sh->code_200 : status == 503 ? sh->code_503 : sh->code_500);
}

static void respond_text(promc_http_request_t *r, int status, const char *text)
{
    struct evbuffer *b = promc__http_body(r);
    evbuffer_drain(b, evbuffer_get_length(b));
    (void)promc__http_respond(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* Ends a scrape just before its response goes out: it leaves the in-flight count and its status
 * is counted first, since promc__http_send() may put the response on the wire before it returns,
 * and a client that has the response must find the scrape counted in the next one. */
static void scrape_done(promc_http_request_t *r, int status)
{
    promc__http_shared_t *sh = r->srv->shared;
    promc_gauge_dec(sh->in_flight);
    atomic_fetch_sub(&r->srv->scrapes, 1);
    count_code(sh, status);
}

/* A 500 for a scrape that failed after it set response headers: those go, the error text goes
 * out instead of the body. */
static void scrape_failed(promc_http_request_t *r, const char *text)
{
    scrape_done(r, 500);
    evhttp_clear_headers(evhttp_request_get_output_headers(r->ev));
    respond_text(r, 500, text);
}

static void write_scrape(promc_http_request_t *r)
{
    promc_http_server_t *srv = r->srv;
    int64_t start = promc__now_mono_ns();
    scrape_sink_t sink = {.r = r,
                          .out = promc__http_body(r),
                          .deadline_ns = scrape_deadline(r, start),
                          .can_stream = promc__http_can_stream(r)};
    const char *names[MAX_NAME_FILTERS];
    struct evkeyvalq kv;
    TAILQ_INIT(&kv);
    int n = name_filters(r, &kv, names);
    if (n < 0) {
        evhttp_clear_headers(&kv);
        scrape_failed(r, "out of memory\n");
        return;
    }
    promc_expose_opts_t opts = {
        .format = promc_format_negotiate(promc_http_request_header(r, "Accept")),
        .names = n > 0 ? names : NULL,
        .name_count = (size_t)n,
        .gzip = promc_gzip_accepted(promc_http_request_header(r, "Accept-Encoding")),
    };
    sink.content_type = promc_format_content_type(opts.format);
    sink.gzip = opts.gzip;
    int rc = promc_registry_write(srv->registry, &opts, sink_evbuffer, &sink);
    evhttp_clear_headers(&kv);
    if (sink.streaming) {
        finish_streaming(&sink, rc);
        return;
    }
    if (sink.timed_out ||
        (rc == 0 && sink.deadline_ns && promc__now_mono_ns() > sink.deadline_ns)) {
        scrape_done(r, 503);
        respond_text(r, 503, "scrape abandoned: it ran past X-Prometheus-Scrape-Timeout-Seconds\n");
        return;
    }
    if (rc != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "error writing the metrics: %s%s%s\n",
                 sink.oom ? "out of memory" : promc_strerror(rc), promc_last_error()[0] ? ": " : "",
                 promc_last_error());
        scrape_failed(r, msg);
        return;
    }
    if (scrape_headers(r, opts.gzip)) {
        scrape_failed(r, "out of memory\n");
        return;
    }
    scrape_done(r, 200);
    /* Out of memory for a header here still sends the 200 (without that header). */
    (void)promc__http_send(r, 200, sink.content_type);
}

static void serve_metrics(promc_http_request_t *r)
{
    promc_http_server_t *srv = r->srv;
    promc__http_shared_t *sh = srv->shared;
    unsigned now = atomic_fetch_add(&srv->scrapes, 1) + 1;
    if (now > srv->max_in_flight) {
        atomic_fetch_sub(&srv->scrapes, 1);
        char msg[128];
        snprintf(msg, sizeof msg, "too many scrapes in flight (limit %u), try again later\n",
                 srv->max_in_flight);
        count_code(sh, 503);
        respond_text(r, 503, msg);
        return;
    }
    promc_gauge_inc(sh->in_flight);
    write_scrape(r); /* ends with scrape_done() */
}

/* ---- the routes ---------------------------------------------------------------------------- */

/* Every built-in endpoint answers GET and HEAD only. */
static bool method_allowed(promc_http_request_t *r)
{
    if (promc__http_is_get_or_head(r))
        return true;
    (void)promc__http_set_header(r, "Allow", "GET, HEAD");
    respond_text(r, 405, "405 method not allowed\n");
    return false;
}

static void route_metrics(void *ud, promc_http_request_t *r)
{
    (void)ud;
    if (method_allowed(r))
        serve_metrics(r);
}

static void route_index(void *ud, promc_http_request_t *r)
{
    (void)ud;
    if (method_allowed(r))
        (void)promc__http_respond(r, 200, "text/html; charset=utf-8", INDEX_HTML,
                                  sizeof INDEX_HTML - 1);
}

static void route_healthz(void *ud, promc_http_request_t *r)
{
    (void)ud;
    if (method_allowed(r))
        respond_text(r, 200, "ok\n");
}

static void route_readyz(void *ud, promc_http_request_t *r)
{
    (void)ud;
    if (!method_allowed(r))
        return;
    if (atomic_load(&r->srv->stopping))
        respond_text(r, 503, "stopping\n");
    else if (atomic_load(&r->srv->ready))
        respond_text(r, 200, "ready\n");
    else
        respond_text(r, 503, "not ready\n");
}

static const promc_http_route_t builtin_routes[] = {
    {"/metrics", route_metrics, NULL},
    {"/", route_index, NULL},
    {"/healthz", route_healthz, NULL},
    {"/readyz", route_readyz, NULL},
};

const promc_http_route_t *promc__http_builtin_routes(size_t *n)
{
    *n = sizeof builtin_routes / sizeof builtin_routes[0];
    return builtin_routes;
}
