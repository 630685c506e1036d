/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to src/http: the exporter-toolkit web configuration file (web-config.yml), as
 * Prometheus exporters read it with --web.config.file:
 *   webconfig.c  the file: parsed with libyaml, checked, watched for changes
 *   tls.c        the OpenSSL context it describes, and the TLS bufferevent of a connection
 *   auth.c       basic_auth_users (bcrypt through crypt(3)) and the configured headers
 * OpenSSL and libyaml types stay in these files. */
#ifndef PROMC_HTTP_WEBCONFIG_H
#define PROMC_HTTP_WEBCONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ssl_ctx_st;
struct bufferevent;
struct event_base;

/* client_auth_type, as Go's crypto/tls names them. */
enum {
    PROMC__CLIENT_NONE,            /* NoClientCert (also ""): no certificate asked for */
    PROMC__CLIENT_REQUEST,         /* RequestClientCert: asked for, not required, not verified */
    PROMC__CLIENT_REQUIRE_ANY,     /* RequireAnyClientCert: required, not verified */
    PROMC__CLIENT_VERIFY_IF_GIVEN, /* VerifyClientCertIfGiven: verified when sent */
    PROMC__CLIENT_REQUIRE_VERIFY,  /* RequireAndVerifyClientCert: required and verified */
};

/* What a file was when it was read: a change to any of these makes the configuration reload. */
typedef struct promc__file_stamp {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    bool missing;
} promc__file_stamp_t;

#define PROMC__WEBCFG_FILES 4 /* the file itself, cert_file, key_file, client_ca_file */

/* One reading of the file.  Immutable once loaded; shared by reference count. */
typedef struct promc__webcfg {
    atomic_uint refs;
    /* Not NULL: the file could not be used when it was re-read (this message says why), and the
     * server answers 500 and refuses TLS handshakes until it is fixed, as the toolkit does. */
    char *error;
    /* tls_server_config.  Paths are joined with the file's directory. */
    bool has_tls; /* any of cert_file, key_file, client_auth_type, client_ca_file */
    char *cert_file, *key_file, *client_ca_file;
    int client_auth;              /* PROMC__CLIENT_* */
    int min_version, max_version; /* TLS1_VERSION .. TLS1_3_VERSION; 0: not given */
    char *cipher_list; /* OpenSSL names for TLS 1.2 and below, ':'-separated; NULL: default */
    bool tls13_only;   /* cipher_suites named only TLS 1.3 suites: nothing below 1.3 */
    char *groups;      /* curve_preferences as OpenSSL group names; NULL: default */
    bool prefer_server_ciphers;
    struct ssl_ctx_st *ctx; /* built from the above when has_tls (tls.c) */
    /* http_server_config.headers */
    size_t nheaders;
    char **header_names, **header_values;
    /* basic_auth_users */
    size_t nusers;
    char **users, **hashes;
    promc__file_stamp_t stamps[PROMC__WEBCFG_FILES];
} promc__webcfg_t;

/* Reads and checks the file, builds its TLS context.  Returns 0 with *out (one reference), or
 * PROMC_ECONFIG (or PROMC_ENOMEM) with a message naming the file and the field. */
int promc__webcfg_load(const char *path, promc__webcfg_t **out);

/* A configuration that stands for a file that failed to re-read (see `error`), or NULL when
 * out of memory. */
promc__webcfg_t *promc__webcfg_failed(const char *path, const char *message);

/* Whether any file the configuration was read from has changed since (or appeared, or gone). */
bool promc__webcfg_changed(const promc__webcfg_t *c, const char *path);

void promc__webcfg_ref(promc__webcfg_t *c);
void promc__webcfg_unref(promc__webcfg_t *c);

/* ---- tls.c -------------------------------------------------------------------------------------
 */

/* Builds c->ctx from the tls_server_config fields.  Returns 0 or PROMC_ECONFIG with a message
 * naming the field (a certificate that does not load, a key that does not match it...). */
int promc__tls_ctx_build(promc__webcfg_t *c, const char *path);

/* A context that completes no handshake (no certificate): for connections while the file is
 * broken.  NULL when out of memory. */
struct ssl_ctx_st *promc__tls_ctx_refusing(void);

void promc__tls_ctx_free(struct ssl_ctx_st *ctx);

/* The bufferevent of a new TLS connection (its socket set later by evhttp), accepting a handshake
 * with `ctx`; NULL when out of memory. */
struct bufferevent *promc__tls_bev_new(struct event_base *base, struct ssl_ctx_st *ctx);

/* The TLS name of a version constant ("TLS12"), for messages. */
const char *promc__tls_version_name(int v);

/* ---- auth.c ------------------------------------------------------------------------------------
 */

/* Whether a bcrypt hash is well formed, as Go's bcrypt.Cost() checks it ($2a$, $2b$, $2x$ or $2y$,
 * a two-digit cost of 4 to 31, 53 characters of salt and hash).  On failure *why says what. */
bool promc__bcrypt_hash_ok(const char *hash, const char **why);

#endif
