/* SPDX-License-Identifier: Apache-2.0 */
/* The web configuration file, read as the exporter-toolkit reads it: YAML (through libyaml's
 * document loader) into three sections, every key known (the toolkit unmarshals strictly), every
 * value checked, relative paths taken from the file's directory.  Loading also builds the TLS
 * context (tls.c), so a configuration that loads is one that serves.  The server keeps the files'
 * stamps and re-reads when one changes (see http_internal.h). */
#include "webconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/ssl.h>
#include <yaml.h>

#include "alloc.h"
#include "err.h"

#define MAX_FILE_BYTES (1u << 20) /* a web config is a few lines; more is not one */

/* ---- reference counting ------------------------------------------------------------------------
 */

void promc__webcfg_ref(promc__webcfg_t *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

static void free_list(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        promc__free(v[i]);
    promc__free(v);
}

static void webcfg_free(promc__webcfg_t *c)
{
    promc__free(c->error);
    promc__free(c->cert_file);
    promc__free(c->key_file);
    promc__free(c->client_ca_file);
    promc__free(c->cipher_list);
    promc__free(c->groups);
    promc__tls_ctx_free(c->ctx);
    free_list(c->header_names, c->nheaders);
    free_list(c->header_values, c->nheaders);
    free_list(c->users, c->nusers);
    free_list(c->hashes, c->nusers);
    promc__free(c);
}

void promc__webcfg_unref(promc__webcfg_t *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        webcfg_free(c);
}

/* ---- file stamps --------------------------------------------------------------------------------
 */

static void stamp_file(promc__file_stamp_t *s, const char *path)
{
    memset(s, 0, sizeof *s);
    struct stat st;
    if (path == NULL)
        return;
    if (stat(path, &st) != 0) {
        s->missing = true;
        return;
    }
    s->dev = (uint64_t)st.st_dev;
    s->ino = (uint64_t)st.st_ino;
    s->size = (uint64_t)st.st_size;
    s->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    s->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

static const char *stamped_path(const promc__webcfg_t *c, const char *path, int i)
{
    switch (i) {
    case 0:
        return path;
    case 1:
        return c->cert_file;
    case 2:
        return c->key_file;
    default:
        return c->client_ca_file;
    }
}

bool promc__webcfg_changed(const promc__webcfg_t *c, const char *path)
{
    for (int i = 0; i < PROMC__WEBCFG_FILES; i++) {
        promc__file_stamp_t now;
        stamp_file(&now, stamped_path(c, path, i));
        if (memcmp(&now, &c->stamps[i], sizeof now) != 0)
            return true;
    }
    return false;
}

/* ---- the YAML walk
 * ------------------------------------------------------------------------------- */

typedef struct parse {
    const char *path;
    yaml_document_t *doc;
    promc__webcfg_t *c;
    char *dir; /* the file's directory, for relative paths */
} parse_t;

/* An error at a node: "web config 'F': line L: FIELD: what". */
static int fail_at(parse_t *p, const yaml_node_t *n, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(parse_t *p, const yaml_node_t *n, const char *field, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (n)
        return promc__err(PROMC_ECONFIG, "web config '%s': line %zu: %s: %s", p->path,
                          (size_t)n->start_mark.line + 1, field, what);
    return promc__err(PROMC_ECONFIG, "web config '%s': %s: %s", p->path, field, what);
}

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* YAML's null: an empty plain scalar, "~", "null" (any capitalisation yaml.v2 takes). */
static bool is_null(const yaml_node_t *n)
{
    if (n == NULL)
        return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = scalar(n);
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a single value";
    }
}

/* A string field: any scalar, as yaml.v2 takes its text; null leaves it unset. */
static int get_string(parse_t *p, const yaml_node_t *n, const char *field, char **out)
{
    if (is_null(n))
        return 0;
    if (n->type != YAML_SCALAR_NODE)
        return fail_at(p, n, field, "expected a string, found %s", node_kind(n));
    char *s = promc__strdup(scalar(n));
    if (s == NULL)
        return promc__err(PROMC_ENOMEM, "web config");
    promc__free(*out);
    *out = s;
    return 0;
}

/* A boolean, in YAML 1.1's spellings as yaml.v2 reads them (plain scalars only). */
static int get_bool(parse_t *p, const yaml_node_t *n, const char *field, bool *out)
{
    static const char *const yes[] = {"y",  "Y",  "yes",  "Yes",  "YES", "on",
                                      "On", "ON", "true", "True", "TRUE"};
    static const char *const no[] = {"n",   "N",   "no",    "No",    "NO",   "off",
                                     "Off", "OFF", "false", "False", "FALSE"};
    if (is_null(n))
        return 0;
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
            if (strcmp(scalar(n), yes[i]) == 0) {
                *out = true;
                return 0;
            }
            if (strcmp(scalar(n), no[i]) == 0) {
                *out = false;
                return 0;
            }
        }
    }
    return fail_at(p, n, field, "expected true or false, found '%s'",
                   n->type == YAML_SCALAR_NODE ? scalar(n) : node_kind(n));
}

