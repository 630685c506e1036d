/* Internal to src/http: the server's state shared by server.c (threads, sockets, connections,
 * the request API) and endpoints.c (/metrics, /, /healthz, /readyz and the promhttp_* metrics).
 * libevent types stay in this directory. */
#ifndef PROMC_HTTP_INTERNAL_H
#define PROMC_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <promc/http.h>
#include <promc/metric.h>

struct evhttp_request;
struct evbuffer;

typedef struct promc__http_worker promc__http_worker_t;

/* The promhttp_* metrics of one registry, shared by every server that serves it. */
typedef struct promc__http_shared {
    promc_registry_t *registry;
    unsigned refs;
    promc_counter_t *requests; /* promhttp_metric_handler_requests_total{code} */
    promc_counter_t *code_200; /* its children resolved once */
    promc_counter_t *code_500;
    promc_counter_t *code_503;
    promc_gauge_t *in_flight; /* promhttp_metric_handler_requests_in_flight */
    struct promc__http_shared *next;
} promc__http_shared_t;

typedef struct promc__http_route {
    char *path; /* NULL for the fallback */
    promc_http_handler_fn fn;
    void *ud;
} promc__http_route_t;

struct promc_http_server {
    /* Set before the threads start, read-only afterwards. */
    promc_registry_t *registry;
    bool builtin;
    unsigned port;
    unsigned max_in_flight;
    unsigned conns_per_worker;
    double timeout_seconds;
    size_t max_request_bytes;
    bool sched_batch;
    promc__http_route_t *routes;
    size_t route_count;
    const promc__http_route_t *fallback;
    promc__http_shared_t *shared; /* NULL when !builtin */
    promc__http_worker_t *workers;
    unsigned worker_count;

    /* Changed while running. */
    atomic_bool ready;
    atomic_bool stopping;
    _Atomic int64_t drain_deadline_ns; /* CLOCK_MONOTONIC; valid once stopping is set */
    atomic_uint scrapes;               /* /metrics responses being written */
};

struct promc_http_request {
    struct evhttp_request *ev;
    promc_http_server_t *srv;
    promc__http_worker_t *w;
    const char *path;
    const char *query;
    int method; /* enum evhttp_cmd_type */
    bool answered;
};

/* Sends the response whose body is already in the request's output buffer: status, Date,
 * Content-Type (may be NULL), "Connection: close" while stopping; for HEAD the body is dropped
 * and Content-Length still tells its size.  Marks the request answered.  Returns 0, or
 * PROMC_ENOMEM when a header could not be added (the response went out without it). */
int promc__http_send(promc_http_request_t *r, int status, const char *content_type);

/* Streaming, for a response too large to hold whole: promc__http_stream_start() sends the status
 * and headers (as promc__http_send() does, with Transfer-Encoding: chunked) and marks the request
 * answered; promc__http_stream_chunk() moves what `buf` holds to the connection as one chunk and
 * writes what the socket takes at once, returning -1 once the connection has failed; and
 * promc__http_stream_end() ends the response (the terminating chunk when `complete`; when not,
 * the connection is shut down after what was already sent, so the client sees a truncated body and
 * not a complete one).  Only for a GET over HTTP/1.1 or later (promc__http_can_stream()).  The
 * request must not be touched after promc__http_stream_end(). */
bool promc__http_can_stream(const promc_http_request_t *r);
int promc__http_stream_start(promc_http_request_t *r, int status, const char *content_type);
int promc__http_stream_chunk(promc_http_request_t *r, struct evbuffer *buf);
void promc__http_stream_end(promc_http_request_t *r, bool complete);

/* The request's output buffer (the response body under construction). */
struct evbuffer *promc__http_body(promc_http_request_t *r);

bool promc__http_is_head(const promc_http_request_t *r);
bool promc__http_is_get_or_head(const promc_http_request_t *r);

/* endpoints.c: answers the built-in paths; false when the path is not one of them. */
bool promc__http_builtin(promc_http_request_t *r);

/* endpoints.c: the promhttp_* metrics of a registry, created on first use and registered there;
 * released by the last server that serves it.  Returns 0, PROMC_EDUPLICATE or PROMC_ENOMEM. */
int promc__http_shared_acquire(promc_registry_t *reg, promc__http_shared_t **out);
void promc__http_shared_release(promc__http_shared_t *sh);

#endif
