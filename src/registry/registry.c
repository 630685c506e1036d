/* SPDX-License-Identifier: Apache-2.0 */
/* Registries: an ordered list of metrics and collectors, and the set of sample names they use, so
 * that two of them can never expose the same series (client_python's "Duplicated timeseries").
 * Everything here takes the registry's mutex; a scrape holds it only to copy the list, with a
 * reference on each entry so that a metric freed meanwhile lives until the scrape ends. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <promc/registry.h>
#include "alloc.h"
#include "entry.h"
#include "err.h"
#include "names.h"
#include "utf8.h"
#include "fork.h"
#include "hash.h"

typedef struct name_node {
    struct name_node *next;
    void *owner;
    char name[];
} name_node_t;

struct promc_registry {
    pthread_mutex_t lock;
    promc__entry_t **items;
    size_t count;
    size_t cap;
    name_node_t **buckets; /* chained hash set of taken names */
    size_t bucket_count;
    size_t name_count;
    _Atomic bool created;
    _Atomic size_t max_children;
    _Atomic bool legacy_names; /* promc_registry_set_legacy_names() */
    bool is_default;
    /* promc_registry_set_const_labels(): set once, while empty; read without the lock after. */
    _Atomic(const promc_label_t *) const_labels;
    size_t const_label_count;
    struct promc_registry *all_prev, *all_next; /* every live registry (under all_lock) */
};

/* Every live registry, so that fork() can take each one's lock (fork.h, level 20). */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static promc_registry_t *all_head;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
    pthread_mutex_lock(&all_lock);
    for (promc_registry_t *r = all_head; r; r = r->all_next)
        pthread_mutex_lock(&r->lock);
}

static void fork_release(void)
{
    for (promc_registry_t *r = all_head; r; r = r->all_next)
        pthread_mutex_unlock(&r->lock);
    pthread_mutex_unlock(&all_lock);
}

static void fork_init(void)
{
    (void)promc__atfork_add(PROMC__FORK_REGISTRY, fork_prepare, fork_release, fork_release);
}

/* Family names the exposition writes itself (walk.c): no entry may take them. */
static const char *const reserved_names[] = {
    "promc_metric_children_limited", "promc_metric_children_limited_total",
    "promc_metric_parent_updated", "promc_metric_children_expired",
    "promc_metric_children_expired_total"};

static promc_registry_t *g_default;
static pthread_once_t g_default_once = PTHREAD_ONCE_INIT;

/* ---- the name set ---------------------------------------------------------------------------- */

static size_t name_slot(const promc_registry_t *r, const char *name)
{
    return promc__hash_bytes(name, strlen(name), 0) & (r->bucket_count - 1);
}

static bool name_taken(const promc_registry_t *r, const char *name)
{
    if (!r->bucket_count)
        return false;
    for (name_node_t *n = r->buckets[name_slot(r, name)]; n; n = n->next)
        if (strcmp(n->name, name) == 0)
            return true;
    return false;
}

static int names_grow(promc_registry_t *r, size_t want)
{
    if (r->bucket_count && want * 2 <= r->bucket_count * 3)
        return 0;
    size_t nb = r->bucket_count ? r->bucket_count * 2 : 64;
    while (want * 2 > nb * 3)
        nb *= 2;
    name_node_t **b = promc__calloc(nb, sizeof *b);
    if (!b)
        return PROMC_ENOMEM;
    for (size_t i = 0; i < r->bucket_count; i++) {
        for (name_node_t *n = r->buckets[i]; n;) {
            name_node_t *next = n->next;
            size_t s = promc__hash_bytes(n->name, strlen(n->name), 0) & (nb - 1);
            n->next = b[s];
            b[s] = n;
            n = next;
        }
    }
    promc__free(r->buckets);
    r->buckets = b;
    r->bucket_count = nb;
    return 0;
}

