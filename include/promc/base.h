/* SPDX-License-Identifier: Apache-2.0 */
/* promc — base types every module uses: strings with a length, labels, and the opaque handles that
 * cross module boundaries. */
#ifndef PROMC_BASE_H
#define PROMC_BASE_H

#include <stddef.h>
#include <promc/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A string with its length: label values may hold any bytes, NUL included.  Since: 0.1 */
typedef struct promc_str {
    const char *ptr;
    size_t len;
} promc_str_t;

/* promc_str_t of a string literal, length without the terminating NUL.  Since: 0.1 */
#define PROMC_STR(lit) ((promc_str_t){(lit), sizeof(lit) - 1})

/* promc_str_t of a NUL-terminated string (NULL gives the empty string); the bytes are borrowed.
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API promc_str_t promc_str(const char *s);

/* A label: name and value.  Since: 0.1 */
typedef struct promc_label {
    promc_str_t name;
    promc_str_t value;
} promc_label_t;

/* A registry of metrics and collectors (<promc/registry.h>).  Since: 0.1 */
typedef struct promc_registry promc_registry_t;

/* Any metric, whatever its type (<promc/metric.h>).  Since: 0.1 */
typedef struct promc_metric promc_metric_t;

/* The emitter a custom collector writes its families to (<promc/registry.h>, <promc/expose.h>).
 * Since: 0.1 */
typedef struct promc_emit promc_emit_t;

#ifdef __cplusplus
}
#endif
#endif
