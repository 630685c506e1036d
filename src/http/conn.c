/* SPDX-License-Identifier: Apache-2.0 */
/* Connection accounting.  evhttp 2.1 has no connection cap and no hook at accept time that sees
 * the connection object, so the server tracks connections itself: evhttp asks our bufferevent
 * callback for each accepted connection's bufferevent; we create it, take an extra reference and
 * queue it.  A callback that we activate from there runs later in the same loop iteration, after
 * evhttp has wrapped the bufferevent in its connection, and reads the connection back as the
 * bufferevent's callback argument, then sets a close callback on it.  The extra reference keeps
 * the bufferevent readable even if evhttp freed the connection in between (its callbacks are then
 * cleared, which is how we notice).  With the count the worker stops accepting at its share of
 * max_connections and resumes when a connection closes; with the list it can close idle
 * connections when the server stops. */
#include "http_internal.h"

#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "alloc.h"

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

static void release_conn(promc__http_worker_t *w, promc__http_conn_t *c)
{
    promc__free(c);
    w->nconns--;
    if (w->paused_cap && w->nconns < w->srv->conns_per_worker) {
        w->paused_cap = false;
        promc__http_update_listener(w);
    }
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
    list_unlink(&w->live, c);
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
    (void)info;
    promc__http_conn_t *c = arg;
    size_t len = evbuffer_get_length(in);
    if (!c->input_capped && len >= INPUT_SLACK) {
        c->input_capped = true;
        bufferevent_setwatermark(c->bev, EV_READ, 0, c->w->srv->max_request_bytes + INPUT_SLACK);
    } else if (c->input_capped && len == 0) {
        c->input_capped = false;
        bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
    }
}

/* evhttp's hook for the bufferevent of a new connection: see the file comment. */
struct bufferevent *promc__http_on_new_bev(struct event_base *base, void *arg)
{
    promc__http_worker_t *w = arg;
    /* Without BEV_OPT_CLOSE_ON_FREE, as evhttp makes its own: evhttp closes the socket itself,
     * after its shutdown(), so the descriptor cannot be reused by another thread in between. */
    struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
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
    c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input_change, c);
    if (c->in_cb == NULL) {
        c->input_capped = true; /* never taken off: nothing watches the input */
        bufferevent_setwatermark(bev, EV_READ, 0, w->srv->max_request_bytes + INPUT_SLACK);
    }
    bufferevent_incref(bev);
    list_push(&w->pending, c);
    if (++w->nconns >= w->srv->conns_per_worker) {
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
            list_push(&w->live, c);
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
}

void promc__http_on_post_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    promc__http_resolve_pending(arg);
}

/* Closes every connection that is not sending a response (for a stopping worker). */
void promc__http_close_idle(promc__http_worker_t *w)
{
    promc__http_conn_t *c = w->live, *next;
    for (; c != NULL; c = next) {
        next = c->next;
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
            continue; /* a response is still being sent */
        /* evhttp_connection_free() runs the close callback only for a connection it still
         * deems connected; taking the callback off and accounting here covers both cases. */
        evhttp_connection_set_closecb(c->evcon, NULL, NULL);
        detach_input(c);
        evhttp_connection_free(c->evcon);
        list_unlink(&w->live, c);
        release_conn(w, c);
    }
}

/* Forgets the connections evhttp has already freed without running their close callback (it
 * runs it only for those it deems connected): only our records remain. */
void promc__http_forget_conns(promc__http_worker_t *w)
{
    while (w->live) {
        promc__http_conn_t *c = w->live;
        list_unlink(&w->live, c);
        release_conn(w, c);
    }
    if (w->pending)
        promc__http_resolve_pending(w);
}
