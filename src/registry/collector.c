/* SPDX-License-Identifier: Apache-2.0 */
/* Custom collectors: a callback and the sample names it produces, held by a registry as any other
 * entry.  The exposition layer runs the callback; nothing here knows how samples are written. */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "collector.h"
#include "err.h"

static void collector_destroy(promc__entry_t *e)
{
    promc_collector_t *c = (promc_collector_t *)e;
    if (c->ud_free)
        c->ud_free(c->ud);
    promc__entry_fini(&c->entry);
    promc__free(c);
}

void promc__collector_own_ud(promc_collector_t *c, void (*fn)(void *ud))
{
    c->ud_free = fn;
}

int promc_collector_new(promc_collector_t **out, promc_collect_fn fn, void *ud,
                        const char *const *names, size_t n)
{
    if (!out || !fn || (n && !names))
        return promc__err(PROMC_EINVAL, "promc_collector_new: NULL argument");
    for (size_t i = 0; i < n; i++)
        if (!names[i])
            return promc__err(PROMC_EINVAL, "collector name %zu is NULL", i);
    promc_collector_t *c = promc__calloc(1, sizeof *c);
    if (!c)
        return promc__err(PROMC_ENOMEM, "collector");
    promc__entry_init(&c->entry, PROMC__ENTRY_COLLECTOR, collector_destroy);
    c->fn = fn;
    c->ud = ud;
    if (n) {
        c->entry.names = promc__calloc(n, sizeof(char *));
        if (!c->entry.names)
            goto nomem;
        for (size_t i = 0; i < n; i++) {
            if (!(c->entry.names[i] = promc__strdup(names[i])))
                goto nomem;
            c->entry.name_count = i + 1;
        }
    }
    *out = c;
    return 0;
nomem:
    collector_destroy(&c->entry);
    return promc__err(PROMC_ENOMEM, "collector");
}

void promc_collector_free(promc_collector_t *c)
{
    if (!c)
        return;
    promc__registry_detach(&c->entry);
    promc__entry_unref(&c->entry);
}

int promc_registry_register_collector(promc_registry_t *r, promc_collector_t *c)
{
    if (!r || !c)
        return promc__err(PROMC_EINVAL, "promc_registry_register_collector: NULL argument");
    return promc__registry_add(r, &c->entry);
}

int promc_registry_unregister_collector(promc_registry_t *r, promc_collector_t *c)
{
    if (!r || !c)
        return promc__err(PROMC_EINVAL, "promc_registry_unregister_collector: NULL argument");
    return promc__registry_remove(r, &c->entry);
}
