/* SPDX-License-Identifier: Apache-2.0 */
/* Library micro-benchmarks L1-L6 for promc.  The Go, C++ and Python peers in bench/peers/ run the
 * same workloads with the same inputs and print the same RESULT line, which bench/run.sh collects.
 *
 * Usage: bench_promc WORKLOAD N
 *   L1   N increments of one counter, one thread
 *   L2   N increments of one counter from each of two threads (the final value must be 2N)
 *   L3   N labelled increments, the child looked up by its label value each time (1,000 values)
 *   L3k  N increments on a kept child handle
 *   L6   N histogram observations, default buckets, values spread over the buckets
 *   L4/L5 render a family with N children (label "id") to a sink that only counts bytes
 *   L7   N churn cycles: create the child for a new value ("c<i>"), increment it, remove it;
 *        reports the RSS the N cycles added (growth_kb)
 *   L7m  the same while a second thread that has looked a child up exists, so that reclamation
 *        takes its multithreaded path (a membarrier call per 128 KiB retired); promc only
 *
 * One workload per process, so that peak RSS and the RSS growth belong to that workload alone. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <promc/promc.h>

#include "bench_mem.h"

#define VALUES     1000
#define OBS_VALUES 4096

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_promc: %s: %s (%s)\n", what, promc_strerror(rc), promc_last_error());
    exit(1);
}

static promc_registry_t *new_registry(void)
{
    promc_registry_t *r;
    int rc = promc_registry_new(&r);
    if (rc != 0)
        die("promc_registry_new", rc);
    /* client_golang and prometheus-cpp have no _created sample and the Python peer turns it off, so
     * every implementation renders the same samples. */
    promc_registry_set_created(r, false);
    return r;
}

static promc_counter_t *new_counter(promc_registry_t *r, const char *name, int labelled)
{
    static const char *const id[] = {"id"};
    promc_counter_t *c;
    promc_metric_opts_t o = {.name = name, .help = "Benchmark counter.", .registry = r};
    if (labelled) {
        o.label_names = id;
        o.label_count = 1;
    }
    int rc = promc_counter_new(&c, &o);
    if (rc != 0)
        die("promc_counter_new", rc);
    return c;
}

static void result(const char *workload, long n, double ns, const char *check)
{
    printf("RESULT impl=promc workload=%s n=%ld ns_op=%.3f ms=%.3f check=%s peak_rss_kb=%ld\n",
           workload, n, ns / (double)n, ns / 1e6, check, bench_peak_rss_kb());
}

static void bench_l1(long n)
{
    promc_registry_t *r = new_registry();
    promc_counter_t *c = new_counter(r, "bench_l1", 0);
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        promc_counter_inc(c);
    double t = now_ns() - t0;
    result("L1", n, t, promc_counter_value(c) == (double)n ? "ok" : "WRONG");
}

struct l2_arg {
    promc_counter_t *c;
    long n;
    pthread_barrier_t *start;
};

static void *l2_thread(void *p)
{
    struct l2_arg *a = p;
    pthread_barrier_wait(a->start);
    for (long i = 0; i < a->n; i++)
        promc_counter_inc(a->c);
    return NULL;
}

static void bench_l2(long n)
{
    promc_registry_t *r = new_registry();
    promc_counter_t *c = new_counter(r, "bench_l2", 0);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 3);
    struct l2_arg a = {c, n, &start};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, l2_thread, &a) != 0) {
            fprintf(stderr, "bench_promc: pthread_create failed\n");
            exit(1);
        }
    /* The clock starts before the release: read after it, a preempted main thread could start
     * it when the workers are already done. */
    double t0 = now_ns();
    pthread_barrier_wait(&start);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double t = now_ns() - t0;
    pthread_barrier_destroy(&start);
    /* ns_op is wall-clock time over all 2N increments, as Go's RunParallel reports it. */
    result("L2", 2 * n, t, promc_counter_value(c) == 2.0 * (double)n ? "ok" : "WRONG");
}

