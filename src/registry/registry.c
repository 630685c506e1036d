/* Registries: an ordered list of metrics and collectors, and the set of sample names they use, so
 * that two of them can never expose the same series (client_python's "Duplicated timeseries").
 * Everything here takes the registry's mutex; a scrape holds it only to copy the list, with a
 * reference on each entry so that a metric freed meanwhile lives until the scrape ends. */
#include <stdlib.h>
#include <string.h>
#include "registry/registry_internal.h"

typedef struct name_node {
    struct name_node *next;
    void *owner;
    char name[];
} name_node_t;

struct promc_registry {
    pthread_mutex_t lock;
    promc__entry_t *items;
    size_t count;
    size_t cap;
    name_node_t **buckets; /* chained hash set of taken names */
    size_t bucket_count;
    size_t name_count;
    _Atomic bool created;
    bool is_default;
};

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

/* The names an entry takes, written into a caller's array of owned strings. */
static int entry_names(promc__entry_kind_t kind, void *obj, char ***out, size_t *n)
{
    if (kind == PROMC__ENTRY_COLLECTOR) {
        promc_collector_t *c = obj;
        *out = c->names;
        *n = c->name_count;
        return 0;
    }
    promc_metric_t *m = obj;
    const char *const *suffixes;
    size_t ns = promc__metric_suffixes(m->type, &suffixes);
    char **names = promc__calloc(ns, sizeof(char *));
    if (!names)
        return PROMC_ENOMEM;
    size_t base = strlen(m->name);
    for (size_t i = 0; i < ns; i++) {
        names[i] = promc__malloc(base + strlen(suffixes[i]) + 1);
        if (!names[i]) {
            for (size_t j = 0; j < i; j++)
                promc__free(names[j]);
            promc__free(names);
            return PROMC_ENOMEM;
        }
        memcpy(names[i], m->name, base);
        strcpy(names[i] + base, suffixes[i]);
    }
    *out = names;
    *n = ns;
    return 0;
}

static void entry_names_free(promc__entry_kind_t kind, char **names, size_t n)
{
    if (kind == PROMC__ENTRY_COLLECTOR)
        return;
    for (size_t i = 0; i < n; i++)
        promc__free(names[i]);
    promc__free(names);
}

static _Atomic(promc_registry_t *) *entry_registry(promc__entry_kind_t kind, void *obj)
{
    return kind == PROMC__ENTRY_METRIC ? &((promc_metric_t *)obj)->registry
                                       : &((promc_collector_t *)obj)->registry;
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
    for (size_t i = 0; i < r->count; i++)
        atomic_store(entry_registry(r->items[i].kind, r->items[i].obj), NULL);
    for (size_t i = 0; i < r->bucket_count; i++)
        for (name_node_t *n = r->buckets[i]; n;) {
            name_node_t *next = n->next;
            promc__free(n);
            n = next;
        }
    promc__free(r->buckets);
    promc__free(r->items);
    pthread_mutex_destroy(&r->lock);
    promc__free(r);
}

void promc_registry_set_created(promc_registry_t *r, bool enabled)
{
    if (r)
        atomic_store_explicit(&r->created, enabled, memory_order_relaxed);
}

