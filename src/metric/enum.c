/* SPDX-License-Identifier: Apache-2.0 */
/* Enums ("stateset" in OpenMetrics): the current state is one atomic index. */
#include <string.h>
#include "alloc.h"
#include "err.h"
#include "metric_internal.h"
#include "utf8.h"

int promc_enum_set(promc_enum_t *e, size_t state)
{
    if (state >= e->s.metric->state_count)
        return promc__err(PROMC_ENOENT, "enum '%s': no state %zu", e->s.metric->name, state);
    atomic_store_explicit(&e->state, state, memory_order_relaxed);
    return 0;
}

int promc_enum_set_state(promc_enum_t *e, const char *state)
{
    promc_metric_t *m = e->s.metric;
    for (size_t k = 0; state && k < m->state_count; k++)
        if (strcmp(m->states[k], state) == 0) {
            atomic_store_explicit(&e->state, k, memory_order_relaxed);
            return 0;
        }
    return promc__err(PROMC_ENOENT, "enum '%s': no state '%.100s'", m->name,
                      state ? state : "(null)");
}

size_t promc_enum_get(const promc_enum_t *e)
{
    return atomic_load_explicit(&((promc_enum_t *)e)->state, memory_order_relaxed);
}

/* ---- construction ------------------------------------------------------------------------------
 */

static const char *const enum_suffixes[] = {""};

static int enum_check(const promc_metric_opts_t *o)
{
    if (!o->states || !o->state_count)
        return promc__err(PROMC_EINVAL, "enum '%.100s' without states", o->name);
    for (size_t i = 0; i < o->state_count; i++) {
        if (!o->states[i])
            return promc__err(PROMC_EINVAL, "enum state %zu is NULL", i);
        int rc = promc__utf8_check(o->states[i], strlen(o->states[i]), "enum '%.100s': state %zu",
                                   o->name, i);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->states[i], o->states[j]) == 0)
                return promc__err(PROMC_EINVAL, "enum '%.100s': state '%.100s' given twice",
                                  o->name, o->states[i]);
    }
    return 0;
}

/* The states, and where the enum's own label (its name) sorts among the label names. */
static int enum_setup(promc_metric_t *m, const promc_metric_opts_t *o)
{
    for (size_t i = 0; i < m->label_count + m->const_count; i++)
        if (strcmp(m->label_names[i], m->name) == 0)
            return promc__err(PROMC_EOVERLAP, "enum '%s' has a label of its own name", m->name);
    m->states = promc__calloc(o->state_count, sizeof(char *));
    if (!m->states)
        return PROMC_ENOMEM;
    m->state_count = o->state_count;
    for (size_t i = 0; i < o->state_count; i++)
        if (!(m->states[i] = promc__strdup(o->states[i])))
            return PROMC_ENOMEM;
    m->extra_pos = promc__metric_label_pos(m, m->name);
    return 0;
}

static void enum_teardown(promc_metric_t *m)
{
    for (size_t i = 0; m->states && i < m->state_count; i++)
        promc__free(m->states[i]);
    promc__free(m->states);
}

static uint64_t enum_state(promc_metric_t *m, const promc__child_t *s)
{
    (void)m;
    return atomic_load_explicit(&((const struct promc_enum *)s)->state, memory_order_relaxed);
}

static const promc__metric_ops_t enum_ops = {
    .type = PROMC_ENUM,
    .child_size = sizeof(struct promc_enum),
    .suffixes = enum_suffixes,
    .suffix_count = sizeof enum_suffixes / sizeof enum_suffixes[0],
    .unitless = true,
    .check = enum_check,
    .setup = enum_setup,
    .teardown = enum_teardown,
    .state = enum_state,
};

int promc_enum_new(promc_enum_t **out, const promc_metric_opts_t *opts)
{
    promc_metric_t *m;
    int rc = promc__metric_create(&enum_ops, opts, &m);
    if (rc)
        return rc;
    *out = (promc_enum_t *)m->root;
    return 0;
}

int promc_enum_labels(promc_enum_t *x, const promc_str_t *values, size_t n, promc_enum_t **child)
{
    if (!x || !child || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_enum_labels: NULL argument");
    promc__child_t *s;
    int rc = promc__child_get(x->s.metric, values, n, &s);
    if (rc)
        return rc;
    *child = (promc_enum_t *)s;
    return 0;
}

promc_metric_t *promc_enum_metric(promc_enum_t *x)
{
    return x ? x->s.metric : NULL;
}

void promc_enum_free(promc_enum_t *x)
{
    if (x && x->s.metric->root == &x->s)
        promc_metric_free(x->s.metric);
}
