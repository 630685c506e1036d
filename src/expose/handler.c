/* SPDX-License-Identifier: Apache-2.0 */
/* The transport-agnostic /metrics handler (<promc/handler.h>), which promc's own server uses too.
 *
 * A scrape is rendered by promc_registry_write() into a held buffer up to STREAM_AFTER bytes;
 * when it completes below that, it goes to the caller whole with its head.  Past that (and when
 * the caller can stream) the head goes out with what is held and the rest follows chunk by chunk
 * as the writer produces it, so memory stays bounded whatever the registry's size.  A failure
 * before the head went out is answered with a 500 or 503 of its own; after it, the return code
 * tells the caller to cut the connection. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <promc/expose.h>
#include <promc/handler.h>
#include <promc/metric.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "fork.h"
#include "strbuf.h"

#define MAX_NAME_FILTERS      256
#define STREAM_AFTER          (1u << 20) /* bytes of a scrape held whole before it is streamed */
#define DEFAULT_MAX_IN_FLIGHT 8

/* ---- the promhttp_* metrics, one set per registry ------------------------------------------ */

typedef struct shared {
    promc_registry_t *registry;
    unsigned refs;
    promc_counter_t *requests; /* promhttp_metric_handler_requests_total{code} */
    promc_counter_t *code_200; /* its children resolved once */
    promc_counter_t *code_500;
    promc_counter_t *code_503;
    promc_gauge_t *in_flight; /* promhttp_metric_handler_requests_in_flight */
    struct shared *next;
} shared_t;

struct promc_handler {
    promc_registry_t *registry;
    unsigned max_in_flight;
    shared_t *shared; /* NULL with no_instrument */
    atomic_uint scrapes;
};

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_t *shared_list;
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

static void shared_destroy(shared_t *sh)
{
    promc_counter_free(sh->requests);
    promc_gauge_free(sh->in_flight);
    promc__free(sh);
}

static int code_child(shared_t *sh, const char *code, promc_counter_t **out)
{
    promc_str_t v = promc_str(code);
    return promc_counter_labels(sh->requests, &v, 1, out);
}

