/* SPDX-License-Identifier: Apache-2.0 */
/* Epoch-based reclamation (reclaim.h): the reader records and their pool, the grace periods, and
 * the fork handling. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fork.h"
#include "reclaim.h"
#ifdef __linux__
#include <linux/membarrier.h>
#include <sys/syscall.h>
#endif

promc__reader_rec_t promc__readers[PROMC__READERS];
_Atomic uint64_t promc__epoch = 1;
_Atomic bool promc__reclaim_asym;
_Atomic long promc__overflow_readers;

__thread unsigned promc__tls_reader __attribute__((tls_model("initial-exec")));
__thread unsigned promc__tls_read_depth __attribute__((tls_model("initial-exec")));

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t pool_used[PROMC__READERS / 64]; /* bit: record held by a live thread */
static _Atomic unsigned pool_hwm;               /* records ever handed out: the scan's bound */
static pthread_key_t pool_key;
static bool pool_key_ok;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

#ifdef __linux__
static int membarrier(int cmd)
{
    return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

static bool register_membarrier(void)
{
    int cmds = membarrier(MEMBARRIER_CMD_QUERY);
    return cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
           membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}
#endif

/* Runs on the exiting thread, outside any read section.  A read section opened later by a
 * thread-exit destructor counts itself in the shared overflow counter. */
static void reader_release(void *v)
{
    unsigned i = (unsigned)(uintptr_t)v - 1;
    promc__tls_reader = PROMC__READER_NONE;
    atomic_store_explicit(&promc__readers[i].epoch, 0, memory_order_release);
    pthread_mutex_lock(&pool_lock);
    pool_used[i / 64] &= ~((uint64_t)1 << (i % 64));
    pthread_mutex_unlock(&pool_lock);
}

/* fork(): the child has only the thread that forked.  The pool lock is taken around fork() so the
 * child's copy is not held by a thread that is gone; the records of those threads are cleared
 * (they would hold back every reclaim for good), and membarrier is registered again, as the
 * registration belongs to the address space. */
static void reclaim_prefork(void)
{
    pthread_mutex_lock(&pool_lock);
}

static void reclaim_postfork_parent(void)
{
    pthread_mutex_unlock(&pool_lock);
}

static void reclaim_postfork_child(void)
{
    unsigned mine = promc__tls_reader;
    memset(pool_used, 0, sizeof pool_used);
    unsigned hwm = atomic_load_explicit(&pool_hwm, memory_order_relaxed);
    for (unsigned i = 0; i < hwm; i++)
        if (i + 1 != mine)
            atomic_store_explicit(&promc__readers[i].epoch, 0, memory_order_relaxed);
    if (mine >= 1 && mine <= PROMC__READERS)
        pool_used[(mine - 1) / 64] |= (uint64_t)1 << ((mine - 1) % 64);
    long own = promc__tls_read_depth && mine > PROMC__READERS ? 1 : 0;
    atomic_store_explicit(&promc__overflow_readers, own, memory_order_relaxed);
#ifdef __linux__
    if (atomic_load_explicit(&promc__reclaim_asym, memory_order_relaxed) && !register_membarrier())
        atomic_store_explicit(&promc__reclaim_asym, false, memory_order_relaxed);
#endif
    pthread_mutex_unlock(&pool_lock);
}

/* Once, before any read section or reclaim: the choice between membarrier and reader fences is
 * made here and never changes while threads read (only a forked child, alone, may drop it).
 * PROMC_RECLAIM_FENCES=1 in the environment chooses the fences (for systems whose membarrier
 * misbehaves, and for the tests of that path). */
static void reclaim_init(void)
{
    pool_key_ok = pthread_key_create(&pool_key, reader_release) == 0;
    (void)promc__atfork_add(PROMC__FORK_RECLAIM, reclaim_prefork, reclaim_postfork_parent,
                            reclaim_postfork_child);
#ifdef __linux__
    const char *f = getenv("PROMC_RECLAIM_FENCES");
    bool fences = f && f[0] == '1';
    atomic_store_explicit(&promc__reclaim_asym, !fences && register_membarrier(),
                          memory_order_relaxed);
#endif
}

bool promc__reclaim_uses_membarrier(void)
{
    pthread_once(&init_once, reclaim_init);
    return atomic_load_explicit(&promc__reclaim_asym, memory_order_relaxed);
}

unsigned promc__reader_assign(void)
{
    pthread_once(&init_once, reclaim_init);
    unsigned got = PROMC__READER_NONE;
    if (pool_key_ok) {
        pthread_mutex_lock(&pool_lock);
        for (unsigned w = 0; w < PROMC__READERS / 64 && got == PROMC__READER_NONE; w++) {
            if (~pool_used[w] == 0)
                continue;
            unsigned i = w * 64 + (unsigned)__builtin_ctzll(~pool_used[w]);
            /* The destructor gives the record back at thread exit; without it, no record. */
            if (pthread_setspecific(pool_key, (void *)(uintptr_t)(i + 1)) == 0) {
                pool_used[w] |= (uint64_t)1 << (i % 64);
                if (i + 1 > atomic_load_explicit(&pool_hwm, memory_order_relaxed))
                    atomic_store_explicit(&pool_hwm, i + 1, memory_order_seq_cst);
                got = i + 1;
            }
            break;
        }
        pthread_mutex_unlock(&pool_lock);
    }
    promc__tls_reader = got;
    /* Pairs with the fence in promc__reclaim_begin(): a reclaim that did not see this record
     * handed out has its unlinks visible to this thread's first read section. */
    atomic_thread_fence(memory_order_seq_cst);
    return got;
}

uint64_t promc__reclaim_begin(void)
{
    pthread_once(&init_once, reclaim_init);
    /* Everything unlinked before this point belongs to the new grace period. */
    uint64_t g = atomic_fetch_add_explicit(&promc__epoch, 1, memory_order_seq_cst) + 1;
    atomic_thread_fence(memory_order_seq_cst);
    /* No thread but this one has ever had a reader record: no other thread can be inside a read
     * section, and one that takes its first record from now on sees the unlinks (the fences
     * above and in promc__reader_assign()).  A single-threaded program never pays for
     * membarrier. */
    unsigned hwm = atomic_load_explicit(&pool_hwm, memory_order_seq_cst);
    if (hwm == 0 || (hwm == 1 && promc__tls_reader == 1))
        return g;
#ifdef __linux__
    if (atomic_load_explicit(&promc__reclaim_asym, memory_order_relaxed)) {
        if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
            return UINT64_MAX; /* no barrier, no proof: this batch waits for the next one */
        return g;
    }
#endif
    atomic_thread_fence(memory_order_seq_cst);
    return g;
}

bool promc__reclaim_safe(uint64_t epoch)
{
    if (epoch == UINT64_MAX)
        return false;
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&promc__overflow_readers, memory_order_acquire) != 0)
        return false;
    unsigned hwm = atomic_load_explicit(&pool_hwm, memory_order_acquire);
    for (unsigned i = 0; i < hwm; i++) {
        uint64_t e = atomic_load_explicit(&promc__readers[i].epoch, memory_order_acquire);
        if (e != 0 && e < epoch)
            return false;
    }
    return true;
}
