/* SPDX-License-Identifier: Apache-2.0 */
/* The web configuration at work in a server (opts.web_config_file): read at start, where any
 * fault stops the start; re-read when one of its files changes, checked once a second from the
 * workers' sweeps (one worker at a time), so that certificates and users rotate without a
 * restart; and the gate every request passes: the configured headers, then basic auth.
 *
 * Whether the server speaks TLS is settled at start, as in the toolkit.  A re-read that fails
 * leaves the server refusing, again as the toolkit does: requests get 500, TLS handshakes fail,
 * until the file is fixed.  Each worker keeps a reference to the configuration it uses and
 * swaps it when the server's generation moves on, so the common path takes no lock. */
#include "http_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/http.h>

#include "alloc.h"
#include "auth.h"
#include "clock.h"
#include "err.h"
#include "webconfig.h"

#define RECHECK_NS 900000000 /* under the sweep's second, so that every sweep may look */

static void server_log(promc_http_server_t *srv, bool error, const char *msg)
{
    if (srv->log_fn)
        srv->log_fn(srv->log_ud, error, msg);
    else
        fprintf(stderr, "promc: %s\n", msg);
}

int promc__http_secure_init(promc_http_server_t *srv, const char *path,
                            void (*log_fn)(void *, bool, const char *), void *log_ud)
{
    srv->log_fn = log_fn;
    srv->log_ud = log_ud;
    if (path == NULL || path[0] == '\0')
        return 0;
    if (pthread_mutex_init(&srv->webcfg_mu, NULL) != 0)
        return promc__err(PROMC_ESYS, "mutex");
    srv->webcfg_mu_init = true;
    srv->webcfg_path = promc__strdup(path);
    if (srv->webcfg_path == NULL)
        return promc__err(PROMC_ENOMEM, "web config path");
    int rc = promc__webcfg_load(path, &srv->webcfg);
    if (rc != 0)
        return rc;
    srv->tls = srv->webcfg->has_tls;
    if (srv->tls && (srv->refusing_ctx = promc__tls_ctx_refusing()) == NULL)
        return promc__err(PROMC_ENOMEM, "TLS context");
    srv->webcfg_checked_ns = promc__now_mono_ns();
    return 0;
}

void promc__http_secure_worker_free(promc__http_worker_t *w)
{
    promc__webcfg_unref(w->webcfg);
    w->webcfg = NULL;
    promc__auth_cache_free(w->auth);
    w->auth = NULL;
}

void promc__http_secure_free(promc_http_server_t *srv)
{
    promc__webcfg_unref(srv->webcfg);
    srv->webcfg = NULL;
    promc__tls_ctx_free(srv->refusing_ctx);
    srv->refusing_ctx = NULL;
    promc__free(srv->webcfg_path);
    srv->webcfg_path = NULL;
    if (srv->webcfg_mu_init)
        pthread_mutex_destroy(&srv->webcfg_mu);
    srv->webcfg_mu_init = false;
}

void promc__http_secure_recheck(promc_http_server_t *srv)
{
    if (srv->webcfg_path == NULL || pthread_mutex_trylock(&srv->webcfg_mu) != 0)
        return;
    int64_t now = promc__now_mono_ns();
    if (now - srv->webcfg_checked_ns < RECHECK_NS ||
        !promc__webcfg_changed(srv->webcfg, srv->webcfg_path)) {
        if (now - srv->webcfg_checked_ns >= RECHECK_NS)
            srv->webcfg_checked_ns = now;
        pthread_mutex_unlock(&srv->webcfg_mu);
        return;
    }
    srv->webcfg_checked_ns = now;
    promc__webcfg_t *next = NULL;
    char msg[1024];
    bool error = true;
    int rc = promc__webcfg_load(srv->webcfg_path, &next);
    if (rc == 0 && srv->tls && !next->has_tls) {
        snprintf(msg, sizeof msg,
                 "web config '%s': no longer has tls_server_config, which a server started "
                 "with TLS needs: handshakes fail until it has",
                 srv->webcfg_path);
        promc__webcfg_unref(next);
        next = promc__webcfg_failed(srv->webcfg_path, msg);
    } else if (rc != 0) {
        snprintf(msg, sizeof msg, "%s; requests get 500 until it is fixed", promc_last_error());
        next = promc__webcfg_failed(srv->webcfg_path, msg);
    } else {
        snprintf(msg, sizeof msg, "web config '%s' re-read", srv->webcfg_path);
        error = false;
    }
    if (next != NULL) {
        promc__webcfg_t *old = srv->webcfg;
        srv->webcfg = next;
        atomic_fetch_add_explicit(&srv->webcfg_gen, 1, memory_order_release);
        promc__webcfg_unref(old);
    }
    pthread_mutex_unlock(&srv->webcfg_mu);
    server_log(srv, error, msg);
}

/* The worker's configuration, the server's current one. */
static promc__webcfg_t *current(promc__http_worker_t *w)
{
    promc_http_server_t *srv = w->srv;
    unsigned gen = atomic_load_explicit(&srv->webcfg_gen, memory_order_acquire);
    if (w->webcfg == NULL || gen != w->webcfg_gen) {
        pthread_mutex_lock(&srv->webcfg_mu);
        promc__webcfg_t *c = srv->webcfg;
        promc__webcfg_ref(c);
        w->webcfg_gen = atomic_load_explicit(&srv->webcfg_gen, memory_order_relaxed);
        pthread_mutex_unlock(&srv->webcfg_mu);
        promc__webcfg_unref(w->webcfg);
        w->webcfg = c;
    }
    return w->webcfg;
}

struct bufferevent *promc__http_secure_bev(promc__http_worker_t *w, struct event_base *base)
{
    if (!w->srv->tls)
        return bufferevent_socket_new(base, -1, 0);
    promc__webcfg_t *c = current(w);
    return promc__tls_bev_new(base, c->ctx ? c->ctx : w->srv->refusing_ctx);
}

bool promc__http_secure_gate(promc_http_request_t *r)
{
    promc__http_worker_t *w = r->w;
    if (w->srv->webcfg_path == NULL)
        return true;
    promc__webcfg_t *c = current(w);
    if (c->error != NULL) {
        promc__http_answer_plain(r, 500, "Internal Server Error\n");
        return false;
    }
    for (size_t i = 0; i < c->nheaders; i++)
        (void)promc__http_set_header(r, c->header_names[i], c->header_values[i]);
    if (c->nusers == 0)
        return true;
    if (w->auth == NULL)
        w->auth = promc__auth_cache_new(); /* NULL when out of memory: nobody gets in */
    if (promc__auth_check(w->auth, c, promc_http_request_header(r, "Authorization")))
        return true;
    (void)promc__http_set_header(r, "WWW-Authenticate", "Basic");
    bool nosniff = false; /* http.Error's header, unless the configuration set it already */
    for (size_t i = 0; i < c->nheaders; i++)
        nosniff |= strcmp(c->header_names[i], "X-Content-Type-Options") == 0;
    if (!nosniff)
        (void)promc__http_set_header(r, "X-Content-Type-Options", "nosniff");
    promc__http_answer_plain(r, 401, "Unauthorized\n");
    return false;
}
