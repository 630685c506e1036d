/* SPDX-License-Identifier: Apache-2.0 */
/* promc — the process collector: the standard process_* metrics of the calling process.
 *
 * Read from Linux /proc/self and getrlimit() at every scrape, with the names and HELP texts of
 * client_python's ProcessCollector (process_virtual_memory_max_bytes and process_threads, which it
 * lacks, as client_golang and the Rust client write them):
 *   process_cpu_seconds_total          counter  user + system CPU time
 *   process_open_fds                   gauge
 *   process_max_fds                    gauge    soft RLIMIT_NOFILE
 *   process_virtual_memory_bytes       gauge
 *   process_virtual_memory_max_bytes   gauge    soft RLIMIT_AS
 *   process_resident_memory_bytes      gauge
 *   process_start_time_seconds         gauge    since the Unix epoch
 *   process_threads                    gauge
 * A value that cannot be read is left out, never made up.  An unlimited rlimit is exposed as
 * RLIM_INFINITY (1.8446744073709552e+19), as client_golang does.  On systems other than Linux the
 * collector emits nothing. */
#ifndef PROMC_PROCESS_H
#define PROMC_PROCESS_H

#include <promc/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a process collector, not registered (register it with
 * promc_registry_register_collector(); free it with promc_collector_free()).  Returns 0 or
 * PROMC_ENOMEM.  Thread-safety: any thread.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_process_collector_new(promc_collector_t **out);

/* Creates a process collector and registers it in `r` (NULL: the default registry).  `out` may be
 * NULL when the caller never frees it (it then lives as long as the registry).  Returns 0,
 * PROMC_ENOMEM or PROMC_EDUPLICATE (the registry already exposes a process_* name; nothing is
 * left registered then).  Thread-safety: any thread, takes the registry lock.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_process_collector_register(promc_registry_t *r,
                                                               promc_collector_t **out);

#ifdef __cplusplus
}
#endif
#endif
