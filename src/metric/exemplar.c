/* SPDX-License-Identifier: Apache-2.0 */
/* Exemplars: see exemplar.h. */
#include <string.h>
#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "exemplar.h"
#include "metric_internal.h"
#include "names.h"
#include "utf8.h"

#define MAX_CHARS 128 /* OpenMetrics: names and values together, in UTF-8 characters */

static size_t utf8_chars(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)p[i] & 0xc0) != 0x80;
    return c;
}

int promc__exemplar_format(const promc_label_t *labels, size_t n, char *text, size_t *len)
{
    if (n && labels == NULL)
        return promc__err(PROMC_EINVAL, "exemplar: labels is NULL with a count of %zu", n);
    size_t chars = 0, o = 0, cap = PROMC__EXEMPLAR_WORDS * 8;
    for (size_t i = 0; i < n; i++) {
        const promc_label_t *l = &labels[i];
        if (l->name.ptr == NULL || (l->value.ptr == NULL && l->value.len))
            return promc__err(PROMC_EINVAL, "exemplar: label %zu is NULL", i);
        int rc = promc__name_check_label(l->name.ptr, l->name.len);
        if (rc == 0)
            rc = promc__utf8_check(l->value.ptr, l->value.len, "exemplar label '%.*s'",
                                   (int)(l->name.len > 100 ? 100 : l->name.len), l->name.ptr);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (labels[j].name.len == l->name.len &&
                memcmp(labels[j].name.ptr, l->name.ptr, l->name.len) == 0)
                return promc__err(PROMC_ELABELNAME, "exemplar: label '%.*s' given twice",
                                  (int)l->name.len, l->name.ptr);
        chars += l->name.len + utf8_chars(l->value.ptr, l->value.len);
        if (chars > MAX_CHARS)
            return promc__err(PROMC_ETOOBIG,
                              "exemplar: labels of more than %d characters (names and values "
                              "together), at label '%.*s'",
                              MAX_CHARS, (int)(l->name.len > 100 ? 100 : l->name.len), l->name.ptr);
        /* name="value", escaped as label values are; 128 characters fit the record. */
        if (i)
            text[o++] = ',';
        memcpy(text + o, l->name.ptr, l->name.len);
        o += l->name.len;
        text[o++] = '=';
        text[o++] = '"';
        for (size_t k = 0; k < l->value.len && o + 4 < cap; k++) {
            char c = l->value.ptr[k];
            if (c == '\\' || c == '"' || c == '\n') {
                text[o++] = '\\';
                text[o++] = c == '\n' ? 'n' : c;
            } else {
                text[o++] = c;
            }
        }
        text[o++] = '"';
    }
    *len = o;
    return 0;
}

void promc__exemplar_store(promc__exemplar_t *slot, const char *text, size_t len, double value)
{
    uint32_t idle = 0;
    if (!atomic_compare_exchange_strong_explicit(&slot->writing, &idle, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        return; /* another writer has it: this exemplar is dropped */
    uint32_t i = 1u - atomic_load_explicit(&slot->shown, memory_order_relaxed);
    promc__exemplar_rec_t *r = &slot->rec[i];
    uint32_t s = atomic_load_explicit(&r->seq, memory_order_relaxed);
    atomic_store_explicit(&r->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    uint64_t words[PROMC__EXEMPLAR_WORDS];
    size_t nw = (len + 7) / 8;
    memset(words, 0, nw * 8);
    memcpy(words, text, len);
    for (size_t k = 0; k < nw; k++)
        atomic_store_explicit(&r->text[k], words[k], memory_order_relaxed);
    atomic_store_explicit(&r->len, (uint32_t)len, memory_order_relaxed);
    atomic_store_explicit(&r->value_bits, promc__double_to_bits(value), memory_order_relaxed);
    atomic_store_explicit(&r->ts_us, promc__now_unix_us(), memory_order_relaxed);
    atomic_store_explicit(&r->seq, s + 2, memory_order_release);
    atomic_store_explicit(&slot->shown, i, memory_order_release);
    atomic_store_explicit(&slot->writing, 0, memory_order_release);
}

bool promc__exemplar_load(const promc__exemplar_t *slot, promc__exemplar_snap_t *out)
{
    promc__exemplar_t *sl = (promc__exemplar_t *)slot;
    /* The shown record changes under a copy only when two writes end during it. */
    for (int attempt = 0; attempt < 16; attempt++) {
        uint32_t i = atomic_load_explicit(&sl->shown, memory_order_acquire);
        promc__exemplar_rec_t *r = &sl->rec[i & 1];
        uint32_t s = atomic_load_explicit(&r->seq, memory_order_acquire);
        if (s == 0)
            return false;
        if (s & 1)
            continue;
        size_t len = atomic_load_explicit(&r->len, memory_order_relaxed);
        if (len > sizeof out->text)
            len = sizeof out->text;
        uint64_t words[PROMC__EXEMPLAR_WORDS];
        size_t nw = (len + 7) / 8;
        for (size_t k = 0; k < nw; k++)
            words[k] = atomic_load_explicit(&r->text[k], memory_order_relaxed);
        uint64_t vb = atomic_load_explicit(&r->value_bits, memory_order_relaxed);
        int64_t ts = atomic_load_explicit(&r->ts_us, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&r->seq, memory_order_relaxed) != s)
            continue;
        memcpy(out->text, words, len);
        out->len = len;
        out->value = promc__bits_to_double(vb);
        out->ts_us = ts;
        return true;
    }
    return false;
}

promc__exemplar_t *promc__exemplar_slots(_Atomic(promc__exemplar_t *) *field, size_t count)
{
    promc__exemplar_t *cur = atomic_load_explicit(field, memory_order_acquire);
    if (cur)
        return cur;
    promc__exemplar_t *fresh = promc__calloc(count, sizeof *fresh);
    if (fresh == NULL)
        return NULL;
    if (atomic_compare_exchange_strong_explicit(field, &cur, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    promc__free(fresh); /* another thread installed its own first */
    return cur;
}
