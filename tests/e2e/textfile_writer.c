/* SPDX-License-Identifier: Apache-2.0 */
/* textfile_writer PATH SECONDS: rewrites PATH with promc_registry_write_textfile() as fast as it
 * can for SECONDS, a counter of the rewrites and 2,000 labelled gauges in it (a file of ~100 KB,
 * so that a torn read would show), then prints how many rewrites it made.  For e2e_textfile.py. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <promc/promc.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: textfile_writer PATH SECONDS\n");
        return 2;
    }
    promc_registry_t *r;
    promc_counter_t *writes;
    promc_gauge_t *g, *k;
    const char *ln[] = {"shard"};
    if (promc_registry_new(&r) ||
        promc_counter_new(&writes, &(promc_metric_opts_t){.name = "textfile_writes",
                                                          .help = "Rewrites of this file.",
                                                          .registry = r}) ||
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "textfile_shard_size_bytes",
                                                   .help = "Shard sizes.",
                                                   .label_names = ln,
                                                   .label_count = 1,
                                                   .registry = r}))
        return 1;
    for (int i = 0; i < 2000; i++) {
        char s[16];
        snprintf(s, sizeof s, "s%04d", i);
        promc_str_t v = promc_str(s);
        if (promc_gauge_labels(g, &v, 1, &k))
            return 1;
        promc_gauge_set(k, i * 1024.0);
    }
    double until = now() + atof(argv[2]);
    long n = 0;
    while (now() < until) {
        promc_counter_inc(writes);
        int rc = promc_registry_write_textfile(r, argv[1]);
        if (rc) {
            fprintf(stderr, "textfile_writer: %s: %s\n", promc_strerror(rc), promc_last_error());
            return 1;
        }
        n++;
    }
    printf("%ld\n", n);
    return 0;
}
