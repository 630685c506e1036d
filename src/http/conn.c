/* SPDX-License-Identifier: Apache-2.0 */
/* Connection accounting.  evhttp 2.1 has no connection cap and no hook at accept time that sees
 * the connection object, so the server tracks connections itself: evhttp asks our bufferevent
 * callback for each accepted connection's bufferevent; we create it, take an extra reference and
 * queue it.  A callback that we activate from there runs later in the same loop iteration, after
 * evhttp has wrapped the bufferevent in its connection, and reads the connection back as the
 * bufferevent's callback argument, then sets a close callback on it.  The extra reference keeps
 * the bufferevent readable even if evhttp freed the connection in between (its callbacks are then
 * cleared, which is how we notice).  With the count the worker stops accepting at its share of
 * max_connections; with the list, kept most recently active first, it closes the longest-idle
 * connection to admit a newcomer when it is at the cap (or out of descriptors), closes idle
 * connections when the server stops, and closes a connection whose request has begun arriving but
 * whose headers are not complete within header_timeout_seconds (a slowloris client). */
#include "http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "alloc.h"
#include "clock.h"

#define ACCEPT_BACKOFF_MS 50 /* pause after accept() failed (EMFILE and the like) */

#define INPUT_SLACK 4096 /* unread input per connection: at most max_request_bytes + this */

static void list_push(promc__http_conn_t **head, promc__http_conn_t *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head)
        (*head)->prev = c;
    *head = c;
}

