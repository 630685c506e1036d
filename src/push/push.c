/* SPDX-License-Identifier: Apache-2.0 */
/* The Pushgateway client (<promc/push.h>) over libcurl: the group's URL, the registry as text
 * 0.0.4 in one buffer, one request per call, the answer mapped to a promc error code.
 *
 * A call makes its own curl easy handle, so calls on different threads share nothing but
 * libcurl's global state, initialised once (curl_global_init() is thread-safe only from 7.84 on,
 * so it is guarded by a pthread_once either way).  Signals are off (CURLOPT_NOSIGNAL): a library
 * must not take SIGALRM or SIGPIPE from its host. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <promc/expose.h>
#include <promc/push.h>

#include "alloc.h"
#include "err.h"
#include "names.h"
#include "strbuf.h"
#include "utf8.h"

#define DEFAULT_TIMEOUT_SECONDS 10.0
#define ERROR_BODY_MAX          1024 /* bytes of the Pushgateway's answer kept for the message */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- the group's URL ------------------------------------------------------------------------ */

static int append(promc__strbuf_t *b, const char *s)
{
    return promc__strbuf_append(b, s, strlen(s));
}

/* base64url without padding (RFC 4648 section 5), as Go's base64.RawURLEncoding. */
static int append_base64url(promc__strbuf_t *b, const unsigned char *p, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int rc = promc__strbuf_reserve(b, (n + 2) / 3 * 4);
    if (rc != 0)
        return rc;
    char *o = b->data + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        *o++ = abc[(v >> 6) & 63];
        *o++ = abc[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        *o++ = abc[(v >> 6) & 63];
    }
    b->len = (size_t)(o - b->data);
    return 0;
}

/* Percent-encodes all but RFC 3986's unreserved characters, so that the Pushgateway's path
 * decoding gives the value back (a space is %20: '+' would stay a '+' in a path). */
static int append_escaped(promc__strbuf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = promc__strbuf_reserve(b, 3 * strlen(s));
    if (rc != 0)
        return rc;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            b->data[b->len++] = (char)*p;
        } else {
            b->data[b->len++] = '%';
            b->data[b->len++] = hex[*p >> 4];
            b->data[b->len++] = hex[*p & 15];
        }
    }
    return 0;
}

/* "/name/value", "/name@base64/<base64url>" for a value with '/', "/name@base64/=" for "". */
static int append_component(promc__strbuf_t *b, const char *name, size_t name_len,
                            const char *value, size_t value_len)
{
    int rc = append(b, "/");
    if (rc == 0)
        rc = promc__strbuf_append(b, name, name_len);
    bool b64 = value_len == 0 || memchr(value, '/', value_len) != NULL;
    if (rc == 0 && b64)
        rc = append(b, "@base64/");
    else if (rc == 0)
        rc = append(b, "/");
    if (rc != 0)
        return rc;
    if (value_len == 0)
        return append(b, "=");
    if (b64)
        return append_base64url(b, (const unsigned char *)value, value_len);
    /* The value as a C string for the escaper: label values have a length, and may not end in
     * a NUL where they stop. */
    char *v = promc__malloc(value_len + 1);
    if (v == NULL)
        return promc__err(PROMC_ENOMEM, "push URL");
    memcpy(v, value, value_len);
    v[value_len] = '\0';
    rc = memchr(v, '\0', value_len) ? promc__err(PROMC_EINVAL, "a grouping value holds a NUL byte")
                                    : append_escaped(b, v);
    promc__free(v);
    return rc;
}

