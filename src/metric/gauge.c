/* SPDX-License-Identifier: Apache-2.0 */
/* Gauges: the value is a double kept as bits in one atomic; set is a store, the rest a
 * compare-and-swap loop. */
#include "clock.h"
#include "err.h"
#include "metric_internal.h"

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

void promc_gauge_set_since(promc_gauge_t *g, promc_timer_t t)
{
    promc_gauge_set(g, promc_timer_elapsed(t));
}

/* ---- construction ------------------------------------------------------------------------------
 */

static const char *const gauge_suffixes[] = {""};

static uint64_t gauge_state(promc_metric_t *m, const promc__child_t *s)
{
    (void)m;
    return atomic_load_explicit(&((const struct promc_gauge *)s)->bits, memory_order_relaxed);
}

static const promc__metric_ops_t gauge_ops = {
    .type = PROMC_GAUGE,
    .child_size = sizeof(struct promc_gauge),
    .suffixes = gauge_suffixes,
    .suffix_count = 1,
    .state = gauge_state,
};

int promc_gauge_new(promc_gauge_t **out, const promc_metric_opts_t *opts)
{
    promc_metric_t *m;
    int rc = promc__metric_create(&gauge_ops, opts, &m);
    if (rc)
        return rc;
    *out = (promc_gauge_t *)m->root;
    return 0;
}

int promc_gauge_labels(promc_gauge_t *g, const promc_str_t *values, size_t n, promc_gauge_t **child)
{
    if (!g || !child || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_gauge_labels: NULL argument");
    promc__child_t *s;
    int rc = promc__child_get(g->s.metric, values, n, &s);
    if (rc)
        return rc;
    *child = (promc_gauge_t *)s;
    return 0;
}

int promc_gauge_labels_set(promc_gauge_t *g, const promc_str_t *values, size_t n, double value)
{
    if (!g || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_gauge_labels_set: NULL argument");
    promc__child_t *s;
    int rc = promc__child_begin(g->s.metric, values, n, &s);
    if (rc)
        return rc;
    promc_gauge_set((promc_gauge_t *)s, value);
    promc__child_end();
    return 0;
}

int promc_gauge_labels_add(promc_gauge_t *g, const promc_str_t *values, size_t n, double amount)
{
    if (!g || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_gauge_labels_add: NULL argument");
    promc__child_t *s;
    int rc = promc__child_begin(g->s.metric, values, n, &s);
    if (rc)
        return rc;
    promc_gauge_add((promc_gauge_t *)s, amount);
    promc__child_end();
    return 0;
}

promc_metric_t *promc_gauge_metric(promc_gauge_t *g)
{
    return g ? g->s.metric : NULL;
}

void promc_gauge_free(promc_gauge_t *g)
{
    if (g && g->s.metric->root == &g->s)
        promc_metric_free(g->s.metric);
}
