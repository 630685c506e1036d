/* SPDX-License-Identifier: Apache-2.0 */
/* Summary quantiles: see quantile.h.  The CKMS stream follows the targeted-quantile invariant of
 * Cormode, Korn, Muthukrishnan and Srivastava, as beorn7/perks (client_golang's) implements it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "clock.h"
#include "quantile.h"

/* f(r): the allowed error at rank r, the least over the targets. */
static double invariant(const promc__quantiles_t *q, double n, double r)
{
    double m = INFINITY;
    for (size_t i = 0; i < q->ntargets; i++) {
        double qq = q->targets[i].quantile, e = q->targets[i].error, f;
        if (qq * n <= r)
            f = 2 * e * r / qq;
        else
            f = 2 * e * (n - r) / (1 - qq);
        if (f < m)
            m = f;
    }
    return m;
}

/* Sorts doubles (no NaN: observe keeps them out) ascending: a quicksort with the comparison
 * inline, insertion sort below 16 elements; qsort's callback cost five times as much here. */
static void sort_doubles(double *v, size_t n)
{
    while (n > 16) {
        double a = v[0], b = v[n / 2], c = v[n - 1];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = 0, j = n - 1;
        for (;;) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i >= j)
                break;
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
            i++;
            j--;
        }
        /* [0, j] <= pivot <= [j + 1, n): recurse into the smaller part, loop on the larger. */
        size_t left = j + 1;
        if (left < n - left) {
            sort_doubles(v, left);
            v += left;
            n -= left;
        } else {
            sort_doubles(v + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        double x = v[i];
        size_t k = i;
        for (; k > 0 && v[k - 1] > x; k--)
            v[k] = v[k - 1];
        v[k] = x;
    }
}

static bool reserve_tmp(promc__quantiles_t *q, size_t need)
{
    if (need <= q->tmp_cap)
        return true;
    size_t cap = q->tmp_cap ? q->tmp_cap * 2 : 1024;
    while (cap < need)
        cap *= 2;
    promc__q_sample_t *t = promc__realloc(q->tmp, cap * sizeof *t);
    if (t == NULL)
        return false;
    q->tmp = t;
    q->tmp_cap = cap;
    return true;
}

/* The stream's samples become q->tmp's first n, and q->tmp the stream's old array. */
static void take_tmp(promc__quantiles_t *q, promc__q_stream_t *s, size_t n)
{
    promc__q_sample_t *l = s->l;
    size_t cap = s->cap;
    s->l = q->tmp;
    s->cap = q->tmp_cap;
    s->nl = n;
    q->tmp = l;
    q->tmp_cap = cap;
}

/* Merges the (full) buffer into the samples, then compresses them: perks' insert and compress,
 * each done as one pass into a second array instead of a move per inserted or merged sample
 * (the same samples, widths and deltas as the element-wise form). */
static void flush(promc__quantiles_t *q, promc__q_stream_t *s)
{
    sort_doubles(s->buf, s->nbuf);
    if (!reserve_tmp(q, s->nl + s->nbuf)) {
        s->nbuf = 0; /* out of memory: these observations are left out of the quantiles */
        return;
    }
    promc__q_sample_t *out = q->tmp;
    size_t o = 0, j = 0;
    double r = 0;
    for (size_t k = 0; k < s->nbuf; k++) {
        double v = s->buf[k];
        for (; j < s->nl && s->l[j].value <= v; j++) {
            r += s->l[j].width;
            out[o++] = s->l[j];
        }
        /* First or last among the samples: an exact rank (delta 0). */
        double delta = (o == 0 || j == s->nl) ? 0 : floor(invariant(q, s->n, r)) - 1;
        if (delta < 0)
            delta = 0;
        out[o++] = (promc__q_sample_t){v, 1, delta};
        s->n += 1;
        r += 1;
    }
    for (; j < s->nl; j++)
        out[o++] = s->l[j];
    s->nbuf = 0;
    take_tmp(q, s, o);
    /* Compress, from the top: a sample whose error allows it is folded into the one above. */
    if (s->nl < 2)
        return;
    if (!reserve_tmp(q, s->nl))
        return; /* uncompressed, still correct */
    promc__q_sample_t *l = s->l, *rev = q->tmp;
    size_t nr = 0;
    promc__q_sample_t x = l[s->nl - 1];
    double rr = s->n - 1 - x.width;
    for (size_t jj = s->nl - 1; jj-- > 0;) {
        promc__q_sample_t c = l[jj];
        if (c.width + x.width + x.delta <= invariant(q, s->n, rr)) {
            x.width += c.width;
        } else {
            rev[nr++] = x;
            x = c;
        }
        rr -= c.width;
    }
    rev[nr++] = x;
    for (size_t i = 0; i < nr; i++)
        l[i] = rev[nr - 1 - i];
    s->nl = nr;
}

static void stream_insert(promc__quantiles_t *q, promc__q_stream_t *s, double v)
{
    s->buf[s->nbuf++] = v;
    if (s->nbuf == PROMC__Q_STREAMBUF)
        flush(q, s);
}