static int check_opts(const promc_push_opts_t *o)
{
    if (o == NULL)
        return promc__err(PROMC_EINVAL, "push: opts is NULL");
    if (o->url == NULL || o->url[0] == '\0')
        return promc__err(PROMC_EINVAL, "push: opts.url is empty");
    if (o->job == NULL || o->job[0] == '\0')
        return promc__err(PROMC_EINVAL, "push: opts.job is empty");
    int rc = promc__utf8_check(o->job, strlen(o->job), "push: opts.job");
    if (rc != 0)
        return rc;
    if ((o->username == NULL) != (o->password == NULL))
        return promc__err(PROMC_EINVAL, "push: opts.username and opts.password go together");
    if (o->username && o->bearer_token)
        return promc__err(PROMC_EINVAL, "push: basic auth and a bearer token exclude each other");
    if ((o->cert_file == NULL) != (o->key_file == NULL))
        return promc__err(PROMC_EINVAL, "push: opts.cert_file and opts.key_file go together");
    if (o->grouping_count && o->grouping == NULL)
        return promc__err(PROMC_EINVAL, "push: opts.grouping is NULL with a count of %zu",
                          o->grouping_count);
    for (size_t i = 0; i < o->grouping_count; i++) {
        const promc_label_t *l = &o->grouping[i];
        if (l->name.ptr == NULL || (l->value.ptr == NULL && l->value.len > 0))
            return promc__err(PROMC_EINVAL, "push: grouping label %zu has no name or value", i);
        if ((rc = promc__name_check_label(l->name.ptr, l->name.len)) != 0)
            return rc;
        if (l->name.len == 3 && memcmp(l->name.ptr, "job", 3) == 0)
            return promc__err(PROMC_EINVAL, "push: 'job' is opts.job, not a grouping label");
        if ((rc = promc__utf8_check(l->value.ptr, l->value.len, "push: grouping label '%.*s'",
                                    (int)l->name.len, l->name.ptr)) != 0)
            return rc;
    }
    return 0;
}

static int group_url(const promc_push_opts_t *o, promc__strbuf_t *b)
{
    size_t n = strlen(o->url);
    while (n > 0 && o->url[n - 1] == '/')
        n--;
    int rc = promc__strbuf_append(b, o->url, n);
    if (rc == 0)
        rc = append(b, "/metrics");
    if (rc == 0)
        rc = append_component(b, "job", 3, o->job, strlen(o->job));
    for (size_t i = 0; rc == 0 && i < o->grouping_count; i++) {
        const promc_label_t *l = &o->grouping[i];
        rc = append_component(b, l->name.ptr, l->name.len, l->value.ptr ? l->value.ptr : "",
                              l->value.len);
    }
    if (rc == 0)
        rc = promc__strbuf_append(b, "", 1);
    return rc;
}

/* ---- the request ---------------------------------------------------------------------------- */

static size_t keep_answer(char *p, size_t size, size_t n, void *ud)
{
    promc__strbuf_t *b = ud;
    size_t len = size * n;
    size_t room = b->len < ERROR_BODY_MAX ? ERROR_BODY_MAX - b->len : 0;
    (void)promc__strbuf_append(b, p, len < room ? len : room);
    return len; /* the rest is read and dropped */
}

static int curl_error(CURLcode c, const char *url, const char *detail)
{
    const char *what = detail && detail[0] ? detail : curl_easy_strerror(c);
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return promc__err(PROMC_ECONNECT, "push to %s: %s", url, what);
    case CURLE_OPERATION_TIMEDOUT:
        return promc__err(PROMC_ETIMEDOUT, "push to %s: %s", url, what);
    case CURLE_OUT_OF_MEMORY:
        return promc__err(PROMC_ENOMEM, "push to %s: %s", url, what);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return promc__err(PROMC_EINVAL, "push: opts.url: %s", what);
    default:
        return promc__err(PROMC_ESYS, "push to %s: %s", url, what);
    }
}

/* Trailing white space off the Pushgateway's error text, for the message. */
static int trimmed_len(const promc__strbuf_t *b)
{
    size_t n = b->len;
    while (n > 0 && (b->data[n - 1] == '\n' || b->data[n - 1] == '\r' || b->data[n - 1] == ' '))
        n--;
    return (int)n;
}

