/* SPDX-License-Identifier: Apache-2.0 */
/* /metrics from a libmicrohttpd server, through promc's transport-agnostic handler.
 * libmicrohttpd decodes the query itself, so the name[] values go in already decoded.
 * Usage: handler_microhttpd [PORT]  (default 8000; serves until killed) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>
#include <promc/promc.h>

/* ---- the glue: 15 statements (27 lines as formatted), 4 of them collecting the name[] values,
 * which libmicrohttpd decodes itself and does not hand over as a raw query ---- */
typedef struct names {
    const char *v[32];
    size_t n;
} names_t;

static enum MHD_Result add_name(void *ns, enum MHD_ValueKind k, const char *key, const char *val)
{
    names_t *p = ns;
    if (k == MHD_GET_ARGUMENT_KIND && strcmp(key, "name[]") == 0 && val && p->n < 32)
        p->v[p->n++] = val;
    return MHD_YES;
}

static enum MHD_Result answer(void *handler, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)url, (void)version, (void)upload, (void)upload_size, (void)state; /* one route */
    names_t ns = {.n = 0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_name, &ns);
    promc_handler_request_t r = {
        .method = method,
        .names = ns.v,
        .name_count = ns.n,
        .accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"),
        .accept_encoding = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"),
        .scrape_timeout =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Prometheus-Scrape-Timeout-Seconds")};
    promc_handler_response_t out;
    if (promc_handler_serve_buf(handler, &r, &out) != 0)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(out.len, out.body, MHD_RESPMEM_MUST_COPY);
    for (size_t i = 0; resp && i < out.header_count; i++)
        MHD_add_response_header(resp, out.headers[i].name, out.headers[i].value);
    enum MHD_Result rc = resp ? MHD_queue_response(c, (unsigned)out.status, resp) : MHD_NO;
    if (resp)
        MHD_destroy_response(resp);
    promc_handler_response_free(&out);
    return rc;
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
        fprintf(stderr, "handler_microhttpd: %s\n", promc_last_error());
        return 1;
    }
    promc_counter_add(events, 42);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL,
                                            NULL, answer, handler, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "handler_microhttpd: cannot listen on port %u\n", port);
        return 1;
    }
    printf("handler_microhttpd: serving http://127.0.0.1:%u/metrics\n", port);
    fflush(stdout);
    for (;;)
        pause(); /* until killed */
}
