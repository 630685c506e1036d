/* SPDX-License-Identifier: Apache-2.0 */
/* Histograms.  A histogram child keeps one non-cumulative count per bucket and
 * the sum; _count is the sum of the bucket counts when read, so _count always equals the +Inf
 * bucket in a scrape.  The bucket is found by counting the bounds below the value for the usual few
 * bounds (no branch to mispredict) and by binary search past 32. */
#include <math.h>
#include "alloc.h"
#include "err.h"
#include "fmt.h"
#include "exemplar.h"
#include "metric_internal.h"
#include "native.h"
#include "slots.h"

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
    if (__builtin_expect(h->nh != NULL, 0)) {
        promc__native_observe(h->nh, value);
        return;
    }
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
    if (h->nh)
        return promc__native_count(h->nh);
    uint64_t total = 0;
    for (size_t i = 0; i < h->s.metric->bound_count; i++)
        total += promc__histogram_bucket(h, i);
    return total;
}

double promc_histogram_sum(const promc_histogram_t *h)
{
    promc_histogram_t *x = (promc_histogram_t *)h;
    if (x->nh)
        return promc__native_sum(x->nh);
    return promc__bits_to_double(atomic_load_explicit(&x->sum_bits, memory_order_relaxed)) +
           promc__bits_to_double(atomic_load_explicit(&x->own_sum_bits, memory_order_relaxed));
}

void promc_histogram_observe_since(promc_histogram_t *h, promc_timer_t t)
{
    promc_histogram_observe(h, promc_timer_elapsed(t));
}

/* ---- construction ------------------------------------------------------------------------------
 */

static const double default_buckets[] = {.005, .01, .025, .05, .075, .1,  .25,
                                         .5,   .75, 1.0,  2.5, 5.0,  7.5, 10.0};

const double *promc_histogram_default_buckets(size_t *count)
{
    if (count)
        *count = sizeof default_buckets / sizeof default_buckets[0];
    return default_buckets;
}

static const char *const histogram_suffixes[] = {"", "_bucket", "_sum", "_count", "_created"};

static int histogram_check(const promc_metric_opts_t *o)
{
    if (o->bucket_count && !o->buckets)
        return promc__err(PROMC_EINVAL, "bucket_count without buckets");
    double f = o->native_bucket_factor;
    if (f != 0 && !(f > 1 && isfinite(f)))
        return promc__err(PROMC_EINVAL,
                          "native_bucket_factor: %g is not a finite factor > 1 (0: no native "
                          "buckets)",
                          f);
    if (f == 0 && (o->native_zero_threshold != 0 || o->native_max_buckets ||
                   o->native_min_reset_duration != 0 || o->native_max_zero_threshold != 0))
        return promc__err(PROMC_EINVAL, "native_zero_threshold, native_max_buckets, "
                                        "native_min_reset_duration and native_max_zero_threshold "
                                        "need native_bucket_factor > 1");
    if (isnan(o->native_zero_threshold) || isinf(o->native_zero_threshold))
        return promc__err(PROMC_EINVAL, "native_zero_threshold: %g is not finite",
                          o->native_zero_threshold);
    if (!(o->native_min_reset_duration >= 0 && o->native_min_reset_duration < 1e9))
        return promc__err(PROMC_EINVAL,
                          "native_min_reset_duration: %g is not a duration in seconds >= 0",
                          o->native_min_reset_duration);
    if (!(o->native_max_zero_threshold >= 0 && isfinite(o->native_max_zero_threshold)))
        return promc__err(PROMC_EINVAL, "native_max_zero_threshold: %g is not finite and >= 0",
                          o->native_max_zero_threshold);
    return 0;
}

/* The upper bounds, +Inf added when missing, each formatted once for its le label. */
static int histogram_setup(promc_metric_t *m, const promc_metric_opts_t *o)
{
    const double *b = o->buckets;
    size_t nb = o->bucket_count;
    bool native = o->native_bucket_factor > 1;
    m->native_schema = PROMC__NATIVE_NONE;
    if (native) {
        m->native_schema = promc__native_schema_for(o->native_bucket_factor);
        /* client_golang's DefNativeHistogramZeroThreshold, 2^-128; negative: exactly zero. */
        m->native_zero_threshold = o->native_zero_threshold > 0    ? o->native_zero_threshold
                                   : o->native_zero_threshold == 0 ? 2.938735877055719e-39
                                                                   : 0;
        m->native_max_buckets = o->native_max_buckets;
        m->native_max_zero_threshold = o->native_max_zero_threshold;
        m->native_min_reset_ns = (int64_t)(o->native_min_reset_duration * 1e9);
    }
    if (!b && native)
        nb = 0; /* native only: the +Inf bucket alone */
    else if (!b)
        b = promc_histogram_default_buckets(&nb);
    for (size_t i = 1; i < nb; i++)
        if (!(b[i - 1] < b[i]))
            return promc__err(PROMC_EBUCKETS, "histogram '%s': buckets not strictly increasing",
                              m->name);
    for (size_t i = 0; i < nb; i++)
        if (isnan(b[i]))
            return promc__err(PROMC_EBUCKETS, "histogram '%s': NaN bucket", m->name);
    bool has_inf = nb && isinf(b[nb - 1]) && b[nb - 1] > 0;
    m->bound_count = nb + (has_inf ? 0 : 1);
    if (m->bound_count < 2 && !native)
        return promc__err(PROMC_EBUCKETS, "histogram '%s': must have at least two buckets",
                          m->name);
    m->bounds = promc__calloc(m->bound_count, sizeof(double));
    m->bound_text = promc__calloc(m->bound_count, sizeof(char *));
    if (!m->bounds || !m->bound_text)
        return PROMC_ENOMEM;
    for (size_t i = 0; i < m->bound_count; i++) {
        m->bounds[i] = i < nb ? b[i] : INFINITY;
        char buf[32];
        promc__fmt_double(m->bounds[i], buf);
        if (!(m->bound_text[i] = promc__strdup(buf)))
            return PROMC_ENOMEM;
    }
    m->extra_pos = promc__metric_label_pos(m, "le");
    m->child_size = sizeof(struct promc_histogram) + 2 * m->bound_count * sizeof(_Atomic uint64_t);
    return 0;
}

