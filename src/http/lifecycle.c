/* SPDX-License-Identifier: Apache-2.0 */
/* The server's lifecycle: threads, event loops and stopping.  The server as a whole: one libevent
 * event loop per thread, each with its own listening socket on the shared port (SO_REUSEPORT, so
 * the kernel balances connections over the threads), evhttp for the protocol, and promc's handler
 * API on top.
 *
 * Event bases are created without libevent's locking: each one is touched only by its own thread
 * (and by the starting/stopping thread before the thread starts and after it is joined).  The only
 * way in from another thread is a pipe per worker, written by promc_http_stop().
 */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"

#if defined(__SANITIZE_THREAD__)
#define PROMC_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PROMC_UNDER_TSAN 1
#endif
#endif
#ifndef PROMC_UNDER_TSAN
#define PROMC_UNDER_TSAN 0
#endif

#define DEFAULT_HEADER_TIMEOUT_SECONDS 10.0
#define FD_RESERVE                     64u /* descriptors left to the rest of the process */
#define MAX_FD_TABLE                   ((size_t)1 << 20)
#define DEFAULT_TIMEOUT_SECONDS        30.0
#define DEFAULT_MAX_REQUEST_BYTES      16384u
#define MAX_THREADS                    256u
#define DRAIN_POLL_MS                  10 /* how often a stopping worker looks at its busy connections */

/* The default cap: every descriptor the process may open but FD_RESERVE (a few for a process
 * with the usual soft limit of 1024: 960).  Two servers in one process each take this cap; when
 * the descriptors run out first, accept() fails with EMFILE, and the longest-idle connection is
 * closed to make room just as at the cap. */
static unsigned default_max_connections(size_t fds)
{
    size_t n = fds > 2 * FD_RESERVE ? fds - FD_RESERVE : fds / 2;
    if (n < 16)
        n = 16;
    return n > 1000000 ? 1000000u : (unsigned)n;
}

/* ---- stopping ------------------------------------------------------------------------------- */

/* Closes every idle connection; ends the loop when none is left or the drain time is up. */
static void drain_step(promc__http_worker_t *w)
{
    promc__http_resolve_pending(w);
    promc__http_flush_written(w);
    promc__http_close_idle(w);
    int64_t left = atomic_load(&w->srv->drain_deadline_ns) - promc__now_mono_ns();
    if (w->live == NULL || left <= 0) {
        event_base_loopbreak(w->base);
        return;
    }
    long ms = (long)(left / 1000000) + 1;
    struct timeval tv = promc__http_tv_of_ms(ms < DRAIN_POLL_MS ? ms : DRAIN_POLL_MS);
    event_add(w->drain_ev, &tv);
}

static void on_drain_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    drain_step(arg);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    promc__http_worker_t *w = arg;
    char buf[16];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    if (!atomic_load(&w->srv->stopping) || w->draining)
        return;
    w->draining = true;
    promc__http_update_listener(w);
    if (w->bound) {
        evhttp_del_accept_socket(w->http, w->bound); /* frees the listener, closes the socket */
        w->bound = NULL;
        w->listener = NULL;
    }
    drain_step(w);
}