/* A path: relative ones are taken from the file's directory, as the toolkit's JoinDir does. */
static int get_path(parse_t *p, const yaml_node_t *n, const char *field, char **out)
{
    int rc = get_string(p, n, field, out);
    if (rc != 0 || *out == NULL || (*out)[0] == '/' || (*out)[0] == '\0')
        return rc;
    size_t dl = strlen(p->dir), fl = strlen(*out);
    char *joined = promc__malloc(dl + 1 + fl + 1);
    if (joined == NULL)
        return promc__err(PROMC_ENOMEM, "web config");
    memcpy(joined, p->dir, dl);
    joined[dl] = '/';
    memcpy(joined + dl + 1, *out, fl + 1);
    promc__free(*out);
    *out = joined;
    return 0;
}

typedef int (*field_fn)(parse_t *p, const yaml_node_t *value, const char *field);

typedef struct field {
    const char *key;
    field_fn fn;
} field_t;

/* Walks a mapping whose keys must all be in `fields`, each at most once. */
static int walk_mapping(parse_t *p, const yaml_node_t *n, const char *section,
                        const field_t *fields, size_t nfields)
{
    if (is_null(n))
        return 0;
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(p, n, section[0] ? section : "the file", "expected a mapping, found %s",
                       node_kind(n));
    bool seen[16] = {false};
    for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
         pair++) {
        const yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
        const yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
        if (k == NULL || k->type != YAML_SCALAR_NODE)
            return fail_at(p, k, section[0] ? section : "the file", "a key must be a string");
        size_t i;
        for (i = 0; i < nfields; i++)
            if (strcmp(fields[i].key, scalar(k)) == 0)
                break;
        char field[128];
        snprintf(field, sizeof field, "%s%s%s", section, section[0] ? "." : "", scalar(k));
        if (i == nfields)
            return fail_at(p, k, field, "unknown key");
        if (seen[i])
            return fail_at(p, k, field, "given twice");
        seen[i] = true;
        int rc = fields[i].fn(p, v, field);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Walks a mapping of strings to strings (users, headers): each key once. */
typedef int (*pair_fn)(parse_t *p, const yaml_node_t *k, const yaml_node_t *v, const char *field);

static int walk_string_map(parse_t *p, const yaml_node_t *n, const char *section, pair_fn fn)
{
    if (is_null(n))
        return 0;
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(p, n, section, "expected a mapping, found %s", node_kind(n));
    for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top;
         pair++) {
        const yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
        const yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
        if (k == NULL || k->type != YAML_SCALAR_NODE)
            return fail_at(p, k, section, "a key must be a string");
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pair; q++) {
            const yaml_node_t *k2 = yaml_document_get_node(p->doc, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE && strcmp(scalar(k2), scalar(k)) == 0)
                return fail_at(p, k, section, "'%s' given twice", scalar(k));
        }
        char field[256];
        snprintf(field, sizeof field, "%s.%s", section, scalar(k));
        if (v == NULL || v->type != YAML_SCALAR_NODE)
            return fail_at(p, v ? v : k, field, "expected a string, found %s",
                           v ? node_kind(v) : "nothing");
        int rc = fn(p, k, v, field);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int push_pair(char ***names, char ***values, size_t *n, const char *name, const char *value)
{
    char **nn = promc__realloc(*names, (*n + 1) * sizeof *nn);
    if (nn == NULL)
        return promc__err(PROMC_ENOMEM, "web config");
    *names = nn;
    char **vv = promc__realloc(*values, (*n + 1) * sizeof *vv);
    if (vv == NULL)
        return promc__err(PROMC_ENOMEM, "web config");
    *values = vv;
    nn[*n] = promc__strdup(name);
    vv[*n] = promc__strdup(value);
    if (nn[*n] == NULL || vv[*n] == NULL) {
        promc__free(nn[*n]);
        promc__free(vv[*n]);
        return promc__err(PROMC_ENOMEM, "web config");
    }
    (*n)++;
    return 0;
}

/* ---- tls_server_config ------------------------------------------------------------------------
 */

static int f_cert_file(parse_t *p, const yaml_node_t *v, const char *field)
{
    return get_path(p, v, field, &p->c->cert_file);
}

static int f_key_file(parse_t *p, const yaml_node_t *v, const char *field)
{
    return get_path(p, v, field, &p->c->key_file);
}

static int f_client_ca_file(parse_t *p, const yaml_node_t *v, const char *field)
{
    return get_path(p, v, field, &p->c->client_ca_file);
}

static int f_client_auth_type(parse_t *p, const yaml_node_t *v, const char *field)
{
    static const struct {
        const char *name;
        int value;
    } types[] = {
        {"", PROMC__CLIENT_NONE},
        {"NoClientCert", PROMC__CLIENT_NONE},
        {"RequestClientCert", PROMC__CLIENT_REQUEST},
        {"RequireAnyClientCert", PROMC__CLIENT_REQUIRE_ANY},
        {"RequireClientCert", PROMC__CLIENT_REQUIRE_ANY}, /* the toolkit's older name */
        {"VerifyClientCertIfGiven", PROMC__CLIENT_VERIFY_IF_GIVEN},
        {"RequireAndVerifyClientCert", PROMC__CLIENT_REQUIRE_VERIFY},
    };
    char *s = NULL;
    int rc = get_string(p, v, field, &s);
    if (rc != 0 || s == NULL)
        return rc;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(types[i].name, s) == 0) {
            p->c->client_auth = types[i].value;
            p->c->has_tls |= s[0] != '\0';
            promc__free(s);
            return 0;
        }
    }
    rc = fail_at(p, v, field,
                 "unknown client auth type '%s' (NoClientCert, RequestClientCert, "
                 "RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)",
                 s);
    promc__free(s);
    return rc;
}

