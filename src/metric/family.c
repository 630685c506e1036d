/* Metrics as families of children: validation and naming as client_python does them, the lock-free
 * child table, removal, and lifetime.  The layout and the concurrency rules are described in
 * metric_internal.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "metric/metric_internal.h"
#include "registry/registry_internal.h"

promc__series_t promc__tombstone;

promc_str_t promc_str(const char *s)
{
    promc_str_t r = {s ? s : "", s ? strlen(s) : 0};
    return r;
}

/* ---- validation ------------------------------------------------------------------------------ */

static bool is_alpha_(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
static int check_metric_name(const char *name)
{
    if (!name[0])
        return promc__err(PROMC_ENAME, "metric name is empty");
    for (size_t i = 0; name[i]; i++) {
        char c = name[i];
        if (!(is_alpha_(c) || c == ':' || (i > 0 && is_digit(c))))
            return promc__err(PROMC_ENAME, "metric name '%.100s': invalid character at offset %zu",
                              name, i);
    }
    return 0;
}

/* [a-zA-Z_][a-zA-Z0-9_]* without a "__" prefix. */
static int check_label_name(const char *name, size_t len)
{
    if (len == 0)
        return promc__err(PROMC_ELABELNAME, "label name is empty");
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!(is_alpha_(c) || (i > 0 && is_digit(c))))
            return promc__err(PROMC_ELABELNAME,
                              "label name '%.*s': invalid character at offset %zu",
                              (int)(len > 100 ? 100 : len), name, i);
    }
    if (len >= 2 && name[0] == '_' && name[1] == '_')
        return promc__err(PROMC_ERESERVED, "label name '%.*s': the __ prefix is reserved",
                          (int)(len > 100 ? 100 : len), name);
    return 0;
}

int promc__check_label_name(const char *name, size_t len);
int promc__check_label_name(const char *name, size_t len)
{
    return check_label_name(name, len);
}

size_t promc__metric_suffixes(promc_type_t type, const char *const **suffixes)
{
    static const char *const counter[] = {"", "_total", "_created"};
    static const char *const summary[] = {"", "_sum", "_count", "_created"};
    static const char *const histogram[] = {"", "_bucket", "_sum", "_count", "_created"};
    static const char *const info[] = {"", "_info"};
    static const char *const plain[] = {""};
    switch (type) {
    case PROMC_COUNTER:
        *suffixes = counter;
        return 3;
    case PROMC_SUMMARY:
        *suffixes = summary;
        return 4;
    case PROMC_HISTOGRAM:
        *suffixes = histogram;
        return 5;
    case PROMC_INFO:
        *suffixes = info;
        return 2;
    case PROMC_GAUGE:
    case PROMC_ENUM:
    case PROMC_UNTYPED:
        *suffixes = plain;
        return 1;
    }
    *suffixes = plain;
    return 1;
}

static const double default_buckets[] = {.005, .01, .025, .05, .075, .1,  .25,
                                         .5,   .75, 1.0,  2.5, 5.0,  7.5, 10.0};

const double *promc_histogram_default_buckets(size_t *count)
{
    if (count)
        *count = sizeof default_buckets / sizeof default_buckets[0];
    return default_buckets;
}

/* Builds "ns_subsystem_name", drops a counter's _total, appends _unit: _build_full_name. */
static int build_name(promc_type_t type, const promc_metric_opts_t *o, char **out)
{
    const char *ns = o->ns ? o->ns : "";
    const char *sub = o->subsystem ? o->subsystem : "";
    const char *unit = o->unit ? o->unit : "";
    size_t len = strlen(ns) + strlen(sub) + strlen(o->name) + strlen(unit) + 4;
    char *full = promc__malloc(len);
    if (!full)
        return promc__err(PROMC_ENOMEM, "metric name");
    full[0] = '\0';
    if (ns[0]) {
        strcat(full, ns);
        strcat(full, "_");
    }
    if (sub[0]) {
        strcat(full, sub);
        strcat(full, "_");
    }
    strcat(full, o->name);
    size_t fl = strlen(full);
    if (type == PROMC_COUNTER && fl >= 6 && strcmp(full + fl - 6, "_total") == 0)
        full[fl -= 6] = '\0';
    if (unit[0]) {
        size_t ul = strlen(unit);
        bool has = fl > ul && full[fl - ul - 1] == '_' && strcmp(full + fl - ul, unit) == 0;
        if (!has) {
            strcat(full, "_");
            strcat(full, unit);
        }
        if (type == PROMC_INFO || type == PROMC_ENUM) {
            int rc = promc__err(PROMC_EUNIT, "metric '%.100s': an %s cannot have a unit", full,
                                type == PROMC_INFO ? "info" : "enum");
            promc__free(full);
            return rc;
        }
    }
    *out = full;
    return 0;
}

