/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics: the options every type shares (names, help, unit, label names) validated and built as
 * client_python builds them, the sample names a metric takes in its registry, and its lifetime.
 * What is particular to a type comes through its ops table (metric_internal.h). */
#include <stdlib.h>
#include <string.h>
#include <promc/registry.h>
#include "alloc.h"
#include "child_index.h"
#include "err.h"
#include "fork.h"
#include "metric_internal.h"
#include "names.h"
#include "utf8.h"

/* Builds "ns_subsystem_name", drops a counter's _total, appends _unit: _build_full_name. */
static int build_name(const promc__metric_ops_t *ops, const promc_metric_opts_t *o, char **out)
{
    const char *unit = o->unit ? o->unit : "";
    char *full;
    int rc = promc__name_join(o->ns, o->subsystem, o->name, ops->type == PROMC_COUNTER,
                              strlen(unit) + 1, &full);
    if (rc)
        return rc;
    size_t fl = strlen(full);
    if (unit[0]) {
        if (!promc__name_has_unit(full, fl, unit)) {
            strcat(full, "_");
            strcat(full, unit);
        }
        if (ops->unitless) {
            rc = promc__err(PROMC_EUNIT, "metric '%.100s': an %s cannot have a unit", full,
                            ops->type == PROMC_INFO ? "info" : "enum");
            promc__free(full);
            return rc;
        }
    }
    *out = full;
    return 0;
}

/* Whether the registry the metric will join keeps the legacy name rules. */
static bool legacy_names(const promc_metric_opts_t *o)
{
    return !o->no_register &&
           promc__registry_legacy_names(o->registry ? o->registry : promc_registry_default());
}

static int check_opts(const promc__metric_ops_t *ops, const promc_metric_opts_t *o)
{
    if (!o || !o->name)
        return promc__err(PROMC_EINVAL, "metric options without a name");
    bool legacy = legacy_names(o);
    if (o->label_count && !o->label_names)
        return promc__err(PROMC_EINVAL, "label_count without label_names");
    for (size_t i = 0; i < o->label_count; i++) {
        const char *l = o->label_names[i];
        if (!l)
            return promc__err(PROMC_EINVAL, "label name %zu is NULL", i);
        int rc = promc__name_check_label_as(l, strlen(l), legacy);
        if (rc)
            return rc;
        if (ops->reserved_label && strcmp(l, ops->reserved_label) == 0)
            return promc__err(PROMC_ERESERVED, "label name '%s' is reserved for this type", l);
        for (size_t j = 0; j < i; j++)
            if (strcmp(l, o->label_names[j]) == 0)
                return promc__err(PROMC_ELABELNAME, "label name '%s' given twice", l);
    }
    if (o->const_label_count && !o->const_labels)
        return promc__err(PROMC_EINVAL, "const_label_count without const_labels");
    for (size_t i = 0; i < o->const_label_count; i++) {
        const promc_label_t *l = &o->const_labels[i];
        if ((!l->name.ptr && l->name.len) || (!l->value.ptr && l->value.len))
            return promc__err(PROMC_EINVAL, "const label %zu is NULL", i);
        int rc = promc__name_check_label_as(l->name.ptr, l->name.len, legacy);
        if (rc)
            return rc;
        if (ops->reserved_label && strlen(ops->reserved_label) == l->name.len &&
            memcmp(l->name.ptr, ops->reserved_label, l->name.len) == 0)
            return promc__err(PROMC_ERESERVED, "const label '%s' is reserved for this type",
                              ops->reserved_label);
        for (size_t j = 0; j < o->label_count; j++)
            if (strlen(o->label_names[j]) == l->name.len &&
                memcmp(o->label_names[j], l->name.ptr, l->name.len) == 0)
                return promc__err(PROMC_ELABELNAME, "'%s' is both a label name and a const label",
                                  o->label_names[j]);
        for (size_t j = 0; j < i; j++)
            if (o->const_labels[j].name.len == l->name.len &&
                memcmp(o->const_labels[j].name.ptr, l->name.ptr, l->name.len) == 0)
                return promc__err(PROMC_ELABELNAME, "const label '%.*s' given twice",
                                  (int)l->name.len, l->name.ptr);
        rc = promc__utf8_check(l->value.ptr, l->value.len, "const label '%.*s'", (int)l->name.len,
                               l->name.ptr);
        if (rc)
            return rc;
    }
    if (o->unit && o->unit[0]) {
        int rc = promc__name_check_unit(o->name, o->unit);
        if (rc)
            return rc;
    }
    if (o->help) {
        int rc = promc__utf8_check(o->help, strlen(o->help), "metric '%.100s': help", o->name);
        if (rc)
            return rc;
    }
    if (o->expire_seconds != 0 &&
        (!(o->expire_seconds > 0) || o->expire_seconds > 1e9 || o->label_count == 0))
        return promc__err(PROMC_EINVAL,
                          "metric '%.100s': expire_seconds must be in (0, 1e9], on a metric with "
                          "label names",
                          o->name);
    if ((unsigned)o->on_limit > PROMC_LIMIT_OVERFLOW)
        return promc__err(PROMC_EINVAL, "metric '%.100s': unknown on_limit policy", o->name);
    return ops->check ? ops->check(o) : 0;
}