static int get_version(parse_t *p, const yaml_node_t *v, const char *field, int *out)
{
    static const struct {
        const char *name;
        int value;
    } versions[] = {
        {"TLS10", TLS1_VERSION},
        {"TLS11", TLS1_1_VERSION},
        {"TLS12", TLS1_2_VERSION},
        {"TLS13", TLS1_3_VERSION},
    };
    char *s = NULL;
    int rc = get_string(p, v, field, &s);
    if (rc != 0 || s == NULL)
        return rc;
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        if (strcmp(versions[i].name, s) == 0) {
            *out = versions[i].value;
            promc__free(s);
            return 0;
        }
    }
    rc = fail_at(p, v, field, "unknown TLS version '%s' (TLS10, TLS11, TLS12, TLS13)", s);
    promc__free(s);
    return rc;
}

static int f_min_version(parse_t *p, const yaml_node_t *v, const char *field)
{
    return get_version(p, v, field, &p->c->min_version);
}

static int f_max_version(parse_t *p, const yaml_node_t *v, const char *field)
{
    return get_version(p, v, field, &p->c->max_version);
}

/* The suites Go's tls.CipherSuites() lists (its secure ones, which are all the toolkit takes),
 * with OpenSSL's names; the TLS 1.3 suites are not configurable in Go and are ignored here too.
 * tests/e2e/e2e_webconfig.py checks this table against the Go on the machine. */
