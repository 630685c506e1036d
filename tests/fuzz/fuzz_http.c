/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: whole HTTP requests into promc's server, in this process.  The server (built-in
 * endpoints, a registry with a labelled counter, an application route and a fallback) starts on
 * first use; each input is written to a fresh connection as raw bytes, the write side is shut,
 * and the answer read to the end.  A crash, a hang (no end within 5 s), an answer that is not an
 * HTTP/1.0 or HTTP/1.1 status line with a known class, a 2xx to a request that is not one, or a
 * server that no longer answers GET /healthz afterwards aborts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <stdbool.h>
#include <promc/promc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static promc_http_server_t *srv;
static unsigned port;

static void hello(void *ud, promc_http_request_t *req)
{
    (void)ud;
    /* The path comes back in a header: CR or LF in it must be refused, not sent. */
    if (promc_http_request_set_header(req, "X-Echo", promc_http_request_path(req)) != 0 &&
        strpbrk(promc_http_request_path(req), "\r\n") == NULL)
        abort();
    if (promc_http_request_respond(req, 200, "text/plain", "hi\n", 3) != 0)
        abort();
}

static void fallback(void *ud, promc_http_request_t *req)
{
    (void)ud;
    if (promc_http_request_respond(req, 404, "text/plain", "no\n", 3) != 0)
        abort();
}

static void start(void)
{
    static const char *const ln[] = {"path"};
    promc_registry_t *r;
    promc_counter_t *c, *k;
    static const promc_http_route_t routes[] = {{"/hello", hello, NULL}, {NULL, fallback, NULL}};
    promc_str_t v = PROMC_STR("/a");
    if (promc_registry_new(&r) != 0 ||
        promc_counter_new(&c, &(promc_metric_opts_t){.name = "req",
                                                     .help = "R.",
                                                     .label_names = ln,
                                                     .label_count = 1,
                                                     .registry = r}) != 0 ||
        promc_counter_labels(c, &v, 1, &k) != 0 ||
        promc_http_server_new(&srv, &(promc_http_opts_t){.address = "127.0.0.1",
                                                         .registry = r,
                                                         .routes = routes,
                                                         .route_count = 2,
                                                         .timeout_seconds = 2,
                                                         .header_timeout_seconds = 1,
                                                         .max_request_bytes = 4096}) != 0) {
        fprintf(stderr, "fuzz_http: cannot start the server: %s\n", promc_last_error());
        abort();
    }
    promc_counter_inc(k);
    port = promc_http_server_port(srv);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Sends `data`, shuts the write side, reads everything until the server closes.  Returns the
 * bytes read (malloc'ed, NUL-terminated) or aborts on a hang. */
static char *exchange(const uint8_t *data, size_t size, size_t *got)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS))
        abort();
    size_t sent = 0, len = 0, cap = 4096;
    char *buf = malloc(cap + 1);
    bool shut = false;
    double deadline = now() + 5;
    for (;;) {
        if (now() > deadline) {
            fprintf(stderr, "fuzz_http: no end of the answer within 5 s\n");
            abort();
        }
        if (!shut && sent == size) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        struct pollfd p = {fd, (short)(POLLIN | (shut ? 0 : POLLOUT)), 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (!shut && (p.revents & POLLOUT)) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN)
                sent = size; /* the server closed on us: read what it said */
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (len == cap)
                buf = realloc(buf, (cap *= 2) + 1);
            ssize_t n = recv(fd, buf + len, cap - len, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN))
                break;
            if (n > 0)
                len += (size_t)n;
        }
    }
    close(fd);
    buf[len] = '\0';
    *got = len;
    return buf;
}

static void check_answer(const char *resp, size_t len)
{
    if (len == 0)
        return; /* closed without an answer: allowed for a request that is not one */
    bool v1x =
        len >= 12 && (memcmp(resp, "HTTP/1.0 ", 9) == 0 || memcmp(resp, "HTTP/1.1 ", 9) == 0);
    /* evhttp's own error answers (a request it refuses before promc sees it: 400, 413, 501)
     * echo the request's version as evhttp read it, sign and all ("HTTP/-1.1"): a libevent
     * behaviour, listed in docs/ROBUSTNESS.md.  Every answer promc writes is HTTP/1.0 or 1.1. */
    size_t i = 5;
    bool echoed = len >= 12 && memcmp(resp, "HTTP/", 5) == 0;
    while (echoed && i < len && ((resp[i] >= '0' && resp[i] <= '9') || resp[i] == '-'))
        i++;
    echoed = echoed && i > 5 && i < len && resp[i++] == '.';
    size_t minor = i;
    while (echoed && i < len && ((resp[i] >= '0' && resp[i] <= '9') || resp[i] == '-'))
        i++;
    echoed = echoed && i > minor && i + 4 <= len && resp[i] == ' ';
    int echoed_status = echoed ? atoi(resp + i + 1) : 0;
    echoed = echoed && (echoed_status == 400 || echoed_status == 413 || echoed_status == 501);
    if (!v1x && !echoed) {
        fprintf(stderr, "fuzz_http: the answer is no status line: %.40s\n", resp);
        abort();
    }
    int status = v1x ? atoi(resp + 9) : echoed_status;
    if (status < 200 || status > 599) {
        fprintf(stderr, "fuzz_http: status %d\n", status);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (srv == NULL)
        start();
    if (size > 65536)
        return 0;
    size_t len;
    char *resp = exchange(data, size, &len);
    check_answer(resp, len);
    free(resp);
    /* The server still serves. */
    static const char probe[] = "GET /healthz HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n";
    resp = exchange((const uint8_t *)probe, sizeof probe - 1, &len);
    if (len < 12 || memcmp(resp, "HTTP/1.1 200", 12) != 0) {
        fprintf(stderr, "fuzz_http: /healthz after the input: %.60s\n", resp);
        abort();
    }
    free(resp);
    return 0;
}
