/* SPDX-License-Identifier: Apache-2.0 */
/* The walk over a registry: each of our own metrics, child by child, and each custom collector,
 * in registration order, written in text 0.0.4 or OpenMetrics 1.0.0 byte for byte as
 * client_python writes them for the same metrics (docs/exposition.md lists the deliberate
 * differences).  Text 0.0.4 puts _created samples in a gauge family of their own after the main
 * one, as client_python does: for our own metrics that is a second walk over the children. */
#include <string.h>
#include "alloc.h"
#include "collector.h"
#include "entry.h"
#include "err.h"
#include "fmt.h"
#include "reclaim.h"
#include "strbuf.h"
#include "exemplar.h"
#include "native.h"
#include "quantile.h"
#include "writer.h"

#define WRITE_BUF_LIMIT ((size_t)1 << 32) /* promc_registry_write_buf's cap: 4 GiB */

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
static unsigned sample_mask(const promc__writer_t *w, const promc_metric_t *m, bool created)
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
        mask = S_COUNT | S_SUM | (created ? S_CREATED : 0) | (m->quantile_count ? S_PLAIN : 0);
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
        if ((mask & sfx[i].bit) && !promc__writer_allowed(w, m->name, sfx[i].suffix))
            mask &= ~sfx[i].bit;
    return mask;
}

/* " # {labels} value timestamp" of an exemplar slot into buf, as w's tail; false when the slot
 * holds none. */
static bool exemplar_tail(promc__writer_t *w, const promc__exemplar_t *slot, char *buf, size_t cap)
{
    promc__exemplar_snap_t x;
    if (!promc__exemplar_load(slot, &x) || x.len + 96 > cap)
        return false;
    size_t o = 0;
    memcpy(buf + o, " # {", 4);
    o += 4;
    memcpy(buf + o, x.text, x.len);
    o += x.len;
    buf[o++] = '}';
    buf[o++] = ' ';
    o += promc__fmt_double(x.value, buf + o);
    buf[o++] = ' ';
    o += promc__fmt_micros(x.ts_us, buf + o);
    w->tail = buf;
    w->tail_len = o;
    return true;
}