static void bench_l3(long n, int kept)
{
    promc_registry_t *r = new_registry();
    promc_counter_t *c = new_counter(r, "bench_l3", 1);
    static char text[VALUES][8];
    promc_str_t vals[VALUES];
    for (int i = 0; i < VALUES; i++) {
        int len = snprintf(text[i], sizeof text[i], "v%d", i);
        vals[i] = (promc_str_t){text[i], (size_t)len};
    }
    promc_counter_t *child;
    int rc;
    double t;
    if (kept) {
        rc = promc_counter_labels(c, &vals[7], 1, &child);
        if (rc != 0)
            die("promc_counter_labels", rc);
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            promc_counter_inc(child);
        t = now_ns() - t0;
        result("L3k", n, t, promc_counter_value(child) == (double)n ? "ok" : "WRONG");
        return;
    }
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        rc = promc_counter_labels(c, &vals[i % VALUES], 1, &child);
        if (rc != 0)
            die("promc_counter_labels", rc);
        promc_counter_inc(child);
    }
    t = now_ns() - t0;
    /* Each value was used n / VALUES times, give or take one. */
    rc = promc_counter_labels(c, &vals[0], 1, &child);
    if (rc != 0)
        die("promc_counter_labels", rc);
    double want = (double)((n + VALUES - 1) / VALUES);
    result("L3", n, t, promc_counter_value(child) == want ? "ok" : "WRONG");
}

/* The same 4,096 values in every implementation: 0.001 * 10^(4u) for u from a multiplicative hash,
 * so observations fall log-uniformly between 1 ms and 10 s and reach every default bucket. */
static void obs_values(double *v)
{
    for (uint32_t i = 0; i < OBS_VALUES; i++) {
        uint32_t h = i * 2654435761u;
        double u = (double)h / 4294967296.0;
        v[i] = 0.001 * pow(10.0, 4.0 * u);
    }
}

static void bench_l6(long n)
{
    promc_registry_t *r = new_registry();
    promc_histogram_t *h;
    int rc = promc_histogram_new(
        &h,
        &(promc_metric_opts_t){.name = "bench_l6", .help = "Benchmark histogram.", .registry = r});
    if (rc != 0)
        die("promc_histogram_new", rc);
    static double v[OBS_VALUES];
    obs_values(v);
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        promc_histogram_observe(h, v[i & (OBS_VALUES - 1)]);
    double t = now_ns() - t0;
    result("L6", n, t, promc_histogram_count(h) == (uint64_t)n ? "ok" : "WRONG");
}

/* L8: L6's observations, each with an exemplar (a 16-hex-digit trace ID); L9: the same values
 * into a summary with the quantiles 0.5/0.05, 0.9/0.01, 0.99/0.001 (client_golang's
 * Objectives). */
static void bench_l8(long n)
{
    promc_registry_t *r = new_registry();
    promc_histogram_t *h;
    int rc = promc_histogram_new(
        &h,
        &(promc_metric_opts_t){.name = "bench_l8", .help = "Benchmark histogram.", .registry = r});
    if (rc != 0)
        die("promc_histogram_new", rc);
    static double v[OBS_VALUES];
    obs_values(v);
    promc_label_t ex[] = {{PROMC_STR("trace_id"), PROMC_STR("4bf92f3577b34da6")}};
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        if ((rc = promc_histogram_observe_exemplar(h, v[i & (OBS_VALUES - 1)], ex, 1)) != 0)
            die("promc_histogram_observe_exemplar", rc);
    double t = now_ns() - t0;
    result("L8", n, t, promc_histogram_count(h) == (uint64_t)n ? "ok" : "WRONG");
}

static void bench_l9(long n)
{
    promc_registry_t *r = new_registry();
    promc_summary_t *s;
    static const promc_quantile_t q[] = {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};
    int rc = promc_summary_new(&s, &(promc_metric_opts_t){.name = "bench_l9",
                                                          .help = "Benchmark summary.",
                                                          .registry = r,
                                                          .quantiles = q,
                                                          .quantile_count = 3});
    if (rc != 0)
        die("promc_summary_new", rc);
    static double v[OBS_VALUES];
    obs_values(v);
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        promc_summary_observe(s, v[i & (OBS_VALUES - 1)]);
    double t = now_ns() - t0;
    result("L9", n, t, promc_summary_count(s) == (uint64_t)n ? "ok" : "WRONG");
}

