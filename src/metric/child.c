/* SPDX-License-Identifier: Apache-2.0 */
/* Children: allocation, lookup-or-create, removal, the exposition list, and reclamation.
 *
 * A child is one block: the typed child, then its values' descriptors, then their bytes.  The
 * exposition list holds the live children in creation order; a removed child is unlinked from it
 * (its own next pointer left as it was, so a scrape standing on it walks on) and retired.  Retired
 * children go back to the allocator in batches (reclaim.h): every RECLAIM_BYTES retired, at
 * every clear, and after a scrape of the metric, each time freeing the batch whose grace period
 * has ended and starting one for what was retired since. */
#include <string.h>
#include "alloc.h"
#include "child_index.h"
#include "clock.h"
#include "err.h"
#include "hash.h"
#include "metric_internal.h"
#include "reclaim.h"
#include "utf8.h"

/* Retired memory (children and replaced index tables) between two reclaim attempts: an attempt
 * costs a system call and a barrier on every CPU running the process (membarrier), so it is paid
 * for a batch: about a thousand small children, or one table of 16,384 slots. */
#define RECLAIM_BYTES (128 * 1024)

static void retired_grew(promc_metric_t *m)
{
    if (m->retired_bytes + m->index.retired_bytes >= RECLAIM_BYTES)
        promc__metric_reclaim(m);
    else
        atomic_store_explicit(&m->reclaim_due, true, memory_order_relaxed);
}

promc__child_t *promc__child_new(promc_metric_t *m, const promc_str_t *values, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += values[i].len;
    size_t head = (m->child_size + 7) & ~(size_t)7;
    promc__child_t *c = promc__calloc(1, head + n * sizeof(promc_str_t) + bytes);
    if (!c)
        return NULL;
    c->metric = m;
    if (values) {
        promc_str_t *v = (promc_str_t *)((char *)c + head);
        char *p = (char *)(v + n);
        for (size_t i = 0; i < n; i++) {
            if (values[i].len)
                memcpy(p, values[i].ptr, values[i].len);
            v[i].ptr = p;
            v[i].len = values[i].len;
            p += values[i].len;
        }
        c->values = v; /* the caller, which has hashed the values, sets c->hash */
    }
    c->created_us = promc__now_unix_us();
    if (m->ops->child_init && m->ops->child_init(m, c)) {
        promc__child_free(m, c);
        return NULL;
    }
    return c;
}

void promc__child_free(promc_metric_t *m, promc__child_t *c)
{
    if (m->ops->child_destroy)
        m->ops->child_destroy(m, c);
    promc__free(c);
}

static void free_list(promc_metric_t *m, promc__child_t *c)
{
    while (c) {
        promc__child_t *next = c->prev;
        promc__child_free(m, c);
        c = next;
    }
}

void promc__children_free(promc_metric_t *m)
{
    /* Live children, then retired ones, then the root (labelled metrics keep it off the list). */
    promc__child_t *c = atomic_load_explicit(&m->head, memory_order_relaxed);
    while (c) {
        promc__child_t *next = atomic_load_explicit(&c->next, memory_order_relaxed);
        if (c != m->root)
            promc__child_free(m, c);
        c = next;
    }
    free_list(m, m->retired);
    free_list(m, m->waiting);
    m->retired = m->waiting = NULL;
    if (m->root)
        promc__child_free(m, m->root);
    m->root = NULL;
    promc__index_destroy(&m->index);
}

/* The checks every call that takes label values makes. */
static int check_values(const promc_metric_t *m, const promc_str_t *values, size_t n)
{
    if (m->label_count == 0)
        return promc__err(PROMC_ENOLABELS, "metric '%s' has no label names", m->name);
    if (n != m->label_count)
        return promc__err(PROMC_ELABELCOUNT, "metric '%s' takes %zu label values, got %zu", m->name,
                          m->label_count, n);
    for (size_t i = 0; i < n; i++)
        if (!values[i].ptr && values[i].len)
            return promc__err(PROMC_EINVAL, "label value %zu is NULL", i);
    return 0;
}

/* Label values are UTF-8: checked before a child is created (a lookup that finds one compares
 * against values checked then) and before a removal. */
