/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: hashing of names and label values. */
#ifndef PROMC_COMMON_HASH_H
#define PROMC_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <promc/base.h>

/* A 64-bit hash of `len` bytes under `seed` (for sets of names; not keyed per process). */
uint64_t promc__hash_bytes(const void *p, size_t len, uint64_t seed);

/* The hash of a child's label values, keyed by a seed drawn per process (see hash.c). */
uint64_t promc__hash_values(const promc_str_t *values, size_t n);

#endif