static int child_samples(promc__writer_t *w, const promc_metric_t *m, const promc__child_t *s,
                         unsigned mask, bool om)
{
    char ex[PROMC__EXEMPLAR_WORDS * 8 + 128];
    const char *name = m->name;
    switch (m->type) {
    case PROMC_COUNTER: {
        const struct promc_counter *c = (const struct promc_counter *)s;
        const promc__exemplar_t *slot =
            om ? atomic_load_explicit(&((struct promc_counter *)c)->ex, memory_order_acquire)
               : NULL;
        if (slot)
            exemplar_tail(w, slot, ex, sizeof ex);
        if (mask & S_TOTAL)
            promc__put_line(w, name, "_total", NULL, NULL, 0, promc__counter_get(c));
        w->tail_len = 0;
        if (om && (mask & S_CREATED))
            promc__put_created(w, name, s);
        break;
    }
    case PROMC_GAUGE:
        promc__put_line(w, name, "", NULL, NULL, 0, promc_gauge_value((const promc_gauge_t *)s));
        break;
    case PROMC_HISTOGRAM: {
        const promc_histogram_t *h = (const promc_histogram_t *)s;
        /* Read the counts once, so _count equals the +Inf bucket; a native histogram's from one
         * reading of its hot and cold counts. */
        promc__native_snap_t snap;
        double sum = 0;
        if (h->nh) {
            if (promc__native_snapshot(h->nh, &snap) != 0) {
                promc__native_snap_free(&snap);
                return w->err = promc__err(PROMC_ENOMEM, "native histogram");
            }
            sum = snap.sum;
        } else {
            sum = promc_histogram_sum(h);
        }
        uint64_t acc = 0;
        const promc__exemplar_t *slots =
            om ? atomic_load_explicit(&((promc_histogram_t *)h)->ex, memory_order_acquire) : NULL;
        for (size_t i = 0; i < m->bound_count; i++) {
            acc += h->nh ? snap.classic[i] : promc__histogram_bucket(h, i);
            if (slots)
                exemplar_tail(w, &slots[i], ex, sizeof ex);
            if (mask & S_BUCKET)
                promc__put_line(w, name, "_bucket", "le", m->bound_text[i],
                                strlen(m->bound_text[i]), (double)acc);
            w->tail_len = 0;
        }
        if (mask & S_COUNT)
            promc__put_line(w, name, "_count", NULL, NULL, 0, (double)acc);
        if (mask & S_SUM)
            promc__put_line(w, name, "_sum", NULL, NULL, 0, sum);
        if (om && (mask & S_CREATED))
            promc__put_created(w, name, s);
        if (h->nh)
            promc__native_snap_free(&snap);
        break;
    }
    case PROMC_SUMMARY: {
        const promc_summary_t *x = (const promc_summary_t *)s;
        if (x->q && (mask & S_PLAIN)) {
            double qv[64];
            double *v = m->quantile_count <= 64 ? qv : promc__malloc(m->quantile_count * sizeof *v);
            if (v != NULL) {
                promc__q_query(x->q, v);
                for (size_t i = 0; i < m->quantile_count; i++)
                    promc__put_line(w, name, "", "quantile", m->quantile_text[i],
                                    strlen(m->quantile_text[i]), v[i]);
                if (v != qv)
                    promc__free(v);
            }
        }
        if (mask & S_COUNT)
            promc__put_line(w, name, "_count", NULL, NULL, 0, (double)promc_summary_count(x));
        if (mask & S_SUM)
            promc__put_line(w, name, "_sum", NULL, NULL, 0, promc_summary_sum(x));
        if (om && (mask & S_CREATED))
            promc__put_created(w, name, s);
        break;
    }
    case PROMC_INFO:
        promc__put_line(w, name, "_info", NULL, NULL, 0, 1.0);
        break;
    case PROMC_ENUM: {
        size_t cur = promc_enum_get((const promc_enum_t *)s);
        for (size_t i = 0; i < m->state_count; i++)
            promc__put_line(w, name, "", name, m->states[i], strlen(m->states[i]),
                            i == cur ? 1.0 : 0.0);
        break;
    }
    case PROMC_UNTYPED:
        break;
    }
    return w->err;
}

/* ---- protobuf ------------------------------------------------------------------------------- */

/* A child's labels, sorted, with the extra one (an enum's state) in its place. */
static void pb_child_labels(promc__writer_t *w, const promc_metric_t *m, const promc__child_t *s,
                            const char *extra_name, const char *extra_value)
{
    promc__pb_metric(w);
    size_t all = m->label_count + m->const_count;
    for (size_t k = 0; k < all; k++) {
        if (k == m->extra_pos && extra_name)
            promc__pb_label(w, extra_name, strlen(extra_name), extra_value, strlen(extra_value));
        size_t i = m->label_order[k];
        promc_str_t v = promc__label_value(m, s, i);
        promc__pb_label(w, m->label_names[i], strlen(m->label_names[i]), v.ptr, v.len);
    }
    if (extra_name && m->extra_pos >= all)
        promc__pb_label(w, extra_name, strlen(extra_name), extra_value, strlen(extra_value));
}