static int check_utf8(const promc_metric_t *m, const promc_str_t *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = promc__utf8_check(values[i].ptr, values[i].len, "metric '%.100s': label '%.100s'",
                                   m->name, m->label_names[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static bool is_overflow(const promc_str_t *values, size_t n)
{
    size_t ol = sizeof PROMC_OVERFLOW_VALUE - 1;
    for (size_t i = 0; i < n; i++)
        if (values[i].len != ol || memcmp(values[i].ptr, PROMC_OVERFLOW_VALUE, ol) != 0)
            return false;
    return true;
}

static int find_or_create(promc_metric_t *m, uint64_t hash, const promc_str_t *values, size_t n,
                          promc__child_t **out);

/* Lookup-or-create inside the caller's read section. */
static int child_get(promc_metric_t *m, const promc_str_t *values, size_t n, promc__child_t **out)
{
    int rc = check_values(m, values, n);
    if (rc)
        return rc;
    uint64_t hash = promc__hash_values(values, n);
    promc__child_t *c = promc__index_find(&m->index, hash, values, n);
    if (c) {
        *out = c;
        return 0;
    }

    /* Slow path: look again under the lock, create if still absent. */
    rc = check_utf8(m, values, n);
    if (rc)
        return rc;
    pthread_mutex_lock(&m->lock);
    rc = find_or_create(m, hash, values, n, &c);
    pthread_mutex_unlock(&m->lock);
    if (!rc)
        *out = c;
    return rc;
}

size_t promc__metric_child_limit(const promc_metric_t *m)
{
    if (m->max_children)
        return m->max_children;
    return promc__registry_max_children(
        atomic_load_explicit(&m->entry.registry, memory_order_relaxed));
}

/* Under the lock: the child with these values, created if absent (the limit permitting). */
static int find_or_create(promc_metric_t *m, uint64_t hash, const promc_str_t *values, size_t n,
                          promc__child_t **out)
{
    size_t slot = 0;
    promc__child_t *c;
    if (promc__index_reserve(&m->index, hash, values, n, &slot, &c))
        return promc__err(PROMC_ENOMEM, "child table of '%s'", m->name);
    if (c) {
        *out = c;
        return 0;
    }
    size_t limit = promc__metric_child_limit(m);
    if (limit && m->index.live >= limit &&
        !(m->on_limit == PROMC_LIMIT_OVERFLOW && is_overflow(values, n))) {
        atomic_fetch_add_explicit(&m->limited, 1, memory_order_relaxed);
        if (m->on_limit == PROMC_LIMIT_REFUSE)
            return promc__err(PROMC_ELIMIT, "metric '%.100s' has reached its limit of %zu children",
                              m->name, limit);
        /* Fold into the overflow child, created past the limit the first time. */
        promc_str_t stack[8], *ov = n <= 8 ? stack : promc__malloc(n * sizeof *ov);
        if (!ov)
            return promc__err(PROMC_ENOMEM, "overflow child of '%s'", m->name);
        for (size_t i = 0; i < n; i++)
            ov[i] = PROMC_STR(PROMC_OVERFLOW_VALUE);
        int rc = find_or_create(m, promc__hash_values(ov, n), ov, n, out);
        if (ov != stack)
            promc__free(ov);
        return rc;
    }
    if (m->index.retired)
        retired_grew(m); /* the table was rebuilt: the old one is retired */
    c = promc__child_new(m, values, n);
    if (!c)
        return promc__err(PROMC_ENOMEM, "child of '%s'", m->name);
    c->hash = hash;
    if (m->expire_ns) {
        promc__sweep_t *sw = (promc__sweep_t *)((char *)c + m->sweep_off);
        sw->state = m->ops->state(m, c);
        sw->changed_ns = promc__now_mono_ns();
    }
    /* Numbered under the lock, before publication (the list's release store carries it). */
    c->seq = atomic_load_explicit(&m->seq, memory_order_relaxed) + 1;
    atomic_store_explicit(&m->seq, c->seq, memory_order_relaxed);
    /* Append to the exposition list before publishing in the index. */
    c->prev = m->tail;
    if (m->tail)
        atomic_store_explicit(&m->tail->next, c, memory_order_release);
    else
        atomic_store_explicit(&m->head, c, memory_order_release);
    m->tail = c;
    promc__index_put(&m->index, slot, c);
    *out = c;
    return 0;
}

int promc__child_get(promc_metric_t *m, const promc_str_t *values, size_t n, promc__child_t **out)
{
    promc__read_enter();
    int rc = child_get(m, values, n, out);
    promc__read_exit();
    return rc;
}

int promc__child_begin(promc_metric_t *m, const promc_str_t *values, size_t n, promc__child_t **out)
{
    promc__read_enter();
    int rc = child_get(m, values, n, out);
    if (rc)
        promc__read_exit();
    return rc;
}

void promc__child_end(void)
{
    promc__read_exit();
}

/* Unlinks a child from the exposition list and retires it (under the lock). */
static void unlink_child(promc_metric_t *m, promc__child_t *c)
{
    promc__child_t *next = atomic_load_explicit(&c->next, memory_order_relaxed);
    if (c->prev)
        atomic_store_explicit(&c->prev->next, next, memory_order_release);
    else
        atomic_store_explicit(&m->head, next, memory_order_release);
    if (next)
        next->prev = c->prev;
    else
        m->tail = c->prev;
    c->prev = m->retired;
    m->retired = c;
    size_t bytes = m->child_size + m->label_count * sizeof(promc_str_t);
    for (size_t i = 0; i < m->label_count; i++)
        bytes += c->values[i].len;
    m->retired_bytes += bytes;
}

/* Under the lock: removes the children unchanged for expire_ns. */
static size_t sweep(promc_metric_t *m, int64_t now)
{
    size_t removed = 0;
    m->last_sweep_ns = now;
    for (promc__child_t *c = atomic_load_explicit(&m->head, memory_order_relaxed); c;) {
        promc__child_t *next = atomic_load_explicit(&c->next, memory_order_relaxed);
        promc__sweep_t *sw = (promc__sweep_t *)((char *)c + m->sweep_off);
        uint64_t st = m->ops->state(m, c);
        if (st != sw->state) {
            sw->state = st;
            sw->changed_ns = now;
        } else if (now - sw->changed_ns >= m->expire_ns &&
                   promc__index_take(&m->index, c->hash, c->values, m->label_count) == c) {
            unlink_child(m, c);
            removed++;
        }
        c = next;
    }
    if (removed) {
        atomic_fetch_add_explicit(&m->expired, removed, memory_order_relaxed);
        retired_grew(m);
    }
    return removed;
}

size_t promc_metric_expire(promc_metric_t *m)
{
    if (!m || !m->expire_ns)
        return 0;
    pthread_mutex_lock(&m->lock);
    size_t removed = sweep(m, promc__now_mono_ns());
    pthread_mutex_unlock(&m->lock);
    return removed;
}

void promc__metric_sweep_try(promc_metric_t *m)
{
    if (!m->expire_ns || pthread_mutex_trylock(&m->lock) != 0)
        return;
    int64_t now = promc__now_mono_ns();
    if (now - m->last_sweep_ns >= m->expire_ns / 8)
        (void)sweep(m, now);
    pthread_mutex_unlock(&m->lock);
}

void promc__metric_reclaim(promc_metric_t *m)
{
    promc__child_index_t *ix = &m->index;
    if ((m->waiting || ix->waiting) && promc__reclaim_safe(m->waiting_epoch)) {
        free_list(m, m->waiting);
        m->waiting = NULL;
        promc__index_free_waiting(ix);
    }
    /* A batch whose grace period could not start (UINT64_MAX) is taken into the next one. */
    bool stale = (m->waiting || ix->waiting) && m->waiting_epoch == UINT64_MAX;
    if ((!m->waiting && !ix->waiting) || stale) {
        bool any = promc__index_retired_to_waiting(ix);
        if (m->retired) {
            promc__child_t **end = &m->waiting;
            while (*end)
                end = &(*end)->prev;
            *end = m->retired;
            m->retired = NULL;
            m->retired_bytes = 0;
            any = true;
        }
        if (any || stale) {
            m->waiting_epoch = promc__reclaim_begin();
            if (promc__reclaim_safe(m->waiting_epoch)) {
                free_list(m, m->waiting);
                m->waiting = NULL;
                promc__index_free_waiting(ix);
            }
        }
    }
    atomic_store_explicit(&m->reclaim_due, m->waiting || ix->waiting || m->retired || ix->retired,
                          memory_order_relaxed);
}

void promc__metric_reclaim_try(promc_metric_t *m)
{
    if (!atomic_load_explicit(&m->reclaim_due, memory_order_relaxed))
        return;
    if (pthread_mutex_trylock(&m->lock) != 0)
        return;
    promc__metric_reclaim(m);
    pthread_mutex_unlock(&m->lock);
}

int promc_metric_remove(promc_metric_t *m, const promc_str_t *values, size_t n)
{
    if (!m)
        return promc__err(PROMC_EINVAL, "promc_metric_remove: NULL metric");
    if (m->label_count && n == m->label_count && !values)
        return promc__err(PROMC_EINVAL, "promc_metric_remove: NULL values");
    int rc = check_values(m, values, n);
    if (!rc)
        rc = check_utf8(m, values, n);
    if (rc)
        return rc;
    uint64_t hash = promc__hash_values(values, n);
    pthread_mutex_lock(&m->lock);
    promc__child_t *c = promc__index_take(&m->index, hash, values, n);
    if (c) {
        unlink_child(m, c);
        retired_grew(m);
    } else
        rc = promc__err(PROMC_ENOENT, "metric '%s' has no child with these label values", m->name);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

void promc_metric_clear(promc_metric_t *m)
{
    if (!m || m->label_count == 0)
        return;
    pthread_mutex_lock(&m->lock);
    promc__index_clear(&m->index);
    while (m->tail)
        unlink_child(m, m->tail);
    promc__metric_reclaim(m);
    pthread_mutex_unlock(&m->lock);
}