/* ---- construction ---------------------------------------------------------------------------- */

static int cmp_label_index(const void *a, const void *b, void *names)
{
    char **n = names;
    return strcmp(n[*(const size_t *)a], n[*(const size_t *)b]);
}

static size_t child_size_of(const promc_metric_t *m)
{
    switch (m->type) {
    case PROMC_COUNTER:
        return sizeof(struct promc_counter);
    case PROMC_GAUGE:
        return sizeof(struct promc_gauge);
    case PROMC_HISTOGRAM:
        return sizeof(struct promc_histogram) + 2 * m->bound_count * sizeof(_Atomic uint64_t);
    case PROMC_SUMMARY:
        return sizeof(struct promc_summary);
    case PROMC_INFO:
        return sizeof(struct promc_info);
    case PROMC_ENUM:
        return sizeof(struct promc_enum);
    case PROMC_UNTYPED:
        return sizeof(promc__series_t);
    }
    return sizeof(promc__series_t);
}

static void metric_destroy(promc_metric_t *m)
{
    if (!m)
        return;
    /* Live children, then retired ones, then the root (labelled metrics keep it off the list). */
    promc__series_t *s = atomic_load_explicit(&m->head, memory_order_relaxed);
    while (s) {
        promc__series_t *next = atomic_load_explicit(&s->next, memory_order_relaxed);
        if (s != m->root) {
            promc__series_destroy(m, s);
            promc__free(s);
        }
        s = next;
    }
    s = m->retired;
    while (s) {
        promc__series_t *next = s->prev;
        promc__series_destroy(m, s);
        promc__free(s);
        s = next;
    }
    if (m->root) {
        promc__series_destroy(m, m->root);
        promc__free(m->root);
    }
    promc__free(atomic_load_explicit(&m->table, memory_order_relaxed));
    for (promc__table_t *t = m->retired_tables; t;) {
        promc__table_t *next = t->retired_next;
        promc__free(t);
        t = next;
    }
    for (size_t i = 0; m->label_names && i < m->label_count; i++)
        promc__free(m->label_names[i]);
    promc__free(m->label_names);
    promc__free(m->label_order);
    for (size_t i = 0; m->bound_text && i < m->bound_count; i++)
        promc__free(m->bound_text[i]);
    promc__free(m->bound_text);
    promc__free(m->bounds);
    for (size_t i = 0; m->states && i < m->state_count; i++)
        promc__free(m->states[i]);
    promc__free(m->states);
    promc__free(m->name);
    promc__free(m->help);
    promc__free(m->unit);
    pthread_mutex_destroy(&m->lock);
    promc__free(m);
}

static promc__series_t *series_alloc(promc_metric_t *m, const promc_str_t *values, size_t n)
{
    /* One block: the child, then its values' descriptors, then their bytes. */
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += values[i].len;
    size_t head = (m->child_size + 7) & ~(size_t)7;
    promc__series_t *s = promc__calloc(1, head + n * sizeof(promc_str_t) + bytes);
    if (!s)
        return NULL;
    s->metric = m;
    if (values) {
        promc_str_t *v = (promc_str_t *)((char *)s + head);
        char *p = (char *)(v + n);
        for (size_t i = 0; i < n; i++) {
            if (values[i].len)
                memcpy(p, values[i].ptr, values[i].len);
            v[i].ptr = p;
            v[i].len = values[i].len;
            p += values[i].len;
        }
        s->values = v;
        s->hash = promc__hash_values(values, n);
    }
    s->created_us = promc__now_unix_us();
    promc__series_init(m, s);
    return s;
}

