/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the layout of metrics and their children, shared by metric/ and expose/.
 *
 * A metric (struct promc_metric) is a registry entry that owns its children.  Every child starts
 * with a promc__child_t header; the typed handles (struct promc_counter, ...) are children.  A
 * metric without label names has one child, its root, which is exposed; a metric with label names
 * has a root that is never exposed and an index of children keyed by label values
 * (child_index.h).  What differs between types is reached through the metric's ops table, so the
 * common code (metric.c, child.c) calls into no type's file.
 *
 * Concurrency (docs/threading.md):
 * - Updates touch only a child's atomics.
 * - Lookups read the child index without a lock; a miss falls back to the metric's mutex.
 * - Lookups and scrapes run inside read sections (reclaim.h).  A removed child is unlinked and
 *   retired, a replaced index table likewise; retired memory is freed in batches once no read
 *   section that could have seen it is still open, so a lock-free reader never touches freed
 *   memory and a writer never waits for a reader.
 * - Exposition walks a singly linked list of live children in creation order (atomic next
 *   pointers); removal unlinks a child without changing its own next pointer, so a reader standing
 *   on it walks on.  Children created after the walk began (by seq) are skipped. */
#ifndef PROMC_METRIC_INTERNAL_H
#define PROMC_METRIC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <promc/metric.h>
#include "entry.h"

typedef struct promc__child promc__child_t;

struct promc__child {
    struct promc_metric *metric;
    const promc_str_t *values; /* the metric's label_count values; NULL for a root */
    uint64_t hash;
    int64_t created_us; /* Unix time in microseconds: exact, so it formats without a float search */
    uint64_t seq;       /* creation number within the metric (1, 2, ...; 0 for a root) */
    _Atomic(promc__child_t *) next; /* exposition list */
    promc__child_t *prev;           /* exposition list (under the lock); retired list after */
};

/* A counter cell: whole increments are summed exactly as an integer (one atomic add), anything else
 * in a double; the value is their sum, as client_golang keeps it. */
typedef struct promc__counter_cell {
    _Atomic uint64_t ival;
    _Atomic uint64_t fbits;
} promc__counter_cell_t;

#define PROMC__CACHE_LINE 64
typedef struct promc__counter_stripe {
    promc__counter_cell_t cell;
    char pad[PROMC__CACHE_LINE - sizeof(promc__counter_cell_t)];
} promc__counter_stripe_t;

struct promc_counter {
    promc__child_t s;
    _Atomic(struct promc__exemplar *) ex; /* one slot, from the first exemplar (exemplar.h) */
    unsigned mask;                        /* stripes - 1; 0: no stripes (`owned` and `cell` only) */
    _Atomic unsigned owner;               /* without stripes: the thread slot that owns `owned` */
    promc__counter_cell_t cell;           /* shared: atomic adds */
    promc__counter_cell_t owned;          /* written only by the owning thread */
    /* Last, and only read when mask != 0: a counter whose children have no stripes (the
     * children of a labelled counter, by default) allocates them without this field. */
    promc__counter_stripe_t *stripes;
};

struct promc_gauge {
    promc__child_t s;
    _Atomic uint64_t bits;
};

struct promc_summary {
    promc__child_t s;
    _Atomic uint64_t count;
    _Atomic uint64_t sum_bits;
    struct promc__quantiles *q; /* NULL without quantiles (quantile.h) */
};

struct promc_histogram {
    promc__child_t s;
    _Atomic unsigned owner;        /* the thread slot that owns own_sum_bits and counts[n..2n) */
    _Atomic uint64_t sum_bits;     /* shared: compare-and-swap */
    _Atomic uint64_t own_sum_bits; /* written only by the owning thread */
    _Atomic(struct promc__exemplar *) ex; /* a slot per bucket, from the first exemplar */
    struct promc__native *nh;             /* native buckets (native.h), or NULL */
    /* Per upper bound (+Inf last), not cumulative: [0, n) shared (atomic adds), [n, 2n) the
     * owner's. */
    _Atomic uint64_t counts[];
};

/* Info labels: replaced whole under the metric's lock, sorted by name. */
typedef struct promc__info_labels {
    size_t n;
    promc_label_t labels[];
} promc__info_labels_t;

struct promc_info {
    promc__child_t s;
    promc__info_labels_t *labels; /* under the metric's lock */
};

struct promc_enum {
    promc__child_t s;
    _Atomic size_t state;
};