static int request(const promc_push_opts_t *o, const char *method, const char *url,
                   const char *body, size_t len)
{
    if (pthread_once(&curl_once, curl_init) != 0 || curl_init_rc != CURLE_OK)
        return promc__err(PROMC_ESYS, "push: curl_global_init failed");
    CURL *c = curl_easy_init();
    if (c == NULL)
        return promc__err(PROMC_ENOMEM, "push: curl_easy_init failed");
    char errbuf[CURL_ERROR_SIZE] = "";
    promc__strbuf_t answer;
    promc__strbuf_init(&answer, ERROR_BODY_MAX + 1);
    struct curl_slist *hdrs = NULL, *h;
    char auth[1024];
    double t = o->timeout_seconds > 0 ? o->timeout_seconds : DEFAULT_TIMEOUT_SECONDS;
    long ms = t > 1e6 ? 1000000000L : (long)(t * 1000.0 + 0.5);
    if (ms < 1)
        ms = 1;
    int rc = 0;
    /* No "Expect: 100-continue" round trip before a large body. */
    const char *lines[3] = {"Expect:", NULL, NULL};
    if (body)
        lines[1] = "Content-Type: text/plain; version=0.0.4; charset=utf-8";
    if (o->bearer_token) {
        if (strpbrk(o->bearer_token, "\r\n") != NULL ||
            (size_t)snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->bearer_token) >=
                sizeof auth) {
            rc = promc__err(PROMC_EINVAL, "push: opts.bearer_token is too long or holds CR/LF");
            goto out;
        }
        lines[2] = auth;
    }
    for (size_t i = 0; i < 3; i++) {
        if (lines[i] == NULL)
            continue;
        if ((h = curl_slist_append(hdrs, lines[i])) == NULL) {
            rc = promc__err(PROMC_ENOMEM, "push headers");
            goto out;
        }
        hdrs = h;
    }
    CURLcode e = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (e == CURLE_OK)                                                                         \
            e = curl_easy_setopt(c, opt, val);                                                     \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, ms);
    SET(CURLOPT_CUSTOMREQUEST, method);
    SET(CURLOPT_HTTPHEADER, hdrs);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_WRITEFUNCTION, keep_answer);
    SET(CURLOPT_WRITEDATA, &answer);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (body) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        SET(CURLOPT_POSTFIELDS, body);
    }
    if (o->username) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, o->username);
        SET(CURLOPT_PASSWORD, o->password);
    }
    if (o->ca_file)
        SET(CURLOPT_CAINFO, o->ca_file);
    if (o->cert_file) {
        SET(CURLOPT_SSLCERT, o->cert_file);
        SET(CURLOPT_SSLKEY, o->key_file);
    }
    if (o->insecure_skip_verify) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
#undef SET
    if (e != CURLE_OK) {
        rc = curl_error(e, url, errbuf);
        goto out;
    }
    e = curl_easy_perform(c);
    if (e != CURLE_OK) {
        rc = curl_error(e, url, errbuf);
        goto out;
    }
    long status = 0;
    (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    /* The Pushgateway answers 200 (older ones) or 202 to a push, 202 to a delete. */
    if (status != 200 && status != 202)
        rc = promc__err(PROMC_EHTTP, "push to %s: %s answered %ld: %.*s", url, method, status,
                        trimmed_len(&answer), answer.data ? answer.data : "");
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    promc__strbuf_destroy(&answer);
    return rc;
}

static int push(const promc_push_opts_t *o, const char *method, bool with_body)
{
    int rc = check_opts(o);
    if (rc != 0)
        return rc;
    promc__strbuf_t url;
    promc__strbuf_init(&url, 64 * 1024);
    if ((rc = group_url(o, &url)) != 0) {
        promc__strbuf_destroy(&url);
        return rc;
    }
    char *body = NULL;
    size_t len = 0;
    if (with_body) {
        promc_registry_t *r = o->registry ? o->registry : promc_registry_default();
        if (r == NULL)
            rc = promc__err(PROMC_ENOMEM, "default registry");
        else
            rc = promc_registry_write_buf(r, NULL, &body, &len);
    }
    if (rc == 0)
        rc = request(o, method, url.data, with_body ? (body ? body : "") : NULL, len);
    promc_buf_free(body);
    promc__strbuf_destroy(&url);
    if (rc == 0)
        promc__err_clear();
    return rc;
}

int promc_push(const promc_push_opts_t *opts)
{
    return push(opts, "PUT", true);
}

int promc_push_add(const promc_push_opts_t *opts)
{
    return push(opts, "POST", true);
}

int promc_push_delete(const promc_push_opts_t *opts)
{
    return push(opts, "DELETE", false);
}
