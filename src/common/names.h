/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the character rules for metric names, label names, units and sample suffixes, the
 * unit-suffix rule, and the order of label names.  Every layer that validates or sorts a name uses
 * these; no rule is written anywhere else. */
#ifndef PROMC_COMMON_NAMES_H
#define PROMC_COMMON_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* A metric or family name: [a-zA-Z_:][a-zA-Z0-9_:]*.  `what` starts the message ("metric name",
 * "collector family").  Returns 0 or PROMC_ENAME with the offending character and its offset. */
int promc__name_check_metric(const char *what, const char *name);

/* A label name: [a-zA-Z_][a-zA-Z0-9_]*, without the reserved "__" prefix.  Returns 0,
 * PROMC_ELABELNAME (with character and offset) or PROMC_ERESERVED. */
int promc__name_check_label(const char *name, size_t len);

/* The same rules, or (legacy false) Prometheus 3's: any non-empty valid UTF-8 without NUL
 * (PROMC_EUTF8 with the byte offset otherwise), the __ prefix still reserved for labels. */
int promc__name_check_metric_as(const char *what, const char *name, bool legacy);
int promc__name_check_label_as(const char *name, size_t len, bool legacy);

/* Whether a name keeps the legacy character rules (and may be written as it is). */
bool promc__name_legacy_metric(const char *p, size_t n);
bool promc__name_legacy_label(const char *p, size_t n);

/* A unit: [a-zA-Z0-9_:]* ("" is no unit).  `owner` names the metric in the message.  Returns 0
 * or PROMC_EUNIT. */
int promc__name_check_unit(const char *owner, const char *unit);

/* A sample suffix ("_total", "_bucket", "" ...): [a-zA-Z0-9_:]*.  Returns 0 or PROMC_ENAME. */
int promc__name_check_suffix(const char *owner, const char *suffix);

/* Whether `name` (len bytes) already ends with "_" + unit, in which case the unit is not appended
 * again (client_python's rule for metrics and for custom families alike). */
bool promc__name_has_unit(const char *name, size_t len, const char *unit);

/* "ns_subsystem_name" as client_python joins it (empty or NULL parts left out), a counter's
 * trailing _total dropped; `extra` more bytes are allocated for the caller to append (a unit).
 * Sets *out (malloc'ed) and returns 0, or PROMC_ENOMEM. */
int promc__name_join(const char *ns, const char *subsystem, const char *name, bool counter,
                     size_t extra, char **out);

/* The order of label names in the output: bytewise, a prefix first.  <0, 0 or >0. */
int promc__name_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
