/* SPDX-License-Identifier: Apache-2.0 */
/* The custom-collector emit API: a collector's callback names a family, then writes its samples;
 * names, suffixes and labels are checked, labels sorted and escaped, and the lines go through the
 * same writer as our own metrics'.  Text 0.0.4 moves a family's _created, _gcount and _gsum
 * samples into gauge families of their own after it, as client_python does: they are held in a
 * side buffer until the family closes. */
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "collector.h"
#include "err.h"
#include "names.h"
#include "writer.h"
#include "utf8.h"

struct promc_emit {
    promc__writer_t *w;
    bool open;
    bool header_done;
    promc_type_t type;
    promc__strbuf_t name, help, unit;
    promc__strbuf_t side;   /* text 0.0.4: this family's _created, _gcount and _gsum lines */
    promc__writer_t side_w; /* writes into `side` through a memory sink */
    bool legacy;            /* the registry keeps the legacy name rules */
    const promc_label_t *reg_labels; /* the registry's const labels, on every sample */
    size_t reg_label_count;
};

static int set_str(promc__strbuf_t *b, const char *s)
{
    b->len = 0;
    if (promc__strbuf_append(b, s, strlen(s) + 1))
        return PROMC_ENOMEM;
    b->len--;
    return 0;
}

static void emit_header(promc_emit_t *e)
{
    if (!e->header_done && e->w->pb) {
        promc__pb_family(e->w, e->name.data, promc__pb_suffix(e->type), e->help.data,
                         promc__pb_type(e->type));
        e->header_done = true;
    } else if (!e->header_done) {
        promc__put_header(e->w, e->name.data, e->help.data, e->type, e->unit.data);
        e->header_done = true;
    }
}

/* The suffixes text 0.0.4 moves out of a family, each into a gauge family of its own, in the
 * order client_python writes them (sorted). */
static const char *const side_suffixes[] = {"_created", "_gcount", "_gsum"};

/* Closes the current family: its header if nothing forced it yet (unfiltered), then text 0.0.4's
 * side families from the side buffer, one per suffix, each with its lines in emission order.
 * Lines end at '\n' (label values escape theirs) and start with the family name and the suffix,
 * followed by '{' or ' '. */
static int emit_close(promc_emit_t *e)
{
    if (!e->open)
        return 0;
    e->open = false;
    if (e->w->pb) {
        promc__pb_family_end(e->w); /* nothing for a family without samples */
        return e->w->err;
    }
    if (!e->w->filter)
        emit_header(e);
    promc__writer_flush(&e->side_w);
    if (!e->side.len)
        return e->w->err ? e->w->err : e->side_w.err;
    const char *end = e->side.data + e->side.len;
    size_t nl = e->name.len;
    for (size_t k = 0; k < sizeof side_suffixes / sizeof side_suffixes[0]; k++) {
        const char *sfx = side_suffixes[k];
        size_t sl = strlen(sfx);
        bool any = false;
        for (const char *p = e->side.data; p < end;) {
            const char *eol = memchr(p, '\n', (size_t)(end - p));
            size_t len = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);
            if (len > nl + sl && memcmp(p + nl, sfx, sl) == 0 &&
                (p[nl + sl] == '{' || p[nl + sl] == ' ')) {
                if (!any)
                    promc__put_side_header(e->w, e->name.data, sfx, e->help.data);
                any = true;
                promc__put(e->w, p, len);
            }
            p += len;
        }
    }
    e->side.len = 0;
    return e->w->err ? e->w->err : e->side_w.err;
}