int promc__registry_add(promc_registry_t *r, promc__entry_kind_t kind, void *obj)
{
    char **names;
    size_t n;
    if (entry_names(kind, obj, &names, &n))
        return promc__err(PROMC_ENOMEM, "registering");
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    /* Claim the object for this registry first: another registry's lock does not exclude this
     * one's, so a plain check and a later store would let two registries both take it. */
    _Atomic(promc_registry_t *) *owner = entry_registry(kind, obj);
    promc_registry_t *none = NULL;
    if (!atomic_compare_exchange_strong(owner, &none, r)) {
        rc = promc__err(PROMC_ESTATE, "already registered");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (name_taken(r, names[i])) {
            rc = promc__err(PROMC_EDUPLICATE, "duplicated timeseries in registry: '%.100s'",
                            names[i]);
            goto out;
        }
    /* Reserve everything first, so that a failure leaves the registry as it was. */
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        promc__entry_t *items = promc__realloc(r->items, cap * sizeof *items);
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
        nodes[i]->owner = obj;
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
    r->items[r->count].kind = kind;
    r->items[r->count].obj = obj;
    r->count++;
out:
    if (rc && rc != PROMC_ESTATE)
        atomic_store(owner, NULL); /* give back the claim */
    pthread_mutex_unlock(&r->lock);
    entry_names_free(kind, names, n);
    return rc;
}

static int registry_remove(promc_registry_t *r, promc__entry_kind_t kind, void *obj)
{
    int rc = PROMC_ENOENT;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->count; i++) {
        if (r->items[i].obj == obj) {
            memmove(&r->items[i], &r->items[i + 1], (r->count - i - 1) * sizeof r->items[0]);
            r->count--;
            names_remove_owner(r, obj);
            atomic_store(entry_registry(kind, obj), NULL);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    if (rc)
        return promc__err(rc, "not registered in this registry");
    return 0;
}

void promc__registry_detach(promc__entry_kind_t kind, void *obj)
{
    /* The registry pointer is read without its lock: detaching races only with another
     * register/unregister of the same object, which the API forbids during a free. */
    promc_registry_t *r = atomic_load(entry_registry(kind, obj));
    if (r)
        registry_remove(r, kind, obj);
}

int promc_registry_register(promc_registry_t *r, promc_metric_t *m)
{
    if (!r || !m)
        return promc__err(PROMC_EINVAL, "promc_registry_register: NULL argument");
    return promc__registry_add(r, PROMC__ENTRY_METRIC, m);
}

int promc_registry_unregister(promc_registry_t *r, promc_metric_t *m)
{
    if (!r || !m)
        return promc__err(PROMC_EINVAL, "promc_registry_unregister: NULL argument");
    return registry_remove(r, PROMC__ENTRY_METRIC, m);
}

int promc_registry_register_collector(promc_registry_t *r, promc_collector_t *c)
{
    if (!r || !c)
        return promc__err(PROMC_EINVAL, "promc_registry_register_collector: NULL argument");
    return promc__registry_add(r, PROMC__ENTRY_COLLECTOR, c);
}

int promc_registry_unregister_collector(promc_registry_t *r, promc_collector_t *c)
{
    if (!r || !c)
        return promc__err(PROMC_EINVAL, "promc_registry_unregister_collector: NULL argument");
    return registry_remove(r, PROMC__ENTRY_COLLECTOR, c);
}

/* ---- collectors ------------------------------------------------------------------------------ */

static void collector_destroy(promc_collector_t *c)
{
    for (size_t i = 0; c->names && i < c->name_count; i++)
        promc__free(c->names[i]);
    promc__free(c->names);
    promc__free(c);
}

int promc_collector_new(promc_collector_t **out, promc_collect_fn fn, void *ud,
                        const char *const *names, size_t n)
{
    if (!out || !fn || (n && !names))
        return promc__err(PROMC_EINVAL, "promc_collector_new: NULL argument");
    promc_collector_t *c = promc__calloc(1, sizeof *c);
    if (!c)
        return promc__err(PROMC_ENOMEM, "collector");
    c->fn = fn;
    c->ud = ud;
    atomic_init(&c->refs, 1);
    if (n) {
        c->names = promc__calloc(n, sizeof(char *));
        if (!c->names)
            goto nomem;
        for (size_t i = 0; i < n; i++) {
            if (!names[i]) {
                collector_destroy(c);
                return promc__err(PROMC_EINVAL, "collector name %zu is NULL", i);
            }
            if (!(c->names[i] = promc__strdup(names[i])))
                goto nomem;
            c->name_count = i + 1;
        }
    }
    *out = c;
    return 0;
nomem:
    collector_destroy(c);
    return promc__err(PROMC_ENOMEM, "collector");
}

static void collector_unref(promc_collector_t *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        collector_destroy(c);
}

void promc_collector_free(promc_collector_t *c)
{
    if (!c)
        return;
    promc__registry_detach(PROMC__ENTRY_COLLECTOR, c);
    collector_unref(c);
}

/* ---- scrapes --------------------------------------------------------------------------------- */

int promc__registry_snapshot(promc_registry_t *r, promc__entry_t **items, size_t *n, bool *created)
{
    pthread_mutex_lock(&r->lock);
    promc__entry_t *copy = promc__malloc((r->count ? r->count : 1) * sizeof *copy);
    if (!copy) {
        pthread_mutex_unlock(&r->lock);
        return promc__err(PROMC_ENOMEM, "scrape snapshot");
    }
    for (size_t i = 0; i < r->count; i++) {
        copy[i] = r->items[i];
        if (copy[i].kind == PROMC__ENTRY_METRIC)
            promc__metric_ref(copy[i].obj);
        else
            atomic_fetch_add_explicit(&((promc_collector_t *)copy[i].obj)->refs, 1,
                                      memory_order_relaxed);
    }
    *n = r->count;
    *created = atomic_load_explicit(&r->created, memory_order_relaxed);
    pthread_mutex_unlock(&r->lock);
    *items = copy;
    return 0;
}

void promc__registry_release(promc__entry_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (items[i].kind == PROMC__ENTRY_METRIC)
            promc__metric_unref(items[i].obj);
        else
            collector_unref(items[i].obj);
    }
    promc__free(items);
}
