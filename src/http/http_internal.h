/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to src/http: the server's state, shared by its files:
 *   listen.c     listening sockets and the listener's pauses
 *   conn.c       connection accounting, eviction, header deadlines, accept() failures
 *   response.c   responses, streaming, and the request API
 *   route.c      the route table and the dispatch of requests
 *   lifecycle.c  threads, event loops, start and stop
 *   endpoints.c  the built-in endpoints, ordinary routes of the table, and the promhttp_* metrics
 *   secure.c     the web configuration at work: reloads, TLS connections, the gate of requests
 *                (with webconfig.c, tls.c and auth.c under it: webconfig.h)
 * libevent types stay in this directory. */
#ifndef PROMC_HTTP_INTERNAL_H
#define PROMC_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>
#include <promc/handler.h>
#include <promc/http.h>
#include <promc/metric.h>

struct evhttp_request;
struct evhttp_connection;
struct evbuffer;
struct evbuffer_cb_entry;
struct bufferevent;
struct event;
struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct evconnlistener;
struct ssl_ctx_st;
struct promc__webcfg;
struct promc__auth_cache;

typedef struct promc__http_worker promc__http_worker_t;

#define PROMC__HTTP_FLUSH_BATCH 64 /* responses completed per loop iteration in one callback */

/* One accepted connection, as the worker accounts for it (conn.c). */
typedef struct promc__http_conn {
    struct bufferevent *bev;
    struct evhttp_connection *evcon; /* NULL until the post-accept callback resolved it */
    struct evbuffer_cb_entry *in_cb; /* on_input_change on the input buffer, or NULL */
    bool input_capped;               /* the read high-watermark is set */
    int fd;                          /* -1 until resolved */
    /* A request has begun arriving (CLOCK_MONOTONIC deadline for its headers), 0: none. */
    int64_t header_deadline_ns;
    struct promc__http_conn *prev, *next; /* `live` is kept most recently active first */
    promc__http_worker_t *w;
} promc__http_conn_t;

/* One thread: an event loop, its listening socket, its connections. */
struct promc__http_worker {
    promc_http_server_t *srv;
    pthread_t thread;
    bool started;
    int listen_fd; /* owned by `bound` once it is set */
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct evconnlistener *listener;
    int wake[2];
    struct event *wake_ev;
    struct event *post_accept_ev;
    struct event *drain_ev;
    struct event *resume_ev;
    struct event *flush_ev;
    struct bufferevent *written[PROMC__HTTP_FLUSH_BATCH]; /* responses written, evhttp not told */
    unsigned nwritten;
    promc__http_conn_t *pending; /* accepted, connection not yet resolved */
    promc__http_conn_t *live;    /* resolved, with our close callback; most recently active first */
    promc__http_conn_t *live_tail; /* the longest idle */
    struct event *sweep_ev;        /* once a second: requests past their header deadline */
    unsigned nconns;               /* pending + live */
    bool paused_cap, paused_err, draining, tearing_down, listening;
    struct promc__webcfg *webcfg;   /* the web configuration this worker uses (secure.c) */
    unsigned webcfg_gen;            /* the server's webcfg_gen when it was taken */
    struct promc__auth_cache *auth; /* bcrypt results, NULL until basic auth is first asked */
    time_t date_sec;                /* the second `date` shows */
    char date[64]; /* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (room for any tm) */
};

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
    unsigned conns_per_worker;
    double timeout_seconds;
    double header_timeout_seconds;
    size_t max_request_bytes;
    /* Connections by descriptor (every worker's; a descriptor is one connection's at a time), to
     * find a request's connection; descriptors past the end are not looked up. */
    _Atomic(promc__http_conn_t *) *conn_by_fd; /* cleared by compare-and-swap: see conn.c */
    size_t conn_by_fd_len;
    bool sched_batch;
    promc__http_route_t *routes;
    size_t route_count;
    const promc__http_route_t *fallback;
    promc_handler_t *handler; /* /metrics; NULL when !builtin */
    promc__http_worker_t *workers;
    unsigned worker_count;
    void (*log_fn)(void *ud, bool error, const char *message); /* NULL: stderr */
    void *log_ud;
    /* The web configuration (secure.c); webcfg_path NULL: none. */
    char *webcfg_path;
    bool tls;                        /* settled at start */
    struct ssl_ctx_st *refusing_ctx; /* for handshakes while the file is broken */
    pthread_mutex_t webcfg_mu;       /* guards webcfg and webcfg_checked_ns */
    bool webcfg_mu_init;
    struct promc__webcfg *webcfg; /* the current reading */
    int64_t webcfg_checked_ns;
    atomic_uint webcfg_gen; /* moves on with every re-read */

    /* Changed while running. */
    atomic_bool ready;
    atomic_bool stopping;
    _Atomic int64_t drain_deadline_ns; /* CLOCK_MONOTONIC; valid once stopping is set */
    bool stopped;                      /* promc_http_server_stop() has joined the threads */
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

static inline struct timeval promc__http_tv_of_seconds(double s)
{
    struct timeval tv;
    if (!(s > 0))
        s = 0;
    if (s > 1e9)
        s = 1e9;
    tv.tv_sec = (time_t)s;
    tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
    return tv;
}

