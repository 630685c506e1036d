/* The exposition writers: Prometheus text 0.0.4 and OpenMetrics 1.0.0, byte for byte as
 * client_python writes them for the same metrics (docs/exposition.md lists the deliberate
 * differences).
 *
 * Output goes through a 64 KiB chunk buffer to the caller's sink (through zlib first when gzip is
 * asked), so memory stays flat whatever the number of series.  Each child's labels are escaped and
 * joined once into a scratch buffer, then every sample line of that child reuses them; a
 * histogram's le label is spliced in at its sorted place.  Text 0.0.4 puts _created samples in a
 * gauge family of their own after the main one, as client_python does: for our own metrics that is
 * a second walk over the children, for custom collectors a side buffer. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <promc/expose.h>
#include "registry/registry_internal.h"

#define CHUNK           (64 * 1024)
#define WRITE_BUF_LIMIT ((size_t)1 << 32) /* promc_registry_write_buf's cap: 4 GiB */

typedef struct writer {
    promc_format_t fmt;
    char *buf;
    size_t len;
    promc_sink_fn sink;
    void *ud;
    /* The sink is one of ours (a growable buffer): its non-zero return is the error code itself
     * (PROMC_ENOMEM, PROMC_ETOOBIG), not a refusal by the caller's sink. */
    bool internal_sink;
    z_stream *z;
    unsigned char *zout;
    int err;
    /* name[] filter: a small open-addressing set of names, or none. */
    const char **filter;
    size_t filter_mask;
    /* scratch for one child's joined labels */
    promc__strbuf_t lab;
    size_t pre_end, post_start;
} writer_t;

/* ---- output ---------------------------------------------------------------------------------- */

static void sink_out(writer_t *w, const void *p, size_t n)
{
    if (w->err || !n)
        return;
    int rc = w->sink(w->ud, p, n);
    if (rc)
        w->err = w->internal_sink && rc < 0
                     ? rc
                     : promc__err(PROMC_ESINK, "the sink refused %zu bytes", n);
}