static int cmp_label_index(const void *a, const void *b, void *names)
{
    char **n = names;
    const char *x = n[*(const size_t *)a], *y = n[*(const size_t *)b];
    return promc__name_cmp(x, strlen(x), y, strlen(y));
}

size_t promc__metric_label_pos(const promc_metric_t *m, const char *label)
{
    size_t pos = 0, ll = strlen(label);
    while (pos < m->label_count + m->const_count) {
        const char *name = m->label_names[m->label_order[pos]];
        if (promc__name_cmp(name, strlen(name), label, ll) >= 0)
            break;
        pos++;
    }
    return pos;
}

/* The names the metric's samples use, for the registry's duplicate detection: the name, and the
 * name with each of the type's suffixes. */
static int build_entry_names(promc_metric_t *m)
{
    const promc__metric_ops_t *ops = m->ops;
    m->entry.names = promc__calloc(ops->suffix_count, sizeof(char *));
    if (!m->entry.names)
        return PROMC_ENOMEM;
    size_t base = strlen(m->name);
    for (size_t i = 0; i < ops->suffix_count; i++) {
        char *n = promc__malloc(base + strlen(ops->suffixes[i]) + 1);
        if (!n)
            return PROMC_ENOMEM;
        memcpy(n, m->name, base);
        strcpy(n + base, ops->suffixes[i]);
        m->entry.names[i] = n;
        m->entry.name_count = i + 1;
    }
    return 0;
}

/* Every live metric, so that fork() can take each one's lock (fork.h, level 30): a child process
 * must not inherit a metric lock held by a thread it does not have. */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static promc_metric_t *all_head;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    pthread_mutex_lock(&all_lock);
    for (promc_metric_t *m = all_head; m; m = m->all_next)
        pthread_mutex_lock(&m->lock);
}

static void fork_release(void)
{
    for (promc_metric_t *m = all_head; m; m = m->all_next)
        pthread_mutex_unlock(&m->lock);
    pthread_mutex_unlock(&all_lock);
}

static void fork_init(void)
{
    (void)promc__atfork_add(PROMC__FORK_METRIC, fork_prepare, fork_release, fork_release);
}

static void list_add(promc_metric_t *m)
{
    pthread_once(&fork_once, fork_init);
    pthread_mutex_lock(&all_lock);
    m->all_next = all_head;
    if (all_head)
        all_head->all_prev = m;
    all_head = m;
    pthread_mutex_unlock(&all_lock);
}

