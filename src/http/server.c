/* The HTTP server: one libevent event loop per thread, each with its own listening socket on the
 * shared port (SO_REUSEPORT, so the kernel balances connections over the threads), evhttp for the
 * protocol, and promc's handler API on top.
 *
 * Event bases are created without libevent's locking: each one is touched only by its own thread
 * (and by the starting/stopping thread before the thread starts and after it is joined).  The only
 * way in from another thread is a pipe per worker, written by promc_http_stop().
 *
 * Connection accounting.  evhttp 2.1 has no connection cap and no hook at accept time that sees
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

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h> /* the request's HTTP version */
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "fmt.h"

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

#define DEFAULT_MAX_IN_FLIGHT     8u
#define DEFAULT_MAX_CONNECTIONS   1024u
#define DEFAULT_TIMEOUT_SECONDS   30.0
#define DEFAULT_MAX_REQUEST_BYTES 16384u
#define MAX_THREADS               256u
#define BIND_ATTEMPTS             8 /* port 0 over several threads: retries when the port is taken */
#define DRAIN_POLL_MS             10 /* how often a stopping worker looks at its busy connections */
#define ACCEPT_BACKOFF_MS         50 /* pause after accept() failed (EMFILE and the like) */
#define FLUSH_BATCH               64 /* responses completed per loop iteration in one callback */
#define INPUT_SLACK               4096 /* unread input per connection: at most max_request_bytes + this */

typedef struct conn {
    struct bufferevent *bev;
    struct evhttp_connection *evcon; /* NULL until the post-accept callback resolved it */
    struct evbuffer_cb_entry *in_cb; /* on_input_change on the input buffer, or NULL */
    bool input_capped;               /* the read high-watermark is set */
    struct conn *prev, *next;
    promc__http_worker_t *w;
} conn_t;

struct promc__http_worker {
    promc_http_server_t *srv;
    pthread_t thread;
    bool started;
    int listen_fd; /* owned by `bound` once it is set */
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct evconnlistener *listener;
    int wake[2];
    struct event *wake_ev;
    struct event *post_accept_ev;
    struct event *drain_ev;
    struct event *resume_ev;
    struct event *flush_ev;
    struct bufferevent *written[FLUSH_BATCH]; /* responses written, evhttp not yet told */
    unsigned nwritten;
    conn_t *pending; /* accepted, connection not yet resolved */
    conn_t *live;    /* resolved, with our close callback */
    unsigned nconns; /* pending + live */
    bool paused_cap, paused_err, draining, tearing_down, listening;
    time_t date_sec; /* the second `date` shows */
    char date[64];   /* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (room for any tm) */
};

static void flush_written(promc__http_worker_t *w);

/* ---- small helpers ------------------------------------------------------------------------- */

static void list_push(conn_t **head, conn_t *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head)
        (*head)->prev = c;
    *head = c;
}

