/* Counter updates.
 *
 * A cell keeps whole increments as an exact integer and the rest in a double (client_golang's
 * split): an increment is then one atomic add, and counts stay exact past 2^53.  client_python
 * keeps one double, so where whole and fractional increments mix, its digits can differ in the last
 * place (0.7 + 1 + 1 + 0.1: 2.8000000000000003 there, 2.8 here; listed in
 * tests/conformance/compare.py).  A child of a labelled counter has two cells: one owned by the
 * first thread that updates it (plain stores, as below), one shared by every other thread (atomic
 * adds).
 *
 * A counter without labels is the one every thread of a process tends to hit, so it has a row of
 * cache-line cells, one per thread slot: each live thread that updates counters owns a slot number
 * (taken on its first update, given back when it exits), and only the owner ever writes the cell of
 * its slot.  The owner's update is then a plain load, add and store (relaxed atomics, no lock
 * prefix, no cache line shared with another writer), and readers sum the cells.  Threads beyond
 * the number of cells share the counter's own cell with atomic adds.  A slot handed from an
 * exited thread to a new one passes through a mutex, which orders the old owner's last store before
 * the new owner's first load. */
#include "metric/metric_internal.h"

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t slots_used; /* bit i: slot i owned by a live thread (under slot_lock) */
static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

/* 0: not assigned yet; 1..PROMC__MAX_SLOTS: slot + 1; PROMC__SLOT_NONE: none was free.
 * initial-exec TLS: one %fs-relative load, also from the shared library. */
__thread unsigned promc__tls_slot __attribute__((tls_model("initial-exec")));

/* Runs on the exiting thread.  Its later counter updates (from a thread-exit destructor that runs
 * after this one) go to the shared cells with atomic adds: the slot may belong to a new thread as
 * soon as the lock is released. */
static void slot_release(void *v)
{
    unsigned slot = (unsigned)(uintptr_t)v - 1;
    promc__tls_slot = PROMC__SLOT_NONE;
    pthread_mutex_lock(&slot_lock);
    slots_used &= ~((uint64_t)1 << slot);
    pthread_mutex_unlock(&slot_lock);
}

/* fork(): the child has one thread, the one that forked, and a copy of slot_lock as it was.  Held
 * then by a thread that does not exist in the child, it would stay locked for good, and the
 * child's first new thread to update a counter would wait on it forever.  So the lock is taken
 * around fork() and released on both sides; in the child, the slots of the threads left behind go
 * back to the pool (their exit destructors never run there). */
static void slot_prefork(void)
{
    pthread_mutex_lock(&slot_lock);
}

static void slot_postfork_parent(void)
{
    pthread_mutex_unlock(&slot_lock);
}

static void slot_postfork_child(void)
{
    unsigned mine = promc__tls_slot;
    slots_used = mine >= 1 && mine <= PROMC__MAX_SLOTS ? (uint64_t)1 << (mine - 1) : 0;
    pthread_mutex_unlock(&slot_lock);
}

static void slot_init(void)
{
    if (pthread_key_create(&slot_key, slot_release) != 0) {
        slot_key = (pthread_key_t)-1;
        return;
    }
    (void)pthread_atfork(slot_prefork, slot_postfork_parent, slot_postfork_child);
}

unsigned promc__slot_assign(void)
{
    pthread_once(&slot_once, slot_init);
    unsigned got = PROMC__SLOT_NONE;
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
    promc__tls_slot = got;
    return got;
}

/* The cell this thread may write with plain stores, or NULL: then the shared cell, with atomic
 * adds.  A counter without labels has a cell per slot; a child has one cell, owned by the first
 * thread that updates it. */
static inline promc__counter_cell_t *own_cell(promc_counter_t *c)
{
    unsigned slot = promc__slot();
    if (c->stripes)
        return slot - 1 <= c->mask ? &c->stripes[slot - 1].cell : NULL;
    return promc__owns(&c->owner, slot) ? &c->owned : NULL;
}

static inline bool is_whole(double amount)
{
    return amount < 9007199254740992.0 && amount == (double)(uint64_t)amount;
}

void promc_counter_inc(promc_counter_t *c)
{
    promc__counter_cell_t *own = own_cell(c);
    if (own) {
        promc__owned_add_u64(&own->ival, 1);
        return;
    }
    atomic_fetch_add_explicit(&c->cell.ival, 1, memory_order_relaxed);
}

int promc_counter_add(promc_counter_t *c, double amount)
{
    if (!(amount >= 0))
        return promc__err(PROMC_ENEGATIVE, "counter '%s': amount %g", c->s.metric->name, amount);
    bool whole = is_whole(amount);
    promc__counter_cell_t *own = own_cell(c);
    if (own) {
        if (whole)
            promc__owned_add_u64(&own->ival, (uint64_t)amount);
        else
            promc__owned_add_double(&own->fbits, amount);
        return 0;
    }
    if (whole)
        atomic_fetch_add_explicit(&c->cell.ival, (uint64_t)amount, memory_order_relaxed);
    else
        promc__atomic_add_double(&c->cell.fbits, amount);
    return 0;
}

double promc__counter_get(const struct promc_counter *c)
{
    /* Integer parts are summed as integers, so a large count stays exact until the conversion. */
    promc__counter_cell_t *shared = (promc__counter_cell_t *)&c->cell;
    promc__counter_cell_t *owned = (promc__counter_cell_t *)&c->owned;
    uint64_t i = atomic_load_explicit(&shared->ival, memory_order_relaxed) +
                 atomic_load_explicit(&owned->ival, memory_order_relaxed);
    double f = promc__bits_to_double(atomic_load_explicit(&shared->fbits, memory_order_relaxed)) +
               promc__bits_to_double(atomic_load_explicit(&owned->fbits, memory_order_relaxed));
    for (unsigned k = 0; c->stripes && k <= c->mask; k++) {
        promc__counter_cell_t *cell = &c->stripes[k].cell;
        i += atomic_load_explicit(&cell->ival, memory_order_relaxed);
        f += promc__bits_to_double(atomic_load_explicit(&cell->fbits, memory_order_relaxed));
    }
    return (double)i + f;
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
