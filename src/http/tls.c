/* SPDX-License-Identifier: Apache-2.0 */
/* TLS: the OpenSSL context a web configuration describes, in the terms of Go's crypto/tls as the
 * exporter-toolkit uses it, and a connection's bufferevent (libevent's bufferevent_openssl).
 *
 * The mapping, field by field:
 *   cert_file, key_file     the chain and its key; a key that does not match is refused here,
 *                           as Go's LoadX509KeyPair refuses it
 *   client_auth_type        NoClientCert: no request; RequestClientCert: requested, anything
 *                           accepted; RequireAnyClientCert: required, anything accepted;
 *                           VerifyClientCertIfGiven: verified when sent;
 * RequireAndVerifyClientCert: required and verified (against client_ca_file, else the system's CAs,
 *                           as Go verifies against them when ClientCAs is unset)
 *   min_version/max_version the protocol range (TLS12..TLS13 by default); a minimum below TLS 1.2
 *                           also lowers OpenSSL's security level to 0, without which OpenSSL 3
 *                           refuses TLS 1.0 and 1.1 whatever the range says
 *   cipher_suites           OpenSSL's names for Go's (webconfig.c); TLS 1.3 suites are fixed, in
 *                           Go as here
 *   curve_preferences       the groups offered for key exchange
 *   prefer_server_cipher_suites  the server's order wins (Go 1.17 and later ignore it) */
#include "webconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "err.h"

/* The reason OpenSSL gave for the last failure on this thread ("no such file", "key values
 * mismatch"), and the queue emptied. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    if (last == 0)
        snprintf(buf, len, "failed");
    else
        ERR_error_string_n(last, buf, len);
    return buf;
}

const char *promc__tls_version_name(int v)
{
    switch (v) {
    case TLS1_VERSION:
        return "TLS10";
    case TLS1_1_VERSION:
        return "TLS11";
    case TLS1_2_VERSION:
        return "TLS12";
    case TLS1_3_VERSION:
        return "TLS13";
    default:
        return "?";
    }
}

/* RequestClientCert and RequireAnyClientCert: whatever certificate comes is taken unverified. */
static int accept_any(int preverify_ok, X509_STORE_CTX *x)
{
    (void)preverify_ok;
    (void)x;
    return 1;
}

static int fail(SSL_CTX *ctx, const char *path, const char *field, const char *file,
                const char *what)
{
    char reason[256];
    ssl_reason(reason, sizeof reason);
    SSL_CTX_free(ctx);
    if (file)
        return promc__err(PROMC_ECONFIG, "web config '%s': tls_server_config.%s '%s': %s (%s)",
                          path, field, file, what, reason);
    return promc__err(PROMC_ECONFIG, "web config '%s': tls_server_config.%s: %s (%s)", path, field,
                      what, reason);
}

int promc__tls_ctx_build(promc__webcfg_t *c, const char *path)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return promc__err(PROMC_ENOMEM, "web config '%s': SSL_CTX_new failed", path);
    int min = c->min_version, max = c->max_version;
    if (c->tls13_only) {
        if (max < TLS1_3_VERSION)
            return fail(ctx, path, "cipher_suites", NULL,
                        "only TLS 1.3 suites are named, but max_version is below TLS13");
        min = TLS1_3_VERSION;
    }
    if (min < TLS1_2_VERSION)
        SSL_CTX_set_security_level(ctx, 0);
    if (!SSL_CTX_set_min_proto_version(ctx, min) || !SSL_CTX_set_max_proto_version(ctx, max))
        return fail(ctx, path, "min_version", NULL, "this OpenSSL cannot serve the range");
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 (c->prefer_server_ciphers ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
    /* An idle connection gives its read and write buffers back (34 KB each otherwise). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    static const unsigned char sid_ctx[] = "promc";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);

    if (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1)
        return fail(ctx, path, "cert_file", c->cert_file, "cannot load the certificate");
    if (SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) != 1) {
        /* OpenSSL compares the key with the certificate as it loads it. */
        int reason = ERR_GET_REASON(ERR_peek_last_error());
        bool mismatch = reason == X509_R_KEY_VALUES_MISMATCH || reason == X509_R_KEY_TYPE_MISMATCH;
        return fail(ctx, path, "key_file", c->key_file,
                    mismatch ? "the private key does not match cert_file"
                             : "cannot load the private key");
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
        return fail(ctx, path, "key_file", c->key_file, "the private key does not match cert_file");
    if (c->cipher_list && SSL_CTX_set_cipher_list(ctx, c->cipher_list) != 1)
        return fail(ctx, path, "cipher_suites", NULL, "this OpenSSL has none of these suites");
    if (c->groups && SSL_CTX_set1_groups_list(ctx, c->groups) != 1)
        return fail(ctx, path, "curve_preferences", NULL, "this OpenSSL refuses these curves");

    bool verify = c->client_auth == PROMC__CLIENT_VERIFY_IF_GIVEN ||
                  c->client_auth == PROMC__CLIENT_REQUIRE_VERIFY;
    if (c->client_ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, c->client_ca_file, NULL) != 1)
            return fail(ctx, path, "client_ca_file", c->client_ca_file,
                        "cannot load the CA certificates");
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->client_ca_file);
        if (names == NULL)
            return fail(ctx, path, "client_ca_file", c->client_ca_file, "holds no CA certificate");
        SSL_CTX_set_client_CA_list(ctx, names); /* the CAs a client is told to pick from */
    } else if (verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        return fail(ctx, path, "client_ca_file", NULL, "no file, and no system CAs to use");
    }
    switch (c->client_auth) {
    case PROMC__CLIENT_REQUEST:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
        break;
    case PROMC__CLIENT_REQUIRE_ANY:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
        break;
    case PROMC__CLIENT_VERIFY_IF_GIVEN:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        break;
    case PROMC__CLIENT_REQUIRE_VERIFY:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        break;
    default:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        break;
    }
    c->ctx = ctx;
    return 0;
}

struct ssl_ctx_st *promc__tls_ctx_refusing(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    /* No certificate: every handshake fails (the server sends a handshake_failure alert). */
    if (ctx)
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

void promc__tls_ctx_free(struct ssl_ctx_st *ctx)
{
    SSL_CTX_free(ctx);
}

struct bufferevent *promc__tls_bev_new(struct event_base *base, struct ssl_ctx_st *ctx)
{
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL)
        return NULL;
    /* With BEV_OPT_CLOSE_ON_FREE the bufferevent frees the SSL and closes the socket when
     * libevent finalizes it, which happens in a later callback of the loop, after evhttp's
     * shutdown() of the socket (evhttp does not close a socket its bufferevent closes): the
     * descriptor still cannot pass to another thread in between (conn.c). */
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    /* A client that closes without close_notify (most do after a response) ends the connection
     * as an EOF, not as an error. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}
