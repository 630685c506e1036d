/* SPDX-License-Identifier: Apache-2.0 */
/* The writer's output side: a chunk buffer that a sink drains, gzip through zlib, the escaping of
 * label values and HELP, and the name[] filter. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "alloc.h"
#include "err.h"
#include "hash.h"
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
    static const promc_expose_opts_t defaults = {PROMC_FORMAT_TEXT, NULL, 0, false, 0};
    memset(w, 0, sizeof *w);
    promc__strbuf_init(&w->lab, (size_t)1 << 30);
    if (!opts)
        opts = &defaults;
    if (opts->format != PROMC_FORMAT_TEXT && opts->format != PROMC_FORMAT_OPENMETRICS)
        return promc__err(PROMC_EINVAL, "unknown format %d", (int)opts->format);
    if (opts->name_count && !opts->names)
        return promc__err(PROMC_EINVAL, "name_count without names");
    w->fmt = opts->format;
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
    if (w->z)
        deflateEnd(w->z);
    w->z = NULL;
    promc__free(w->zout);
    promc__free(w->buf);
    promc__free((void *)w->filter);
    promc__strbuf_destroy(&w->lab);
}
