/* SPDX-License-Identifier: Apache-2.0 */
/* Native histograms: the options refused with the field named, the schema for a factor, the
 * reset rule with a fake clock, buckets spread over the whole float range, and observers on
 * several threads with scrapes between them (a stress case, run under TSan too): every reading
 * is whole (the buckets and the zero bucket add up to the count) and nothing is lost.  Agreement
 * with client_golang bucket by bucket is tests/conformance/protobuf_vs_golang.py. */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "check.h"
#include "metric_internal.h"
#include "native.h"

static promc_registry_t *fresh(void)
{
    promc_registry_t *r = NULL;
    CHECK_RC(promc_registry_new(&r), 0);
    if (r)
        promc_registry_set_created(r, false);
    return r;
}

static void options(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_histogram_t *h;
    static const struct {
        promc_metric_opts_t o;
        const char *field;
    } bad[] = {
        {{.native_bucket_factor = 1.0}, "native_bucket_factor"},
        {{.native_bucket_factor = 0.5}, "native_bucket_factor"},
        {{.native_bucket_factor = NAN}, "native_bucket_factor"},
        {{.native_bucket_factor = INFINITY}, "native_bucket_factor"},
        {{.native_max_buckets = 10}, "native_bucket_factor > 1"},
        {{.native_zero_threshold = 1e-9}, "native_bucket_factor > 1"},
        {{.native_bucket_factor = 1.1, .native_zero_threshold = NAN}, "native_zero_threshold"},
        {{.native_bucket_factor = 1.1, .native_min_reset_duration = -1},
         "native_min_reset_duration"},
        {{.native_bucket_factor = 1.1, .native_max_zero_threshold = -1},
         "native_max_zero_threshold"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        promc_metric_opts_t o = bad[i].o;
        o.name = "h";
        o.help = "H.";
        o.registry = r;
        CHECK_RC(promc_histogram_new(&h, &o), PROMC_EINVAL);
        CHECK(strstr(promc_last_error(), bad[i].field) != NULL);
    }
    /* Nothing was registered: the name is free. */
    REQUIRE_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "h",
                                                              .help = "H.",
                                                              .registry = r,
                                                              .native_bucket_factor = 1.1}),
               0);
    promc_histogram_free(h);
    /* The schema: the largest whose factor is at most the one asked, within -4..8. */
    static const struct {
        double factor;
        int32_t schema;
    } s[] = {{1.00001, 8}, {1.003, 8}, {1.006, 7}, {1.1, 3}, {1.0906, 3}, {1.0905, 4}, {1.09, 4},
             {1.5, 1},     {2, 0},     {3, 0},     {4, -1},  {16, -2},    {1e9, -4}};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        int32_t got = promc__native_schema_for(s[i].factor);
        CHECK(got == s[i].schema);
        if (got != s[i].schema)
            fprintf(stderr, "factor %g: schema %d, want %d\n", s[i].factor, got, s[i].schema);
    }
    promc_registry_free(r);
}

static int64_t fake_ns;
static int64_t fake_clock(void)
{
    return fake_ns;
}

static void reading(promc_histogram_t *h, promc__native_snap_t *s)
{
    REQUIRE_RC(promc__native_snapshot(h->nh, s), 0);
}

static uint64_t bucket_total(const promc__native_side_snap_t *side)
{
    int64_t acc = 0, total = 0;
    for (size_t i = 0; i < side->n_deltas; i++) {
        acc += side->deltas[i];
        total += acc;
    }
    return (uint64_t)total;
}

static size_t populated(const promc__native_side_snap_t *side)
{
    int64_t acc = 0;
    size_t n = 0;
    for (size_t i = 0; i < side->n_deltas; i++) {
        acc += side->deltas[i];
        n += acc != 0;
    }
    return n;
}