static int shared_create(promc_registry_t *reg, shared_t **out)
{
    static const char *const code_label[] = {"code"};
    shared_t *sh = promc__calloc(1, sizeof *sh);
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

static int shared_acquire(promc_registry_t *reg, shared_t **out)
{
    int rc = 0;
    pthread_once(&fork_once, fork_init);
    pthread_mutex_lock(&shared_lock);
    shared_t *sh = shared_list;
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

/* The metrics are unregistered under shared_lock, so a handler created on the same registry
 * meanwhile finds either these (still listed) or none registered.  Lock order: shared_lock, then
 * the registry's lock (taken inside promc_counter_new/free); nothing takes them the other way. */
static void shared_release(shared_t *sh)
{
    pthread_mutex_lock(&shared_lock);
    if (--sh->refs == 0) {
        shared_t **pp = &shared_list;
        while (*pp != sh)
            pp = &(*pp)->next;
        *pp = sh->next;
        shared_destroy(sh);
    }
    pthread_mutex_unlock(&shared_lock);
}

int promc_handler_new(promc_handler_t **out, const promc_handler_opts_t *opts)
{
    if (out == NULL)
        return promc__err(PROMC_EINVAL, "promc_handler_new: out is NULL");
    *out = NULL;
    promc_handler_opts_t none = {0};
    if (opts == NULL)
        opts = &none;
    promc_handler_t *h = promc__calloc(1, sizeof *h);
    if (h == NULL)
        return promc__err(PROMC_ENOMEM, "handler");
    h->registry = opts->registry ? opts->registry : promc_registry_default();
    h->max_in_flight = opts->max_in_flight ? opts->max_in_flight : DEFAULT_MAX_IN_FLIGHT;
    atomic_init(&h->scrapes, 0);
    if (!opts->no_instrument) {
        int rc = shared_acquire(h->registry, &h->shared);
        if (rc != 0) {
            promc__free(h);
            return rc;
        }
    }
    *out = h;
    promc__err_clear();
    return 0;
}

void promc_handler_free(promc_handler_t *h)
{
    if (h == NULL)
        return;
    if (h->shared)
        shared_release(h->shared);
    promc__free(h);
}

/* ---- one scrape ---------------------------------------------------------------------------- */

typedef struct scrape {
    promc_handler_t *h;
    promc_handler_write_fn write;
    void *ud;
    promc__strbuf_t held; /* the body until the head went out */
    int64_t deadline_ns;  /* 0: none */
    const char *content_type;
    bool gzip;
    bool can_stream;
    bool streaming; /* the head went out */
    bool timed_out;
    bool gone;   /* write refused */
    int held_rc; /* the held buffer's failure (PROMC_ENOMEM) */
} scrape_t;

static size_t scrape_headers(const scrape_t *s, promc_handler_header_t *hd)
{
    size_t n = 0;
    hd[n++] = (promc_handler_header_t){"Content-Type", s->content_type};
    if (s->gzip)
        hd[n++] = (promc_handler_header_t){"Content-Encoding", "gzip"};
    hd[n++] = (promc_handler_header_t){"Vary", "Accept-Encoding"};
    return n;
}

static int start_streaming(scrape_t *s)
{
    promc_handler_header_t hd[3];
    promc_handler_head_t head = {.status = 200, .headers = hd, .header_count = 0};
    head.header_count = scrape_headers(s, hd);
    s->streaming = true;
    int rc = s->write(s->ud, &head, s->held.data, s->held.len);
    promc__strbuf_destroy(&s->held);
    if (rc != 0)
        s->gone = true;
    return rc != 0;
}

static bool past_deadline(const scrape_t *s)
{
    return s->deadline_ns && promc__now_mono_ns() > s->deadline_ns;
}

static int scrape_sink(void *ud, const void *data, size_t len)
{
    scrape_t *s = ud;
    if (past_deadline(s)) {
        s->timed_out = true;
        return 1;
    }
    if (s->streaming) {
        if (s->write(s->ud, NULL, data, len) != 0) {
            s->gone = true;
            return 1;
        }
        return 0;
    }
    int rc = promc__strbuf_append(&s->held, data, len);
    if (rc != 0) {
        s->held_rc = rc;
        return 1;
    }
    if (s->can_stream && s->held.len >= STREAM_AFTER)
        return start_streaming(s);
    return 0;
}

/* X-Prometheus-Scrape-Timeout-Seconds as a deadline; 0 when absent or not a positive number. */
static int64_t scrape_deadline(const char *h, int64_t start_ns)
{
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

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes n bytes of a query component (percent-escapes, '+' for a space) into out, which has
 * room for n + 1 bytes.  A malformed escape stays as it is, as browsers and Go's url package
 * leave it. */
static void query_decode(const char *p, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (p[i] == '+') {
            out[o++] = ' ';
        } else if (p[i] == '%' && i + 2 < n && (hi = hexval(p[i + 1])) >= 0 &&
                   (lo = hexval(p[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = p[i];
        }
    }
    out[o] = '\0';
}

/* The name[] parameters of the query, decoded into `store` (strlen(query) + 1 bytes at least,
 * times two for the separators).  Returns the count (at most MAX_NAME_FILTERS). */
static size_t name_filters(const char *query, char *store, const char **names)
{
    size_t n = 0;
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        query_decode(p, klen, store);
        if (strcmp(store, "name[]") == 0 && n < MAX_NAME_FILTERS) {
            const char *v = eq ? eq + 1 : p + len;
            size_t vlen = eq ? len - klen - 1 : 0;
            query_decode(v, vlen, store);
            names[n++] = store;
            store += strlen(store) + 1;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return n;
}

static void count_code(promc_handler_t *h, int status)
{
    if (h->shared)
        promc_counter_inc(status == 200   ? h->shared->code_200
                          : status == 503 ? h->shared->code_503
                                          : h->shared->code_500);
}

/* A whole short response of its own (405, 500, 503). */
static int respond_text(promc_handler_write_fn write, void *ud, int status, const char *text,
                        const char *allow)
{
    promc_handler_header_t hd[2] = {{"Content-Type", "text/plain; charset=utf-8"},
                                    {"Allow", allow}};
    promc_handler_head_t head = {
        .status = status, .headers = hd, .header_count = allow ? 2 : 1, .complete = true};
    return write(ud, &head, text, strlen(text)) != 0
               ? promc__err(PROMC_ESINK, "the write callback refused the response")
               : 0;
}

/* Ends a scrape just before its last bytes go to the caller: it leaves the in-flight count and
 * its status is counted first, so that a client that has the response finds it counted in the
 * next scrape. */
static void scrape_done(promc_handler_t *h, int status)
{
    if (h->shared)
        promc_gauge_dec(h->shared->in_flight);
    atomic_fetch_sub(&h->scrapes, 1);
    count_code(h, status);
}

static int write_scrape(promc_handler_t *h, const promc_handler_request_t *req,
                        promc_handler_write_fn write, void *ud)
{
    int64_t start = promc__now_mono_ns();
    scrape_t s = {.h = h,
                  .write = write,
                  .ud = ud,
                  .deadline_ns = scrape_deadline(req->scrape_timeout, start),
                  .can_stream = !req->no_stream};
    promc__strbuf_init(&s.held, SIZE_MAX);

    const char *names[MAX_NAME_FILTERS];
    char stack[1024];
    char *store = stack;
    size_t n = 0;
    if (req->query && *req->query) {
        size_t need = 2 * strlen(req->query) + 2;
        if (need > sizeof stack && (store = promc__malloc(need)) == NULL) {
            scrape_done(h, 500);
            return respond_text(write, ud, 500, "out of memory\n", NULL);
        }
        n = name_filters(req->query, store, names);
    }
    for (size_t i = 0; i < req->name_count && n < MAX_NAME_FILTERS; i++)
        if (req->names[i] != NULL)
            names[n++] = req->names[i];
    promc_escaping_t esc;
    bool asked;
    promc_format_t format = promc_format_negotiate_escaping(req->accept, &esc, &asked);
    promc_expose_opts_t opts = {
        .format = format,
        .escaping = esc,
        .names = n > 0 ? names : NULL,
        .name_count = n,
        .gzip = promc_gzip_accepted(req->accept_encoding),
    };
    s.content_type = promc_content_type(opts.format, esc, asked);
    s.gzip = opts.gzip;
    int rc = promc_registry_write(h->registry, &opts, scrape_sink, &s);
    if (store != stack)
        promc__free(store);

    if (s.streaming) {
        bool late = s.timed_out || past_deadline(&s);
        bool complete = rc == 0 && !late;
        /* A client that went away was sent a 200 as far as it got: 500 and 503 count the
         * scrape's own failures. */
        scrape_done(h, complete || (s.gone && !late) ? 200 : late ? 503 : 500);
        if (complete)
            return 0;
        if (s.gone)
            return promc__err(PROMC_ESINK, "the write callback refused a chunk");
        return late ? promc__err(PROMC_ETIMEDOUT,
                                 "the scrape ran past X-Prometheus-Scrape-Timeout-Seconds")
                    : rc;
    }
    if (s.timed_out || (rc == 0 && past_deadline(&s))) {
        promc__strbuf_destroy(&s.held);
        scrape_done(h, 503);
        return respond_text(write, ud, 503,
                            "scrape abandoned: it ran past X-Prometheus-Scrape-Timeout-Seconds\n",
                            NULL);
    }
    if (rc != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "error writing the metrics: %s%s%s\n",
                 s.held_rc ? "out of memory" : promc_strerror(rc),
                 promc_last_error()[0] ? ": " : "", promc_last_error());
        promc__strbuf_destroy(&s.held);
        scrape_done(h, 500);
        return respond_text(write, ud, 500, msg, NULL);
    }
    scrape_done(h, 200);
    promc_handler_header_t hd[3];
    promc_handler_head_t head = {.status = 200, .headers = hd, .complete = true};
    head.header_count = scrape_headers(&s, hd);
    rc = write(ud, &head, s.held.data, s.held.len);
    promc__strbuf_destroy(&s.held);
    return rc != 0 ? promc__err(PROMC_ESINK, "the write callback refused the response") : 0;
}

int promc_handler_serve(promc_handler_t *h, const promc_handler_request_t *req,
                        promc_handler_write_fn write, void *ud)
{
    if (h == NULL || req == NULL || write == NULL)
        return promc__err(PROMC_EINVAL, "promc_handler_serve: %s is NULL",
                          h == NULL     ? "h"
                          : req == NULL ? "req"
                                        : "write");
    const char *m = req->method ? req->method : "GET";
    if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)
        return respond_text(write, ud, 405, "405 method not allowed\n", "GET, HEAD");
    unsigned now = atomic_fetch_add(&h->scrapes, 1) + 1;
    if (now > h->max_in_flight) {
        atomic_fetch_sub(&h->scrapes, 1);
        char msg[128];
        snprintf(msg, sizeof msg, "too many scrapes in flight (limit %u), try again later\n",
                 h->max_in_flight);
        count_code(h, 503);
        return respond_text(write, ud, 503, msg, NULL);
    }
    if (h->shared)
        promc_gauge_inc(h->shared->in_flight);
    return write_scrape(h, req, write, ud); /* ends with scrape_done() */
}

/* ---- the whole response in one buffer ------------------------------------------------------ */

typedef struct buf_out {
    promc_handler_response_t *r;
    promc__strbuf_t body;
} buf_out_t;

static int buf_write(void *ud, const promc_handler_head_t *head, const void *data, size_t len)
{
    buf_out_t *o = ud;
    if (head) {
        o->r->status = head->status;
        size_t n = head->header_count < 4 ? head->header_count : 4;
        for (size_t i = 0; i < n; i++)
            o->r->headers[i] = head->headers[i]; /* static strings, all of them */
        o->r->header_count = n;
    }
    return promc__strbuf_append(&o->body, data, len) != 0;
}

int promc_handler_serve_buf(promc_handler_t *h, const promc_handler_request_t *req,
                            promc_handler_response_t *out)
{
    if (out == NULL || req == NULL)
        return promc__err(PROMC_EINVAL, "promc_handler_serve_buf: %s is NULL",
                          out == NULL ? "out" : "req");
    memset(out, 0, sizeof *out);
    promc_handler_request_t whole = *req;
    whole.no_stream = true;
    buf_out_t o = {.r = out};
    promc__strbuf_init(&o.body, SIZE_MAX);
    int rc = promc_handler_serve(h, &whole, buf_write, &o);
    if (rc != 0) {
        promc__strbuf_destroy(&o.body);
        memset(out, 0, sizeof *out);
        return rc == PROMC_ESINK ? promc__err(PROMC_ENOMEM, "the response body") : rc;
    }
    out->body = o.body.data ? o.body.data : NULL;
    out->len = o.body.len;
    return 0;
}

void promc_handler_response_free(promc_handler_response_t *r)
{
    if (r == NULL)
        return;
    promc__free(r->body);
    memset(r, 0, sizeof *r);
}
