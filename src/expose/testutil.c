/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers (<promc/testutil.h>): each renders the registry as a scrape does and reads that
 * text back, so what a test sees is what Prometheus would. */
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/testutil.h>
#include "alloc.h"
#include "err.h"
#include "strbuf.h"

static int render(promc_registry_t *r, const promc_expose_opts_t *opts, char **out, size_t *len)
{
    return promc_registry_write_buf(r, opts, out, len);
}

/* A sample value as the exposition writes it, whatever the C locale of the caller. */
static bool parse_value(const char *p, const char *end, double *v)
{
    size_t n = (size_t)(end - p);
    if (n == 4 && memcmp(p, "+Inf", 4) == 0)
        return *v = __builtin_inf(), true;
    if (n == 4 && memcmp(p, "-Inf", 4) == 0)
        return *v = -__builtin_inf(), true;
    if (n == 3 && memcmp(p, "NaN", 3) == 0)
        return *v = __builtin_nan(""), true;
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c == (locale_t)0)
        return false;
    locale_t old = uselocale(c);
    char *stop;
    *v = strtod(buf, &stop);
    uselocale(old);
    freelocale(c);
    return *stop == '\0';
}

/* Unescapes a label value (\\ \" \n) from p up to its closing quote into b; returns the quote. */
static const char *read_value(const char *p, const char *end, promc__strbuf_t *b)
{
    b->len = 0;
    while (p < end && *p != '"') {
        char c = *p++;
        if (c == '\\' && p < end) {
            char e = *p++;
            c = e == 'n' ? '\n' : e;
        }
        if (promc__strbuf_append(b, &c, 1))
            return NULL;
    }
    return p < end ? p : NULL;
}

/* Whether the label block p..end (between the braces) is exactly `labels`. */
static bool labels_match(const char *p, const char *end, const promc_label_t *labels, size_t n,
                         promc__strbuf_t *scratch)
{
    size_t seen = 0;
    while (p < end) {
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || eq + 1 >= end || eq[1] != '"')
            return false;
        size_t nl = (size_t)(eq - p);
        const char *q = read_value(eq + 2, end, scratch);
        if (!q)
            return false;
        size_t k = 0;
        while (k < n && !(labels[k].name.len == nl && memcmp(labels[k].name.ptr, p, nl) == 0))
            k++;
        if (k == n || labels[k].value.len != scratch->len ||
            (scratch->len && memcmp(labels[k].value.ptr, scratch->data, scratch->len) != 0))
            return false;
        seen++;
        p = q + 1;
        if (p < end && *p == ',')
            p++;
    }
    return seen == n;
}

int promc_registry_sample_value(promc_registry_t *r, const char *sample,
                                const promc_label_t *labels, size_t n, double *value)
{
    if (!r || !sample || !value || (n && !labels))
        return promc__err(PROMC_EINVAL, "promc_registry_sample_value: NULL argument");
    const char *only[] = {sample};
    char *text;
    size_t len;
    int rc = render(r, &(promc_expose_opts_t){.names = only, .name_count = 1}, &text, &len);
    if (rc)
        return rc;
    promc__strbuf_t scratch;
    promc__strbuf_init(&scratch, len + 1);
    size_t sl = strlen(sample);
    rc = promc__err(PROMC_ENOENT, "no sample '%.100s' with these %zu labels", sample, n);
    for (const char *p = text; p < text + len;) {
        const char *nl = memchr(p, '\n', (size_t)(text + len - p));
        const char *eol = nl ? nl : text + len;
        if (*p != '#' && (size_t)(eol - p) > sl && memcmp(p, sample, sl) == 0 &&
            (p[sl] == ' ' || p[sl] == '{')) {
            const char *q = p + sl, *lend = q;
            bool ok = true;
            if (*q == '{') {
                /* The closing brace is the last '}' before the value's space. */
                const char *sp = eol;
                while (sp > q && sp[-1] != ' ')
                    sp--;
                lend = sp - 1;
                ok = lend > q && lend[-1] == '}' &&
                     labels_match(q + 1, lend - 1, labels, n, &scratch);
                q = lend;
            } else {
                ok = n == 0;
            }
            if (ok && q < eol && *q == ' ' && parse_value(q + 1, eol, value)) {
                promc__err_clear();
                rc = 0;
                break;
            }
        }
        p = eol + 1;
    }
    promc__strbuf_destroy(&scratch);
    promc_buf_free(text);
    return rc;
}

int promc_registry_compare(promc_registry_t *r, const promc_expose_opts_t *opts,
                           const char *expected)
{
    if (!r || !expected)
        return promc__err(PROMC_EINVAL, "promc_registry_compare: NULL argument");
    char *text;
    size_t len;
    int rc = render(r, opts, &text, &len);
    if (rc)
        return rc;
    size_t el = strlen(expected);
    rc = 0;
    if (len != el || memcmp(text, expected, len) != 0) {
        /* The first line that differs, both ways. */
        size_t i = 0, line = 1, start = 0;
        while (i < len && i < el && text[i] == expected[i]) {
            if (text[i] == '\n') {
                line++;
                start = i + 1;
            }
            i++;
        }
        const char *g = text + start, *w = expected + start;
        int gl = (int)(strcspn(g, "\n")), wl = (int)(strcspn(w, "\n"));
        rc = promc__err(PROMC_EMISMATCH, "line %zu: got '%.*s', want '%.*s'%s", line,
                        gl > 200 ? 200 : gl, g, wl > 200 ? 200 : wl, w,
                        start >= len  ? " (the exposition ends before it)"
                        : start >= el ? " (the exposition has more lines)"
                                      : "");
    }
    promc_buf_free(text);
    return rc;
}

/* ---- lint ------------------------------------------------------------------------------------ */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

