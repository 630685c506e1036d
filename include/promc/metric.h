/* SPDX-License-Identifier: Apache-2.0 */
/* promc — metrics: Counter, Gauge, Histogram, Summary, Info and Enum.
 *
 * A metric is created once (promc_counter_new() and friends) and joins a registry.  The handle a
 * constructor returns is the metric itself: for a metric without label names it is also its only
 * series, so promc_counter_inc(handle) counts.  For a metric with label names, resolve a child once
 * with promc_counter_labels() and keep the child handle: every update on it is a single lock-free
 * atomic step that never fails, allocates, locks or formats.
 *
 * A child handle is valid until that child is removed (promc_metric_remove(), promc_metric_clear())
 * or the metric is freed; removing a child gives its memory back, so its handle must not be used
 * after the removal returns, much like a pointer after free().  Code that removes children while
 * other threads update them through kept handles must order the two itself.  Code that resolves
 * the child at each update can use the one-shot forms instead (promc_counter_labels_inc() and the
 * rest), which are safe against any concurrent removal.
 *
 * Updates through the handle of a metric that has label names are a mistake: no series stands for
 * "no label values", so they are never exposed as the metric's.  They are not lost silently: the
 * registry's exposition then carries promc_metric_parent_updated{metric="NAME"} 1, which an alert
 * can catch (docs/errors.md).  Resolve a child instead. */
#ifndef PROMC_METRIC_H
#define PROMC_METRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <promc/base.h>
#include <promc/errors.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The handle of each metric type: the metric itself, or one of its children.  Since: 0.1 */
typedef struct promc_counter promc_counter_t;
typedef struct promc_gauge promc_gauge_t;
typedef struct promc_histogram promc_histogram_t;
typedef struct promc_summary promc_summary_t;
typedef struct promc_info promc_info_t;
typedef struct promc_enum promc_enum_t;

/* The type of a metric (promc_metric_type()) or of a custom collector's family.  Since: 0.1 */
typedef enum promc_type {
    PROMC_COUNTER = 0,
    PROMC_GAUGE = 1,
    PROMC_HISTOGRAM = 2,
    PROMC_SUMMARY = 3,
    PROMC_INFO = 4,
    PROMC_ENUM = 5,   /* "stateset" in OpenMetrics */
    PROMC_UNTYPED = 6 /* custom collectors only: "untyped" / "unknown" */
} promc_type_t;

/* What a metric does with a new label set once it has max_children children.  Since: 0.2 */
typedef enum promc_limit_policy {
    PROMC_LIMIT_REFUSE = 0,  /* promc_*_labels() returns PROMC_ELIMIT; nothing is created */
    PROMC_LIMIT_OVERFLOW = 1 /* the update goes to one overflow child, PROMC_OVERFLOW_VALUE in
                              * every label */
} promc_limit_policy_t;

/* The value of every label of the overflow child (PROMC_LIMIT_OVERFLOW).  Since: 0.2 */
#define PROMC_OVERFLOW_VALUE "__overflow__"

/* One quantile a summary tracks, and the rank error it may have (client_golang's Objectives:
 * {0.5, 0.05} puts the 0.5 quantile between the 0.45 and 0.55 ranks).  Since: 0.2 */
typedef struct promc_quantile {
    double quantile; /* in (0, 1) */
    double error;    /* in (0, 1) */
} promc_quantile_t;

/* What every constructor reads.  Zero-initialise, then set what you need:
 *   promc_counter_new(&c, &(promc_metric_opts_t){.name = "requests", .help = "Requests."});
 * Strings are copied; none needs to outlive the call.  Since: 0.1 (no_register a bool,
 * max_children, on_limit, expire_seconds and const_labels since 0.2) */
