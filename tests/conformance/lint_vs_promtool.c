/* SPDX-License-Identifier: Apache-2.0 */
/* lint_vs_promtool DIR: builds a registry with one instance of every problem promc_registry_lint()
 * knows (and clean metrics beside them), writes its text exposition to DIR/metrics.txt and the
 * lint report to DIR/lint.txt, for lint_vs_promtool.sh to compare with `promtool check metrics`. */
#include <stdio.h>
#include <stdlib.h>
#include <promc/promc.h>

static int collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    promc_label_t l = {PROMC_STR("queueName"), PROMC_STR("a")};
    int rc = promc_emit_family(e, "queueDepth", "Queue depth.", PROMC_GAUGE, NULL);
    rc = rc ? rc : promc_emit_sample(e, "", &l, 1, 3);
    rc = rc ? rc : promc_emit_family(e, "foo_count", "F.", PROMC_GAUGE, NULL);
    rc = rc ? rc : promc_emit_sample(e, "", NULL, 0, 1);
    rc = rc ? rc : promc_emit_family(e, "bar_sum", "B.", PROMC_GAUGE, NULL);
    rc = rc ? rc : promc_emit_sample(e, "", NULL, 0, 1);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    promc_registry_t *r;
    promc_gauge_t *g;
    promc_counter_t *c;
    promc_histogram_t *h;
    promc_collector_t *col;
    if (promc_registry_new(&r))
        return 1;
    promc_registry_set_created(r, false);
    const char *const names[] = {"sessions_total", "latency_milliseconds", "size_kilobytes",
                                 "silent", "fine_bytes"};
    const char *const helps[] = {"S.", "L.", "K.", "", "Fine."};
    for (int i = 0; i < 5; i++)
        if (promc_gauge_new(
                &g, &(promc_metric_opts_t){.name = names[i], .help = helps[i], .registry = r}))
            return 1;
    if (promc_counter_new(&c,
                          &(promc_metric_opts_t){.name = "jobs", .help = "Jobs.", .registry = r}) ||
        promc_histogram_new(
            &h, &(promc_metric_opts_t){.name = "wait_seconds", .help = "Wait.", .registry = r}) ||
        promc_collector_new(&col, collect, NULL, NULL, 0) ||
        promc_registry_register_collector(r, col))
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.txt", argv[1]);
    char *text;
    size_t len;
    if (promc_registry_write_buf(r, NULL, &text, &len))
        return 1;
    FILE *f = fopen(path, "w");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f))
        return 1;
    promc_buf_free(text);
    char *report;
    int n = promc_registry_lint(r, &report);
    if (n < 0)
        return 1;
    snprintf(path, sizeof path, "%s/lint.txt", argv[1]);
    f = fopen(path, "w");
    if (!f || fputs(report, f) < 0 || fclose(f))
        return 1;
    promc_buf_free(report);
    printf("lint_vs_promtool: %d problems\n", n);
    return 0;
}
