/* SPDX-License-Identifier: Apache-2.0 */
/* Thread slots (slots.h): a bitmap of the slots held by live threads, a thread-exit destructor
 * that gives a slot back, and fork handlers that keep the bitmap's lock usable in a child. */
#include <pthread.h>
#include <stdint.h>
#include "fork.h"
#include "slots.h"

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t slots_used; /* bit i: slot i owned by a live thread (under slot_lock) */
static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

__thread unsigned promc__tls_slot __attribute__((tls_model("initial-exec")));

/* Runs on the exiting thread.  Its later counter updates (from a thread-exit destructor that runs
 * after this one) go to the shared cells with atomic adds: the slot may belong to a new thread as
 * soon as the lock is released. */
static void slot_release(void *v)
{
    unsigned slot = (unsigned)(uintptr_t)v - 1;
    promc__tls_slot = PROMC__SLOT_NONE;
    pthread_mutex_lock(&slot_lock);
    slots_used &= ~((uint64_t)1 << slot);
    pthread_mutex_unlock(&slot_lock);
}

/* fork(): the child has one thread, the one that forked, and a copy of slot_lock as it was.  Held
 * then by a thread that does not exist in the child, it would stay locked for good, and the
 * child's first new thread to update a counter would wait on it forever.  So the lock is taken
 * around fork() and released on both sides; in the child, the slots of the threads left behind go
 * back to the pool (their exit destructors never run there). */
static void slot_prefork(void)
{
    pthread_mutex_lock(&slot_lock);
}

static void slot_postfork_parent(void)
{
    pthread_mutex_unlock(&slot_lock);
}

static void slot_postfork_child(void)
{
    unsigned mine = promc__tls_slot;
    slots_used = mine >= 1 && mine <= PROMC__MAX_SLOTS ? (uint64_t)1 << (mine - 1) : 0;
    pthread_mutex_unlock(&slot_lock);
}

static void slot_init(void)
{
    if (pthread_key_create(&slot_key, slot_release) != 0) {
        slot_key = (pthread_key_t)-1;
        return;
    }
    (void)promc__atfork_add(PROMC__FORK_SLOTS, slot_prefork, slot_postfork_parent,
                            slot_postfork_child);
}

unsigned promc__slot_assign(void)
{
    pthread_once(&slot_once, slot_init);
    unsigned got = PROMC__SLOT_NONE;
    if (slot_key != (pthread_key_t)-1) {
        pthread_mutex_lock(&slot_lock);
        if (~slots_used) {
            unsigned i = (unsigned)__builtin_ctzll(~slots_used);
            /* The destructor returns the slot at thread exit; without it the slot is not ours. */
            if (pthread_setspecific(slot_key, (void *)(uintptr_t)(i + 1)) == 0) {
                slots_used |= (uint64_t)1 << i;
                got = i + 1;
            }
        }
        pthread_mutex_unlock(&slot_lock);
    }
    promc__tls_slot = got;
    return got;
}