typedef struct promc_metric_opts {
    const char *name;      /* required; "x_total" on a counter is exposed as x_total all the same */
    const char *help;      /* required (may be ""); any UTF-8, escaped on output */
    const char *ns;        /* optional namespace, joined as ns_subsystem_name */
    const char *subsystem; /* optional */
    const char *unit;      /* optional; appended as _unit unless the name already ends so */
    const char *const *label_names; /* label_count names, validated and copied */
    size_t label_count;
    promc_registry_t *registry; /* NULL: the default registry */
    bool no_register;           /* join no registry (register later, or expose none) */
    /* Histogram: upper bounds, strictly increasing; +Inf is implied.  NULL: the default buckets
     * .005 .01 .025 .05 .075 .1 .25 .5 .75 1 2.5 5 7.5 10 +Inf. */
    const double *buckets;
    size_t bucket_count;
    /* Enum: the states, distinct, the first being the initial one. */
    const char *const *states;
    size_t state_count;
    /* Counter: number of cache-line cells an update is spread over, so that threads updating one
     * series do not contend.  0: automatic (striped for a metric without labels, one cell for each
     * child of a labelled metric, to keep children small).  Rounded up to a power of two, at most
     * 64. */
    unsigned stripes;
    /* Labelled metrics: the most children the metric keeps (a cardinality guard against label
     * values fed from user input).  0: the registry's default (promc_registry_set_max_children()),
     * unlimited unless that is set.  Existing children keep working at the limit; a new label set
     * is refused or folded into the overflow child, as on_limit says, and counted in the
     * registry's promc_metric_children_limited_total{metric, action}. */
    size_t max_children;
    promc_limit_policy_t on_limit;
    /* Labelled metrics: remove a child whose value has not changed for this many seconds, as
     * seen by the sweeps that run after each scrape of the metric (at most every eighth of the
     * time) and at promc_metric_expire().  0: never.  An update that leaves the value as it was (a
     * gauge set to its own value, an increment by 0) is not a change.  Expiry removes children,
     * so their handles go as with promc_metric_remove(): update an expiring metric through the
     * one-shot forms.  Counted in promc_metric_children_expired_total{metric}. */
    double expire_seconds;
    /* Labels with the same value on every sample of the metric (client_golang's ConstLabels): a
     * build, a region.  Names follow the label-name rules and differ from label_names; values
     * are UTF-8.  Copied.  Sorted with the other labels on output. */
    const promc_label_t *const_labels;
    size_t const_label_count;
    /* Summary: the quantiles to expose, as client_golang computes them (CKMS targeted
     * quantiles over a sliding window); NULL/0: count and sum only, as client_python.  Copied.
     * The window: observations of the last max_age seconds (0: 600), kept in age_buckets
     * streams (0: 5) of which the oldest is dropped every max_age / age_buckets.  A quantile of
     * an empty window is NaN.  (Since 0.2) */
    const promc_quantile_t *quantiles;
    size_t quantile_count;
    double max_age;
    unsigned age_buckets;
    /* Histogram: native (sparse, exponential) buckets, client_golang's model, exposed in
     * protobuf only (docs/native-histograms.md).  native_bucket_factor > 1 enables them: the
     * schema is the largest whose bucket growth factor 2^(2^-schema) is at most the one asked
     * (1.1 gives schema 3, factor 1.0905), within -4..8.  With buckets NULL a native histogram has
     * no classic buckets (text formats write _count, _sum and one +Inf bucket); with buckets, it
     * has both.  native_zero_threshold: the zero bucket's half-width, 0: 2^-128, < 0: only 0
     * itself.  native_max_buckets: 0 no limit, else past it the buckets are reduced as
     * client_golang does: reset when native_min_reset_duration seconds (0: never) have passed
     * since the last reset, else the zero bucket widened up to native_max_zero_threshold (0:
     * never), else the resolution halved.  (Since 0.2) */
    double native_bucket_factor;
    double native_zero_threshold;
    uint32_t native_max_buckets;
    double native_min_reset_duration;
    double native_max_zero_threshold;
} promc_metric_opts_t;

