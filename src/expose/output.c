/* SPDX-License-Identifier: Apache-2.0 */
/* The writer's output side: a chunk buffer that a sink drains, gzip through zlib, the escaping of
 * label values and HELP, and the name[] filter. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include "alloc.h"
#include "err.h"
#include "hash.h"
#include "names.h"
#include "writer.h"

static void sink_out(promc__writer_t *w, const void *p, size_t n)
{
    if (w->err || !n)
        return;
    int rc = w->sink(w->ud, p, n);
    if (rc)
        w->err = w->internal_sink && rc < 0
                     ? rc
                     : promc__err(PROMC_ESINK, "the sink refused %zu bytes", n);
}

static void z_pump(promc__writer_t *w, const void *p, size_t n, int flush)
{
    z_stream *z = w->z;
    z->next_in = (Bytef *)p;
    z->avail_in = (uInt)n;
    do {
        z->next_out = w->zout;
        z->avail_out = PROMC__CHUNK;
        int zr = deflate(z, flush);
        if (zr == Z_STREAM_ERROR) {
            w->err = promc__err(PROMC_EZLIB, "deflate failed");
            return;
        }
        sink_out(w, w->zout, PROMC__CHUNK - z->avail_out);
    } while (!w->err && (z->avail_out == 0 || (flush == Z_FINISH && z->avail_in)));
}

/* zlib allocates through the library's allocator too, so the OOM test reaches it. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return promc__calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    promc__free(p);
}

void promc__writer_flush(promc__writer_t *w)
{
    if (w->len && !w->err) {
        if (w->z)
            z_pump(w, w->buf, w->len, Z_NO_FLUSH);
        else
            sink_out(w, w->buf, w->len);
    }
    w->len = 0;
}

void promc__writer_direct(promc__writer_t *w, const void *p, size_t n)
{
    if (w->z)
        z_pump(w, p, n, Z_NO_FLUSH);
    else
        sink_out(w, p, n);
}

static int filter_init(promc__writer_t *w, const char *const *names, size_t n)
{
    if (!n)
        return 0;
    size_t cap = 8;
    while (cap < n * 2)
        cap *= 2;
    w->filter = promc__calloc(cap, sizeof(char *));
    if (!w->filter)
        return promc__err(PROMC_ENOMEM, "name filter");
    w->filter_mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        size_t j = promc__hash_bytes(names[i], strlen(names[i]), 7) & w->filter_mask;
        while (w->filter[j] && strcmp(w->filter[j], names[i]) != 0)
            j = (j + 1) & w->filter_mask;
        w->filter[j] = names[i];
    }
    return 0;
}

bool promc__writer_allowed(const promc__writer_t *w, const char *name, const char *suffix)
{
    if (!w->filter)
        return true;
    char full[512];
    size_t a = strlen(name), b = strlen(suffix);
    if (a + b >= sizeof full) {
        /* Too long to join on the stack (names have no length limit): compare in place with
         * every name of the filter. */
        for (size_t j = 0; j <= w->filter_mask; j++) {
            const char *f = w->filter[j];
            if (f && strlen(f) == a + b && memcmp(f, name, a) == 0 && memcmp(f + a, suffix, b) == 0)
                return true;
        }
        return false;
    }
    memcpy(full, name, a);
    memcpy(full + a, suffix, b + 1);
    size_t j = promc__hash_bytes(full, a + b, 7) & w->filter_mask;
    while (w->filter[j]) {
        if (strcmp(w->filter[j], full) == 0)
            return true;
        j = (j + 1) & w->filter_mask;
    }
    return false;
}

