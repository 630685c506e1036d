/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: what the registry knows of the things it holds.
 *
 * The registry is a container of entries, as a libuv loop is of handles: each metric and each
 * collector begins with a promc__entry_t, inserts itself, and hands in the sample names it takes.
 * The registry never looks past the header: the kind is a tag for those above it (the exposition
 * walks entries and reads the kind to know what follows the header), the reference count keeps an
 * entry alive while a scrape holds it, and `destroy` frees the whole object when the last reference
 * goes. */
#ifndef PROMC_REGISTRY_ENTRY_H
#define PROMC_REGISTRY_ENTRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <promc/base.h>

typedef enum promc__entry_kind { PROMC__ENTRY_METRIC, PROMC__ENTRY_COLLECTOR } promc__entry_kind_t;

typedef struct promc__entry promc__entry_t;

struct promc__entry {
    promc__entry_kind_t kind;
    /* The registry holding the entry, or NULL.  Claimed with a compare-and-swap (under the
     * claiming registry's lock), so that two registries never both take it. */
    _Atomic(promc_registry_t *) registry;
    _Atomic int refs;
    void (*destroy)(promc__entry_t *e); /* frees the object the entry heads */
    /* The sample names the entry exposes, for duplicate detection: owned by the entry, set by its
     * creator before it is registered. */
    char **names;
    size_t name_count;
};

/* Sets up the header: one reference (the creator's), no registry, no names. */
void promc__entry_init(promc__entry_t *e, promc__entry_kind_t kind,
                       void (*destroy)(promc__entry_t *e));

/* Frees the names (for the object's destroy function). */
void promc__entry_fini(promc__entry_t *e);

/* Takes / drops a reference; the last drop calls destroy. */
void promc__entry_ref(promc__entry_t *e);
void promc__entry_unref(promc__entry_t *e);

/* Adds the entry to `r`, refusing a name that is taken.  Returns 0, PROMC_ESTATE (in a registry
 * already), PROMC_EDUPLICATE or PROMC_ENOMEM; on failure the registry is as it was.  Takes the
 * registry's lock. */
int promc__registry_add(promc_registry_t *r, promc__entry_t *e);

/* Removes the entry from `r`.  Returns 0 or PROMC_ENOENT.  Takes the registry's lock. */
int promc__registry_remove(promc_registry_t *r, promc__entry_t *e);

/* Removes the entry from whichever registry holds it (no-op when none). */
void promc__registry_detach(promc__entry_t *e);

/* The registry's const labels (promc_registry_set_const_labels), valid for its lifetime; NULL
 * and *n = 0 when none. */
const promc_label_t *promc__registry_const_labels(const promc_registry_t *r, size_t *n);

/* Whether the registry keeps the legacy name rules (promc_registry_set_legacy_names). */
bool promc__registry_legacy_names(const promc_registry_t *r);

/* The registry's default limit of children (promc_registry_set_max_children); 0: none. */
size_t promc__registry_max_children(const promc_registry_t *r);

/* Copies the registry's entries in registration order, with a reference taken on each, and
 * whether _created samples are on.  Release with promc__registry_release(). */
int promc__registry_snapshot(promc_registry_t *r, promc__entry_t ***items, size_t *n,
                             bool *created);
void promc__registry_release(promc__entry_t **items, size_t n);

#endif
