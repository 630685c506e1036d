/* SPDX-License-Identifier: Apache-2.0 */
/* promc — test helpers: what client_golang's testutil gives Go programs.  Read one sample back,
 * compare a registry's exposition with the text a test expects, and lint the metrics the way
 * `promtool check metrics` does.  Each works on the exposition a scrape would write (collectors
 * included), so a test checks what Prometheus would see; none creates a child or changes a value.
 */
#ifndef PROMC_TESTUTIL_H
#define PROMC_TESTUTIL_H

#include <stddef.h>
#include <promc/expose.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The value of one sample as a text 0.0.4 scrape of `r` writes it.  `sample` is the full sample
 * name ("http_requests_total", "latency_seconds_bucket", "latency_seconds_count", "build_info");
 * `labels` its labels in any order, a bucket's le as written ("0.1", "+Inf"); n may be 0.  Returns
 * 0 and sets *value, PROMC_ENOENT when the scrape has no such sample (with these labels exactly),
 * PROMC_EINVAL, or what promc_registry_write() returns.
 * Thread-safety: any thread, takes the registry lock (as a scrape).  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_registry_sample_value(promc_registry_t *r, const char *sample,
                                                          const promc_label_t *labels, size_t n,
                                                          double *value);

/* Compares the exposition of `r` (opts as for promc_registry_write(); NULL: text 0.0.4, all) with
 * `expected`.  Returns 0 when they are equal byte for byte, PROMC_EMISMATCH when not (the message
 * names the first line that differs, with both versions), or what promc_registry_write()
 * returns.  Thread-safety: any thread, takes the registry lock (as a scrape).  Since: 0.2 */
PROMC_API PROMC_NODISCARD int
promc_registry_compare(promc_registry_t *r, const promc_expose_opts_t *opts, const char *expected);

/* Lints the metrics of `r` as promtool's `check metrics` does: a family without HELP, a counter
 * whose name does not end in _total, a non-counter whose name does, a camelCase metric or label
 * name, a unit that is not a base unit (milliseconds, kilobytes, ... instead of seconds, bytes),
 * and _count, _sum or _bucket on a family that is no histogram or summary.  Returns the number of
 * problems found (0: clean) and, when `report` is not NULL, sets *report to one line per problem
 * in promtool's words ("name problem\n"; free it with promc_buf_free()); or a negative code.
 * Thread-safety: any thread, takes the registry lock (as a scrape).  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_registry_lint(promc_registry_t *r, char **report);

#ifdef __cplusplus
}
#endif
#endif