static void list_remove(promc_metric_t *m)
{
    pthread_mutex_lock(&all_lock);
    if (m->all_prev)
        m->all_prev->all_next = m->all_next;
    else if (all_head == m)
        all_head = m->all_next;
    if (m->all_next)
        m->all_next->all_prev = m->all_prev;
    m->all_prev = m->all_next = NULL;
    pthread_mutex_unlock(&all_lock);
}

/* Frees everything of a metric, whole or partly built. */
static void metric_destroy(promc__entry_t *e)
{
    promc_metric_t *m = (promc_metric_t *)e;
    list_remove(m);
    promc__children_free(m);
    if (m->ops->teardown)
        m->ops->teardown(m);
    for (size_t i = 0; m->label_names && i < m->label_count + m->const_count; i++)
        promc__free(m->label_names[i]);
    promc__free(m->label_names);
    promc__free(m->const_values);
    promc__free(m->label_order);
    promc__free(m->name);
    promc__free(m->help);
    promc__free(m->unit);
    promc__entry_fini(&m->entry);
    pthread_mutex_destroy(&m->lock);
    promc__free(m);
}

static int metric_create(const promc__metric_ops_t *ops, const promc_metric_opts_t *o,
                         promc_metric_t **out)
{
    int rc = check_opts(ops, o);
    if (rc)
        return rc;
    if (!out)
        return promc__err(PROMC_EINVAL, "no output pointer");
    promc_metric_t *m = promc__calloc(1, sizeof *m);
    if (!m)
        return promc__err(PROMC_ENOMEM, "metric");
    promc__entry_init(&m->entry, PROMC__ENTRY_METRIC, metric_destroy);
    m->ops = ops;
    m->type = ops->type;
    m->child_size = ops->child_size;
    atomic_init(&m->head, NULL);
    atomic_init(&m->index.table, NULL);
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        promc__free(m);
        return promc__err(PROMC_ESYS, "pthread_mutex_init");
    }
    list_add(m);
    rc = build_name(ops, o, &m->name);
    if (rc)
        goto fail;
    rc = promc__name_check_metric_as("metric name", m->name, legacy_names(o));
    if (rc)
        goto fail;
    m->help = promc__strdup(o->help ? o->help : "");
    m->unit = promc__strdup(o->unit ? o->unit : "");
    if (!m->help || !m->unit)
        goto fail_nomem;
    m->label_count = o->label_count;
    size_t all = o->label_count + o->const_label_count;
    if (all) {
        m->label_names = promc__calloc(all, sizeof(char *));
        m->label_order = promc__calloc(all, sizeof(size_t));
        if (!m->label_names || !m->label_order)
            goto fail_nomem;
        for (size_t i = 0; i < o->label_count; i++) {
            if (!(m->label_names[i] = promc__strdup(o->label_names[i])))
                goto fail_nomem;
            m->label_order[i] = i;
        }
        if (o->const_label_count) {
            /* Names and values in one block each: the names as C strings, the values with
             * their lengths (any bytes). */
            size_t bytes = 0;
            for (size_t i = 0; i < o->const_label_count; i++)
                bytes += o->const_labels[i].value.len;
            m->const_values =
                promc__malloc(o->const_label_count * sizeof(promc_str_t) + (bytes ? bytes : 1));
            if (!m->const_values)
                goto fail_nomem;
            char *p = (char *)(m->const_values + o->const_label_count);
            for (size_t i = 0; i < o->const_label_count; i++) {
                const promc_label_t *l = &o->const_labels[i];
                char *n = promc__malloc(l->name.len + 1);
                if (!n)
                    goto fail_nomem;
                memcpy(n, l->name.ptr, l->name.len);
                n[l->name.len] = '\0';
                m->label_names[o->label_count + i] = n;
                m->const_count = i + 1;
                if (l->value.len)
                    memcpy(p, l->value.ptr, l->value.len);
                m->const_values[i] = (promc_str_t){p, l->value.len};
                p += l->value.len;
                m->label_order[o->label_count + i] = o->label_count + i;
            }
        }
        qsort_r(m->label_order, all, sizeof(size_t), cmp_label_index, m->label_names);
    }
    m->labels_legacy = true;
    for (size_t i = 0; i < all; i++)
        if (!promc__name_legacy_label(m->label_names[i], strlen(m->label_names[i])))
            m->labels_legacy = false;
    m->extra_pos = all;
    m->max_children = o->max_children;
    m->on_limit = o->on_limit;
    if (ops->setup) {
        rc = ops->setup(m, o);
        if (rc == PROMC_ENOMEM)
            goto fail_nomem;
        if (rc)
            goto fail;
    }
    if (o->expire_seconds > 0) {
        m->expire_ns = (int64_t)(o->expire_seconds * 1e9);
        m->sweep_off = (m->child_size + 7) & ~(size_t)7;
        m->child_size = m->sweep_off + sizeof(promc__sweep_t);
    }
    if (build_entry_names(m))
        goto fail_nomem;
    m->root = promc__child_new(m, NULL, 0);
    if (!m->root)
        goto fail_nomem;
    if (!o->label_count) {
        atomic_store_explicit(&m->head, m->root, memory_order_release);
        m->tail = m->root;
    }
    if (!o->no_register) {
        promc_registry_t *r = o->registry ? o->registry : promc_registry_default();
        if (!r)
            goto fail_nomem;
        rc = promc__registry_add(r, &m->entry);
        if (rc)
            goto fail;
    }
    promc__err_clear();
    *out = m;
    return 0;