int promc_emit_family(promc_emit_t *e, const char *name, const char *help, promc_type_t type,
                      const char *unit)
{
    if (!e || !name)
        return promc__err(PROMC_EINVAL, "promc_emit_family: NULL argument");
    int rc = emit_close(e);
    if (rc)
        return rc;
    rc = promc__name_check_metric_as("collector family", name, e->legacy);
    if (rc)
        return rc;
    if ((unsigned)type > PROMC_UNTYPED)
        return promc__err(PROMC_EINVAL, "collector family '%.100s': invalid type", name);
    unit = unit ? unit : "";
    rc = promc__name_check_unit(name, unit);
    if (!rc && help)
        rc = promc__utf8_check(help, strlen(help), "collector family '%.100s': help", name);
    if (rc)
        return rc;
    /* As client_python's Metric: the unit is appended unless the name already ends with it. */
    size_t nl = strlen(name), ul = strlen(unit);
    bool suffixed = !ul || promc__name_has_unit(name, nl, unit);
    if (set_str(&e->name, name) ||
        (!suffixed && (promc__strbuf_append(&e->name, "_", 1) ||
                       promc__strbuf_append(&e->name, unit, ul + 1))) ||
        set_str(&e->help, help ? help : "") || set_str(&e->unit, unit))
        return promc__err(PROMC_ENOMEM, "collector family");
    if (!suffixed)
        e->name.len--; /* the NUL appended with the unit */
    e->type = type;
    e->open = true;
    e->header_done = false;
    /* The name buffer is reused from family to family: the writers' cached names go. */
    e->w->name_src = NULL;
    e->side_w.name_src = NULL;
    return 0;
}

static int cmp_label_ptr(const void *a, const void *b)
{
    const promc_label_t *x = *(const promc_label_t *const *)a,
                        *y = *(const promc_label_t *const *)b;
    return promc__name_cmp(x->name.ptr, x->name.len, y->name.ptr, y->name.len);
}

int promc_emit_sample(promc_emit_t *e, const char *suffix, const promc_label_t *labels, size_t n,
                      double value)
{
    if (!e || !e->open)
        return promc__err(PROMC_ESTATE, "promc_emit_sample before promc_emit_family");
    if (n && !labels)
        return promc__err(PROMC_EINVAL, "promc_emit_sample: NULL labels");
    suffix = suffix ? suffix : "";
    /* The suffix becomes part of the sample's name: anything else would corrupt the output. */
    int rc = promc__name_check_suffix(e->name.data, suffix);
    if (rc)
        return rc;
    promc__writer_t *w = e->w;
    if (!promc__writer_allowed(w, e->name.data, suffix))
        return 0;
    const promc_label_t *stack[16];
    size_t all = n + e->reg_label_count;
    const promc_label_t **sorted = all <= 16 ? stack : promc__malloc(all * sizeof *sorted);
    if (!sorted)
        return promc__err(PROMC_ENOMEM, "labels");
    for (size_t i = 0; i < e->reg_label_count; i++)
        sorted[n + i] = &e->reg_labels[i]; /* checked when they were set */
    for (size_t i = 0; i < n && !rc; i++) {
        sorted[i] = &labels[i];
        if ((!labels[i].value.ptr && labels[i].value.len) || !labels[i].name.ptr)
            rc = promc__err(PROMC_EINVAL, "promc_emit_sample: label %zu is NULL", i);
        else
            rc = promc__name_check_label_as(labels[i].name.ptr, labels[i].name.len, e->legacy);
        if (!rc)
            rc = promc__utf8_check(labels[i].value.ptr, labels[i].value.len,
                                   "collector family '%.100s': label '%.*s'", e->name.data,
                                   (int)(labels[i].name.len > 100 ? 100 : labels[i].name.len),
                                   labels[i].name.ptr);
    }
    if (!rc) {
        qsort(sorted, all, sizeof *sorted, cmp_label_ptr);
        for (size_t i = 1; i < all && !rc; i++)
            if (cmp_label_ptr(&sorted[i - 1], &sorted[i]) == 0)
                rc = promc__err(PROMC_ELABELNAME,
                                "collector family '%.100s': label '%.*s' given twice", e->name.data,
                                (int)(sorted[i]->name.len > 100 ? 100 : sorted[i]->name.len),
                                sorted[i]->name.ptr);
    }
    if (!rc && w->pb) {
        /* Protobuf: le (histogram) and quantile (summary) go into the bucket or quantile; the
         * other labels make the metric the sample belongs to. */
        emit_header(e);
        promc__pb_emit_begin(w);
        const char *extra = NULL;
        size_t extra_len = 0;
        for (size_t i = 0; i < all; i++) {
            const promc_str_t *ln = &sorted[i]->name, *lv = &sorted[i]->value;
            if ((e->type == PROMC_HISTOGRAM && ln->len == 2 && !memcmp(ln->ptr, "le", 2)) ||
                (e->type == PROMC_SUMMARY && ln->len == 8 && !memcmp(ln->ptr, "quantile", 8))) {
                extra = lv->ptr ? lv->ptr : "";
                extra_len = lv->len;
                continue;
            }
            promc__pb_emit_label(w, ln->ptr, ln->len, lv->ptr ? lv->ptr : "", lv->len);
        }
        rc = promc__pb_emit_sample(w, e->type, suffix, extra, extra_len, value);
        if (sorted != stack)
            promc__free((void *)sorted);
        return rc;
    }
    if (!rc) {
        promc__strbuf_t *b = &w->lab;
        b->len = 0;
        for (size_t i = 0; i < all && !rc; i++)
            if (promc__append_pair_esc(b, sorted[i]->name.ptr, sorted[i]->name.len,
                                       sorted[i]->value.ptr, sorted[i]->value.len, w->esc))
                rc = promc__err(PROMC_ENOMEM, "labels");
        w->pre_end = w->post_start = b->len;
    }
    if (sorted != stack)
        promc__free((void *)sorted);
    if (rc)
        return rc;
    emit_header(e);
    bool om = w->fmt == PROMC_FORMAT_OPENMETRICS;
    bool side = false;
    for (size_t k = 0; !om && k < sizeof side_suffixes / sizeof side_suffixes[0]; k++)
        side = side || strcmp(suffix, side_suffixes[k]) == 0;
    if (side) {
        /* The side writer shares the label scratch of the main one. */
        e->side_w.lab = w->lab;
        promc__put_line(&e->side_w, e->name.data, suffix, NULL, NULL, 0, value);
        w->lab = e->side_w.lab;
        return e->side_w.err;
    }
    promc__put_line(w, e->name.data, suffix, NULL, NULL, 0, value);
    return w->err;
}

