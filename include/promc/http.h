/* SPDX-License-Identifier: Apache-2.0 */
/* promc — the embedded HTTP server: /metrics for a registry, and small handlers of your own.
 *
 * promc_http_server_new() is the C form of client_python's start_http_server(8000): it binds the
 * port, starts its own threads and returns; the server runs until promc_http_server_stop().
 * HTTP/1.1 with keep-alive, on libevent (a private dependency: no libevent type appears here).
 * Built-in endpoints (unless opts.no_builtin): /metrics, /, /healthz, /readyz; other paths go to
 * opts.routes; a path nothing takes: 404.  What each endpoint answers, the promhttp_* metrics the
 * server registers, streaming of large scrapes and the bounds on connections and requests are in
 * docs/http.md.  The registry must outlive the server. */
#ifndef PROMC_HTTP_H
#define PROMC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <promc/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A running server (promc_http_server_new()).  Since: 0.1 */
typedef struct promc_http_server promc_http_server_t;

/* One request, handed to a handler.  Valid only during the handler call.  Since: 0.1 */
typedef struct promc_http_request promc_http_request_t;

/* A handler answers a request with promc_http_request_respond() before it returns (the server
 * answers 500 for a handler that returns without answering).  It runs on one of the server's
 * threads, possibly on several at once, and holds up that thread's other connections while it runs,
 * so it must not block.  Since: 0.1 */
typedef void (*promc_http_handler_fn)(void *ud, promc_http_request_t *req);

/* One entry of the route table of promc_http_opts_t.  Since: 0.1 */
typedef struct promc_http_route {
    /* The exact path ("/hello"; the query string is not part of it).  NULL: every path that
     * neither another route nor a built-in endpoint takes (at most one such route). */
    const char *path;
    promc_http_handler_fn fn; /* required */
    void *ud;                 /* passed to fn */
} promc_http_route_t;

/* What promc_http_server_new() reads.  Zero-initialise, then set what you need; a zero field takes
 * its default.  Strings and the routes array are copied; none needs to outlive the call.
 * Since: 0.1 */
typedef struct promc_http_opts {
    const char *address; /* a numeric IPv4 or IPv6 address (host names are not resolved);
                          * NULL or "": "0.0.0.0".  "::" listens on IPv6 and, where the system
                          * allows, IPv4 too. */
    unsigned port; /* 0: a free port the kernel picks (read it with promc_http_server_port()) */
    promc_registry_t *registry; /* served at /metrics; NULL: the default registry */
    bool no_builtin;            /* serve only `routes`: no /metrics, /, /healthz, /readyz, and no
                                 * promhttp_* metrics (for an application's own port) */
    bool start_unready;         /* /readyz answers 503 until promc_http_server_set_ready(s, true) */
    const promc_http_route_t *routes; /* route_count routes, tried before the built-ins */
    size_t route_count;
    unsigned threads;       /* event loops; 0: 1 */
    unsigned max_in_flight; /* scrapes of /metrics written at once; 0: 8 */
    /* Open connections, split evenly over the threads; 0: the process's RLIMIT_NOFILE soft limit
     * less 64 (960 for the usual 1024).  At the cap (or when accept() runs out of descriptors)
     * the longest-idle connection that is not sending a response is closed to admit the new one
     * (docs/http.md). */
    unsigned max_connections;
    double timeout_seconds;   /* idle / read / write timeout of a connection; 0: 30 */
    size_t max_request_bytes; /* cap on a request's headers, and on its body; 0: 16384 */
    bool sched_batch; /* run the event loops under SCHED_BATCH, best effort (docs/http.md) */
    /* A request whose first bytes arrived must be complete (headers and body) within this, or
     * its connection is closed: the slowloris guard.  0: 10, and never more than
     * timeout_seconds.  (Since 0.2) */
    double header_timeout_seconds;
    /* The exporter-toolkit web configuration file (the YAML of --web.config.file): TLS, client
     * certificates, basic_auth_users with bcrypt hashes, extra response headers.  NULL: plain
     * HTTP, no authentication.  Read at start, where any fault fails promc_http_server_new()
     * with PROMC_ECONFIG; re-read within about a second when it or a file it names changes.
     * On a TLS server the handshake and the first request's headers together must arrive within
     * header_timeout_seconds.  docs/web-config.md has every key.  (Since 0.2) */
    const char *web_config_file;
    /* The server's own messages (a web configuration re-read, or failing to: `error`), one
     * line each, without newline; NULL: written to stderr as "promc: ...".  Called on a server
     * thread.  (Since 0.2) */
    void (*log_fn)(void *ud, bool error, const char *message);
    void *log_ud; /* passed to log_fn (Since 0.2) */
} promc_http_opts_t;

