/* SPDX-License-Identifier: Apache-2.0 */
/* Family headers and sample lines, shared by the walk over our own metrics and by custom
 * collectors.  Each child's labels are escaped and joined once into a scratch buffer, then every
 * sample line of that child reuses them; a histogram's le label (an enum's own label) is spliced in
 * at its sorted place. */
#include <string.h>
#include "err.h"
#include "fmt.h"
#include "names.h"
#include "writer.h"

static const char *om_type(promc_type_t t)
{
    switch (t) {
    case PROMC_COUNTER:
        return "counter";
    case PROMC_GAUGE:
        return "gauge";
    case PROMC_HISTOGRAM:
        return "histogram";
    case PROMC_SUMMARY:
        return "summary";
    case PROMC_INFO:
        return "info";
    case PROMC_ENUM:
        return "stateset";
    case PROMC_UNTYPED:
        return "unknown";
    }
    return "unknown";
}

/* The family's name and a suffix as the header writes them: quoted when the escaping allows
 * UTF-8 and the name is outside the legacy set. */
static void put_family_name(promc__writer_t *w, const char *name, const char *suffix)
{
    /* Always anew: a header starts a family, and a collector's name buffer is reused. */
    promc__writer_name(w, name);
    if (w->quote)
        promc__put_c(w, '"');
    promc__put(w, w->oname, w->oname_len);
    promc__put_s(w, suffix);
    if (w->quote)
        promc__put_c(w, '"');
}

/* "# HELP name+suffix help" and "# TYPE name+suffix type"; `om` also escapes quotes in HELP. */
static void put_help_type(promc__writer_t *w, const char *name, const char *suffix,
                          const char *help, bool om, const char *tname)
{
    promc__put(w, "# HELP ", 7);
    put_family_name(w, name, suffix);
    promc__put_c(w, ' ');
    promc__put_escaped(w, help, strlen(help), om);
    promc__put(w, "\n# TYPE ", 8);
    put_family_name(w, name, suffix);
    promc__put_c(w, ' ');
    promc__put_s(w, tname);
    promc__put_c(w, '\n');
}

/* The family header: in text 0.0.4 a counter's family is name_total and an info's name_info, an
 * info and an enum are gauges; in OpenMetrics the bare name, the real type, and the unit. */
void promc__put_header(promc__writer_t *w, const char *name, const char *help, promc_type_t type,
                       const char *unit)
{
    bool om = w->fmt == PROMC_FORMAT_OPENMETRICS;
    const char *suffix = "";
    const char *tname = om_type(type);
    if (!om) {
        switch (type) {
        case PROMC_COUNTER:
            suffix = "_total";
            break;
        case PROMC_INFO:
            suffix = "_info";
            tname = "gauge";
            break;
        case PROMC_ENUM:
            tname = "gauge";
            break;
        case PROMC_UNTYPED:
            tname = "untyped";
            break;
        case PROMC_GAUGE:
        case PROMC_HISTOGRAM:
        case PROMC_SUMMARY:
            break;
        }
    }
    put_help_type(w, name, suffix, help, om, tname);
    if (om && unit && unit[0]) {
        promc__put(w, "# UNIT ", 7);
        put_family_name(w, name, "");
        promc__put_c(w, ' ');
        promc__put_s(w, unit);
        promc__put_c(w, '\n');
    }
}

/* Text 0.0.4's separate gauge family for the OpenMetrics-only samples: name_created (also
 * name_gcount, name_gsum from a collector). */
void promc__put_side_header(promc__writer_t *w, const char *name, const char *suffix,
                            const char *help)
{
    put_help_type(w, name, suffix, help, false, "gauge");
}

int promc__append_pair(promc__strbuf_t *b, const char *name, size_t nlen, const char *v,
                       size_t vlen)
{
    if (b->len && promc__strbuf_append(b, ",", 1))
        return PROMC_ENOMEM;
    if (promc__strbuf_append(b, name, nlen) || promc__strbuf_append(b, "=\"", 2) ||
        promc__escape_into(b, v, vlen, true) || promc__strbuf_append(b, "\"", 1))
        return PROMC_ENOMEM;
    return 0;
}

int promc__append_pair_esc(promc__strbuf_t *b, const char *name, size_t nlen, const char *v,
                           size_t vlen, promc_escaping_t esc)
{
    if (b->len && promc__strbuf_append(b, ",", 1))
        return PROMC_ENOMEM;
    if (promc__append_label_name(b, name, nlen, esc) || promc__strbuf_append(b, "=\"", 2) ||
        promc__escape_into(b, v, vlen, true) || promc__strbuf_append(b, "\"", 1))
        return PROMC_ENOMEM;
    return 0;
}

/* Joins the child's labels, sorted by name, into w->lab, and notes where the extra label of the
 * metric (le, or an enum's own name) goes: between pre_end and post_start. */
int promc__join_labels(promc__writer_t *w, const promc_metric_t *m, const promc__child_t *s)
{
    promc__strbuf_t *b = &w->lab;
    b->len = 0;
    w->pre_end = w->post_start = 0;
    size_t all = m->label_count + m->const_count;
    bool fast = m->labels_legacy && w->esc != PROMC_ESCAPING_DOTS;
    for (size_t k = 0; k < all; k++) {
        if (k == m->extra_pos)
            w->pre_end = b->len;
        size_t i = m->label_order[k];
        const char *ln = m->label_names[i];
        promc_str_t v = promc__label_value(m, s, i);
        if (fast ? promc__append_pair(b, ln, strlen(ln), v.ptr, v.len)
                 : promc__append_pair_esc(b, ln, strlen(ln), v.ptr, v.len, w->esc))
            return promc__err(PROMC_ENOMEM, "labels");
    }
    if (m->extra_pos >= all) {
        w->pre_end = w->post_start = b->len;
    } else {
        /* The pair at extra_pos starts right after pre_end (and its comma). */
        w->post_start = w->pre_end ? w->pre_end + 1 : 0;
    }
    return 0;
}

/* Info: the metric's labels merged with the info labels, both sorted. */
int promc__join_info_labels(promc__writer_t *w, const promc_metric_t *m, const promc__child_t *s,
                            const promc__info_labels_t *il)
{
    promc__strbuf_t *b = &w->lab;
    b->len = 0;
    size_t k = 0, j = 0, nj = il ? il->n : 0, all = m->label_count + m->const_count;
    while (k < all || j < nj) {
        bool take_metric;
        if (k >= all)
            take_metric = false;
        else if (j >= nj)
            take_metric = true;
        else {
            const char *a = m->label_names[m->label_order[k]];
            const promc_str_t *bn = &il->labels[j].name;
            take_metric = promc__name_cmp(a, strlen(a), bn->ptr, bn->len) < 0;
        }
        int rc;
        if (take_metric) {
            size_t i = m->label_order[k++];
            promc_str_t v = promc__label_value(m, s, i);
            rc = promc__append_pair_esc(b, m->label_names[i], strlen(m->label_names[i]), v.ptr,
                                        v.len, w->esc);
        } else {
            const promc_label_t *l = &il->labels[j++];
            rc = promc__append_pair_esc(b, l->name.ptr, l->name.len, l->value.ptr, l->value.len,
                                        w->esc);
        }
        if (rc)
            return promc__err(PROMC_ENOMEM, "labels");
    }
    w->pre_end = w->post_start = b->len;
    return 0;
}