/* L10: L6's values into a native histogram (factor 1.1, no classic buckets), one thread; L10m: the
 * same from two threads at once into one histogram (ns = wall / all observations, as L2). */
struct l10_arg {
    promc_histogram_t *h;
    long n;
    pthread_barrier_t *start;
    const double *v;
};

static void *l10_thread(void *p)
{
    struct l10_arg *a = p;
    pthread_barrier_wait(a->start);
    for (long i = 0; i < a->n; i++)
        promc_histogram_observe(a->h, a->v[i & (OBS_VALUES - 1)]);
    return NULL;
}

static void bench_l10(long n, int threads)
{
    promc_registry_t *r = new_registry();
    promc_histogram_t *h;
    int rc = promc_histogram_new(&h, &(promc_metric_opts_t){.name = "bench_l10",
                                                            .help = "Benchmark histogram.",
                                                            .registry = r,
                                                            .native_bucket_factor = 1.1});
    if (rc != 0)
        die("promc_histogram_new", rc);
    static double v[OBS_VALUES];
    obs_values(v);
    double t;
    if (threads == 1) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            promc_histogram_observe(h, v[i & (OBS_VALUES - 1)]);
        t = now_ns() - t0;
    } else {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 3);
        struct l10_arg a = {h, n, &start, v};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            if (pthread_create(&th[i], NULL, l10_thread, &a) != 0) {
                fprintf(stderr, "bench_promc: pthread_create failed\n");
                exit(1);
            }
        double t0 = now_ns();
        pthread_barrier_wait(&start);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        t = now_ns() - t0;
        pthread_barrier_destroy(&start);
        n *= 2;
    }
    result(threads == 1 ? "L10" : "L10m", n, t,
           promc_histogram_count(h) == (uint64_t)n ? "ok" : "WRONG");
}

struct sink_count {
    size_t bytes;
};

static int count_sink(void *ud, const void *data, size_t len)
{
    (void)data;
    ((struct sink_count *)ud)->bytes += len;
    return 0;
}

static void bench_render(const char *workload, long n)
{
    /* L11: L5's registry rendered in protobuf, as Prometheus with native histograms asks. */
    promc_expose_opts_t opts = {.format = strcmp(workload, "L11") == 0 ? PROMC_FORMAT_PROTOBUF
                                                                       : PROMC_FORMAT_TEXT};
    long rss0 = bench_rss_kb();
    promc_registry_t *r = new_registry();
    promc_counter_t *c = new_counter(r, "bench_render", 1);
    char buf[24];
    double s0 = now_ns();
    for (long i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "%ld", i);
        promc_str_t v = {buf, (size_t)len};
        promc_counter_t *child;
        int rc = promc_counter_labels(c, &v, 1, &child);
        if (rc != 0)
            die("promc_counter_labels", rc);
        promc_counter_inc(child);
    }
    double setup = now_ns() - s0;
    long rss1 = bench_rss_kb();
    long peak_setup = bench_peak_rss_kb();
    int reset = bench_reset_peak();

    struct sink_count sc = {0};
    double t0 = now_ns();
    int rc = promc_registry_write(r, &opts, count_sink, &sc);
    double t = now_ns() - t0;
    if (rc != 0)
        die("promc_registry_write", rc);
    long peak_render = bench_peak_rss_kb();
    long peak = peak_render > peak_setup ? peak_render : peak_setup;
    printf("RESULT impl=promc workload=%s n=%ld ns_op=%.3f ms=%.3f check=ok peak_rss_kb=%ld "
           "bytes=%zu setup_ms=%.1f setup_kb=%ld bytes_per_child=%.1f render_growth_kb=%s%ld\n",
           workload, n, t / (double)n, t / 1e6, peak, sc.bytes, setup / 1e6, rss1 - rss0,
           (double)(rss1 - rss0) * 1024.0 / (double)n, reset == 0 ? "" : "~", peak_render - rss1);
}

/* "c" and the decimal digits of i, as std::to_string and strconv.FormatInt make them in the C++ and
 * Go peers (snprintf would cost this loop more than the library does). */
