/* SPDX-License-Identifier: Apache-2.0 */
/* The program e2e_exemplars.py has the real Prometheus scrape: promc's server on the port given,
 * a counter and a histogram that record an exemplar (trace_id="trace-N") every 100 ms.
 * Usage: exemplar_server PORT */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <promc/promc.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    promc_counter_t *jobs;
    promc_histogram_t *lat;
    promc_http_server_t *srv;
    double b[] = {0.1, 1, 10};
    if (promc_counter_new(&jobs, &(promc_metric_opts_t){.name = "demo_jobs", .help = "Jobs."}) ||
        promc_histogram_new(&lat, &(promc_metric_opts_t){.name = "demo_latency",
                                                         .unit = "seconds",
                                                         .help = "Latency.",
                                                         .buckets = b,
                                                         .bucket_count = 3}) ||
        promc_http_server_new(
            &srv, &(promc_http_opts_t){.address = "127.0.0.1", .port = (unsigned)atoi(argv[1])})) {
        fprintf(stderr, "exemplar_server: %s\n", promc_last_error());
        return 1;
    }
    printf("serving on %u\n", promc_http_server_port(srv));
    fflush(stdout);
    for (unsigned long n = 1;; n++) {
        char id[32];
        snprintf(id, sizeof id, "trace-%lu", n);
        promc_label_t l[] = {{PROMC_STR("trace_id"), promc_str(id)}};
        if (promc_counter_add_exemplar(jobs, 1, l, 1) ||
            promc_histogram_observe_exemplar(lat, 0.5, l, 1)) {
            fprintf(stderr, "exemplar_server: %s\n", promc_last_error());
            return 1;
        }
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
}
