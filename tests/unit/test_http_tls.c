/* SPDX-License-Identifier: Apache-2.0 */
/* The web configuration in the server (opts.web_config_file), in process: every way a file can be
 * wrong, and the message naming the field; TLS served to an OpenSSL client (keep-alive, a
 * streamed scrape); basic auth against malformed headers; the handshake deadline; garbage on the
 * TLS port; re-reading a changed file, with the log callback.  The differential test against the
 * exporter-toolkit itself is tests/e2e/e2e_webconfig.py. */
#define _GNU_SOURCE
#include <promc/promc.h>

#include <crypt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "check.h"
#include "http_client.h"

static const char *const LOCAL = "127.0.0.1";
static char dir[256];
static char ca_crt[300], srv_crt[300], srv_key[300], other_key[300];

static bool sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc == 0;
}

/* A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated key (EC: fast). */
static bool make_certs(void)
{
    if (dir[0])
        return true;
    snprintf(dir, sizeof dir, "/tmp/promc-tls-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return false;
    snprintf(ca_crt, sizeof ca_crt, "%s/ca.crt", dir);
    snprintf(srv_crt, sizeof srv_crt, "%s/server.crt", dir);
    snprintf(srv_key, sizeof srv_key, "%s/server.key", dir);
    snprintf(other_key, sizeof other_key, "%s/other.key", dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout ca.key -out ca.crt -days 2 -subj /CN=ca 2>/dev/null && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
             "-out server.csr -subj /CN=localhost 2>/dev/null && "
             "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out server.crt -days 2 -extfile san.ext 2>/dev/null && "
             "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out other.key "
             "2>/dev/null",
             dir);
    return sh(cmd);
}

static void write_file(const char *path, const char *text)
{
    /* Written beside and renamed, as a deployment tool replaces a file: no reader sees half. */
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
    REQUIRE(rename(tmp, path) == 0);
}

/* A bcrypt hash of `pw` at cost 4. */
static void bcrypt4(const char *pw, char *out, size_t cap)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    REQUIRE(crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof salt) != NULL);
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    const char *h = crypt_rn(pw, salt, &data, sizeof data);
    REQUIRE(h != NULL && h[0] == '$');
    snprintf(out, cap, "%s", h);
}

/* `tmpl` with a leading "@TLS@" replaced by `tls`. */
static void expand(char *out, size_t cap, const char *tmpl, const char *tls)
{
    if (strncmp(tmpl, "@TLS@", 5) == 0)
        snprintf(out, cap, "%s%s", tls, tmpl + 5);
    else
        snprintf(out, cap, "%s", tmpl);
}

/* ---- files that must not load ---------------------------------------------------------------- */