static const struct {
    const char *go, *openssl; /* openssl NULL: a TLS 1.3 suite */
} ciphers[] = {
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_AES_128_GCM_SHA256", NULL},
    {"TLS_AES_256_GCM_SHA384", NULL},
    {"TLS_CHACHA20_POLY1305_SHA256", NULL},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
};

static const struct {
    const char *go, *openssl;
} curves[] = {
    {"CurveP256", "P-256"},
    {"CurveP384", "P-384"},
    {"CurveP521", "P-521"},
    {"X25519", "X25519"},
};

/* Appends `name` to a ':'-separated list. */
static int list_append(char **list, const char *name)
{
    size_t old = *list ? strlen(*list) : 0, add = strlen(name);
    char *s = promc__realloc(*list, old + (old ? 1 : 0) + add + 1);
    if (s == NULL)
        return promc__err(PROMC_ENOMEM, "web config");
    if (old)
        s[old++] = ':';
    memcpy(s + old, name, add + 1);
    *list = s;
    return 0;
}

/* A list of names, each looked up in a table of (Go name, OpenSSL name). */
static int get_name_list(parse_t *p, const yaml_node_t *v, const char *field, const char *what,
                         const char *(*lookup)(const char *go, bool *known), char **out,
                         size_t *count)
{
    *count = 0;
    if (is_null(v))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE)
        return fail_at(p, v, field, "expected a list, found %s", node_kind(v));
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        const yaml_node_t *n = yaml_document_get_node(p->doc, *it);
        if (n == NULL || n->type != YAML_SCALAR_NODE)
            return fail_at(p, n ? n : v, field, "expected a %s name", what);
        bool known = false;
        const char *name = lookup(scalar(n), &known);
        if (!known)
            return fail_at(p, n, field, "unknown %s '%s'", what, scalar(n));
        (*count)++;
        if (name != NULL) {
            int rc = list_append(out, name);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static const char *lookup_cipher(const char *go, bool *known)
{
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++)
        if (strcmp(ciphers[i].go, go) == 0) {
            *known = true;
            return ciphers[i].openssl;
        }
    return NULL;
}

static const char *lookup_curve(const char *go, bool *known)
{
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
        if (strcmp(curves[i].go, go) == 0) {
            *known = true;
            return curves[i].openssl;
        }
    return NULL;
}

static int f_cipher_suites(parse_t *p, const yaml_node_t *v, const char *field)
{
    size_t n = 0;
    promc__free(p->c->cipher_list);
    p->c->cipher_list = NULL;
    int rc = get_name_list(p, v, field, "cipher suite", lookup_cipher, &p->c->cipher_list, &n);
    /* Only TLS 1.3 suites named: Go then has no suite for 1.2 and below, so only 1.3 works. */
    p->c->tls13_only = rc == 0 && n > 0 && p->c->cipher_list == NULL;
    return rc;
}

static int f_curve_preferences(parse_t *p, const yaml_node_t *v, const char *field)
{
    size_t n = 0;
    promc__free(p->c->groups);
    p->c->groups = NULL;
    return get_name_list(p, v, field, "curve", lookup_curve, &p->c->groups, &n);
}

static int f_prefer_server(parse_t *p, const yaml_node_t *v, const char *field)
{
    return get_bool(p, v, field, &p->c->prefer_server_ciphers);
}

static const field_t tls_fields[] = {
    {"cert_file", f_cert_file},
    {"key_file", f_key_file},
    {"client_auth_type", f_client_auth_type},
    {"client_ca_file", f_client_ca_file},
    {"cipher_suites", f_cipher_suites},
    {"curve_preferences", f_curve_preferences},
    {"min_version", f_min_version},
    {"max_version", f_max_version},
    {"prefer_server_cipher_suites", f_prefer_server},
};

