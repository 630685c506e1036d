/* SPDX-License-Identifier: Apache-2.0 */
/* The protobuf exposition: length-delimited io.prometheus.client.MetricFamily messages, packed
 * by protobuf-c from the metrics.proto of client_model (cmake/protobuf.cmake).
 *
 * A message's length comes before it, so a family is written in messages of at most PB_CHUNK
 * metrics each, every one with the family's name, help and type: memory stays bounded whatever
 * the number of children, and a reader (Prometheus, client_golang's expfmt) takes consecutive
 * messages of one name as one family's metrics.  The messages' structs and strings live in an
 * arena of 64 KiB blocks that is reset after each message; the bytes go through the writer's
 * chunk buffer (and zlib) like the text formats'.
 *
 * _created is written as created_timestamp (fields Counter 3, Summary 4, Histogram 15 of later
 * client_model versions; the Debian .proto is 0.3.0, which predates them), as an unknown field
 * protobuf-c packs after the known ones: readers that predate it skip it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "alloc.h"
#include "err.h"
#include "native.h"
#include "writer.h"
#include "promc_pb_names.h"
#include "metrics.pb-c.h"

#define PB_CHUNK 256         /* metrics per MetricFamily message */
#define PB_BLOCK (64 * 1024) /* arena block */

typedef Io__Prometheus__Client__MetricFamily pb_family_t;
typedef Io__Prometheus__Client__Metric pb_metric_t;
typedef Io__Prometheus__Client__LabelPair pb_label_t;

typedef struct pb_block {
    struct pb_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} pb_block_t;

/* The labels of the metric being built, before they are copied into the arena. */
typedef struct pb_pending_label {
    size_t name_off, name_len, value_off, value_len;
} pb_pending_label_t;

struct promc__pb {
    pb_block_t *blocks; /* the first is reused; any later ones are freed at a reset */
    promc__strbuf_t fname, fhelp;
    int ftype;
    bool fopen;
    pb_metric_t *metrics[PB_CHUNK];
    size_t n;
    pb_metric_t *cur; /* the metric being built (labels still pending until the first value) */
    promc__strbuf_t lbytes; /* pending label names and values */
    pb_pending_label_t *lab;
    size_t lab_n, lab_cap;
    promc__strbuf_t key, cur_key; /* the emit API's label set of the current metric */
};

/* ---- the arena --------------------------------------------------------------------------------
 */