static void list_unlink(conn_t **head, conn_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        *head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static struct timeval tv_of_seconds(double s)
{
    struct timeval tv;
    if (!(s > 0))
        s = 0;
    if (s > 1e9)
        s = 1e9;
    tv.tv_sec = (time_t)s;
    tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
    return tv;
}

static struct timeval tv_of_ms(long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

/* ---- listening sockets ---------------------------------------------------------------------- */

/* The address is parsed, never looked up: AI_NUMERICHOST keeps getaddrinfo() away from the
 * resolver, which a statically linked glibc program cannot load (NSS modules are shared objects),
 * and which could block a start on DNS. */
static int resolve(const char *address, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
    char portbuf[16];
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(portbuf, sizeof portbuf, "%u", port);
    int gai = getaddrinfo(address, portbuf, &hints, &res);
    if (gai == EAI_NONAME)
        return promc__err(PROMC_EADDR,
                          "address '%s' is not a numeric IPv4 or IPv6 address; host names are "
                          "not resolved",
                          address);
    if (gai != 0 || res == NULL)
        return promc__err(PROMC_EADDR, "address '%s': %s", address,
                          gai != 0 ? gai_strerror(gai) : "no result");
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void set_port(struct sockaddr_storage *ss, unsigned port)
{
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

static unsigned get_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* A bound socket: listening when `do_listen`, sharing the port with its siblings when `reuseport`.
 * Returns the fd, or a negative PROMC_E* code. */
static int open_socket(const struct sockaddr_storage *ss, socklen_t len, const char *address,
                       bool reuseport, bool do_listen)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return promc__err(errno == EAFNOSUPPORT ? PROMC_EADDR : PROMC_ESYS, "socket(): %s",
                          strerror(errno));
    int one = 1, zero = 0;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
#ifdef SO_REUSEPORT
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        int e = errno;
        close(fd);
        return promc__err(PROMC_ESYS, "SO_REUSEPORT: %s", strerror(e));
    }
#else
    (void)reuseport;
#endif
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
        /* "::" means every address, IPv4 included where the system allows dual stack. */
        if (memcmp(&a6->sin6_addr, &in6addr_any, sizeof in6addr_any) == 0)
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 ||
        (do_listen && listen(fd, SOMAXCONN) != 0)) {
        int e = errno;
        close(fd);
        if (e == EADDRINUSE)
            return promc__err(PROMC_EADDRINUSE, "%s:%u: %s", address, get_port(ss), strerror(e));
        return promc__err(PROMC_EADDR, "%s:%u: %s", address, get_port(ss), strerror(e));
    }
    return fd;
}

/* Binds one listening socket per worker on the same address and port.  With several workers the
 * sockets share the port through SO_REUSEPORT; since a socket with SO_REUSEPORT would also join
 * another process's SO_REUSEPORT group instead of failing, a socket without it is bound first
 * and closed again, which fails when anyone holds the port (and picks the port for port 0).
 * A race with another process between the probe and the bind can only end in EADDRINUSE here,
 * or, for two reuse-port servers of the same user started at the same instant, in both sharing
 * the port. */
static int bind_all(promc_http_server_t *srv, const char *address, unsigned port)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    int rc = resolve(address, port, &ss, &len);
    if (rc != 0)
        return rc;
    unsigned n = srv->worker_count;
    if (n == 1) {
        int fd = open_socket(&ss, len, address, false, true);
        if (fd < 0)
            return fd;
        struct sockaddr_storage got;
        socklen_t glen = sizeof got;
        if (getsockname(fd, (struct sockaddr *)&got, &glen) != 0) {
            int e = errno;
            close(fd);
            return promc__err(PROMC_ESYS, "getsockname(): %s", strerror(e));
        }
        srv->workers[0].listen_fd = fd;
        srv->port = get_port(&got);
        return 0;
    }
#ifdef SO_REUSEPORT
    for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
        set_port(&ss, port);
        int probe = open_socket(&ss, len, address, false, false);
        if (probe < 0)
            return probe;
        struct sockaddr_storage got;
        socklen_t glen = sizeof got;
        int gerr = getsockname(probe, (struct sockaddr *)&got, &glen) != 0 ? errno : 0;
        close(probe);
        if (gerr)
            return promc__err(PROMC_ESYS, "getsockname(): %s", strerror(gerr));
        set_port(&ss, get_port(&got));
        unsigned i;
        rc = 0;
        for (i = 0; i < n; i++) {
            int fd = open_socket(&ss, len, address, true, true);
            if (fd < 0) {
                rc = fd;
                break;
            }
            srv->workers[i].listen_fd = fd;
        }
        if (rc == 0) {
            srv->port = get_port(&got);
            return 0;
        }
        while (i > 0) {
            close(srv->workers[--i].listen_fd);
            srv->workers[i].listen_fd = -1;
        }
        if (!(rc == PROMC_EADDRINUSE && port == 0))
            return rc;
    }
    return rc;
