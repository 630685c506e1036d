/* SPDX-License-Identifier: Apache-2.0 */
/* The program e2e_native.py has the real Prometheus scrape over protobuf: promc's server on the
 * port given, with a native-only histogram demo_rtt_seconds (factor 1.1, schema 3) holding the
 * 1000 observations 0.001, 0.002, ..., 1.000 and then an exemplar (trace_id="trace-N", value
 * 0.25) every 100 ms, and demo_size_bytes with classic buckets and native ones (factor 2, -1000
 * to 1000 in steps of 1).  Usage: native_server PORT */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <promc/promc.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    promc_histogram_t *rtt, *size;
    promc_http_server_t *srv;
    double b[] = {-100, 0, 100};
    if (promc_histogram_new(&rtt, &(promc_metric_opts_t){.name = "demo_rtt",
                                                         .unit = "seconds",
                                                         .help = "Round trips.",
                                                         .native_bucket_factor = 1.1}) ||
        promc_histogram_new(&size, &(promc_metric_opts_t){.name = "demo_size",
                                                          .unit = "bytes",
                                                          .help = "Sizes.",
                                                          .buckets = b,
                                                          .bucket_count = 3,
                                                          .native_bucket_factor = 2}) ||
        promc_http_server_new(
            &srv, &(promc_http_opts_t){.address = "127.0.0.1", .port = (unsigned)atoi(argv[1])})) {
        fprintf(stderr, "native_server: %s\n", promc_last_error());
        return 1;
    }
    for (int i = 1; i <= 1000; i++)
        promc_histogram_observe(rtt, i / 1000.0);
    for (int i = -1000; i <= 1000; i++)
        promc_histogram_observe(size, i);
    printf("serving on %u\n", promc_http_server_port(srv));
    fflush(stdout);
    for (unsigned long n = 1;; n++) {
        char id[32];
        snprintf(id, sizeof id, "trace-%lu", n);
        promc_label_t l[] = {{PROMC_STR("trace_id"), promc_str(id)}};
        if (promc_histogram_observe_exemplar(rtt, 0.25, l, 1)) {
            fprintf(stderr, "native_server: %s\n", promc_last_error());
            return 1;
        }
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
}
