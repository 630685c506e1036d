/* Counter updates.
 *
 * The value is a double, added to in the order of the updates exactly as client_python's float is
 * (whole increments are not kept apart as integers, as client_golang does: that would be more exact
 * past 2^53 but would print other digits than client_python for the same increments).  A child of
 * a labelled counter has one cell, updated with a compare-and-swap loop.
 *
 * A counter without labels is the one every thread of a process tends to hit, so it has a row of
 * cache-line cells, one per thread slot: each live thread that updates counters owns a slot number
 * (taken on its first update, given back when it exits), and only the owner ever writes the cell of
 * its slot.  The owner's update is then a plain load, add and store (relaxed atomics, no lock
 * prefix, no cache line shared with another writer), and readers sum the cells.  Threads beyond
 * the number of cells share the counter's own cell with compare-and-swap.  A slot handed from an
 * exited thread to a new one passes through a mutex, which orders the old owner's last store before
 * the new owner's first load. */
#include "metric/metric_internal.h"

#define MAX_SLOTS 64

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t slots_used; /* bit i: slot i owned by a live thread (under slot_lock) */
static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

/* 0: not assigned yet; 1..MAX_SLOTS: slot + 1; MAX_SLOTS + 1: none was free.
 * initial-exec TLS: one %fs-relative load, also from the shared library. */
static __thread unsigned tls_slot __attribute__((tls_model("initial-exec")));

static void slot_release(void *v)
{
    unsigned slot = (unsigned)(uintptr_t)v - 1;
    pthread_mutex_lock(&slot_lock);
    slots_used &= ~((uint64_t)1 << slot);
    pthread_mutex_unlock(&slot_lock);
}

static void slot_init(void)
{
    if (pthread_key_create(&slot_key, slot_release) != 0)
        slot_key = (pthread_key_t)-1;
}

static unsigned slot_assign(void)
{
    pthread_once(&slot_once, slot_init);
    unsigned got = MAX_SLOTS + 1;
    if (slot_key != (pthread_key_t)-1) {
        pthread_mutex_lock(&slot_lock);
        if (~slots_used) {
            unsigned i = (unsigned)__builtin_ctzll(~slots_used);
            /* The destructor returns the slot at thread exit; without it the slot is not ours. */
            if (pthread_setspecific(slot_key, (void *)(uintptr_t)(i + 1)) == 0) {
                slots_used |= (uint64_t)1 << i;
                got = i + 1;
            }
        }
        pthread_mutex_unlock(&slot_lock);
    }
    tls_slot = got;
    return got;
}

/* The cell this thread owns in c, or NULL: then the shared cell, with atomic adds. */
static inline promc__counter_cell_t *own_cell(promc_counter_t *c)
{
    if (!c->stripes)
        return NULL;
    unsigned slot = tls_slot;
    if (__builtin_expect(slot == 0, 0))
        slot = slot_assign();
    if (slot - 1 <= c->mask)
        return &c->stripes[slot - 1].cell;
    return NULL;
}

static inline void cell_add_owned(promc__counter_cell_t *own, double amount)
{
    uint64_t b = atomic_load_explicit(&own->bits, memory_order_relaxed);
    atomic_store_explicit(&own->bits, promc__double_to_bits(promc__bits_to_double(b) + amount),
                          memory_order_relaxed);
}

void promc_counter_inc(promc_counter_t *c)
{
    promc__counter_cell_t *own = own_cell(c);
    if (own)
        cell_add_owned(own, 1.0);
    else
        promc__atomic_add_double(&c->cell.bits, 1.0);
}

int promc_counter_add(promc_counter_t *c, double amount)
{
    if (!(amount >= 0))
        return promc__err(PROMC_ENEGATIVE, "counter '%s': amount %g", c->s.metric->name, amount);
    promc__counter_cell_t *own = own_cell(c);
    if (own)
        cell_add_owned(own, amount);
    else
        promc__atomic_add_double(&c->cell.bits, amount);
    return 0;
}

double promc__counter_get(const struct promc_counter *c)
{
    promc__counter_cell_t *shared = (promc__counter_cell_t *)&c->cell;
    double v = promc__bits_to_double(atomic_load_explicit(&shared->bits, memory_order_relaxed));
    for (unsigned k = 0; c->stripes && k <= c->mask; k++)
        v += promc__bits_to_double(
            atomic_load_explicit(&c->stripes[k].cell.bits, memory_order_relaxed));
    return v;
}

double promc_counter_value(const promc_counter_t *c)
{
    return promc__counter_get(c);
}

int promc_counter_count_errors(promc_counter_t *c, int rc)
{
    if (rc < 0)
        promc_counter_inc(c);
    return rc;
}
