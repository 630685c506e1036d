/* Internal: what metric/ and expose/ need of registries. */
#ifndef PROMC_REGISTRY_INTERNAL_H
#define PROMC_REGISTRY_INTERNAL_H

#include <stdbool.h>
#include <promc/registry.h>
#include "metric/metric_internal.h"

struct promc_collector {
    promc_collect_fn fn;
    void *ud;
    char **names;
    size_t name_count;
    _Atomic(promc_registry_t *) registry; /* claimed with a compare-and-swap, as a metric's */
    _Atomic int refs;
};

typedef struct promc__entry {
    promc__entry_kind_t kind;
    void *obj; /* promc_metric_t * or promc_collector_t * */
} promc__entry_t;

/* Adds to the registry, refusing a taken name.  Under the registry's lock. */
int promc__registry_add(promc_registry_t *r, promc__entry_kind_t kind, void *obj);

/* Removes the object from whichever registry holds it (no-op when none). */
void promc__registry_detach(promc__entry_kind_t kind, void *obj);

/* Copies the registry's entries in registration order, with a reference taken on each, and
 * whether _created samples are on.  Release with promc__registry_release(). */
int promc__registry_snapshot(promc_registry_t *r, promc__entry_t **items, size_t *n, bool *created);
void promc__registry_release(promc__entry_t *items, size_t n);

#endif
