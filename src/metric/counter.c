/* SPDX-License-Identifier: Apache-2.0 */
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
#include <stddef.h>
#include "alloc.h"
#include "err.h"
#include "exemplar.h"
#include "metric_internal.h"
#include "slots.h"

/* The cell this thread may write with plain stores, or NULL: then the shared cell, with atomic
 * adds.  A counter without labels has a cell per slot; a child has one cell, owned by the first
 * thread that updates it. */
static inline promc__counter_cell_t *own_cell(promc_counter_t *c)
{
    unsigned slot = promc__slot();
    if (c->mask)
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
    for (unsigned k = 0; c->mask && k <= c->mask; k++) {
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

/* ---- construction ------------------------------------------------------------------------------
 */

static const char *const counter_suffixes[] = {"", "_total", "_created"};

static int counter_setup(promc_metric_t *m, const promc_metric_opts_t *o)
{
    unsigned st = o->stripes;
    if (st == 0)
        st = o->label_count ? 1 : 8;
    if (st > 64)
        st = 64;
    unsigned p2 = 1;
    while (p2 < st)
        p2 <<= 1;
    m->stripes = p2;
    /* Without stripes no child reads the stripes pointer: leave it out (8 bytes a child). */
    if (p2 <= 1)
        m->child_size = offsetof(struct promc_counter, stripes);
    return 0;
}

static int counter_child_init(promc_metric_t *m, promc__child_t *s)
{
    struct promc_counter *c = (struct promc_counter *)s;
    /* The root of a labelled metric is never exposed: it needs no stripes. */
    if (m->stripes <= 1 || (m->label_count && !s->values))
        return 0;
    c->stripes =
        promc__malloc_aligned(m->stripes * sizeof(promc__counter_stripe_t), PROMC__CACHE_LINE);
    if (!c->stripes)
        return PROMC_ENOMEM;
    for (unsigned i = 0; i < m->stripes; i++) {
        atomic_init(&c->stripes[i].cell.ival, 0);
        atomic_init(&c->stripes[i].cell.fbits, 0);
    }
    c->mask = m->stripes - 1;
    return 0;
}

static void counter_child_destroy(promc_metric_t *m, promc__child_t *s)
{
    (void)m;
    struct promc_counter *c = (struct promc_counter *)s;
    if (c->mask)
        promc__free_aligned(c->stripes);
    promc__free(atomic_load_explicit(&c->ex, memory_order_relaxed));
}

int promc_counter_add_exemplar(promc_counter_t *c, double amount, const promc_label_t *labels,
                               size_t n)
{
    if (c == NULL)
        return promc__err(PROMC_EINVAL, "promc_counter_add_exemplar: NULL counter");
    char text[PROMC__EXEMPLAR_WORDS * 8];
    size_t len;
    int rc = promc__exemplar_format(labels, n, text, &len);
    if (rc)
        return rc;
    if ((rc = promc_counter_add(c, amount)) != 0)
        return rc;
    promc__exemplar_t *slot = promc__exemplar_slots(&c->ex, 1);
    if (slot == NULL)
        return promc__err(PROMC_ENOMEM, "exemplar slot");
    promc__exemplar_store(slot, text, len, amount);
    return 0;
}

static uint64_t counter_state(promc_metric_t *m, const promc__child_t *s)
{
    (void)m;
    return promc__double_to_bits(promc__counter_get((const struct promc_counter *)s));
}

static const promc__metric_ops_t counter_ops = {
    .type = PROMC_COUNTER,
    .child_size = sizeof(struct promc_counter),
    .suffixes = counter_suffixes,
    .suffix_count = sizeof counter_suffixes / sizeof counter_suffixes[0],
    .setup = counter_setup,
    .child_init = counter_child_init,
    .child_destroy = counter_child_destroy,
    .state = counter_state,
};

int promc_counter_new(promc_counter_t **out, const promc_metric_opts_t *opts)
{
    promc_metric_t *m;
    int rc = promc__metric_create(&counter_ops, opts, &m);
    if (rc)
        return rc;
    *out = (promc_counter_t *)m->root;
    return 0;
}

int promc_counter_labels(promc_counter_t *c, const promc_str_t *values, size_t n,
                         promc_counter_t **child)
{
    if (!c || !child || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_counter_labels: NULL argument");
    promc__child_t *s;
    int rc = promc__child_get(c->s.metric, values, n, &s);
    if (rc)
        return rc;
    *child = (promc_counter_t *)s;
    return 0;
}

int promc_counter_labels_inc(promc_counter_t *c, const promc_str_t *values, size_t n)
{
    if (!c || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_counter_labels_inc: NULL argument");
    promc__child_t *s;
    int rc = promc__child_begin(c->s.metric, values, n, &s);
    if (rc)
        return rc;
    promc_counter_inc((promc_counter_t *)s);
    promc__child_end();
    return 0;
}

int promc_counter_labels_add(promc_counter_t *c, const promc_str_t *values, size_t n, double amount)
{
    if (!c || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_counter_labels_add: NULL argument");
    if (!(amount >= 0))
        return promc__err(PROMC_ENEGATIVE, "counter '%s': amount %g", c->s.metric->name, amount);
    promc__child_t *s;
    int rc = promc__child_begin(c->s.metric, values, n, &s);
    if (rc)
        return rc;
    rc = promc_counter_add((promc_counter_t *)s, amount);
    promc__child_end();
    return rc;
}

promc_metric_t *promc_counter_metric(promc_counter_t *c)
{
    return c ? c->s.metric : NULL;
}

void promc_counter_free(promc_counter_t *c)
{
    if (c && c->s.metric->root == &c->s)
        promc_metric_free(c->s.metric);
}
