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
 * q-value (1 when absent) and, if asked, the version and escaping parameters. */
typedef struct media_params {
    span_t version, escaping, proto, encoding;
} media_params_t;

static double read_params(const char *p, size_t n, const char *semi, media_params_t *mp)
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
        else if (mp && span_ieq(k, "version"))
            mp->version = v;
        else if (mp && span_ieq(k, "escaping"))
            mp->escaping = v;
        else if (mp && span_ieq(k, "proto"))
            mp->proto = v;
        else if (mp && span_ieq(k, "encoding"))
            mp->encoding = v;
    }
    return q;
}

/* The escaping= value: a scheme, or -1 for none or one we do not know (ignored, as
 * client_golang ignores it). */
static int escaping_of(span_t v)
{
    if (!v.p)
        return -1;
    if (span_ieq(v, "allow-utf-8"))
        return PROMC_ESCAPING_ALLOW_UTF8;
    if (span_ieq(v, "underscores"))
        return PROMC_ESCAPING_UNDERSCORES;
    if (span_ieq(v, "dots"))
        return PROMC_ESCAPING_DOTS;
    if (span_ieq(v, "values"))
        return PROMC_ESCAPING_VALUES;
    return -1;
}

/* One media range: returns the format it asks for (or -1), its q-value and its escaping (or
 * -1). */
static int media_range(const char *p, size_t n, double *q, int *esc)
{
    const char *semi = find_unquoted(p, n, ';');
    span_t type = trim(p, semi ? (size_t)(semi - p) : n);
    media_params_t mp = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    *q = read_params(p, n, semi, &mp);
    *esc = escaping_of(mp.escaping);
    span_t version = mp.version;
    /* Protobuf: the delimited MetricFamily stream only, as client_golang's expfmt answers. */
    if (span_ieq(type, "application/vnd.google.protobuf")) {
        if (mp.proto.p && span_ieq(mp.proto, "io.prometheus.client.MetricFamily") &&
            mp.encoding.p && span_ieq(mp.encoding, "delimited"))
            return PROMC_FORMAT_PROTOBUF;
        return -1;
    }
    if (span_ieq(type, "application/openmetrics-text")) {
        if (!version.p || span_ieq(version, "1.0.0"))
            return PROMC_FORMAT_OPENMETRICS;
        if (span_ieq(version, "0.0.1"))
            return PROMC_FORMAT_OPENMETRICS_0_0_1;
        return -1;
    }
    if (span_ieq(type, "text/plain")) {
        if (!version.p || span_ieq(version, "0.0.4"))
            return PROMC_FORMAT_TEXT;
        if (span_ieq(version, "1.0.0"))
            return PROMC_FORMAT_TEXT_1_0_0;
        return -1;
    }
    if (span_ieq(type, "*/*") || span_ieq(type, "text/*"))
        return PROMC_FORMAT_TEXT;
    if (span_ieq(type, "application/*"))
        return PROMC_FORMAT_OPENMETRICS;
    return -1;
}

promc_format_t promc_format_negotiate_escaping(const char *accept, promc_escaping_t *escaping,
                                               bool *asked)
{
    int best = -1, best_esc = -1;
    double best_q = 0;
    const char *p = accept ? accept : "";
    while (*p) {
        size_t len = strlen(p);
        const char *comma = find_unquoted(p, len, ',');
        size_t n = comma ? (size_t)(comma - p) : len;
        double q;
        int esc;
        int f = media_range(p, n, &q, &esc);
        if (f >= 0 && q > 0 && q > best_q) {
            best = f;
            best_q = q;
            best_esc = esc;
        }
        p += n + (comma ? 1 : 0);
    }
    if (escaping)
        *escaping = best_esc < 0 ? PROMC_ESCAPING_UNDERSCORES : (promc_escaping_t)best_esc;
    if (asked)
        *asked = best_esc >= 0;
    return best < 0 ? PROMC_FORMAT_TEXT : (promc_format_t)best;
}

promc_format_t promc_format_negotiate(const char *accept)
{
    return promc_format_negotiate_escaping(accept, NULL, NULL);
}

const char *promc_format_content_type(promc_format_t f)
{
    switch (f) {
    case PROMC_FORMAT_OPENMETRICS:
        return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    case PROMC_FORMAT_OPENMETRICS_0_0_1:
        return "application/openmetrics-text; version=0.0.1; charset=utf-8";
    case PROMC_FORMAT_TEXT_1_0_0:
        return "text/plain; version=1.0.0; charset=utf-8";
    case PROMC_FORMAT_TEXT:
        return "text/plain; version=0.0.4; charset=utf-8";
    case PROMC_FORMAT_PROTOBUF:
        return "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
               "encoding=delimited";
    }
    return "text/plain; version=0.0.4; charset=utf-8";
}

const char *promc_content_type(promc_format_t f, promc_escaping_t e, bool with_escaping)
{
    /* The escaping parameter is echoed on the 1.0.0 formats, which know it. */
    if (!with_escaping || (f != PROMC_FORMAT_OPENMETRICS && f != PROMC_FORMAT_TEXT_1_0_0 &&
                           f != PROMC_FORMAT_PROTOBUF))
        return promc_format_content_type(f);
    static const char *const pb[] = {
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
        "encoding=delimited; escaping=underscores",
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
        "encoding=delimited; escaping=allow-utf-8",
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
        "encoding=delimited; escaping=dots",
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
        "encoding=delimited; escaping=values"};
    static const char *const om[] = {
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores",
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=dots",
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=values"};
    static const char *const text[] = {
        "text/plain; version=1.0.0; charset=utf-8; escaping=underscores",
        "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
        "text/plain; version=1.0.0; charset=utf-8; escaping=dots",
        "text/plain; version=1.0.0; charset=utf-8; escaping=values"};
    unsigned i = (unsigned)e < 4 ? (unsigned)e : 0;
    return f == PROMC_FORMAT_OPENMETRICS ? om[i] : f == PROMC_FORMAT_PROTOBUF ? pb[i] : text[i];
}

const char *promc_escaping_name(promc_escaping_t e)
{
    switch (e) {
    case PROMC_ESCAPING_ALLOW_UTF8:
        return "allow-utf-8";
    case PROMC_ESCAPING_DOTS:
        return "dots";
    case PROMC_ESCAPING_VALUES:
        return "values";
    case PROMC_ESCAPING_UNDERSCORES:
        break;
    }
    return "underscores";
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