#else
    /* No SO_REUSEPORT: the workers share one socket (each its own descriptor of it). */
    int fd = open_socket(&ss, len, address, false, true);
    if (fd < 0)
        return fd;
    struct sockaddr_storage got;
    socklen_t glen = sizeof got;
    (void)getsockname(fd, (struct sockaddr *)&got, &glen);
    srv->port = get_port(&got);
    srv->workers[0].listen_fd = fd;
    for (unsigned i = 1; i < n; i++) {
        srv->workers[i].listen_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (srv->workers[i].listen_fd < 0)
            return promc__err(PROMC_ESYS, "dup(): %s", strerror(errno));
    }
    return 0;
#endif
}

/* ---- connection tracking ------------------------------------------------------------------- */

static void update_listener(promc__http_worker_t *w)
{
    if (!w->listener || w->tearing_down)
        return;
    bool want = !w->draining && !w->paused_cap && !w->paused_err;
    if (want == w->listening)
        return;
    if (want)
        evconnlistener_enable(w->listener);
    else
        evconnlistener_disable(w->listener);
    w->listening = want;
}

static void release_conn(promc__http_worker_t *w, conn_t *c)
{
    promc__free(c);
    w->nconns--;
    if (w->paused_cap && w->nconns < w->srv->conns_per_worker) {
        w->paused_cap = false;
        update_listener(w);
    }
}

/* Takes on_input_change off the input buffer: before the bufferevent can outlive `c`. */
static void detach_input(conn_t *c)
{
    if (c->in_cb) {
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
        c->in_cb = NULL;
    }
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    conn_t *c = arg;
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
    conn_t *c = arg;
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
static struct bufferevent *on_new_bev(struct event_base *base, void *arg)
{
    promc__http_worker_t *w = arg;
    /* Without BEV_OPT_CLOSE_ON_FREE, as evhttp makes its own: evhttp closes the socket itself,
     * after its shutdown(), so the descriptor cannot be reused by another thread in between. */
    struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
    if (bev == NULL)
        return NULL;
    /* Allocated per connection rather than max_connections of them up front: an idle server
     * holds none (1024 of them were 40 KB per server). */
    conn_t *c = promc__malloc(sizeof *c);
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
        update_listener(w); /* evconnlistener stops its accept loop when disabled */
    }
    event_active(w->post_accept_ev, EV_TIMEOUT, 1);
    return bev;
}

static void resolve_pending(promc__http_worker_t *w)
{
    conn_t *c;
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

static void on_post_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    resolve_pending(arg);
}

/* The worker whose loop runs on this thread: evconnlistener hands its error callback the
 * listener's callback argument, which evhttp has made its own (the struct evhttp). */
static _Thread_local promc__http_worker_t *current_worker;

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    promc__http_worker_t *w = current_worker;
    if (w == NULL || w->listener != lev)
        return;
    /* Out of descriptors or memory: the pending connection would wake the loop again at once, so
     * stop accepting for a moment instead of spinning. */
    w->paused_err = true;
    update_listener(w);
    struct timeval tv = tv_of_ms(ACCEPT_BACKOFF_MS);
    event_add(w->resume_ev, &tv);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    promc__http_worker_t *w = arg;
    w->paused_err = false;
    update_listener(w);
}

/* ---- stopping ------------------------------------------------------------------------------- */

/* Closes every idle connection; ends the loop when none is left or the drain time is up. */
static void drain_step(promc__http_worker_t *w)
{
    resolve_pending(w);
    flush_written(w);
    conn_t *c = w->live, *next;
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
    int64_t left = atomic_load(&w->srv->drain_deadline_ns) - promc__now_mono_ns();
    if (w->live == NULL || left <= 0) {
        event_base_loopbreak(w->base);
        return;
    }
    long ms = (long)(left / 1000000) + 1;
    struct timeval tv = tv_of_ms(ms < DRAIN_POLL_MS ? ms : DRAIN_POLL_MS);
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
    update_listener(w);
    if (w->bound) {
        evhttp_del_accept_socket(w->http, w->bound); /* frees the listener, closes the socket */
        w->bound = NULL;
        w->listener = NULL;
    }
    drain_step(w);
}