static void pb_child(promc__writer_t *w, promc_metric_t *m, promc__child_t *s, bool created)
{
    promc__exemplar_snap_t snap;
    switch (m->type) {
    case PROMC_COUNTER: {
        struct promc_counter *c = (struct promc_counter *)s;
        const promc__exemplar_t *slot = atomic_load_explicit(&c->ex, memory_order_acquire);
        bool ex = slot && promc__exemplar_load(slot, &snap);
        pb_child_labels(w, m, s, NULL, NULL);
        promc__pb_counter(w, promc__counter_get(c), ex ? &snap : NULL, s->created_us, created);
        break;
    }
    case PROMC_GAUGE:
        pb_child_labels(w, m, s, NULL, NULL);
        promc__pb_gauge(w, promc_gauge_value((const promc_gauge_t *)s));
        break;
    case PROMC_HISTOGRAM: {
        promc_histogram_t *h = (promc_histogram_t *)s;
        size_t nb = m->bound_count;
        uint64_t stack[64];
        uint64_t *cum = nb <= 64 ? stack : promc__malloc(nb * sizeof *cum);
        if (!cum) {
            if (!w->err)
                w->err = promc__err(PROMC_ENOMEM, "histogram buckets");
            return;
        }
        /* Read the counts once, so the count equals the last bucket; a native histogram's from
         * one reading of its hot and cold counts. */
        promc__native_snap_t ns;
        if (h->nh && promc__native_snapshot(h->nh, &ns) != 0) {
            promc__native_snap_free(&ns);
            if (cum != stack)
                promc__free(cum);
            if (!w->err)
                w->err = promc__err(PROMC_ENOMEM, "native histogram");
            return;
        }
        uint64_t acc = 0;
        for (size_t i = 0; i < nb; i++)
            cum[i] = acc += h->nh ? ns.classic[i] : promc__histogram_bucket(h, i);
        const promc__exemplar_t *slots = atomic_load_explicit(&h->ex, memory_order_acquire);
        pb_child_labels(w, m, s, NULL, NULL);
        struct Io__Prometheus__Client__Histogram *ph = promc__pb_histogram(
            w, acc, h->nh ? ns.sum : promc_histogram_sum(h), s->created_us, created);
        if (h->nh) {
            promc__pb_native(w, ph, &ns);
            promc__native_snap_free(&ns);
        }
        /* The +Inf bucket is left to the count, as client_golang does, unless it has an
         * exemplar. */
        bool inf_ex = slots && promc__exemplar_load(&slots[nb - 1], &snap);
        if (promc__pb_buckets(w, ph, nb - 1 + inf_ex) == 0) {
            for (size_t i = 0; i + 1 < nb; i++) {
                bool ex = slots && promc__exemplar_load(&slots[i], &snap);
                promc__pb_bucket(w, ph, m->bounds[i], cum[i], ex ? &snap : NULL);
            }
            if (inf_ex && promc__exemplar_load(&slots[nb - 1], &snap))
                promc__pb_bucket(w, ph, m->bounds[nb - 1], acc, &snap);
        } else if (!w->err) {
            w->err = promc__err(PROMC_ENOMEM, "histogram buckets");
        }
        if (cum != stack)
            promc__free(cum);
        break;
    }
    case PROMC_SUMMARY: {
        promc_summary_t *x = (promc_summary_t *)s;
        size_t nq = x->q ? m->quantile_count : 0;
        double stack[2 * 32];
        double *v = nq <= 32 ? stack : promc__malloc(2 * nq * sizeof *v);
        if (!v) {
            if (!w->err)
                w->err = promc__err(PROMC_ENOMEM, "quantiles");
            return;
        }
        if (nq)
            promc__q_query(x->q, v);
        for (size_t i = 0; i < nq; i++)
            v[nq + i] = m->quantiles[i].quantile;
        pb_child_labels(w, m, s, NULL, NULL);
        promc__pb_summary(w, promc_summary_count(x), promc_summary_sum(x), nq, v + nq, v,
                          s->created_us, created);
        if (v != stack)
            promc__free(v);
        break;
    }
    case PROMC_INFO: {
        promc__pb_metric(w);
        size_t all = m->label_count + m->const_count;
        for (size_t k = 0; k < all; k++) {
            size_t i = m->label_order[k];
            promc_str_t v = promc__label_value(m, s, i);
            promc__pb_label(w, m->label_names[i], strlen(m->label_names[i]), v.ptr, v.len);
        }
        pthread_mutex_lock(&m->lock);
        const promc__info_labels_t *il = ((struct promc_info *)s)->labels;
        for (size_t j = 0; il && j < il->n; j++)
            promc__pb_label(w, il->labels[j].name.ptr, il->labels[j].name.len,
                            il->labels[j].value.ptr, il->labels[j].value.len);
        pthread_mutex_unlock(&m->lock);
        promc__pb_sort_labels(w);
        promc__pb_gauge(w, 1.0);
        break;
    }
    case PROMC_ENUM: {
        size_t cur = promc_enum_get((const promc_enum_t *)s);
        for (size_t i = 0; i < m->state_count; i++) {
            pb_child_labels(w, m, s, m->name, m->states[i]);
            promc__pb_gauge(w, i == cur ? 1.0 : 0.0);
        }
        break;
    }
    case PROMC_UNTYPED:
        break;
    }
}

