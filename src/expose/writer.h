/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the exposition writer that every format and every source of samples writes through.
 *
 * Output goes through a 64 KiB chunk buffer to the caller's sink (through zlib first when gzip is
 * asked), so memory stays flat whatever the number of series.  The put functions are inline: they
 * run for every byte of a scrape. */
#ifndef PROMC_EXPOSE_WRITER_H
#define PROMC_EXPOSE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <zlib.h>
#include <promc/expose.h>
#include "exemplar.h"
#include "fmt.h"
#include "metric_internal.h"
#include "strbuf.h"

#define PROMC__CHUNK (64 * 1024)

typedef struct promc__pb promc__pb_t; /* proto.c */
struct Io__Prometheus__Client__Histogram;
struct promc__native_snap;

typedef struct promc__writer {
    promc_format_t fmt;
    char *buf;
    size_t len;
    promc_sink_fn sink;
    void *ud;
    /* The sink is one of ours (a growable buffer): its non-zero return is the error code itself
     * (PROMC_ENOMEM, PROMC_ETOOBIG), not a refusal by the caller's sink. */
    bool internal_sink;
    z_stream *z; /* &zs when compressing, else NULL */
    z_stream zs;
    unsigned char *zout;
    int err;
    /* name[] filter: a small open-addressing set of names, or none. */
    const char **filter;
    size_t filter_mask;
    /* scratch for one child's joined labels */
    promc__strbuf_t lab;
    size_t pre_end, post_start;
    /* Names outside the legacy set: how they are written, and the current family's name as
     * written (promc__writer_name()), cached by the address of the name it came from. */
    promc_escaping_t esc;
    const char *name_src;
    const char *oname;
    size_t oname_len;
    bool quote; /* allow-utf-8 and a name outside the set: {"name",labels} */
    promc__strbuf_t oname_buf;
    /* Written before the newline of the next sample line (an exemplar), when tail_len > 0. */
    const char *tail;
    size_t tail_len;
    promc__pb_t *pb; /* PROMC_FORMAT_PROTOBUF: the message being built */
} promc__writer_t;

/* ---- output.c: the chunk buffer, gzip, escaping, the name[] filter ----------------------------
 */

/* Sets up a writer for `opts` (format, gzip, filter) over the sink.  Returns 0, PROMC_EINVAL,
 * PROMC_ENOMEM or PROMC_EZLIB; promc__writer_destroy() frees it either way. */
int promc__writer_init(promc__writer_t *w, const promc_expose_opts_t *opts, promc_sink_fn sink,
                       void *ud, bool internal_sink);

/* Writes what the buffer holds, finishes the gzip stream, and returns the first error met. */
int promc__writer_finish(promc__writer_t *w);

void promc__writer_destroy(promc__writer_t *w);

/* Hands the buffered bytes to the sink (through zlib when compressing). */
void promc__writer_flush(promc__writer_t *w);

/* Hands n bytes past the buffer straight to the sink (through zlib when compressing). */
void promc__writer_direct(promc__writer_t *w, const void *p, size_t n);