static void *arena_alloc(promc__writer_t *w, size_t n)
{
    promc__pb_t *pb = w->pb;
    n = (n + 15) & ~(size_t)15;
    pb_block_t *b = pb->blocks;
    if (!b || b->used + n > b->cap) {
        size_t cap = n > PB_BLOCK ? n : PB_BLOCK;
        pb_block_t *nb = promc__malloc(sizeof *nb + cap);
        if (!nb) {
            if (!w->err)
                w->err = promc__err(PROMC_ENOMEM, "protobuf message");
            return NULL;
        }
        nb->used = 0;
        nb->cap = cap;
        nb->next = b;
        pb->blocks = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static void arena_reset(promc__pb_t *pb)
{
    /* Keep one block (the newest: blocks are pushed in front), free the rest. */
    pb_block_t *b = pb->blocks;
    if (!b)
        return;
    pb_block_t *rest = b->next;
    b->next = NULL;
    b->used = 0;
    while (rest) {
        pb_block_t *nx = rest->next;
        promc__free(rest);
        rest = nx;
    }
}

static char *arena_str(promc__writer_t *w, const char *s, size_t n)
{
    char *p = arena_alloc(w, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* io.prometheus.client.MetricType of each of our types, and the suffix of its family name. */
int promc__pb_type(promc_type_t t)
{
    switch (t) {
    case PROMC_COUNTER:
        return 0;
    case PROMC_SUMMARY:
        return 2;
    case PROMC_UNTYPED:
        return 3;
    case PROMC_HISTOGRAM:
        return 4;
    case PROMC_GAUGE:
    case PROMC_INFO:
    case PROMC_ENUM:
        break;
    }
    return 1;
}

const char *promc__pb_suffix(promc_type_t t)
{
    return t == PROMC_COUNTER ? "_total" : t == PROMC_INFO ? "_info" : "";
}

int promc__pb_init(promc__writer_t *w)
{
    promc__pb_t *pb = promc__calloc(1, sizeof *pb);
    if (!pb)
        return promc__err(PROMC_ENOMEM, "protobuf writer");
    promc__strbuf_init(&pb->fname, 1 << 20);
    promc__strbuf_init(&pb->fhelp, 1 << 24);
    promc__strbuf_init(&pb->lbytes, (size_t)1 << 30);
    promc__strbuf_init(&pb->key, (size_t)1 << 30);
    promc__strbuf_init(&pb->cur_key, (size_t)1 << 30);
    w->pb = pb;
    return 0;
}

void promc__pb_destroy(promc__writer_t *w)
{
    promc__pb_t *pb = w->pb;
    if (!pb)
        return;
    arena_reset(pb);
    promc__free(pb->blocks);
    promc__strbuf_destroy(&pb->fname);
    promc__strbuf_destroy(&pb->fhelp);
    promc__strbuf_destroy(&pb->lbytes);
    promc__strbuf_destroy(&pb->key);
    promc__strbuf_destroy(&pb->cur_key);
    promc__free(pb->lab);
    promc__free(pb);
    w->pb = NULL;
}

/* ---- output -----------------------------------------------------------------------------------
 */

typedef struct pb_out {
    ProtobufCBuffer base;
    promc__writer_t *w;
} pb_out_t;

static void pb_out_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    promc__put(((pb_out_t *)b)->w, data, len);
}

static void put_varint(promc__writer_t *w, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    promc__put(w, tmp, n);
}

/* Writes the metrics gathered so far as one length-delimited MetricFamily. */
static void flush_message(promc__writer_t *w)
{
    promc__pb_t *pb = w->pb;
    if (pb->n && !w->err) {
        pb_family_t f = IO__PROMETHEUS__CLIENT__METRIC_FAMILY__INIT;
        f.name = pb->fname.data;
        f.help = pb->fhelp.data;
        f.has_type = true;
        f.type = (Io__Prometheus__Client__MetricType)pb->ftype;
        f.n_metric = pb->n;
        f.metric = pb->metrics;
        size_t size = protobuf_c_message_get_packed_size(&f.base);
        put_varint(w, size);
        if (w->len + size > PROMC__CHUNK)
            promc__writer_flush(w);
        if (w->len + size <= PROMC__CHUNK) {
            w->len += protobuf_c_message_pack(&f.base, (uint8_t *)w->buf + w->len);
        } else {
            pb_out_t out = {{pb_out_append}, w};
            protobuf_c_message_pack_to_buffer(&f.base, &out.base);
        }
    }
    pb->n = 0;
    pb->cur = NULL;
    arena_reset(pb);
}

/* ---- families and metrics ---------------------------------------------------------------------
 */

static int set_cstr(promc__strbuf_t *b, const char *s, size_t n)
{
    b->len = 0;
    if (promc__strbuf_append(b, s, n) || promc__strbuf_append(b, "", 1))
        return PROMC_ENOMEM;
    return 0;
}

void promc__pb_family(promc__writer_t *w, const char *name, const char *suffix, const char *help,
                      int pb_type)
{
    promc__pb_t *pb = w->pb;
    promc__pb_family_end(w);
    const char *on = name;
    size_t onl = strlen(name);
    if (w->esc != PROMC_ESCAPING_ALLOW_UTF8) {
        promc__writer_name(w, name);
        on = w->oname;
        onl = w->oname_len;
    }
    if (set_cstr(&pb->fname, on, onl) ||
        (suffix[0] &&
         (--pb->fname.len, promc__strbuf_append(&pb->fname, suffix, strlen(suffix) + 1))) ||
        set_cstr(&pb->fhelp, help ? help : "", help ? strlen(help) : 0)) {
        if (!w->err)
            w->err = promc__err(PROMC_ENOMEM, "protobuf family");
        return;
    }
    pb->ftype = pb_type;
    pb->fopen = true;
}

void promc__pb_family_end(promc__writer_t *w)
{
    promc__pb_t *pb = w->pb;
    if (!pb->fopen)
        return;
    flush_message(w);
    pb->fopen = false;
}

void promc__pb_metric(promc__writer_t *w)
{
    promc__pb_t *pb = w->pb;
    pb->cur = NULL;
    pb->lab_n = 0;
    pb->lbytes.len = 0;
}

void promc__pb_label(promc__writer_t *w, const char *name, size_t nlen, const char *value,
                     size_t vlen)
{
    promc__pb_t *pb = w->pb;
    if (pb->lab_n == pb->lab_cap) {
        size_t cap = pb->lab_cap ? pb->lab_cap * 2 : 16;
        pb_pending_label_t *l = promc__realloc(pb->lab, cap * sizeof *l);
        if (!l) {
            if (!w->err)
                w->err = promc__err(PROMC_ENOMEM, "labels");
            return;
        }
        pb->lab = l;
        pb->lab_cap = cap;
    }
    pb_pending_label_t *l = &pb->lab[pb->lab_n];
    promc__strbuf_t *b = &pb->lbytes;
    l->name_off = b->len;
    int rc = (w->esc == PROMC_ESCAPING_ALLOW_UTF8 || promc__label_name_kept(name, nlen, w->esc))
                 ? promc__strbuf_append(b, name, nlen)
                 : promc__append_label_name(b, name, nlen, w->esc);
    l->name_len = b->len - l->name_off;
    l->value_off = b->len;
    l->value_len = vlen;
    if (rc || promc__strbuf_append(b, value, vlen)) {
        if (!w->err)
            w->err = promc__err(PROMC_ENOMEM, "labels");
        return;
    }
    pb->lab_n++;
}

static int cmp_pending(const void *a, const void *b, void *ud)
{
    const pb_pending_label_t *x = a, *y = b;
    const char *base = ud;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(base + x->name_off, base + y->name_off, n);
    if (c)
        return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

void promc__pb_sort_labels(promc__writer_t *w)
{
    promc__pb_t *pb = w->pb;
    if (pb->lab_n > 1)
        qsort_r(pb->lab, pb->lab_n, sizeof *pb->lab, cmp_pending, pb->lbytes.data);
}

/* The metric being built, created on its first value with the pending labels; NULL on failure. */
static pb_metric_t *cur_metric(promc__writer_t *w)
{
    promc__pb_t *pb = w->pb;
    if (pb->cur)
        return pb->cur;
    if (w->err)
        return NULL;
    if (pb->n == PB_CHUNK)
        flush_message(w);
    pb_metric_t *m = arena_alloc(w, sizeof *m);
    pb_label_t **lp = pb->lab_n ? arena_alloc(w, pb->lab_n * sizeof *lp) : NULL;
    pb_label_t *ls = pb->lab_n ? arena_alloc(w, pb->lab_n * sizeof *ls) : NULL;
    if (!m || (pb->lab_n && (!lp || !ls)))
        return NULL;
    io__prometheus__client__metric__init(m);
    for (size_t i = 0; i < pb->lab_n; i++) {
        const pb_pending_label_t *l = &pb->lab[i];
        io__prometheus__client__label_pair__init(&ls[i]);
        ls[i].name = arena_str(w, pb->lbytes.data + l->name_off, l->name_len);
        ls[i].value = arena_str(w, pb->lbytes.data + l->value_off, l->value_len);
        if (!ls[i].name || !ls[i].value)
            return NULL;
        lp[i] = &ls[i];
    }
    m->n_label = pb->lab_n;
    m->label = lp;
    pb->metrics[pb->n++] = m;
    pb->cur = m;
    return m;
}

/* Unix microseconds as a Timestamp: whole seconds rounded down, nanoseconds in [0, 1e9). */
static void set_timestamp(Google__Protobuf__Timestamp *ts, int64_t us)
{
    ts->seconds = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    ts->nanos = (int32_t)((us - ts->seconds * 1000000) * 1000);
}

/* An exemplar from its snapshot: the label text is name="escaped value" pairs joined by commas
 * (exemplar.c), unescaped here. */
static Io__Prometheus__Client__Exemplar *make_exemplar(promc__writer_t *w,
                                                       const promc__exemplar_snap_t *x)
{
    Io__Prometheus__Client__Exemplar *e = arena_alloc(w, sizeof *e);
    Google__Protobuf__Timestamp *ts = arena_alloc(w, sizeof *ts);
    size_t cap = 0;
    for (size_t i = 0; i < x->len; i++)
        cap += x->text[i] == '=';
    pb_label_t **lp = cap ? arena_alloc(w, cap * sizeof *lp) : NULL;
    pb_label_t *ls = cap ? arena_alloc(w, cap * sizeof *ls) : NULL;
    char *tmp = arena_alloc(w, x->len + 1);
    if (!e || !ts || !tmp || (cap && (!lp || !ls)))
        return NULL;
    io__prometheus__client__exemplar__init(e);
    google__protobuf__timestamp__init(ts);
    size_t n = 0, i = 0;
    const char *t = x->text;
    while (i < x->len && n < cap) {
        size_t ns = i;
        while (i < x->len && t[i] != '=')
            i++;
        if (i + 1 >= x->len || t[i + 1] != '"')
            break;
        size_t nl = i - ns;
        i += 2;
        char *v = tmp;
        size_t vl = 0;
        for (; i < x->len && t[i] != '"'; i++) {
            if (t[i] == '\\' && i + 1 < x->len) {
                i++;
                v[vl++] = t[i] == 'n' ? '\n' : t[i];
            } else {
                v[vl++] = t[i];
            }
        }
        i++; /* the closing quote */
        if (i < x->len && t[i] == ',')
            i++;
        io__prometheus__client__label_pair__init(&ls[n]);
        ls[n].name = arena_str(w, t + ns, nl);
        ls[n].value = arena_str(w, v, vl);
        if (!ls[n].name || !ls[n].value)
            return NULL;
        lp[n] = &ls[n];
        n++;
    }
    e->n_label = n;
    e->label = lp;
    e->has_value = true;
    e->value = x->value;
    set_timestamp(ts, x->ts_us);
    e->timestamp = ts;
    return e;
}

/* created_timestamp (a google.protobuf.Timestamp) as an unknown field of number `field`. */
static void set_created(promc__writer_t *w, ProtobufCMessage *msg, unsigned field, int64_t us)
{
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    set_timestamp(&ts, us);
    size_t n = protobuf_c_message_get_packed_size(&ts.base); /* at most 22: one length byte */
    ProtobufCMessageUnknownField *u = arena_alloc(w, sizeof *u);
    uint8_t *data = arena_alloc(w, n + 1);
    if (!u || !data)
        return;
    /* protobuf-c writes an unknown field's tag, then its data as it is: the data carries the
     * length. */
    data[0] = (uint8_t)n;
    protobuf_c_message_pack(&ts.base, data + 1);
    u->tag = field;
    u->wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
    u->len = n + 1;
    u->data = data;
    msg->n_unknown_fields = 1;
    msg->unknown_fields = u;
}

void promc__pb_counter(promc__writer_t *w, double value, const promc__exemplar_snap_t *ex,
                       int64_t created_us, bool created)
{
    pb_metric_t *m = cur_metric(w);
    Io__Prometheus__Client__Counter *c = m ? arena_alloc(w, sizeof *c) : NULL;
    if (!c)
        return;
    io__prometheus__client__counter__init(c);
    c->has_value = true;
    c->value = value;
    if (ex)
        c->exemplar = make_exemplar(w, ex);
    if (created)
        set_created(w, &c->base, 3, created_us);
    m->counter = c;
}

void promc__pb_gauge(promc__writer_t *w, double value)
{
    pb_metric_t *m = cur_metric(w);
    Io__Prometheus__Client__Gauge *g = m ? arena_alloc(w, sizeof *g) : NULL;
    if (!g)
        return;
    io__prometheus__client__gauge__init(g);
    g->has_value = true;
    g->value = value;
    m->gauge = g;
}

void promc__pb_untyped(promc__writer_t *w, double value)
{
    pb_metric_t *m = cur_metric(w);
    Io__Prometheus__Client__Untyped *u = m ? arena_alloc(w, sizeof *u) : NULL;
    if (!u)
        return;
    io__prometheus__client__untyped__init(u);
    u->has_value = true;
    u->value = value;
    m->untyped = u;
}

void promc__pb_summary(promc__writer_t *w, uint64_t count, double sum, size_t nq,
                       const double *quantiles, const double *values, int64_t created_us,
                       bool created)
{
    pb_metric_t *m = cur_metric(w);
    Io__Prometheus__Client__Summary *s = m ? arena_alloc(w, sizeof *s) : NULL;
    if (!s)
        return;
    io__prometheus__client__summary__init(s);
    s->has_sample_count = true;
    s->sample_count = count;
    s->has_sample_sum = true;
    s->sample_sum = sum;
    if (nq) {
        Io__Prometheus__Client__Quantile **qp = arena_alloc(w, nq * sizeof *qp);
        Io__Prometheus__Client__Quantile *qs = arena_alloc(w, nq * sizeof *qs);
        if (!qp || !qs)
            return;
        for (size_t i = 0; i < nq; i++) {
            io__prometheus__client__quantile__init(&qs[i]);
            qs[i].has_quantile = qs[i].has_value = true;
            qs[i].quantile = quantiles[i];
            qs[i].value = values[i];
            qp[i] = &qs[i];
        }
        s->n_quantile = nq;
        s->quantile = qp;
    }
    if (created)
        set_created(w, &s->base, 4, created_us);
    m->summary = s;
}

Io__Prometheus__Client__Histogram *promc__pb_histogram(promc__writer_t *w, uint64_t count,
                                                       double sum, int64_t created_us, bool created)
{
    pb_metric_t *m = cur_metric(w);
    Io__Prometheus__Client__Histogram *h = m ? arena_alloc(w, sizeof *h) : NULL;
    if (!h)
        return NULL;
    io__prometheus__client__histogram__init(h);
    h->has_sample_count = true;
    h->sample_count = count;
    h->has_sample_sum = true;
    h->sample_sum = sum;
    if (created)
        set_created(w, &h->base, 15, created_us);
    m->histogram = h;
    return h;
}

int promc__pb_buckets(promc__writer_t *w, Io__Prometheus__Client__Histogram *h, size_t n)
{
    if (!h || !n)
        return 0;
    Io__Prometheus__Client__Bucket **bp = arena_alloc(w, n * sizeof *bp);
    Io__Prometheus__Client__Bucket *bs = arena_alloc(w, n * sizeof *bs);
    if (!bp || !bs)
        return PROMC_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        io__prometheus__client__bucket__init(&bs[i]);
        bp[i] = &bs[i];
    }
    h->bucket = bp;
    h->n_bucket = 0;
    return 0;
}

void promc__pb_bucket(promc__writer_t *w, Io__Prometheus__Client__Histogram *h, double upper,
                      uint64_t cumulative, const promc__exemplar_snap_t *ex)
{
    if (!h || !h->bucket)
        return;
    Io__Prometheus__Client__Bucket *b = h->bucket[h->n_bucket++];
    b->has_cumulative_count = b->has_upper_bound = true;
    b->cumulative_count = cumulative;
    b->upper_bound = upper;
    if (ex)
        b->exemplar = make_exemplar(w, ex);
}

static bool pb_side(promc__writer_t *w, const promc__native_side_snap_t *s,
                    Io__Prometheus__Client__BucketSpan ***spans, size_t *n_spans, int64_t **deltas,
                    size_t *n_deltas)
{
    if (!s->n_spans)
        return true;
    Io__Prometheus__Client__BucketSpan **sp = arena_alloc(w, s->n_spans * sizeof *sp);
    Io__Prometheus__Client__BucketSpan *ss = arena_alloc(w, s->n_spans * sizeof *ss);
    int64_t *d = arena_alloc(w, s->n_deltas * sizeof *d);
    if (!sp || !ss || !d)
        return false;
    for (size_t i = 0; i < s->n_spans; i++) {
        io__prometheus__client__bucket_span__init(&ss[i]);
        ss[i].has_offset = ss[i].has_length = true;
        ss[i].offset = s->spans[i].offset;
        ss[i].length = s->spans[i].length;
        sp[i] = &ss[i];
    }
    memcpy(d, s->deltas, s->n_deltas * sizeof *d);
    *spans = sp;
    *n_spans = s->n_spans;
    *deltas = d;
    *n_deltas = s->n_deltas;
    return true;
}

void promc__pb_native(promc__writer_t *w, Io__Prometheus__Client__Histogram *h,
                      const promc__native_snap_t *snap)
{
    if (!h)
        return;
    h->has_schema = h->has_zero_threshold = h->has_zero_count = true;
    h->schema = snap->schema;
    h->zero_threshold = snap->zero_threshold;
    h->zero_count = snap->zero_count;
    if (!pb_side(w, &snap->neg, &h->negative_span, &h->n_negative_span, &h->negative_delta,
                 &h->n_negative_delta) ||
        !pb_side(w, &snap->pos, &h->positive_span, &h->n_positive_span, &h->positive_delta,
                 &h->n_positive_delta))
        if (!w->err)
            w->err = promc__err(PROMC_ENOMEM, "native buckets");
}

/* ---- the emit API -----------------------------------------------------------------------------
 * A collector's samples come one at a time; consecutive samples with the same labels (le and
 * quantile aside) make one metric. */

static void emit_metric_for_key(promc__writer_t *w)
{
    promc__pb_t *pb = w->pb;
    if (pb->cur && pb->cur_key.len == pb->key.len &&
        memcmp(pb->cur_key.data, pb->key.data, pb->key.len) == 0)
        return;
    pb->cur = NULL;
    promc__strbuf_t t = pb->cur_key;
    pb->cur_key = pb->key;
    pb->key = t;
}

void promc__pb_emit_begin(promc__writer_t *w)
{
    promc__pb_t *pb = w->pb;
    pb->key.len = 0;
    pb->lab_n = 0;
    pb->lbytes.len = 0;
}

void promc__pb_emit_label(promc__writer_t *w, const char *name, size_t nlen, const char *value,
                          size_t vlen)
{
    promc__pb_t *pb = w->pb;
    char sep = '\0';
    if (promc__strbuf_append(&pb->key, name, nlen) || promc__strbuf_append(&pb->key, &sep, 1) ||
        promc__strbuf_append(&pb->key, value, vlen) || promc__strbuf_append(&pb->key, &sep, 1)) {
        if (!w->err)
            w->err = promc__err(PROMC_ENOMEM, "labels");
        return;
    }
    promc__pb_label(w, name, nlen, value, vlen);
}

/* le or quantile as a number, as the text would be read. */
static double parse_bound(const char *s, size_t n)
{
    char tmp[64];
    if (n >= sizeof tmp)
        return NAN;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (!strcmp(tmp, "+Inf") || !strcmp(tmp, "Inf"))
        return INFINITY;
    if (!strcmp(tmp, "-Inf"))
        return -INFINITY;
    char *end;
    double v = strtod(tmp, &end);
    return *end ? NAN : v;
}

/* A collector's _created value (seconds) in microseconds, rounded. */
static int64_t secs_to_us(double v)
{
    double us = v * 1e6;
    if (!(us > -9.2e18 && us < 9.2e18))
        return 0;
    return (int64_t)(us + (us >= 0 ? 0.5 : -0.5));
}

int promc__pb_emit_sample(promc__writer_t *w, promc_type_t type, const char *suffix,
                          const char *extra, size_t extra_len, double value)
{
    int created = strcmp(suffix, "_created") == 0;
    /* Each new label set starts a metric; its samples fill the metric's type. */
    emit_metric_for_key(w);
    pb_metric_t *m = cur_metric(w);
    if (!m)
        return w->err ? w->err : PROMC_ENOMEM;
    switch (type) {
    case PROMC_COUNTER: {
        if (!m->counter) {
            promc__pb_counter(w, 0, NULL, 0, false);
            if (!m->counter)
                return w->err;
        }
        if (created) {
            int64_t us = secs_to_us(value);
            set_created(w, &m->counter->base, 3, us);
        } else {
            m->counter->value = value;
        }
        break;
    }
    case PROMC_HISTOGRAM:
    case PROMC_SUMMARY: {
        if (type == PROMC_SUMMARY && !m->summary) {
            promc__pb_summary(w, 0, 0, 0, NULL, NULL, 0, false);
            if (!m->summary)
                return w->err;
        }
        if (type == PROMC_HISTOGRAM && !m->histogram && !promc__pb_histogram(w, 0, 0, 0, false))
            return w->err;
        ProtobufCMessage *base = type == PROMC_SUMMARY ? &m->summary->base : &m->histogram->base;
        if (created) {
            set_created(w, base, type == PROMC_SUMMARY ? 4 : 15, secs_to_us(value));
        } else if (!strcmp(suffix, "_count") || !strcmp(suffix, "_gcount")) {
            uint64_t c = value > 0 && value < 1.8e19 ? (uint64_t)value : 0;
            if (type == PROMC_SUMMARY)
                m->summary->sample_count = c;
            else
                m->histogram->sample_count = c;
        } else if (!strcmp(suffix, "_sum") || !strcmp(suffix, "_gsum")) {
            if (type == PROMC_SUMMARY)
                m->summary->sample_sum = value;
            else
                m->histogram->sample_sum = value;
        } else if (type == PROMC_HISTOGRAM && !strcmp(suffix, "_bucket") && extra) {
            double ub = parse_bound(extra, extra_len);
            Io__Prometheus__Client__Histogram *h = m->histogram;
            if (isinf(ub) && ub > 0)
                break; /* +Inf: the count says it, as client_golang writes it */
            Io__Prometheus__Client__Bucket *b = arena_alloc(w, sizeof *b);
            Io__Prometheus__Client__Bucket **bp = arena_alloc(w, (h->n_bucket + 1) * sizeof *bp);
            if (!b || !bp)
                return w->err;
            if (h->n_bucket)
                memcpy(bp, h->bucket, h->n_bucket * sizeof *bp);
            io__prometheus__client__bucket__init(b);
            b->has_cumulative_count = b->has_upper_bound = true;
            b->cumulative_count = value > 0 && value < 1.8e19 ? (uint64_t)value : 0;
            b->upper_bound = ub;
            bp[h->n_bucket++] = b;
            h->bucket = bp;
        } else if (type == PROMC_SUMMARY && extra) {
            Io__Prometheus__Client__Summary *s = m->summary;
            Io__Prometheus__Client__Quantile *q = arena_alloc(w, sizeof *q);
            Io__Prometheus__Client__Quantile **qp =
                arena_alloc(w, (s->n_quantile + 1) * sizeof *qp);
            if (!q || !qp)
                return w->err;
            if (s->n_quantile)
                memcpy(qp, s->quantile, s->n_quantile * sizeof *qp);
            io__prometheus__client__quantile__init(q);
            q->has_quantile = q->has_value = true;
            q->quantile = parse_bound(extra, extra_len);
            q->value = value;
            qp[s->n_quantile++] = q;
            s->quantile = qp;
        }
        break;
    }
    case PROMC_UNTYPED:
        if (!m->untyped)
            promc__pb_untyped(w, value);
        else
            m->untyped->value = value;
        break;
    case PROMC_GAUGE:
    case PROMC_INFO:
    case PROMC_ENUM:
        if (!m->gauge)
            promc__pb_gauge(w, value);
        else
            m->gauge->value = value;
        break;
    }
    return w->err;
}
