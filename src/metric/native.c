/* SPDX-License-Identifier: Apache-2.0 */
/* Native histograms: see native.h. */
#include <float.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alloc.h"
#include "fmt.h"
#include "metric_internal.h"
#include "native.h"
#include "slots.h"

#define CHUNK_BITS 6
#define CHUNK      (1 << CHUNK_BITS)

typedef struct chunk {
    _Atomic uint64_t present; /* a bit per bucket that exists (client_golang's map keys) */
    _Atomic int64_t c[CHUNK];
} chunk_t;

typedef struct dir {
    struct dir *retired_next; /* the replaced directories, freed with the child */
    int32_t base;             /* the first chunk index it covers */
    uint32_t n;
    _Atomic(chunk_t *) chunk[];
} dir_t;

typedef struct side {
    _Atomic(dir_t *) dir;
} side_t;

/* A set's observations done are the sum of its bucket counts, its zero bucket, its NaN count and
 * the observations that found no memory for their bucket: the last of these an observation
 * increments is its "done" signal (client_golang counts a separate done counter; this saves an
 * atomic operation per observation). */
typedef struct counts {
    /* The sum: the child's first observing thread adds to own_sum_bits with plain stores (as
     * classic histograms do), others to sum_bits with compare-and-swap; merges into this set go
     * to base_sum_bits, which only the scrape holding mtx writes.  The owner's word and the
     * shared one on lines of their own, so that two threads do not share a line for the sum. */
    _Alignas(64) _Atomic uint64_t own_sum_bits;
    _Alignas(64) _Atomic uint64_t sum_bits;
    _Atomic uint64_t base_sum_bits;
    _Atomic uint64_t zero;
    _Atomic uint64_t nan;
    _Atomic uint64_t lost;
    _Atomic uint64_t zt_bits;
    _Atomic int32_t schema;
    _Atomic uint32_t nbuckets; /* buckets that exist */
    side_t pos, neg;
    _Atomic uint64_t *classic; /* bound_count of them, +Inf last */
} counts_t;

typedef struct stripe {
    _Atomic unsigned owner; /* the thread slot that owns own_sum_bits (slots.h); read-mostly */
    _Alignas(64) _Atomic uint64_t count_and_hot;
    counts_t c[2];
    pthread_mutex_t mtx;  /* scrapes and bucket limiting */
    pthread_mutex_t grow; /* chunk and directory allocation */
    dir_t *retired;       /* under grow */
    /* configuration, from the metric */
    const double *bounds;
    size_t bound_count;
    int32_t schema0;
    double zt0;
    uint32_t max_buckets;
    double max_zt;
    int64_t min_reset_ns;
    int64_t last_reset_ns;
    int64_t (*now_ns)(void);
} stripe_t;

/* The child's native counts: stripes of the above, a thread's observations going to the one of
 * its slot (slots.h), so that threads observing into one child do not share a line; a scrape
 * reads every stripe and merges them.  Stripe 0 exists from the start, the others are made on a
 * thread's first observation into them. */
#define STRIPES 4

struct promc__native {
    _Atomic(stripe_t *) s[STRIPES];
    pthread_mutex_t mtx; /* making a stripe */
    const double *bounds;
    size_t bound_count;
    int32_t schema0;
    double zt0;
    uint32_t max_buckets;
    double max_zt;
    int64_t min_reset_ns;
    int64_t (*now_ns)(void);
    int64_t epoch_ns; /* the child's creation: a stripe made later counts its resets from it */
};

/* ---- bucket keys -------------------------------------------------------------------------------
 */

/* The upper bounds within [0.5, 1) of each positive schema: 2^(i/2^s) / 2, computed once. */
static double bounds_tab[9][256];
static pthread_once_t bounds_once = PTHREAD_ONCE_INIT;

static void bounds_init(void)
{
    for (int s = 1; s <= 8; s++)
        for (int i = 0; i < (1 << s); i++)
            bounds_tab[s][i] = ldexp(exp2((double)i / (double)(1 << s)), -1);
}

int32_t promc__native_schema_for(double factor)
{
    double fl = floor(log2(log2(factor)));
    if (fl <= -8)
        return 8;
    if (fl >= 4)
        return -4;
    return -(int32_t)fl;
}

static int32_t key_of(double v, int32_t schema)
{
    bool inf = false;
    if (isinf(v)) {
        v = v > 0 ? DBL_MAX : -DBL_MAX;
        inf = true;
    }
    /* frexp, inline for normal numbers: the fraction in [0.5, 1) and the exponent from the bits. */
    int exp;
    double frac;
    uint64_t bits = promc__double_to_bits(v) & ~((uint64_t)1 << 63);
    unsigned e = (unsigned)(bits >> 52);
    if (__builtin_expect(e != 0 && e != 0x7ff, 1)) {
        exp = (int)e - 1022;
        frac = promc__bits_to_double((bits & ((((uint64_t)1) << 52) - 1)) | ((uint64_t)1022 << 52));
    } else {
        frac = frexp(fabs(v), &exp);
    }
    int32_t key;
    if (schema > 0) {
        /* The first bound >= frac (sort.SearchFloat64s), branch-free: varied values would make
         * a search's branches mispredict on most observations. */
        const double *b = bounds_tab[schema], *base = b;
        size_t n = (size_t)1 << schema;
        while (n > 1) {
            size_t half = n / 2;
            base = base[half - 1] < frac ? base + half : base;
            n -= half;
        }
        int lo = (int)(base - b) + (*base < frac);
        key = lo + (exp - 1) * (1 << schema);
    } else {
        key = exp;
        if (frac == 0.5)
            key--;
        int32_t div = 1 << -schema;
        key = (key + div - 1) / div; /* truncating, as Go's */
    }
    return inf ? key + 1 : key;
}