static inline void promc__put(promc__writer_t *w, const void *p, size_t n)
{
    if (!n)
        return;
    if (w->len + n > PROMC__CHUNK) {
        promc__writer_flush(w);
        if (n > PROMC__CHUNK) {
            promc__writer_direct(w, p, n);
            return;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static inline void promc__put_s(promc__writer_t *w, const char *s)
{
    promc__put(w, s, strlen(s));
}

static inline void promc__put_c(promc__writer_t *w, char c)
{
    if (w->len == PROMC__CHUNK)
        promc__writer_flush(w);
    w->buf[w->len++] = c;
}

/* The first byte at or after `i` that needs escaping - backslash, newline and, if `quotes`, the
 * double quote, as both formats want in label values and OpenMetrics in HELP too - or n; *rep gets
 * its two-byte replacement. */
static inline size_t promc__next_escape(const char *p, size_t n, size_t i, bool quotes,
                                        const char **rep)
{
    for (; i < n; i++) {
        char c = p[i];
        if (c == '\\') {
            *rep = "\\\\";
            return i;
        }
        if (c == '\n') {
            *rep = "\\n";
            return i;
        }
        if (c == '"' && quotes) {
            *rep = "\\\"";
            return i;
        }
    }
    return n;
}

/* Appends the same escaped form to a buffer.  Returns 0 or PROMC_ENOMEM. */
static inline int promc__escape_into(promc__strbuf_t *b, const char *p, size_t n, bool quotes)
{
    size_t start = 0, i;
    const char *rep;
    while ((i = promc__next_escape(p, n, start, quotes, &rep)) < n) {
        if (promc__strbuf_append(b, p + start, i - start) || promc__strbuf_append(b, rep, 2))
            return PROMC_ENOMEM;
        start = i + 1;
    }
    return promc__strbuf_append(b, p + start, n - start);
}

/* Writes p[0..n) with backslash, newline and (when `quotes`) the double quote escaped, as label
 * values are in both formats and HELP is in OpenMetrics. */
static inline void promc__put_escaped(promc__writer_t *w, const char *p, size_t n, bool quotes)
{
    size_t start = 0, i;
    const char *rep;
    while ((i = promc__next_escape(p, n, start, quotes, &rep)) < n) {
        promc__put(w, p + start, i - start);
        promc__put(w, rep, 2);
        start = i + 1;
    }
    promc__put(w, p + start, n - start);
}

/* Makes `name` the family name the lines write: as it is when the escaping keeps it, else
 * escaped (or marked for quoting) into the writer's scratch.  Cached by the name's address. */
void promc__writer_name(promc__writer_t *w, const char *name);

/* Whether the escaping writes a label name as it is. */
bool promc__label_name_kept(const char *name, size_t n, promc_escaping_t esc);

/* Appends a label name as the escaping writes it (quoted under allow-utf-8 when outside the
 * set).  Returns 0 or PROMC_ENOMEM. */
int promc__append_label_name(promc__strbuf_t *b, const char *name, size_t n, promc_escaping_t esc);

/* Whether the name[] filter lets name+suffix through (always, without a filter). */
bool promc__writer_allowed(const promc__writer_t *w, const char *name, const char *suffix);

/* ---- lines.c: family headers and sample lines --------------------------------------------------
 */

/* The family header: "# HELP", "# TYPE" (and "# UNIT" in OpenMetrics) as the format names the
 * type. */
void promc__put_header(promc__writer_t *w, const char *name, const char *help, promc_type_t type,
                       const char *unit);

/* Text 0.0.4's separate gauge family for an OpenMetrics-only sample (name_created, and a
 * collector's name_gcount, name_gsum). */
void promc__put_side_header(promc__writer_t *w, const char *name, const char *suffix,
                            const char *help);

/* Appends name="escaped value" (after a comma unless first) to the label scratch.  Returns 0 or
 * PROMC_ENOMEM. */
int promc__append_pair(promc__strbuf_t *b, const char *name, size_t nlen, const char *v,
                       size_t vlen);
/* The same with the label name as the escaping writes it. */
int promc__append_pair_esc(promc__strbuf_t *b, const char *name, size_t nlen, const char *v,
                           size_t vlen, promc_escaping_t esc);

/* Joins a child's labels, sorted by name, into w->lab, noting where the metric's extra label (le,
 * or an enum's own name) goes; an info's labels are merged with the metric's.  Returns 0 or
 * PROMC_ENOMEM. */
int promc__join_labels(promc__writer_t *w, const promc_metric_t *m, const promc__child_t *c);
int promc__join_info_labels(promc__writer_t *w, const promc_metric_t *m, const promc__child_t *c,
                            const promc__info_labels_t *il);

/* The sample lines are inline: a scrape writes one per sample, from walk.c and emit.c. */
/* One sample line: name+suffix, the joined labels (with the extra label if given), the value
 * already formatted. */
static inline void promc__put_line_text(promc__writer_t *w, const char *name, const char *suffix,
                                        const char *extra_name, const char *extra_value,
                                        size_t extra_len, const char *val, size_t vlen)
{
    if (name != w->name_src)
        promc__writer_name(w, name);
    const promc__strbuf_t *b = &w->lab;
    bool labels = extra_name || b->len;
    if (!w->quote) {
        promc__put(w, w->oname, w->oname_len);
        promc__put_s(w, suffix);
        if (labels)
            promc__put_c(w, '{');
    } else {
        promc__put(w, "{\"", 2);
        promc__put(w, w->oname, w->oname_len);
        promc__put_s(w, suffix);
        promc__put_c(w, '"');
        if (labels)
            promc__put_c(w, ',');
    }
    if (extra_name) {
        promc__put(w, b->data, w->pre_end);
        if (w->pre_end)
            promc__put_c(w, ',');
        if ((extra_name[0] == 'l' && extra_name[1] == 'e' && extra_name[2] == '\0') ||
            promc__label_name_kept(extra_name, strlen(extra_name), w->esc)) {
            promc__put_s(w, extra_name); /* le (every bucket line), or a name the scheme keeps */
        } else {
            promc__strbuf_t t;
            promc__strbuf_init(&t, 1 << 20);
            if (promc__append_label_name(&t, extra_name, strlen(extra_name), w->esc) == 0)
                promc__put(w, t.data, t.len);
            promc__strbuf_destroy(&t);
        }
        promc__put(w, "=\"", 2);
        promc__put_escaped(w, extra_value, extra_len, true);
        promc__put_c(w, '"');
        if (w->post_start < b->len) {
            promc__put_c(w, ',');
            promc__put(w, b->data + w->post_start, b->len - w->post_start);
        }
    } else if (b->len) {
        promc__put(w, b->data, b->len);
    }
    if (labels || w->quote)
        promc__put_c(w, '}');
    promc__put_c(w, ' ');
    promc__put(w, val, vlen);
    if (w->tail_len)
        promc__put(w, w->tail, w->tail_len);
    promc__put_c(w, '\n');
}

/* One sample line: name+suffix, the joined labels (with the extra label if given), the value. */
static inline void promc__put_line(promc__writer_t *w, const char *name, const char *suffix,
                                   const char *extra_name, const char *extra_value,
                                   size_t extra_len, double value)
{
    char tmp[40];
    size_t n = promc__fmt_double(value, tmp);
    promc__put_line_text(w, name, suffix, extra_name, extra_value, extra_len, tmp, n);
}

/* A child's _created line. */
static inline void promc__put_created(promc__writer_t *w, const char *name, const promc__child_t *s)
{
    char tmp[40];
    size_t n = promc__fmt_micros(s->created_us, tmp);
    promc__put_line_text(w, name, "_created", NULL, NULL, 0, tmp, n);
}

/* ---- proto.c: the protobuf exposition -----------------------------------------------------------
 * Families are opened with promc__pb_family() (which closes the one before), metrics with
 * promc__pb_metric() and their labels, in the order written (sorted by name); the first value
 * creates the metric.  Failures are kept in w->err. */

int promc__pb_init(promc__writer_t *w);
void promc__pb_destroy(promc__writer_t *w);
/* The MetricType a type is written as, and the suffix of its family name ("_total", "_info"). */
int promc__pb_type(promc_type_t t);
const char *promc__pb_suffix(promc_type_t t);
/* pb_type: io.prometheus.client.MetricType (COUNTER 0, GAUGE 1, SUMMARY 2, UNTYPED 3,
 * HISTOGRAM 4); the name is escaped by w->esc, then suffix appended. */
void promc__pb_family(promc__writer_t *w, const char *name, const char *suffix, const char *help,
                      int pb_type);
void promc__pb_family_end(promc__writer_t *w);
void promc__pb_metric(promc__writer_t *w);
/* A label; its name is escaped by w->esc. */
void promc__pb_label(promc__writer_t *w, const char *name, size_t nlen, const char *value,
                     size_t vlen);
/* Sorts the pending labels by name (an info's merged labels). */
void promc__pb_sort_labels(promc__writer_t *w);
void promc__pb_counter(promc__writer_t *w, double value, const promc__exemplar_snap_t *ex,
                       int64_t created_us, bool created);
void promc__pb_gauge(promc__writer_t *w, double value);
void promc__pb_untyped(promc__writer_t *w, double value);
void promc__pb_summary(promc__writer_t *w, uint64_t count, double sum, size_t nq,
                       const double *quantiles, const double *values, int64_t created_us,
                       bool created);
/* A histogram metric, then room for n buckets, then each bucket in order. */
struct Io__Prometheus__Client__Histogram *promc__pb_histogram(promc__writer_t *w, uint64_t count,
                                                              double sum, int64_t created_us,
                                                              bool created);
int promc__pb_buckets(promc__writer_t *w, struct Io__Prometheus__Client__Histogram *h, size_t n);
void promc__pb_bucket(promc__writer_t *w, struct Io__Prometheus__Client__Histogram *h, double upper,
                      uint64_t cumulative, const promc__exemplar_snap_t *ex);
/* The native part of a histogram: schema, zero bucket, spans and deltas. */
void promc__pb_native(promc__writer_t *w, struct Io__Prometheus__Client__Histogram *h,
                      const struct promc__native_snap *snap);
/* The emit API: a sample's labels (le and quantile aside: extra), then the sample. */
void promc__pb_emit_begin(promc__writer_t *w);
void promc__pb_emit_label(promc__writer_t *w, const char *name, size_t nlen, const char *value,
                          size_t vlen);
int promc__pb_emit_sample(promc__writer_t *w, promc_type_t type, const char *suffix,
                          const char *extra, size_t extra_len, double value);

/* ---- emit.c: custom collectors ------------------------------------------------------------------
 */

/* Runs a collector's callback with an emitter over `w`.  Returns 0 or the first error. */
int promc__emit_collector(promc__writer_t *w, promc_collector_t *c);

#endif