static int check_opts(promc_type_t type, const promc_metric_opts_t *o)
{
    if (!o || !o->name)
        return promc__err(PROMC_EINVAL, "metric options without a name");
    if (o->label_count && !o->label_names)
        return promc__err(PROMC_EINVAL, "label_count without label_names");
    for (size_t i = 0; i < o->label_count; i++) {
        const char *l = o->label_names[i];
        if (!l)
            return promc__err(PROMC_EINVAL, "label name %zu is NULL", i);
        int rc = check_label_name(l, strlen(l));
        if (rc)
            return rc;
        if ((type == PROMC_HISTOGRAM && strcmp(l, "le") == 0) ||
            (type == PROMC_SUMMARY && strcmp(l, "quantile") == 0))
            return promc__err(PROMC_ERESERVED, "label name '%s' is reserved for this type", l);
        for (size_t j = 0; j < i; j++)
            if (strcmp(l, o->label_names[j]) == 0)
                return promc__err(PROMC_ELABELNAME, "label name '%s' given twice", l);
    }
    if (o->unit && o->unit[0]) {
        for (const char *p = o->unit; *p; p++)
            if (!(is_alpha_(*p) || is_digit(*p) || *p == ':'))
                return promc__err(PROMC_EUNIT, "unit '%.100s': invalid character", o->unit);
    }
    if (type == PROMC_HISTOGRAM && o->bucket_count && !o->buckets)
        return promc__err(PROMC_EINVAL, "bucket_count without buckets");
    if (type == PROMC_ENUM) {
        if (!o->states || !o->state_count)
            return promc__err(PROMC_EINVAL, "enum '%.100s' without states", o->name);
        for (size_t i = 0; i < o->state_count; i++) {
            if (!o->states[i])
                return promc__err(PROMC_EINVAL, "enum state %zu is NULL", i);
            for (size_t j = 0; j < i; j++)
                if (strcmp(o->states[i], o->states[j]) == 0)
                    return promc__err(PROMC_EINVAL, "enum '%.100s': state '%.100s' given twice",
                                      o->name, o->states[i]);
        }
    }
    return 0;
}

