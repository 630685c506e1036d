/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: TLS records and HTTP over TLS into promc's server, in this process.  Two servers
 * start on first use from web configurations made here (an EC certificate of a CA of our own,
 * basic_auth_users with a cost-4 bcrypt hash): a TLS one, and a plain one with basic auth.  The
 * first byte of an input picks what the rest is:
 *   0: raw bytes to the TLS port (ClientHellos, records, garbage);
 *   1: the HTTP request sent inside a completed TLS handshake, followed by a request that closes
 *      the connection (so the basic-auth gate, the configured headers and the routes see it
 *      decrypted);
 *   2: the HTTP request to the plain port with basic auth (the Authorization parser).
 * A crash, a hang (no end within 5 s), an answer that is not an HTTP/1.x status line, a 200 for
 * /metrics without the right credentials, or a server that no longer answers afterwards aborts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <crypt.h>
#include <openssl/ssl.h>
#include <promc/promc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static promc_http_server_t *tls_srv, *plain_srv;
static unsigned tls_port, plain_port;
static SSL_CTX *client_ctx;
static char dir[64];

static void die(const char *what)
{
    fprintf(stderr, "fuzz_tls: %s\n", what);
    abort();
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die("cannot write a file");
}

static void start(void)
{
    signal(SIGPIPE, SIG_IGN); /* SSL_write() to a connection the server closed */
    snprintf(dir, sizeof dir, "/tmp/promc-fuzz-tls-XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout server.key -out server.crt -days 30 -subj /CN=localhost "
             "-addext subjectAltName=IP:127.0.0.1 2>/dev/null",
             dir);
    if (system(cmd) != 0)
        die("openssl req failed (Debian: openssl)");
    char salt[CRYPT_GENSALT_OUTPUT_SIZE], yml[1024];
    struct crypt_data cd;
    memset(&cd, 0, sizeof cd);
    if (!crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof salt))
        die("crypt_gensalt");
    /* The user "fuzz" with the password "pw": "Basic ZnV6ejpwdw==". */
    const char *hash = crypt_rn("pw", salt, &cd, sizeof cd);
    snprintf(yml, sizeof yml,
             "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
             "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
             "basic_auth_users:\n  fuzz: %s\n",
             hash);
    write_file("tls.yml", yml);
    snprintf(yml, sizeof yml, "basic_auth_users:\n  fuzz: %s\n", hash);
    write_file("plain.yml", yml);
    promc_registry_t *r;
    promc_counter_t *c;
    char tls_yml[128], plain_yml[128];
    snprintf(tls_yml, sizeof tls_yml, "%s/tls.yml", dir);
    snprintf(plain_yml, sizeof plain_yml, "%s/plain.yml", dir);
    if (promc_registry_new(&r) != 0 ||
        promc_counter_new(&c, &(promc_metric_opts_t){.name = "req", .help = "R.", .registry = r}) !=
            0 ||
        promc_http_server_new(&tls_srv, &(promc_http_opts_t){.address = "127.0.0.1",
                                                             .registry = r,
                                                             .timeout_seconds = 2,
                                                             .header_timeout_seconds = 1,
                                                             .max_request_bytes = 4096,
                                                             .web_config_file = tls_yml}) != 0 ||
        promc_http_server_new(&plain_srv, &(promc_http_opts_t){.address = "127.0.0.1",
                                                               .registry = r,
                                                               .timeout_seconds = 2,
                                                               .header_timeout_seconds = 1,
                                                               .max_request_bytes = 4096,
                                                               .web_config_file = plain_yml}) != 0)
        die(promc_last_error());
    tls_port = promc_http_server_port(tls_srv);
    plain_port = promc_http_server_port(plain_srv);
    client_ctx = SSL_CTX_new(TLS_client_method());
    if (!client_ctx)
        die("SSL_CTX_new");
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int connect_to(unsigned port, bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS))
        die("connect");
    return fd;
}

