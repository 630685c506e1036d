/* promc — the embedded HTTP server: /metrics for a registry, and small handlers of your own.
 *
 * promc_http_start() is the C form of client_python's start_http_server(8000): it binds the port,
 * starts its own threads and returns; the server runs until promc_http_stop().  Each thread runs
 * one event loop with its own listening socket on the shared port (SO_REUSEPORT), so the kernel
 * spreads connections over the threads.  HTTP/1.1 with keep-alive; HTTP parsing is libevent's
 * (a private dependency: no libevent type or header appears in promc's headers).
 *
 * Built-in endpoints (unless opts.no_builtin is set):
 *   /metrics  GET and HEAD.  The registry in the format the Accept header asks for (text 0.0.4
 *             or OpenMetrics 1.0.0; Content-Type always set, with its version), gzip when
 *             Accept-Encoding allows it, only the samples named by `name[]` query parameters
 *             when there are any.  A request header X-Prometheus-Scrape-Timeout-Seconds bounds
 *             the time spent writing: a scrape that runs past it is abandoned with 503.  More
 *             scrapes at once than opts.max_in_flight: 503.  A failing custom collector: 500.
 *             A response is held whole up to 1 MiB; a GET over HTTP/1.1 that grows past that is
 *             streamed (chunked) while it is written, so a large scrape reaches the client
 *             sooner and the server holds only what the socket has not taken.  A timeout or
 *             a collector's failure after streaming began can no longer change the 200: the
 *             response is cut short without its last chunk, which every HTTP/1.1 client
 *             reports as an error (and the scrape is counted under 503 or 500).
 *   /         a small HTML page that links to /metrics.
 *   /healthz  200 while the server runs.
 *   /readyz   200 when ready; 503 before that (see opts.start_unready) and while stopping.
 * Any other method on these paths: 405 with "Allow: GET, HEAD".  Other paths go to opts.routes;
 * a path nothing takes: 404.
 *
 * The server registers two metrics in the registry it serves, as client_golang's promhttp does:
 * promhttp_metric_handler_requests_total{code} (a counter of /metrics responses by status code)
 * and promhttp_metric_handler_requests_in_flight (a gauge of the scrapes being written).  Servers
 * that serve the same registry share them; they are unregistered when the last of those servers
 * stops.
 *
 * Bounded work: at most opts.max_connections open connections (past the cap the server stops
 * accepting until one closes, so new clients wait in the kernel's backlog), a request's headers and
 * body at most opts.max_request_bytes each, and a connection that sends or receives nothing for
 * opts.timeout_seconds is closed.  A request line plus headers over the cap is answered
 * 400 Bad Request (libevent's HTTP parser reports it as a malformed header and gives no hook to
 * answer 431 instead); a body over the cap, 413 Content Too Large.  Either way no handler runs and
 * the connection closes after the answer.
 *
 * The registry must outlive the server. */
#ifndef PROMC_HTTP_H
#define PROMC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <promc/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct promc_http_server promc_http_server_t;

/* One request, handed to a handler.  Valid only during the handler call. */
typedef struct promc_http_request promc_http_request_t;

/* A handler answers a request with promc_http_respond() before it returns (the server answers 500
 * for a handler that returns without answering).  It runs on one of the server's threads, possibly
 * on several at once, and holds up that thread's other connections while it runs, so it must not
 * block. */
typedef void (*promc_http_handler_fn)(void *ud, promc_http_request_t *req);

typedef struct promc_http_route {
    /* The exact path ("/hello"; the query string is not part of it).  NULL: every path that
     * neither another route nor a built-in endpoint takes (at most one such route). */
    const char *path;
    promc_http_handler_fn fn; /* required */
    void *ud;                 /* passed to fn */
} promc_http_route_t;

/* What promc_http_start() reads.  Zero-initialise, then set what you need; a zero field takes its
 * default.  Strings and the routes array are copied; none needs to outlive the call. */
typedef struct promc_http_opts {
    const char *address; /* a numeric IPv4 or IPv6 address (host names are not resolved);
                          * NULL or "": "0.0.0.0".  "::" listens on IPv6 and, where the system
                          * allows, IPv4 too. */
    unsigned port;       /* 0: a free port the kernel picks (read it with promc_http_port()) */
    promc_registry_t *registry; /* served at /metrics; NULL: the default registry */
    bool no_builtin;            /* serve only `routes`: no /metrics, /, /healthz, /readyz, and no
                                 * promhttp_* metrics (for an application's own port) */
    bool start_unready;         /* /readyz answers 503 until promc_http_set_ready(s, true) */
    const promc_http_route_t *routes; /* route_count routes, tried before the built-ins */
    size_t route_count;
    unsigned threads;         /* event loops; 0: 1 */
    unsigned max_in_flight;   /* scrapes of /metrics written at once; 0: 8 */
    unsigned max_connections; /* open connections, split evenly over the threads; 0: 1024 */
    double timeout_seconds;   /* idle / read / write timeout of a connection; 0: 30 */
    size_t max_request_bytes; /* cap on a request's headers, and on its body; 0: 16384 */
    /* Run the event-loop threads under Linux's SCHED_BATCH policy (nice value unchanged): a
     * thread that a request wakes waits for the running task's time slice instead of preempting
     * it, so a loaded server finds more requests ready per wake-up and switches context less,
     * for more throughput and less CPU per request, and a little wake-up latency when the CPUs
     * are busy.  For a server whose load shares the CPUs with other work.  Best effort: a system
     * that refuses it (a seccomp filter, say) leaves the threads under the normal policy. */
    bool sched_batch;
} promc_http_opts_t;

