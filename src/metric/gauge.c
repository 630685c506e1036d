/* Gauge updates: the value is a double kept as bits in one atomic; set is a store, the rest a
 * compare-and-swap loop.  Also the timers, which feed gauges, histograms and summaries. */
#include "metric/metric_internal.h"

void promc_gauge_add(promc_gauge_t *g, double amount)
{
    promc__atomic_add_double(&g->bits, amount);
}

void promc_gauge_inc(promc_gauge_t *g)
{
    promc__atomic_add_double(&g->bits, 1.0);
}

void promc_gauge_dec(promc_gauge_t *g)
{
    promc__atomic_add_double(&g->bits, -1.0);
}

void promc_gauge_sub(promc_gauge_t *g, double amount)
{
    promc__atomic_add_double(&g->bits, -amount);
}

void promc_gauge_set(promc_gauge_t *g, double value)
{
    atomic_store_explicit(&g->bits, promc__double_to_bits(value), memory_order_relaxed);
}

void promc_gauge_set_to_current_time(promc_gauge_t *g)
{
    promc_gauge_set(g, promc__now_unix());
}

double promc_gauge_value(const promc_gauge_t *g)
{
    return promc__bits_to_double(
        atomic_load_explicit(&((promc_gauge_t *)g)->bits, memory_order_relaxed));
}

promc_timer_t promc_timer_start(void)
{
    promc_timer_t t = {promc__now_mono_ns()};
    return t;
}

double promc_timer_elapsed(promc_timer_t t)
{
    return (double)(promc__now_mono_ns() - t.start_ns) / 1e9;
}

void promc_gauge_set_since(promc_gauge_t *g, promc_timer_t t)
{
    promc_gauge_set(g, promc_timer_elapsed(t));
}