static void *worker_main(void *arg)
{
    promc__http_worker_t *w = arg;
    promc__http_current_worker = w;
    if (w->srv->sched_batch) {
        /* Best effort (see promc_http_opts_t): the thread keeps its policy when refused. */
        struct sched_param sp = {.sched_priority = 0};
        (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    }
    event_base_dispatch(w->base);
    promc__http_current_worker = NULL;
    return NULL;
}

/* Frees what worker_setup() built (any part of it), after its thread ended or never started. */
static void worker_teardown(promc__http_worker_t *w)
{
    w->tearing_down = true;
    if (w->http) {
        evhttp_free(w->http); /* closes the listener and every connection (on_conn_close) */
        w->http = NULL;
        w->bound = NULL;
        w->listener = NULL;
    }
    promc__http_forget_conns(w);
    promc__http_secure_worker_free(w);
    if (w->listen_fd >= 0) /* not yet handed to a listener */
        close(w->listen_fd);
    w->listen_fd = -1;
    promc__http_flush_written(w); /* their connections are gone: this only drops our references */
    if (w->wake_ev)
        event_free(w->wake_ev);
    if (w->post_accept_ev)
        event_free(w->post_accept_ev);
    if (w->drain_ev)
        event_free(w->drain_ev);
    if (w->resume_ev)
        event_free(w->resume_ev);
    if (w->flush_ev)
        event_free(w->flush_ev);
    if (w->sweep_ev)
        event_free(w->sweep_ev);
    if (w->base)
        event_base_free(w->base);
    if (w->wake[0] >= 0)
        close(w->wake[0]);
    if (w->wake[1] >= 0)
        close(w->wake[1]);
}

static int worker_setup(promc__http_worker_t *w)
{
    promc_http_server_t *srv = w->srv;
    if (pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) != 0)
        return promc__err(PROMC_ESYS, "pipe(): %s", strerror(errno));

    struct event_config *cfg = event_config_new();
    if (cfg == NULL)
        return promc__err(PROMC_ENOMEM, "event_config");
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
#if !PROMC_UNDER_TSAN
    /* evhttp turns read and write interest on and off several times per request; with the
     * changelist, epoll sees only the net change once per loop iteration (half the epoll_ctl
     * calls).  libevent warns against it with dup()ed descriptors: the server has none.
     * Under ThreadSanitizer it stays off: a deferred EPOLL_CTL_DEL for a socket this thread has
     * closed may name a descriptor number another thread has been given since; the kernel
     * answers ENOENT, which libevent ignores, but TSan reports the number's reuse as a race
     * (and clang 14's runtime then fails an internal check describing it). */
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
#endif
    w->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (w->base == NULL)
        return promc__err(PROMC_ESYS, "event_base_new failed");
    w->wake_ev = event_new(w->base, w->wake[0], EV_READ | EV_PERSIST, on_wake, w);
    w->post_accept_ev = event_new(w->base, -1, 0, promc__http_on_post_accept, w);
    w->drain_ev = event_new(w->base, -1, 0, on_drain_timer, w);
    w->resume_ev = event_new(w->base, -1, 0, promc__http_on_resume, w);
    w->flush_ev = event_new(w->base, -1, 0, promc__http_on_flush, w);
    w->sweep_ev = event_new(w->base, -1, EV_PERSIST, promc__http_on_sweep, w);
    struct timeval second = promc__http_tv_of_ms(1000);
    if (!w->wake_ev || !w->post_accept_ev || !w->drain_ev || !w->resume_ev || !w->flush_ev ||
        !w->sweep_ev || event_add(w->wake_ev, NULL) != 0 || event_add(w->sweep_ev, &second) != 0)
        return promc__err(PROMC_ENOMEM, "events");

    w->http = evhttp_new(w->base);
    if (w->http == NULL)
        return promc__err(PROMC_ENOMEM, "evhttp_new failed");
    evhttp_set_gencb(w->http, promc__http_on_request, w);
    evhttp_set_bevcb(w->http, promc__http_on_new_bev, w);
    evhttp_set_default_content_type(w->http, NULL);
    evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(w->http, (ev_ssize_t)srv->max_request_bytes);
    evhttp_set_max_body_size(w->http, (ev_ssize_t)srv->max_request_bytes);
    struct timeval tv = promc__http_tv_of_seconds(srv->timeout_seconds);
    evhttp_set_timeout_tv(w->http, &tv);

    w->bound = evhttp_accept_socket_with_handle(w->http, w->listen_fd);
    if (w->bound == NULL)
        return promc__err(PROMC_ENOMEM, "evhttp_accept_socket failed");
    w->listen_fd = -1; /* the listener owns it now */
    w->listener = evhttp_bound_socket_get_listener(w->bound);
    evconnlistener_set_error_cb(w->listener, promc__http_on_accept_error);
    w->listening = true;
    return 0;
}

static void server_free(promc_http_server_t *srv)
{
    if (srv->workers) {
        for (unsigned i = 0; i < srv->worker_count; i++)
            worker_teardown(&srv->workers[i]);
        promc__free(srv->workers);
    }
    promc_handler_free(srv->handler);
    promc__http_secure_free(srv);
    promc__free(srv->conn_by_fd);
    for (size_t i = 0; i < srv->route_count; i++)
        promc__free(srv->routes[i].path);
    promc__free(srv->routes);
    promc__free(srv);
}

