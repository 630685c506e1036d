/* SPDX-License-Identifier: Apache-2.0 */
/* Hashing of label values for the child tables.  Eight bytes at a time, each word folded in with a
 * multiply-xorshift step, and the result finished with the MurmurHash3 64-bit finaliser so that the
 * low bits (the table index) depend on every input bit.  Lengths are mixed in, so ("ab","c") and
 * ("a","bc") differ.
 *
 * Label values often come from outside (a path, a client's name), so their hash starts from a
 * seed drawn when the library is loaded: values crafted to land in one bucket of one process do
 * not of another, and nobody can make a child lookup walk a long chain on purpose.  Nothing
 * depends on the order of hashes: exposition follows creation order. */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "hash.h"

#define K1 0x9E3779B97F4A7C15ull
#define K2 0xC2B2AE3D27D4EB4Full

static inline uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static inline uint64_t fold(uint64_t h, uint64_t w)
{
    h ^= w * K2;
    h = (h << 31) | (h >> 33);
    return h * K1;
}

static uint64_t hash_raw(const unsigned char *p, size_t len, uint64_t h)
{
    h = fold(h, (uint64_t)len);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = fold(h, w);
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = fold(h, w);
    }
    return h;
}

uint64_t promc__hash_bytes(const void *p, size_t len, uint64_t seed)
{
    return fmix64(hash_raw(p, len, seed ^ K1));
}

static uint64_t values_seed = K1; /* replaced before main() runs */

__attribute__((constructor)) static void draw_values_seed(void)
{
    uint64_t s;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        /* No entropy yet (early boot): weaker, but still differs between processes. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16) ^
            (uint64_t)(uintptr_t)&s;
    }
    values_seed = fmix64(s ^ K2);
}

uint64_t promc__hash_values(const promc_str_t *values, size_t n)
{
    uint64_t h = values_seed ^ n;
    for (size_t i = 0; i < n; i++)
        h = hash_raw((const unsigned char *)values[i].ptr, values[i].len, h);
    return fmix64(h);
}
