/* SPDX-License-Identifier: Apache-2.0 */
/* A strict checker of exposition text, as promc writes it, for the fuzz targets and the tests: the
 * Prometheus text format 0.0.4 and OpenMetrics 1.0.0, line by line.  It accepts less than the
 * Prometheus parsers do (no timestamps, no blank lines, single spaces), never more, so an output it
 * accepts parses there too:
 *   - the whole output is valid UTF-8, every line ends with \n;
 *   - "# HELP name text", "# TYPE name type" (and in OpenMetrics "# UNIT name unit"), with only the
 *     escapes the format defines in HELP (\\ and \n; OpenMetrics also \");
 *   - samples "name{label="value",...} value" with a valid metric name, valid and distinct label
 *     names, label values holding no raw newline or quote and only the \\ \" \n escapes, and a
 *     value that is a float as Go's ParseFloat reads it, or +Inf / -Inf / NaN;
 *   - OpenMetrics ends with "# EOF" and nothing after it.
 * expo_check() returns 0, or -1 with a message naming the line in err. */
#ifndef PROMC_TEST_EXPO_CHECK_H
#define PROMC_TEST_EXPO_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t expo_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((p[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

static bool expo_name_char(char c, bool first, bool colon)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (colon && c == ':') ||
           (!first && c >= '0' && c <= '9');
}

/* A name at *p (metric names may hold ':'); advances *p. */
static bool expo_name(const char **p, const char *end, bool colon)
{
    const char *s = *p;
    if (s >= end || !expo_name_char(*s, true, colon))
        return false;
    while (s < end && expo_name_char(*s, s == *p, colon))
        s++;
    *p = s;
    return true;
}

/* Escaped text up to `stop` (a quote for label values, the end of line for HELP). */
static bool expo_escaped(const char **p, const char *end, char stop, const char *escapes)
{
    const char *s = *p;
    while (s < end && *s != stop) {
        if (*s == '\\') {
            if (s + 1 >= end || !strchr(escapes, s[1]))
                return false;
            s += 2;
            continue;
        }
        s++;
    }
    *p = s;
    return true;
}

static bool expo_value(const char *s, const char *end)
{
    size_t n = (size_t)(end - s);
    if ((n == 4 && (memcmp(s, "+Inf", 4) == 0 || memcmp(s, "-Inf", 4) == 0)) ||
        (n == 3 && memcmp(s, "NaN", 3) == 0))
        return true;
    const char *q = s;
    if (q < end && (*q == '-' || *q == '+'))
        q++;
    size_t digits = 0;
    while (q < end && *q >= '0' && *q <= '9')
        q++, digits++;
    if (q < end && *q == '.') {
        q++;
        while (q < end && *q >= '0' && *q <= '9')
            q++, digits++;
    }
    if (!digits)
        return false;
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '-' || *q == '+'))
            q++;
        size_t ed = 0;
        while (q < end && *q >= '0' && *q <= '9')
            q++, ed++;
        if (!ed)
            return false;
    }
    return q == end;
}

static bool expo_sample(const char *s, const char *end)
{
    if (!expo_name(&s, end, true))
        return false;
    if (s < end && *s == '{') {
        s++;
        char seen[32][128];
        size_t nseen = 0;
        while (s < end && *s != '}') {
            const char *ln = s;
            if (!expo_name(&s, end, false))
                return false;
            size_t ll = (size_t)(s - ln);
            for (size_t k = 0; k < nseen; k++)
                if (strlen(seen[k]) == ll && memcmp(seen[k], ln, ll) == 0)
                    return false; /* a label name twice */
            if (nseen < 32 && ll < 128) {
                memcpy(seen[nseen], ln, ll);
                seen[nseen++][ll] = '\0';
            }
            if (end - s < 2 || s[0] != '=' || s[1] != '"')
                return false;
            s += 2;
            if (!expo_escaped(&s, end, '"', "\\\"n") || s >= end || *s != '"')
                return false;
            s++;
            if (s < end && *s == ',')
                s++;
            else if (s < end && *s != '}')
                return false;
        }
        if (s >= end || *s != '}')
            return false;
        s++;
    }
    if (s >= end || *s != ' ')
        return false;
    return expo_value(s + 1, end);
}

static int expo_check(const char *out, size_t len, int om, char *err, size_t cap)
{
    const unsigned char *u = (const unsigned char *)out;
    for (size_t i = 0; i < len;) {
        size_t l = expo_utf8_len(u + i, len - i);
        if (!l) {
            snprintf(err, cap, "invalid UTF-8 at byte %zu", i);
            return -1;
        }
        i += l;
    }
    if (len && out[len - 1] != '\n') {
        snprintf(err, cap, "the output does not end with a newline");
        return -1;
    }
    static const char *const text_types[] = {"counter", "gauge",   "histogram",
                                             "summary", "untyped", NULL};
    static const char *const om_types[] = {"counter",        "gauge",    "histogram",
                                           "gaugehistogram", "stateset", "info",
                                           "summary",        "unknown",  NULL};
    bool eof = false;
    size_t lineno = 0;
    for (const char *p = out; p < out + len;) {
        const char *nl = memchr(p, '\n', (size_t)(out + len - p));
        const char *end = nl;
        lineno++;
        if (eof) {
            snprintf(err, cap, "line %zu: text after # EOF", lineno);
            return -1;
        }
        bool ok;
        if (end - p >= 2 && p[0] == '#' && p[1] == ' ') {
            const char *s = p + 2;
            if (om && end - s == 3 && memcmp(s, "EOF", 3) == 0) {
                ok = eof = true;
            } else if (end - s > 5 && memcmp(s, "HELP ", 5) == 0) {
                s += 5;
                ok = expo_name(&s, end, true) && s < end && *s == ' ';
                if (ok) {
                    s++;
                    ok = expo_escaped(&s, end, '\n', om ? "\\\"n" : "\\n") && s == end;
                }
            } else if (end - s > 5 && memcmp(s, "TYPE ", 5) == 0) {
                s += 5;
                ok = expo_name(&s, end, true) && s < end && *s == ' ';
                if (ok) {
                    s++;
                    ok = false;
                    for (const char *const *t = om ? om_types : text_types; *t; t++)
                        ok |= (size_t)(end - s) == strlen(*t) && memcmp(s, *t, strlen(*t)) == 0;
                }
            } else if (om && end - s > 5 && memcmp(s, "UNIT ", 5) == 0) {
                s += 5;
                ok = expo_name(&s, end, true) && s < end && *s == ' ';
                if (ok) {
                    s++;
                    while (s < end && (expo_name_char(*s, false, true)))
                        s++;
                    ok = s == end;
                }
            } else {
                ok = false;
            }
        } else {
            ok = expo_sample(p, end);
        }
        if (!ok) {
            snprintf(err, cap, "line %zu: not a valid %s line: %.*s", lineno,
                     om ? "OpenMetrics" : "text 0.0.4", (int)(end - p > 200 ? 200 : end - p), p);
            return -1;
        }
        p = nl + 1;
    }
    if (om && !eof) {
        snprintf(err, cap, "no # EOF at the end");
        return -1;
    }
    return 0;
}

#endif
