/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: native (sparse, exponential) histograms, client_golang's model.
 *
 * A value v > 0 falls in the bucket of index k with 2^((k-1)/2^schema) < v <= 2^(k/2^schema) (at
 * schema s, 2^s buckets per power of two; s from -4 to 8); negative values in the negative side by
 * |v|, and |v| <= the zero threshold in the zero bucket.  A native histogram child keeps two sets
 * of counts, hot and cold, as client_golang does: an observation takes the hot one with one atomic
 * add on `count_and_hot` (top bit: the hot index, the rest: observations started) and updates
 * it lock-free, its bucket (or zero bucket, or NaN count) last: the set's observations done are
 * the sum of those, so no separate done counter is needed.  A scrape (under `mtx`) flips the hot
 * bit, waits until the now-cold set has every observation started into it, reads it, and adds it
 * into the new hot set.  Buckets live in chunks of 64 counts, found through a directory of chunk
 * pointers per side: the first observation into a chunk allocates it (under `grow`, off the
 * common path), a directory that must cover more keys is replaced and the old one kept until the
 * child is freed, so an observer holding an old directory still counts into the live chunks.
 * Over max_buckets populated buckets, an observation takes `mtx` after it is done and reduces
 * them as client_golang does: a reset when min_reset_duration has passed, else a wider zero
 * bucket up to max_zero_threshold, else half the resolution (schema - 1). */
#ifndef PROMC_METRIC_NATIVE_H
#define PROMC_METRIC_NATIVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROMC__NATIVE_NONE INT32_MIN /* m->native_schema of a histogram without native buckets */

typedef struct promc__native promc__native_t;
struct promc_metric;

/* The schema for a bucket factor (> 1): the largest whose factor 2^(2^-schema) is <= it, within
 * -4..8, as client_golang's pickSchema. */
int32_t promc__native_schema_for(double factor);

/* A child's native counts for metric m (its bound_count classic buckets included).  NULL when out
 * of memory. */
promc__native_t *promc__native_new(const struct promc_metric *m);
void promc__native_free(promc__native_t *nh);

void promc__native_observe(promc__native_t *nh, double v);

/* Observations started so far, and the sum of the completed ones (approximate while observations
 * run). */
uint64_t promc__native_count(const promc__native_t *nh);
double promc__native_sum(const promc__native_t *nh);

typedef struct promc__native_span {
    int32_t offset;
    uint32_t length;
} promc__native_span_t;

typedef struct promc__native_side_snap {
    promc__native_span_t *spans;
    size_t n_spans;
    int64_t *deltas;
    size_t n_deltas;
} promc__native_side_snap_t;

/* One consistent reading: the count, the sum, the classic counts (not cumulative, bound_count of
 * them, +Inf last), and the native part with its spans and deltas as client_golang writes them. */
typedef struct promc__native_snap {
    uint64_t count;
    double sum;
    uint64_t *classic;
    int32_t schema;
    double zero_threshold;
    uint64_t zero_count;
    promc__native_side_snap_t pos, neg;
} promc__native_snap_t;

/* Takes the reading (waits for observations in flight, briefly).  Returns 0 or PROMC_ENOMEM;
 * free it with promc__native_snap_free() either way. */
int promc__native_snapshot(promc__native_t *nh, promc__native_snap_t *out);
void promc__native_snap_free(promc__native_snap_t *s);

/* For tests: the time source of the reset rule (nanoseconds; NULL: the monotonic clock). */
void promc__native_set_clock(promc__native_t *nh, int64_t (*now_ns)(void));

#endif