/* Raw bytes in, everything out until the server closes (see fuzz_http.c). */
static char *raw_exchange(unsigned port, const uint8_t *data, size_t size, size_t *got)
{
    int fd = connect_to(port, true);
    size_t sent = 0, len = 0, cap = 4096;
    char *buf = malloc(cap + 1);
    bool shut = false;
    double deadline = now() + 5;
    for (;;) {
        if (now() > deadline)
            die("no end of the answer within 5 s");
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
                sent = size;
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

/* A handshake, the bytes inside it, then a last request that closes the connection, and
 * everything until the server closes.  (Not close_notify to end the stream: libevent's TLS
 * bufferevent stops writing too when it reads one, so the answers would be lost.) */
static char *tls_exchange(const uint8_t *data, size_t size, size_t *got)
{
    static const char last[] =
        "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n";
    int fd = connect_to(tls_port, false);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL *ssl = SSL_new(client_ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1)
        die("TLS handshake with the server failed");
    double t0 = now();
    if (size > 0 && SSL_write(ssl, data, (int)size) <= 0)
        size = 0; /* the server closed on us: read what it said */
    (void)SSL_write(ssl, last, sizeof last - 1);
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (len == cap)
            buf = realloc(buf, (cap *= 2) + 1);
        int n = SSL_read(ssl, buf + len, (int)(cap - len));
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (now() - t0 > 4.9)
        die("no end of the TLS answer within 5 s");
    SSL_free(ssl);
    close(fd);
    buf[len] = '\0';
    *got = len;
    return buf;
}

static bool authorised(const uint8_t *data, size_t size)
{
    /* The only credentials that may pass are the good ones, somewhere in the input (header name
     * and scheme are case-insensitive; the base64 is exact).  memmem: inputs hold NUL bytes. */
    return memmem(data, size, "ZnV6ejpwdw==", 12) != NULL;
}

static void check_answer(const char *resp, size_t len, bool may_pass)
{
    if (len == 0)
        return;
    /* evhttp's own refusals echo the request's version as it read it (docs/ROBUSTNESS.md). */
    if (len < 12 || memcmp(resp, "HTTP/", 5) != 0)
        die("an answer that is no status line");
    const char *sp = memchr(resp, ' ', len < 16 ? len : 16);
    int status = sp ? atoi(sp + 1) : 0;
    if (status < 200 || status > 599)
        die("a status out of range");
    if (status / 100 == 2 && !may_pass)
        die("a 2xx without the credentials");
}

static void still_serves(void)
{
    static const char probe[] = "GET /healthz HTTP/1.1\r\nHost: f\r\nAuthorization: Basic "
                                "ZnV6ejpwdw==\r\nConnection: close\r\n\r\n";
    size_t len;
    char *r = tls_exchange((const uint8_t *)probe, sizeof probe - 1, &len);
    if (len < 12 || memcmp(r, "HTTP/1.1 200", 12) != 0)
        die("the TLS server no longer answers /healthz");
    free(r);
    r = raw_exchange(plain_port, (const uint8_t *)probe, sizeof probe - 1, &len);
    if (len < 12 || memcmp(r, "HTTP/1.1 200", 12) != 0)
        die("the plain server no longer answers /healthz");
    free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (tls_srv == NULL)
        start();
    if (size < 1 || size > 65536)
        return 0;
    int mode = data[0] % 3;
    data++;
    size--;
    size_t len;
    char *resp;
    if (mode == 0) {
        resp = raw_exchange(tls_port, data, size, &len);
        /* Whatever came back is TLS (an alert, a ServerHello) or nothing, never plain HTTP. */
        if (len >= 5 && memcmp(resp, "HTTP/", 5) == 0)
            die("plain HTTP from the TLS port");
    } else if (mode == 1) {
        resp = tls_exchange(data, size, &len);
        check_answer(resp, len, authorised(data, size));
    } else {
        resp = raw_exchange(plain_port, data, size, &len);
        check_answer(resp, len, authorised(data, size));
    }
    free(resp);
    still_serves();
    return 0;
}