static void z_pump(writer_t *w, const void *p, size_t n, int flush)
{
    z_stream *z = w->z;
    z->next_in = (Bytef *)p;
    z->avail_in = (uInt)n;
    do {
        z->next_out = w->zout;
        z->avail_out = CHUNK;
        int zr = deflate(z, flush);
        if (zr == Z_STREAM_ERROR) {
            w->err = promc__err(PROMC_EZLIB, "deflate failed");
            return;
        }
        sink_out(w, w->zout, CHUNK - z->avail_out);
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

static void flush_buf(writer_t *w)
{
    if (w->len && !w->err) {
        if (w->z)
            z_pump(w, w->buf, w->len, Z_NO_FLUSH);
        else
            sink_out(w, w->buf, w->len);
    }
    w->len = 0;
}

static inline void put(writer_t *w, const void *p, size_t n)
{
    if (!n)
        return;
    if (w->len + n > CHUNK) {
        flush_buf(w);
        if (n > CHUNK) {
            if (w->z)
                z_pump(w, p, n, Z_NO_FLUSH);
            else
                sink_out(w, p, n);
            return;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static inline void put_s(writer_t *w, const char *s)
{
    put(w, s, strlen(s));
}

static inline void put_c(writer_t *w, char c)
{
    if (w->len == CHUNK)
        flush_buf(w);
    w->buf[w->len++] = c;
}

/* The first byte at or after `i` that needs escaping - backslash, newline and, if `quotes`, the
 * double quote, as both formats want in label values and OpenMetrics in HELP too - or n; *rep gets
 * its two-byte replacement. */
static inline size_t next_escape(const char *p, size_t n, size_t i, bool quotes, const char **rep)
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

static int escape_into(promc__strbuf_t *b, const char *p, size_t n, bool quotes)
{
    size_t start = 0, i;
    const char *rep;
    while ((i = next_escape(p, n, start, quotes, &rep)) < n) {
        if (promc__strbuf_append(b, p + start, i - start) || promc__strbuf_append(b, rep, 2))
            return PROMC_ENOMEM;
        start = i + 1;
    }
    return promc__strbuf_append(b, p + start, n - start);
}

static void put_escaped(writer_t *w, const char *p, size_t n, bool quotes)
{
    size_t start = 0, i;
    const char *rep;
    while ((i = next_escape(p, n, start, quotes, &rep)) < n) {
        put(w, p + start, i - start);
        put(w, rep, 2);
        start = i + 1;
    }
    put(w, p + start, n - start);
}

/* ---- name[] filter --------------------------------------------------------------------------- */

static int filter_init(writer_t *w, const char *const *names, size_t n)
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

static bool allowed(const writer_t *w, const char *name, const char *suffix)
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

/* ---- headers --------------------------------------------------------------------------------- */

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

/* "# HELP name+suffix help" and "# TYPE name+suffix type"; `om` also escapes quotes in HELP. */
static void put_help_type(writer_t *w, const char *name, const char *suffix, const char *help,
                          bool om, const char *tname)
{
    put(w, "# HELP ", 7);
    put_s(w, name);
    put_s(w, suffix);
    put_c(w, ' ');
    put_escaped(w, help, strlen(help), om);
    put(w, "\n# TYPE ", 8);
    put_s(w, name);
    put_s(w, suffix);
    put_c(w, ' ');
    put_s(w, tname);
    put_c(w, '\n');
}

/* The family header: in text 0.0.4 a counter's family is name_total and an info's name_info, an
 * info and an enum are gauges; in OpenMetrics the bare name, the real type, and the unit. */
static void put_header(writer_t *w, const char *name, const char *help, promc_type_t type,
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
        put(w, "# UNIT ", 7);
        put_s(w, name);
        put_c(w, ' ');
        put_s(w, unit);
        put_c(w, '\n');
    }
}

/* Text 0.0.4's separate gauge family for the OpenMetrics-only samples: name_created (also
 * name_gcount, name_gsum from a collector). */
static void put_side_header(writer_t *w, const char *name, const char *suffix, const char *help)
{
    put_help_type(w, name, suffix, help, false, "gauge");
}

/* ---- one child's labels ---------------------------------------------------------------------- */

static int append_pair(promc__strbuf_t *b, const char *name, size_t nlen, const char *v,
                       size_t vlen)
{
    if (b->len && promc__strbuf_append(b, ",", 1))
        return PROMC_ENOMEM;
    if (promc__strbuf_append(b, name, nlen) || promc__strbuf_append(b, "=\"", 2) ||
        escape_into(b, v, vlen, true) || promc__strbuf_append(b, "\"", 1))
        return PROMC_ENOMEM;
    return 0;
}

/* Joins the child's labels, sorted by name, into w->lab, and notes where the extra label of the
 * metric (le, or an enum's own name) goes: between pre_end and post_start. */
static int join_labels(writer_t *w, const promc_metric_t *m, const promc__series_t *s)
{
    promc__strbuf_t *b = &w->lab;
    b->len = 0;
    w->pre_end = w->post_start = 0;
    for (size_t k = 0; k < m->label_count; k++) {
        if (k == m->extra_pos)
            w->pre_end = b->len;
        size_t i = m->label_order[k];
        const char *ln = m->label_names[i];
        if (append_pair(b, ln, strlen(ln), s->values[i].ptr, s->values[i].len))
            return promc__err(PROMC_ENOMEM, "labels");
    }
    if (m->extra_pos >= m->label_count) {
        w->pre_end = w->post_start = b->len;
    } else {
        /* The pair at extra_pos starts right after pre_end (and its comma). */
        w->post_start = w->pre_end ? w->pre_end + 1 : 0;
    }
    return 0;
}

/* Info: the metric's labels merged with the info labels, both sorted. */
static int join_info_labels(writer_t *w, const promc_metric_t *m, const promc__series_t *s,
                            const promc__info_labels_t *il)
{
    promc__strbuf_t *b = &w->lab;
    b->len = 0;
    size_t k = 0, j = 0, nj = il ? il->n : 0;
    while (k < m->label_count || j < nj) {
        bool take_metric;
        if (k >= m->label_count)
            take_metric = false;
        else if (j >= nj)
            take_metric = true;
        else {
            const char *a = m->label_names[m->label_order[k]];
            const promc_str_t *bn = &il->labels[j].name;
            size_t al = strlen(a), n = al < bn->len ? al : bn->len;
            int c = memcmp(a, bn->ptr, n);
            take_metric = c < 0 || (c == 0 && al < bn->len);
        }
        int rc;
        if (take_metric) {
            size_t i = m->label_order[k++];
            rc = append_pair(b, m->label_names[i], strlen(m->label_names[i]), s->values[i].ptr,
                             s->values[i].len);
        } else {
            const promc_label_t *l = &il->labels[j++];
            rc = append_pair(b, l->name.ptr, l->name.len, l->value.ptr, l->value.len);
        }
        if (rc)
            return promc__err(PROMC_ENOMEM, "labels");
    }
    w->pre_end = w->post_start = b->len;
    return 0;
}

/* One sample line: name+suffix, the joined labels (with the extra label if given), the value
 * already formatted. */
static void put_line_text(writer_t *w, const char *name, const char *suffix, const char *extra_name,
                          const char *extra_value, size_t extra_len, const char *val, size_t vlen)
{
    put_s(w, name);
    put_s(w, suffix);
    const promc__strbuf_t *b = &w->lab;
    if (extra_name) {
        put_c(w, '{');
        put(w, b->data, w->pre_end);
        if (w->pre_end)
            put_c(w, ',');
        put_s(w, extra_name);
        put(w, "=\"", 2);
        put_escaped(w, extra_value, extra_len, true);
        put_c(w, '"');
        if (w->post_start < b->len) {
            put_c(w, ',');
            put(w, b->data + w->post_start, b->len - w->post_start);
        }
        put_c(w, '}');
    } else if (b->len) {
        put_c(w, '{');
        put(w, b->data, b->len);
        put_c(w, '}');
    }
    put_c(w, ' ');
    put(w, val, vlen);
    put_c(w, '\n');
}

static void put_line(writer_t *w, const char *name, const char *suffix, const char *extra_name,
                     const char *extra_value, size_t extra_len, double value)
{
    char tmp[40];
    size_t n = promc__fmt_double(value, tmp);
    put_line_text(w, name, suffix, extra_name, extra_value, extra_len, tmp, n);
}

static void put_created(writer_t *w, const char *name, const promc__series_t *s)
{
    char tmp[40];
    size_t n = promc__fmt_micros(s->created_us, tmp);
    put_line_text(w, name, "_created", NULL, NULL, 0, tmp, n);
}

/* ---- our own metrics ------------------------------------------------------------------------- */

enum {
    S_TOTAL = 1 << 0,
    S_CREATED = 1 << 1,
    S_BUCKET = 1 << 2,
    S_COUNT = 1 << 3,
    S_SUM = 1 << 4,
    S_PLAIN = 1 << 5,
    S_INFO = 1 << 6
};

/* Which samples the metric writes, after the name[] filter. */
static unsigned sample_mask(const writer_t *w, const promc_metric_t *m, bool created)
{
    unsigned mask = 0;
    switch (m->type) {
    case PROMC_COUNTER:
        mask = S_TOTAL | (created ? S_CREATED : 0);
        break;
    case PROMC_HISTOGRAM:
        /* No _sum when a bound is negative (it would not be a counter), as client_python; and
         * then in OpenMetrics no _count either, which the spec allows only beside a _sum. */
        mask = S_BUCKET | (created ? S_CREATED : 0);
        if (m->bounds[0] >= 0)
            mask |= S_SUM | S_COUNT;
        else if (w->fmt == PROMC_FORMAT_TEXT)
            mask |= S_COUNT;
        break;
    case PROMC_SUMMARY:
        mask = S_COUNT | S_SUM | (created ? S_CREATED : 0);
        break;
    case PROMC_INFO:
        mask = S_INFO;
        break;
    case PROMC_GAUGE:
    case PROMC_ENUM:
    case PROMC_UNTYPED:
        mask = S_PLAIN;
        break;
    }
    if (!w->filter)
        return mask;
    static const struct {
        unsigned bit;
        const char *suffix;
    } sfx[] = {{S_TOTAL, "_total"}, {S_CREATED, "_created"}, {S_BUCKET, "_bucket"},
               {S_COUNT, "_count"}, {S_SUM, "_sum"},         {S_PLAIN, ""},
               {S_INFO, "_info"}};
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
        if ((mask & sfx[i].bit) && !allowed(w, m->name, sfx[i].suffix))
            mask &= ~sfx[i].bit;
    return mask;
}

static int child_samples(writer_t *w, const promc_metric_t *m, const promc__series_t *s,
                         unsigned mask, bool om)
{
    const char *name = m->name;
    switch (m->type) {
    case PROMC_COUNTER:
        if (mask & S_TOTAL)
            put_line(w, name, "_total", NULL, NULL, 0,
                     promc__counter_get((const struct promc_counter *)s));
        if (om && (mask & S_CREATED))
            put_created(w, name, s);
        break;
    case PROMC_GAUGE:
        put_line(w, name, "", NULL, NULL, 0, promc_gauge_value((const promc_gauge_t *)s));
        break;
    case PROMC_HISTOGRAM: {
        const promc_histogram_t *h = (const promc_histogram_t *)s;
        /* Read the counts once, so _count equals the +Inf bucket. */
        uint64_t acc = 0;
        for (size_t i = 0; i < m->bound_count; i++) {
            acc += promc__histogram_bucket(h, i);
            if (mask & S_BUCKET)
                put_line(w, name, "_bucket", "le", m->bound_text[i], strlen(m->bound_text[i]),
                         (double)acc);
        }
        if (mask & S_COUNT)
            put_line(w, name, "_count", NULL, NULL, 0, (double)acc);
        if (mask & S_SUM)
            put_line(w, name, "_sum", NULL, NULL, 0, promc_histogram_sum(h));
        if (om && (mask & S_CREATED))
            put_created(w, name, s);
        break;
    }
    case PROMC_SUMMARY: {
        const promc_summary_t *x = (const promc_summary_t *)s;
        if (mask & S_COUNT)
            put_line(w, name, "_count", NULL, NULL, 0, (double)promc_summary_count(x));
        if (mask & S_SUM)
            put_line(w, name, "_sum", NULL, NULL, 0, promc_summary_sum(x));
        if (om && (mask & S_CREATED))
            put_created(w, name, s);
        break;
    }
    case PROMC_INFO:
        put_line(w, name, "_info", NULL, NULL, 0, 1.0);
        break;
    case PROMC_ENUM: {
        size_t cur = promc_enum_get((const promc_enum_t *)s);
        for (size_t i = 0; i < m->state_count; i++)
            put_line(w, name, "", name, m->states[i], strlen(m->states[i]), i == cur ? 1.0 : 0.0);
        break;
    }
    case PROMC_UNTYPED:
        break;
    }
    return w->err;
}

/* Joins a child's labels into w->lab.  Info labels are replaced under the metric's lock, so they
 * are read under it; the lock is let go before any output, which may call the sink (user code). */
static int prepare_labels(writer_t *w, promc_metric_t *m, promc__series_t *s)
{
    if (m->type == PROMC_INFO) {
        pthread_mutex_lock(&m->lock);
        int rc = join_info_labels(w, m, s, ((struct promc_info *)s)->labels);
        pthread_mutex_unlock(&m->lock);
        return rc;
    }
    if (m->label_count == 0) {
        w->lab.len = w->pre_end = w->post_start = 0;
        return 0;
    }
    return join_labels(w, m, s);
}

static int write_metric(writer_t *w, promc_metric_t *m, bool created)
{
    bool om = w->fmt == PROMC_FORMAT_OPENMETRICS;
    unsigned mask = sample_mask(w, m, created);
    /* Children created from here on are not this scrape's: one removed and created again while
     * we walk is appended at the end, and would be written a second time. */
    uint64_t last = atomic_load_explicit(&m->seq, memory_order_relaxed);
    promc__series_t *head = atomic_load_explicit(&m->head, memory_order_acquire);
    /* With a filter, a metric none of whose samples pass, or that has no child, is left out
     * whole, as client_python's restricted registry does. */
    if (w->filter && (!mask || !head))
        return 0;
    put_header(w, m->name, m->help, m->type, m->unit);
    int rc = 0;
    for (promc__series_t *s = head; s && !rc;
         s = atomic_load_explicit(&s->next, memory_order_acquire)) {
        if (s->seq > last)
            break; /* the list is in creation order: all that follow are newer */
        rc = prepare_labels(w, m, s);
        if (!rc)
            rc = child_samples(w, m, s, mask, om);
    }
    if (!om && !rc && (mask & S_CREATED) && head) {
        put_side_header(w, m->name, "_created", m->help);
        for (promc__series_t *s = atomic_load_explicit(&m->head, memory_order_acquire);
             s && !rc && s->seq <= last; s = atomic_load_explicit(&s->next, memory_order_acquire)) {
            rc = prepare_labels(w, m, s);
            if (!rc)
                put_created(w, m->name, s);
        }
    }
    return rc ? rc : w->err;
}

/* ---- custom collectors ----------------------------------------------------------------------- */

struct promc_emit {
    writer_t *w;
    bool open;
    bool header_done;
    promc_type_t type;
    promc__strbuf_t name, help, unit;
    promc__strbuf_t side; /* text 0.0.4: this family's _created, _gcount and _gsum lines */
    writer_t side_w;      /* writes into `side` through a memory sink */
};

static int side_sink(void *ud, const void *p, size_t n)
{
    return promc__strbuf_append(ud, p, n);
}

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
    if (!e->header_done) {
        put_header(e->w, e->name.data, e->help.data, e->type, e->unit.data);
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
    if (!e->w->filter)
        emit_header(e);
    flush_buf(&e->side_w);
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
                    put_side_header(e->w, e->name.data, sfx, e->help.data);
                any = true;
                put(e->w, p, len);
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
    if (!name[0])
        return promc__err(PROMC_ENAME, "collector family with an empty name");
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (p > name && c >= '0' && c <= '9');
        if (!ok)
            return promc__err(PROMC_ENAME, "collector family '%.100s': invalid name", name);
    }
    if ((unsigned)type > PROMC_UNTYPED)
        return promc__err(PROMC_EINVAL, "collector family '%.100s': invalid type", name);
    unit = unit ? unit : "";
    for (const char *p = unit; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':'))
            return promc__err(PROMC_EUNIT, "collector family '%.100s': invalid unit", name);
    }
    /* As client_python's Metric: the unit is appended unless the name already ends with it. */
    size_t nl = strlen(name), ul = strlen(unit);
    bool suffixed =
        !ul || (nl > ul && name[nl - ul - 1] == '_' && strcmp(name + nl - ul, unit) == 0);
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
    return 0;
}

static int cmp_label_ptr(const void *a, const void *b)
{
    const promc_label_t *x = *(const promc_label_t *const *)a,
                        *y = *(const promc_label_t *const *)b;
    size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = memcmp(x->name.ptr, y->name.ptr, n);
    return c ? c : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

int promc__check_label_name(const char *name, size_t len);

int promc_emit_sample(promc_emit_t *e, const char *suffix, const promc_label_t *labels, size_t n,
                      double value)
{
    if (!e || !e->open)
        return promc__err(PROMC_ESTATE, "promc_emit_sample before promc_emit_family");
    if (n && !labels)
        return promc__err(PROMC_EINVAL, "promc_emit_sample: NULL labels");
    suffix = suffix ? suffix : "";
    /* The suffix becomes part of the sample's name: anything else would corrupt the output. */
    for (const char *p = suffix; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':'))
            return promc__err(PROMC_ENAME, "collector family '%.100s': invalid sample suffix",
                              e->name.data);
    }
    writer_t *w = e->w;
    if (!allowed(w, e->name.data, suffix))
        return 0;
    const promc_label_t *stack[16];
    const promc_label_t **sorted = n <= 16 ? stack : promc__malloc(n * sizeof *sorted);
    if (!sorted)
        return promc__err(PROMC_ENOMEM, "labels");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        sorted[i] = &labels[i];
        if ((!labels[i].value.ptr && labels[i].value.len) || !labels[i].name.ptr)
            rc = promc__err(PROMC_EINVAL, "promc_emit_sample: label %zu is NULL", i);
        else
            rc = promc__check_label_name(labels[i].name.ptr, labels[i].name.len);
    }
    if (!rc) {
        qsort(sorted, n, sizeof *sorted, cmp_label_ptr);
        for (size_t i = 1; i < n && !rc; i++)
            if (cmp_label_ptr(&sorted[i - 1], &sorted[i]) == 0)
                rc = promc__err(PROMC_ELABELNAME,
                                "collector family '%.100s': label '%.*s' given twice", e->name.data,
                                (int)(sorted[i]->name.len > 100 ? 100 : sorted[i]->name.len),
                                sorted[i]->name.ptr);
    }
    if (!rc) {
        promc__strbuf_t *b = &w->lab;
        b->len = 0;
        for (size_t i = 0; i < n && !rc; i++)
            if (append_pair(b, sorted[i]->name.ptr, sorted[i]->name.len, sorted[i]->value.ptr,
                            sorted[i]->value.len))
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
        put_line(&e->side_w, e->name.data, suffix, NULL, NULL, 0, value);
        w->lab = e->side_w.lab;
        return e->side_w.err;
    }
    put_line(w, e->name.data, suffix, NULL, NULL, 0, value);
    return w->err;
}