typedef struct {
    promc__strbuf_t out;
    int count;
    int err;
} lint_t;

static void problem(lint_t *l, const char *name, size_t n, const char *what)
{
    char line[512];
    int k = snprintf(line, sizeof line, "%.*s %s\n", (int)(n > 200 ? 200 : n), name, what);
    if (promc__strbuf_append(&l->out, line, (size_t)k))
        l->err = PROMC_ENOMEM;
    l->count++;
}

/* Units promtool wants in their base form. */
static const struct {
    const char *part, *base;
} non_base[] = {
    {"_milliseconds", "seconds"}, {"_microseconds", "seconds"}, {"_nanoseconds", "seconds"},
    {"_minutes", "seconds"},      {"_hours", "seconds"},        {"_days", "seconds"},
    {"_kilobytes", "bytes"},      {"_megabytes", "bytes"},      {"_gigabytes", "bytes"},
    {"_kibibytes", "bytes"},      {"_mebibytes", "bytes"},      {"_gibibytes", "bytes"},
    {"_bits", "bytes"},           {"_percent", "ratio"},
};

static void lint_family(lint_t *l, const char *name, size_t n, const char *type, size_t tl,
                        bool has_help)
{
    bool counter = tl == 7 && memcmp(type, "counter", 7) == 0;
    bool hist = (tl == 9 && memcmp(type, "histogram", 9) == 0) ||
                (tl == 7 && memcmp(type, "summary", 7) == 0);
    if (!has_help)
        problem(l, name, n, "no help text");
    if (counter && !ends_with(name, n, "_total"))
        problem(l, name, n, "counter metrics should have \"_total\" suffix");
    if (!counter && ends_with(name, n, "_total"))
        problem(l, name, n, "non-counter metrics should not have \"_total\" suffix");
    if (has_upper(name, n))
        problem(l, name, n, "metric names should be written in 'snake_case' not 'camelCase'");
    static const char *const reserved[] = {"_count", "_sum", "_bucket"};
    for (size_t i = 0; i < 3 && !hist; i++)
        if (ends_with(name, n, reserved[i])) {
            char what[128];
            snprintf(what, sizeof what,
                     "non-histogram and non-summary metrics should not have \"%s\" suffix",
                     reserved[i]);
            problem(l, name, n, what);
        }
    for (size_t i = 0; i < sizeof non_base / sizeof non_base[0]; i++) {
        const char *hit = memmem(name, n, non_base[i].part, strlen(non_base[i].part));
        if (hit) {
            char what[128];
            snprintf(what, sizeof what, "use base unit \"%s\" instead of \"%s\"", non_base[i].base,
                     non_base[i].part + 1);
            problem(l, name, n, what);
        }
    }
}

int promc_registry_lint(promc_registry_t *r, char **report)
{
    if (!r)
        return promc__err(PROMC_EINVAL, "promc_registry_lint: NULL registry");
    char *text;
    size_t len;
    int rc = render(r, NULL, &text, &len);
    if (rc)
        return rc;
    lint_t l = {.count = 0, .err = 0};
    promc__strbuf_init(&l.out, (size_t)1 << 30);
    /* Families: "# HELP name text" (optional) then "# TYPE name type"; then the label names of
     * their samples. */
    const char *help_name = NULL;
    size_t help_len = 0;
    bool help_text = false;
    bool labels_checked = true; /* a family's label names: checked on its first sample only */
    const char *family = NULL;  /* the family of the samples that follow (promtool names it) */
    size_t family_len = 0;
    for (const char *p = text; p < text + len && !l.err;) {
        const char *eol = memchr(p, '\n', (size_t)(text + len - p));
        if (!eol)
            eol = text + len;
        if (eol - p > 7 && memcmp(p, "# HELP ", 7) == 0) {
            help_name = p + 7;
            const char *sp = memchr(help_name, ' ', (size_t)(eol - help_name));
            help_len = (size_t)((sp ? sp : eol) - help_name);
            help_text = sp && sp + 1 < eol;
        } else if (eol - p > 7 && memcmp(p, "# TYPE ", 7) == 0) {
            const char *name = p + 7;
            const char *sp = memchr(name, ' ', (size_t)(eol - name));
            if (sp) {
                size_t n = (size_t)(sp - name);
                bool has =
                    help_name && help_len == n && memcmp(help_name, name, n) == 0 && help_text;
                lint_family(&l, name, n, sp + 1, (size_t)(eol - sp - 1), has);
                family = name;
                family_len = n;
            }
            help_name = NULL;
            labels_checked = false;
        } else if (*p != '#' && !labels_checked) {
            labels_checked = true;
            const char *brace = memchr(p, '{', (size_t)(eol - p));
            const char *q = brace ? brace + 1 : eol;
            while (brace && q < eol && *q != '}') {
                const char *eq = memchr(q, '=', (size_t)(eol - q));
                if (!eq)
                    break;
                if (has_upper(q, (size_t)(eq - q)) && family)
                    problem(&l, family, family_len,
                            "label names should be written in 'snake_case' not 'camelCase'");
                /* Skip the quoted value. */
                q = eq + 2;
                while (q < eol && *q != '"')
                    q += *q == '\\' ? 2 : 1;
                q++;
                if (q < eol && *q == ',')
                    q++;
            }
        }
        p = eol + 1;
    }
    promc_buf_free(text);
    if (l.err) {
        promc__strbuf_destroy(&l.out);
        return promc__err(l.err, "lint report");
    }
    if (report) {
        if (promc__strbuf_append(&l.out, "", 1)) {
            promc__strbuf_destroy(&l.out);
            return promc__err(PROMC_ENOMEM, "lint report");
        }
        *report = l.out.data;
    } else {
        promc__strbuf_destroy(&l.out);
    }
    return l.count;
}