int promc__metric_create(promc_type_t type, const promc_metric_opts_t *o, promc_metric_t **out)
{
    int rc = check_opts(type, o);
    if (rc)
        return rc;
    if (!out)
        return promc__err(PROMC_EINVAL, "no output pointer");
    promc_metric_t *m = promc__calloc(1, sizeof *m);
    if (!m)
        return promc__err(PROMC_ENOMEM, "metric");
    m->type = type;
    atomic_init(&m->refs, 1);
    atomic_init(&m->head, NULL);
    atomic_init(&m->table, NULL);
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        promc__free(m);
        return promc__err(PROMC_ESYS, "pthread_mutex_init");
    }
    rc = build_name(type, o, &m->name);
    if (rc)
        goto fail;
    rc = check_metric_name(m->name);
    if (rc)
        goto fail;
    if (type == PROMC_ENUM) {
        for (size_t i = 0; i < o->label_count; i++)
            if (strcmp(o->label_names[i], m->name) == 0) {
                rc = promc__err(PROMC_EOVERLAP, "enum '%s' has a label of its own name", m->name);
                goto fail;
            }
    }
    rc = PROMC_ENOMEM;
    m->help = promc__strdup(o->help ? o->help : "");
    m->unit = promc__strdup(o->unit ? o->unit : "");
    if (!m->help || !m->unit)
        goto fail_nomem;
    m->label_count = o->label_count;
    if (o->label_count) {
        m->label_names = promc__calloc(o->label_count, sizeof(char *));
        m->label_order = promc__calloc(o->label_count, sizeof(size_t));
        if (!m->label_names || !m->label_order)
            goto fail_nomem;
        for (size_t i = 0; i < o->label_count; i++) {
            if (!(m->label_names[i] = promc__strdup(o->label_names[i])))
                goto fail_nomem;
            m->label_order[i] = i;
        }
        qsort_r(m->label_order, m->label_count, sizeof(size_t), cmp_label_index, m->label_names);
    }
    if (type == PROMC_HISTOGRAM) {
        const double *b = o->buckets;
        size_t nb = o->bucket_count;
        if (!b)
            b = promc_histogram_default_buckets(&nb);
        for (size_t i = 1; i < nb; i++)
            if (!(b[i - 1] < b[i])) {
                rc = promc__err(PROMC_EBUCKETS, "histogram '%s': buckets not strictly increasing",
                                m->name);
                goto fail;
            }
        for (size_t i = 0; i < nb; i++)
            if (isnan(b[i])) {
                rc = promc__err(PROMC_EBUCKETS, "histogram '%s': NaN bucket", m->name);
                goto fail;
            }
        bool has_inf = nb && isinf(b[nb - 1]) && b[nb - 1] > 0;
        m->bound_count = nb + (has_inf ? 0 : 1);
        if (m->bound_count < 2) {
            rc = promc__err(PROMC_EBUCKETS, "histogram '%s': must have at least two buckets",
                            m->name);
            goto fail;
        }
        m->bounds = promc__calloc(m->bound_count, sizeof(double));
        m->bound_text = promc__calloc(m->bound_count, sizeof(char *));
        if (!m->bounds || !m->bound_text)
            goto fail_nomem;
        for (size_t i = 0; i < m->bound_count; i++) {
            m->bounds[i] = i < nb ? b[i] : INFINITY;
            char buf[32];
            promc__fmt_double(m->bounds[i], buf);
            if (!(m->bound_text[i] = promc__strdup(buf)))
                goto fail_nomem;
        }
    }
    if (type == PROMC_ENUM) {
        m->states = promc__calloc(o->state_count, sizeof(char *));
        if (!m->states)
            goto fail_nomem;
        m->state_count = o->state_count;
        for (size_t i = 0; i < o->state_count; i++)
            if (!(m->states[i] = promc__strdup(o->states[i])))
                goto fail_nomem;
    }
    /* Where le / the enum label sorts among the label names. */
    const char *extra = type == PROMC_HISTOGRAM ? "le" : type == PROMC_ENUM ? m->name : NULL;
    if (extra) {
        while (m->extra_pos < m->label_count &&
               strcmp(m->label_names[m->label_order[m->extra_pos]], extra) < 0)
            m->extra_pos++;
    }
    if (type == PROMC_COUNTER) {
        unsigned st = o->stripes;
        if (st == 0)
            st = o->label_count ? 1 : 8;
        if (st > 64)
            st = 64;
        unsigned p2 = 1;
        while (p2 < st)
            p2 <<= 1;
        m->stripes = p2;
    }
    m->child_size = child_size_of(m);
    m->root = series_alloc(m, NULL, 0);
    if (!m->root)
        goto fail_nomem;
    if (type == PROMC_COUNTER && !o->label_count && m->stripes > 1 &&
        !((struct promc_counter *)m->root)->stripes)
        goto fail_nomem;
    if (!o->label_count) {
        atomic_store_explicit(&m->head, m->root, memory_order_release);
        m->tail = m->root;
    }
    if (!o->no_register) {
        promc_registry_t *r = o->registry ? o->registry : promc_registry_default();
        if (!r)
            goto fail_nomem;
        rc = promc__registry_add(r, PROMC__ENTRY_METRIC, m);
        if (rc)
            goto fail;
    }
    promc__err_clear();
    *out = m;
    return 0;

fail_nomem:
    rc = promc__err(PROMC_ENOMEM, "creating metric '%.100s'", o->name);
fail:
    metric_destroy(m);
    return rc;
}

/* ---- lifetime -------------------------------------------------------------------------------- */

void promc__metric_ref(promc_metric_t *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void promc__metric_unref(promc_metric_t *m)
{
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        metric_destroy(m);
}

void promc_metric_free(promc_metric_t *m)
{
    if (!m)
        return;
    promc__registry_detach(PROMC__ENTRY_METRIC, m);
    promc__metric_unref(m);
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

/* ---- children -------------------------------------------------------------------------------- */

static bool values_equal(const promc__series_t *s, const promc_str_t *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s->values[i].len != values[i].len)
            return false;
        if (values[i].len && memcmp(s->values[i].ptr, values[i].ptr, values[i].len) != 0)
            return false;
    }
    return true;
}

