/* SPDX-License-Identifier: Apache-2.0 */
/* Summaries: a count and a sum as client_python keeps them, and, when asked, quantiles as
 * client_golang computes them (quantile.c). */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "err.h"
#include "fmt.h"
#include "metric_internal.h"
#include "quantile.h"
#include "slots.h"

void promc_summary_observe(promc_summary_t *s, double value)
{
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    promc__atomic_add_double(&s->sum_bits, value);
    if (s->q && value == value)
        promc__q_observe(s->q, promc__slot(), value);
}

static int summary_check(const promc_metric_opts_t *o)
{
    if (o->quantile_count && !o->quantiles)
        return promc__err(PROMC_EINVAL, "summary '%.100s': quantile_count without quantiles",
                          o->name);
    for (size_t i = 0; i < o->quantile_count; i++) {
        double q = o->quantiles[i].quantile, e = o->quantiles[i].error;
        if (!(q > 0 && q < 1))
            return promc__err(PROMC_EINVAL,
                              "summary '%.100s': quantiles[%zu].quantile %g is not in (0, 1)",
                              o->name, i, q);
        if (!(e > 0 && e < 1))
            return promc__err(PROMC_EINVAL,
                              "summary '%.100s': quantiles[%zu].error %g is not in (0, 1)", o->name,
                              i, e);
        for (size_t j = 0; j < i; j++)
            if (o->quantiles[j].quantile == q)
                return promc__err(PROMC_EINVAL, "summary '%.100s': quantile %g given twice",
                                  o->name, q);
    }
    if (o->max_age < 0 || o->max_age != o->max_age)
        return promc__err(PROMC_EINVAL, "summary '%.100s': max_age must be 0 or positive", o->name);
    if (o->age_buckets > 1000)
        return promc__err(PROMC_EINVAL, "summary '%.100s': age_buckets %u (at most 1000)", o->name,
                          o->age_buckets);
    return 0;
}

static int cmp_quantile(const void *a, const void *b)
{
    double x = ((const promc_quantile_t *)a)->quantile, y = ((const promc_quantile_t *)b)->quantile;
    return x < y ? -1 : x > y;
}

static int summary_setup(promc_metric_t *m, const promc_metric_opts_t *o)
{
    if (!o->quantile_count)
        return 0;
    m->quantiles = promc__malloc(o->quantile_count * sizeof *m->quantiles);
    m->quantile_text = promc__calloc(o->quantile_count, sizeof *m->quantile_text);
    if (!m->quantiles || !m->quantile_text)
        return PROMC_ENOMEM;
    memcpy(m->quantiles, o->quantiles, o->quantile_count * sizeof *m->quantiles);
    m->quantile_count = o->quantile_count;
    qsort(m->quantiles, m->quantile_count, sizeof *m->quantiles, cmp_quantile);
    for (size_t i = 0; i < m->quantile_count; i++) {
        char buf[32];
        promc__fmt_double(m->quantiles[i].quantile, buf);
        if (!(m->quantile_text[i] = promc__strdup(buf)))
            return PROMC_ENOMEM;
    }
    m->max_age = o->max_age;
    m->age_buckets = o->age_buckets;
    m->extra_pos = promc__metric_label_pos(m, "quantile");
    return 0;
}

static void summary_teardown(promc_metric_t *m)
{
    for (size_t i = 0; m->quantile_text && i < m->quantile_count; i++)
        promc__free(m->quantile_text[i]);
    promc__free(m->quantile_text);
    promc__free(m->quantiles);
}

static int summary_child_init(promc_metric_t *m, promc__child_t *c)
{
    /* The root of a labelled metric is never exposed: no streams for it. */
    if (!m->quantile_count || (m->label_count && !c->values))
        return 0;
    struct promc_summary *s = (struct promc_summary *)c;
    s->q = promc__q_new(m->quantiles, m->quantile_count, m->max_age, m->age_buckets, &m->lock);
    return s->q ? 0 : PROMC_ENOMEM;
}

static void summary_child_destroy(promc_metric_t *m, promc__child_t *c)
{
    (void)m;
    promc__q_free(((struct promc_summary *)c)->q);
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
    .check = summary_check,
    .setup = summary_setup,
    .teardown = summary_teardown,
    .child_init = summary_child_init,
    .child_destroy = summary_child_destroy,
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