static void reset_rule(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_histogram_t *h;
    REQUIRE_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "h",
                                                              .help = "H.",
                                                              .registry = r,
                                                              .native_bucket_factor = 1.1,
                                                              .native_max_buckets = 10,
                                                              .native_min_reset_duration = 60}),
               0);
    REQUIRE(h->nh != NULL);
    fake_ns = 1000000000;
    promc__native_set_clock(h->nh, fake_clock);
    /* 30 s after the last reset: the limit halves the resolution instead. */
    fake_ns += 30 * 1000000000LL;
    for (int i = 1; i <= 40; i++)
        promc_histogram_observe(h, i);
    promc__native_snap_t s;
    reading(h, &s);
    CHECK(s.count == 40 && s.schema < 3);
    CHECK(bucket_total(&s.pos) == 40);
    CHECK(populated(&s.pos) <= 10);
    int32_t reduced = s.schema;
    promc__native_snap_free(&s);
    /* 61 s: the next observation over the limit resets everything but itself. */
    fake_ns += 31 * 1000000000LL;
    for (int i = 0; i < 200; i++)
        promc_histogram_observe(h, 1e6 * (i + 1));
    reading(h, &s);
    CHECK(s.schema == 3 || s.schema < 3); /* reset to 3, perhaps reduced again since */
    CHECK(s.count < 240 && s.count > 0);
    CHECK(bucket_total(&s.pos) + s.zero_count == s.count);
    fprintf(stderr, "reset_rule: schema %d after the limit, then %d; %llu left after the reset\n",
            reduced, s.schema, (unsigned long long)s.count);
    promc__native_snap_free(&s);
    promc_histogram_free(h);
    promc_registry_free(r);
}

static void whole_range(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_histogram_t *h;
    REQUIRE_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "h",
                                                              .help = "H.",
                                                              .registry = r,
                                                              .native_bucket_factor = 1.0001,
                                                              .native_zero_threshold = -1}),
               0);
    /* From the smallest subnormal to DBL_MAX and the infinities, both signs, schema 8. */
    double v[] = {DBL_TRUE_MIN, DBL_MIN, 1e-300, 1e-10, 0.5, 1, 2, 1e10, 1e300, DBL_MAX, INFINITY};
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++) {
        promc_histogram_observe(h, v[i]);
        promc_histogram_observe(h, -v[i]);
    }
    promc_histogram_observe(h, 0);
    promc_histogram_observe(h, NAN); /* counted, in no bucket */
    promc__native_snap_t s;
    reading(h, &s);
    CHECK(s.schema == 8 && s.zero_threshold == 0);
    CHECK(s.count == 2 * n + 2);
    CHECK(s.zero_count == 1);
    CHECK(bucket_total(&s.pos) == n && bucket_total(&s.neg) == n);
    /* Far apart, a span each, but DBL_MAX's bucket and the infinities' are neighbours. */
    CHECK(s.pos.n_spans == n - 1 && s.neg.n_spans == n - 1);
    promc__native_snap_free(&s);
    /* The text formats still write the classic part: +Inf holds every observation. */
    char *t;
    size_t len;
    REQUIRE_RC(promc_registry_write_buf(r, NULL, &t, &len), 0);
    CHECK(strstr(t, "h_bucket{le=\"+Inf\"} 24.0\nh_count 24.0\nh_sum NaN\n") != NULL);
    promc_buf_free(t);
    promc_histogram_free(h);
    promc_registry_free(r);
}

/* Two threads alive together (so in different stripes) observe halves of a set of values; the
 * merged reading must equal that of one histogram that got them all on one thread. */
typedef struct half_arg {
    promc_histogram_t *h;
    int parity;
    pthread_barrier_t *b;
} half_arg_t;

static double half_value(int i)
{
    return ldexp(1.0 + (i % 97) / 97.0, (i % 23) - 11) * (i % 5 == 0 ? -1 : 1);
}

static void *half(void *p)
{
    half_arg_t *a = p;
    for (int i = a->parity; i < 4000; i += 2)
        promc_histogram_observe(a->h, half_value(i));
    pthread_barrier_wait(a->b); /* both alive until both are done */
    return NULL;
}

static bool same_side(const promc__native_side_snap_t *x, const promc__native_side_snap_t *y)
{
    if (x->n_spans != y->n_spans || x->n_deltas != y->n_deltas)
        return false;
    for (size_t i = 0; i < x->n_spans; i++)
        if (x->spans[i].offset != y->spans[i].offset || x->spans[i].length != y->spans[i].length)
            return false;
    return memcmp(x->deltas, y->deltas, x->n_deltas * sizeof x->deltas[0]) == 0;
}