/* The upper bound of bucket `key` (client_golang's getLe). */
static double le_of(int32_t key, int32_t schema)
{
    if (schema < 0) {
        int exp = key << -schema;
        if (exp == 1024)
            return DBL_MAX;
        return ldexp(1, exp);
    }
    int frac_idx = key & ((1 << schema) - 1);
    double frac = schema ? bounds_tab[schema][frac_idx] : 0.5;
    int exp = (key >> schema) + 1;
    if (frac == 0.5 && exp == 1025)
        return DBL_MAX;
    return ldexp(frac, exp);
}

/* ---- sides: chunks of buckets behind a directory ------------------------------------------------
 */

static chunk_t *chunk_slow(stripe_t *nh, side_t *sd, int32_t ci)
{
    pthread_mutex_lock(&nh->grow);
    dir_t *d = atomic_load_explicit(&sd->dir, memory_order_acquire);
    chunk_t *ch = NULL;
    if (!d || ci < d->base || ci >= d->base + (int32_t)d->n) {
        /* A directory covering the old range and ci, with room to grow either way. */
        int32_t lo = d ? d->base : ci, hi = d ? d->base + (int32_t)d->n : ci + 1;
        if (ci < lo)
            lo = ci;
        if (ci >= hi)
            hi = ci + 1;
        int32_t span = hi - lo;
        int32_t extra = span < 8 ? 8 : span;
        int32_t nlo = d && ci >= d->base ? lo : lo - extra / 2;
        int32_t nhi = d && ci < d->base ? hi : hi + extra / 2;
        if (!d) {
            nlo = ci - 4;
            nhi = ci + 4;
        }
        dir_t *nd = promc__calloc(1, sizeof *nd + (size_t)(nhi - nlo) * sizeof nd->chunk[0]);
        if (!nd) {
            pthread_mutex_unlock(&nh->grow);
            return NULL;
        }
        nd->base = nlo;
        nd->n = (uint32_t)(nhi - nlo);
        if (d) {
            for (uint32_t i = 0; i < d->n; i++)
                atomic_store_explicit(&nd->chunk[d->base - nlo + (int32_t)i],
                                      atomic_load_explicit(&d->chunk[i], memory_order_relaxed),
                                      memory_order_relaxed);
            d->retired_next = nh->retired;
            nh->retired = d;
        }
        atomic_store_explicit(&sd->dir, nd, memory_order_release);
        d = nd;
    }
    ch = atomic_load_explicit(&d->chunk[ci - d->base], memory_order_acquire);
    if (!ch) {
        ch = promc__calloc(1, sizeof *ch);
        if (ch)
            atomic_store_explicit(&d->chunk[ci - d->base], ch, memory_order_release);
    }
    pthread_mutex_unlock(&nh->grow);
    return ch;
}

static struct counts *lost_of(stripe_t *nh, side_t *sd);

/* Adds inc to the bucket `key`; true when the bucket did not exist. */
static bool side_add(stripe_t *nh, side_t *sd, int32_t key, int64_t inc)
{
    int32_t ci = key >> CHUNK_BITS; /* arithmetic: floors for negative keys */
    dir_t *d = atomic_load_explicit(&sd->dir, memory_order_acquire);
    chunk_t *ch = NULL;
    if (d && ci >= d->base && ci < d->base + (int32_t)d->n)
        ch = atomic_load_explicit(&d->chunk[ci - d->base], memory_order_acquire);
    if (__builtin_expect(!ch, 0) && !(ch = chunk_slow(nh, sd, ci))) {
        /* Out of memory: the observation still counts, without its bucket. */
        atomic_fetch_add_explicit(&lost_of(nh, sd)->lost, (uint64_t)inc, memory_order_release);
        return false;
    }
    uint64_t bit = (uint64_t)1 << (key & (CHUNK - 1));
    bool created = false;
    if (!(atomic_load_explicit(&ch->present, memory_order_relaxed) & bit))
        created = !(atomic_fetch_or_explicit(&ch->present, bit, memory_order_relaxed) & bit);
    /* Release: an observation's last update, its done signal (see counts_t). */
    atomic_fetch_add_explicit(&ch->c[key & (CHUNK - 1)], inc, memory_order_release);
    return created;
}

/* Visits the existing buckets of a side in key order. */
typedef void (*visit_fn)(void *ud, int32_t key, _Atomic int64_t *cnt, chunk_t *ch, uint64_t bit);

