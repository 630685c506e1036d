/* SPDX-License-Identifier: Apache-2.0 */
/* Reclamation of removed children while everything races (label stress under TSan, and unit
 * under ASan, which sees any use of freed memory):
 * - updaters hit STABLE children that are never removed, through kept handles and through the
 *   one-shot forms, and count what they did;
 * - churners create, update (one-shot) and remove short-lived children of the same metrics, and
 *   clear a metric of short-lived children (which the updaters also update) every 500 rounds;
 * - scrapers walk every metric in both formats.
 * At the end, every stable child holds exactly what was added to it, and the memory of the
 * removed children came back: the library's live allocations (counted by an allocator installed
 * with promc_allocator_set) are a bounded number, not one per child ever created. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "reclaim.h"

#define UPDATERS 2
#define CHURNERS 2
#define SCRAPERS 2
#define STABLE   16
#define ROUNDS   60000

static atomic_long live_blocks;

static void *count_malloc(size_t n)
{
    void *p = malloc(n);
    if (p)
        atomic_fetch_add(&live_blocks, 1);
    return p;
}

static void *count_calloc(size_t k, size_t n)
{
    void *p = calloc(k, n);
    if (p)
        atomic_fetch_add(&live_blocks, 1);
    return p;
}

static void *count_realloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q && !p)
        atomic_fetch_add(&live_blocks, 1);
    return q;
}

static void count_free(void *p)
{
    if (p)
        atomic_fetch_sub(&live_blocks, 1);
    free(p);
}

static promc_registry_t *reg;
static promc_counter_t *ctr;
static promc_gauge_t *gauge;
static promc_histogram_t *hist;
static promc_counter_t *scratch; /* cleared now and then while updated */
static atomic_bool done;
static atomic_long churned, scrapes;

static void stable_key(char *buf, size_t cap, int i)
{
    snprintf(buf, cap, "stable-%d", i);
}

static void *updater(void *arg)
{
    long id = (long)arg;
    promc_counter_t *kept[STABLE];
    for (int k = 0; k < STABLE; k++) {
        char key[32];
        stable_key(key, sizeof key, k);
        promc_str_t v[] = {promc_str(key)};
        if (promc_counter_labels(ctr, v, 1, &kept[k]) != 0)
            abort();
    }
    for (int i = 0; i < ROUNDS; i++) {
        int k = (int)((i + id) % STABLE);
        char key[32];
        stable_key(key, sizeof key, k);
        promc_str_t v[] = {promc_str(key)};
        promc_counter_inc(kept[k]);
        if (promc_counter_labels_add(ctr, v, 1, 2) != 0 || promc_gauge_labels_add(gauge, v, 1, 1) ||
            promc_histogram_labels_observe(hist, v, 1, 0.5) ||
            promc_counter_labels_inc(scratch, (promc_str_t[]){PROMC_STR("x-1")}, 1))
            abort();
    }
    return NULL;
}

static void *churner(void *arg)
{
    long id = (long)arg;
    for (long i = 0; !atomic_load(&done); i++) {
        char key[32];
        snprintf(key, sizeof key, "tmp-%ld-%ld", id, i % 200);
        promc_str_t v[] = {promc_str(key)};
        if (promc_counter_labels_inc(ctr, v, 1) != 0 || promc_gauge_labels_set(gauge, v, 1, 3) ||
            promc_histogram_labels_observe(hist, v, 1, 1))
            abort();
        /* Another churner never takes this thread's keys: each removal finds its child. */
        if (promc_metric_remove(promc_counter_metric(ctr), v, 1) != 0 ||
            promc_metric_remove(promc_gauge_metric(gauge), v, 1) != 0 ||
            promc_metric_remove(promc_histogram_metric(hist), v, 1) != 0)
            abort();
        char sk[16];
        snprintf(sk, sizeof sk, "x-%ld", i % 50);
        promc_str_t sv[] = {promc_str(sk)};
        if (promc_counter_labels_inc(scratch, sv, 1) != 0)
            abort();
        if (i % 500 == 499)
            promc_metric_clear(promc_counter_metric(scratch));
        atomic_fetch_add(&churned, 1);
    }
    return NULL;
}

static int discard(void *ud, const void *p, size_t n)
{
    (void)ud;
    (void)p;
    (void)n;
    return 0;
}

static void *scraper(void *arg)
{
    promc_format_t f = (promc_format_t)(long)arg;
    while (!atomic_load(&done)) {
        if (promc_registry_write(reg, &(promc_expose_opts_t){.format = f}, discard, NULL) != 0)
            abort();
        atomic_fetch_add(&scrapes, 1);
    }
    return NULL;
}

