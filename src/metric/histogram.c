/* Histogram and summary updates.  A histogram child keeps one non-cumulative count per bucket and
 * the sum; _count is the sum of the bucket counts when read, so _count always equals the +Inf
 * bucket in a scrape.  The bucket is found by counting the bounds below the value for the usual few
 * bounds (no branch to mispredict) and by binary search past 32. */
#include "metric/metric_internal.h"

static size_t bucket_index(const promc_metric_t *m, double v)
{
    const double *b = m->bounds;
    size_t n = m->bound_count;
    if (__builtin_expect(v != v, 0))
        return n; /* NaN: no bucket, as client_python */
    if (n <= 32) {
        /* Branch-free: the index is the number of bounds below v.  Varied values would make a
         * scan's exit branch mispredict on most observations. */
        size_t i = 0;
        for (size_t k = 0; k < n; k++)
            i += v > b[k];
        return i;
    }
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v <= b[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The first thread to observe into a child owns half of its cells and updates them with plain
 * stores; other threads use the shared half with atomic operations.  A read adds the halves. */
void promc_histogram_observe(promc_histogram_t *h, double value)
{
    const promc_metric_t *m = h->s.metric;
    size_t n = m->bound_count;
    size_t i = bucket_index(m, value);
    if (promc__owns(&h->owner, promc__slot())) {
        promc__owned_add_double(&h->own_sum_bits, value);
        if (i < n)
            promc__owned_add_u64(&h->counts[n + i], 1);
        return;
    }
    promc__atomic_add_double(&h->sum_bits, value);
    if (i < n)
        atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
}

uint64_t promc_histogram_count(const promc_histogram_t *h)
{
    uint64_t total = 0;
    for (size_t i = 0; i < h->s.metric->bound_count; i++)
        total += promc__histogram_bucket(h, i);
    return total;
}

double promc_histogram_sum(const promc_histogram_t *h)
{
    promc_histogram_t *x = (promc_histogram_t *)h;
    return promc__bits_to_double(atomic_load_explicit(&x->sum_bits, memory_order_relaxed)) +
           promc__bits_to_double(atomic_load_explicit(&x->own_sum_bits, memory_order_relaxed));
}

void promc_summary_observe(promc_summary_t *s, double value)
{
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    promc__atomic_add_double(&s->sum_bits, value);
}

uint64_t promc_summary_count(const promc_summary_t *s)
{
    return atomic_load_explicit(&((promc_summary_t *)s)->count, memory_order_relaxed);
}

double promc_summary_sum(const promc_summary_t *s)
{
    return promc__bits_to_double(
        atomic_load_explicit(&((promc_summary_t *)s)->sum_bits, memory_order_relaxed));
}

void promc_histogram_observe_since(promc_histogram_t *h, promc_timer_t t)
{
    promc_histogram_observe(h, promc_timer_elapsed(t));
}

void promc_summary_observe_since(promc_summary_t *s, promc_timer_t t)
{
    promc_summary_observe(s, promc_timer_elapsed(t));
}