/* One metric as a family (in messages of bounded size); left out when it has no child, as
 * client_golang leaves out a vector without children. */
static int pb_walk_metric(promc__writer_t *w, promc_metric_t *m, bool created)
{
    unsigned mask = sample_mask(w, m, created);
    uint64_t last = atomic_load_explicit(&m->seq, memory_order_relaxed);
    promc__child_t *head = atomic_load_explicit(&m->head, memory_order_acquire);
    if (!mask || !head)
        return 0;
    promc__pb_family(w, m->name, promc__pb_suffix(m->type), m->help, promc__pb_type(m->type));
    bool with_created = (mask & S_CREATED) != 0;
    for (promc__child_t *s = head; s && !w->err;
         s = atomic_load_explicit(&s->next, memory_order_acquire)) {
        if (s->seq > last)
            break;
        pb_child(w, m, s, with_created);
    }
    promc__pb_family_end(w);
    return w->err;
}

/* The library's own families below (limits, expiries, parent updates) in protobuf: one metric
 * per labelled metric, with a `metric` label (and `action`). */
static void pb_own_family(promc__writer_t *w, bool *open, const char *name, const char *suffix,
                          const char *help, int type)
{
    if (!*open)
        promc__pb_family(w, name, suffix, help, type);
    *open = true;
}

/* Joins a child's labels into w->lab.  Info labels are replaced under the metric's lock, so they
 * are read under it; the lock is let go before any output, which may call the sink (user code). */
static int prepare_labels(promc__writer_t *w, promc_metric_t *m, promc__child_t *s)
{
    if (m->type == PROMC_INFO) {
        pthread_mutex_lock(&m->lock);
        int rc = promc__join_info_labels(w, m, s, ((struct promc_info *)s)->labels);
        pthread_mutex_unlock(&m->lock);
        return rc;
    }
    if (m->label_count + m->const_count == 0) {
        w->lab.len = w->pre_end = w->post_start = 0;
        return 0;
    }
    return promc__join_labels(w, m, s);
}

/* Writes one metric, walking its children inside a read section (reclaim.h), so that a child
 * removed meanwhile stays readable until the walk has left it. */
static int walk_metric(promc__writer_t *w, promc_metric_t *m, bool created)
{
    bool om = w->fmt == PROMC_FORMAT_OPENMETRICS;
    unsigned mask = sample_mask(w, m, created);
    /* Children created from here on are not this scrape's: one removed and created again while
     * we walk is appended at the end, and would be written a second time. */
    uint64_t last = atomic_load_explicit(&m->seq, memory_order_relaxed);
    promc__child_t *head = atomic_load_explicit(&m->head, memory_order_acquire);
    /* With a filter, a metric none of whose samples pass, or that has no child, is left out
     * whole, as client_python's restricted registry does. */
    if (w->filter && (!mask || !head))
        return 0;
    promc__put_header(w, m->name, m->help, m->type, m->unit);
    int rc = 0;
    for (promc__child_t *s = head; s && !rc;
         s = atomic_load_explicit(&s->next, memory_order_acquire)) {
        if (s->seq > last)
            break; /* the list is in creation order: all that follow are newer */
        rc = prepare_labels(w, m, s);
        if (!rc)
            rc = child_samples(w, m, s, mask, om);
    }
    if (!om && !rc && (mask & S_CREATED) && head) {
        promc__put_side_header(w, m->name, "_created", m->help);
        for (promc__child_t *s = atomic_load_explicit(&m->head, memory_order_acquire);
             s && !rc && s->seq <= last; s = atomic_load_explicit(&s->next, memory_order_acquire)) {
            rc = prepare_labels(w, m, s);
            if (!rc)
                promc__put_created(w, m->name, s);
        }
    }
    return rc ? rc : w->err;
}

