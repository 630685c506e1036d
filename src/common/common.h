/* Internal: allocator hook, error reporting, hashing, number formatting, capped buffers.
 * common/ depends on nothing else in the library. */
#ifndef PROMC_COMMON_H
#define PROMC_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <promc/metric.h>

/* ---- allocator (alloc.c) ---- */
void *promc__malloc(size_t n);
void *promc__calloc(size_t count, size_t size);
void *promc__realloc(void *p, size_t n);
void promc__free(void *p);
char *promc__strdup(const char *s);
void *promc__memdup(const void *p, size_t n);
/* Cache-line aligned block; free with promc__free_aligned. */
void *promc__malloc_aligned(size_t n, size_t align);
void promc__free_aligned(void *p);

/* ---- errors (errors.c) ---- */
/* Records details for promc_last_error() and returns `err`, so a failure path reads
 * `return promc__err(PROMC_ENAME, "metric name '%s': ...", name);`. */
int promc__err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void promc__err_clear(void);

/* ---- hashing (hash.c) ---- */
uint64_t promc__hash_bytes(const void *p, size_t len, uint64_t seed);
uint64_t promc__hash_values(const promc_str_t *values, size_t n);

/* ---- number formatting (fmt.c) ---- */
/* client_python's floatToGoString with its 1e10..1e16 exponent bug fixed; buf >= 32 bytes. */
size_t promc__fmt_double(double v, char *buf);
/* A time in microseconds as promc__fmt_double((double)us / 1e6) would write it, from integers. */
size_t promc__fmt_micros(int64_t us, char *buf);
/* Decimal digits of an unsigned integer; buf >= 21 bytes.  Returns the length. */
size_t promc__fmt_u64(uint64_t v, char *buf);

/* ---- time ---- */
double promc__now_unix(void);
int64_t promc__now_unix_us(void);
int64_t promc__now_mono_ns(void);

/* ---- capped growable buffer (strbuf.c) ---- */
typedef struct promc__strbuf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* the cap: growth past it fails with PROMC_ETOOBIG */
} promc__strbuf_t;

void promc__strbuf_init(promc__strbuf_t *b, size_t limit);
void promc__strbuf_destroy(promc__strbuf_t *b);
int promc__strbuf_reserve(promc__strbuf_t *b, size_t extra);
int promc__strbuf_append(promc__strbuf_t *b, const void *p, size_t n);

#endif
