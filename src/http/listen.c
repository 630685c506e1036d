/* SPDX-License-Identifier: Apache-2.0 */
/* Listening: the address is parsed, one socket per worker is bound on the shared port, and a
 * worker's listener is paused while it is at its connection cap, draining, or backing off after
 * accept() failed. */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "err.h"

#define BIND_ATTEMPTS 8 /* port 0 over several threads: retries when the port is taken */

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
int promc__http_bind_all(promc_http_server_t *srv, const char *address, unsigned port)
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

void promc__http_update_listener(promc__http_worker_t *w)
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