static void config_errors(void)
{
    REQUIRE(make_certs());
    char hash[128];
    bcrypt4("pw", hash, sizeof hash);
    char tls[800];
    snprintf(tls, sizeof tls, "tls_server_config:\n  cert_file: %s\n  key_file: %s\n", srv_crt,
             srv_key);
    static const struct {
        const char *text; /* "@TLS@" at the start stands for the TLS section */
        const char *want; /* in promc_last_error() */
    } bad[] = {
        {"tls_config: {}\n", "line 1: tls_config: unknown key"},
        {"@TLS@  cert_file: again.crt\n", "tls_server_config.cert_file: given twice"},
        {"@TLS@  client_auth_type: Sometimes\n", "unknown client auth type 'Sometimes'"},
        {"@TLS@  min_version: TLS12\n  max_version: TLS11\n", "TLS12 is above max_version TLS11"},
        {"@TLS@  min_version: [TLS12]\n", "min_version: expected a string, found a list"},
        {"@TLS@  cipher_suites: TLS_AES_128_GCM_SHA256\n", "cipher_suites: expected a list"},
        {"@TLS@  cipher_suites: [TLS_AES_128_GCM_SHA256]\n  max_version: TLS12\n",
         "only TLS 1.3 suites"},
        {"@TLS@  curve_preferences: [{a: b}]\n", "expected a curve name"},
        {"@TLS@  prefer_server_cipher_suites: 'true'\n", "expected true or false"},
        {"tls_server_config:\n  cert_file: /nonexistent/c.pem\n  key_file: /nonexistent/k.pem\n",
         "tls_server_config.cert_file '/nonexistent/c.pem': cannot load the certificate"},
        {"http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Frame-Options: deny\n",
         "'X-Frame-Options' given twice"},
        {"http_server_config:\n  headers:\n    Content-Security-Policy: [a]\n",
         "headers.Content-Security-Policy: expected a string"},
        {"http_server_config: []\n", "http_server_config: expected a mapping, found a list"},
        {"basic_auth_users:\n  u: $2b$03$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
         "the cost is outside 4..31"},
        {"basic_auth_users:\n  u: $2q$10$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
         "does not start with $2a$"},
        {"basic_auth_users:\n  u: $2b$10$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\n",
         "outside bcrypt's base64 alphabet"},
        {"basic_auth_users:\n  u:\n", "basic_auth_users.u: not a bcrypt hash"},
        {"basic_auth_users:\n  ? [a, b]\n  : x\n", "a key must be a string"},
        {"basic_auth_users: &a\n  u: *a\n", "basic_auth_users.u: expected a string"},
        {"\"tls_server_config\": {\"cert_file\": 1, \"key_file\": 2, \"extra\": 3}\n",
         "tls_server_config.extra: unknown key"},
        {"a: [\n", "line 2"},
        {"just a string\n", "the file: expected a mapping, found a single value"},
        {"\t- tab\n", "line 1"},
    };
    char text[2048], path[400];
    snprintf(path, sizeof path, "%s/bad.yml", dir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expand(text, sizeof text, bad[i].text, tls);
        write_file(path, text);
        int rc = promc_http_web_config_check(path);
        const char *msg = promc_last_error();
        if (rc != PROMC_ECONFIG || strstr(msg, bad[i].want) == NULL || !strstr(msg, path))
            fprintf(stderr, "case %zu: rc %d, message '%s', want '%s'\n", i, rc, msg, bad[i].want);
        CHECK(rc == PROMC_ECONFIG && strstr(msg, bad[i].want) && strstr(msg, path));
    }
    /* A key that is not the certificate's. */
    snprintf(text, sizeof text, "tls_server_config:\n  cert_file: %s\n  key_file: %s\n", srv_crt,
             other_key);
    write_file(path, text);
    CHECK_RC(promc_http_web_config_check(path), PROMC_ECONFIG);
    CHECK(strstr(promc_last_error(), "tls_server_config.key_file") != NULL);
    CHECK(strstr(promc_last_error(), "the private key does not match cert_file") != NULL);
    /* Not a file, nothing there, too large. */
    CHECK_RC(promc_http_web_config_check(dir), PROMC_ECONFIG);
    CHECK_RC(promc_http_web_config_check("/nonexistent/web.yml"), PROMC_ECONFIG);
    CHECK(strstr(promc_last_error(), "No such file") != NULL);
    char *big = malloc(2u << 20);
    REQUIRE(big != NULL);
    memset(big, '#', (2u << 20) - 1);
    big[(2u << 20) - 1] = '\0';
    write_file(path, big);
    free(big);
    CHECK_RC(promc_http_web_config_check(path), PROMC_ECONFIG);
    CHECK(strstr(promc_last_error(), "larger than") != NULL);
    CHECK_RC(promc_http_web_config_check(NULL), PROMC_EINVAL);
    /* The server refuses to start with it, and nothing is left listening. */
    write_file(path, "tls_server_config: {bogus: 1}\n");
    promc_http_server_t *s = NULL;
    CHECK_RC(
        promc_http_server_new(&s, &(promc_http_opts_t){.address = LOCAL, .web_config_file = path}),
        PROMC_ECONFIG);
    CHECK(s == NULL);

    /* Files that load: empty, comments only, nulls, YAML 1.1 booleans, a second document. */
    static const char *const good[] = {
        "",
        "# nothing\n",
        "tls_server_config:\nhttp_server_config: ~\nbasic_auth_users: null\n",
        "http_server_config:\n  http2: off\n  headers: {X-XSS-Protection: '1; mode=block'}\n",
        "@TLS@  prefer_server_cipher_suites: yes\n  client_auth_type: \"\"\n",
        ("@TLS@  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n"
         "  curve_preferences: [X25519, CurveP256]\n---\nignored: second document\n"),
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        expand(text, sizeof text, good[i], tls);
        write_file(path, text);
        int rc = promc_http_web_config_check(path);
        if (rc != 0)
            fprintf(stderr, "good %zu: %s\n", i, promc_last_error());
        CHECK_RC(rc, 0);
    }
    snprintf(text, sizeof text, "basic_auth_users:\n  alice: %s\n", hash);
    write_file(path, text);
    CHECK_RC(promc_http_web_config_check(path), 0);
}

/* ---- an OpenSSL client ------------------------------------------------------------------------
 */

