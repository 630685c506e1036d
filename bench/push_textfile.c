/* SPDX-License-Identifier: Apache-2.0 */
/* The push and textfile benchmarks for promc: a gauge family of N children, pushed (PUT) to a
 * Pushgateway REPS times with the group deleted after each push (not timed), or written with
 * promc_registry_write_textfile() REPS times.  Prints "push promc N ms..." or
 * "textfile promc N ms...", the lines bench/push-textfile.sh compares with the peers'.
 * Usage: bench_push_textfile push URL N REPS | textfile PATH N REPS */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <promc/promc.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "push") != 0 && strcmp(argv[1], "textfile") != 0)) {
        fprintf(stderr, "usage: bench_push_textfile push URL N REPS | textfile PATH N REPS\n");
        return 2;
    }
    long n = atol(argv[3]), reps = atol(argv[4]);
    promc_registry_t *r;
    promc_gauge_t *g, *k;
    static const char *const ln[] = {"id"};
    if (promc_registry_new(&r) != 0 ||
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "push_series",
                                                   .help = "Many.",
                                                   .label_names = ln,
                                                   .label_count = 1,
                                                   .registry = r}) != 0)
        return 1;
    for (long i = 0; i < n; i++) {
        char v[24];
        snprintf(v, sizeof v, "%ld", i);
        promc_str_t s = promc_str(v);
        if (promc_gauge_labels(g, &s, 1, &k) != 0)
            return 1;
        promc_gauge_set(k, (double)i);
    }
    bool push = strcmp(argv[1], "push") == 0;
    promc_push_opts_t o = {.url = argv[2], .job = "bench_promc", .registry = r};
    printf("%s promc %ld", argv[1], n);
    for (long i = 0; i < reps; i++) {
        double t0 = now_ms();
        int rc = push ? promc_push(&o) : promc_registry_write_textfile(r, argv[2]);
        double t = now_ms() - t0;
        if (rc != 0 || (push && promc_push_delete(&o) != 0)) {
            fprintf(stderr, "bench_push_textfile: %s\n", promc_last_error());
            return 1;
        }
        printf(" %.2f", t);
    }
    printf("\n");
    promc_gauge_free(g);
    promc_registry_free(r);
    return 0;
}