/* ---- Construction and lifetime ----------------------------------------------------------------
 * Each constructor validates the name (Prometheus rules: [a-zA-Z_:][a-zA-Z0-9_:]*), the label names
 * ([a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix, no "le" on a histogram, no "quantile" on a summary, no
 * name twice), the unit and the type's own options, builds the metric and registers it.
 * Returns 0 and sets *out, or a negative PROMC_E* code with *out untouched and nothing registered
 * (PROMC_EDUPLICATE when the registry already exposes one of the names).
 * Thread-safety: any thread, takes the registry lock.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_counter_new(promc_counter_t **out,
                                                const promc_metric_opts_t *opts);
PROMC_API PROMC_NODISCARD int promc_gauge_new(promc_gauge_t **out, const promc_metric_opts_t *opts);
PROMC_API PROMC_NODISCARD int promc_histogram_new(promc_histogram_t **out,
                                                  const promc_metric_opts_t *opts);
PROMC_API PROMC_NODISCARD int promc_summary_new(promc_summary_t **out,
                                                const promc_metric_opts_t *opts);
PROMC_API PROMC_NODISCARD int promc_info_new(promc_info_t **out, const promc_metric_opts_t *opts);
PROMC_API PROMC_NODISCARD int promc_enum_new(promc_enum_t **out, const promc_metric_opts_t *opts);

/* The metric behind a typed handle (a child handle gives its metric).  Never NULL for a valid
 * handle; NULL for NULL.  Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API promc_metric_t *promc_counter_metric(promc_counter_t *c);
PROMC_API promc_metric_t *promc_gauge_metric(promc_gauge_t *g);
PROMC_API promc_metric_t *promc_histogram_metric(promc_histogram_t *h);
PROMC_API promc_metric_t *promc_summary_metric(promc_summary_t *s);
PROMC_API promc_metric_t *promc_info_metric(promc_info_t *i);
PROMC_API promc_metric_t *promc_enum_metric(promc_enum_t *e);

/* Unregisters the metric from its registry (if any), then frees it with all its children; every
 * handle to it and its children becomes invalid.  A scrape in progress keeps the metric alive
 * until it finishes.  NULL is a no-op; a child handle is a no-op (free the metric).
 * Thread-safety: any thread, takes the registry lock; no other thread may use the handles.
 * Since: 0.1 */
PROMC_API void promc_metric_free(promc_metric_t *m);
PROMC_API void promc_counter_free(promc_counter_t *c);
PROMC_API void promc_gauge_free(promc_gauge_t *g);
PROMC_API void promc_histogram_free(promc_histogram_t *h);
PROMC_API void promc_summary_free(promc_summary_t *s);
PROMC_API void promc_info_free(promc_info_t *i);
PROMC_API void promc_enum_free(promc_enum_t *e);

/* The full exposed name (with namespace, subsystem and unit, without a counter's _total), its
 * type, and its number of label names.  Borrowed, valid until promc_metric_free().
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API const char *promc_metric_name(const promc_metric_t *m);
PROMC_API promc_type_t promc_metric_type(const promc_metric_t *m);
PROMC_API size_t promc_metric_label_count(const promc_metric_t *m);

/* ---- Children ---------------------------------------------------------------------------------
 * Resolves the child for `n` label values (in the order of the label names), creating it at its
 * zero value the first time.  Values are any bytes.  The child handle is valid until the metric is
 * freed; keep it and update it directly.  Returns 0, PROMC_ENOLABELS (the metric has no label
 * names), PROMC_ELABELCOUNT, PROMC_EINVAL (a NULL handle, values or child, or a value with a
 * length and a NULL pointer), PROMC_EUTF8 (a value is not UTF-8; the message gives the label and
 * the byte offset), PROMC_ELIMIT (the metric is at max_children and refuses new label sets) or
 * PROMC_ENOMEM.
 * Thread-safety: any thread, lock-free when the child exists; takes the metric's lock to create it.
 * Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_counter_labels(promc_counter_t *c, const promc_str_t *values,
                                                   size_t n, promc_counter_t **child);
PROMC_API PROMC_NODISCARD int promc_gauge_labels(promc_gauge_t *g, const promc_str_t *values,
                                                 size_t n, promc_gauge_t **child);
PROMC_API PROMC_NODISCARD int promc_histogram_labels(promc_histogram_t *h,
                                                     const promc_str_t *values, size_t n,
                                                     promc_histogram_t **child);
PROMC_API PROMC_NODISCARD int promc_summary_labels(promc_summary_t *s, const promc_str_t *values,
                                                   size_t n, promc_summary_t **child);
PROMC_API PROMC_NODISCARD int promc_info_labels(promc_info_t *i, const promc_str_t *values,
                                                size_t n, promc_info_t **child);
PROMC_API PROMC_NODISCARD int promc_enum_labels(promc_enum_t *e, const promc_str_t *values,
                                                size_t n, promc_enum_t **child);

/* ---- One-shot updates -------------------------------------------------------------------------
 * Resolve the child for `n` label values (creating it as promc_*_labels() does) and update it, in
 * one call that is safe against a concurrent promc_metric_remove() or promc_metric_clear() of that
 * child: the update lands before the removal, or on the child being removed and goes with it.  For
 * code that looks the child up at each update (as client_golang's WithLabelValues(...).Inc()
 * reads).  Returns 0 or what promc_*_labels() returns; promc_counter_labels_add() also
 * PROMC_ENEGATIVE (nothing is created then).
 * Thread-safety: any thread, lock-free when the child exists.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_counter_labels_inc(promc_counter_t *c,
                                                       const promc_str_t *values, size_t n);
PROMC_API PROMC_NODISCARD int
promc_counter_labels_add(promc_counter_t *c, const promc_str_t *values, size_t n, double amount);
PROMC_API PROMC_NODISCARD int promc_gauge_labels_set(promc_gauge_t *g, const promc_str_t *values,
                                                     size_t n, double value);
PROMC_API PROMC_NODISCARD int promc_gauge_labels_add(promc_gauge_t *g, const promc_str_t *values,
                                                     size_t n, double amount);
PROMC_API PROMC_NODISCARD int promc_histogram_labels_observe(promc_histogram_t *h,
                                                             const promc_str_t *values, size_t n,
                                                             double value);
PROMC_API PROMC_NODISCARD int
promc_summary_labels_observe(promc_summary_t *s, const promc_str_t *values, size_t n, double value);

/* Removes the child with these label values: it is no longer exposed, its handle is no longer
 * valid, and its memory goes back to the allocator once no lookup or scrape running at the time
 * of the removal can still reach it (docs/threading.md).  Returns 0, PROMC_ENOENT (no such child),
 * PROMC_ENOLABELS, PROMC_ELABELCOUNT or PROMC_EINVAL (NULL metric, values NULL, or a value with a
 * length and a NULL pointer). Thread-safety: any thread, takes the metric's lock.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_metric_remove(promc_metric_t *m, const promc_str_t *values,
                                                  size_t n);

/* Sweeps a metric created with expire_seconds now: removes the children whose value has not
 * changed for that long, and returns how many.  0 for any other metric.
 * Thread-safety: any thread, takes the metric's lock.  Since: 0.2 */