static int write_collector(writer_t *w, promc_collector_t *c)
{
    promc_emit_t e;
    memset(&e, 0, sizeof e);
    e.w = w;
    promc__strbuf_init(&e.name, 4096);
    promc__strbuf_init(&e.help, 1 << 20);
    promc__strbuf_init(&e.unit, 4096);
    promc__strbuf_init(&e.side, (size_t)1 << 30);
    e.side_w.fmt = w->fmt;
    e.side_w.sink = side_sink;
    e.side_w.ud = &e.side;
    e.side_w.internal_sink = true;
    char *sbuf = promc__malloc(CHUNK);
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
    return rc ? rc : w->err;
}

/* ---- the whole registry ---------------------------------------------------------------------- */

static int write_registry(promc_registry_t *r, const promc_expose_opts_t *opts, promc_sink_fn sink,
                          void *ud, bool internal_sink)
{
    static const promc_expose_opts_t defaults = {PROMC_FORMAT_TEXT, NULL, 0, false, 0};
    if (!r || !sink)
        return promc__err(PROMC_EINVAL, "promc_registry_write: NULL argument");
    if (!opts)
        opts = &defaults;
    if (opts->format != PROMC_FORMAT_TEXT && opts->format != PROMC_FORMAT_OPENMETRICS)
        return promc__err(PROMC_EINVAL, "unknown format %d", (int)opts->format);
    if (opts->name_count && !opts->names)
        return promc__err(PROMC_EINVAL, "name_count without names");
    writer_t w;
    memset(&w, 0, sizeof w);
    w.fmt = opts->format;
    w.sink = sink;
    w.ud = ud;
    w.internal_sink = internal_sink;
    promc__strbuf_init(&w.lab, (size_t)1 << 30);
    int rc = 0;
    promc__entry_t *items = NULL;
    size_t n = 0;
    bool created = true;
    z_stream zs;
    w.buf = promc__malloc(CHUNK);
    if (!w.buf) {
        rc = promc__err(PROMC_ENOMEM, "output buffer");
        goto out;
    }
    if (opts->gzip) {
        memset(&zs, 0, sizeof zs);
        zs.zalloc = z_alloc;
        zs.zfree = z_free;
        int level = opts->gzip_level ? opts->gzip_level : Z_DEFAULT_COMPRESSION;
        if (level < -1 || level > 9) {
            rc = promc__err(PROMC_EINVAL, "gzip level %d", opts->gzip_level);
            goto out;
        }
        w.zout = promc__malloc(CHUNK);
        if (!w.zout) {
            rc = promc__err(PROMC_ENOMEM, "gzip buffer");
            goto out;
        }
        int zr = deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        if (zr != Z_OK) {
            rc = zr == Z_MEM_ERROR ? promc__err(PROMC_ENOMEM, "deflateInit2")
                                   : promc__err(PROMC_EZLIB, "deflateInit2 failed");
            goto out;
        }
        w.z = &zs;
    }
    rc = filter_init(&w, opts->names, opts->name_count);
    if (rc)
        goto out;
    rc = promc__registry_snapshot(r, &items, &n, &created);
    if (rc)
        goto out;
    for (size_t i = 0; i < n && !rc; i++) {
        if (items[i].kind == PROMC__ENTRY_METRIC)
            rc = write_metric(&w, items[i].obj, created);
        else
            rc = write_collector(&w, items[i].obj);
    }
    if (!rc && w.fmt == PROMC_FORMAT_OPENMETRICS)
        put(&w, "# EOF\n", 6);
    if (!rc) {
        flush_buf(&w);
        if (w.z && !w.err)
            z_pump(&w, NULL, 0, Z_FINISH);
        rc = w.err;
    }
out:
    if (items)
        promc__registry_release(items, n);
    if (w.z)
        deflateEnd(w.z);
    promc__free(w.zout);
    promc__free(w.buf);
    promc__free((void *)w.filter);
    promc__strbuf_destroy(&w.lab);
    return rc;
}

int promc_registry_write(promc_registry_t *r, const promc_expose_opts_t *opts, promc_sink_fn sink,
                         void *ud)
{
    return write_registry(r, opts, sink, ud, false);
}

static int buf_sink(void *ud, const void *p, size_t n)
{
    return promc__strbuf_append(ud, p, n);
}

int promc_registry_write_buf(promc_registry_t *r, const promc_expose_opts_t *opts, char **out,
                             size_t *len)
{
    if (!out || !len)
        return promc__err(PROMC_EINVAL, "promc_registry_write_buf: NULL argument");
    promc__strbuf_t b;
    promc__strbuf_init(&b, WRITE_BUF_LIMIT);
    /* The buffer's own failure (PROMC_ENOMEM, or PROMC_ETOOBIG at its cap) is the result. */
    int rc = write_registry(r, opts, buf_sink, &b, true);
    if (!rc)
        rc = promc__strbuf_append(&b, "", 1);
    if (rc) {
        promc__strbuf_destroy(&b);
        return rc;
    }
    *out = b.data;
    *len = b.len - 1;
    return 0;
}

size_t promc_format_double(double v, char *buf)
{
    return promc__fmt_double(v, buf);
}
