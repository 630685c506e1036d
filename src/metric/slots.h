/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: thread slots, the single-writer service behind counters' and histograms' owned cells.
 *
 * Each live thread that updates a child takes a slot number, 1..PROMC__MAX_SLOTS, on its first
 * update and gives it back at exit; PROMC__SLOT_NONE when none was free.  A cell owned by a slot is
 * written only by the thread holding that slot, with plain relaxed loads and stores: no lock
 * prefix.  A slot passed from an exited thread to a new one goes through a mutex, which orders the
 * old holder's last store before the new holder's first load.  Across fork() the slot table is
 * kept consistent (slots.c). */
#ifndef PROMC_METRIC_SLOTS_H
#define PROMC_METRIC_SLOTS_H

#include <stdatomic.h>
#include <stdbool.h>

#define PROMC__MAX_SLOTS 64
#define PROMC__SLOT_NONE (PROMC__MAX_SLOTS + 1)

/* 0: not assigned yet; 1..PROMC__MAX_SLOTS: slot + 1; PROMC__SLOT_NONE: none was free.
 * initial-exec TLS: one %fs-relative load, also from the shared library. */
extern __thread unsigned promc__tls_slot __attribute__((tls_model("initial-exec")));

/* Assigns the calling thread a slot (the slow path of promc__slot()). */
unsigned promc__slot_assign(void);

/* The calling thread's slot, assigned on first use. */
static inline unsigned promc__slot(void)
{
    unsigned slot = promc__tls_slot;
    if (__builtin_expect(slot == 0, 0))
        slot = promc__slot_assign();
    return slot;
}

/* Whether this thread (slot) owns a single-writer cell guarded by `owner`, claiming it when no one
 * has yet: the first thread to update a child owns it, the others use its shared cells. */
static inline bool promc__owns(_Atomic unsigned *owner, unsigned slot)
{
    unsigned o = atomic_load_explicit(owner, memory_order_relaxed);
    if (__builtin_expect(o == slot, 1))
        return true;
    if (o != 0 || slot > PROMC__MAX_SLOTS)
        return false;
    return atomic_compare_exchange_strong_explicit(owner, &o, slot, memory_order_relaxed,
                                                   memory_order_relaxed);
}

#endif