static void list_unlink(promc__http_conn_t **head, promc__http_conn_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        *head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void live_push(promc__http_worker_t *w, promc__http_conn_t *c)
{
    list_push(&w->live, c);
    if (w->live_tail == NULL)
        w->live_tail = c;
}

static void live_unlink(promc__http_worker_t *w, promc__http_conn_t *c)
{
    if (w->live_tail == c)
        w->live_tail = c->prev;
    list_unlink(&w->live, c);
}

static bool any_idle(const promc__http_worker_t *w);

/* A worker paused at its cap accepts again once a connection could make room. */
static void recheck_cap(promc__http_worker_t *w)
{
    if (w->paused_cap && (w->nconns <= w->srv->conns_per_worker || any_idle(w))) {
        w->paused_cap = false;
        promc__http_update_listener(w);
    }
}

static void release_conn(promc__http_worker_t *w, promc__http_conn_t *c)
{
    promc_http_server_t *srv = w->srv;
    /* The descriptor may be closed already, and given to a connection of another worker, which
     * has stored itself: only our own entry is cleared. */
    if (c->fd >= 0 && (size_t)c->fd < srv->conn_by_fd_len) {
        promc__http_conn_t *self = c;
        atomic_compare_exchange_strong_explicit(&srv->conn_by_fd[c->fd], &self, NULL,
                                                memory_order_relaxed, memory_order_relaxed);
    }
    promc__free(c);
    w->nconns--;
    recheck_cap(w);
}

/* Takes on_input_change off the input buffer: before the bufferevent can outlive `c`. */
static void detach_input(promc__http_conn_t *c)
{
    if (c->in_cb) {
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
        c->in_cb = NULL;
    }
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    promc__http_conn_t *c = arg;
    promc__http_worker_t *w = c->w;
    detach_input(c); /* evhttp frees the bufferevent next, unless a flush still holds it */
    live_unlink(w, c);
    release_conn(w, c);
}

/* The input cap, set on demand.  evhttp keeps reading while it writes a response (to notice a
 * close), with no limit: a client that pipelines requests and never reads the answers would
 * make the input grow without bound.  A read high-watermark caps it, and must stay above the
 * header cap so that an oversized header is still seen and answered.  But libevent re-adds the
 * read event, timeout and all, on every change of a watermarked input buffer: six times for a
 * small request, a tenth of the server's user time.  So the mark is set only while unread input
 * reaches what one read brings (libevent reads at most 4096 bytes at a time), and taken off when
 * the input is empty again: ordinary requests never meet it, a flood meets it at once. */
static void on_input_change(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
    promc__http_conn_t *c = arg;
    size_t len = evbuffer_get_length(in);
    promc__http_worker_t *w = c->w;
    if (len > 0 && c->evcon != NULL) {
        /* Activity: most recently active first.  The first bytes of a request start its clock. */
        if (w->live != c) {
            live_unlink(w, c);
            live_push(w, c);
        }
        if (c->header_deadline_ns == 0 && info->n_added > 0)
            c->header_deadline_ns =
                promc__now_mono_ns() + (int64_t)(w->srv->header_timeout_seconds * 1e9);
    }
    if (!c->input_capped && len >= INPUT_SLACK) {
        c->input_capped = true;
        bufferevent_setwatermark(c->bev, EV_READ, 0, c->w->srv->max_request_bytes + INPUT_SLACK);
    } else if (c->input_capped && len == 0) {
        c->input_capped = false;
        bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
    }
}

static bool sending(const promc__http_conn_t *c);

/* Whether a connection could be closed to admit the next one. */
static bool any_idle(const promc__http_worker_t *w)
{
    for (const promc__http_conn_t *c = w->live_tail; c != NULL; c = c->prev)
        if (!sending(c))
            return true;
    return false;
}

/* evhttp's hook for the bufferevent of a new connection: see the file comment. */
struct bufferevent *promc__http_on_new_bev(struct event_base *base, void *arg)
{
    promc__http_worker_t *w = arg;
    /* A plain one without BEV_OPT_CLOSE_ON_FREE, as evhttp makes its own: evhttp closes the
     * socket itself, after its shutdown(), so the descriptor cannot be reused by another thread
     * in between.  (A TLS one closes it later still: tls.c.) */
    struct bufferevent *bev = promc__http_secure_bev(w, base);
    if (bev == NULL)
        return NULL;
    /* Allocated per connection rather than max_connections of them up front: an idle server
     * holds none (1024 of them were 40 KB per server). */
    promc__http_conn_t *c = promc__malloc(sizeof *c);
    if (c == NULL) {
        /* Out of memory: served, but neither counted nor drained at stop, and its input capped
         * for good (see on_input_change). */
        bufferevent_setwatermark(bev, EV_READ, 0, w->srv->max_request_bytes + INPUT_SLACK);
        return bev;
    }
    c->w = w;
    c->bev = bev;
    c->evcon = NULL;
    c->input_capped = false;
    c->fd = -1;
    c->header_deadline_ns = 0;
    c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input_change, c);
    if (c->in_cb == NULL) {
        c->input_capped = true; /* never taken off: nothing watches the input */
        bufferevent_setwatermark(bev, EV_READ, 0, w->srv->max_request_bytes + INPUT_SLACK);
    }
    bufferevent_incref(bev);
    list_push(&w->pending, c);
    /* Past the cap the longest-idle connection makes room; only when every connection is new
     * or busy sending does the worker stop accepting (at cap + 1), until one closes or goes
     * idle (promc__http_recheck_cap). */
    if (++w->nconns > w->srv->conns_per_worker && !promc__http_evict_idle(w)) {
        w->paused_cap = true;
        promc__http_update_listener(w); /* evconnlistener stops its accept loop when disabled */
    }
    event_active(w->post_accept_ev, EV_TIMEOUT, 1);
    return bev;
}

void promc__http_resolve_pending(promc__http_worker_t *w)
{
    promc__http_conn_t *c;
    while ((c = w->pending) != NULL) {
        list_unlink(&w->pending, c);
        void *arg = NULL;
        bufferevent_getcb(c->bev, NULL, NULL, NULL, &arg);
        struct evhttp_connection *evcon = arg;
        if (evcon != NULL && evhttp_connection_get_bufferevent(evcon) == c->bev) {
            c->evcon = evcon;
            evhttp_connection_set_closecb(evcon, on_conn_close, c);
            live_push(w, c);
            c->fd = (int)bufferevent_getfd(c->bev);
            promc_http_server_t *srv = w->srv;
            if (srv->tls && c->fd >= 0) {
                /* OpenSSL's bufferevent writes a response as several records (headers, body),
                 * each its own segment: with Nagle the second waits for the client's delayed ACK
                 * of the first, 40 ms a response. */
                int one = 1;
                (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            }
            if (c->fd >= 0 && (size_t)c->fd < srv->conn_by_fd_len)
                atomic_store_explicit(&srv->conn_by_fd[c->fd], c, memory_order_relaxed);
            /* Bytes that came with the connection count from now; on a TLS connection the
             * handshake and the first request's headers count from the accept. */
            if (srv->tls || evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
                c->header_deadline_ns =
                    promc__now_mono_ns() + (int64_t)(srv->header_timeout_seconds * 1e9);
            bufferevent_decref(c->bev); /* evhttp's reference remains */
        } else {
            /* evhttp failed to set the connection up.  If it had taken the bufferevent it has
             * freed it (dropping its reference); if not, ours are both references. */
            struct bufferevent *bev = c->bev;
            detach_input(c);
            if (bufferevent_decref(bev) == 0)
                bufferevent_free(bev);
            release_conn(w, c);
        }
    }
    recheck_cap(w);
}

void promc__http_on_post_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    promc__http_resolve_pending(arg);
}

/* Closes a live connection now. */
static void close_conn(promc__http_worker_t *w, promc__http_conn_t *c)
{
    /* evhttp_connection_free() runs the close callback only for a connection it still deems
     * connected; taking the callback off and accounting here covers both cases. */
    evhttp_connection_set_closecb(c->evcon, NULL, NULL);
    detach_input(c);
    evhttp_connection_free(c->evcon);
    live_unlink(w, c);
    release_conn(w, c);
}

static bool sending(const promc__http_conn_t *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev)) != 0;
}