static int write_metric(promc__writer_t *w, promc_metric_t *m, bool created)
{
    promc__read_enter();
    int rc = w->pb ? pb_walk_metric(w, m, created) : walk_metric(w, m, created);
    promc__read_exit();
    /* Children unchanged past the metric's expiry go now; a batch of removed children may be
     * waiting for walks like this one to end. */
    promc__metric_sweep_try(m);
    promc__metric_reclaim_try(m);
    return rc;
}

/* promc_metric_children_limited_total{action, metric}: for each labelled metric with a limit of
 * children, the label sets refused or folded into its overflow child (the name is reserved in
 * every registry). */
static int write_limits(promc__writer_t *w, promc__entry_t **items, size_t n)
{
    static const char name[] = "promc_metric_children_limited";
    if (!promc__writer_allowed(w, name, "_total"))
        return 0;
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        if (items[i]->kind != PROMC__ENTRY_METRIC)
            continue;
        promc_metric_t *m = (promc_metric_t *)items[i];
        uint64_t limited = atomic_load_explicit(&m->limited, memory_order_relaxed);
        if (!m->label_count || (!limited && !promc__metric_child_limit(m)))
            continue;
        static const char help[] = "Label sets refused, or folded into the overflow child, "
                                   "because a metric had reached its limit of children.";
        const char *action = m->on_limit == PROMC_LIMIT_OVERFLOW ? "folded" : "refused";
        if (w->pb) {
            pb_own_family(w, &header, name, "_total", help, 0);
            promc__pb_metric(w);
            promc__pb_label(w, "action", 6, action, strlen(action));
            promc__pb_label(w, "metric", 6, m->name, strlen(m->name));
            promc__pb_counter(w, (double)limited, NULL, 0, false);
            continue;
        }
        if (!header) {
            promc__put_header(w, name, help, PROMC_COUNTER, "");
            header = true;
        }
        promc__strbuf_t *b = &w->lab;
        b->len = 0;
        if (promc__append_pair(b, "action", 6, action, strlen(action)) ||
            promc__append_pair(b, "metric", 6, m->name, strlen(m->name)))
            return promc__err(PROMC_ENOMEM, "labels");
        w->pre_end = w->post_start = b->len;
        promc__put_line(w, name, "_total", NULL, NULL, 0, (double)limited);
    }
    return w->err;
}

/* promc_metric_children_expired_total{metric}: for each metric with expire_seconds, the children
 * its sweeps removed (the name is reserved as above). */
static int write_expired(promc__writer_t *w, promc__entry_t **items, size_t n)
{
    static const char name[] = "promc_metric_children_expired";
    if (!promc__writer_allowed(w, name, "_total"))
        return 0;
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        if (items[i]->kind != PROMC__ENTRY_METRIC)
            continue;
        promc_metric_t *m = (promc_metric_t *)items[i];
        if (!m->expire_ns)
            continue;
        static const char help[] = "Children removed because their value had not changed for "
                                   "the metric's expiry time.";
        double expired = (double)atomic_load_explicit(&m->expired, memory_order_relaxed);
        if (w->pb) {
            pb_own_family(w, &header, name, "_total", help, 0);
            promc__pb_metric(w);
            promc__pb_label(w, "metric", 6, m->name, strlen(m->name));
            promc__pb_counter(w, expired, NULL, 0, false);
            continue;
        }
        if (!header) {
            promc__put_header(w, name, help, PROMC_COUNTER, "");
            header = true;
        }
        promc__strbuf_t *b = &w->lab;
        b->len = 0;
        if (promc__append_pair(b, "metric", 6, m->name, strlen(m->name)))
            return promc__err(PROMC_ENOMEM, "labels");
        w->pre_end = w->post_start = b->len;
        promc__put_line(w, name, "_total", NULL, NULL, 0, expired);
    }
    return w->err;
}

/* promc_metric_parent_updated{metric} 1 for each labelled metric whose parent handle was updated
 * (promc_counter_inc(handle) on a metric with label names): the update is exposed nowhere else,
 * so the mistake shows here rather than as a silent loss (the name is reserved as above). */
