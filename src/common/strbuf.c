/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer with a hard cap: growth doubles, and stops with PROMC_ETOOBIG at the cap.
 */
#include <string.h>
#include "alloc.h"
#include "err.h"
#include "strbuf.h"

void promc__strbuf_init(promc__strbuf_t *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void promc__strbuf_destroy(promc__strbuf_t *b)
{
    promc__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int promc__strbuf_reserve(promc__strbuf_t *b, size_t extra)
{
    if (extra > b->limit || b->len > b->limit - extra)
        return promc__err(PROMC_ETOOBIG, "buffer would exceed its cap of %zu bytes", b->limit);
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > b->limit / 2 ? b->limit : cap * 2;
    char *p = promc__realloc(b->data, cap);
    if (!p)
        return promc__err(PROMC_ENOMEM, "buffer of %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return 0;
}

int promc__strbuf_append(promc__strbuf_t *b, const void *p, size_t n)
{
    int rc = promc__strbuf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int promc__strbuf_sink(void *ud, const void *p, size_t n)
{
    return promc__strbuf_append(ud, p, n);
}
