/* Internal: the layout of metrics and their children, shared by metric/, registry/ and expose/.
 *
 * A metric (struct promc_metric) owns its children.  Every child starts with a promc__series
 * header; the typed handles (struct promc_counter, ...) are children.  A metric without label names
 * has one child, its root, which is exposed; a metric with label names has a root that is never
 * exposed and a table of children keyed by label values.
 *
 * Concurrency (docs/threading.md):
 * - Updates touch only a child's atomics.
 * - Lookups read the child table without a lock: the table is an open-addressing array of atomic
 *   child pointers, published with release stores; a miss falls back to the metric's mutex.
 * - Children and tables are never freed while the metric lives: a removed child is unlinked and
 * kept on a retired list, a replaced table likewise, so a lock-free reader never touches freed
 * memory.
 * - Exposition walks a singly linked list of live children in creation order (atomic next
 *   pointers); removal unlinks a child without changing its own next pointer, so a reader standing
 *   on it walks on.  Children created after the walk began (by seq) are skipped. */
#ifndef PROMC_METRIC_INTERNAL_H
#define PROMC_METRIC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include "common/common.h"

typedef struct promc__series promc__series_t;

struct promc__series {
    struct promc_metric *metric;
    const promc_str_t *values; /* the metric's label_count values; NULL for a root */
    uint64_t hash;
    int64_t created_us; /* Unix time in microseconds: exact, so it formats without a float search */
    uint64_t seq;       /* creation number within the metric (1, 2, ...; 0 for a root) */
    _Atomic(promc__series_t *) next; /* exposition list */
    promc__series_t *prev;           /* exposition list (under the lock); retired list after */
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
    promc__series_t s;
    unsigned mask;                    /* stripes - 1 */
    _Atomic unsigned owner;           /* without stripes: the thread slot that owns `owned` */
    promc__counter_stripe_t *stripes; /* NULL: `owned` and `cell` only */
    promc__counter_cell_t cell;       /* shared: atomic adds */
    promc__counter_cell_t owned;      /* written only by the owning thread */
};

struct promc_gauge {
    promc__series_t s;
    _Atomic uint64_t bits;
};

struct promc_summary {
    promc__series_t s;
    _Atomic uint64_t count;
    _Atomic uint64_t sum_bits;
};

struct promc_histogram {
    promc__series_t s;
    _Atomic unsigned owner;        /* the thread slot that owns own_sum_bits and counts[n..2n) */
    _Atomic uint64_t sum_bits;     /* shared: compare-and-swap */
    _Atomic uint64_t own_sum_bits; /* written only by the owning thread */
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
    promc__series_t s;
    promc__info_labels_t *labels; /* under the metric's lock */
};

struct promc_enum {
    promc__series_t s;
    _Atomic size_t state;
};

typedef struct promc__table {
    size_t mask; /* capacity - 1 */
    struct promc__table *retired_next;
    _Atomic(promc__series_t *) slots[];
} promc__table_t;

/* Kinds of registry entries. */
typedef enum promc__entry_kind { PROMC__ENTRY_METRIC, PROMC__ENTRY_COLLECTOR } promc__entry_kind_t;

struct promc_metric {
    promc_type_t type;
    char *name; /* full name, a counter's without _total */
    char *help;
    char *unit; /* "" when none */
    size_t label_count;
    char **label_names;
    /* label_order[k] is the index of the k-th label name in sorted order. */
    size_t *label_order;
    /* Histogram, Enum: where the extra label (le, or the enum's own name) goes among the sorted
     * label names: before label_order[extra_pos]. */
    size_t extra_pos;
    double *bounds;    /* histogram upper bounds, +Inf last */
    char **bound_text; /* their le values, formatted once */
    size_t bound_count;
    char **states; /* enum */
    size_t state_count;
    unsigned stripes;
    size_t child_size;

    pthread_mutex_t lock;
    _Atomic(promc__table_t *) table; /* labelled metrics only */
    size_t live;                     /* children in the table (under the lock) */
    size_t tombstones;               /* (under the lock) */
    _Atomic(promc__series_t *) head; /* exposition list */
    /* The seq of the last child created.  A scrape reads it first and skips children numbered
     * after it, so that a child removed and created again while the scrape walks (appended at the
     * end) is not written twice. */
    _Atomic uint64_t seq;
    promc__series_t *tail;    /* (under the lock) */
    promc__series_t *retired; /* removed children, linked through prev */
    promc__table_t *retired_tables;

    promc__series_t *root;

    /* Registry membership and lifetime.  The registry pointer is claimed with a compare-and-swap
     * (under the claiming registry's lock), so that two registries never both take the metric. */
    _Atomic(promc_registry_t *) registry;
    _Atomic int refs;
};

/* ---- Thread slots (counter.c) -------------------------------------------------------------------
 * Each live thread that updates a series takes a slot number, 1..PROMC__MAX_SLOTS, on its first
 * update and gives it back at exit; PROMC__SLOT_NONE when none was free.  A cell owned by a slot is
 * written only by the thread holding that slot, with plain relaxed loads and stores: no lock
 * prefix. A slot passed from an exited thread to a new one goes through a mutex, which orders the
 * old holder's last store before the new holder's first load. */
#define PROMC__MAX_SLOTS 64
#define PROMC__SLOT_NONE (PROMC__MAX_SLOTS + 1)
extern __thread unsigned promc__tls_slot __attribute__((tls_model("initial-exec")));
unsigned promc__slot_assign(void);

static inline unsigned promc__slot(void)
{
    unsigned slot = promc__tls_slot;
    if (__builtin_expect(slot == 0, 0))
        slot = promc__slot_assign();
    return slot;
}

/* Whether this thread (slot) owns a single-writer cell guarded by `owner`, claiming it when no one
 * has yet: the first thread to update a child owns it, the others use its shared cells. */
static inline bool promc__owns(_Atomic unsigned *owner, unsigned slot)
{
    unsigned o = atomic_load_explicit(owner, memory_order_relaxed);
    if (__builtin_expect(o == slot, 1))
        return true;
    if (o != 0 || slot > PROMC__MAX_SLOTS)
        return false;
    return atomic_compare_exchange_strong_explicit(owner, &o, slot, memory_order_relaxed,
                                                   memory_order_relaxed);
}

/* The tombstone left in a table slot by a removed child. */
extern promc__series_t promc__tombstone;

/* Takes / drops a reference; the last drop frees the metric. */
void promc__metric_ref(promc_metric_t *m);
void promc__metric_unref(promc_metric_t *m);

/* The names the metric's samples use, for duplicate detection: name, and name+suffix for each of
 * the type's suffixes.  Returns how many (at most 5), pointing into a static suffix table. */
size_t promc__metric_suffixes(promc_type_t type, const char *const **suffixes);

/* Common constructor; `extra` sizes and fills the type's own part. */
int promc__metric_create(promc_type_t type, const promc_metric_opts_t *opts, promc_metric_t **out);

/* Lookup-or-create of a child, lock-free when it exists. */
int promc__metric_child(promc_metric_t *m, const promc_str_t *values, size_t n,
                        promc__series_t **out);

/* Type-specific initialisation of a new child's zero value (memory is zeroed before). */
void promc__series_init(promc_metric_t *m, promc__series_t *s);
/* Type-specific teardown of a child (stripes, info labels). */
void promc__series_destroy(promc_metric_t *m, promc__series_t *s);

double promc__counter_get(const struct promc_counter *c);

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