/* Binds opts->address:opts->port, starts the threads and serves until promc_http_stop().  On
 * success *out is the running server (free it with promc_http_stop()).  Returns 0,
 * PROMC_EINVAL (opts NULL, port above 65535, a route without fn, two routes for one path, a path
 * that does not start with '/'), PROMC_EADDR (the address is not numeric, or cannot be
 * bound here), PROMC_EADDRINUSE (the port is taken), PROMC_EDUPLICATE (the registry holds a
 * promhttp_metric_handler_* metric of someone else's), PROMC_ENOMEM or PROMC_ESYS (a thread, pipe
 * or event loop could not be created).  On failure nothing is left listening or running and
 * *out is untouched; promc_last_error() has the details.
 * Thread-safety: any thread; takes the registry lock to register the promhttp_* metrics.
 * Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_http_start(promc_http_server_t **out,
                                               const promc_http_opts_t *opts);

/* The port the server listens on (the kernel's pick when opts.port was 0).
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API unsigned promc_http_port(const promc_http_server_t *s);

/* Sets what /readyz answers while the server runs: 200 when ready, 503 when not.  A stopping
 * server is never ready.  Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API void promc_http_set_ready(promc_http_server_t *s, bool ready);

/* Stops and frees the server: /readyz turns 503, the listening sockets close at once, idle
 * connections close, and requests in flight (a response still being sent) get up to
 * drain_seconds to finish before their connections are closed too; responses sent meanwhile carry
 * "Connection: close".  Returns when every thread has exited; `s` is invalid afterwards.  Returns
 * 0, or PROMC_ESTATE when called from one of the server's own handlers (nothing is done then).
 * NULL: returns 0.  Thread-safety: any thread but the server's own; call it once per server.
 * Since: 0.1 */
PROMC_API int promc_http_stop(promc_http_server_t *s, double drain_seconds);

/* ---- Inside a handler -------------------------------------------------------------------------
 * The method ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH").
 * Static storage.  Thread-safety: the handler's thread only.  Since: 0.1 */
PROMC_API const char *promc_http_request_method(const promc_http_request_t *req);

/* The path as sent, without the query string and not percent-decoded ("/hello").  Borrowed,
 * valid during the handler call.  Thread-safety: the handler's thread only.  Since: 0.1 */
PROMC_API const char *promc_http_request_path(const promc_http_request_t *req);

/* The query string without the '?', not decoded; NULL when there is none.  Borrowed, valid
 * during the handler call.  Thread-safety: the handler's thread only.  Since: 0.1 */
PROMC_API const char *promc_http_request_query(const promc_http_request_t *req);

/* The value of a request header (the name is case-insensitive; the first one when it repeats);
 * NULL when absent.  Borrowed, valid during the handler call.
 * Thread-safety: the handler's thread only.  Since: 0.1 */
PROMC_API const char *promc_http_request_header(const promc_http_request_t *req, const char *name);

/* Adds a response header (copied) for the response promc_http_respond() sends next.  Returns 0,
 * PROMC_EINVAL (NULL name or value, or a CR or LF in either), PROMC_ESTATE (already answered)
 * or PROMC_ENOMEM.  Thread-safety: the handler's thread only.  Since: 0.1 */
PROMC_API int promc_http_set_header(promc_http_request_t *req, const char *name, const char *value);

/* Answers the request: status 200-599 with its standard reason phrase, a Content-Type
 * (NULL: none), and `len` bytes of body (copied; not sent for HEAD, though Content-Length still
 * says how long it is).  During promc_http_stop() the response also closes the connection.
 * Returns 0, PROMC_EINVAL (bad status, or body NULL with len > 0), PROMC_ESTATE (already
 * answered) or PROMC_ENOMEM (a 500 without body went out instead, or the response lacks a
 * header).  The request's strings stay valid until the handler returns.
 * Thread-safety: the handler's thread only.  Since: 0.1 */
PROMC_API int promc_http_respond(promc_http_request_t *req, int status, const char *content_type,
                                 const void *body, size_t len);

#ifdef __cplusplus
}
#endif
#endif
