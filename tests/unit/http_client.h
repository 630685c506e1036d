/* SPDX-License-Identifier: Apache-2.0 */
/* A small blocking HTTP/1.1 client for the server tests: raw sockets, so a test controls exactly
 * what goes on the wire (keep-alive, half-sent requests, oversized headers, unread responses).
 * It reads responses framed by Content-Length, by chunks, or by the connection closing. */
#ifndef PROMC_TEST_HTTP_CLIENT_H
#define PROMC_TEST_HTTP_CLIENT_H

#include <promc/http.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

typedef struct hc_response {
    int status;
    char head[16384]; /* status line and headers, NUL-terminated */
    char *body;       /* malloc'ed, NUL-terminated */
    size_t body_len;
    bool chunked; /* Transfer-Encoding: chunked (body is the decoded one) */
} hc_response_t;

static inline double hc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void hc_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A connected socket to host (an IPv4 or IPv6 literal) and port, or -1. */
static inline int hc_connect_to(const char *host, unsigned port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof *a6;
    } else {
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static inline int hc_connect(unsigned port)
{
    return hc_connect_to("127.0.0.1", port);
}

static inline bool hc_send(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static inline bool hc_send_str(int fd, const char *s)
{
    return hc_send(fd, s, strlen(s));
}

/* Waits up to timeout_ms for fd to be readable: 1 readable (data or EOF), 0 timeout, -1 error. */
static inline int hc_wait_readable(int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    return r;
}

/* Reads exactly n bytes by the deadline: 0, -1 (timeout or error) or -2 (the peer closed). */
static inline int hc_recv_exact(int fd, char *buf, size_t n, double deadline)
{
    while (n > 0) {
        int left = (int)((deadline - hc_now()) * 1000);
        if (left <= 0 || hc_wait_readable(fd, left) <= 0)
            return -1;
        ssize_t got = recv(fd, buf, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            return -2;
        buf += got;
        n -= (size_t)got;
    }
    return 0;
}

/* A chunked body (RFC 9112 7.1; no extensions or trailers expected) into r->body: 0, -1 (timeout
 * or malformed) or -2 (the connection closed before the last chunk: a truncated response). */
static inline int hc_read_chunks(int fd, hc_response_t *r, double deadline)
{
    size_t cap = 65536;
    if ((r->body = malloc(cap)) == NULL)
        return -1;
    for (;;) {
        char line[64];
        size_t n = 0;
        for (;;) { /* the size line, one byte at a time */
            int rc = hc_recv_exact(fd, line + n, 1, deadline);
            if (rc != 0)
                return rc;
            if (++n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n')
                break;
            if (n == sizeof line)
                return -1;
        }
        line[n - 2] = '\0';
        char *end;
        unsigned long size = strtoul(line, &end, 16);
        if (end == line || *end != '\0')
            return -1;
        if (size == 0) {
            char crlf[2];
            int rc = hc_recv_exact(fd, crlf, 2, deadline);
            if (rc != 0)
                return rc;
            return memcmp(crlf, "\r\n", 2) == 0 ? 0 : -1;
        }
        while (r->body_len + size + 1 > cap) {
            cap *= 2;
            char *nb = realloc(r->body, cap);
            if (nb == NULL)
                return -1;
            r->body = nb;
        }
        int rc = hc_recv_exact(fd, r->body + r->body_len, size, deadline);
        if (rc != 0)
            return rc;
        r->body_len += size;
        r->body[r->body_len] = '\0';
        char crlf[2];
        if ((rc = hc_recv_exact(fd, crlf, 2, deadline)) != 0)
            return rc;
        if (memcmp(crlf, "\r\n", 2) != 0)
            return -1;
    }
}

/* Reads one response.  Returns 0, or -1 on timeout, a closed connection before the response was
 * complete, or a malformed response; -2 for a chunked response whose connection closed before its
 * last chunk.  Free r->body with hc_response_free(). */
static inline int hc_read_response(int fd, hc_response_t *r, int timeout_ms, bool head_request)
{
    memset(r, 0, sizeof *r);
    double deadline = hc_now() + timeout_ms / 1000.0;
    size_t hlen = 0;
    char *end = NULL;
    /* Headers: one byte at a time, so nothing of the next response is consumed. */
    while (end == NULL) {
        int left = (int)((deadline - hc_now()) * 1000);
        if (left <= 0 || hc_wait_readable(fd, left) <= 0)
            return -1;
        if (hlen + 1 >= sizeof r->head)
            return -1;
        ssize_t n = recv(fd, r->head + hlen, 1, 0);
        if (n <= 0)
            return -1;
        hlen++;
        r->head[hlen] = '\0';
        if (hlen >= 4 && memcmp(r->head + hlen - 4, "\r\n\r\n", 4) == 0)
            end = r->head + hlen;
    }
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    long clen = -1;
    for (char *line = strstr(r->head, "\r\n"); line && line + 2 < end;
         line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
            clen = strtol(line + 17, NULL, 10);
        if (strncasecmp(line + 2, "Transfer-Encoding: chunked\r\n", 28) == 0)
            r->chunked = true;
    }
    if (head_request || r->status == 204 || r->status == 304 || r->status < 200)
        clen = 0, r->chunked = false;
    if (r->chunked) {
        int rc = hc_read_chunks(fd, r, deadline);
        if (rc != 0 && r->body)
            r->body[r->body_len] = '\0';
        return rc;
    }
    size_t cap = clen >= 0 ? (size_t)clen + 1 : 65536;
    r->body = malloc(cap);
    if (r->body == NULL)
        return -1;
    for (;;) {
        if (clen >= 0 && r->body_len == (size_t)clen)
            break;
        if (r->body_len + 1 >= cap) {
            cap *= 2;
            char *nb = realloc(r->body, cap);
            if (nb == NULL)
                return -1;
            r->body = nb;
        }
        int left = (int)((deadline - hc_now()) * 1000);
        if (left <= 0 || hc_wait_readable(fd, left) <= 0)
            return -1;
        size_t want = cap - 1 - r->body_len;
        if (clen >= 0 && want > (size_t)clen - r->body_len)
            want = (size_t)clen - r->body_len;
        ssize_t n = recv(fd, r->body + r->body_len, want, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            if (clen >= 0)
                return -1; /* closed early */
            break;
        }
        r->body_len += (size_t)n;
    }
    r->body[r->body_len] = '\0';
    return 0;
}

static inline void hc_response_free(hc_response_t *r)
{
    free(r->body);
    r->body = NULL;
}

/* The value of a response header (copied into buf), or NULL. */
static inline const char *hc_header(const hc_response_t *r, const char *name, char *buf, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *line = strstr(r->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
            const char *v = h + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t n = e ? (size_t)(e - v) : strlen(v);
            if (n >= cap)
                n = cap - 1;
            memcpy(buf, v, n);
            buf[n] = '\0';
            return buf;
        }
    }
    return NULL;
}

/* One request on a new connection: sends `raw` (a complete request), reads the response. */
static inline int hc_exchange(unsigned port, const char *raw, hc_response_t *r)
{
    int fd = hc_connect(port);
    if (fd < 0) {
        memset(r, 0, sizeof *r);
        return -1;
    }
    int rc =
        hc_send_str(fd, raw) ? hc_read_response(fd, r, 20000, strncmp(raw, "HEAD ", 5) == 0) : -1;
    close(fd);
    return rc;
}

/* GET path with extra header lines (each ending in \r\n; may be ""). */
static inline int hc_get(unsigned port, const char *path, const char *headers, hc_response_t *r)
{
    char raw[8192];
    snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: test\r\n%s\r\n", path,
             headers ? headers : "");
    return hc_exchange(port, raw, r);
}

/* Inflates a gzip member into a malloc'ed NUL-terminated buffer; NULL on a bad stream. */
static inline char *hc_gunzip(const char *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return NULL;
    size_t cap = len * 8 + 1024, n = 0;
    char *out = malloc(cap);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    int zr = Z_OK;
    while (out && zr == Z_OK) {
        if (cap - n < 1024) {
            cap *= 2;
            char *nb = realloc(out, cap);
            if (nb == NULL) {
                free(out);
                out = NULL;
                break;
            }
            out = nb;
        }
        z.next_out = (Bytef *)out + n;
        z.avail_out = (uInt)(cap - n - 1);
        zr = inflate(&z, Z_NO_FLUSH);
        n = cap - 1 - z.avail_out;
        if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0)
            break; /* truncated stream */
    }
    inflateEnd(&z);
    if (out == NULL || zr != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

/* Stops a server and frees it: the test's usual end of a server.  Returns the stop's code (and
 * frees only after a successful stop). */
static inline int hc_close_server(promc_http_server_t *s, double drain_seconds)
{
    int rc = promc_http_server_stop(s, drain_seconds);
    if (rc == 0)
        promc_http_server_free(s);
    return rc;
}

#endif
