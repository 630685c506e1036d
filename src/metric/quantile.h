/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: summary quantiles, client_golang's model.  Each summary child with quantiles keeps
 * age_buckets CKMS streams (targeted quantiles: the rank error of quantile q stays within
 * error * n), every observation going into all of them, the oldest answering a scrape and being
 * reset every max_age / age_buckets, so a scrape reflects about the last max_age.  As in
 * client_golang (beorn7/perks), a stream answers exactly from its buffer of 500 until that first
 * fills, then from the compressed samples.
 *
 * Observations do not take the child's lock: each goes into one of the child's stripes (chosen by
 * the thread's slot), a small buffer with a spinlock of its own that only threads sharing the
 * stripe contend for.  A full stripe (every 64 observations of a stripe) is merged into the
 * streams under the metric's lock, and a scrape merges every stripe first. */
#ifndef PROMC_METRIC_QUANTILE_H
#define PROMC_METRIC_QUANTILE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <promc/metric.h>

#define PROMC__Q_STRIPES   4
#define PROMC__Q_STRIPE    64  /* values a stripe holds before it is merged */
#define PROMC__Q_STREAMBUF 500 /* a stream's buffer, as perks */

typedef struct promc__q_sample {
    double value;
    double width; /* g */
    double delta;
} promc__q_sample_t;

typedef struct promc__q_stream {
    double buf[PROMC__Q_STREAMBUF];
    size_t nbuf;
    promc__q_sample_t *l; /* sorted samples */
    size_t nl, cap;
    double n; /* observations merged into l */
} promc__q_stream_t;

typedef struct promc__q_stripe {
    atomic_flag busy;
    unsigned n;
    double v[PROMC__Q_STRIPE];
    char pad[64];
} promc__q_stripe_t;

typedef struct promc__quantiles {
    promc__q_stripe_t stripes[PROMC__Q_STRIPES];
    /* The streams: under the metric's own lock, which fork() handling takes with every other
     * metric lock (fork.h), so a child process never inherits it held. */
    pthread_mutex_t *lock;
    const promc_quantile_t *targets; /* the metric's */
    size_t ntargets;
    size_t nstreams;
    size_t head;
    int64_t head_exp_ns; /* CLOCK_MONOTONIC: when the head stream is reset */
    int64_t stream_ns;
    promc__q_sample_t *tmp; /* a flush's second array (under the lock) */
    size_t tmp_cap;
    promc__q_stream_t streams[]; /* nstreams */
} promc__quantiles_t;

promc__quantiles_t *promc__q_new(const promc_quantile_t *targets, size_t ntargets, double max_age,
                                 unsigned age_buckets, pthread_mutex_t *lock);
void promc__q_free(promc__quantiles_t *q);
void promc__q_observe(promc__quantiles_t *q, unsigned slot, double v);
/* Merges the stripes, rotates the streams as due, and writes each target's value (NaN when the
 * window is empty) into out[ntargets].  Takes the child's lock. */
void promc__q_query(promc__quantiles_t *q, double *out);

#endif
