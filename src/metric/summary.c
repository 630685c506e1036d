/* SPDX-License-Identifier: Apache-2.0 */
/* Summaries as client_python keeps them: a count and a sum, no quantiles. */
#include "err.h"
#include "metric_internal.h"

void promc_summary_observe(promc_summary_t *s, double value)
{
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    promc__atomic_add_double(&s->sum_bits, value);
}

uint64_t promc_summary_count(const promc_summary_t *s)
{
    return atomic_load_explicit(&((promc_summary_t *)s)->count, memory_order_relaxed);
}

double promc_summary_sum(const promc_summary_t *s)
{
    return promc__bits_to_double(
        atomic_load_explicit(&((promc_summary_t *)s)->sum_bits, memory_order_relaxed));
}

void promc_summary_observe_since(promc_summary_t *s, promc_timer_t t)
{
    promc_summary_observe(s, promc_timer_elapsed(t));
}

/* ---- construction ------------------------------------------------------------------------------
 */

static const char *const summary_suffixes[] = {"", "_sum", "_count", "_created"};

static uint64_t summary_state(promc_metric_t *m, const promc__child_t *s)
{
    (void)m;
    return atomic_load_explicit(&((const struct promc_summary *)s)->count, memory_order_relaxed);
}

static const promc__metric_ops_t summary_ops = {
    .type = PROMC_SUMMARY,
    .child_size = sizeof(struct promc_summary),
    .suffixes = summary_suffixes,
    .suffix_count = sizeof summary_suffixes / sizeof summary_suffixes[0],
    .reserved_label = "quantile",
    .state = summary_state,
};

int promc_summary_new(promc_summary_t **out, const promc_metric_opts_t *opts)
{
    promc_metric_t *m;
    int rc = promc__metric_create(&summary_ops, opts, &m);
    if (rc)
        return rc;
    *out = (promc_summary_t *)m->root;
    return 0;
}

int promc_summary_labels(promc_summary_t *s, const promc_str_t *values, size_t n,
                         promc_summary_t **child)
{
    if (!s || !child || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_summary_labels: NULL argument");
    promc__child_t *c;
    int rc = promc__child_get(s->s.metric, values, n, &c);
    if (rc)
        return rc;
    *child = (promc_summary_t *)c;
    return 0;
}

int promc_summary_labels_observe(promc_summary_t *s, const promc_str_t *values, size_t n,
                                 double value)
{
    if (!s || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_summary_labels_observe: NULL argument");
    promc__child_t *c;
    int rc = promc__child_begin(s->s.metric, values, n, &c);
    if (rc)
        return rc;
    promc_summary_observe((promc_summary_t *)c, value);
    promc__child_end();
    return 0;
}

promc_metric_t *promc_summary_metric(promc_summary_t *s)
{
    return s ? s->s.metric : NULL;
}

void promc_summary_free(promc_summary_t *s)
{
    if (s && s->s.metric->root == &s->s)
        promc_metric_free(s->s.metric);
}