PROMC_API size_t promc_metric_expire(promc_metric_t *m);

/* Removes every child, as promc_metric_remove() each.
 * Thread-safety: any thread, takes the metric's lock.  Since: 0.1 */
PROMC_API void promc_metric_clear(promc_metric_t *m);

/* ---- Counter ----------------------------------------------------------------------------------
 * inc adds 1.  Thread-safety: any thread, lock-free; never fails.  Since: 0.1 */
PROMC_API void promc_counter_inc(promc_counter_t *c);

/* Adds `amount`.  Returns 0, or PROMC_ENEGATIVE for a negative or NaN amount (value unchanged).
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API int promc_counter_add(promc_counter_t *c, double amount);

/* The current value (the sum of its cells).  Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API double promc_counter_value(const promc_counter_t *c);

/* The C form of client_python's count_exceptions(): returns `rc` unchanged and counts it when it is
 * negative (a failed call in the promc / libc convention):
 *     return promc_counter_count_errors(failures, do_work());
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API int promc_counter_count_errors(promc_counter_t *c, int rc);

/* ---- Gauge ------------------------------------------------------------------------------------
 * Thread-safety: any thread, lock-free; never fail.  Since: 0.1 */
PROMC_API void promc_gauge_inc(promc_gauge_t *g);
PROMC_API void promc_gauge_dec(promc_gauge_t *g);
PROMC_API void promc_gauge_add(promc_gauge_t *g, double amount);
PROMC_API void promc_gauge_sub(promc_gauge_t *g, double amount);
PROMC_API void promc_gauge_set(promc_gauge_t *g, double value);

/* Sets the gauge to the current Unix time in seconds (CLOCK_REALTIME).
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API void promc_gauge_set_to_current_time(promc_gauge_t *g);

/* The current value.  Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API double promc_gauge_value(const promc_gauge_t *g);

/* ---- Histogram and Summary --------------------------------------------------------------------
 * observe records one value: bucket count (value <= upper bound), _count and _sum.
 * Thread-safety: any thread, lock-free; never fail.  Since: 0.1 */
PROMC_API void promc_histogram_observe(promc_histogram_t *h, double value);

