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

/* ---- the glue: 15 lines ---- */
typedef struct out {
    struct MHD_Response *resp;
    int status;
    const char *names[32];
    size_t n;
} out_t;

static enum MHD_Result add_name(void *o, enum MHD_ValueKind k, const char *key, const char *val)
{
    (void)k;
    if (strcmp(key, "name[]") == 0 && val && ((out_t *)o)->n < 32)
        ((out_t *)o)->names[((out_t *)o)->n++] = val;
    return MHD_YES;
}

static int on_write(void *o, const promc_handler_head_t *head, const void *data, size_t len)
{
    out_t *out = o;
    out->status = head->status; /* one call: no_stream below */
    out->resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    for (size_t i = 0; out->resp && i < head->header_count; i++)
        MHD_add_response_header(out->resp, head->headers[i].name, head->headers[i].value);
    return out->resp == NULL;
}

static enum MHD_Result answer(void *handler, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)version, (void)upload, (void)upload_size, (void)state;
    out_t o = {0};
    if (strcmp(url, "/metrics") != 0)
        return MHD_NO; /* this program's other pages would go here */
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_name, &o);
    promc_handler_request_t r = {
        .method = method,
        .names = o.names,
        .name_count = o.n,
        .accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"),
        .accept_encoding = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"),
        .scrape_timeout =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Prometheus-Scrape-Timeout-Seconds"),
        .no_stream = true,
    };
    if (promc_handler_serve(handler, &r, on_write, &o) != 0 || o.resp == NULL)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)o.status, o.resp);
    MHD_destroy_response(o.resp);
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
