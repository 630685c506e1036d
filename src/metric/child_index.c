/* SPDX-License-Identifier: Apache-2.0 */
/* The child index (child_index.h): linear probing over a power-of-two table of atomic child
 * pointers.  The table is kept at most half full, counting tombstones, and rebuilt at twice the
 * live children's need (four times when that would leave it more than a quarter full), so a probe
 * meets few occupied slots; rebuilding drops the tombstones. */
#include <string.h>
#include "alloc.h"
#include "child_index.h"

struct promc__child_table {
    size_t mask; /* capacity - 1 */
    struct promc__child_table *retired_next;
    _Atomic(promc__child_t *) slots[];
};

/* The tombstone left in a slot by a removed child: never a child, never NULL. */
static promc__child_t tombstone;

static bool values_equal(const promc__child_t *c, const promc_str_t *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c->values[i].len != values[i].len)
            return false;
        if (values[i].len && memcmp(c->values[i].ptr, values[i].ptr, values[i].len) != 0)
            return false;
    }
    return true;
}

/* Probes a table; returns the child or NULL, and in *slot the index of the first free slot met
 * (an empty one, or a tombstone) for an insertion. */
static promc__child_t *table_find(const promc__child_table_t *t, uint64_t hash,
                                  const promc_str_t *values, size_t n, size_t *slot)
{
    size_t i = hash & t->mask;
    size_t first_free = SIZE_MAX;
    for (size_t probes = 0; probes <= t->mask; probes++) {
        promc__child_t *c = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (!c) {
            if (slot)
                *slot = first_free != SIZE_MAX ? first_free : i;
            return NULL;
        }
        if (c == &tombstone) {
            if (first_free == SIZE_MAX)
                first_free = i;
        } else if (c->hash == hash && values_equal(c, values, n)) {
            return c;
        }
        i = (i + 1) & t->mask;
    }
    if (slot)
        *slot = first_free;
    return NULL;
}

static promc__child_table_t *table_new(size_t cap)
{
    promc__child_table_t *t = promc__calloc(1, sizeof *t + cap * sizeof(t->slots[0]));
    if (t)
        t->mask = cap - 1;
    return t;
}

static void retire(promc__child_index_t *ix, promc__child_table_t *t)
{
    t->retired_next = ix->retired;
    ix->retired = t;
    ix->retired_bytes += sizeof *t + (t->mask + 1) * sizeof(t->slots[0]);
}

/* Replaces the table by one of `cap` slots holding the live children; the old one is retired. */
static int table_rebuild(promc__child_index_t *ix, size_t cap)
{
    promc__child_table_t *old = atomic_load_explicit(&ix->table, memory_order_relaxed);
    promc__child_table_t *t = table_new(cap);
    if (!t)
        return PROMC_ENOMEM;
    if (old) {
        for (size_t i = 0; i <= old->mask; i++) {
            promc__child_t *c = atomic_load_explicit(&old->slots[i], memory_order_relaxed);
            if (!c || c == &tombstone)
                continue;
            size_t j = c->hash & t->mask;
            while (atomic_load_explicit(&t->slots[j], memory_order_relaxed))
                j = (j + 1) & t->mask;
            atomic_store_explicit(&t->slots[j], c, memory_order_relaxed);
        }
        retire(ix, old);
    }
    ix->tombstones = 0;
    atomic_store_explicit(&ix->table, t, memory_order_release);
    return 0;
}

promc__child_t *promc__index_find(const promc__child_index_t *ix, uint64_t hash,
                                  const promc_str_t *values, size_t n)
{
    const promc__child_table_t *t = atomic_load_explicit(&ix->table, memory_order_acquire);
    return t ? table_find(t, hash, values, n, NULL) : NULL;
}

int promc__index_reserve(promc__child_index_t *ix, uint64_t hash, const promc_str_t *values,
                         size_t n, size_t *slot, promc__child_t **found)
{
    promc__child_table_t *t = atomic_load_explicit(&ix->table, memory_order_relaxed);
    *found = t ? table_find(t, hash, values, n, slot) : NULL;
    if (*found)
        return 0;
    if (!t || (ix->live + ix->tombstones + 1) * 2 > t->mask + 1) {
        size_t cap = t ? t->mask + 1 : 16;
        while ((ix->live + 1) * 2 > cap)
            cap *= 2;
        if ((ix->live + 1) * 4 > cap)
            cap *= 2;
        if (table_rebuild(ix, cap))
            return PROMC_ENOMEM;
        t = atomic_load_explicit(&ix->table, memory_order_relaxed);
        table_find(t, hash, values, n, slot);
    }
    return 0;
}

void promc__index_put(promc__child_index_t *ix, size_t slot, promc__child_t *c)
{
    promc__child_table_t *t = atomic_load_explicit(&ix->table, memory_order_relaxed);
    if (atomic_load_explicit(&t->slots[slot], memory_order_relaxed) == &tombstone)
        ix->tombstones--;
    ix->live++;
    atomic_store_explicit(&t->slots[slot], c, memory_order_release);
}

promc__child_t *promc__index_take(promc__child_index_t *ix, uint64_t hash,
                                  const promc_str_t *values, size_t n)
{
    promc__child_table_t *t = atomic_load_explicit(&ix->table, memory_order_relaxed);
    if (!t)
        return NULL;
    size_t i = hash & t->mask;
    for (size_t probes = 0; probes <= t->mask; probes++, i = (i + 1) & t->mask) {
        promc__child_t *c = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        if (!c)
            break;
        if (c != &tombstone && c->hash == hash && values_equal(c, values, n)) {
            atomic_store_explicit(&t->slots[i], &tombstone, memory_order_release);
            ix->live--;
            ix->tombstones++;
            return c;
        }
    }
    return NULL;
}

void promc__index_clear(promc__child_index_t *ix)
{
    promc__child_table_t *old = atomic_load_explicit(&ix->table, memory_order_relaxed);
    if (old) {
        promc__child_table_t *t = table_new(16);
        if (t) {
            atomic_store_explicit(&ix->table, t, memory_order_release);
            retire(ix, old);
            ix->tombstones = 0;
        } else {
            /* No memory for a fresh table: tombstone every slot of the old one instead. */
            for (size_t i = 0; i <= old->mask; i++)
                if (atomic_load_explicit(&old->slots[i], memory_order_relaxed))
                    atomic_store_explicit(&old->slots[i], &tombstone, memory_order_release);
            ix->tombstones += ix->live;
        }
    }
    ix->live = 0;
}

static void free_tables(promc__child_table_t *t)
{
    while (t) {
        promc__child_table_t *next = t->retired_next;
        promc__free(t);
        t = next;
    }
}

void promc__index_destroy(promc__child_index_t *ix)
{
    promc__free(atomic_load_explicit(&ix->table, memory_order_relaxed));
    free_tables(ix->retired);
    free_tables(ix->waiting);
    atomic_store_explicit(&ix->table, NULL, memory_order_relaxed);
    ix->retired = ix->waiting = NULL;
}

bool promc__index_retired_to_waiting(promc__child_index_t *ix)
{
    if (!ix->retired)
        return false;
    promc__child_table_t **end = &ix->waiting;
    while (*end)
        end = &(*end)->retired_next;
    *end = ix->retired;
    ix->retired = NULL;
    ix->retired_bytes = 0;
    return true;
}

void promc__index_free_waiting(promc__child_index_t *ix)
{
    free_tables(ix->waiting);
    ix->waiting = NULL;
}