/* As promc_counter_add() / promc_histogram_observe(), recording an exemplar: the labels (a trace
 * ID, say), the amount or value, and the time now.  A counter child keeps its latest exemplar, a
 * histogram child one per bucket (the bucket the value falls in); they are written in
 * OpenMetrics (`x_total 5.0 # {trace_id="abc"} 1.0 1700000000.123456`) and left out of text
 * 0.0.4.  Label names follow the legacy rules, values must be UTF-8, and names and values
 * together at most 128 characters (OpenMetrics): PROMC_ELABELNAME, PROMC_ERESERVED, PROMC_EUTF8
 * or PROMC_ETOOBIG otherwise, and then nothing is counted.  PROMC_EINVAL for a NULL handle, a
 * negative or NaN amount, a NaN value; PROMC_ENOMEM when the first exemplar of a child finds no
 * memory for its slots (the update itself is counted).  Two exemplars written at the same
 * instant into one slot: one of them is dropped, never torn.  The plain update functions stay as
 * fast as they were; this path costs the label check and a copy.
 * Thread-safety: any thread, lock-free.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_counter_add_exemplar(promc_counter_t *c, double amount,
                                                         const promc_label_t *labels, size_t n);
PROMC_API PROMC_NODISCARD int promc_histogram_observe_exemplar(promc_histogram_t *h, double value,
                                                               const promc_label_t *labels,
                                                               size_t n);
PROMC_API void promc_summary_observe(promc_summary_t *s, double value);

/* Observations so far and their sum.  Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API uint64_t promc_histogram_count(const promc_histogram_t *h);
PROMC_API double promc_histogram_sum(const promc_histogram_t *h);
PROMC_API uint64_t promc_summary_count(const promc_summary_t *s);
PROMC_API double promc_summary_sum(const promc_summary_t *s);

/* Bucket bounds for opts.buckets, as client_golang's LinearBuckets and ExponentialBuckets make
 * them (where those panic, these return PROMC_EINVAL and leave `out` untouched):
 *   linear:      count bounds start, start + width, start + 2*width, ...; width > 0;
 *   exponential: count bounds start, start*factor, start*factor^2, ...; start > 0, factor > 1.
 * `out` holds `count` doubles; count >= 1; every argument finite.  Returns 0 or PROMC_EINVAL.
 * Thread-safety: any thread.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_buckets_linear(double *out, double start, double width,
                                                   size_t count);
PROMC_API PROMC_NODISCARD int promc_buckets_exponential(double *out, double start, double factor,
                                                        size_t count);

/* client_python's Histogram.DEFAULT_BUCKETS without +Inf: 14 bounds, static storage.
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API const double *promc_histogram_default_buckets(size_t *count);

/* ---- Timing and in-progress helpers (the C form of .time() and .track_inprogress()) ------------
 * A monotonic start time.  Thread-safety: async-signal-safe.  Since: 0.1 */
typedef struct promc_timer {
    int64_t start_ns;
} promc_timer_t;
PROMC_API promc_timer_t promc_timer_start(void);
/* Seconds elapsed since the timer started (CLOCK_MONOTONIC).
 * Thread-safety: async-signal-safe.  Since: 0.1 */
PROMC_API double promc_timer_elapsed(promc_timer_t t);

/* Observe into a histogram or summary, or set a gauge to, the seconds since `t`.
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API void promc_histogram_observe_since(promc_histogram_t *h, promc_timer_t t);
PROMC_API void promc_summary_observe_since(promc_summary_t *s, promc_timer_t t);
PROMC_API void promc_gauge_set_since(promc_gauge_t *g, promc_timer_t t);

/* What a timing or in-progress scope records when it ends (the macros below fill it in): the
 * seconds since `start` observed into `histogram` or `summary` or set into `gauge`, and
 * `inprogress` decremented.  Since: 0.2 */
typedef struct promc_scope {
    promc_timer_t start;
    promc_histogram_t *histogram;
    promc_summary_t *summary;
    promc_gauge_t *gauge;
    promc_gauge_t *inprogress;
} promc_scope_t;

/* Ends a scope: records what promc_scope_t says.  The macros call it; call it yourself only for a
 * scope you filled in by hand.  Thread-safety: any thread, lock-free.  Since: 0.2 */
PROMC_API void promc_scope_end(promc_scope_t *s);

/* Time a block: PROMC_HISTOGRAM_TIME(h) { work(); }, and track one in progress:
 * PROMC_GAUGE_TRACK_INPROGRESS(g) { work(); } (the gauge goes up on entry).  With GCC and Clang the
 * record is made however the block is left: at its end, by return, by goto, or by break or
 * continue (which, inside the block, leave the block itself: it is a one-pass loop; to leave an
 * enclosing loop, use the scope forms below).  Not when the block is left by longjmp().  With other
 * compilers the record is made only when the block ends normally.  The macros nest (one per line).
 * The names ending in `_` are the macros' own helpers.  Since: 0.1 (every way out since 0.2) */
