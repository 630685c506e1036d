/* SPDX-License-Identifier: Apache-2.0 */
/* Info metrics: rare updates.  The info labels are replaced whole under the metric's lock (the
 * exposition reads them under the same lock). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "err.h"
#include "metric_internal.h"
#include "names.h"
#include "utf8.h"

static int cmp_label(const void *a, const void *b)
{
    const promc_label_t *x = a, *y = b;
    return promc__name_cmp(x->name.ptr, x->name.len, y->name.ptr, y->name.len);
}

int promc_info_set(promc_info_t *i, const promc_label_t *labels, size_t n)
{
    if (!i || (n && !labels))
        return promc__err(PROMC_EINVAL, "promc_info_set: NULL argument");
    promc_metric_t *m = i->s.metric;
    size_t bytes = 0;
    for (size_t k = 0; k < n; k++) {
        if ((!labels[k].name.ptr && labels[k].name.len) ||
            (!labels[k].value.ptr && labels[k].value.len))
            return promc__err(PROMC_EINVAL, "promc_info_set: label %zu is NULL", k);
        int rc = promc__name_check_label_as(
            labels[k].name.ptr, labels[k].name.len,
            promc__registry_legacy_names(atomic_load(&m->entry.registry)));
        if (!rc)
            rc = promc__utf8_check(labels[k].value.ptr, labels[k].value.len,
                                   "info '%.100s': label '%.*s'", m->name, (int)labels[k].name.len,
                                   labels[k].name.ptr);
        if (rc)
            return rc;
        for (size_t j = 0; j < m->label_count + m->const_count; j++)
            if (strlen(m->label_names[j]) == labels[k].name.len &&
                memcmp(m->label_names[j], labels[k].name.ptr, labels[k].name.len) == 0)
                return promc__err(PROMC_EOVERLAP, "info '%s': label '%s' is a label of the metric",
                                  m->name, m->label_names[j]);
        bytes += labels[k].name.len + labels[k].value.len;
    }
    promc__info_labels_t *nl = promc__malloc(sizeof *nl + n * sizeof(promc_label_t) + bytes);
    if (!nl)
        return promc__err(PROMC_ENOMEM, "info labels");
    nl->n = n;
    char *p = (char *)(nl->labels + n);
    for (size_t k = 0; k < n; k++) {
        memcpy(p, labels[k].name.ptr, labels[k].name.len);
        nl->labels[k].name = (promc_str_t){p, labels[k].name.len};
        p += labels[k].name.len;
        if (labels[k].value.len)
            memcpy(p, labels[k].value.ptr, labels[k].value.len);
        nl->labels[k].value = (promc_str_t){p, labels[k].value.len};
        p += labels[k].value.len;
    }
    qsort(nl->labels, n, sizeof(promc_label_t), cmp_label);
    for (size_t k = 1; k < n; k++)
        if (cmp_label(&nl->labels[k - 1], &nl->labels[k]) == 0) {
            int rc = promc__err(PROMC_ELABELNAME, "info '%s': label '%.*s' given twice", m->name,
                                (int)nl->labels[k].name.len, nl->labels[k].name.ptr);
            promc__free(nl);
            return rc;
        }
    pthread_mutex_lock(&m->lock);
    promc__info_labels_t *old = i->labels;
    i->labels = nl;
    pthread_mutex_unlock(&m->lock);
    promc__free(old);
    return 0;
}

/* ---- construction ------------------------------------------------------------------------------
 */

static const char *const info_suffixes[] = {"", "_info"};

static void info_child_destroy(promc_metric_t *m, promc__child_t *s)
{
    (void)m;
    promc__free(((struct promc_info *)s)->labels);
}

/* The labels' address: replaced whole by every promc_info_set().  The caller holds the metric's
 * lock, under which the labels change. */
static uint64_t info_state(promc_metric_t *m, const promc__child_t *s)
{
    (void)m;
    return (uint64_t)(uintptr_t)((const struct promc_info *)s)->labels;
}

static const promc__metric_ops_t info_ops = {
    .type = PROMC_INFO,
    .child_size = sizeof(struct promc_info),
    .suffixes = info_suffixes,
    .suffix_count = sizeof info_suffixes / sizeof info_suffixes[0],
    .unitless = true,
    .child_destroy = info_child_destroy,
    .state = info_state,
};

int promc_info_new(promc_info_t **out, const promc_metric_opts_t *opts)
{
    promc_metric_t *m;
    int rc = promc__metric_create(&info_ops, opts, &m);
    if (rc)
        return rc;
    *out = (promc_info_t *)m->root;
    return 0;
}

int promc_info_labels(promc_info_t *x, const promc_str_t *values, size_t n, promc_info_t **child)
{
    if (!x || !child || (n && !values))
        return promc__err(PROMC_EINVAL, "promc_info_labels: NULL argument");
    promc__child_t *s;
    int rc = promc__child_get(x->s.metric, values, n, &s);
    if (rc)
        return rc;
    *child = (promc_info_t *)s;
    return 0;
}

promc_metric_t *promc_info_metric(promc_info_t *x)
{
    return x ? x->s.metric : NULL;
}

void promc_info_free(promc_info_t *x)
{
    if (x && x->s.metric->root == &x->s)
        promc_metric_free(x->s.metric);
}
