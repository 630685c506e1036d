/* SPDX-License-Identifier: Apache-2.0 */
/* promc — /metrics for any HTTP server: the request's few fields in, status, headers and body out.
 *
 * promc's own server answers /metrics through this same handler, so negotiation, gzip, name[]
 * filtering, the scrape timeout, the in-flight limit and the promhttp_* metrics behave the same
 * behind libevent, libmicrohttpd, an nginx module or a loop over accept().  examples/handler_*.c
 * show the glue for three of them. */
#ifndef PROMC_HANDLER_H
#define PROMC_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <promc/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A /metrics handler (promc_handler_new()).  Since: 0.2 */
typedef struct promc_handler promc_handler_t;

/* What promc_handler_new() reads.  Zero-initialise, then set what you need.  Since: 0.2 */
typedef struct promc_handler_opts {
    promc_registry_t *registry; /* the registry served; NULL: the default registry */
    unsigned max_in_flight;     /* scrapes answered at once, more get 503; 0: 8 */
    bool no_instrument;         /* no promhttp_metric_handler_* metrics in the registry */
} promc_handler_opts_t;

/* One request, as the caller's server parsed it.  Strings are borrowed for the call; NULL means
 * absent.  Since: 0.2 */
typedef struct promc_handler_request {
    const char *method; /* "GET" or "HEAD" are served, others get 405; NULL: "GET" */
    const char *path;   /* informational (the caller routes); may be NULL */
    const char *query;  /* the query string without '?', not decoded: name[]=... */
    /* The name[] values already decoded, for a server that parses the query itself (added to
     * those found in query). */
    const char *const *names;
    size_t name_count;
    const char *accept;          /* the Accept header */
    const char *accept_encoding; /* the Accept-Encoding header */
    const char *scrape_timeout;  /* X-Prometheus-Scrape-Timeout-Seconds */
    /* The caller cannot stream (HTTP/1.0, or a framework that wants the whole body): the body
     * comes in one write call, however large, with `complete` set. */
    bool no_stream;
} promc_handler_request_t;

/* A response header.  Since: 0.2 */
typedef struct promc_handler_header {
    const char *name;
    const char *value;
} promc_handler_header_t;

/* The status line and headers of the response, given with the first write.  The caller adds its
 * own framing (Content-Length or chunked, Date, Connection).  Since: 0.2 */
typedef struct promc_handler_head {
    int status;                            /* 200, 405, 500 or 503 */
    const promc_handler_header_t *headers; /* Content-Type first; Content-Encoding, Vary, Allow */
    size_t header_count;
    /* The data given with this first call is the whole body: send it with a Content-Length.
     * When false, more writes follow (head NULL) and the body ends when promc_handler_serve()
     * returns 0. */
    bool complete;
} promc_handler_head_t;

/* Receives the response: the first call has `head` (and possibly the first bytes of the body),
 * later calls head NULL and more body.  Returns 0 to go on, non-zero when the client is gone (the
 * handler stops writing and returns PROMC_ESINK).  Since: 0.2 */
typedef int (*promc_handler_write_fn)(void *ud, const promc_handler_head_t *head, const void *data,
                                      size_t len);

/* Creates a handler for opts->registry (opts may be NULL), registering the
 * promhttp_metric_handler_requests_total{code} and _requests_in_flight metrics there unless
 * no_instrument is set; handlers (and promc servers) on one registry share those metrics.
 * Returns 0, PROMC_EINVAL (out NULL), PROMC_ENOMEM, or the registration's error.
 * Thread-safety: any thread, takes the registry lock.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_handler_new(promc_handler_t **out,
                                                const promc_handler_opts_t *opts);

/* Answers one scrape through `write`: the format the Accept header ranks highest, gzip when
 * Accept-Encoding takes it, the name[] filter from the query, 503 past the scrape timeout or the
 * in-flight limit, 405 for a method other than GET and HEAD (for HEAD the body is produced as for
 * GET; a server that sends it must drop it).  A body up to 1 MiB is held and given whole with the
 * head (`complete`); a larger one streams in chunks after it, in bounded memory.
 * Returns 0 when the whole response went to `write`, whatever its status; PROMC_ESINK when write
 * refused; another code when the scrape failed after the head went out with status 200 - the
 * caller must then end the connection without ending the body, so that the client sees the
 * truncation.  Thread-safety: any thread.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_handler_serve(promc_handler_t *h,
                                                  const promc_handler_request_t *req,
                                                  promc_handler_write_fn write, void *ud);

/* A whole response, for servers that send a buffer (promc_handler_serve_buf()).  Since: 0.2 */
typedef struct promc_handler_response {
    int status;
    promc_handler_header_t headers[4]; /* Content-Type first; values in static storage */
    size_t header_count;
    char *body; /* malloc'ed (promc's allocator); free with promc_handler_response_free() */
    size_t len;
} promc_handler_response_t;

/* promc_handler_serve() into one buffer: the whole response, however large (req->no_stream is
 * implied).  Returns 0 with *out filled (any status), or PROMC_ENOMEM / PROMC_EINVAL with *out
 * empty.  Thread-safety: any thread.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_handler_serve_buf(promc_handler_t *h,
                                                      const promc_handler_request_t *req,
                                                      promc_handler_response_t *out);

/* Frees the body of a response from promc_handler_serve_buf() and empties it; NULL is a no-op.
 * Thread-safety: any thread.  Since: 0.2 */
PROMC_API void promc_handler_response_free(promc_handler_response_t *r);

/* Frees the handler, unregistering its promhttp metrics when no other handler shares them.  NULL
 * is a no-op.  Not while a promc_handler_serve() on it runs.
 * Thread-safety: any thread, takes the registry lock.  Since: 0.2 */
PROMC_API void promc_handler_free(promc_handler_t *h);

#ifdef __cplusplus
}
#endif
#endif
