/* SPDX-License-Identifier: Apache-2.0 */
/* Responses: the status line and the headers every response gets, the body written at once
 * (not a loop iteration later), streaming in chunks for a large body, and the request API that
 * handlers use. */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h> /* the request's HTTP version */
#include <event2/keyvalq_struct.h>

#include "err.h"
#include "fmt.h"

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
    if (w->srv->tls)
        return; /* the output is plaintext for OpenSSL to encrypt: the bufferevent writes it */
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    struct evbuffer *out = bufferevent_get_output(bev);
    if (evbuffer_write(out, bufferevent_getfd(bev)) < 0 || evbuffer_get_length(out) != 0)
        return;
    if (w->nwritten == PROMC__HTTP_FLUSH_BATCH) {
        bufferevent_trigger(bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS); /* libevent's own deferral */
        return;
    }
    bufferevent_incref(bev);
    w->written[w->nwritten++] = bev;
    if (w->nwritten == 1)
        event_active(w->flush_ev, EV_TIMEOUT, 1);
}

void promc__http_flush_written(promc__http_worker_t *w)
{
    struct bufferevent *batch[PROMC__HTTP_FLUSH_BATCH];
    unsigned n = w->nwritten;
    memcpy(batch, w->written, n * sizeof batch[0]);
    w->nwritten = 0;
    for (unsigned i = 0; i < n; i++) {
        bufferevent_trigger(batch[i], EV_WRITE, 0);
        bufferevent_decref(batch[i]);
    }
}

void promc__http_on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    promc__http_flush_written(arg);
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
    if (r->srv->tls)
        return 0; /* OpenSSL's bufferevent writes as the socket takes it */
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

void promc__http_answer_plain(promc_http_request_t *r, int status, const char *text)
{
    struct evbuffer *b = evhttp_request_get_output_buffer(r->ev);
    evbuffer_drain(b, evbuffer_get_length(b));
    if (evbuffer_add(b, text, strlen(text)) != 0)
        evbuffer_drain(b, evbuffer_get_length(b)); /* out of memory: the status alone */
    (void)promc__http_send(r, status, "text/plain; charset=utf-8");
}

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

int promc__http_set_header(promc_http_request_t *req, const char *name, const char *value)
{
    if (req == NULL || name == NULL || value == NULL || name[0] == '\0' || has_crlf(name) ||
        has_crlf(value) || strchr(name, ':') != NULL)
        return promc__err(PROMC_EINVAL, "promc_http_request_set_header: bad name or value");
    if (req->answered)
        return promc__err(PROMC_ESTATE,
                          "promc_http_request_set_header: the request is already answered");
    if (evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value) != 0)
        return promc__err(PROMC_ENOMEM, "promc_http_request_set_header");
    return 0;
}

int promc__http_respond(promc_http_request_t *req, int status, const char *content_type,
                        const void *body, size_t len)
{
    if (req == NULL || status < 200 || status > 599 || (body == NULL && len > 0))
        return promc__err(PROMC_EINVAL, "promc_http_request_respond: bad status %d or body",
                          status);
    if (content_type && has_crlf(content_type))
        return promc__err(PROMC_EINVAL, "promc_http_request_respond: CR or LF in the content type");
    if (req->answered)
        return promc__err(PROMC_ESTATE,
                          "promc_http_request_respond: the request is already answered");
    struct evbuffer *out = evhttp_request_get_output_buffer(req->ev);
    if (len > 0 && evbuffer_add(out, body, len) != 0) {
        evbuffer_drain(out, evbuffer_get_length(out));
        (void)promc__http_send(req, 500, NULL);
        return promc__err(PROMC_ENOMEM, "promc_http_request_respond: %zu bytes of body", len);
    }
    return promc__http_send(req, status, content_type);
}

int promc_http_request_set_header(promc_http_request_t *req, const char *name, const char *value)
{
    return promc__http_set_header(req, name, value);
}

int promc_http_request_respond(promc_http_request_t *req, int status, const char *content_type,
                               const void *body, size_t len)
{
    return promc__http_respond(req, status, content_type, body, len);
}

/* ---- the names of 0.1 ----------------------------------------------------------------------- */

int promc_http_set_header(promc_http_request_t *req, const char *name, const char *value)
{
    return promc__http_set_header(req, name, value);
}

int promc_http_respond(promc_http_request_t *req, int status, const char *content_type,
                       const void *body, size_t len)
{
    return promc__http_respond(req, status, content_type, body, len);
}