/* Probes a table; returns the child or NULL, and in *slot the index of the first free slot met
 * (an empty one, or a tombstone) for an insertion. */
static promc__series_t *table_find(promc__table_t *t, uint64_t hash, const promc_str_t *values,
                                   size_t n, size_t *slot)
{
    size_t i = hash & t->mask;
    size_t first_free = SIZE_MAX;
    for (size_t probes = 0; probes <= t->mask; probes++) {
        promc__series_t *s = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (!s) {
            if (slot)
                *slot = first_free != SIZE_MAX ? first_free : i;
            return NULL;
        }
        if (s == &promc__tombstone) {
            if (first_free == SIZE_MAX)
                first_free = i;
        } else if (s->hash == hash && values_equal(s, values, n)) {
            return s;
        }
        i = (i + 1) & t->mask;
    }
    if (slot)
        *slot = first_free;
    return NULL;
}

/* Replaces the table by one of `cap` slots holding the live children; the old one is retired. */
static int table_rebuild(promc_metric_t *m, size_t cap)
{
    promc__table_t *old = atomic_load_explicit(&m->table, memory_order_relaxed);
    promc__table_t *t = promc__calloc(1, sizeof *t + cap * sizeof(t->slots[0]));
    if (!t)
        return PROMC_ENOMEM;
    t->mask = cap - 1;
    if (old) {
        for (size_t i = 0; i <= old->mask; i++) {
            promc__series_t *s = atomic_load_explicit(&old->slots[i], memory_order_relaxed);
            if (!s || s == &promc__tombstone)
                continue;
            size_t j = s->hash & t->mask;
            while (atomic_load_explicit(&t->slots[j], memory_order_relaxed))
                j = (j + 1) & t->mask;
            atomic_store_explicit(&t->slots[j], s, memory_order_relaxed);
        }
        old->retired_next = m->retired_tables;
        m->retired_tables = old;
    }
    m->tombstones = 0;
    atomic_store_explicit(&m->table, t, memory_order_release);
    return 0;
}

int promc__metric_child(promc_metric_t *m, const promc_str_t *values, size_t n,
                        promc__series_t **out)
{
    if (m->label_count == 0)
        return promc__err(PROMC_ENOLABELS, "metric '%s' has no label names", m->name);
    if (n != m->label_count)
        return promc__err(PROMC_ELABELCOUNT, "metric '%s' takes %zu label values, got %zu", m->name,
                          m->label_count, n);
    for (size_t i = 0; i < n; i++)
        if (!values[i].ptr && values[i].len)
            return promc__err(PROMC_EINVAL, "label value %zu is NULL", i);
    uint64_t hash = promc__hash_values(values, n);
    promc__table_t *t = atomic_load_explicit(&m->table, memory_order_acquire);
    if (t) {
        promc__series_t *s = table_find(t, hash, values, n, NULL);
        if (s) {
            *out = s;
            return 0;
        }
    }

    /* Slow path: look again under the lock, create if still absent. */
    pthread_mutex_lock(&m->lock);
    int rc = 0;
    t = atomic_load_explicit(&m->table, memory_order_relaxed);
    size_t slot = 0;
    promc__series_t *s = t ? table_find(t, hash, values, n, &slot) : NULL;
    if (s)
        goto done;
    if (!t || (m->live + m->tombstones + 1) * 2 > t->mask + 1) {
        size_t cap = t ? t->mask + 1 : 16;
        while ((m->live + 1) * 2 > cap)
            cap *= 2;
        if ((m->live + 1) * 4 > cap)
            cap *= 2;
        if (table_rebuild(m, cap)) {
            rc = promc__err(PROMC_ENOMEM, "child table of '%s'", m->name);
            goto done;
        }
        t = atomic_load_explicit(&m->table, memory_order_relaxed);
        table_find(t, hash, values, n, &slot);
    }
    s = series_alloc(m, values, n);
    if (!s ||
        (m->type == PROMC_COUNTER && m->stripes > 1 && !((struct promc_counter *)s)->stripes)) {
        if (s) {
            promc__series_destroy(m, s);
            promc__free(s);
        }
        s = NULL;
        rc = promc__err(PROMC_ENOMEM, "child of '%s'", m->name);
        goto done;
    }
    s->hash = hash;
    /* Numbered under the lock, before publication (the list's release store carries it). */
    s->seq = atomic_load_explicit(&m->seq, memory_order_relaxed) + 1;
    atomic_store_explicit(&m->seq, s->seq, memory_order_relaxed);
    if (atomic_load_explicit(&t->slots[slot], memory_order_relaxed) == &promc__tombstone)
        m->tombstones--;
    m->live++;
    /* Append to the exposition list before publishing in the table. */
    s->prev = m->tail;
    if (m->tail)
        atomic_store_explicit(&m->tail->next, s, memory_order_release);
    else
        atomic_store_explicit(&m->head, s, memory_order_release);
    m->tail = s;
    atomic_store_explicit(&t->slots[slot], s, memory_order_release);
done:
    pthread_mutex_unlock(&m->lock);
    if (!rc)
        *out = s;
    return rc;
}

