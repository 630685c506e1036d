/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: a custom collector, an entry whose samples come from a callback at scrape time. */
#ifndef PROMC_REGISTRY_COLLECTOR_H
#define PROMC_REGISTRY_COLLECTOR_H

#include <promc/registry.h>
#include "entry.h"

struct promc_collector {
    promc__entry_t entry; /* first: the registry holds collectors by their header */
    promc_collect_fn fn;
    void *ud;
    void (*ud_free)(void *ud); /* set by collectors the library builds on top (func metrics) */
};

/* Makes the collector free its user data with `fn` when it is destroyed (internal collectors). */
void promc__collector_own_ud(promc_collector_t *c, void (*fn)(void *ud));

#endif
