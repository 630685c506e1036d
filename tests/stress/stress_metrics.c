/* SPDX-License-Identifier: Apache-2.0 */
/* Concurrency stress, run under ThreadSanitizer by `make test`: writers increment a striped
 * counter, labelled children they resolve (and so create) concurrently, a histogram and a gauge,
 * while other threads scrape in both formats and churn a family of short-lived children.  Every
 * final value must be exact: no update may be lost. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>

#define WRITERS 4
#define ITER    200000
#define KEYS    64

static promc_registry_t *reg;
static promc_counter_t *plain, *labelled, *churn;
static promc_histogram_t *hist;
static promc_gauge_t *gauge;
static atomic_bool done;
static atomic_long scrapes;

static void *writer(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < ITER; i++) {
        promc_counter_inc(plain);
        char key[16];
        snprintf(key, sizeof key, "k%d", (int)((i + id) % KEYS));
        promc_str_t v[] = {promc_str(key)};
        promc_counter_t *child;
        if (promc_counter_labels(labelled, v, 1, &child) != 0)
            abort();
        promc_counter_inc(child);
        promc_histogram_observe(hist, (double)(i % 100) / 10.0);
        promc_gauge_add(gauge, 1.0);
    }
    return NULL;
}

static int discard(void *ud, const void *p, size_t n)
{
    (void)p;
    *(size_t *)ud += n;
    return 0;
}

static void *scraper(void *arg)
{
    promc_format_t f = (promc_format_t)(long)arg;
    while (!atomic_load(&done)) {
        size_t bytes = 0;
        if (promc_registry_write(reg, &(promc_expose_opts_t){.format = f}, discard, &bytes) != 0)
            abort();
        atomic_fetch_add(&scrapes, 1);
    }
    return NULL;
}

static void *churner(void *arg)
{
    (void)arg;
    for (int i = 0; !atomic_load(&done); i++) {
        char key[16];
        snprintf(key, sizeof key, "c%d", i % 50);
        promc_str_t v[] = {promc_str(key)};
        /* One call: the child may be removed by a concurrent clear at any moment. */
        if (promc_counter_labels_inc(churn, v, 1) != 0)
            abort();
        /* Another thread may have removed or cleared it first: 0 or PROMC_ENOENT. */
        if (i % 3 == 0) {
            int rc = promc_metric_remove(promc_counter_metric(churn), v, 1);
            if (rc != 0 && rc != PROMC_ENOENT)
                abort();
        }
        if (i % 997 == 0)
            promc_metric_clear(promc_counter_metric(churn));
    }
    return NULL;
}

/* Registers and frees metrics in the registry being scraped. */
static void *registrar(void *arg)
{
    (void)arg;
    for (int i = 0; !atomic_load(&done); i++) {
        promc_gauge_t *g;
        if (promc_gauge_new(&g, &(promc_metric_opts_t){
                                    .name = "temporary", .help = "T.", .registry = reg}) != 0)
            abort();
        promc_gauge_set(g, i);
        promc_gauge_free(g);
    }
    return NULL;
}

int main(void)
{
    int fails = 0;
    if (promc_registry_new(&reg))
        return 1;
    const char *ln[] = {"key"};
    if (promc_counter_new(&plain,
                          &(promc_metric_opts_t){.name = "plain", .help = "P.", .registry = reg}) ||
        promc_counter_new(&labelled, &(promc_metric_opts_t){.name = "labelled",
                                                            .help = "L.",
                                                            .label_names = ln,
                                                            .label_count = 1,
                                                            .registry = reg}) ||
        promc_counter_new(&churn, &(promc_metric_opts_t){.name = "churn",
                                                         .help = "C.",
                                                         .label_names = ln,
                                                         .label_count = 1,
                                                         .registry = reg}) ||
        promc_histogram_new(
            &hist, &(promc_metric_opts_t){.name = "hist", .help = "H.", .registry = reg}) ||
        promc_gauge_new(&gauge,
                        &(promc_metric_opts_t){.name = "gauge", .help = "G.", .registry = reg}))
        return 1;
    pthread_t w[WRITERS], s[2], c, r;
    for (long i = 0; i < WRITERS; i++)
        pthread_create(&w[i], NULL, writer, (void *)i);
    pthread_create(&s[0], NULL, scraper, (void *)(long)PROMC_FORMAT_TEXT);
    pthread_create(&s[1], NULL, scraper, (void *)(long)PROMC_FORMAT_OPENMETRICS);
    pthread_create(&c, NULL, churner, NULL);
    pthread_create(&r, NULL, registrar, NULL);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&done, true);
    pthread_join(s[0], NULL);
    pthread_join(s[1], NULL);
    pthread_join(c, NULL);
    pthread_join(r, NULL);

    double want = (double)WRITERS * ITER;
    if (promc_counter_value(plain) != want) {
        fprintf(stderr, "plain: %f != %f\n", promc_counter_value(plain), want);
        fails++;
    }
    double sum = 0;
    for (int k = 0; k < KEYS; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        promc_str_t v[] = {promc_str(key)};
        promc_counter_t *child;
        if (promc_counter_labels(labelled, v, 1, &child))
            return 1;
        sum += promc_counter_value(child);
    }
    if (sum != want) {
        fprintf(stderr, "labelled: %f != %f\n", sum, want);
        fails++;
    }
    if (promc_histogram_count(hist) != (uint64_t)want || promc_gauge_value(gauge) != want) {
        fprintf(stderr, "histogram %llu / gauge %f != %f\n",
                (unsigned long long)promc_histogram_count(hist), promc_gauge_value(gauge), want);
        fails++;
    }
    /* The exposition agrees with the handles. */
    char *out;
    size_t len;
    if (promc_registry_write_buf(reg, NULL, &out, &len))
        return 1;
    char line[64];
    snprintf(line, sizeof line, "\nplain_total %.0f.0\n", want);
    if (want < 1e6 && !strstr(out, line)) {
        fprintf(stderr, "exposition lacks '%s'\n", line + 1);
        fails++;
    }
    if (!strstr(out, "hist_count 800000.0\n") || !strstr(out, "gauge 800000.0\n")) {
        fprintf(stderr, "exposition lacks hist_count / gauge 800000.0\n");
        fails++;
    }
    promc_buf_free(out);
    printf("stress_metrics: %ld scrapes during the run\n", atomic_load(&scrapes));
    promc_counter_free(plain);
    promc_counter_free(labelled);
    promc_counter_free(churn);
    promc_histogram_free(hist);
    promc_gauge_free(gauge);
    promc_registry_free(reg);
    printf("%d passed, %d failed\n", fails ? 0 : 1, fails ? 1 : 0);
    return fails ? 1 : 0;
}
