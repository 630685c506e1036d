/* SPDX-License-Identifier: Apache-2.0 */
/* promc — the allocator hook: every allocation the library makes goes through it. */
#ifndef PROMC_ALLOC_H
#define PROMC_ALLOC_H

#include <stddef.h>
#include <promc/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The functions the library allocates with.  malloc_fn, realloc_fn and free_fn are required;
 * calloc_fn may be NULL (then malloc_fn and a memset).  The library never asks for 0 bytes.
 * Since: 0.2 */
typedef struct promc_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*calloc_fn)(size_t count, size_t size);
    void *(*realloc_fn)(void *p, size_t size);
    void (*free_fn)(void *p);
} promc_allocator_t;

/* Replaces the allocator for everything the library allocates from then on (copied; `a` need not
 * outlive the call).  Call it before any other promc call, or with every promc object freed.
 * NULL restores the C library's.  Returns 0 or PROMC_EINVAL (a required function missing; the
 * allocator is unchanged).
 * Thread-safety: not thread-safe.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_allocator_set(const promc_allocator_t *a);

/* Deprecated since 0.2, removed in 0.3: promc_allocator_set() with calloc_fn NULL.  Returns 0 or
 * PROMC_EINVAL (some but not all functions given).
 * Thread-safety: not thread-safe.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_set_allocator(void *(*malloc_fn)(size_t),
                                                  void *(*realloc_fn)(void *, size_t),
                                                  void (*free_fn)(void *))
    PROMC_DEPRECATED("use promc_allocator_set");

#ifdef __cplusplus
}
#endif
#endif