/* Closes every connection that is not sending a response (for a stopping worker). */
void promc__http_close_idle(promc__http_worker_t *w)
{
    promc__http_conn_t *c = w->live, *next;
    for (; c != NULL; c = next) {
        next = c->next;
        if (!sending(c))
            close_conn(w, c);
    }
}

bool promc__http_evict_idle(promc__http_worker_t *w)
{
    /* From the longest idle up; the walk passes only connections busy sending. */
    for (promc__http_conn_t *c = w->live_tail; c != NULL; c = c->prev) {
        if (!sending(c)) {
            close_conn(w, c);
            return true;
        }
    }
    return false;
}

void promc__http_request_arrived(promc__http_worker_t *w, struct evhttp_request *ev)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
    if (evcon == NULL)
        return;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    evutil_socket_t fd = bufferevent_getfd(bev);
    promc_http_server_t *srv = w->srv;
    if (fd < 0 || (size_t)fd >= srv->conn_by_fd_len)
        return;
    /* An open descriptor's entry is this worker's own connection (or none). */
    promc__http_conn_t *c = atomic_load_explicit(&srv->conn_by_fd[fd], memory_order_relaxed);
    if (c != NULL && c->bev == bev)
        c->header_deadline_ns = 0;
}

void promc__http_on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    promc__http_worker_t *w = arg;
    int64_t now = promc__now_mono_ns();
    promc__http_conn_t *c = w->live, *next;
    for (; c != NULL; c = next) {
        next = c->next;
        if (c->header_deadline_ns != 0 && now > c->header_deadline_ns && !sending(c))
            close_conn(w, c);
    }
    recheck_cap(w); /* a connection that was sending may be idle now */
    promc__http_secure_recheck(w->srv);
}

/* Forgets the connections evhttp has already freed without running their close callback (it
 * runs it only for those it deems connected): only our records remain. */
void promc__http_forget_conns(promc__http_worker_t *w)
{
    while (w->live) {
        promc__http_conn_t *c = w->live;
        live_unlink(w, c);
        release_conn(w, c);
    }
    if (w->pending)
        promc__http_resolve_pending(w);
}

/* ---- accept() failures (kept here, beside the eviction they use: listen.c calls nothing
 * in this file) ---- */

/* The worker whose loop runs on this thread: evconnlistener hands its error callback the
 * listener's callback argument, which evhttp has made its own (the struct evhttp). */
_Thread_local promc__http_worker_t *promc__http_current_worker;

void promc__http_on_accept_error(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    int e = errno;
    promc__http_worker_t *w = promc__http_current_worker;
    if (w == NULL || w->listener != lev)
        return;
    /* Out of descriptors: the longest-idle connection gives its descriptor to the next accept.
     * Out of memory, or nothing idle to close: the pending connection would wake the loop again
     * at once, so stop accepting for a moment instead of spinning. */
    if ((e == EMFILE || e == ENFILE) && promc__http_evict_idle(w))
        return;
    w->paused_err = true;
    promc__http_update_listener(w);
    struct timeval tv = promc__http_tv_of_ms(ACCEPT_BACKOFF_MS);
    event_add(w->resume_ev, &tv);
}

void promc__http_on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    promc__http_worker_t *w = arg;
    w->paused_err = false;
    promc__http_update_listener(w);
}