/* ---- requests ------------------------------------------------------------------------------ */

static const char *method_name(int m)
{
    switch (m) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    default:
        return "";
    }
}

bool promc__http_is_head(const promc_http_request_t *r)
{
    return r->method == EVHTTP_REQ_HEAD;
}

bool promc__http_is_get_or_head(const promc_http_request_t *r)
{
    return r->method == EVHTTP_REQ_GET || r->method == EVHTTP_REQ_HEAD;
}

struct evbuffer *promc__http_body(promc_http_request_t *r)
{
    return evhttp_request_get_output_buffer(r->ev);
}

static bool status_has_body(int status)
{
    return !(status < 200 || status == 204 || status == 304);
}

/* The Date header's value, formatted once a second per thread: left to evhttp, formatting the
 * date for each response costs more than anything else promc adds to a small response. */
static const char *http_date(promc__http_worker_t *w)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != w->date_sec || w->date[0] == '\0') {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(w->date, sizeof w->date, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        w->date_sec = ts.tv_sec;
    }
    return w->date;
}

/* evhttp queues a response and writes it when epoll next reports the socket writable: one loop
 * iteration later, at the price of turning write interest on and off again (epoll_ctl calls for
 * every request).  Instead the response is written here, and the bufferevent's write callback,
 * which tells evhttp the response is out (as libevent calls it once a write has emptied the
 * buffer), runs from flush_ev later in this same iteration, after the handler has returned.
 * evhttp then turns write interest off again before the epoll changelist is applied, so none of
 * it reaches the kernel.  A partial write leaves the rest to evhttp's usual path.  The output
 * buffer holds only this response: evhttp reads no further request from the connection before the
 * previous response is out.  The reference taken here keeps the bufferevent valid should the
 * connection be freed in between (its callbacks are cleared then, and the trigger does nothing). */
static void write_now(promc__http_worker_t *w, struct evhttp_connection *evcon)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    struct evbuffer *out = bufferevent_get_output(bev);
    if (evbuffer_write(out, bufferevent_getfd(bev)) < 0 || evbuffer_get_length(out) != 0)
        return;
    if (w->nwritten == FLUSH_BATCH) {
        bufferevent_trigger(bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS); /* libevent's own deferral */
        return;
    }
    bufferevent_incref(bev);
    w->written[w->nwritten++] = bev;
    if (w->nwritten == 1)
        event_active(w->flush_ev, EV_TIMEOUT, 1);
}

static void flush_written(promc__http_worker_t *w)
{
    struct bufferevent *batch[FLUSH_BATCH];
    unsigned n = w->nwritten;
    memcpy(batch, w->written, n * sizeof batch[0]);
    w->nwritten = 0;
    for (unsigned i = 0; i < n; i++) {
        bufferevent_trigger(batch[i], EV_WRITE, 0);
        bufferevent_decref(batch[i]);
    }
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    flush_written(arg);
}

/* The headers every response gets: Date, Content-Type (when given), "Connection: close" while
 * stopping.  Returns nonzero when one could not be added. */
static int common_headers(promc_http_request_t *r, const char *content_type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    int bad = 0;
    bad |= evhttp_add_header(h, "Date", http_date(r->w));
    if (content_type)
        bad |= evhttp_add_header(h, "Content-Type", content_type);
    if (atomic_load_explicit(&r->srv->stopping, memory_order_relaxed))
        bad |= evhttp_add_header(h, "Connection", "close");
    return bad;
}