static void side_visit(side_t *sd, visit_fn fn, void *ud)
{
    dir_t *d = atomic_load_explicit(&sd->dir, memory_order_acquire);
    for (uint32_t i = 0; d && i < d->n; i++) {
        chunk_t *ch = atomic_load_explicit(&d->chunk[i], memory_order_acquire);
        if (!ch)
            continue;
        uint64_t p = atomic_load_explicit(&ch->present, memory_order_acquire);
        while (p) {
            int b = __builtin_ctzll(p);
            p &= p - 1;
            int32_t key = (d->base + (int32_t)i) * CHUNK + b;
            fn(ud, key, &ch->c[b], ch, (uint64_t)1 << b);
        }
    }
}

/* Deletes every bucket of a side (the chunks stay, empty). */
static void side_clear(side_t *sd)
{
    dir_t *d = atomic_load_explicit(&sd->dir, memory_order_acquire);
    for (uint32_t i = 0; d && i < d->n; i++) {
        chunk_t *ch = atomic_load_explicit(&d->chunk[i], memory_order_acquire);
        if (!ch)
            continue;
        atomic_store_explicit(&ch->present, 0, memory_order_relaxed);
        for (int k = 0; k < CHUNK; k++)
            atomic_store_explicit(&ch->c[k], 0, memory_order_relaxed);
    }
}

static void side_free(side_t *sd)
{
    dir_t *d = atomic_load_explicit(&sd->dir, memory_order_relaxed);
    for (uint32_t i = 0; d && i < d->n; i++)
        promc__free(atomic_load_explicit(&d->chunk[i], memory_order_relaxed));
    promc__free(d);
}

/* ---- the counts ---------------------------------------------------------------------------------
 */

static void add_double(_Atomic uint64_t *bits, double v)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        bits, &old, promc__double_to_bits(promc__bits_to_double(old) + v), memory_order_relaxed,
        memory_order_relaxed)) {
    }
}

static struct counts *lost_of(stripe_t *nh, side_t *sd)
{
    for (int k = 0; k < 2; k++)
        if (sd == &nh->c[k].pos || sd == &nh->c[k].neg)
            return &nh->c[k];
    return &nh->c[0];
}

/* The classic bucket of v, bound_count - 1 (+Inf, counted as the rest of the count) for v above
 * every finite bound and for NaN. */
