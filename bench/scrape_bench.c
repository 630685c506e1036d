/* SPDX-License-Identifier: Apache-2.0 */
/* The promc side of "one scrape of a 100k-child family": example-001's metrics endpoint (the promc
 * HTTP server on the default registry, with the process collector and the tutorial's three
 * counters) plus a counter family with N children, label "id", each incremented once, as the
 * peers build it behind their --bench-children flag.  bench/driver.py scrapes it and measures.
 *
 * Usage: scrape_bench [--children N] [--port P] [--bind ADDR] [--web-config-file F]
 * Prints "Prometheus metrics available on port: P /metrics" when serving; stops on SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <promc/http.h>
#include <promc/process.h>
#include <promc/promc.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "scrape_bench: %s: %s (%s)\n", what, promc_strerror(rc), promc_last_error());
    return 1;
}

static unsigned long parse_ulong(const char *flag, const char *s, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *s == '\0' || *end != '\0' || v > max) {
        fprintf(stderr, "scrape_bench: bad value for %s: '%s'\n", flag, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    unsigned long children = 100000;
    unsigned port = 0;
    const char *bind = "127.0.0.1";
    const char *web_config = NULL; /* TLS or basic auth (bench/tls.sh) */
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "usage: scrape_bench [--children N] [--port P] [--bind ADDR] "
                            "[--web-config-file F]\n");
            return 2;
        }
        if (strcmp(argv[i], "--children") == 0)
            children = parse_ulong(argv[i], argv[i + 1], 100000000ul);
        else if (strcmp(argv[i], "--port") == 0)
            port = (unsigned)parse_ulong(argv[i], argv[i + 1], 65535);
        else if (strcmp(argv[i], "--bind") == 0)
            bind = argv[i + 1];
        else if (strcmp(argv[i], "--web-config-file") == 0)
            web_config = argv[i + 1];
        else {
            fprintf(stderr, "scrape_bench: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }

    /* Signals are taken synchronously with sigwait(); block them before any thread starts. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    static const char *const tutorial[][2] = {
        {"hello_worlds_requests", "Hello Worlds requested."},
        {"wrong_requests", "Wrong Requests received."},
        {"hello_world_exceptions", "Exceptions serving Hello World."},
    };
    for (size_t i = 0; i < sizeof tutorial / sizeof tutorial[0]; i++) {
        promc_counter_t *c;
        int rc = promc_counter_new(
            &c, &(promc_metric_opts_t){.name = tutorial[i][0], .help = tutorial[i][1]});
        if (rc != 0)
            return fail("promc_counter_new", rc);
    }
    int rc = promc_process_collector_register(NULL, NULL);
    if (rc != 0)
        return fail("promc_process_collector_register", rc);

    static const char *const id[] = {"id"};
    promc_counter_t *big;
    rc = promc_counter_new(&big, &(promc_metric_opts_t){.name = "bench_children",
                                                        .help = "Benchmark family.",
                                                        .label_names = id,
                                                        .label_count = 1});
    if (rc != 0)
        return fail("promc_counter_new", rc);
    for (unsigned long i = 0; i < children; i++) {
        char buf[24];
        int len = snprintf(buf, sizeof buf, "%lu", i);
        promc_counter_t *child;
        rc = promc_counter_labels(big, &(promc_str_t){buf, (size_t)len}, 1, &child);
        if (rc != 0)
            return fail("promc_counter_labels", rc);
        promc_counter_inc(child);
    }

    /* The metrics server exactly as example-001 starts it (one event loop, defaults). */
    promc_http_server_t *srv;
    rc = promc_http_server_new(
        &srv, &(promc_http_opts_t){.address = bind, .port = port, .web_config_file = web_config});
    if (rc != 0)
        return fail("promc_http_server_new", rc);
    printf("Prometheus metrics available on port: %u /metrics\n", promc_http_server_port(srv));
    fflush(stdout);

    int sig;
    sigwait(&stop, &sig);
    if (promc_http_server_stop(srv, 1.0) == 0)
        promc_http_server_free(srv);
    promc_counter_free(big);
    return 0;
}
