/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: fork() safety for the library's locks, taken in one documented order.
 *
 * Each module that holds a lock registers handlers with promc__atfork_add() and a level.  Around
 * fork() the prepare handlers run in ascending level (outer locks first: a module whose lock is
 * held while another's is taken has the lower level), and the parent and child handlers in
 * descending level, after which every lock is free again on both sides.  The order
 * (docs/threading.md): 10 the HTTP server's shared promhttp_* metrics   (nests registry and metric
 * locks) 20 the list of registries, then every registry   (leaf to the levels above) 30 the list of
 * metrics, then every metric        (info labels use the metric's lock) 40 the process collector's
 * /proc descriptor 50 the reclamation reader pool 60 the counter thread slots One pthread_atfork()
 * registration runs them all. */
#ifndef PROMC_COMMON_FORK_H
#define PROMC_COMMON_FORK_H

enum {
    PROMC__FORK_HTTP = 10,
    PROMC__FORK_REGISTRY = 20,
    PROMC__FORK_METRIC = 30,
    PROMC__FORK_PROCESS = 40,
    PROMC__FORK_RECLAIM = 50,
    PROMC__FORK_SLOTS = 60,
};

/* Registers a module's handlers (any may be NULL).  Returns 0, or -1 when the table is full or
 * pthread_atfork() failed (then the module's locks are not fork-safe). */
int promc__atfork_add(int level, void (*prepare)(void), void (*parent)(void), void (*child)(void));

#endif