static void histogram_teardown(promc_metric_t *m)
{
    for (size_t i = 0; m->bound_text && i < m->bound_count; i++)
        promc__free(m->bound_text[i]);
    promc__free(m->bound_text);
    promc__free(m->bounds);
}

static int histogram_child_init(promc_metric_t *m, promc__child_t *s)
{
    if (m->native_schema == PROMC__NATIVE_NONE)
        return 0;
    struct promc_histogram *h = (struct promc_histogram *)s;
    h->nh = promc__native_new(m);
    return h->nh ? 0 : PROMC_ENOMEM;
}

static void histogram_child_destroy(promc_metric_t *m, promc__child_t *s)
{
    (void)m;
    struct promc_histogram *h = (struct promc_histogram *)s;
    promc__free(atomic_load_explicit(&h->ex, memory_order_relaxed));
    promc__native_free(h->nh);
    h->nh = NULL;
}

int promc_histogram_observe_exemplar(promc_histogram_t *h, double value,
                                     const promc_label_t *labels, size_t n)
{
    if (h == NULL)
        return promc__err(PROMC_EINVAL, "promc_histogram_observe_exemplar: NULL histogram");
    if (value != value)
        return promc__err(PROMC_EINVAL, "promc_histogram_observe_exemplar: NaN");
    char text[PROMC__EXEMPLAR_WORDS * 8];
    size_t len;
    int rc = promc__exemplar_format(labels, n, text, &len);
    if (rc)
        return rc;
    promc_histogram_observe(h, value);
    const promc_metric_t *m = h->s.metric;
    size_t b = bucket_index(m, value);
    if (b >= m->bound_count)
        return 0;
    promc__exemplar_t *slots = promc__exemplar_slots(&h->ex, m->bound_count);
    if (slots == NULL)
        return promc__err(PROMC_ENOMEM, "exemplar slots");
    promc__exemplar_store(&slots[b], text, len, value);
    return 0;
}

static uint64_t histogram_state(promc_metric_t *m, const promc__child_t *s)
{
    (void)m;
    return promc_histogram_count((const promc_histogram_t *)s);
}

static const promc__metric_ops_t histogram_ops = {
    .type = PROMC_HISTOGRAM,
    .child_size = sizeof(struct promc_histogram),
    .suffixes = histogram_suffixes,
    .suffix_count = sizeof histogram_suffixes / sizeof histogram_suffixes[0],
    .reserved_label = "le",
    .check = histogram_check,
    .setup = histogram_setup,
    .teardown = histogram_teardown,
    .child_init = histogram_child_init,
    .child_destroy = histogram_child_destroy,
    .state = histogram_state,
};

int promc_histogram_new(promc_histogram_t **out, const promc_metric_opts_t *opts)
{
    promc_metric_t *m;
    int rc = promc__metric_create(&histogram_ops, opts, &m);
    if (rc)
        return rc;
    *out = (promc_histogram_t *)m->root;
    return 0;
}

int promc_histogram_labels(promc_histogram_t *h, const promc_str_t *values, size_t n,
                           promc_histogram_t **child)
{
    if (!h || !child || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_histogram_labels: NULL argument");
    promc__child_t *s;
    int rc = promc__child_get(h->s.metric, values, n, &s);
    if (rc)
        return rc;
    *child = (promc_histogram_t *)s;
    return 0;
}

int promc_histogram_labels_observe(promc_histogram_t *h, const promc_str_t *values, size_t n,
                                   double value)
{
    if (!h || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_histogram_labels_observe: NULL argument");
    promc__child_t *s;
    int rc = promc__child_begin(h->s.metric, values, n, &s);
    if (rc)
        return rc;
    promc_histogram_observe((promc_histogram_t *)s, value);
    promc__child_end();
    return 0;
}

promc_metric_t *promc_histogram_metric(promc_histogram_t *h)
{
    return h ? h->s.metric : NULL;
}

void promc_histogram_free(promc_histogram_t *h)
{
    if (h && h->s.metric->root == &h->s)
        promc_metric_free(h->s.metric);
}

int promc_buckets_linear(double *out, double start, double width, size_t count)
{
    if (!out || !count || !isfinite(start) || !isfinite(width) || !(width > 0))
        return promc__err(PROMC_EINVAL, "promc_buckets_linear: need count >= 1, a finite start and "
                                        "a finite width > 0");
    for (size_t i = 0; i < count; i++)
        out[i] = start + (double)i * width;
    return 0;
}

int promc_buckets_exponential(double *out, double start, double factor, size_t count)
{
    if (!out || !count || !isfinite(start) || !isfinite(factor) || !(start > 0) || !(factor > 1))
        return promc__err(PROMC_EINVAL, "promc_buckets_exponential: need count >= 1, a finite "
                                        "start > 0 and a finite factor > 1");
    double b = start;
    for (size_t i = 0; i < count; i++, b *= factor)
        out[i] = b;
    return 0;
}
