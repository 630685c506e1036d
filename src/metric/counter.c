/* Counter updates.  A whole increment is one relaxed atomic add on an integer cell; anything else a
 * compare-and-swap loop on a floating cell.  A counter without labels spreads its updates over
 * cache-line cells chosen per thread, so threads hammering one counter do not contend (the idea of
 * Java's LongAdder); reads sum the cells. */
#include <math.h>
#include "metric/metric_internal.h"

/* Each thread takes the next stripe index on its first update.  initial-exec TLS: a plain
 * %fs-relative load, also from the shared library. */
static _Atomic unsigned next_stripe;
static __thread unsigned tls_stripe __attribute__((tls_model("initial-exec")));

static inline promc__counter_cell_t *cell_of(promc_counter_t *c)
{
    if (!c->stripes)
        return &c->cell;
    unsigned i = tls_stripe;
    if (__builtin_expect(i == 0, 0)) {
        i = atomic_fetch_add_explicit(&next_stripe, 1, memory_order_relaxed) + 1;
        if (i == 0)
            i = 1;
        tls_stripe = i;
    }
    return &c->stripes[i & c->mask].cell;
}

void promc_counter_inc(promc_counter_t *c)
{
    atomic_fetch_add_explicit(&cell_of(c)->ival, 1, memory_order_relaxed);
}

int promc_counter_add(promc_counter_t *c, double amount)
{
    if (!(amount >= 0))
        return promc__err(PROMC_ENEGATIVE, "counter '%s': amount %g", c->s.metric->name, amount);
    promc__counter_cell_t *cell = cell_of(c);
    if (amount < 9007199254740992.0 && amount == floor(amount))
        atomic_fetch_add_explicit(&cell->ival, (uint64_t)amount, memory_order_relaxed);
    else
        promc__atomic_add_double(&cell->fbits, amount);
    return 0;
}

static double cell_value(const promc__counter_cell_t *cell)
{
    uint64_t i = atomic_load_explicit(&((promc__counter_cell_t *)cell)->ival, memory_order_relaxed);
    uint64_t f =
        atomic_load_explicit(&((promc__counter_cell_t *)cell)->fbits, memory_order_relaxed);
    return (double)i + promc__bits_to_double(f);
}

double promc__counter_get(const struct promc_counter *c)
{
    if (!c->stripes)
        return cell_value(&c->cell);
    /* Integer parts are summed as integers, so a large count stays exact until the conversion. */
    uint64_t i = 0;
    double f = 0;
    for (unsigned k = 0; k <= c->mask; k++) {
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
