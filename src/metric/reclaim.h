/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: epoch-based reclamation of what lock-free readers may still see.
 *
 * A lock-free reader (a child lookup, a scrape walking a metric's children) runs between
 * promc__read_enter() and promc__read_exit().  A writer that unlinks an object (a removed child, a
 * replaced child table) under its metric's lock does not free it: it hands it to the metric's
 * retired lists, and promc__reclaim_* frees it once no reader that could have seen it is still
 * inside a read section.  Nothing ever waits: an object a reader still holds stays for a later
 * attempt.
 *
 * How a reader is seen.  Each thread takes a reader record (one cache line in a process-wide
 * array of PROMC__READERS) on its first read section and gives it back at exit.  Entering stores
 * the global epoch into the record, leaving stores 0.  A reclaim advances the global epoch to g,
 * so every object unlinked before then is tagged g, and frees a tagged batch once every record is
 * 0 or at least g: a reader whose record is g or later loaded the epoch after the unlink, so it
 * cannot reach the object.
 *
 * Ordering.  A reader's store to its record must be visible to a reclaim before the reader loads
 * any pointer, or the reclaim could miss a reader that reaches an unlinked object (the
 * store-buffering pattern).  Where the kernel has membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
 * the reclaim issues it, which makes every running thread of the process pass a full barrier, and
 * readers get away with a compiler barrier: entering and leaving cost two plain stores to the
 * thread's own cache line.  Elsewhere readers issue a full fence.  Threads past PROMC__READERS
 * (more threads reading at once than records) count themselves in one shared atomic instead, and
 * while it is not zero nothing is freed.
 *
 * Read sections nest (a collector or a sink may look up a child during a scrape); only the
 * outermost one touches the record.  fork(): the child keeps its own record and clears those of
 * the threads that did not come along. */
#ifndef PROMC_METRIC_RECLAIM_H
#define PROMC_METRIC_RECLAIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PROMC__READERS      1024
#define PROMC__READER_NONE  (PROMC__READERS + 1)
#define PROMC__READER_UNSET 0u

typedef struct promc__reader_rec {
    _Atomic uint64_t epoch; /* 0: outside any read section */
    char pad[64 - sizeof(uint64_t)];
} promc__reader_rec_t;

extern promc__reader_rec_t promc__readers[PROMC__READERS];
extern _Atomic uint64_t promc__epoch;
extern _Atomic bool promc__reclaim_asym; /* membarrier registered: readers skip the fence */
extern _Atomic long promc__overflow_readers;

/* 0: no record yet; 1..PROMC__READERS: record + 1; PROMC__READER_NONE: none was free. */
extern __thread unsigned promc__tls_reader __attribute__((tls_model("initial-exec")));
extern __thread unsigned promc__tls_read_depth __attribute__((tls_model("initial-exec")));

/* Gives the calling thread a reader record (the slow path of promc__read_enter()). */
unsigned promc__reader_assign(void);

static inline void promc__read_enter(void)
{
    if (promc__tls_read_depth++ != 0)
        return;
    unsigned r = promc__tls_reader;
    if (__builtin_expect(r == PROMC__READER_UNSET, 0))
        r = promc__reader_assign();
    if (__builtin_expect(r <= PROMC__READERS, 1)) {
        uint64_t e = atomic_load_explicit(&promc__epoch, memory_order_acquire);
        atomic_store_explicit(&promc__readers[r - 1].epoch, e, memory_order_release);
        if (atomic_load_explicit(&promc__reclaim_asym, memory_order_relaxed))
            atomic_signal_fence(memory_order_seq_cst);
        else
            atomic_thread_fence(memory_order_seq_cst);
    } else {
        atomic_fetch_add_explicit(&promc__overflow_readers, 1, memory_order_seq_cst);
    }
}

static inline void promc__read_exit(void)
{
    if (--promc__tls_read_depth != 0)
        return;
    unsigned r = promc__tls_reader;
    if (__builtin_expect(r <= PROMC__READERS, 1))
        atomic_store_explicit(&promc__readers[r - 1].epoch, 0, memory_order_release);
    else
        atomic_fetch_sub_explicit(&promc__overflow_readers, 1, memory_order_release);
}

/* Whether readers rely on membarrier (true) or fence themselves (tests report which path ran). */
bool promc__reclaim_uses_membarrier(void);

/* Starts a grace period for everything unlinked so far and returns its epoch: an object unlinked
 * before this call may be freed once promc__reclaim_safe(epoch) holds.  Issues the barrier that
 * makes readers' records visible. */
uint64_t promc__reclaim_begin(void);

/* Whether no reader that entered before the grace period `epoch` began is still inside a read
 * section (the calling thread's own open section counts, as it may hold the object too). */
bool promc__reclaim_safe(uint64_t epoch);

#endif
