/* SPDX-License-Identifier: Apache-2.0 */
/* promc's side of the summary-quantile differential test: N observations from a fixed
 * xorshift generator (distribution: uniform, exp or mixed) written to FILE, observed into a
 * summary with the objectives 0.5:0.05, 0.9:0.01, 0.99:0.001 from two threads, then its quantiles
 * printed as "q value" (read back from the exposition).  Usage: summary_quantiles DIST N FILE */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>

static promc_summary_t *sum;
static double *vals;
static long nvals;

static void *observe_half(void *arg)
{
    long half = (long)(intptr_t)arg;
    for (long i = half; i < nvals; i += 2)
        promc_summary_observe(sum, vals[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    nvals = atol(argv[2]);
    vals = malloc((size_t)nvals * sizeof *vals);
    FILE *f = fopen(argv[3], "w");
    if (!vals || !f)
        return 1;
    unsigned long long x = 88172645463325252ull;
    for (long i = 0; i < nvals; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0;
        double v = !strcmp(argv[1], "uniform") ? u * 100
                   : !strcmp(argv[1], "exp")   ? -log(1 - u) * 0.2
                                               : (i % 3 ? u : 50 + u * 1000);
        vals[i] = v;
        fprintf(f, "%.17g\n", v);
    }
    fclose(f);
    static const promc_quantile_t q[] = {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};
    promc_registry_t *r;
    if (promc_registry_new(&r) ||
        promc_summary_new(&sum, &(promc_metric_opts_t){.name = "s",
                                                       .help = "S.",
                                                       .registry = r,
                                                       .quantiles = q,
                                                       .quantile_count = 3,
                                                       .max_age = 3600})) {
        fprintf(stderr, "summary_quantiles: %s\n", promc_last_error());
        return 1;
    }
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, observe_half, (void *)(intptr_t)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    char *text;
    size_t len;
    if (promc_registry_write_buf(r, NULL, &text, &len))
        return 1;
    for (const char *p = text; (p = strstr(p, "s{quantile=\"")) != NULL; p++) {
        double qq = strtod(p + 12, NULL);
        const char *sp = strchr(p, ' ');
        printf("%g %.17g\n", qq, strtod(sp + 1, NULL));
    }
    if (!strstr(text, "s_count ") || !strstr(text, "s_sum "))
        return 1;
    promc_buf_free(text);
    return 0;
}
