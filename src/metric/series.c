/* Type-specific parts of a child's lifetime, and the typed handles' casts to their metric. */
#include "metric/metric_internal.h"

void promc__series_init(promc_metric_t *m, promc__series_t *s)
{
    switch (m->type) {
    case PROMC_COUNTER: {
        struct promc_counter *c = (struct promc_counter *)s;
        /* The root of a labelled metric is never exposed: it needs no stripes. */
        bool striped = m->stripes > 1 && !(m->label_count && !s->values);
        if (striped) {
            c->stripes = promc__malloc_aligned(m->stripes * sizeof(promc__counter_stripe_t),
                                               PROMC__CACHE_LINE);
            if (c->stripes) {
                for (unsigned i = 0; i < m->stripes; i++) {
                    atomic_init(&c->stripes[i].cell.ival, 0);
                    atomic_init(&c->stripes[i].cell.fbits, 0);
                }
                c->mask = m->stripes - 1;
            }
        }
        break;
    }
    case PROMC_ENUM:
    case PROMC_GAUGE:
    case PROMC_HISTOGRAM:
    case PROMC_SUMMARY:
    case PROMC_INFO:
    case PROMC_UNTYPED:
        break; /* zeroed memory is the zero value: 0.0 is all-zero bits */
    }
}

void promc__series_destroy(promc_metric_t *m, promc__series_t *s)
{
    switch (m->type) {
    case PROMC_COUNTER:
        promc__free_aligned(((struct promc_counter *)s)->stripes);
        break;
    case PROMC_INFO:
        promc__free(((struct promc_info *)s)->labels);
        break;
    case PROMC_GAUGE:
    case PROMC_HISTOGRAM:
    case PROMC_SUMMARY:
    case PROMC_ENUM:
    case PROMC_UNTYPED:
        break;
    }
}

#define CASTS(type)                                                                                \
    promc_metric_t *promc_##type##_metric(promc_##type##_t *x)                                     \
    {                                                                                              \
        return x ? x->s.metric : NULL;                                                             \
    }                                                                                              \
    void promc_##type##_free(promc_##type##_t *x)                                                  \
    {                                                                                              \
        if (x && x->s.metric->root == &x->s)                                                       \
            promc_metric_free(x->s.metric);                                                        \
    }

CASTS(counter)
CASTS(gauge)
CASTS(histogram)
CASTS(summary)
CASTS(info)
CASTS(enum)

#define CTOR(type, TYPE)                                                                           \
    int promc_##type##_new(promc_##type##_t **out, const promc_metric_opts_t *opts)                \
    {                                                                                              \
        promc_metric_t *m;                                                                         \
        int rc = promc__metric_create(TYPE, opts, &m);                                             \
        if (rc)                                                                                    \
            return rc;                                                                             \
        *out = (promc_##type##_t *)m->root;                                                        \
        return 0;                                                                                  \
    }                                                                                              \
    int promc_##type##_labels(promc_##type##_t *x, const promc_str_t *values, size_t n,            \
                              promc_##type##_t **child)                                            \
    {                                                                                              \
        if (!x || !child || (n && !values))                                                        \
            return promc__err(PROMC_EINVAL, "promc_" #type "_labels: NULL argument");              \
        promc__series_t *s;                                                                        \
        int rc = promc__metric_child(x->s.metric, values, n, &s);                                  \
        if (rc)                                                                                    \
            return rc;                                                                             \
        *child = (promc_##type##_t *)s;                                                            \
        return 0;                                                                                  \
    }

CTOR(counter, PROMC_COUNTER)
CTOR(gauge, PROMC_GAUGE)
CTOR(histogram, PROMC_HISTOGRAM)
CTOR(summary, PROMC_SUMMARY)
CTOR(info, PROMC_INFO)
CTOR(enum, PROMC_ENUM)