static void names_remove_owner(promc_registry_t *r, void *owner)
{
    for (size_t i = 0; i < r->bucket_count; i++) {
        name_node_t **pp = &r->buckets[i];
        while (*pp) {
            if ((*pp)->owner == owner) {
                name_node_t *dead = *pp;
                *pp = dead->next;
                promc__free(dead);
                r->name_count--;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

/* ---- registries ------------------------------------------------------------------------------ */

static int registry_create(promc_registry_t **out)
{
    promc_registry_t *r = promc__calloc(1, sizeof *r);
    if (!r)
        return promc__err(PROMC_ENOMEM, "registry");
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        promc__free(r);
        return promc__err(PROMC_ESYS, "pthread_mutex_init");
    }
    atomic_init(&r->created, true);
    pthread_once(&fork_once, fork_init);
    pthread_mutex_lock(&all_lock);
    r->all_next = all_head;
    if (all_head)
        all_head->all_prev = r;
    all_head = r;
    pthread_mutex_unlock(&all_lock);
    *out = r;
    return 0;
}

static void default_init(void)
{
    if (registry_create(&g_default) == 0)
        g_default->is_default = true;
}

promc_registry_t *promc_registry_default(void)
{
    pthread_once(&g_default_once, default_init);
    return g_default;
}

int promc_registry_new(promc_registry_t **out)
{
    if (!out)
        return promc__err(PROMC_EINVAL, "promc_registry_new: NULL out");
    return registry_create(out);
}

void promc_registry_free(promc_registry_t *r)
{
    if (!r || r->is_default)
        return;
    pthread_mutex_lock(&all_lock);
    if (r->all_prev)
        r->all_prev->all_next = r->all_next;
    else
        all_head = r->all_next;
    if (r->all_next)
        r->all_next->all_prev = r->all_prev;
    pthread_mutex_unlock(&all_lock);
    for (size_t i = 0; i < r->count; i++)
        atomic_store(&r->items[i]->registry, NULL);
    for (size_t i = 0; i < r->bucket_count; i++)
        for (name_node_t *n = r->buckets[i]; n;) {
            name_node_t *next = n->next;
            promc__free(n);
            n = next;
        }
    promc__free(r->buckets);
    promc__free(r->items);
    promc__free((void *)atomic_load(&r->const_labels));
    pthread_mutex_destroy(&r->lock);
    promc__free(r);
}

void promc_registry_set_created(promc_registry_t *r, bool enabled)
{
    if (r)
        atomic_store_explicit(&r->created, enabled, memory_order_relaxed);
}

void promc_registry_set_max_children(promc_registry_t *r, size_t max)
{
    if (r)
        atomic_store_explicit(&r->max_children, max, memory_order_relaxed);
}

int promc_registry_set_const_labels(promc_registry_t *r, const promc_label_t *labels, size_t n)
{
    if (r == NULL || (n && labels == NULL))
        return promc__err(PROMC_EINVAL, "promc_registry_set_const_labels: %s is NULL",
                          r == NULL ? "r" : "labels");
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const promc_label_t *l = &labels[i];
        if (l->name.ptr == NULL || (l->value.ptr == NULL && l->value.len))
            return promc__err(PROMC_EINVAL, "registry const label %zu is NULL", i);
        int rc =
            promc__name_check_label_as(l->name.ptr, l->name.len, promc__registry_legacy_names(r));
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (labels[j].name.len == l->name.len &&
                memcmp(labels[j].name.ptr, l->name.ptr, l->name.len) == 0)
                return promc__err(PROMC_ELABELNAME, "registry const label '%.*s' given twice",
                                  (int)l->name.len, l->name.ptr);
        rc = promc__utf8_check(l->value.ptr, l->value.len, "registry const label '%.*s'",
                               (int)l->name.len, l->name.ptr);
        if (rc)
            return rc;
        bytes += l->name.len + 1 + l->value.len + 1;
    }
    /* One block: the label array, then each name and value, NUL-terminated. */
    promc_label_t *copy = promc__malloc(n * sizeof *copy + bytes + 1);
    if (copy == NULL)
        return promc__err(PROMC_ENOMEM, "registry const labels");
    char *p = (char *)(copy + n);
    for (size_t i = 0; i < n; i++) {
        const promc_label_t *l = &labels[i];
        memcpy(p, l->name.ptr, l->name.len);
        p[l->name.len] = '\0';
        copy[i].name = (promc_str_t){p, l->name.len};
        p += l->name.len + 1;
        if (l->value.len)
            memcpy(p, l->value.ptr, l->value.len);
        p[l->value.len] = '\0';
        copy[i].value = (promc_str_t){p, l->value.len};
        p += l->value.len + 1;
    }
    pthread_mutex_lock(&r->lock);
    int rc = 0;
    if (atomic_load_explicit(&r->const_labels, memory_order_relaxed) != NULL)
        rc = promc__err(PROMC_ESTATE, "the registry's const labels are set already");
    else if (r->count != 0)
        rc = promc__err(PROMC_ESTATE,
                        "the registry holds %zu metrics or collectors: set its "
                        "const labels before registering anything",
                        r->count);
    if (rc == 0) {
        r->const_label_count = n;
        atomic_store_explicit(&r->const_labels, copy, memory_order_release);
    }
    pthread_mutex_unlock(&r->lock);
    if (rc)
        promc__free(copy);
    else
        promc__err_clear();
    return rc;
}

const promc_label_t *promc__registry_const_labels(const promc_registry_t *r, size_t *n)
{
    const promc_label_t *l =
        r ? atomic_load_explicit(&((promc_registry_t *)r)->const_labels, memory_order_acquire)
          : NULL;
    *n = l ? r->const_label_count : 0;
    return l;
}

void promc_registry_set_legacy_names(promc_registry_t *r, bool legacy)
{
    if (r)
        atomic_store_explicit(&r->legacy_names, legacy, memory_order_relaxed);
}

bool promc__registry_legacy_names(const promc_registry_t *r)
{
    return r ? atomic_load_explicit(&((promc_registry_t *)r)->legacy_names, memory_order_relaxed)
             : false;
}

size_t promc__registry_max_children(const promc_registry_t *r)
{
    return r ? atomic_load_explicit(&r->max_children, memory_order_relaxed) : 0;
}

/* ---- entries --------------------------------------------------------------------------------- */

void promc__entry_init(promc__entry_t *e, promc__entry_kind_t kind,
                       void (*destroy)(promc__entry_t *e))
{
    e->kind = kind;
    atomic_init(&e->registry, NULL);
    atomic_init(&e->refs, 1);
    e->destroy = destroy;
    e->names = NULL;
    e->name_count = 0;
}

void promc__entry_fini(promc__entry_t *e)
{
    for (size_t i = 0; e->names && i < e->name_count; i++)
        promc__free(e->names[i]);
    promc__free(e->names);
    e->names = NULL;
    e->name_count = 0;
}

void promc__entry_ref(promc__entry_t *e)
{
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

void promc__entry_unref(promc__entry_t *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        e->destroy(e);
}

int promc__registry_add(promc_registry_t *r, promc__entry_t *e)
{
    char **names = e->names;
    size_t n = e->name_count;
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    /* Claim the entry for this registry first: another registry's lock does not exclude this
     * one's, so a plain check and a later store would let two registries both take it. */
    promc_registry_t *none = NULL;
    if (!atomic_compare_exchange_strong(&e->registry, &none, r)) {
        rc = promc__err(PROMC_ESTATE, "already registered");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof reserved_names / sizeof reserved_names[0]; k++)
            if (strcmp(names[i], reserved_names[k]) == 0) {
                rc = promc__err(PROMC_EDUPLICATE, "'%s' is a name promc's exposition writes",
                                names[i]);
                goto out;
            }
        if (name_taken(r, names[i])) {
            rc = promc__err(PROMC_EDUPLICATE, "duplicated timeseries in registry: '%.100s'",
                            names[i]);
            goto out;
        }
    }
    /* Reserve everything first, so that a failure leaves the registry as it was. */
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        promc__entry_t **items = promc__realloc(r->items, cap * sizeof *items);
        if (!items) {
            rc = promc__err(PROMC_ENOMEM, "registry entries");
            goto out;
        }
        r->items = items;
        r->cap = cap;
    }
    if (names_grow(r, r->name_count + n)) {
        rc = promc__err(PROMC_ENOMEM, "registry names");
        goto out;
    }
    name_node_t **nodes = promc__calloc(n ? n : 1, sizeof *nodes);
    if (!nodes) {
        rc = promc__err(PROMC_ENOMEM, "registry names");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        nodes[i] = promc__malloc(sizeof(name_node_t) + len + 1);
        if (!nodes[i]) {
            for (size_t j = 0; j < i; j++)
                promc__free(nodes[j]);
            promc__free(nodes);
            rc = promc__err(PROMC_ENOMEM, "registry names");
            goto out;
        }
        memcpy(nodes[i]->name, names[i], len + 1);
        nodes[i]->owner = e;
    }
    for (size_t i = 0; i < n; i++) {
        /* A collector may list a name twice; keep one. */
        if (name_taken(r, nodes[i]->name)) {
            promc__free(nodes[i]);
            continue;
        }
        size_t s = name_slot(r, nodes[i]->name);
        nodes[i]->next = r->buckets[s];
        r->buckets[s] = nodes[i];
        r->name_count++;
    }
    promc__free(nodes);
    r->items[r->count++] = e;
out:
    if (rc && rc != PROMC_ESTATE)
        atomic_store(&e->registry, NULL); /* give back the claim */
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int promc__registry_remove(promc_registry_t *r, promc__entry_t *e)
{
    int rc = PROMC_ENOENT;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->count; i++) {
        if (r->items[i] == e) {
            memmove(&r->items[i], &r->items[i + 1], (r->count - i - 1) * sizeof r->items[0]);
            r->count--;
            names_remove_owner(r, e);
            atomic_store(&e->registry, NULL);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    if (rc)
        return promc__err(rc, "not registered in this registry");
    return 0;
}

void promc__registry_detach(promc__entry_t *e)
{
    /* The registry pointer is read without its lock: detaching races only with another
     * register/unregister of the same object, which the API forbids during a free. */
    promc_registry_t *r = atomic_load(&e->registry);
    if (r)
        (void)promc__registry_remove(r, e);
}

/* A metric's handle converts to its entry: the entry is the first member of every metric, as it
 * is of a collector (the registry needs nothing else of either). */
static promc__entry_t *metric_entry(promc_metric_t *m)
{
    return (promc__entry_t *)(void *)m;
}

int promc_registry_register(promc_registry_t *r, promc_metric_t *m)
{
    if (!r || !m)
        return promc__err(PROMC_EINVAL, "promc_registry_register: NULL argument");
    return promc__registry_add(r, metric_entry(m));
}

int promc_registry_unregister(promc_registry_t *r, promc_metric_t *m)
{
    if (!r || !m)
        return promc__err(PROMC_EINVAL, "promc_registry_unregister: NULL argument");
    return promc__registry_remove(r, metric_entry(m));
}

/* ---- scrapes --------------------------------------------------------------------------------- */

int promc__registry_snapshot(promc_registry_t *r, promc__entry_t ***items, size_t *n, bool *created)
{
    pthread_mutex_lock(&r->lock);
    promc__entry_t **copy = promc__malloc((r->count ? r->count : 1) * sizeof *copy);
    if (!copy) {
        pthread_mutex_unlock(&r->lock);
        return promc__err(PROMC_ENOMEM, "scrape snapshot");
    }
    for (size_t i = 0; i < r->count; i++) {
        copy[i] = r->items[i];
        promc__entry_ref(copy[i]);
    }
    *n = r->count;
    *created = atomic_load_explicit(&r->created, memory_order_relaxed);
    pthread_mutex_unlock(&r->lock);
    *items = copy;
    return 0;
}

void promc__registry_release(promc__entry_t **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        promc__entry_unref(items[i]);
    promc__free(items);
}