/* Unlinks a child from the exposition list and retires it (under the lock). */
static void unlink_child(promc_metric_t *m, promc__series_t *s)
{
    promc__series_t *next = atomic_load_explicit(&s->next, memory_order_relaxed);
    if (s->prev)
        atomic_store_explicit(&s->prev->next, next, memory_order_release);
    else
        atomic_store_explicit(&m->head, next, memory_order_release);
    if (next)
        next->prev = s->prev;
    else
        m->tail = s->prev;
    s->prev = m->retired;
    m->retired = s;
}

int promc_metric_remove(promc_metric_t *m, const promc_str_t *values, size_t n)
{
    if (!m)
        return promc__err(PROMC_EINVAL, "promc_metric_remove: NULL metric");
    if (m->label_count == 0)
        return promc__err(PROMC_ENOLABELS, "metric '%s' has no label names", m->name);
    if (n != m->label_count)
        return promc__err(PROMC_ELABELCOUNT, "metric '%s' takes %zu label values, got %zu", m->name,
                          m->label_count, n);
    if (!values)
        return promc__err(PROMC_EINVAL, "promc_metric_remove: NULL values");
    for (size_t i = 0; i < n; i++)
        if (!values[i].ptr && values[i].len)
            return promc__err(PROMC_EINVAL, "label value %zu is NULL", i);
    uint64_t hash = promc__hash_values(values, n);
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    promc__table_t *t = atomic_load_explicit(&m->table, memory_order_relaxed);
    promc__series_t *s = NULL;
    size_t i = 0;
    if (t) {
        i = hash & t->mask;
        for (size_t probes = 0; probes <= t->mask; probes++, i = (i + 1) & t->mask) {
            promc__series_t *c = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
            if (!c)
                break;
            if (c != &promc__tombstone && c->hash == hash && values_equal(c, values, n)) {
                s = c;
                break;
            }
        }
    }
    if (!s) {
        rc = promc__err(PROMC_ENOENT, "metric '%s' has no child with these label values", m->name);
    } else {
        atomic_store_explicit(&t->slots[i], &promc__tombstone, memory_order_release);
        m->live--;
        m->tombstones++;
        unlink_child(m, s);
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

void promc_metric_clear(promc_metric_t *m)
{
    if (!m || m->label_count == 0)
        return;
    pthread_mutex_lock(&m->lock);
    promc__table_t *old = atomic_load_explicit(&m->table, memory_order_relaxed);
    if (old) {
        promc__table_t *t = promc__calloc(1, sizeof *t + 16 * sizeof(t->slots[0]));
        if (t) {
            t->mask = 15;
            atomic_store_explicit(&m->table, t, memory_order_release);
        } else {
            /* No memory for a fresh table: tombstone every slot of the old one instead. */
            for (size_t i = 0; i <= old->mask; i++)
                if (atomic_load_explicit(&old->slots[i], memory_order_relaxed))
                    atomic_store_explicit(&old->slots[i], &promc__tombstone, memory_order_release);
            old = NULL;
        }
        if (old) {
            old->retired_next = m->retired_tables;
            m->retired_tables = old;
            m->tombstones = 0;
        } else {
            m->tombstones += m->live;
        }
    }
    while (m->tail)
        unlink_child(m, m->tail);
    m->live = 0;
    pthread_mutex_unlock(&m->lock);
}