static size_t churn_key(char *buf, long i)
{
    char tmp[24];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    buf[0] = 'c';
    for (size_t j = 0; j < k; j++)
        buf[1 + j] = tmp[k - 1 - j];
    return k + 1;
}

struct l7m_arg {
    promc_counter_t *c;
    pthread_barrier_t *looked, *done;
};

static void *l7m_reader(void *p)
{
    struct l7m_arg *a = p;
    promc_str_t v = {"other", 5};
    promc_counter_t *child;
    if (promc_counter_labels(a->c, &v, 1, &child) != 0)
        exit(1);
    pthread_barrier_wait(a->looked);
    pthread_barrier_wait(a->done);
    return NULL;
}

static void bench_l7(long n, bool threaded)
{
    promc_registry_t *r = new_registry();
    promc_counter_t *c = new_counter(r, "bench_l7", 1);
    pthread_barrier_t looked, done;
    pthread_t reader;
    struct l7m_arg arg = {c, &looked, &done};
    if (threaded) {
        pthread_barrier_init(&looked, NULL, 2);
        pthread_barrier_init(&done, NULL, 2);
        if (pthread_create(&reader, NULL, l7m_reader, &arg) != 0)
            exit(1);
        pthread_barrier_wait(&looked);
    }
    promc_metric_t *m = promc_counter_metric(c);
    char buf[24];
    long rss0 = bench_rss_kb();
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        promc_str_t v = {buf, churn_key(buf, i)};
        promc_counter_t *child;
        int rc = promc_counter_labels(c, &v, 1, &child);
        if (rc != 0)
            die("promc_counter_labels", rc);
        promc_counter_inc(child);
        rc = promc_metric_remove(m, &v, 1);
        if (rc != 0)
            die("promc_metric_remove", rc);
    }
    double t = now_ns() - t0;
    long rss1 = bench_rss_kb();
    if (threaded) {
        pthread_barrier_wait(&done);
        pthread_join(reader, NULL);
        promc_str_t v = {"other", 5};
        if (promc_metric_remove(m, &v, 1) != 0)
            exit(1);
    }
    /* Every child is gone: the family renders its header only. */
    char *out;
    size_t len;
    int rc = promc_registry_write_buf(r, NULL, &out, &len);
    if (rc != 0)
        die("promc_registry_write_buf", rc);
    bool ok = strstr(out, "bench_l7_total{") == NULL;
    promc_buf_free(out);
    printf("RESULT impl=promc workload=%s n=%ld ns_op=%.3f ms=%.3f check=%s peak_rss_kb=%ld "
           "growth_kb=%ld\n",
           threaded ? "L7m" : "L7", n, t / (double)n, t / 1e6, ok ? "ok" : "WRONG",
           bench_peak_rss_kb(), rss1 - rss0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_promc L1|L2|L3|L3k|L6|L4|L5|L7 N\n");
        return 2;
    }
    const char *w = argv[1];
    long n = strtol(argv[2], NULL, 10);
    if (n <= 0) {
        fprintf(stderr, "bench_promc: N must be positive\n");
        return 2;
    }
    if (strcmp(w, "L1") == 0)
        bench_l1(n);
    else if (strcmp(w, "L2") == 0)
        bench_l2(n);
    else if (strcmp(w, "L3") == 0)
        bench_l3(n, 0);
    else if (strcmp(w, "L3k") == 0)
        bench_l3(n, 1);
    else if (strcmp(w, "L7") == 0)
        bench_l7(n, false);
    else if (strcmp(w, "L7m") == 0)
        bench_l7(n, true);
    else if (strcmp(w, "L8") == 0)
        bench_l8(n);
    else if (strcmp(w, "L9") == 0)
        bench_l9(n);
    else if (strcmp(w, "L6") == 0)
        bench_l6(n);
    else if (strcmp(w, "L10") == 0)
        bench_l10(n, 1);
    else if (strcmp(w, "L10m") == 0)
        bench_l10(n, 2);
    else if (strcmp(w, "L4") == 0 || strcmp(w, "L5") == 0 || strcmp(w, "L11") == 0)
        bench_render(w, n);
    else {
        fprintf(stderr, "bench_promc: unknown workload '%s'\n", w);
        return 2;
    }
    return 0;
}