/* Binds opts->address:opts->port, starts the threads and serves until promc_http_server_stop().
 * On success *out is the running server; free it with promc_http_server_free().  Returns 0,
 * PROMC_EINVAL (opts NULL, port above 65535, a route without fn, two routes for one path, a path
 * that does not start with '/'), PROMC_EADDR (the address is not numeric, or cannot be bound
 * here), PROMC_EADDRINUSE (the port is taken), PROMC_EDUPLICATE (the registry holds a
 * promhttp_metric_handler_* metric of someone else's), PROMC_ECONFIG (opts.web_config_file cannot
 * be used; the message names the field), PROMC_ENOMEM or PROMC_ESYS (a thread, pipe
 * or event loop could not be created).  On failure nothing is left listening or running and
 * *out is untouched.
 * Thread-safety: any thread, takes the registry lock.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_http_server_new(promc_http_server_t **out,
                                                    const promc_http_opts_t *opts);

/* Reads and checks a web configuration file as promc_http_server_new() would (YAML, every key
 * known, bcrypt hashes, certificates and keys loaded, the key matching its certificate), and
 * serves nothing.  Returns 0, PROMC_EINVAL (path NULL), PROMC_ECONFIG (the message names the file,
 * the line when there is one, and the field) or PROMC_ENOMEM.
 * Thread-safety: any thread, lock-free.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_http_web_config_check(const char *path);

/* The port the server listens on (the kernel's pick when opts.port was 0).
 * Thread-safety: any thread, lock-free.  Since: 0.2 */
PROMC_API unsigned promc_http_server_port(const promc_http_server_t *s);

/* Sets what /readyz answers while the server runs: 200 when ready, 503 when not.  A stopping
 * server is never ready.  Thread-safety: any thread, lock-free.  Since: 0.2 */
PROMC_API void promc_http_server_set_ready(promc_http_server_t *s, bool ready);

/* Stops serving: /readyz turns 503, the listening sockets close at once, idle connections close,
 * and requests in flight get up to drain_seconds to finish before their connections are closed
 * too (responses sent meanwhile carry "Connection: close").  Returns when every thread has exited:
 * 0 (also for NULL and for a server already stopped), or PROMC_ESTATE when called from one of the
 * server's own handlers (nothing is done then).  The server stays allocated until
 * promc_http_server_free().
 * Thread-safety: any thread but the server's own.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_http_server_stop(promc_http_server_t *s, double drain_seconds);

/* Frees the server, first stopping it with no drain time if it still runs.  NULL is a no-op; so
 * is a call from one of the server's own handlers, which must not free it.
 * Thread-safety: any thread but the server's own.  Since: 0.2 */
PROMC_API void promc_http_server_free(promc_http_server_t *s);

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

/* Adds a response header (copied) for the response promc_http_request_respond() sends next. Returns
 * 0, PROMC_EINVAL (NULL name or value, or a CR or LF in either), PROMC_ESTATE (already answered) or
 * PROMC_ENOMEM.  Thread-safety: the handler's thread only.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_http_request_set_header(promc_http_request_t *req,
                                                            const char *name, const char *value);

/* Answers the request: status 200-599 with its standard reason phrase, a Content-Type
 * (NULL: none), and `len` bytes of body (copied; not sent for HEAD, though Content-Length still
 * says how long it is).  During promc_http_server_stop() the response also closes the connection.
 * Returns 0, PROMC_EINVAL (bad status, or body NULL with len > 0), PROMC_ESTATE (already
 * answered) or PROMC_ENOMEM (a 500 without body went out instead, or the response lacks a
 * header).  The request's strings stay valid until the handler returns.
 * Thread-safety: the handler's thread only.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_http_request_respond(promc_http_request_t *req, int status,
                                                         const char *content_type, const void *body,
                                                         size_t len);

/* ---- Deprecated names (0.1), removed in 0.3 ----------------------------------------------------
 * Each behaves as the function its message names; promc_http_stop() stops and frees.
 * Thread-safety: as the function named.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_http_start(promc_http_server_t **out,
                                               const promc_http_opts_t *opts)
    PROMC_DEPRECATED("use promc_http_server_new");
PROMC_API unsigned promc_http_port(const promc_http_server_t *s)
    PROMC_DEPRECATED("use promc_http_server_port");
PROMC_API void promc_http_set_ready(promc_http_server_t *s, bool ready)
    PROMC_DEPRECATED("use promc_http_server_set_ready");
PROMC_API PROMC_NODISCARD int promc_http_stop(promc_http_server_t *s, double drain_seconds)
    PROMC_DEPRECATED("use promc_http_server_stop and promc_http_server_free");
PROMC_API PROMC_NODISCARD int promc_http_set_header(promc_http_request_t *req, const char *name,
                                                    const char *value)
    PROMC_DEPRECATED("use promc_http_request_set_header");
PROMC_API PROMC_NODISCARD int promc_http_respond(promc_http_request_t *req, int status,
                                                 const char *content_type, const void *body,
                                                 size_t len)
    PROMC_DEPRECATED("use promc_http_request_respond");

#ifdef __cplusplus
}
#endif
#endif