fail_nomem:
    rc = promc__err(PROMC_ENOMEM, "creating metric '%.100s'", o->name);
fail:
    metric_destroy(&m->entry);
    return rc;
}

/* The registry's const labels (promc_registry_set_const_labels) join the metric's own, after
 * them; a name in both is refused by check_opts() as given twice. */
int promc__metric_create(const promc__metric_ops_t *ops, const promc_metric_opts_t *o,
                         promc_metric_t **out)
{
    size_t rn = 0;
    const promc_label_t *rl = NULL;
    if (o && !o->no_register)
        rl =
            promc__registry_const_labels(o->registry ? o->registry : promc_registry_default(), &rn);
    if (rn == 0)
        return metric_create(ops, o, out);
    if (o->const_label_count && !o->const_labels)
        return promc__err(PROMC_EINVAL, "const_label_count without const_labels");
    size_t n = o->const_label_count + rn;
    promc_label_t *all = promc__malloc(n * sizeof *all);
    if (all == NULL)
        return promc__err(PROMC_ENOMEM, "const labels");
    if (o->const_label_count)
        memcpy(all, o->const_labels, o->const_label_count * sizeof *all);
    memcpy(all + o->const_label_count, rl, rn * sizeof *all);
    promc_metric_opts_t merged = *o;
    merged.const_labels = all;
    merged.const_label_count = n;
    int rc = metric_create(ops, &merged, out);
    promc__free(all);
    return rc;
}

void promc_metric_free(promc_metric_t *m)
{
    if (!m)
        return;
    promc__registry_detach(&m->entry);
    promc__entry_unref(&m->entry);
}

bool promc__metric_parent_used(promc_metric_t *m)
{
    if (!m->label_count || !m->root || !m->ops->state)
        return false;
    pthread_mutex_lock(&m->lock); /* an info's labels change under it */
    bool used = m->ops->state(m, m->root) != 0;
    pthread_mutex_unlock(&m->lock);
    return used;
}

const char *promc_metric_name(const promc_metric_t *m)
{
    return m ? m->name : NULL;
}

promc_type_t promc_metric_type(const promc_metric_t *m)
{
    return m ? m->type : PROMC_UNTYPED;
}

size_t promc_metric_label_count(const promc_metric_t *m)
{
    return m ? m->label_count : 0;
}
