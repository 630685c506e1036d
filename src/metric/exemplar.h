/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: exemplars (OpenMetrics), one slot per counter child or histogram bucket.
 *
 * A slot holds two fixed records (the label text already escaped and joined, the value and the
 * timestamp), each a seqlock.  A writer takes the slot with a compare-and-swap - one that finds
 * it taken drops its exemplar, which is a sample and may be dropped, rather than wait - fills the
 * record not shown and then shows it.  A scrape copies the shown record and keeps the copy only
 * if its sequence was even and unchanged around it, so a writer preempted while it writes
 * delays no scrape.  Every field is accessed atomically (relaxed, ordered by the
 * sequence's fences), so the copy races with nothing.  Slots are allocated on a child's first
 * exemplar (off the plain update path) and freed with the child. */
#ifndef PROMC_METRIC_EXEMPLAR_H
#define PROMC_METRIC_EXEMPLAR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <promc/base.h>

#define PROMC__EXEMPLAR_WORDS 80 /* 640 bytes of label text: 128 characters, escaped, joined */

typedef struct promc__exemplar_rec {
    _Atomic uint32_t seq; /* odd while written; 0: never written */
    _Atomic uint32_t len; /* bytes of text */
    _Atomic uint64_t value_bits;
    _Atomic int64_t ts_us; /* Unix time, microseconds */
    _Atomic uint64_t text[PROMC__EXEMPLAR_WORDS];
} promc__exemplar_rec_t;

/* Two records: a writer fills the one not shown, then shows it; a writer preempted in the middle
 * blocks no scrape, which reads the shown one. */
typedef struct promc__exemplar {
    _Atomic uint32_t writing; /* a writer holds the slot */
    _Atomic uint32_t shown;   /* the record scrapes read: 0 or 1 */
    promc__exemplar_rec_t rec[2];
} promc__exemplar_t;

/* A scrape's copy of a slot. */
typedef struct promc__exemplar_snap {
    double value;
    int64_t ts_us;
    size_t len;
    char text[PROMC__EXEMPLAR_WORDS * 8];
} promc__exemplar_snap_t;

/* Checks the labels (legacy names, UTF-8 values, at most 128 characters of names and values
 * together) and joins them escaped into text (PROMC__EXEMPLAR_WORDS * 8 bytes).  Returns 0 with
 * *len set, or PROMC_EINVAL, PROMC_ELABELNAME, PROMC_ERESERVED, PROMC_EUTF8, PROMC_ETOOBIG. */
int promc__exemplar_format(const promc_label_t *labels, size_t n, char *text, size_t *len);

/* Writes the record into the slot (dropped when another writer holds it). */
void promc__exemplar_store(promc__exemplar_t *slot, const char *text, size_t len, double value);

/* Copies the slot; false when it was never written or changed under the copy. */
bool promc__exemplar_load(const promc__exemplar_t *slot, promc__exemplar_snap_t *out);

/* The slots array of a child (count slots), allocated on first use and installed with a
 * compare-and-swap.  NULL when out of memory. */
promc__exemplar_t *promc__exemplar_slots(_Atomic(promc__exemplar_t *) *field, size_t count);

#endif
