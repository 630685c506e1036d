/* SPDX-License-Identifier: Apache-2.0 */
/* /metrics from a program's own libevent evhttp server, through promc's transport-agnostic
 * handler: negotiation, gzip, name[] and the scrape timeout come with it.
 * Usage: handler_evhttp [PORT]  (default 8000; serves until killed) */
#include <stdio.h>
#include <stdlib.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <promc/promc.h>

/* ---- the glue: 10 statements (16 lines as formatted) ---- */
static void serve_metrics(struct evhttp_request *req, void *handler)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    promc_handler_request_t r = {
        .method = evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET" : "other",
        .query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)),
        .accept = evhttp_find_header(in, "Accept"),
        .accept_encoding = evhttp_find_header(in, "Accept-Encoding"),
        .scrape_timeout = evhttp_find_header(in, "X-Prometheus-Scrape-Timeout-Seconds")};
    promc_handler_response_t out;
    if (promc_handler_serve_buf(handler, &r, &out) != 0)
        return evhttp_send_error(req, 500, NULL);
    for (size_t i = 0; i < out.header_count; i++)
        evhttp_add_header(evhttp_request_get_output_headers(req), out.headers[i].name,
                          out.headers[i].value);
    evbuffer_add(evhttp_request_get_output_buffer(req), out.body, out.len);
    evhttp_send_reply(req, out.status, NULL, NULL);
    promc_handler_response_free(&out);
}
/* ---- end of the glue ---- */

int main(int argc, char **argv)
{
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 8000;
    promc_counter_t *events;
    promc_handler_t *handler;
    if (promc_counter_new(&events, &(promc_metric_opts_t){.name = "demo_events",
                                                          .help = "Events handled."}) != 0 ||
        promc_handler_new(&handler, NULL) != 0) {
        fprintf(stderr, "handler_evhttp: %s\n", promc_last_error());
        return 1;
    }
    promc_counter_add(events, 42);

    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    if (http == NULL || evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0) {
        fprintf(stderr, "handler_evhttp: cannot listen on 127.0.0.1:%u\n", port);
        return 1;
    }
    evhttp_set_cb(http, "/metrics", serve_metrics, handler);
    printf("handler_evhttp: serving http://127.0.0.1:%u/metrics\n", port);
    fflush(stdout);
    event_base_dispatch(base);
    evhttp_free(http);
    event_base_free(base);
    promc_handler_free(handler);
    promc_counter_free(events);
    return 0;
}