static void stripes_merge(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_histogram_t *two, *one;
    promc_metric_opts_t o = {
        .name = "two", .help = "T.", .registry = r, .native_bucket_factor = 1.1};
    REQUIRE_RC(promc_histogram_new(&two, &o), 0);
    o.name = "one";
    REQUIRE_RC(promc_histogram_new(&one, &o), 0);
    for (int i = 0; i < 4000; i++)
        promc_histogram_observe(one, half_value(i));
    pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, 2);
    half_arg_t a0 = {two, 0, &b}, a1 = {two, 1, &b};
    pthread_t t0, t1;
    REQUIRE(pthread_create(&t0, NULL, half, &a0) == 0);
    REQUIRE(pthread_create(&t1, NULL, half, &a1) == 0);
    pthread_join(t0, NULL);
    pthread_join(t1, NULL);
    pthread_barrier_destroy(&b);
    promc__native_snap_t x, y;
    reading(two, &x);
    reading(one, &y);
    CHECK(x.count == 4000 && y.count == 4000);
    CHECK(x.schema == y.schema && x.zero_count == y.zero_count);
    CHECK(same_side(&x.pos, &y.pos) && same_side(&x.neg, &y.neg));
    CHECK(fabs(x.sum - y.sum) <= 1e-9 * fabs(y.sum));
    promc__native_snap_free(&x);
    promc__native_snap_free(&y);
    promc_histogram_free(two);
    promc_histogram_free(one);
    promc_registry_free(r);
}

static promc_histogram_t *race_h;
static atomic_bool race_stop;

static void *observer(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    unsigned long n = 0;
    while (!atomic_load_explicit(&race_stop, memory_order_relaxed)) {
        seed = seed * 1103515245u + 12345u;
        double x = ldexp(1.0 + (seed >> 8) / 16777216.0, (int)(seed % 40) - 20);
        promc_histogram_observe(race_h, (seed & 1) ? x : -x);
        n++;
    }
    return (void *)(uintptr_t)n;
}

static void concurrent_observers(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    REQUIRE_RC(promc_histogram_new(&race_h, &(promc_metric_opts_t){.name = "h",
                                                                   .help = "H.",
                                                                   .registry = r,
                                                                   .native_bucket_factor = 1.01,
                                                                   .native_max_buckets = 300}),
               0);
    atomic_store(&race_stop, false);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        REQUIRE(pthread_create(&th[i], NULL, observer, (void *)(uintptr_t)(i + 1)) == 0);
    int bad = 0;
    uint64_t last = 0;
    for (int k = 0; k < 200; k++) {
        promc__native_snap_t s;
        reading(race_h, &s);
        /* Whole: every observation counted is in a bucket; counts only grow. */
        if (bucket_total(&s.pos) + bucket_total(&s.neg) + s.zero_count != s.count || s.count < last)
            bad++;
        last = s.count;
        promc__native_snap_free(&s);
        char *t;
        size_t len;
        REQUIRE_RC(promc_registry_write_buf(
                       r, &(promc_expose_opts_t){.format = PROMC_FORMAT_PROTOBUF}, &t, &len),
                   0);
        promc_buf_free(t);
    }
    atomic_store(&race_stop, true);
    uint64_t total = 0;
    for (int i = 0; i < 3; i++) {
        void *rv;
        pthread_join(th[i], &rv);
        total += (uint64_t)(uintptr_t)rv;
    }
    promc__native_snap_t s;
    reading(race_h, &s);
    CHECK(bad == 0);
    CHECK(s.count == total);
    CHECK(bucket_total(&s.pos) + bucket_total(&s.neg) + s.zero_count == total);
    fprintf(stderr, "concurrent_observers: %llu observations, schema %d, %zu+%zu buckets\n",
            (unsigned long long)total, s.schema, populated(&s.pos), populated(&s.neg));
    promc__native_snap_free(&s);
    promc_histogram_free(race_h);
    promc_registry_free(r);
}

static const check_case_t cases[] = {CHECK_CASE(options), CHECK_CASE(reset_rule),
                                     CHECK_CASE(whole_range), CHECK_CASE(stripes_merge),
                                     CHECK_CASE(concurrent_observers)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_native", cases, argc, argv);
}
