/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the library's allocations, all through the hook of <promc/alloc.h>, so that a test can
 * make any one of them fail. */
#ifndef PROMC_COMMON_ALLOC_H
#define PROMC_COMMON_ALLOC_H

#include <stddef.h>

void *promc__malloc(size_t n);
void *promc__calloc(size_t count, size_t size);
void *promc__realloc(void *p, size_t n);
void promc__free(void *p);
char *promc__strdup(const char *s);
void *promc__memdup(const void *p, size_t n);

/* A block aligned to `align` (a power of two); free it with promc__free_aligned(). */
void *promc__malloc_aligned(size_t n, size_t align);
void promc__free_aligned(void *p);

#endif