static int write_parent_updates(promc__writer_t *w, promc__entry_t **items, size_t n)
{
    static const char name[] = "promc_metric_parent_updated";
    if (!promc__writer_allowed(w, name, ""))
        return 0;
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        if (items[i]->kind != PROMC__ENTRY_METRIC)
            continue;
        promc_metric_t *m = (promc_metric_t *)items[i];
        if (!promc__metric_parent_used(m))
            continue;
        static const char help[] = "1 for a metric with label names whose parent handle was "
                                   "updated: such updates are never exposed; resolve a child "
                                   "instead.";
        if (w->pb) {
            pb_own_family(w, &header, name, "", help, 1);
            promc__pb_metric(w);
            promc__pb_label(w, "metric", 6, m->name, strlen(m->name));
            promc__pb_gauge(w, 1);
            continue;
        }
        if (!header) {
            promc__put_header(w, name, help, PROMC_GAUGE, "");
            header = true;
        }
        promc__strbuf_t *b = &w->lab;
        b->len = 0;
        if (promc__append_pair(b, "metric", 6, m->name, strlen(m->name)))
            return promc__err(PROMC_ENOMEM, "labels");
        w->pre_end = w->post_start = b->len;
        promc__put_line(w, name, "", NULL, NULL, 0, 1);
    }
    return w->err;
}

static int write_registry(promc_registry_t *r, const promc_expose_opts_t *opts, promc_sink_fn sink,
                          void *ud, bool internal_sink)
{
    if (!r || !sink)
        return promc__err(PROMC_EINVAL, "promc_registry_write: NULL argument");
    promc__writer_t w;
    promc__entry_t **items = NULL;
    size_t n = 0;
    bool created = true;
    int rc = promc__writer_init(&w, opts, sink, ud, internal_sink);
    if (!rc && w.fmt == PROMC_FORMAT_PROTOBUF)
        rc = promc__pb_init(&w);
    if (!rc)
        rc = promc__registry_snapshot(r, &items, &n, &created);
    for (size_t i = 0; i < n && !rc; i++) {
        switch (items[i]->kind) {
        case PROMC__ENTRY_METRIC:
            rc = write_metric(&w, (promc_metric_t *)items[i], created);
            break;
        case PROMC__ENTRY_COLLECTOR:
            rc = promc__emit_collector(&w, (promc_collector_t *)items[i]);
            break;
        }
    }
    if (!rc)
        rc = write_limits(&w, items, n);
    if (w.pb)
        promc__pb_family_end(&w);
    if (!rc)
        rc = write_expired(&w, items, n);
    if (w.pb)
        promc__pb_family_end(&w);
    if (!rc)
        rc = write_parent_updates(&w, items, n);
    if (w.pb)
        promc__pb_family_end(&w);
    if (!rc)
        rc = w.err;
    if (!rc && w.fmt == PROMC_FORMAT_OPENMETRICS)
        promc__put(&w, "# EOF\n", 6);
    if (!rc)
        rc = promc__writer_finish(&w);
    if (items)
        promc__registry_release(items, n);
    promc__pb_destroy(&w);
    promc__writer_destroy(&w);
    return rc;
}

int promc_registry_write(promc_registry_t *r, const promc_expose_opts_t *opts, promc_sink_fn sink,
                         void *ud)
{
    return write_registry(r, opts, sink, ud, false);
}

int promc_registry_write_buf(promc_registry_t *r, const promc_expose_opts_t *opts, char **out,
                             size_t *len)
{
    if (!out || !len)
        return promc__err(PROMC_EINVAL, "promc_registry_write_buf: NULL argument");
    promc__strbuf_t b;
    promc__strbuf_init(&b, WRITE_BUF_LIMIT);
    /* The buffer's own failure (PROMC_ENOMEM, or PROMC_ETOOBIG at its cap) is the result. */
    int rc = write_registry(r, opts, promc__strbuf_sink, &b, true);
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

void promc_buf_free(char *buf)
{
    promc__free(buf);
}

size_t promc_format_double(double v, char *buf)
{
    return promc__fmt_double(v, buf);
}