/* What differs between metric types.  Every hook may be NULL. */
typedef struct promc__metric_ops {
    promc_type_t type;
    size_t child_size; /* of the typed child; setup may raise it (a histogram's counts) */
    /* The sample-name suffixes the type takes in a registry (the bare name first). */
    const char *const *suffixes;
    size_t suffix_count;
    bool unitless; /* info and enum: a unit is refused */
    /* A label name the type keeps for itself ("le", "quantile"). */
    const char *reserved_label;
    /* Checks the type's own options before anything is built. */
    int (*check)(const promc_metric_opts_t *o);
    /* Builds the type's own part of the metric (name and label names are set). */
    int (*setup)(struct promc_metric *m, const promc_metric_opts_t *o);
    /* Frees what setup built; runs on a partly built metric too. */
    void (*teardown)(struct promc_metric *m);
    /* Initialises a new child's zero value (memory is zeroed before).  Returns 0 or
     * PROMC_ENOMEM. */
    int (*child_init)(struct promc_metric *m, promc__child_t *c);
    /* Frees what child_init (or later updates) allocated. */
    void (*child_destroy)(struct promc_metric *m, promc__child_t *c);
    /* A digest of the child's value: 0 for the zero value, and different after an update (a
     * counter's or gauge's bits, a histogram's or summary's count, an enum's state, an info's
     * labels).  For the parent-update diagnostic and the expiry sweep. */
    uint64_t (*state)(struct promc_metric *m, const promc__child_t *c);
} promc__metric_ops_t;

typedef struct promc__child_table promc__child_table_t;

/* The lock-free index of a labelled metric's children (child_index.c). */
typedef struct promc__child_index {
    _Atomic(promc__child_table_t *) table;
    size_t live;                   /* children in the table (under the metric's lock) */
    size_t tombstones;             /* (under the metric's lock) */
    promc__child_table_t *retired; /* replaced tables not yet in a grace period */
    promc__child_table_t *waiting; /* replaced tables in the metric's grace period */
    size_t retired_bytes;          /* of the retired tables */
} promc__child_index_t;

struct promc_metric {
    promc__entry_t entry; /* first: the registry holds metrics by their header */
    const promc__metric_ops_t *ops;
    promc_type_t type;
    char *name; /* full name, a counter's without _total */
    char *help;
    char *unit;         /* "" when none */
    size_t label_count; /* the label names children take values for */
    /* The label names, then the const labels' names (label_count + const_count of them), and
     * the const labels' values.  label_order[k] is the index in label_names of the k-th name in
     * sorted order, over all of them (promc__label_value() reads any). */
    char **label_names;
    size_t const_count;
    bool labels_legacy; /* every label name keeps the legacy rules: written as it is */
    promc_str_t *const_values;
    size_t *label_order;
    /* Histogram, Enum: where the extra label (le, or the enum's own name) goes among the sorted
     * label names: before label_order[extra_pos]. */
    size_t extra_pos;
    double *bounds;    /* histogram upper bounds, +Inf last */
    char **bound_text; /* their le values, formatted once */
    size_t bound_count;
    /* native histograms (native.h): PROMC__NATIVE_NONE (INT32_MIN) without */
    int32_t native_schema;
    uint32_t native_max_buckets;
    double native_zero_threshold, native_max_zero_threshold;
    int64_t native_min_reset_ns;
    /* summary quantiles, sorted, with their label text ("0.5") */
    promc_quantile_t *quantiles;
    char **quantile_text;
    size_t quantile_count;
    double max_age;
    unsigned age_buckets;
    char **states; /* enum */
    size_t state_count;
    unsigned stripes; /* counter */
    size_t child_size;

    pthread_mutex_t lock;
    promc__child_index_t index;     /* labelled metrics only */
    _Atomic(promc__child_t *) head; /* exposition list */
    /* The seq of the last child created.  A scrape reads it first and skips children numbered
     * after it, so that a child removed and created again while the scrape walks (appended at the
     * end) is not written twice. */
    _Atomic uint64_t seq;
    promc__child_t *tail; /* (under the lock) */
    /* Reclamation (under the lock): removed children not yet in a grace period, linked through
     * prev, and the batch whose grace period began at waiting_epoch (with the index's waiting
     * tables).  reclaim_due tells a scrape that a batch may be ready to free. */
    promc__child_t *retired;
    size_t retired_bytes; /* of the retired children, and with the index's, the batch trigger */
    promc__child_t *waiting;
    uint64_t waiting_epoch;
    _Atomic bool reclaim_due;

    promc__child_t *root;

    /* Cardinality limit: max_children (0: the registry's default) and what to do at it; label
     * sets refused or folded into the overflow child so far. */
    size_t max_children;
    promc_limit_policy_t on_limit;
    _Atomic uint64_t limited;

    struct promc_metric *all_prev, *all_next; /* every live metric, for fork() (metric.c) */

    /* Expiry (expire_seconds): each child carries a promc__sweep_t at sweep_off; the sweeps
     * remove those whose value digest has not changed for expire_ns (under the lock). */
    int64_t expire_ns;
    size_t sweep_off;
    int64_t last_sweep_ns;
    _Atomic uint64_t expired;
};

typedef struct promc__sweep {
    uint64_t state;     /* the value digest (ops->state) at the last change seen */
    int64_t changed_ns; /* CLOCK_MONOTONIC of that change (or of the child's creation) */
} promc__sweep_t;