int promc__http_send(promc_http_request_t *r, int status, const char *content_type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    struct evbuffer *body = evhttp_request_get_output_buffer(r->ev);
    r->answered = true;
    int bad = common_headers(r, content_type);
    if (!status_has_body(status)) {
        evbuffer_drain(body, evbuffer_get_length(body));
    } else if (r->method == EVHTTP_REQ_HEAD) {
        /* evhttp neither drops a HEAD response's body nor gives it a Content-Length. */
        char len[24];
        promc__fmt_u64(evbuffer_get_length(body), len);
        bad |= evhttp_add_header(h, "Content-Length", len);
        evbuffer_drain(body, evbuffer_get_length(body));
    }
    /* Out of memory for a header: the response goes out without it rather than not at all; the
     * connection is never freed under the handler, whose request strings stay valid until it
     * returns. */
    struct evhttp_connection *evcon = evhttp_request_get_connection(r->ev);
    evhttp_send_reply(r->ev, status, NULL, NULL);
    write_now(r->w, evcon);
    return bad ? promc__err(PROMC_ENOMEM, "response headers") : 0;
}

bool promc__http_can_stream(const promc_http_request_t *r)
{
    /* evhttp frames a streamed response with chunks from HTTP/1.1 on; an HTTP/1.0 one would be
     * ended by closing the connection, which evhttp does not do for a 1.0 keep-alive client.
     * The version is only in the (public, if old-style) request struct. */
    const struct evhttp_request *ev = r->ev;
    return r->method == EVHTTP_REQ_GET && (ev->major > 1 || (ev->major == 1 && ev->minor >= 1));
}

int promc__http_stream_start(promc_http_request_t *r, int status, const char *content_type)
{
    r->answered = true;
    int bad = common_headers(r, content_type);
    /* evhttp_send_reply_start() would put whatever the output buffer holds after the headers
     * without a chunk header: the body goes through promc__http_stream_chunk() only. */
    evbuffer_drain(evhttp_request_get_output_buffer(r->ev), (size_t)-1);
    /* The pieces go out as they come, the last chunk often in a write of its own: without
     * TCP_NODELAY, Nagle would hold that small write until the client acknowledged the one before
     * (up to a delayed ACK, 40 ms and more). */
    int one = 1;
    (void)setsockopt(
        bufferevent_getfd(evhttp_connection_get_bufferevent(evhttp_request_get_connection(r->ev))),
        IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    evhttp_send_reply_start(r->ev, status, NULL);
    return bad ? promc__err(PROMC_ENOMEM, "response headers") : 0;
}

int promc__http_stream_chunk(promc_http_request_t *r, struct evbuffer *buf)
{
    struct bufferevent *bev =
        evhttp_connection_get_bufferevent(evhttp_request_get_connection(r->ev));
    evhttp_send_reply_chunk(r->ev, buf);
    /* Written now rather than when the handler returns: the client reads while the rest is
     * being produced, and what the socket took is freed. */
    if (evbuffer_write(bufferevent_get_output(bev), bufferevent_getfd(bev)) < 0 &&
        errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return -1;
    return 0;
}

void promc__http_stream_end(promc_http_request_t *r, bool complete)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(r->ev);
    if (!complete) {
        /* What the kernel already holds goes out, then end of stream (what is still in the
         * output buffer never does): no terminating chunk ever follows, so no
         * client takes the truncated body for the whole one.  evhttp's next write fails and it
         * closes the connection. */
        shutdown(bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)), SHUT_WR);
    }
    evhttp_send_reply_end(r->ev); /* queues the last chunk: nothing is freed under the handler */
    if (complete)
        write_now(r->w, evcon);
}

static void answer_plain(promc_http_request_t *r, int status, const char *text)
{
    struct evbuffer *b = evhttp_request_get_output_buffer(r->ev);
    evbuffer_drain(b, evbuffer_get_length(b));
    if (evbuffer_add(b, text, strlen(text)) != 0)
        evbuffer_drain(b, evbuffer_get_length(b)); /* out of memory: the status alone */
    (void)promc__http_send(r, status, "text/plain; charset=utf-8");
}