#define PROMC_CAT2_(a, b) a##b
#define PROMC_CAT_(a, b)  PROMC_CAT2_(a, b)
#define PROMC_T_          PROMC_CAT_(promc_t_, __LINE__)
#define PROMC_ONCE_       PROMC_CAT_(promc_once_, __LINE__)
#if defined(__GNUC__) || defined(__clang__)
#define PROMC_SCOPE_CLEANUP_ __attribute__((cleanup(promc_scope_end), unused))
#define PROMC_SCOPE_BLOCK_(init)                                                                   \
    for (promc_scope_t PROMC_T_ PROMC_SCOPE_CLEANUP_ = init, *PROMC_ONCE_ = &PROMC_T_;             \
         PROMC_ONCE_; PROMC_ONCE_ = NULL)
#else
#define PROMC_SCOPE_BLOCK_(init)                                                                   \
    for (promc_scope_t PROMC_T_ = init, *PROMC_ONCE_ = &PROMC_T_; PROMC_ONCE_;                     \
         promc_scope_end(&PROMC_T_), PROMC_ONCE_ = NULL)
#endif
#define PROMC_HISTOGRAM_TIME(h)                                                                    \
    PROMC_SCOPE_BLOCK_(((promc_scope_t){promc_timer_start(), (h), NULL, NULL, NULL}))
#define PROMC_SUMMARY_TIME(s)                                                                      \
    PROMC_SCOPE_BLOCK_(((promc_scope_t){promc_timer_start(), NULL, (s), NULL, NULL}))
#define PROMC_GAUGE_TIME(g)                                                                        \
    PROMC_SCOPE_BLOCK_(((promc_scope_t){promc_timer_start(), NULL, NULL, (g), NULL}))
#define PROMC_GAUGE_TRACK_INPROGRESS(g)                                                            \
    PROMC_SCOPE_BLOCK_(                                                                            \
        ((promc_scope_t){(promc_gauge_inc(g), promc_timer_start()), NULL, NULL, NULL, (g)}))

#if defined(__GNUC__) || defined(__clang__)
/* The scope forms, GCC and Clang only: a declaration that records when the enclosing scope ends,
 * however it ends (not by longjmp()), and leaves break and continue to the enclosing loop:
 *     while (next(&job)) { PROMC_TIME_SCOPE_HISTOGRAM(h); if (skip(job)) continue; run(job); }
 * Since: 0.2 */
#define PROMC_TIME_SCOPE_HISTOGRAM(h)                                                              \
    promc_scope_t PROMC_T_ PROMC_SCOPE_CLEANUP_ = {promc_timer_start(), (h), NULL, NULL, NULL}
#define PROMC_TIME_SCOPE_SUMMARY(s)                                                                \
    promc_scope_t PROMC_T_ PROMC_SCOPE_CLEANUP_ = {promc_timer_start(), NULL, (s), NULL, NULL}
#define PROMC_TIME_SCOPE_GAUGE(g)                                                                  \
    promc_scope_t PROMC_T_ PROMC_SCOPE_CLEANUP_ = {promc_timer_start(), NULL, NULL, (g), NULL}
#define PROMC_INPROGRESS_SCOPE(g)                                                                  \
    promc_scope_t PROMC_T_ PROMC_SCOPE_CLEANUP_ = {(promc_gauge_inc(g), promc_timer_start()),      \
                                                   NULL, NULL, NULL, (g)}
#endif

/* ---- Info -------------------------------------------------------------------------------------
 * Replaces the info labels (copied).  Names follow the label-name rules and must not repeat the
 * metric's own label names.  Returns 0, PROMC_ELABELNAME, PROMC_ERESERVED, PROMC_EOVERLAP or
 * PROMC_ENOMEM (the old labels kept).
 * Thread-safety: any thread, takes the metric's lock.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_info_set(promc_info_t *i, const promc_label_t *labels,
                                             size_t n);

/* ---- Enum -------------------------------------------------------------------------------------
 * Selects a state by its index in opts.states.  Returns 0 or PROMC_ENOENT (index out of range).
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_enum_set(promc_enum_t *e, size_t state);

/* Selects a state by name.  Returns 0 or PROMC_ENOENT.
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_enum_set_state(promc_enum_t *e, const char *state);

/* The index of the current state.  Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API size_t promc_enum_get(const promc_enum_t *e);

#ifdef __cplusplus
}
#endif
#endif