typedef struct tls_client {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
} tls_client_t;

static bool tls_connect(tls_client_t *c, unsigned port)
{
    memset(c, 0, sizeof *c);
    c->fd = hc_connect(port);
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->fd < 0 || c->ctx == NULL || SSL_CTX_load_verify_locations(c->ctx, ca_crt, NULL) != 1)
        return false;
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set1_host(c->ssl, "127.0.0.1");
    struct timeval tv = {5, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (SSL_connect(c->ssl) != 1) {
        ERR_print_errors_fp(stderr);
        return false;
    }
    return true;
}

static void tls_close(tls_client_t *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->ctx)
        SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
}

/* Sends `req` and reads until the server closes; returns the bytes (malloc'ed) or NULL. */
static char *tls_exchange(tls_client_t *c, const char *req, size_t *len)
{
    if (SSL_write(c->ssl, req, (int)strlen(req)) <= 0)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 16384 + 1 > cap)
            buf = realloc(buf, cap *= 2);
        int got = SSL_read(c->ssl, buf + n, 16384);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int k = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        k++;
    return k;
}

static promc_registry_t *registry_with(int children)
{
    promc_registry_t *reg = NULL;
    REQUIRE_RC(promc_registry_new(&reg), 0);
    static const char *const labels[] = {"id"};
    promc_counter_t *c = NULL;
    REQUIRE_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "tls_things",
                                                            .help = "Things.",
                                                            .registry = reg,
                                                            .label_names = labels,
                                                            .label_count = 1}),
               0);
    for (int i = 0; i < children; i++) {
        char v[32];
        snprintf(v, sizeof v, "child-%06d", i);
        const promc_str_t vals[] = {promc_str(v)};
        promc_counter_t *ch = NULL;
        REQUIRE_RC(promc_counter_labels(c, vals, 1, &ch), 0);
        promc_counter_inc(ch);
    }
    return reg;
}