static void on_request(struct evhttp_request *ev, void *arg)
{
    promc__http_worker_t *w = arg;
    promc_http_server_t *srv = w->srv;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    promc_http_request_t r;
    r.ev = ev;
    r.srv = srv;
    r.w = w;
    r.path = uri ? evhttp_uri_get_path(uri) : NULL;
    r.query = uri ? evhttp_uri_get_query(uri) : NULL;
    r.method = (int)evhttp_request_get_command(ev);
    r.answered = false;
    if (r.path == NULL || r.path[0] == '\0')
        r.path = "/";

    const promc__http_route_t *route = NULL;
    for (size_t i = 0; i < srv->route_count; i++) {
        const char *p = srv->routes[i].path;
        if (p && strcmp(p, r.path) == 0) {
            route = &srv->routes[i];
            break;
        }
    }
    if (route) {
        route->fn(route->ud, &r);
    } else if (srv->builtin && promc__http_builtin(&r)) {
        /* answered */
    } else if (srv->fallback) {
        srv->fallback->fn(srv->fallback->ud, &r);
    } else {
        answer_plain(&r, 404, "404 page not found\n");
    }
    if (!r.answered)
        answer_plain(&r, 500, "500 the handler did not answer\n");
}

/* ---- the public request API ------------------------------------------------------------------ */

const char *promc_http_request_method(const promc_http_request_t *req)
{
    return req ? method_name(req->method) : "";
}

const char *promc_http_request_path(const promc_http_request_t *req)
{
    return req ? req->path : NULL;
}

const char *promc_http_request_query(const promc_http_request_t *req)
{
    return req ? req->query : NULL;
}

const char *promc_http_request_header(const promc_http_request_t *req, const char *name)
{
    if (req == NULL || name == NULL)
        return NULL;
    return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

static bool has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

int promc_http_set_header(promc_http_request_t *req, const char *name, const char *value)
{
    if (req == NULL || name == NULL || value == NULL || name[0] == '\0' || has_crlf(name) ||
        has_crlf(value) || strchr(name, ':') != NULL)
        return promc__err(PROMC_EINVAL, "promc_http_set_header: bad name or value");
    if (req->answered)
        return promc__err(PROMC_ESTATE, "promc_http_set_header: the request is already answered");
    if (evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value) != 0)
        return promc__err(PROMC_ENOMEM, "promc_http_set_header");
    return 0;
}

int promc_http_respond(promc_http_request_t *req, int status, const char *content_type,
                       const void *body, size_t len)
{
    if (req == NULL || status < 200 || status > 599 || (body == NULL && len > 0))
        return promc__err(PROMC_EINVAL, "promc_http_respond: bad status %d or body", status);
    if (content_type && has_crlf(content_type))
        return promc__err(PROMC_EINVAL, "promc_http_respond: CR or LF in the content type");
    if (req->answered)
        return promc__err(PROMC_ESTATE, "promc_http_respond: the request is already answered");
    struct evbuffer *out = evhttp_request_get_output_buffer(req->ev);
    if (len > 0 && evbuffer_add(out, body, len) != 0) {
        evbuffer_drain(out, evbuffer_get_length(out));
        (void)promc__http_send(req, 500, NULL);
        return promc__err(PROMC_ENOMEM, "promc_http_respond: %zu bytes of body", len);
    }
    return promc__http_send(req, status, content_type);
}