static inline struct timeval promc__http_tv_of_ms(long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

/* ---- listen.c -----------------------------------------------------------------------------------
 */

/* Binds one listening socket per worker on address:port and sets srv->port.  Returns 0,
 * PROMC_EADDR, PROMC_EADDRINUSE or PROMC_ESYS. */
int promc__http_bind_all(promc_http_server_t *srv, const char *address, unsigned port);

/* Enables or disables the worker's listener as its state asks (cap, drain, backoff). */
void promc__http_update_listener(promc__http_worker_t *w);

/* ---- conn.c -------------------------------------------------------------------------------------
 */

/* The worker whose loop runs on this thread (set by its thread). */
extern _Thread_local promc__http_worker_t *promc__http_current_worker;

/* libevent callbacks: accept() failed (the longest-idle connection makes room, or the listener
 * backs off); the backoff after it ended. */
void promc__http_on_accept_error(struct evconnlistener *lev, void *arg);
void promc__http_on_resume(int fd, short what, void *arg);

/* evhttp's hook for a new connection's bufferevent, and the callback that resolves the
 * connections accepted since (see conn.c). */
struct bufferevent *promc__http_on_new_bev(struct event_base *base, void *arg);
void promc__http_on_post_accept(int fd, short what, void *arg);
void promc__http_resolve_pending(promc__http_worker_t *w);

/* Closes every connection that is not sending a response. */
void promc__http_close_idle(promc__http_worker_t *w);

/* Drops the records of connections evhttp has freed (at teardown). */
void promc__http_forget_conns(promc__http_worker_t *w);

/* Closes the longest-idle connection that is not sending a response, to admit a new one.
 * Returns whether one was closed. */
bool promc__http_evict_idle(promc__http_worker_t *w);

/* A complete request arrived on its connection (route.c): its header deadline ends. */
void promc__http_request_arrived(promc__http_worker_t *w, struct evhttp_request *ev);

/* The once-a-second sweep that closes connections whose request headers are late. */
void promc__http_on_sweep(int fd, short what, void *arg);

/* ---- response.c ---------------------------------------------------------------------------------
 */

/* Sends the response whose body is already in the request's output buffer: status, Date,
 * Content-Type (may be NULL), "Connection: close" while stopping; for HEAD the body is dropped
 * and Content-Length still tells its size.  Marks the request answered.  Returns 0, or
 * PROMC_ENOMEM when a header could not be added (the response went out without it). */
int promc__http_send(promc_http_request_t *r, int status, const char *content_type);

/* Tells evhttp about the responses written at once (see response.c), from the flush event. */
void promc__http_flush_written(promc__http_worker_t *w);
void promc__http_on_flush(int fd, short what, void *arg);

/* promc_http_request_set_header() and promc_http_request_respond(), for the built-in endpoints,
 * which have nothing to do when either fails (the response went out as well as it could). */
int promc__http_set_header(promc_http_request_t *req, const char *name, const char *value);
int promc__http_respond(promc_http_request_t *req, int status, const char *content_type,
                        const void *body, size_t len);

/* Answers with a plain-text body. */
void promc__http_answer_plain(promc_http_request_t *r, int status, const char *text);

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

/* ---- route.c ----------------------------------------------------------------------------------
 */

/* Fills the route table: the application's routes (checked: a handler each, paths starting with
 * '/', none twice), then `extra` (an application route for the same path wins), the fallback
 * (path NULL) kept apart.  Returns 0, PROMC_EINVAL or PROMC_ENOMEM. */
int promc__http_routes_init(promc_http_server_t *srv, const promc_http_route_t *routes, size_t n,
                            const promc_http_route_t *extra, size_t n_extra);

/* evhttp's callback for every request: the route whose path is the request's, else the fallback,
 * else 404; 500 when the handler did not answer. */
void promc__http_on_request(struct evhttp_request *ev, void *arg);

/* ---- endpoints.c -------------------------------------------------------------------------------
 */

/* endpoints.c: the built-in endpoints as routes (/metrics, /, /healthz, /readyz). */
const promc_http_route_t *promc__http_builtin_routes(size_t *n);

/* ---- secure.c ----------------------------------------------------------------------------------
 */

/* Reads the web configuration (path NULL or "": none) and sets the log callback.  Returns 0,
 * PROMC_ECONFIG (the message names the file and field), PROMC_ENOMEM or PROMC_ESYS.  What it
 * set up is freed by promc__http_secure_free(), even on failure. */
int promc__http_secure_init(promc_http_server_t *srv, const char *path,
                            void (*log_fn)(void *, bool, const char *), void *log_ud);
void promc__http_secure_free(promc_http_server_t *srv);
void promc__http_secure_worker_free(promc__http_worker_t *w);

/* Re-reads the configuration if one of its files changed (from the sweep, about once a second). */
void promc__http_secure_recheck(promc_http_server_t *srv);

/* A new connection's bufferevent: TLS with the current context on a TLS server, a plain socket
 * one otherwise.  NULL when out of memory. */
struct bufferevent *promc__http_secure_bev(promc__http_worker_t *w, struct event_base *base);

/* Adds the configured headers and checks basic auth.  Returns true when the request goes on;
 * false when it has been answered (401, or 500 while the file is broken). */
bool promc__http_secure_gate(promc_http_request_t *r);

#endif