static int f_tls_server_config(parse_t *p, const yaml_node_t *v, const char *field)
{
    return walk_mapping(p, v, field, tls_fields, sizeof tls_fields / sizeof tls_fields[0]);
}

/* ---- http_server_config
 * --------------------------------------------------------------------------- */

/* The headers the toolkit lets a configuration set, and the values it allows (none listed: any). */
static const struct {
    const char *name;
    const char *values[3];
} allowed_headers[] = {
    {"Strict-Transport-Security", {NULL}},
    {"X-Content-Type-Options", {"nosniff", NULL}},
    {"X-Frame-Options", {"deny", "sameorigin", NULL}},
    {"X-XSS-Protection", {NULL}},
    {"Content-Security-Policy", {NULL}},
};

static int header_pair(parse_t *p, const yaml_node_t *k, const yaml_node_t *v, const char *field)
{
    size_t i;
    for (i = 0; i < sizeof allowed_headers / sizeof allowed_headers[0]; i++)
        if (strcmp(allowed_headers[i].name, scalar(k)) == 0)
            break;
    if (i == sizeof allowed_headers / sizeof allowed_headers[0])
        return fail_at(p, k, field,
                       "this header can not be configured (Strict-Transport-Security, "
                       "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
                       "Content-Security-Policy)");
    const char *const *vals = allowed_headers[i].values;
    if (vals[0] != NULL) {
        bool ok = false;
        for (size_t j = 0; vals[j] != NULL; j++)
            ok |= strcmp(vals[j], scalar(v)) == 0;
        if (!ok)
            return fail_at(p, v, field, "'%s' is not allowed (%s%s%s)", scalar(v), vals[0],
                           vals[1] ? " or " : "", vals[1] ? vals[1] : "");
    }
    for (const char *s = scalar(v); *s; s++)
        if (*s == '\r' || *s == '\n')
            return fail_at(p, v, field, "a header value cannot hold a line break");
    return push_pair(&p->c->header_names, &p->c->header_values, &p->c->nheaders, scalar(k),
                     scalar(v));
}

static int f_headers(parse_t *p, const yaml_node_t *v, const char *field)
{
    return walk_string_map(p, v, field, header_pair);
}

static int f_http2(parse_t *p, const yaml_node_t *v, const char *field)
{
    bool ignored = true; /* promc speaks HTTP/1.1 only: the key is read and checked, no more */
    return get_bool(p, v, field, &ignored);
}

static const field_t http_fields[] = {
    {"http2", f_http2},
    {"headers", f_headers},
};

static int f_http_server_config(parse_t *p, const yaml_node_t *v, const char *field)
{
    return walk_mapping(p, v, field, http_fields, sizeof http_fields / sizeof http_fields[0]);
}

/* ---- basic_auth_users ---------------------------------------------------------------------------
 */

static int user_pair(parse_t *p, const yaml_node_t *k, const yaml_node_t *v, const char *field)
{
    const char *why = NULL;
    if (!promc__bcrypt_hash_ok(scalar(v), &why))
        return fail_at(p, v, field, "not a bcrypt hash: %s", why);
    return push_pair(&p->c->users, &p->c->hashes, &p->c->nusers, scalar(k), scalar(v));
}

static int f_basic_auth_users(parse_t *p, const yaml_node_t *v, const char *field)
{
    return walk_string_map(p, v, field, user_pair);
}

static const field_t top_fields[] = {
    {"tls_server_config", f_tls_server_config},
    {"http_server_config", f_http_server_config},
    {"basic_auth_users", f_basic_auth_users},
};

/* ---- loading
 * ------------------------------------------------------------------------------------- */

