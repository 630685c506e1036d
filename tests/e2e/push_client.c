/* SPDX-License-Identifier: Apache-2.0 */
/* The push client that tests/e2e/e2e_push.py drives against the real Pushgateway:
 *   push_client [options] put|post|delete URL JOB [NAME=VALUE ...]
 * options: --metric NAME (default push_test) --type counter|gauge --value V --timeout S
 *          --user U --password P --bearer TOKEN --ca FILE --cert FILE --key FILE --series N
 * Prints "rc=<code name> <promc_last_error()>" and exits 0 on success, 2 on a promc error. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <promc/promc.h>

int main(int argc, char **argv)
{
    promc_push_opts_t o = {0};
    const char *metric = "push_test", *type = "gauge";
    double value = 1;
    long series = 0;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        const char *k = argv[i] + 2, *v = argv[i + 1];
        if (!strcmp(k, "metric"))
            metric = v;
        else if (!strcmp(k, "type"))
            type = v;
        else if (!strcmp(k, "value"))
            value = atof(v);
        else if (!strcmp(k, "timeout"))
            o.timeout_seconds = atof(v);
        else if (!strcmp(k, "user"))
            o.username = v;
        else if (!strcmp(k, "password"))
            o.password = v;
        else if (!strcmp(k, "bearer"))
            o.bearer_token = v;
        else if (!strcmp(k, "ca"))
            o.ca_file = v;
        else if (!strcmp(k, "cert"))
            o.cert_file = v;
        else if (!strcmp(k, "key"))
            o.key_file = v;
        else if (!strcmp(k, "series"))
            series = atol(v);
        else {
            fprintf(stderr, "push_client: unknown option --%s\n", k);
            return 1;
        }
    }
    if (argc - i < 3) {
        fprintf(stderr, "usage: push_client [options] put|post|delete URL JOB [NAME=VALUE ...]\n");
        return 1;
    }
    const char *mode = argv[i];
    o.url = argv[i + 1];
    o.job = argv[i + 2];
    size_t ng = (size_t)(argc - i - 3);
    promc_label_t *g = calloc(ng ? ng : 1, sizeof *g);
    for (size_t j = 0; j < ng; j++) {
        char *kv = argv[i + 3 + j], *eq = strchr(kv, '=');
        if (eq == NULL) {
            fprintf(stderr, "push_client: grouping '%s' is not NAME=VALUE\n", kv);
            return 1;
        }
        g[j].name = (promc_str_t){kv, (size_t)(eq - kv)};
        g[j].value = promc_str(eq + 1);
    }
    o.grouping = g;
    o.grouping_count = ng;

    int rc = 0;
    if (!strcmp(type, "counter")) {
        promc_counter_t *c;
        rc = promc_counter_new(&c, &(promc_metric_opts_t){.name = metric, .help = "Pushed."});
        if (rc == 0)
            promc_counter_add(c, value);
    } else {
        promc_gauge_t *gg;
        rc = promc_gauge_new(&gg, &(promc_metric_opts_t){.name = metric, .help = "Pushed."});
        if (rc == 0)
            promc_gauge_set(gg, value);
    }
    if (rc == 0 && series > 0) {
        /* A large registry: `series` children of one gauge family. */
        promc_gauge_t *big, *k;
        static const char *const ln[] = {"id"};
        rc = promc_gauge_new(
            &big, &(promc_metric_opts_t){
                      .name = "push_series", .help = "Many.", .label_names = ln, .label_count = 1});
        for (long s = 0; rc == 0 && s < series; s++) {
            char v[24];
            snprintf(v, sizeof v, "%ld", s);
            promc_str_t sv = promc_str(v);
            if ((rc = promc_gauge_labels(big, &sv, 1, &k)) == 0)
                promc_gauge_set(k, (double)s);
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rc == 0)
        rc = !strcmp(mode, "put")    ? promc_push(&o)
             : !strcmp(mode, "post") ? promc_push_add(&o)
                                     : promc_push_delete(&o);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("rc=%s %.3f %s\n", rc ? promc_err_name(rc) : "0",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
           promc_last_error());
    free(g);
    return rc ? 2 : 0;
}