static double stream_query(promc__quantiles_t *q, promc__q_stream_t *s, double quantile)
{
    if (s->nl == 0) {
        /* Never flushed: exact, from the buffer (perks' fast path). */
        if (s->nbuf == 0)
            return NAN;
        double tmp[PROMC__Q_STREAMBUF];
        memcpy(tmp, s->buf, s->nbuf * sizeof tmp[0]);
        sort_doubles(tmp, s->nbuf);
        size_t i = (size_t)ceil((double)s->nbuf * quantile);
        if (i > 0)
            i--;
        if (i >= s->nbuf)
            i = s->nbuf - 1;
        return tmp[i];
    }
    if (s->nbuf)
        flush(q, s);
    double t = ceil(quantile * s->n);
    t += ceil(invariant(q, s->n, t) / 2);
    promc__q_sample_t p = s->l[0];
    double r = 0;
    for (size_t i = 1; i < s->nl; i++) {
        promc__q_sample_t c = s->l[i];
        r += p.width;
        if (r + c.width + c.delta > t)
            return p.value;
        p = c;
    }
    return p.value;
}

static void stream_reset(promc__q_stream_t *s)
{
    s->nbuf = 0;
    s->nl = 0;
    s->n = 0;
}

promc__quantiles_t *promc__q_new(const promc_quantile_t *targets, size_t ntargets, double max_age,
                                 unsigned age_buckets, pthread_mutex_t *lock)
{
    size_t ns = age_buckets ? age_buckets : 5;
    promc__quantiles_t *q = promc__calloc(1, sizeof *q + ns * sizeof q->streams[0]);
    if (q == NULL)
        return NULL;
    q->lock = lock;
    for (size_t i = 0; i < PROMC__Q_STRIPES; i++)
        atomic_flag_clear(&q->stripes[i].busy);
    q->targets = targets;
    q->ntargets = ntargets;
    q->nstreams = ns;
    q->stream_ns = (int64_t)((max_age > 0 ? max_age : 600) * 1e9 / (double)ns);
    q->head_exp_ns = promc__now_mono_ns() + q->stream_ns;
    return q;
}

void promc__q_free(promc__quantiles_t *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->nstreams; i++)
        promc__free(q->streams[i].l);
    promc__free(q->tmp);
    promc__free(q);
}

/* Under *q->lock: the stripe's values into every stream. */
static void merge_stripe(promc__quantiles_t *q, const double *v, unsigned n)
{
    for (size_t s = 0; s < q->nstreams; s++)
        for (unsigned i = 0; i < n; i++)
            stream_insert(q, &q->streams[s], v[i]);
}

static void rotate(promc__quantiles_t *q)
{
    int64_t now = promc__now_mono_ns();
    unsigned guard = 0;
    while (now >= q->head_exp_ns && guard++ <= q->nstreams) {
        stream_reset(&q->streams[q->head]);
        q->head = (q->head + 1) % q->nstreams;
        q->head_exp_ns += q->stream_ns;
    }
    if (now >= q->head_exp_ns) /* idle for longer than max_age: every stream is empty now */
        q->head_exp_ns = now + q->stream_ns;
}

void promc__q_observe(promc__quantiles_t *q, unsigned slot, double v)
{
    promc__q_stripe_t *st = &q->stripes[slot & (PROMC__Q_STRIPES - 1)];
    while (atomic_flag_test_and_set_explicit(&st->busy, memory_order_acquire))
        ; /* held only for a store, or a copy of the stripe */
    st->v[st->n++] = v;
    if (st->n < PROMC__Q_STRIPE) {
        atomic_flag_clear_explicit(&st->busy, memory_order_release);
        return;
    }
    double copy[PROMC__Q_STRIPE];
    unsigned n = st->n;
    memcpy(copy, st->v, n * sizeof copy[0]);
    st->n = 0;
    atomic_flag_clear_explicit(&st->busy, memory_order_release);
    pthread_mutex_lock(q->lock);
    rotate(q);
    merge_stripe(q, copy, n);
    pthread_mutex_unlock(q->lock);
}

void promc__q_query(promc__quantiles_t *q, double *out)
{
    pthread_mutex_lock(q->lock);
    for (size_t i = 0; i < PROMC__Q_STRIPES; i++) {
        promc__q_stripe_t *st = &q->stripes[i];
        double copy[PROMC__Q_STRIPE];
        while (atomic_flag_test_and_set_explicit(&st->busy, memory_order_acquire))
            ;
        unsigned n = st->n;
        memcpy(copy, st->v, n * sizeof copy[0]);
        st->n = 0;
        atomic_flag_clear_explicit(&st->busy, memory_order_release);
        rotate(q);
        merge_stripe(q, copy, n);
    }
    rotate(q);
    for (size_t i = 0; i < q->ntargets; i++)
        out[i] = stream_query(q, &q->streams[q->head], q->targets[i].quantile);
    pthread_mutex_unlock(q->lock);
}
