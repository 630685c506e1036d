/* Info and Enum: rare updates.  Info labels are replaced whole under the metric's lock (the
 * exposition reads them under the same lock); an enum's state is one atomic index. */
#include <stdlib.h>
#include <string.h>
#include "metric/metric_internal.h"

int promc__check_label_name(const char *name, size_t len);

static int cmp_label(const void *a, const void *b)
{
    const promc_label_t *x = a, *y = b;
    size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = memcmp(x->name.ptr, y->name.ptr, n);
    if (c)
        return c;
    return (x->name.len > y->name.len) - (x->name.len < y->name.len);
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
        int rc = promc__check_label_name(labels[k].name.ptr, labels[k].name.len);
        if (rc)
            return rc;
        for (size_t j = 0; j < m->label_count; j++)
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