int promc__writer_init(promc__writer_t *w, const promc_expose_opts_t *opts, promc_sink_fn sink,
                       void *ud, bool internal_sink)
{
    static const promc_expose_opts_t defaults = {0};
    memset(w, 0, sizeof *w);
    promc__strbuf_init(&w->lab, (size_t)1 << 30);
    promc__strbuf_init(&w->oname_buf, 1 << 20);
    if (!opts)
        opts = &defaults;
    if ((unsigned)opts->format > PROMC_FORMAT_PROTOBUF)
        return promc__err(PROMC_EINVAL, "unknown format %d", (int)opts->format);
    if ((unsigned)opts->escaping > PROMC_ESCAPING_VALUES)
        return promc__err(PROMC_EINVAL, "unknown escaping %d", (int)opts->escaping);
    w->esc = opts->escaping;
    if (opts->name_count && !opts->names)
        return promc__err(PROMC_EINVAL, "name_count without names");
    /* OpenMetrics 0.0.1 is written as 1.0.0, text 1.0.0 as 0.0.4: they differ in their
     * Content-Type, and in what the escaping lets through. */
    w->fmt = opts->format == PROMC_FORMAT_OPENMETRICS_0_0_1 ? PROMC_FORMAT_OPENMETRICS
             : opts->format == PROMC_FORMAT_TEXT_1_0_0      ? PROMC_FORMAT_TEXT
                                                            : opts->format;
    w->sink = sink;
    w->ud = ud;
    w->internal_sink = internal_sink;
    w->buf = promc__malloc(PROMC__CHUNK);
    if (!w->buf)
        return promc__err(PROMC_ENOMEM, "output buffer");
    if (opts->gzip) {
        w->zs.zalloc = z_alloc;
        w->zs.zfree = z_free;
        int level = opts->gzip_level ? opts->gzip_level : Z_DEFAULT_COMPRESSION;
        if (level < -1 || level > 9)
            return promc__err(PROMC_EINVAL, "gzip level %d", opts->gzip_level);
        w->zout = promc__malloc(PROMC__CHUNK);
        if (!w->zout)
            return promc__err(PROMC_ENOMEM, "gzip buffer");
        int zr = deflateInit2(&w->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        if (zr != Z_OK)
            return zr == Z_MEM_ERROR ? promc__err(PROMC_ENOMEM, "deflateInit2")
                                     : promc__err(PROMC_EZLIB, "deflateInit2 failed");
        w->z = &w->zs;
    }
    return filter_init(w, opts->names, opts->name_count);
}

int promc__writer_finish(promc__writer_t *w)
{
    promc__writer_flush(w);
    if (w->z && !w->err)
        z_pump(w, NULL, 0, Z_FINISH);
    return w->err;
}

void promc__writer_destroy(promc__writer_t *w)
{
    promc__strbuf_destroy(&w->oname_buf);
    if (w->z)
        deflateEnd(w->z);
    w->z = NULL;
    promc__free(w->zout);
    promc__free(w->buf);
    promc__free((void *)w->filter);
    promc__strbuf_destroy(&w->lab);
}

/* ---- names outside the legacy set ------------------------------------------------------------ */

/* The code point at p (valid UTF-8: names are checked when they are made), and its length. */
static unsigned rune_at(const unsigned char *p, size_t n, size_t *len)
{
    if (p[0] < 0x80 || n < 2) {
        *len = 1;
        return p[0];
    }
    if (p[0] < 0xe0) {
        *len = 2;
        return (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
    }
    if (p[0] < 0xf0 && n >= 3) {
        *len = 3;
        return (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
    }
    if (n >= 4) {
        *len = 4;
        return (unsigned)(p[0] & 0x07) << 18 | (unsigned)(p[1] & 0x3f) << 12 |
               (unsigned)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
    }
    *len = 1;
    return 0xfffd;
}

/* client_golang's isValidLegacyRune: a letter, '_' or ':' anywhere, a digit after the first
 * byte.  For a label name ':' is not legacy (client_golang lets it through, and Prometheus then
 * refuses the label: found by fuzz_names). */
static bool legacy_rune(unsigned r, size_t i, bool label)
{
    return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_' || (r == ':' && !label) ||
           (r >= '0' && r <= '9' && i > 0);
}

/* Writes name (n bytes) escaped by `esc` (not allow-utf-8) into b. */
static int escape_name(promc__strbuf_t *b, const char *name, size_t n, promc_escaping_t esc,
                       bool legacy, bool label)
{
    int rc = 0;
    if (esc == PROMC_ESCAPING_VALUES) {
        if (legacy)
            return promc__strbuf_append(b, name, n);
        rc = promc__strbuf_append(b, "U__", 3);
    }
    const unsigned char *p = (const unsigned char *)name;
    for (size_t i = 0, len; rc == 0 && i < n; i += len) {
        unsigned r = rune_at(p + i, n - i, &len);
        char hex[16];
        switch (esc) {
        case PROMC_ESCAPING_UNDERSCORES:
            rc = legacy_rune(r, i, label) ? promc__strbuf_append(b, name + i, len)
                                          : promc__strbuf_append(b, "_", 1);
            break;
        case PROMC_ESCAPING_DOTS:
            if (r == '_')
                rc = promc__strbuf_append(b, "__", 2);
            else if (r == '.')
                rc = promc__strbuf_append(b, "_dot_", 5);
            else
                rc = legacy_rune(r, i, label) ? promc__strbuf_append(b, name + i, len)
                                              : promc__strbuf_append(b, "__", 2);
            break;
        case PROMC_ESCAPING_VALUES:
            if (r == '_') {
                rc = promc__strbuf_append(b, "__", 2);
            } else if (legacy_rune(r, i, label)) {
                rc = promc__strbuf_append(b, name + i, len);
            } else {
                int k = snprintf(hex, sizeof hex, "_%x_", r);
                rc = promc__strbuf_append(b, hex, (size_t)k);
            }
            break;
        case PROMC_ESCAPING_ALLOW_UTF8:
            rc = promc__strbuf_append(b, name + i, len);
            break;
        }
    }
    return rc;
}

void promc__writer_name(promc__writer_t *w, const char *name)
{
    size_t n = strlen(name);
    w->name_src = name;
    w->quote = false;
    w->oname = name;
    w->oname_len = n;
    bool legacy = promc__name_legacy_metric(name, n);
    if (legacy && w->esc != PROMC_ESCAPING_DOTS)
        return;
    promc__strbuf_t *b = &w->oname_buf;
    b->len = 0;
    int rc;
    if (w->esc == PROMC_ESCAPING_ALLOW_UTF8) {
        w->quote = true;
        rc = promc__escape_into(b, name, n, true);
    } else {
        rc = escape_name(b, name, n, w->esc, legacy, false);
    }
    if (rc != 0) {
        if (!w->err)
            w->err = promc__err(PROMC_ENOMEM, "escaping a name");
        w->oname_len = 0;
        return;
    }
    w->oname = b->data;
    w->oname_len = b->len;
}

bool promc__label_name_kept(const char *name, size_t n, promc_escaping_t esc)
{
    if (!promc__name_legacy_label(name, n))
        return false;
    return esc != PROMC_ESCAPING_DOTS || (memchr(name, '_', n) == NULL);
}

int promc__append_label_name(promc__strbuf_t *b, const char *name, size_t n, promc_escaping_t esc)
{
    if (promc__label_name_kept(name, n, esc))
        return promc__strbuf_append(b, name, n);
    if (esc == PROMC_ESCAPING_ALLOW_UTF8) {
        if (promc__strbuf_append(b, "\"", 1) || promc__escape_into(b, name, n, true) ||
            promc__strbuf_append(b, "\"", 1))
            return PROMC_ENOMEM;
        return 0;
    }
    return escape_name(b, name, n, esc, promc__name_legacy_label(name, n), true) ? PROMC_ENOMEM : 0;
}