/* ---- workers ------------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    promc__http_worker_t *w = arg;
    current_worker = w;
    if (w->srv->sched_batch) {
        /* Best effort (see promc_http_opts_t): the thread keeps its policy when refused. */
        struct sched_param sp = {.sched_priority = 0};
        (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    }
    event_base_dispatch(w->base);
    current_worker = NULL;
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
    /* Connections whose close callback evhttp did not run (it runs it only for those it deems
     * connected): their evhttp objects are gone, only ours remain. */
    while (w->live) {
        conn_t *c = w->live;
        list_unlink(&w->live, c);
        release_conn(w, c);
    }
    if (w->listen_fd >= 0) /* not yet handed to a listener */
        close(w->listen_fd);
    w->listen_fd = -1;
    if (w->pending)
        resolve_pending(w);
    flush_written(w); /* their connections are gone: this only drops our references */
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
    w->post_accept_ev = event_new(w->base, -1, 0, on_post_accept, w);
    w->drain_ev = event_new(w->base, -1, 0, on_drain_timer, w);
    w->resume_ev = event_new(w->base, -1, 0, on_resume, w);
    w->flush_ev = event_new(w->base, -1, 0, on_flush, w);
    if (!w->wake_ev || !w->post_accept_ev || !w->drain_ev || !w->resume_ev || !w->flush_ev ||
        event_add(w->wake_ev, NULL) != 0)
        return promc__err(PROMC_ENOMEM, "events");

    w->http = evhttp_new(w->base);
    if (w->http == NULL)
        return promc__err(PROMC_ENOMEM, "evhttp_new failed");
    evhttp_set_gencb(w->http, on_request, w);
    evhttp_set_bevcb(w->http, on_new_bev, w);
    evhttp_set_default_content_type(w->http, NULL);
    evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(w->http, (ev_ssize_t)srv->max_request_bytes);
    evhttp_set_max_body_size(w->http, (ev_ssize_t)srv->max_request_bytes);
    struct timeval tv = tv_of_seconds(srv->timeout_seconds);
    evhttp_set_timeout_tv(w->http, &tv);

    w->bound = evhttp_accept_socket_with_handle(w->http, w->listen_fd);
    if (w->bound == NULL)
        return promc__err(PROMC_ENOMEM, "evhttp_accept_socket failed");
    w->listen_fd = -1; /* the listener owns it now */
    w->listener = evhttp_bound_socket_get_listener(w->bound);
    evconnlistener_set_error_cb(w->listener, on_accept_error);
    w->listening = true;
    return 0;
}

/* ---- server lifecycle ----------------------------------------------------------------------- */

static void server_free(promc_http_server_t *srv)
{
    if (srv->workers) {
        for (unsigned i = 0; i < srv->worker_count; i++)
            worker_teardown(&srv->workers[i]);
        promc__free(srv->workers);
    }
    if (srv->shared)
        promc__http_shared_release(srv->shared);
    for (size_t i = 0; i < srv->route_count; i++)
        promc__free(srv->routes[i].path);
    promc__free(srv->routes);
    promc__free(srv);
}