static void signal_workers(promc_http_server_t *srv)
{
    for (unsigned i = 0; i < srv->worker_count; i++) {
        promc__http_worker_t *w = &srv->workers[i];
        if (w->started && w->wake[1] >= 0) {
            ssize_t n;
            do
                n = write(w->wake[1], "x", 1);
            while (n < 0 && errno == EINTR);
            /* EAGAIN: the pipe is full, so the worker is woken already. */
        }
    }
}

static void join_workers(promc_http_server_t *srv)
{
    for (unsigned i = 0; i < srv->worker_count; i++) {
        promc__http_worker_t *w = &srv->workers[i];
        if (w->started) {
            pthread_join(w->thread, NULL);
            w->started = false;
        }
    }
}

int promc_http_server_new(promc_http_server_t **out, const promc_http_opts_t *o)
{
    if (out == NULL || o == NULL)
        return promc__err(PROMC_EINVAL, "promc_http_server_new: NULL argument");
    if (o->port > 65535)
        return promc__err(PROMC_EINVAL, "port %u is above 65535", o->port);
    if (o->threads > MAX_THREADS)
        return promc__err(PROMC_EINVAL, "%u threads (at most %u)", o->threads, MAX_THREADS);
    if (o->timeout_seconds < 0 || o->timeout_seconds != o->timeout_seconds)
        return promc__err(PROMC_EINVAL, "timeout_seconds must be 0 or positive");
    if (o->header_timeout_seconds < 0 || o->header_timeout_seconds != o->header_timeout_seconds)
        return promc__err(PROMC_EINVAL, "header_timeout_seconds must be 0 or positive");

    promc_http_server_t *srv = promc__calloc(1, sizeof *srv);
    if (srv == NULL)
        return promc__err(PROMC_ENOMEM, "server");
    atomic_init(&srv->ready, !o->start_unready);
    atomic_init(&srv->stopping, false);
    atomic_init(&srv->drain_deadline_ns, 0);
    srv->builtin = !o->no_builtin;
    srv->worker_count = o->threads ? o->threads : 1;
    /* The descriptors this process may open decide the default cap, and size the table that
     * finds a request's connection. */
    struct rlimit nofile = {0, 0};
    size_t fds = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY
                     ? (size_t)nofile.rlim_cur
                     : (size_t)1 << 20;
    if (fds > MAX_FD_TABLE)
        fds = MAX_FD_TABLE;
    unsigned maxc = o->max_connections ? o->max_connections : default_max_connections(fds);
    srv->conns_per_worker = (maxc + srv->worker_count - 1) / srv->worker_count;
    srv->timeout_seconds = o->timeout_seconds > 0 ? o->timeout_seconds : DEFAULT_TIMEOUT_SECONDS;
    srv->header_timeout_seconds =
        o->header_timeout_seconds > 0 ? o->header_timeout_seconds : DEFAULT_HEADER_TIMEOUT_SECONDS;
    if (srv->header_timeout_seconds > srv->timeout_seconds)
        srv->header_timeout_seconds = srv->timeout_seconds;
    srv->conn_by_fd_len = fds;
    srv->conn_by_fd = promc__calloc(fds, sizeof *srv->conn_by_fd);
    if (srv->conn_by_fd == NULL) {
        promc__free(srv);
        return promc__err(PROMC_ENOMEM, "connection table");
    }
    srv->sched_batch = o->sched_batch;
    srv->max_request_bytes =
        o->max_request_bytes ? o->max_request_bytes : DEFAULT_MAX_REQUEST_BYTES;
    const char *address = (o->address && o->address[0]) ? o->address : "0.0.0.0";
    size_t n_builtin = 0;
    const promc_http_route_t *builtin =
        srv->builtin ? promc__http_builtin_routes(&n_builtin) : NULL;
    int rc = promc__http_routes_init(srv, o->routes, o->route_count, builtin, n_builtin);
    if (rc != 0)
        goto fail;

    if (srv->builtin) {
        srv->registry = o->registry ? o->registry : promc_registry_default();
        if (srv->registry == NULL) {
            rc = promc__err(PROMC_ENOMEM, "default registry");
            goto fail;
        }
        rc = promc_handler_new(
            &srv->handler,
            &(promc_handler_opts_t){.registry = srv->registry, .max_in_flight = o->max_in_flight});
        if (rc != 0)
            goto fail;
    }

    srv->workers = promc__calloc(srv->worker_count, sizeof *srv->workers);
    if (srv->workers == NULL) {
        rc = promc__err(PROMC_ENOMEM, "workers");
        goto fail;
    }
    for (unsigned i = 0; i < srv->worker_count; i++) {
        srv->workers[i].srv = srv;
        srv->workers[i].listen_fd = -1;
        srv->workers[i].wake[0] = srv->workers[i].wake[1] = -1;
    }
    /* The web configuration is read before the port is bound: a bad file leaves nothing
     * listening, not even for a moment. */
    rc = promc__http_secure_init(srv, o->web_config_file, o->log_fn, o->log_ud);
    if (rc != 0)
        goto fail;
    rc = promc__http_bind_all(srv, address, o->port);
    if (rc != 0)
        goto fail;
    for (unsigned i = 0; i < srv->worker_count; i++) {
        rc = worker_setup(&srv->workers[i]);
        if (rc != 0)
            goto fail;
    }

    /* The threads start with every signal blocked, so the application's signals go to its own
     * threads and a write to a closed connection cannot kill the process with SIGPIPE. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (unsigned i = 0; i < srv->worker_count; i++) {
        promc__http_worker_t *w = &srv->workers[i];
        int e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            rc = promc__err(PROMC_ESYS, "pthread_create: %s", strerror(e));
            atomic_store(&srv->drain_deadline_ns, promc__now_mono_ns());
            atomic_store(&srv->stopping, true);
            signal_workers(srv);
            join_workers(srv);
            goto fail;
        }
        w->started = true;
        (void)pthread_setname_np(w->thread, "promc-http");
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    *out = srv;
    return 0;

fail:
    server_free(srv);
    return rc;
}

unsigned promc_http_server_port(const promc_http_server_t *s)
{
    return s ? s->port : 0;
}

void promc_http_server_set_ready(promc_http_server_t *s, bool ready)
{
    if (s)
        atomic_store(&s->ready, ready);
}

static bool on_own_thread(const promc_http_server_t *s)
{
    pthread_t self = pthread_self();
    for (unsigned i = 0; i < s->worker_count; i++)
        if (s->workers[i].started && pthread_equal(self, s->workers[i].thread))
            return true;
    return false;
}

int promc_http_server_stop(promc_http_server_t *s, double drain_seconds)
{
    if (s == NULL || s->stopped)
        return 0;
    if (on_own_thread(s))
        return promc__err(PROMC_ESTATE,
                          "promc_http_server_stop called from the server's own thread");
    if (!(drain_seconds > 0))
        drain_seconds = 0;
    if (drain_seconds > 1e6)
        drain_seconds = 1e6;
    atomic_store(&s->drain_deadline_ns, promc__now_mono_ns() + (int64_t)(drain_seconds * 1e9));
    atomic_store(&s->ready, false);
    atomic_store(&s->stopping, true);
    signal_workers(s);
    join_workers(s);
    s->stopped = true;
    return 0;
}

void promc_http_server_free(promc_http_server_t *s)
{
    if (s == NULL || on_own_thread(s))
        return;
    if (promc_http_server_stop(s, 0) == 0) /* it fails only on the server's own thread */
        server_free(s);
}

int promc_http_web_config_check(const char *path)
{
    if (path == NULL)
        return promc__err(PROMC_EINVAL, "promc_http_web_config_check: NULL path");
    promc_http_server_t srv;
    memset(&srv, 0, sizeof srv);
    int rc = promc__http_secure_init(&srv, path, NULL, NULL);
    promc__http_secure_free(&srv);
    return rc;
}

/* ---- the names of 0.1 ----------------------------------------------------------------------- */

int promc_http_start(promc_http_server_t **out, const promc_http_opts_t *opts)
{
    return promc_http_server_new(out, opts);
}

unsigned promc_http_port(const promc_http_server_t *s)
{
    return promc_http_server_port(s);
}

void promc_http_set_ready(promc_http_server_t *s, bool ready)
{
    promc_http_server_set_ready(s, ready);
}

int promc_http_stop(promc_http_server_t *s, double drain_seconds)
{
    int rc = promc_http_server_stop(s, drain_seconds);
    if (rc == 0)
        promc_http_server_free(s);
    return rc;
}