static void tls_serves(void)
{
    REQUIRE(make_certs());
    char path[400], text[1024];
    snprintf(path, sizeof path, "%s/tls.yml", dir);
    snprintf(text, sizeof text,
             "tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
             "http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=60\n",
             srv_crt, srv_key);
    write_file(path, text);
    promc_registry_t *reg = registry_with(20000);
    promc_http_server_t *s = NULL;
    REQUIRE_RC(promc_http_server_new(&s, &(promc_http_opts_t){.address = LOCAL,
                                                              .registry = reg,
                                                              .threads = 2,
                                                              .web_config_file = path}),
               0);
    unsigned port = promc_http_server_port(s);
    /* Two requests on one connection, then a streamed scrape of 20,000 children. */
    tls_client_t c;
    REQUIRE(tls_connect(&c, port));
    size_t len = 0;
    char *out = tls_exchange(&c,
                             "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                             "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                             &len);
    REQUIRE(out != NULL);
    CHECK(count(out, "HTTP/1.1 200 OK\r\n") == 2);
    CHECK(count(out, "Strict-Transport-Security: max-age=60\r\n") == 2);
    CHECK(strstr(out, "Transfer-Encoding: chunked") != NULL);
    CHECK(strstr(out, "tls_things_total{id=\"child-019999\"} 1.0") != NULL);
    CHECK(len > 20000 * 30 && memcmp(out + len - 5, "0\r\n\r\n", 5) == 0);
    free(out);
    tls_close(&c);
    /* Plain HTTP on the TLS port: the connection closes, the server goes on. */
    hc_response_t r;
    CHECK(hc_get(port, "/metrics", NULL, &r) != 0 || r.status == 0);
    hc_response_free(&r);
    REQUIRE(tls_connect(&c, port));
    out = tls_exchange(&c, "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &len);
    CHECK(out && strstr(out, "HTTP/1.1 200 OK") == out);
    free(out);
    tls_close(&c);
    CHECK_RC(hc_close_server(s, 1), 0);
    promc_registry_free(reg);
}

/* ---- basic auth -------------------------------------------------------------------------------
 */

static int status_with(unsigned port, const char *authorization)
{
    char req[4096];
    snprintf(req, sizeof req, "GET /metrics HTTP/1.1\r\nHost: t\r\n%s%s%s\r\n",
             authorization ? "Authorization: " : "", authorization ? authorization : "",
             authorization ? "\r\n" : "");
    hc_response_t r;
    int st = hc_exchange(port, req, &r) == 0 ? r.status : -1;
    if (st == 401) {
        char b[64];
        CHECK(hc_header(&r, "WWW-Authenticate", b, sizeof b) && strcmp(b, "Basic") == 0);
    }
    hc_response_free(&r);
    return st;
}

static void basic_auth(void)
{
    REQUIRE(make_certs());
    char hash[128], path[400], text[1024];
    bcrypt4("open sesame", hash, sizeof hash);
    snprintf(path, sizeof path, "%s/auth.yml", dir);
    snprintf(text, sizeof text, "basic_auth_users:\n  ali: %s\n  \"b:ob\": %s\n", hash, hash);
    write_file(path, text);
    promc_registry_t *reg = registry_with(1);
    promc_http_server_t *s = NULL;
    REQUIRE_RC(
        promc_http_server_new(
            &s, &(promc_http_opts_t){.address = LOCAL, .registry = reg, .web_config_file = path}),
        0);
    unsigned port = promc_http_server_port(s);
    /* "ali:open sesame" */
    CHECK(status_with(port, "Basic YWxpOm9wZW4gc2VzYW1l") == 200);
    CHECK(status_with(port, "basic YWxpOm9wZW4gc2VzYW1l") == 200); /* the scheme is caseless */
    CHECK(status_with(port, NULL) == 401);
    CHECK(status_with(port, "Basic YWxpOm9wZW4gc2VzYW1") == 401);      /* truncated base64 */
    CHECK(status_with(port, "Basic YWxpOm9wZW4gc2VzYW1l=") == 401);    /* bad padding */
    CHECK(status_with(port, "Basic YWxpOm9wZW4g*2VzYW1l") == 401);     /* not base64 */
    CHECK(status_with(port, "Basic YWxp") == 401);                     /* "ali", no colon */
    CHECK(status_with(port, "Basic YWxpOm9wZW4gc2VzYW1lIA==") == 401); /* a trailing space */
    CHECK(status_with(port, "Basic YWxpOm9wZW4Ac2VzYW1l") == 401);     /* a NUL inside */
    CHECK(status_with(port, "Bearer YWxpOm9wZW4gc2VzYW1l") == 401);
    CHECK(status_with(port, "Basic ") == 401);
    CHECK(status_with(port, "Basic") == 401);
    /* "b:ob:open sesame": the user name ends at the first colon, so this is user "b". */
    CHECK(status_with(port, "Basic YjpvYjpvcGVuIHNlc2FtZQ==") == 401);
    char longhdr[3000] = "Basic ";
    memset(longhdr + 6, 'Q', sizeof longhdr - 7);
    longhdr[sizeof longhdr - 1] = '\0';
    CHECK(status_with(port, longhdr) == 401);
    /* Cached: the hundredth check of the same credentials costs no bcrypt. */
    double t0 = hc_now();
    for (int i = 0; i < 100; i++)
        CHECK(status_with(port, "Basic YWxpOm9wZW4gc2VzYW1l") == 200);
    CHECK(hc_now() - t0 < 5);
    CHECK_RC(hc_close_server(s, 1), 0);
    promc_registry_free(reg);
}

/* ---- deadlines and garbage ---------------------------------------------------------------------
 */

static void handshake_deadline(void)
{
    REQUIRE(make_certs());
    char path[400], text[1024];
    snprintf(path, sizeof path, "%s/hs.yml", dir);
    snprintf(text, sizeof text, "tls_server_config:\n  cert_file: %s\n  key_file: %s\n", srv_crt,
             srv_key);
    write_file(path, text);
    promc_registry_t *reg = registry_with(1);
    promc_http_server_t *s = NULL;
    REQUIRE_RC(promc_http_server_new(&s, &(promc_http_opts_t){.address = LOCAL,
                                                              .registry = reg,
                                                              .timeout_seconds = 30,
                                                              .header_timeout_seconds = 0.5,
                                                              .web_config_file = path}),
               0);
    unsigned port = promc_http_server_port(s);
    /* Silent, half a ClientHello, and a complete handshake with no request after it. */
    int silent = hc_connect(port), half = hc_connect(port);
    CHECK(hc_send(half, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
    tls_client_t idle;
    REQUIRE(tls_connect(&idle, port));
    double t0 = hc_now();
    int fds[3] = {silent, half, idle.fd};
    for (int i = 0; i < 3; i++) {
        char b[64];
        bool closed = false;
        while (!closed && hc_now() - t0 < 5)
            if (hc_wait_readable(fds[i], 100) == 1)
                closed = read(fds[i], b, sizeof b) <= 0 || i == 2; /* the TLS one: an alert */
        CHECK(closed);
    }
    double took = hc_now() - t0;
    CHECK(took >= 0.3 && took < 3);
    /* Garbage of every kind: records with bad lengths, an SSLv2 hello, plain text. */
    static const char *const junk[] = {"\x16\x03\x03\xff\xff", "\x80\x2e\x01\x00\x02",
                                       "\x17\x03\x03\x00\x05hello", "GET / HTTP/1.1\r\n\r\n",
                                       "\x15\x03\x03\x00\x02\x02\x28"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        int fd = hc_connect(port);
        CHECK(hc_send(fd, junk[i], strlen(junk[i]) ? strlen(junk[i]) : 5));
        char b[256];
        bool closed = false;
        double t1 = hc_now();
        while (!closed && hc_now() - t1 < 3)
            if (hc_wait_readable(fd, 100) == 1)
                closed = read(fd, b, sizeof b) <= 0;
        CHECK(closed);
        close(fd);
    }
    tls_client_t c;
    REQUIRE(tls_connect(&c, port));
    size_t len;
    char *out =
        tls_exchange(&c, "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &len);
    CHECK(out && strstr(out, "HTTP/1.1 200 OK") == out);
    free(out);
    tls_close(&c);
    close(silent);
    close(half);
    tls_close(&idle);
    CHECK_RC(hc_close_server(s, 1), 0);
    promc_registry_free(reg);
}

/* ---- re-reading --------------------------------------------------------------------------------
 */

static atomic_int log_ok, log_err;

static void on_log(void *ud, bool error, const char *message)
{
    (void)ud;
    (void)message;
    atomic_fetch_add(error ? &log_err : &log_ok, 1);
}

static void reload(void)
{
    REQUIRE(make_certs());
    char h1[128], h2[128], path[400], text[1024];
    bcrypt4("one", h1, sizeof h1);
    bcrypt4("two", h2, sizeof h2);
    snprintf(path, sizeof path, "%s/reload.yml", dir);
    snprintf(text, sizeof text, "basic_auth_users:\n  u: %s\n", h1);
    write_file(path, text);
    promc_registry_t *reg = registry_with(1);
    promc_http_server_t *s = NULL;
    REQUIRE_RC(promc_http_server_new(&s, &(promc_http_opts_t){.address = LOCAL,
                                                              .registry = reg,
                                                              .threads = 2,
                                                              .web_config_file = path,
                                                              .log_fn = on_log}),
               0);
    unsigned port = promc_http_server_port(s);
    const char *one = "Basic dTpvbmU=", *two = "Basic dTp0d28="; /* u:one, u:two */
    CHECK(status_with(port, one) == 200 && status_with(port, two) == 401);
    snprintf(text, sizeof text, "basic_auth_users:\n  u: %s\n", h2);
    write_file(path, text);
    double t0 = hc_now();
    while (status_with(port, two) != 200 && hc_now() - t0 < 5)
        hc_sleep_ms(50);
    CHECK(status_with(port, two) == 200 && status_with(port, one) == 401);
    CHECK(atomic_load(&log_ok) == 1);
    write_file(path, "basic_auth_users: {u: 1}\n");
    t0 = hc_now();
    while (status_with(port, two) != 500 && hc_now() - t0 < 5)
        hc_sleep_ms(50);
    CHECK(status_with(port, two) == 500 && atomic_load(&log_err) == 1);
    CHECK(status_with(port, NULL) == 500);
    write_file(path, text);
    t0 = hc_now();
    while (status_with(port, two) != 200 && hc_now() - t0 < 5)
        hc_sleep_ms(50);
    CHECK(status_with(port, two) == 200 && atomic_load(&log_ok) == 2);
    /* A file that disappears is a broken one too. */
    CHECK(unlink(path) == 0);
    t0 = hc_now();
    while (status_with(port, two) != 500 && hc_now() - t0 < 5)
        hc_sleep_ms(50);
    CHECK(status_with(port, two) == 500);
    CHECK_RC(hc_close_server(s, 1), 0);
    promc_registry_free(reg);
}

static const check_case_t cases[] = {
    CHECK_CASE(config_errors),      CHECK_CASE(tls_serves), CHECK_CASE(basic_auth),
    CHECK_CASE(handshake_deadline), CHECK_CASE(reload),
};

int main(int argc, char **argv)
{
    int rc = CHECK_MAIN("test_http_tls", cases, argc, argv);
    if (dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void)sh(cmd);
    }
    return rc;
}
