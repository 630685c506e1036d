/* SPDX-License-Identifier: Apache-2.0 */
/* Content negotiation on the Accept header, and gzip on Accept-Encoding.
 *
 * Accept is a list of media ranges with parameters; the range with the highest q-value that we can
 * serve wins, ties going to the earlier one.  We serve OpenMetrics 1.0.0 for
 * application/openmetrics-text without a version or with 1.0.0 (and 0.0.1, its draft, which
 * Prometheus still lists and whose text is the same), and text 0.0.4 for text/plain (no version or
 * 0.0.4) and the wildcards.  Anything else - protobuf, an unknown version - is not ours to serve,
 * and when nothing is, the answer is text 0.0.4, as every Prometheus understands it. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <promc/expose.h>

typedef struct span {
    const char *p;
    size_t n;
} span_t;

/* The first c among p's n bytes that is not inside a quoted string (RFC 9110 5.6.4: a '"' opens
 * and closes one, a backslash in it escapes the next byte), or NULL.  A parameter value may be
 * quoted and hold ',' or ';', which then separate nothing. */
static const char *find_unquoted(const char *p, size_t n, char c)
{
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (quoted && p[i] == '\\' && i + 1 < n)
            i++;
        else if (p[i] == '"')
            quoted = !quoted;
        else if (!quoted && p[i] == c)
            return p + i;
    }
    return NULL;
}

static span_t trim(const char *p, size_t n)
{
    while (n && isspace((unsigned char)*p)) {
        p++;
        n--;
    }
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    span_t s = {p, n};
    return s;
}

static bool span_ieq(span_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/* Parses a q-value ("0.5"); anything malformed counts as 0, so that a broken range is ignored. */
static double parse_q(span_t v)
{
    if (!v.n || v.n > 5 || (v.p[0] != '0' && v.p[0] != '1'))
        return 0;
    double q = v.p[0] - '0';
    if (v.n > 1) {
        if (v.p[1] != '.')
            return 0;
        double scale = 0.1;
        for (size_t i = 2; i < v.n; i++, scale /= 10) {
            if (!isdigit((unsigned char)v.p[i]))
                return 0;
            q += (v.p[i] - '0') * scale;
        }
    }
    return q > 1 ? 0 : q;
}

/* Reads the parameters of one list element (p, n), the first ';' being at semi (or NULL): the
 * q-value (1 when absent) and, if asked, the version parameter. */
static double read_params(const char *p, size_t n, const char *semi, span_t *version)
{
    double q = 1.0;
    while (semi) {
        const char *param = semi + 1;
        size_t rest = n - (size_t)(param - p);
        semi = find_unquoted(param, rest, ';');
        span_t kv = trim(param, semi ? (size_t)(semi - param) : rest);
        const char *eq = memchr(kv.p, '=', kv.n);
        if (!eq)
            continue;
        span_t k = trim(kv.p, (size_t)(eq - kv.p));
        span_t v = trim(eq + 1, kv.n - (size_t)(eq + 1 - kv.p));
        if (v.n >= 2 && v.p[0] == '"' && v.p[v.n - 1] == '"') {
            v.p++;
            v.n -= 2;
        }
        if (span_ieq(k, "q"))
            q = parse_q(v);
        else if (version && span_ieq(k, "version"))
            *version = v;
    }
    return q;
}

/* One media range: returns the format it asks for (or -1) and its q-value. */
static int media_range(const char *p, size_t n, double *q)
{
    const char *semi = find_unquoted(p, n, ';');
    span_t type = trim(p, semi ? (size_t)(semi - p) : n);
    span_t version = {NULL, 0};
    *q = read_params(p, n, semi, &version);
    if (span_ieq(type, "application/openmetrics-text")) {
        if (!version.p || span_ieq(version, "1.0.0") || span_ieq(version, "0.0.1"))
            return PROMC_FORMAT_OPENMETRICS;
        return -1;
    }
    if (span_ieq(type, "text/plain")) {
        if (!version.p || span_ieq(version, "0.0.4"))
            return PROMC_FORMAT_TEXT;
        return -1;
    }
    if (span_ieq(type, "*/*") || span_ieq(type, "text/*"))
        return PROMC_FORMAT_TEXT;
    if (span_ieq(type, "application/*"))
        return PROMC_FORMAT_OPENMETRICS;
    return -1;
}

promc_format_t promc_format_negotiate(const char *accept)
{
    if (!accept)
        return PROMC_FORMAT_TEXT;
    int best = -1;
    double best_q = 0;
    const char *p = accept;
    while (*p) {
        size_t len = strlen(p);
        const char *comma = find_unquoted(p, len, ',');
        size_t n = comma ? (size_t)(comma - p) : len;
        double q;
        int f = media_range(p, n, &q);
        if (f >= 0 && q > 0 && q > best_q) {
            best = f;
            best_q = q;
        }
        p += n + (comma ? 1 : 0);
    }
    return best < 0 ? PROMC_FORMAT_TEXT : (promc_format_t)best;
}

const char *promc_format_content_type(promc_format_t f)
{
    switch (f) {
    case PROMC_FORMAT_OPENMETRICS:
        return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    case PROMC_FORMAT_TEXT:
        return "text/plain; version=0.0.4; charset=utf-8";
    }
    return "text/plain; version=0.0.4; charset=utf-8";
}

bool promc_gzip_accepted(const char *accept_encoding)
{
    if (!accept_encoding)
        return false;
    const char *p = accept_encoding;
    while (*p) {
        size_t len = strlen(p);
        const char *comma = find_unquoted(p, len, ',');
        size_t n = comma ? (size_t)(comma - p) : len;
        const char *semi = find_unquoted(p, n, ';');
        span_t coding = trim(p, semi ? (size_t)(semi - p) : n);
        /* q may follow other parameters. */
        double q = read_params(p, n, semi, NULL);
        if (q > 0 && (span_ieq(coding, "gzip") || span_ieq(coding, "x-gzip")))
            return true;
        p += n + (comma ? 1 : 0);
    }
    return false;
}
