/* SPDX-License-Identifier: Apache-2.0 */
/* The allocator hook: every allocation of the library goes through these, so that a test can make
 * any one of them fail and check that the failure is reported and nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <promc/alloc.h>
#include "alloc.h"
#include "err.h"

static promc_allocator_t g_alloc = {malloc, calloc, realloc, free};

int promc_allocator_set(const promc_allocator_t *a)
{
    if (!a) {
        g_alloc = (promc_allocator_t){malloc, calloc, realloc, free};
        return 0;
    }
    if (!a->malloc_fn || !a->realloc_fn || !a->free_fn)
        return promc__err(PROMC_EINVAL,
                          "promc_allocator_set: malloc_fn, realloc_fn and free_fn are required");
    g_alloc = *a;
    return 0;
}

int promc_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                        void (*free_fn)(void *))
{
    if (!malloc_fn && !realloc_fn && !free_fn)
        return promc_allocator_set(NULL);
    if (!malloc_fn || !realloc_fn || !free_fn)
        return promc__err(PROMC_EINVAL, "promc_set_allocator: give all three functions or none");
    promc_allocator_t a = {malloc_fn, NULL, realloc_fn, free_fn};
    return promc_allocator_set(&a);
}

void *promc__malloc(size_t n)
{
    return g_alloc.malloc_fn(n ? n : 1);
}

void *promc__calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    if (g_alloc.calloc_fn)
        return g_alloc.calloc_fn(count ? count : 1, size ? size : 1);
    void *p = promc__malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *promc__realloc(void *p, size_t n)
{
    return g_alloc.realloc_fn(p, n ? n : 1);
}

void promc__free(void *p)
{
    if (p)
        g_alloc.free_fn(p);
}

char *promc__strdup(const char *s)
{
    return promc__memdup(s, strlen(s) + 1);
}

void *promc__memdup(const void *p, size_t n)
{
    void *q = promc__malloc(n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

/* Over-allocates and keeps the original pointer just below the aligned block, so that the hook
 * needs no aligned_alloc of its own. */
void *promc__malloc_aligned(size_t n, size_t align)
{
    if (n > SIZE_MAX - align - sizeof(void *))
        return NULL;
    char *raw = promc__malloc(n + align + sizeof(void *));
    if (!raw)
        return NULL;
    uintptr_t start = (uintptr_t)(raw + sizeof(void *));
    uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)aligned)[-1] = raw;
    return (void *)aligned;
}

void promc__free_aligned(void *p)
{
    if (p)
        promc__free(((void **)p)[-1]);
}
