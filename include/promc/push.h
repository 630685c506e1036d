/* SPDX-License-Identifier: Apache-2.0 */
/* promc — pushing a registry to a Prometheus Pushgateway, for batch jobs and cron jobs that end
 * before Prometheus could scrape them.
 *
 * The group is `job` plus the grouping labels, in the Pushgateway's URL form
 * (/metrics/job/<job>/<name>/<value>...): a value with a '/' is sent base64url-encoded under
 * `<name>@base64`, an empty one as `<name>@base64/=`, others percent-encoded, as client_golang's
 * push package sends them.  The body is text 0.0.4.  HTTP is libcurl's. */
#ifndef PROMC_PUSH_H
#define PROMC_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <promc/base.h>
#include <promc/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where and how to push.  Zero-initialise, then set url and job at least.  Since: 0.2 */
typedef struct promc_push_opts {
    const char *url; /* the Pushgateway, "http://pushgateway:9091" (a path prefix is kept) */
    const char *job; /* the job label of the group; required, non-empty */
    const promc_label_t *grouping; /* more grouping labels ("instance", ...), in URL order */
    size_t grouping_count;
    promc_registry_t *registry; /* pushed by promc_push and promc_push_add; NULL: the default */
    double timeout_seconds;     /* the whole request, connecting included; 0: 10 */
    const char *username;       /* basic auth when set (with password) */
    const char *password;
    const char *bearer_token; /* "Authorization: Bearer ..." when set (not with username) */
    const char *ca_file;      /* https: the CA bundle that verifies the server; NULL: system's */
    const char *cert_file;    /* https: a client certificate (PEM), with key_file */
    const char *key_file;
    bool insecure_skip_verify; /* https: no verification of the server (tests only) */
} promc_push_opts_t;

/* PUT: replaces every metric of the group with the registry's.  Returns 0; PROMC_EINVAL (no url
 * or job, username without password, username with bearer_token), PROMC_ELABELNAME /
 * PROMC_ERESERVED / PROMC_EUTF8 for a bad grouping label, PROMC_ECONNECT (the server cannot be
 * reached), PROMC_ETIMEDOUT, PROMC_EHTTP (the Pushgateway's status and its error text in
 * promc_last_error(), such as a 400 for a metric whose type conflicts), PROMC_ESYS for another
 * transport failure (TLS: the message has libcurl's words), or the exposition's own error.
 * Thread-safety: any thread.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_push(const promc_push_opts_t *opts);

/* POST: replaces only the group's metrics that have the same names as the registry's.  Returns as
 * promc_push().  Thread-safety: any thread.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_push_add(const promc_push_opts_t *opts);

/* DELETE: removes the whole group (the registry is not read).  Returns as promc_push().
 * Thread-safety: any thread.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_push_delete(const promc_push_opts_t *opts);

#ifdef __cplusplus
}
#endif
#endif
