/* SPDX-License-Identifier: Apache-2.0 */
/* A custom collector: values read at scrape time, like client_python's custom collectors. */
#include <stdio.h>
#include <promc/promc.h>

struct queue {
    int depth;
    long processed;
};

static int collect_queue(void *ud, promc_emit_t *e)
{
    const struct queue *q = ud;
    int rc = promc_emit_family(e, "queue_depth", "Items waiting.", PROMC_GAUGE, NULL);
    if (!rc)
        rc = promc_emit_sample(e, "", NULL, 0, q->depth);
    if (!rc)
        rc = promc_emit_family(e, "queue_processed", "Items processed.", PROMC_COUNTER, NULL);
    promc_label_t l = {PROMC_STR("queue"), PROMC_STR("main")};
    if (!rc)
        rc = promc_emit_sample(e, "_total", &l, 1, (double)q->processed);
    return rc;
}

int main(void)
{
    struct queue q = {7, 1234};
    promc_registry_t *reg;
    promc_collector_t *col;
    const char *names[] = {"queue_depth", "queue_processed_total"};
    if (promc_registry_new(&reg))
        return 1;
    if (promc_collector_new(&col, collect_queue, &q, names, 2) ||
        promc_registry_register_collector(reg, col))
        return 1;
    char *text;
    size_t len;
    if (promc_registry_write_buf(reg, NULL, &text, &len))
        return 1;
    fwrite(text, 1, len, stdout);
    promc_buf_free(text);
    promc_collector_free(col);
    promc_registry_free(reg);
    return 0;
}