static int read_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rbe");
    if (f == NULL)
        return promc__err(PROMC_ECONFIG, "web config '%s': %s", path, strerror(errno));
    char *b = promc__malloc(MAX_FILE_BYTES + 1);
    if (b == NULL) {
        fclose(f);
        return promc__err(PROMC_ENOMEM, "web config");
    }
    size_t n = fread(b, 1, MAX_FILE_BYTES + 1, f);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err != 0 || n > MAX_FILE_BYTES) {
        promc__free(b);
        return err ? promc__err(PROMC_ECONFIG, "web config '%s': %s", path, strerror(err))
                   : promc__err(PROMC_ECONFIG, "web config '%s': larger than %u bytes", path,
                                MAX_FILE_BYTES);
    }
    *buf = b;
    *len = n;
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return promc__strdup(".");
    if (slash == path)
        return promc__strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = promc__malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* The toolkit's consistency rules, after every key is read. */
static int check_tls(parse_t *p)
{
    promc__webcfg_t *c = p->c;
    c->has_tls |= c->cert_file != NULL || c->key_file != NULL || c->client_ca_file != NULL;
    if (!c->has_tls)
        return 0;
    if (c->cert_file == NULL)
        return fail_at(p, NULL, "tls_server_config.cert_file",
                       "missing (key_file or client "
                       "settings are given)");
    if (c->key_file == NULL)
        return fail_at(p, NULL, "tls_server_config.key_file", "missing (cert_file is given)");
    if (c->client_ca_file != NULL && c->client_auth == PROMC__CLIENT_NONE)
        return fail_at(p, NULL, "tls_server_config.client_ca_file",
                       "given without a client_auth_type that asks for a certificate");
    if (c->min_version == 0)
        c->min_version = TLS1_2_VERSION; /* the toolkit's defaults */
    if (c->max_version == 0)
        c->max_version = TLS1_3_VERSION;
    if (c->min_version > c->max_version)
        return fail_at(p, NULL, "tls_server_config.min_version", "%s is above max_version %s",
                       promc__tls_version_name(c->min_version),
                       promc__tls_version_name(c->max_version));
    return promc__tls_ctx_build(c, p->path);
}

int promc__webcfg_load(const char *path, promc__webcfg_t **out)
{
    if (path == NULL || path[0] == '\0')
        return promc__err(PROMC_ECONFIG, "web config: no file named");
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, &buf, &len);
    if (rc != 0)
        return rc;
    promc__webcfg_t *c = promc__calloc(1, sizeof *c);
    parse_t p = {.path = path, .c = c, .dir = dir_of(path)};
    if (c == NULL || p.dir == NULL) {
        promc__free(buf);
        promc__free(c);
        promc__free(p.dir);
        return promc__err(PROMC_ENOMEM, "web config");
    }
    atomic_init(&c->refs, 1);
    c->prefer_server_ciphers = true; /* the toolkit's default */

    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_doc = false;
    if (!yaml_parser_initialize(&parser)) {
        rc = promc__err(PROMC_ENOMEM, "web config: YAML parser");
        goto out;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc =
            promc__err(PROMC_ECONFIG, "web config '%s': line %zu column %zu: %s%s%s", path,
                       (size_t)parser.problem_mark.line + 1, (size_t)parser.problem_mark.column + 1,
                       parser.problem ? parser.problem : "not YAML", parser.context ? " " : "",
                       parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        goto out;
    }
    have_doc = true;
    yaml_parser_delete(&parser);
    p.doc = &doc;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    rc = walk_mapping(&p, root, "", top_fields, sizeof top_fields / sizeof top_fields[0]);
    if (rc == 0)
        rc = check_tls(&p);
    if (rc == 0)
        for (int i = 0; i < PROMC__WEBCFG_FILES; i++)
            stamp_file(&c->stamps[i], stamped_path(c, path, i));
out:
    if (have_doc)
        yaml_document_delete(&doc);
    promc__free(buf);
    promc__free(p.dir);
    if (rc != 0) {
        webcfg_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

promc__webcfg_t *promc__webcfg_failed(const char *path, const char *message)
{
    promc__webcfg_t *c = promc__calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    atomic_init(&c->refs, 1);
    c->error = promc__strdup(message && message[0] ? message : "web config could not be read");
    if (c->error == NULL) {
        promc__free(c);
        return NULL;
    }
    /* Watched like a good one, so that fixing the file is noticed. */
    stamp_file(&c->stamps[0], path);
    return c;
}