int main(void)
{
    int fails = 0;
    if (promc_allocator_set(&(promc_allocator_t){.malloc_fn = count_malloc,
                                                 .calloc_fn = count_calloc,
                                                 .realloc_fn = count_realloc,
                                                 .free_fn = count_free}) != 0)
        return 1;
    if (promc_registry_new(&reg))
        return 1;
    const char *ln[] = {"key"};
    promc_metric_opts_t o = {.help = "h", .label_names = ln, .label_count = 1, .registry = reg};
    o.name = "ctr";
    if (promc_counter_new(&ctr, &o))
        return 1;
    o.name = "gauge";
    if (promc_gauge_new(&gauge, &o))
        return 1;
    o.name = "hist";
    if (promc_histogram_new(&hist, &o))
        return 1;
    o.name = "scratch";
    if (promc_counter_new(&scratch, &o))
        return 1;
    long base = atomic_load(&live_blocks);

    pthread_t u[UPDATERS], c[CHURNERS], s[SCRAPERS];
    for (long i = 0; i < CHURNERS; i++)
        pthread_create(&c[i], NULL, churner, (void *)i);
    for (long i = 0; i < SCRAPERS; i++)
        pthread_create(&s[i], NULL, scraper,
                       (void *)(long)(i % 2 ? PROMC_FORMAT_OPENMETRICS : PROMC_FORMAT_TEXT));
    for (long i = 0; i < UPDATERS; i++)
        pthread_create(&u[i], NULL, updater, (void *)i);
    for (int i = 0; i < UPDATERS; i++)
        pthread_join(u[i], NULL);
    /* Let the churn go on a little without the updaters, then stop. */
    long until = atomic_load(&churned) + 20000;
    while (atomic_load(&churned) < until)
        sched_yield();
    atomic_store(&done, true);
    for (int i = 0; i < CHURNERS; i++)
        pthread_join(c[i], NULL);
    for (int i = 0; i < SCRAPERS; i++)
        pthread_join(s[i], NULL);

    /* Exact values of the children that were never removed. */
    double per = (double)UPDATERS * ROUNDS / STABLE;
    for (int k = 0; k < STABLE; k++) {
        char key[32];
        stable_key(key, sizeof key, k);
        promc_str_t v[] = {promc_str(key)};
        promc_counter_t *ck;
        promc_gauge_t *gk;
        promc_histogram_t *hk;
        if (promc_counter_labels(ctr, v, 1, &ck) || promc_gauge_labels(gauge, v, 1, &gk) ||
            promc_histogram_labels(hist, v, 1, &hk))
            return 1;
        if (promc_counter_value(ck) != per * 3 || promc_gauge_value(gk) != per ||
            promc_histogram_count(hk) != (uint64_t)per) {
            fprintf(stderr, "%s: counter %f gauge %f histogram %llu, wanted %f %f %f\n", key,
                    promc_counter_value(ck), promc_gauge_value(gk),
                    (unsigned long long)promc_histogram_count(hk), per * 3, per, per);
            fails++;
        }
    }
    /* Only the stable children are left; one more scrape lets the last batches go. */
    for (int i = 0; i < 3; i++)
        if (promc_registry_write(reg, NULL, discard, NULL) != 0)
            return 1;
    long created = atomic_load(&churned) * 3;
    long left = atomic_load(&live_blocks) - base;
    const char *want_path = getenv("PROMC_RECLAIM_FENCES") ? "fences" : "membarrier";
    const char *path = promc__reclaim_uses_membarrier() ? "membarrier" : "fences";
    printf("stress_reclaim: readers ordered by %s\n", path);
    if (strcmp(path, want_path) != 0)
        fprintf(stderr, "note: %s was asked for, the system gives %s\n", want_path, path);
    if (getenv("PROMC_RECLAIM_FENCES") && strcmp(path, "fences") != 0) {
        fprintf(stderr, "PROMC_RECLAIM_FENCES=1 did not select the fence path\n");
        fails++;
    }
    printf("stress_reclaim: %ld short-lived children created and removed, %ld scrapes; %ld "
           "library blocks live beyond the start\n",
           created, atomic_load(&scrapes), left);
    /* 3 * STABLE children, up to 50 scratch ones, their tables, and at most a batch or two per
     * metric not yet freed:
     * a few hundred blocks, against the tens of thousands of children churned. */
    if (created < 30000 || left > 1000) {
        fprintf(stderr, "removed children's memory did not come back (%ld blocks live)\n", left);
        fails++;
    }
    promc_counter_free(ctr);
    promc_gauge_free(gauge);
    promc_histogram_free(hist);
    promc_counter_free(scratch);
    promc_registry_free(reg);
    if (atomic_load(&live_blocks) != 0) {
        fprintf(stderr, "%ld blocks still live after freeing everything\n",
                atomic_load(&live_blocks));
        fails++;
    }
    printf("%d passed, %d failed\n", fails ? 0 : 1, fails ? 1 : 0);
    return fails ? 1 : 0;
}