int promc__emit_collector(promc__writer_t *w, promc_collector_t *c)
{
    promc_emit_t e;
    memset(&e, 0, sizeof e);
    e.w = w;
    e.reg_labels =
        promc__registry_const_labels(atomic_load(&c->entry.registry), &e.reg_label_count);
    promc__strbuf_init(&e.name, 4096);
    promc__strbuf_init(&e.help, 1 << 20);
    promc__strbuf_init(&e.unit, 4096);
    promc__strbuf_init(&e.side, (size_t)1 << 30);
    e.side_w.fmt = w->fmt;
    e.side_w.esc = w->esc;
    promc__strbuf_init(&e.side_w.oname_buf, 1 << 20);
    e.side_w.sink = promc__strbuf_sink;
    e.side_w.ud = &e.side;
    e.side_w.internal_sink = true;
    char *sbuf = promc__malloc(PROMC__CHUNK);
    int rc = sbuf ? 0 : promc__err(PROMC_ENOMEM, "collector buffer");
    e.side_w.buf = sbuf;
    if (!rc) {
        rc = c->fn(c->ud, &e);
        if (rc > 0)
            rc = PROMC_ECOLLECT;
        int rc2 = emit_close(&e);
        if (!rc)
            rc = rc2;
    }
    promc__free(sbuf);
    promc__strbuf_destroy(&e.name);
    promc__strbuf_destroy(&e.help);
    promc__strbuf_destroy(&e.unit);
    promc__strbuf_destroy(&e.side);
    promc__strbuf_destroy(&e.side_w.oname_buf);
    w->name_src = NULL;
    return rc ? rc : w->err;
}