static size_t classic_index(const stripe_t *nh, double v)
{
    if (v != v)
        return nh->bound_count - 1; /* NaN: counted, in no finite bucket (client_golang) */
    size_t lo = 0, hi = nh->bound_count - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v <= nh->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void counts_observe(stripe_t *nh, counts_t *c, double v, bool owned)
{
    if (nh->bound_count > 1) {
        size_t i = classic_index(nh, v);
        if (i < nh->bound_count - 1)
            atomic_fetch_add_explicit(&c->classic[i], 1, memory_order_relaxed);
    }
    if (owned)
        promc__owned_add_double(&c->own_sum_bits, v);
    else
        add_double(&c->sum_bits, v);
    if (v != v) {
        atomic_fetch_add_explicit(&c->nan, 1, memory_order_release);
    } else {
        int32_t schema = atomic_load_explicit(&c->schema, memory_order_relaxed);
        double zt = promc__bits_to_double(atomic_load_explicit(&c->zt_bits, memory_order_relaxed));
        double a = isinf(v) ? (v > 0 ? DBL_MAX : -DBL_MAX) : v;
        bool created = false;
        if (a > zt)
            created = side_add(nh, &c->pos, key_of(v, schema), 1);
        else if (a < -zt)
            created = side_add(nh, &c->neg, key_of(v, schema), 1);
        else
            atomic_fetch_add_explicit(&c->zero, 1, memory_order_release);
        if (created)
            atomic_fetch_add_explicit(&c->nbuckets, 1, memory_order_relaxed);
    }
}

static void counts_reset(stripe_t *nh, counts_t *c)
{
    atomic_store_explicit(&c->sum_bits, 0, memory_order_relaxed);
    atomic_store_explicit(&c->own_sum_bits, 0, memory_order_relaxed);
    atomic_store_explicit(&c->base_sum_bits, 0, memory_order_relaxed);
    atomic_store_explicit(&c->zero, 0, memory_order_relaxed);
    atomic_store_explicit(&c->nan, 0, memory_order_relaxed);
    atomic_store_explicit(&c->lost, 0, memory_order_relaxed);
    atomic_store_explicit(&c->zt_bits, promc__double_to_bits(nh->zt0), memory_order_relaxed);
    atomic_store_explicit(&c->schema, nh->schema0, memory_order_relaxed);
    atomic_store_explicit(&c->nbuckets, 0, memory_order_relaxed);
    for (size_t i = 0; i < nh->bound_count; i++)
        atomic_store_explicit(&c->classic[i], 0, memory_order_relaxed);
    side_clear(&c->pos);
    side_clear(&c->neg);
}

static uint64_t side_total(side_t *sd)
{
    uint64_t t = 0;
    dir_t *d = atomic_load_explicit(&sd->dir, memory_order_acquire);
    for (uint32_t i = 0; d && i < d->n; i++) {
        chunk_t *ch = atomic_load_explicit(&d->chunk[i], memory_order_acquire);
        for (int k = 0; ch && k < CHUNK; k++)
            t += (uint64_t)atomic_load_explicit(&ch->c[k], memory_order_acquire);
    }
    return t;
}

/* The observations done into a set (see counts_t). */
static uint64_t counts_done(counts_t *c)
{
    return atomic_load_explicit(&c->zero, memory_order_acquire) +
           atomic_load_explicit(&c->nan, memory_order_acquire) +
           atomic_load_explicit(&c->lost, memory_order_acquire) + side_total(&c->pos) +
           side_total(&c->neg);
}

static void wait_cooldown(counts_t *c, uint64_t count)
{
    for (unsigned spins = 0; counts_done(c) != count; spins++)
        if (spins > 64)
            sched_yield();
}

typedef struct merge_ctx {
    stripe_t *nh;
    counts_t *hot, *cold;
    side_t *hot_side;
    int32_t drop_key; /* widening: the bucket merged into the zero bucket; INT32_MIN: none */
    int halve;        /* doubling the width: keys are halved */
} merge_ctx_t;

/* Adds a cold bucket into the hot set and zeroes it (keeping it), as client_golang's
 * addAndReset. */
static void add_and_reset(void *ud, int32_t key, _Atomic int64_t *cnt, chunk_t *ch, uint64_t bit)
{
    merge_ctx_t *x = ud;
    int64_t v = atomic_load_explicit(cnt, memory_order_relaxed);
    if (key == x->drop_key) {
        atomic_fetch_add_explicit(&x->hot->zero, (uint64_t)v, memory_order_relaxed);
        atomic_fetch_and_explicit(&ch->present, ~bit, memory_order_relaxed);
        atomic_store_explicit(cnt, 0, memory_order_relaxed);
        atomic_fetch_sub_explicit(&x->cold->nbuckets, 1, memory_order_relaxed);
        return;
    }
    if (x->halve) {
        if (key > 0)
            key++;
        key /= 2;
    }
    if (side_add(x->nh, x->hot_side, key, v))
        atomic_fetch_add_explicit(&x->hot->nbuckets, 1, memory_order_relaxed);
    atomic_store_explicit(cnt, 0, memory_order_relaxed);
}

/* A set's sum, read when no observation is in flight into it. */
static double counts_sum(counts_t *c)
{
    return promc__bits_to_double(atomic_load_explicit(&c->base_sum_bits, memory_order_relaxed)) +
           (promc__bits_to_double(atomic_load_explicit(&c->own_sum_bits, memory_order_relaxed)) +
            promc__bits_to_double(atomic_load_explicit(&c->sum_bits, memory_order_relaxed)));
}

/* client_golang's addAndResetCounts, and the buckets with it. */
static void merge_counts(stripe_t *nh, counts_t *hot, counts_t *cold, int32_t drop_key, int halve)
{
    atomic_fetch_add_explicit(&hot->nan, atomic_load_explicit(&cold->nan, memory_order_relaxed),
                              memory_order_relaxed);
    atomic_store_explicit(&cold->nan, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&hot->lost, atomic_load_explicit(&cold->lost, memory_order_relaxed),
                              memory_order_relaxed);
    atomic_store_explicit(&cold->lost, 0, memory_order_relaxed);
    double cs = counts_sum(cold);
    atomic_store_explicit(&hot->base_sum_bits,
                          promc__double_to_bits(promc__bits_to_double(atomic_load_explicit(
                                                    &hot->base_sum_bits, memory_order_relaxed)) +
                                                cs),
                          memory_order_relaxed);
    atomic_store_explicit(&cold->sum_bits, 0, memory_order_relaxed);
    atomic_store_explicit(&cold->own_sum_bits, 0, memory_order_relaxed);
    atomic_store_explicit(&cold->base_sum_bits, 0, memory_order_relaxed);
    for (size_t i = 0; i < nh->bound_count; i++) {
        atomic_fetch_add_explicit(&hot->classic[i],
                                  atomic_load_explicit(&cold->classic[i], memory_order_relaxed),
                                  memory_order_relaxed);
        atomic_store_explicit(&cold->classic[i], 0, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&hot->zero, atomic_load_explicit(&cold->zero, memory_order_relaxed),
                              memory_order_relaxed);
    atomic_store_explicit(&cold->zero, 0, memory_order_relaxed);
    merge_ctx_t x = {nh, hot, cold, &hot->pos, drop_key, halve};
    side_visit(&cold->pos, add_and_reset, &x);
    x.hot_side = &hot->neg;
    side_visit(&cold->neg, add_and_reset, &x);
}

/* ---- life ---------------------------------------------------------------------------------------
 */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void stripe_free(stripe_t *nh);

static stripe_t *stripe_new(const promc__native_t *cfg)
{
    stripe_t *nh = promc__malloc_aligned(sizeof *nh, 64);
    if (!nh)
        return NULL;
    memset(nh, 0, sizeof *nh);
    nh->bounds = cfg->bounds;
    nh->bound_count = cfg->bound_count;
    nh->schema0 = cfg->schema0;
    nh->zt0 = cfg->zt0;
    nh->max_buckets = cfg->max_buckets;
    nh->max_zt = cfg->max_zt;
    nh->min_reset_ns = cfg->min_reset_ns;
    nh->now_ns = cfg->now_ns;
    nh->last_reset_ns = cfg->epoch_ns;
    pthread_mutex_init(&nh->mtx, NULL);
    pthread_mutex_init(&nh->grow, NULL);
    for (int k = 0; k < 2; k++) {
        nh->c[k].classic = promc__calloc(cfg->bound_count, sizeof(uint64_t));
        if (!nh->c[k].classic) {
            stripe_free(nh);
            return NULL;
        }
        atomic_init(&nh->c[k].schema, nh->schema0);
        atomic_init(&nh->c[k].zt_bits, promc__double_to_bits(nh->zt0));
    }
    return nh;
}

static void stripe_free(stripe_t *nh)
{
    if (!nh)
        return;
    for (int k = 0; k < 2; k++) {
        promc__free((void *)nh->c[k].classic);
        side_free(&nh->c[k].pos);
        side_free(&nh->c[k].neg);
    }
    for (dir_t *d = nh->retired; d;) {
        dir_t *nx = d->retired_next;
        promc__free(d);
        d = nx;
    }
    pthread_mutex_destroy(&nh->mtx);
    pthread_mutex_destroy(&nh->grow);
    promc__free_aligned(nh);
}

static void stripe_set_clock(stripe_t *nh, int64_t (*now_ns)(void))
{
    nh->now_ns = now_ns ? now_ns : mono_ns;
    nh->last_reset_ns = nh->now_ns();
}

/* ---- limiting the buckets (client_golang's limitBuckets) ----------------------------------------
 */

static bool maybe_reset(stripe_t *nh, counts_t *hot, counts_t *cold, uint64_t cold_idx, double v)
{
    if (nh->min_reset_ns == 0 || nh->now_ns() - nh->last_reset_ns < nh->min_reset_ns)
        return false;
    counts_reset(nh, cold);
    counts_observe(nh, cold, v, false); /* the latest observation is kept */
    uint64_t n =
        atomic_exchange_explicit(&nh->count_and_hot, (cold_idx << 63) + 1, memory_order_acq_rel);
    wait_cooldown(hot, n & ~((uint64_t)1 << 63));
    counts_reset(nh, hot);
    nh->last_reset_ns = nh->now_ns();
    return true;
}

typedef struct min_ctx {
    int32_t min;
} min_ctx_t;

static void find_min(void *ud, int32_t key, _Atomic int64_t *cnt, chunk_t *ch, uint64_t bit)
{
    (void)cnt, (void)ch, (void)bit;
    min_ctx_t *x = ud;
    if (key < x->min)
        x->min = key;
}

static void delete_key(side_t *sd, int32_t key, counts_t *c)
{
    int32_t ci = key >> CHUNK_BITS;
    dir_t *d = atomic_load_explicit(&sd->dir, memory_order_acquire);
    if (!d || ci < d->base || ci >= d->base + (int32_t)d->n)
        return;
    chunk_t *ch = atomic_load_explicit(&d->chunk[ci - d->base], memory_order_acquire);
    uint64_t bit = (uint64_t)1 << (key & (CHUNK - 1));
    if (ch && (atomic_fetch_and_explicit(&ch->present, ~bit, memory_order_relaxed) & bit)) {
        atomic_store_explicit(&ch->c[key & (CHUNK - 1)], 0, memory_order_relaxed);
        atomic_fetch_sub_explicit(&c->nbuckets, 1, memory_order_relaxed);
    }
}

static bool maybe_widen_zero(stripe_t *nh, counts_t *hot, counts_t *cold)
{
    double zt = promc__bits_to_double(atomic_load_explicit(&hot->zt_bits, memory_order_relaxed));
    if (zt >= nh->max_zt)
        return false;
    min_ctx_t x = {INT32_MAX};
    side_visit(&hot->pos, find_min, &x);
    side_visit(&hot->neg, find_min, &x);
    if (x.min == INT32_MAX)
        return false;
    int32_t smallest = x.min;
    double nzt = le_of(smallest, atomic_load_explicit(&hot->schema, memory_order_relaxed));
    if (nzt > nh->max_zt)
        return false;
    atomic_store_explicit(&cold->zt_bits, promc__double_to_bits(nzt), memory_order_relaxed);
    delete_key(&cold->neg, smallest, cold);
    delete_key(&cold->pos, smallest, cold);
    uint64_t n =
        atomic_fetch_add_explicit(&nh->count_and_hot, (uint64_t)1 << 63, memory_order_acq_rel);
    counts_t *t = hot;
    hot = cold;
    cold = t;
    wait_cooldown(cold, n & ~((uint64_t)1 << 63));
    /* merge_counts adds count, sum, classic and zero; the buckets: smallest into the zero
     * bucket (and deleted), the others added and kept. */
    atomic_store_explicit(&cold->zt_bits, promc__double_to_bits(nzt), memory_order_relaxed);
    merge_counts(nh, hot, cold, smallest, 0);
    return true;
}

static void double_width(stripe_t *nh, counts_t *hot, counts_t *cold)
{
    int32_t schema = atomic_load_explicit(&cold->schema, memory_order_relaxed);
    if (schema == -4)
        return;
    schema--;
    atomic_store_explicit(&cold->schema, schema, memory_order_relaxed);
    atomic_store_explicit(&cold->nbuckets, 0, memory_order_relaxed);
    side_clear(&cold->neg);
    side_clear(&cold->pos);
    uint64_t n =
        atomic_fetch_add_explicit(&nh->count_and_hot, (uint64_t)1 << 63, memory_order_acq_rel);
    counts_t *t = hot;
    hot = cold;
    cold = t;
    wait_cooldown(cold, n & ~((uint64_t)1 << 63));
    atomic_store_explicit(&cold->schema, schema, memory_order_relaxed);
    merge_counts(nh, hot, cold, INT32_MIN, 1);
    atomic_store_explicit(&cold->nbuckets, 0, memory_order_relaxed);
    side_clear(&cold->neg);
    side_clear(&cold->pos);
}

static void limit_buckets(stripe_t *nh, counts_t *c, double v)
{
    if (nh->max_buckets >= atomic_load_explicit(&c->nbuckets, memory_order_relaxed))
        return;
    pthread_mutex_lock(&nh->mtx);
    uint64_t n = atomic_load_explicit(&nh->count_and_hot, memory_order_acquire);
    uint64_t hot_idx = n >> 63, cold_idx = (~n) >> 63;
    counts_t *hot = &nh->c[hot_idx], *cold = &nh->c[cold_idx];
    if (nh->max_buckets < atomic_load_explicit(&hot->nbuckets, memory_order_relaxed) &&
        !maybe_reset(nh, hot, cold, cold_idx, v) && !maybe_widen_zero(nh, hot, cold))
        double_width(nh, hot, cold);
    pthread_mutex_unlock(&nh->mtx);
}

static void stripe_observe(stripe_t *nh, double v, unsigned slot)
{
    uint64_t n = atomic_fetch_add_explicit(&nh->count_and_hot, 1, memory_order_acq_rel);
    counts_t *c = &nh->c[n >> 63];
    counts_observe(nh, c, v, promc__owns(&nh->owner, slot));
    if (nh->max_buckets && v == v)
        limit_buckets(nh, c, v);
}

static uint64_t stripe_count(const stripe_t *nh)
{
    return atomic_load_explicit(&((stripe_t *)nh)->count_and_hot, memory_order_relaxed) &
           ~((uint64_t)1 << 63);
}

static double stripe_sum(const stripe_t *nh)
{
    stripe_t *x = (stripe_t *)nh;
    return counts_sum(&x->c[0]) + counts_sum(&x->c[1]);
}

/* ---- reading ------------------------------------------------------------------------------------
 */

typedef struct spans_ctx {
    promc__native_side_snap_t *s;
    size_t cap_spans, cap_deltas;
    int64_t prev;
    int32_t next;
    bool first;
    bool oom;
} spans_ctx_t;

static bool push_delta(spans_ctx_t *x, int64_t count)
{
    promc__native_side_snap_t *s = x->s;
    if (s->n_deltas == x->cap_deltas) {
        size_t cap = x->cap_deltas ? x->cap_deltas * 2 : 16;
        int64_t *d = promc__realloc(s->deltas, cap * sizeof *d);
        if (!d)
            return false;
        s->deltas = d;
        x->cap_deltas = cap;
    }
    s->spans[s->n_spans - 1].length++;
    s->deltas[s->n_deltas++] = count - x->prev;
    x->prev = count;
    return true;
}

/* client_golang's makeBuckets: spans over the existing buckets in key order, a gap of one or two
 * buckets filled with empty ones rather than a new span. */
static void span_visit(void *ud, int32_t key, _Atomic int64_t *cnt, chunk_t *ch, uint64_t bit)
{
    (void)ch, (void)bit;
    spans_ctx_t *x = ud;
    if (x->oom)
        return;
    int64_t count = atomic_load_explicit(cnt, memory_order_relaxed);
    int32_t gap = key - x->next;
    promc__native_side_snap_t *s = x->s;
    if (x->first || gap > 2) {
        if (s->n_spans == x->cap_spans) {
            size_t cap = x->cap_spans ? x->cap_spans * 2 : 4;
            promc__native_span_t *sp = promc__realloc(s->spans, cap * sizeof *sp);
            if (!sp) {
                x->oom = true;
                return;
            }
            s->spans = sp;
            x->cap_spans = cap;
        }
        s->spans[s->n_spans++] = (promc__native_span_t){gap, 0};
    } else {
        for (int32_t j = 0; j < gap; j++)
            if (!push_delta(x, 0)) {
                x->oom = true;
                return;
            }
    }
    x->first = false;
    if (!push_delta(x, count))
        x->oom = true;
    x->next = key + 1;
}

static int stripe_snapshot(stripe_t *nh, promc__native_snap_t *out)
{
    memset(out, 0, sizeof *out);
    out->classic = promc__calloc(nh->bound_count, sizeof *out->classic);
    if (!out->classic)
        return PROMC_ENOMEM;
    pthread_mutex_lock(&nh->mtx);
    uint64_t n =
        atomic_fetch_add_explicit(&nh->count_and_hot, (uint64_t)1 << 63, memory_order_acq_rel);
    uint64_t count = n & ~((uint64_t)1 << 63);
    counts_t *hot = &nh->c[(n >> 63) ^ 1], *cold = &nh->c[n >> 63];
    wait_cooldown(cold, count);
    out->count = count;
    out->sum = counts_sum(cold);
    /* The +Inf bucket is what the finite ones leave of the count. */
    uint64_t finite = 0;
    for (size_t i = 0; i + 1 < nh->bound_count; i++)
        finite += out->classic[i] = atomic_load_explicit(&cold->classic[i], memory_order_relaxed);
    out->classic[nh->bound_count - 1] = count - finite;
    out->schema = atomic_load_explicit(&cold->schema, memory_order_relaxed);
    out->zero_threshold =
        promc__bits_to_double(atomic_load_explicit(&cold->zt_bits, memory_order_relaxed));
    out->zero_count = atomic_load_explicit(&cold->zero, memory_order_relaxed);
    spans_ctx_t x = {.s = &out->pos, .first = true};
    side_visit(&cold->pos, span_visit, &x);
    bool oom = x.oom;
    x = (spans_ctx_t){.s = &out->neg, .first = true};
    side_visit(&cold->neg, span_visit, &x);
    oom = oom || x.oom;
    merge_counts(nh, hot, cold, INT32_MIN, 0);
    pthread_mutex_unlock(&nh->mtx);
    return oom ? PROMC_ENOMEM : 0;
}

void promc__native_snap_free(promc__native_snap_t *s)
{
    promc__free(s->classic);
    promc__free(s->pos.spans);
    promc__free(s->pos.deltas);
    promc__free(s->neg.spans);
    promc__free(s->neg.deltas);
    memset(s, 0, sizeof *s);
}

/* ---- the stripes --------------------------------------------------------------------------------
 */

promc__native_t *promc__native_new(const struct promc_metric *m)
{
    pthread_once(&bounds_once, bounds_init);
    promc__native_t *nh = promc__calloc(1, sizeof *nh);
    if (!nh)
        return NULL;
    nh->bounds = m->bounds;
    nh->bound_count = m->bound_count;
    nh->schema0 = m->native_schema;
    nh->zt0 = m->native_zero_threshold;
    nh->max_buckets = m->native_max_buckets;
    nh->max_zt = m->native_max_zero_threshold;
    nh->min_reset_ns = m->native_min_reset_ns;
    nh->now_ns = mono_ns;
    nh->epoch_ns = mono_ns();
    pthread_mutex_init(&nh->mtx, NULL);
    stripe_t *s0 = stripe_new(nh);
    if (!s0) {
        promc__native_free(nh);
        return NULL;
    }
    atomic_init(&nh->s[0], s0);
    return nh;
}

void promc__native_free(promc__native_t *nh)
{
    if (!nh)
        return;
    for (int k = 0; k < STRIPES; k++)
        stripe_free(atomic_load_explicit(&nh->s[k], memory_order_relaxed));
    pthread_mutex_destroy(&nh->mtx);
    promc__free(nh);
}

void promc__native_set_clock(promc__native_t *nh, int64_t (*now_ns)(void))
{
    pthread_mutex_lock(&nh->mtx);
    nh->now_ns = now_ns ? now_ns : mono_ns;
    nh->epoch_ns = nh->now_ns();
    for (int k = 0; k < STRIPES; k++) {
        stripe_t *s = atomic_load_explicit(&nh->s[k], memory_order_acquire);
        if (s) {
            pthread_mutex_lock(&s->mtx);
            stripe_set_clock(s, nh->now_ns);
            pthread_mutex_unlock(&s->mtx);
        }
    }
    pthread_mutex_unlock(&nh->mtx);
}

/* The stripe of a slot, made on its first use (stripe 0 when out of memory). */
static stripe_t *stripe_of(promc__native_t *nh, unsigned slot)
{
    unsigned k = slot & (STRIPES - 1);
    stripe_t *s = atomic_load_explicit(&nh->s[k], memory_order_acquire);
    if (__builtin_expect(s != NULL, 1))
        return s;
    pthread_mutex_lock(&nh->mtx);
    s = atomic_load_explicit(&nh->s[k], memory_order_acquire);
    if (!s && (s = stripe_new(nh)) != NULL)
        atomic_store_explicit(&nh->s[k], s, memory_order_release);
    pthread_mutex_unlock(&nh->mtx);
    return s ? s : atomic_load_explicit(&nh->s[0], memory_order_acquire);
}

void promc__native_observe(promc__native_t *nh, double v)
{
    unsigned slot = promc__slot();
    stripe_observe(stripe_of(nh, slot), v, slot);
}

uint64_t promc__native_count(const promc__native_t *nh)
{
    uint64_t n = 0;
    for (int k = 0; k < STRIPES; k++) {
        stripe_t *s = atomic_load_explicit(&((promc__native_t *)nh)->s[k], memory_order_acquire);
        if (s)
            n += stripe_count(s);
    }
    return n;
}

double promc__native_sum(const promc__native_t *nh)
{
    double sum = 0;
    for (int k = 0; k < STRIPES; k++) {
        stripe_t *s = atomic_load_explicit(&((promc__native_t *)nh)->s[k], memory_order_acquire);
        if (s)
            sum += stripe_sum(s);
    }
    return sum;
}

typedef struct kc {
    int32_t key;
    uint64_t count;
} kc_t;

static int cmp_kc(const void *a, const void *b)
{
    int32_t x = ((const kc_t *)a)->key, y = ((const kc_t *)b)->key;
    return x < y ? -1 : x > y;
}

/* Appends a stripe's buckets of one side, at the merged schema and zero threshold, to *v; false
 * when out of memory. */
static bool gather_side(const promc__native_side_snap_t *side, int32_t from_schema, int32_t schema,
                        double zt, uint64_t *zero, kc_t **v, size_t *n, size_t *cap)
{
    int32_t key = 0;
    int64_t count = 0;
    size_t d = 0;
    for (size_t i = 0; i < side->n_spans; i++) {
        key += side->spans[i].offset;
        for (uint32_t j = 0; j < side->spans[i].length; j++, key++) {
            count += side->deltas[d++];
            if (count <= 0)
                continue;
            int32_t k = key;
            for (int32_t s = from_schema; s > schema; s--) { /* as a halving of the width */
                if (k > 0)
                    k++;
                k /= 2;
            }
            if (le_of(k, schema) <= zt) {
                *zero += (uint64_t)count;
                continue;
            }
            if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 64;
                kc_t *nv = promc__realloc(*v, c * sizeof *nv);
                if (!nv)
                    return false;
                *v = nv;
                *cap = c;
            }
            (*v)[(*n)++] = (kc_t){k, (uint64_t)count};
        }
    }
    return true;
}

/* The merged buckets of one side as spans and deltas (client_golang's makeBuckets rule). */
static bool side_from(kc_t *v, size_t n, promc__native_side_snap_t *out)
{
    qsort(v, n, sizeof *v, cmp_kc);
    spans_ctx_t x = {.s = out, .first = true};
    for (size_t i = 0; i < n && !x.oom;) {
        int32_t key = v[i].key;
        _Atomic int64_t c;
        uint64_t total = 0;
        for (; i < n && v[i].key == key; i++)
            total += v[i].count;
        atomic_init(&c, (int64_t)total);
        span_visit(&x, key, &c, NULL, 0);
    }
    return !x.oom;
}

int promc__native_snapshot(promc__native_t *nh, promc__native_snap_t *out)
{
    promc__native_snap_t parts[STRIPES];
    size_t np = 0, used = 0, last_used = 0;
    int rc = 0;
    memset(out, 0, sizeof *out);
    for (int k = 0; k < STRIPES && !rc; k++) {
        stripe_t *s = atomic_load_explicit(&nh->s[k], memory_order_acquire);
        if (!s)
            continue;
        rc = stripe_snapshot(s, &parts[np]);
        if (parts[np].count) {
            used++;
            last_used = np;
        }
        np++;
    }
    if (rc || used <= 1) {
        /* One stripe observed into (always so for one thread): its reading as it is. */
        size_t keep = used ? last_used : 0;
        for (size_t i = 0; i < np; i++)
            if (i != keep)
                promc__native_snap_free(&parts[i]);
        if (np)
            *out = parts[keep];
        return rc;
    }
    /* Several: the lowest schema and the widest zero bucket of them, as a reduction makes them. */
    out->classic = promc__calloc(nh->bound_count, sizeof *out->classic);
    kc_t *pos = NULL, *neg = NULL;
    size_t npos = 0, cpos = 0, nneg = 0, cneg = 0;
    bool ok = out->classic != NULL;
    out->schema = parts[0].schema;
    out->zero_threshold = parts[0].zero_threshold;
    for (size_t i = 0; i < np; i++) {
        if (!parts[i].count)
            continue;
        if (parts[i].schema < out->schema)
            out->schema = parts[i].schema;
        if (parts[i].zero_threshold > out->zero_threshold)
            out->zero_threshold = parts[i].zero_threshold;
    }
    for (size_t i = 0; i < np && ok; i++) {
        const promc__native_snap_t *p = &parts[i];
        out->count += p->count;
        out->sum += p->sum;
        out->zero_count += p->zero_count;
        for (size_t b = 0; b < nh->bound_count; b++)
            out->classic[b] += p->classic[b];
        ok = gather_side(&p->pos, p->schema, out->schema, out->zero_threshold, &out->zero_count,
                         &pos, &npos, &cpos) &&
             gather_side(&p->neg, p->schema, out->schema, out->zero_threshold, &out->zero_count,
                         &neg, &nneg, &cneg);
    }
    ok = ok && side_from(pos, npos, &out->pos) && side_from(neg, nneg, &out->neg);
    promc__free(pos);
    promc__free(neg);
    for (size_t i = 0; i < np; i++)
        promc__native_snap_free(&parts[i]);
    return ok ? 0 : PROMC_ENOMEM;
}
