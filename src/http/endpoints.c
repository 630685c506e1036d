/* SPDX-License-Identifier: Apache-2.0 */
/* The built-in endpoints (/metrics, /, /healthz, /readyz) and the promhttp_* metrics.
 *
 * /metrics is the transport-agnostic handler (src/expose/handler.c) on the worker that received
 * the request, its output written into evhttp: whole when it came whole, as chunks when it
 * streams; how the timeout and the failures after streaming began are answered is in
 * docs/http.md, under /metrics. */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include <promc/handler.h>

#include "alloc.h"
#include "err.h"

static const char INDEX_HTML[] =
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\"><title>promc exporter</title></head>\n"
    "<body><h1>promc exporter</h1>\n"
    "<p><a href=\"/metrics\">Metrics</a></p>\n"
    "</body></html>\n";

/* ---- /metrics: the transport-agnostic handler, written into evhttp ------------------------ */

typedef struct evh_out {
    promc_http_request_t *r;
    struct evbuffer *chunk; /* streaming: the chunk being handed to evhttp */
} evh_out_t;

static int evh_write(void *ud, const promc_handler_head_t *head, const void *data, size_t len)
{
    evh_out_t *o = ud;
    promc_http_request_t *r = o->r;
    if (head == NULL) {
        return evbuffer_add(o->chunk, data, len) != 0 || promc__http_stream_chunk(r, o->chunk) != 0
                   ? -1
                   : 0;
    }
    const char *ct = NULL;
    /* Out of memory for a header still sends the response (without that header). */
    for (size_t i = 0; i < head->header_count; i++) {
        if (strcmp(head->headers[i].name, "Content-Type") == 0)
            ct = head->headers[i].value;
        else
            (void)promc__http_set_header(r, head->headers[i].name, head->headers[i].value);
    }
    if (head->complete) {
        (void)promc__http_respond(r, head->status, ct, data, len);
        return 0;
    }
    if ((o->chunk = evbuffer_new()) == NULL)
        return -1;
    (void)promc__http_stream_start(r, head->status, ct);
    return evbuffer_add(o->chunk, data, len) != 0 || promc__http_stream_chunk(r, o->chunk) != 0 ? -1
                                                                                                : 0;
}

static void respond_text(promc_http_request_t *r, int status, const char *text)
{
    (void)promc__http_respond(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void serve_metrics(promc_http_request_t *r)
{
    promc_handler_request_t req = {
        .method = promc_http_request_method(r),
        .path = r->path,
        .query = r->query,
        .accept = promc_http_request_header(r, "Accept"),
        .accept_encoding = promc_http_request_header(r, "Accept-Encoding"),
        .scrape_timeout = promc_http_request_header(r, "X-Prometheus-Scrape-Timeout-Seconds"),
        .no_stream = !promc__http_can_stream(r),
    };
    evh_out_t o = {.r = r};
    int rc = promc_handler_serve(r->srv->handler, &req, evh_write, &o);
    if (o.chunk != NULL) {
        evbuffer_free(o.chunk);
        promc__http_stream_end(r, rc == 0);
    }
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
