/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: a growable byte buffer with a hard cap. */
#ifndef PROMC_COMMON_STRBUF_H
#define PROMC_COMMON_STRBUF_H

#include <stddef.h>

typedef struct promc__strbuf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* the cap: growth past it fails with PROMC_ETOOBIG */
} promc__strbuf_t;

void promc__strbuf_init(promc__strbuf_t *b, size_t limit);
void promc__strbuf_destroy(promc__strbuf_t *b);

/* Room for `extra` more bytes.  Returns 0, PROMC_ETOOBIG (past the cap) or PROMC_ENOMEM. */
int promc__strbuf_reserve(promc__strbuf_t *b, size_t extra);

/* Appends n bytes.  Returns as promc__strbuf_reserve(). */
int promc__strbuf_append(promc__strbuf_t *b, const void *p, size_t n);

/* A promc_sink_fn that appends to the promc__strbuf_t `ud`; its failure is the buffer's own
 * negative code. */
int promc__strbuf_sink(void *ud, const void *p, size_t n);

#endif
