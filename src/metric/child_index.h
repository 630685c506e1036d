/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the index of a labelled metric's children by label values.
 *
 * An open-addressing table of atomic child pointers, read without a lock: lookups load a slot with
 * acquire, writers (under the metric's lock) publish a child with a release store.  A removed
 * child leaves a tombstone; a table that fills up is replaced by a larger one, and the old one is
 * retired (reclaim.h), since a lock-free reader may still be probing it.  Lookups run inside a
 * read section. */
#ifndef PROMC_METRIC_CHILD_INDEX_H
#define PROMC_METRIC_CHILD_INDEX_H

#include "metric_internal.h"

/* The child with these values, or NULL.  Any thread, lock-free. */
promc__child_t *promc__index_find(const promc__child_index_t *ix, uint64_t hash,
                                  const promc_str_t *values, size_t n);

/* Makes room for one more child with these values, growing the table if needed, and returns in
 * *slot where it goes; or finds it (then *found is set and nothing changes).  Returns 0 or
 * PROMC_ENOMEM (the index unchanged).  Under the metric's lock. */
int promc__index_reserve(promc__child_index_t *ix, uint64_t hash, const promc_str_t *values,
                         size_t n, size_t *slot, promc__child_t **found);

/* Publishes a child in the slot promc__index_reserve() returned.  Under the metric's lock. */
void promc__index_put(promc__child_index_t *ix, size_t slot, promc__child_t *c);

/* Takes the child with these values out of the index and returns it, or NULL.  Under the metric's
 * lock. */
promc__child_t *promc__index_take(promc__child_index_t *ix, uint64_t hash,
                                  const promc_str_t *values, size_t n);

/* Empties the index.  Under the metric's lock. */
void promc__index_clear(promc__child_index_t *ix);

/* Frees the tables (with the metric). */
void promc__index_destroy(promc__child_index_t *ix);

/* Reclamation, under the metric's lock: moves the retired tables into the grace period that is
 * starting (returns whether there were any), and frees those of the grace period that ended. */
bool promc__index_retired_to_waiting(promc__child_index_t *ix);
void promc__index_free_waiting(promc__child_index_t *ix);

#endif