static int copy_routes(promc_http_server_t *srv, const promc_http_opts_t *o)
{
    if (o->route_count == 0)
        return 0;
    if (o->routes == NULL)
        return promc__err(PROMC_EINVAL, "route_count %zu but routes is NULL", o->route_count);
    srv->routes = promc__calloc(o->route_count, sizeof *srv->routes);
    if (srv->routes == NULL)
        return promc__err(PROMC_ENOMEM, "routes");
    for (size_t i = 0; i < o->route_count; i++) {
        const promc_http_route_t *in = &o->routes[i];
        if (in->fn == NULL)
            return promc__err(PROMC_EINVAL, "route %zu has no handler", i);
        if (in->path != NULL && in->path[0] != '/')
            return promc__err(PROMC_EINVAL, "route path '%s' does not start with '/'", in->path);
        for (size_t j = 0; j < i; j++) {
            const char *p = o->routes[j].path;
            if ((p == NULL && in->path == NULL) || (p && in->path && strcmp(p, in->path) == 0))
                return promc__err(PROMC_EINVAL, "two routes for path '%s'",
                                  in->path ? in->path : "(fallback)");
        }
        if (in->path) {
            srv->routes[i].path = promc__strdup(in->path);
            if (srv->routes[i].path == NULL)
                return promc__err(PROMC_ENOMEM, "route path");
        }
        srv->routes[i].fn = in->fn;
        srv->routes[i].ud = in->ud;
        srv->route_count = i + 1;
        if (in->path == NULL)
            srv->fallback = &srv->routes[i];
    }
    return 0;
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

int promc_http_start(promc_http_server_t **out, const promc_http_opts_t *o)
{
    if (out == NULL || o == NULL)
        return promc__err(PROMC_EINVAL, "promc_http_start: NULL argument");
    if (o->port > 65535)
        return promc__err(PROMC_EINVAL, "port %u is above 65535", o->port);
    if (o->threads > MAX_THREADS)
        return promc__err(PROMC_EINVAL, "%u threads (at most %u)", o->threads, MAX_THREADS);
    if (o->timeout_seconds < 0 || o->timeout_seconds != o->timeout_seconds)
        return promc__err(PROMC_EINVAL, "timeout_seconds must be 0 or positive");

    promc_http_server_t *srv = promc__calloc(1, sizeof *srv);
    if (srv == NULL)
        return promc__err(PROMC_ENOMEM, "server");
    atomic_init(&srv->ready, !o->start_unready);
    atomic_init(&srv->stopping, false);
    atomic_init(&srv->drain_deadline_ns, 0);
    atomic_init(&srv->scrapes, 0);
    srv->builtin = !o->no_builtin;
    srv->worker_count = o->threads ? o->threads : 1;
    srv->max_in_flight = o->max_in_flight ? o->max_in_flight : DEFAULT_MAX_IN_FLIGHT;
    unsigned maxc = o->max_connections ? o->max_connections : DEFAULT_MAX_CONNECTIONS;
    srv->conns_per_worker = (maxc + srv->worker_count - 1) / srv->worker_count;
    srv->timeout_seconds = o->timeout_seconds > 0 ? o->timeout_seconds : DEFAULT_TIMEOUT_SECONDS;
    srv->sched_batch = o->sched_batch;
    srv->max_request_bytes =
        o->max_request_bytes ? o->max_request_bytes : DEFAULT_MAX_REQUEST_BYTES;
    const char *address = (o->address && o->address[0]) ? o->address : "0.0.0.0";
    int rc = copy_routes(srv, o);
    if (rc != 0)
        goto fail;

    if (srv->builtin) {
        srv->registry = o->registry ? o->registry : promc_registry_default();
        if (srv->registry == NULL) {
            rc = promc__err(PROMC_ENOMEM, "default registry");
            goto fail;
        }
        rc = promc__http_shared_acquire(srv->registry, &srv->shared);
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
    rc = bind_all(srv, address, o->port);
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

unsigned promc_http_port(const promc_http_server_t *s)
{
    return s ? s->port : 0;
}

void promc_http_set_ready(promc_http_server_t *s, bool ready)
{
    if (s)
        atomic_store(&s->ready, ready);
}

int promc_http_stop(promc_http_server_t *s, double drain_seconds)
{
    if (s == NULL)
        return 0;
    pthread_t self = pthread_self();
    for (unsigned i = 0; i < s->worker_count; i++)
        if (s->workers[i].started && pthread_equal(self, s->workers[i].thread))
            return promc__err(PROMC_ESTATE, "promc_http_stop called from the server's own thread");
    if (!(drain_seconds > 0))
        drain_seconds = 0;
    if (drain_seconds > 1e6)
        drain_seconds = 1e6;
    atomic_store(&s->drain_deadline_ns, promc__now_mono_ns() + (int64_t)(drain_seconds * 1e9));
    atomic_store(&s->ready, false);
    atomic_store(&s->stopping, true);
    signal_workers(s);
    join_workers(s);
    server_free(s);
    return 0;
}
