/* SPDX-License-Identifier: Apache-2.0 */
/* promc — registries and custom collectors.
 *
 * A registry holds metrics and custom collectors in registration order and exposes them together.
 * Metrics join the default registry unless their options name another one (or ask for none). */
#ifndef PROMC_REGISTRY_H
#define PROMC_REGISTRY_H

#include <stdbool.h>
#include <promc/base.h>
#include <promc/errors.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The default registry, created on first use; never freed by the caller.
 * Returns NULL only when that first creation ran out of memory.
 * Thread-safety: any thread, lock-free (the first call creates it, once).  Since: 0.1 */
PROMC_API promc_registry_t *promc_registry_default(void);

/* A new empty registry.  Returns 0 or PROMC_ENOMEM.  Thread-safety: any thread.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_registry_new(promc_registry_t **out);

/* Frees the registry, unregistering (not freeing) what it holds.  NULL and the default registry are
 * a no-op.  No scrape of it may be in progress.  Thread-safety: not thread-safe.  Since: 0.1 */
PROMC_API void promc_registry_free(promc_registry_t *r);

/* Registers a metric created with no_register (or unregistered since).  Returns 0,
 * PROMC_EDUPLICATE (one of its names is taken), PROMC_ESTATE (already in a registry) or
 * PROMC_ENOMEM.  Thread-safety: any thread, takes the registry lock.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_registry_register(promc_registry_t *r, promc_metric_t *m);

/* Removes a metric from its registry; it is no longer exposed and its names are free.  Returns 0
 * or PROMC_ENOENT.  Thread-safety: any thread, takes the registry lock.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_registry_unregister(promc_registry_t *r, promc_metric_t *m);

/* Whether counters, histograms and summaries expose their _created sample (default: true, as
 * client_python does).  Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API void promc_registry_set_created(promc_registry_t *r, bool enabled);

/* Labels that every sample of the registry carries, as client_golang's WrapRegistererWith gives
 * them (service="checkout", say): each metric created for this registry afterwards gets them as
 * const labels, and collectors' samples get them at each scrape.  Copied.  Set once, before
 * anything is registered (the promhttp_* metrics of a server count): PROMC_ESTATE otherwise.  A
 * metric or collector sample that has a label of the same name is refused with PROMC_ELABELNAME
 * (at creation, or in the scrape).  Returns 0, PROMC_EINVAL, PROMC_ELABELNAME (bad or repeated
 * name), PROMC_ERESERVED, PROMC_EUTF8, PROMC_ESTATE or PROMC_ENOMEM.
 * Thread-safety: any thread, takes the registry lock.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int
promc_registry_set_const_labels(promc_registry_t *r, const promc_label_t *labels, size_t n);

/* Metric and label names may be any non-empty valid UTF-8 (http.server.requests), as in
 * Prometheus 3 and client_golang 1.21+; with legacy set, metrics created for this registry
 * afterwards (and its collectors' families, from the next scrape) keep the old rules instead,
 * [a-zA-Z_:][a-zA-Z0-9_:]* for metrics and [a-zA-Z_][a-zA-Z0-9_]* for labels, for names that every
 * old scraper reads unchanged.  Names outside the legacy set are written as the scrape's escaping
 * says (promc_escaping_t).  Thread-safety: any thread, lock-free.  Since: 0.2 */
PROMC_API void promc_registry_set_legacy_names(promc_registry_t *r, bool legacy);

/* The limit of children for the labelled metrics of this registry whose max_children is 0 (see
 * promc_metric_opts_t); 0, the initial value, is unlimited.  Takes effect at each metric's next
 * new label set.  Thread-safety: any thread, lock-free.  Since: 0.2 */
PROMC_API void promc_registry_set_max_children(promc_registry_t *r, size_t max);

/* ---- Custom collectors ------------------------------------------------------------------------
 * A collector is a callback run at every scrape that emits families and their samples.  It runs on
 * the scraping thread, possibly on several at once; it must not call into the registry that is
 * scraping it.  The emitter it is handed, promc_emit_t, is declared in <promc/base.h> and written
 * with the functions of <promc/expose.h>.  Since: 0.1 */
typedef struct promc_collector promc_collector_t;

/* Returns 0, or a negative code to abort the scrape (the code is passed up).  Since: 0.1 */
typedef int (*promc_collect_fn)(void *ud, promc_emit_t *e);

/* Creates a collector.  `names` lists the sample names it produces (for duplicate detection and
 * name[] filtering; NULL/0 if unknown).  Strings copied.  Returns 0 or PROMC_ENOMEM/PROMC_EINVAL.
 * Thread-safety: any thread.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_collector_new(promc_collector_t **out, promc_collect_fn fn,
                                                  void *ud, const char *const *names, size_t n);

/* Unregisters (if registered) and frees a collector; NULL is a no-op.
 * Thread-safety: any thread, takes the registry lock.  Since: 0.1 */
PROMC_API void promc_collector_free(promc_collector_t *c);

/* Register / unregister a collector.  Returns as promc_registry_register().
 * Thread-safety: any thread, takes the registry lock.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_registry_register_collector(promc_registry_t *r,
                                                                promc_collector_t *c);
PROMC_API PROMC_NODISCARD int promc_registry_unregister_collector(promc_registry_t *r,
                                                                  promc_collector_t *c);

#ifdef __cplusplus
}
#endif
#endif
