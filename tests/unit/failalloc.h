/* SPDX-License-Identifier: Apache-2.0 */
/* The failing allocator that every out-of-memory test uses, installed with promc_allocator_set():
 *   failalloc_install();
 *   failalloc_fail_nth(n);   the n-th allocation from now fails, the others succeed
 *   failalloc_budget(n);     n allocations succeed, every later one fails (libuv's test-loop-oom)
 *   failalloc_off();         nothing fails
 *   failalloc_count()        allocations asked for since the last fail_nth/budget/off
 *   failalloc_live()         blocks handed out and not yet freed
 * Counters are atomic, so the server's threads may allocate while the test thread arms a failure.
 */
#ifndef PROMC_TEST_FAILALLOC_H
#define PROMC_TEST_FAILALLOC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <promc/alloc.h>

static atomic_long failalloc_count_;       /* allocations since armed */
static atomic_long failalloc_nth_ = -1;    /* fail the allocation with this number; -1: none */
static atomic_long failalloc_budget_ = -1; /* allocations still allowed; -1: unlimited */
static atomic_long failalloc_live_;

static bool failalloc_take_(void)
{
    long k = atomic_fetch_add(&failalloc_count_, 1) + 1;
    if (k == atomic_load(&failalloc_nth_))
        return false;
    long b = atomic_load(&failalloc_budget_);
    while (b >= 0) {
        if (b == 0)
            return false;
        if (atomic_compare_exchange_weak(&failalloc_budget_, &b, b - 1))
            return true;
    }
    return true;
}

static void *failalloc_malloc_(size_t n)
{
    if (!failalloc_take_())
        return NULL;
    void *p = malloc(n);
    if (p)
        atomic_fetch_add(&failalloc_live_, 1);
    return p;
}

static void *failalloc_calloc_(size_t count, size_t size)
{
    if (!failalloc_take_())
        return NULL;
    void *p = calloc(count, size);
    if (p)
        atomic_fetch_add(&failalloc_live_, 1);
    return p;
}

static void *failalloc_realloc_(void *p, size_t n)
{
    if (!failalloc_take_())
        return NULL;
    void *q = realloc(p, n);
    if (q && p == NULL)
        atomic_fetch_add(&failalloc_live_, 1);
    return q;
}

static void failalloc_free_(void *p)
{
    if (p)
        atomic_fetch_sub(&failalloc_live_, 1);
    free(p);
}

static inline int failalloc_install(void)
{
    static const promc_allocator_t a = {failalloc_malloc_, failalloc_calloc_, failalloc_realloc_,
                                        failalloc_free_};
    return promc_allocator_set(&a);
}

static inline int failalloc_uninstall(void)
{
    return promc_allocator_set(NULL);
}

static inline void failalloc_off(void)
{
    atomic_store(&failalloc_nth_, -1);
    atomic_store(&failalloc_budget_, -1);
    atomic_store(&failalloc_count_, 0);
}

static inline void failalloc_fail_nth(long n)
{
    failalloc_off();
    atomic_store(&failalloc_nth_, n);
}

static inline void failalloc_budget(long n)
{
    failalloc_off();
    atomic_store(&failalloc_budget_, n);
}

static inline long failalloc_count(void)
{
    return atomic_load(&failalloc_count_);
}

static inline long failalloc_live(void)
{
    return atomic_load(&failalloc_live_);
}

#endif