/* The value of label i (an index into label_names) of child s: a child's own value, or a const
 * label's. */
static inline promc_str_t promc__label_value(const struct promc_metric *m, const promc__child_t *s,
                                             size_t i)
{
    return i < m->label_count ? s->values[i] : m->const_values[i - m->label_count];
}

/* ---- metric.c ----------------------------------------------------------------------------------
 */

/* The common constructor: validates the options, builds the metric with the type's ops, and
 * registers it unless opts->no_register.  Returns 0 or a PROMC_E* code (nothing is left then). */
int promc__metric_create(const promc__metric_ops_t *ops, const promc_metric_opts_t *opts,
                         promc_metric_t **out);

/* Where `label` sorts among the metric's label names (for m->extra_pos). */
size_t promc__metric_label_pos(const promc_metric_t *m, const char *label);

/* ---- child.c -----------------------------------------------------------------------------------
 */

/* A new child of `m` holding a copy of the values (NULL/0: the root), hash not set.  NULL when
 * out of memory. */
promc__child_t *promc__child_new(promc_metric_t *m, const promc_str_t *values, size_t n);

/* Frees a child that no reader can reach any more. */
void promc__child_free(promc_metric_t *m, promc__child_t *c);

/* Lookup-or-create of a labelled metric's child, lock-free when it exists.  Returns 0,
 * PROMC_EINVAL, PROMC_ENOLABELS, PROMC_ELABELCOUNT or PROMC_ENOMEM. */
int promc__child_get(promc_metric_t *m, const promc_str_t *values, size_t n, promc__child_t **out);

/* The one-shot updates (promc_counter_labels_inc() ...): promc__child_get() inside a read section
 * that stays open until promc__child_end(), so that the child cannot be freed by a concurrent
 * removal before the update is done.  On an error the section is already closed. */
int promc__child_begin(promc_metric_t *m, const promc_str_t *values, size_t n,
                       promc__child_t **out);
void promc__child_end(void);

/* Whether the parent handle of a labelled metric was updated: a mistake, as no series stands for
 * "no label values" and the update is never exposed.  The exposition reports it. */
bool promc__metric_parent_used(promc_metric_t *m);

/* After a scrape of the metric: sweeps it if it expires children and the last sweep is an eighth
 * of its expiry old, when its lock is free at once. */
void promc__metric_sweep_try(promc_metric_t *m);

/* The metric's limit of children: its own max_children, else its registry's default; 0: none. */
size_t promc__metric_child_limit(const promc_metric_t *m);

/* Frees every child, live and retired, and the index (with the metric). */
void promc__children_free(promc_metric_t *m);

/* Frees the batch of retired children and tables whose grace period has ended, and starts one
 * for what was retired since.  Under the metric's lock; never waits. */
void promc__metric_reclaim(promc_metric_t *m);

/* promc__metric_reclaim() if the metric has something to reclaim and its lock is free at once
 * (a scrape calls it after walking the metric, outside its read section). */
void promc__metric_reclaim_try(promc_metric_t *m);

/* ---- counter.c ---------------------------------------------------------------------------------
 */

/* The counter's value: the sum of its cells. */
double promc__counter_get(const struct promc_counter *c);

/* ---- shared atomics ----------------------------------------------------------------------------
 */

static inline double promc__bits_to_double(uint64_t b)
{
    union {
        uint64_t u;
        double d;
    } x = {.u = b};
    return x.d;
}

static inline uint64_t promc__double_to_bits(double d)
{
    union {
        uint64_t u;
        double d;
    } x = {.d = d};
    return x.u;
}

/* Adds to a double kept as bits in an atomic, with a compare-and-swap loop. */
static inline void promc__atomic_add_double(_Atomic uint64_t *bits, double v)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    for (;;) {
        uint64_t upd = promc__double_to_bits(promc__bits_to_double(old) + v);
        if (atomic_compare_exchange_weak_explicit(bits, &old, upd, memory_order_relaxed,
                                                  memory_order_relaxed))
            return;
    }
}

/* Adds to a double that only the calling thread writes: a plain load and store. */
static inline void promc__owned_add_double(_Atomic uint64_t *bits, double v)
{
    uint64_t b = atomic_load_explicit(bits, memory_order_relaxed);
    atomic_store_explicit(bits, promc__double_to_bits(promc__bits_to_double(b) + v),
                          memory_order_relaxed);
}

static inline void promc__owned_add_u64(_Atomic uint64_t *v, uint64_t n)
{
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* A histogram bucket's count (not cumulative): the shared part plus the owner's. */
static inline uint64_t promc__histogram_bucket(const struct promc_histogram *h, size_t i)
{
    size_t n = h->s.metric->bound_count;
    _Atomic uint64_t *c = (_Atomic uint64_t *)h->counts;
    return atomic_load_explicit(&c[i], memory_order_relaxed) +
           atomic_load_explicit(&c[n + i], memory_order_relaxed);
}

#endif
