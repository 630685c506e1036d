/* SPDX-License-Identifier: Apache-2.0 */
/* Name rules, as the Prometheus data model and client_python state them.  Each message names the
 * offending character (printable ASCII as itself, any other byte in hex) and its byte offset. */
#include <stdio.h>
#include <string.h>
#include <promc/errors.h>
#include "alloc.h"
#include "err.h"
#include "names.h"
#include "utf8.h"

static bool is_alpha_(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The character at fault, for a message: 'x', or 0xNN for a byte that is not printable. */
static const char *show_char(char c, char buf[8])
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x21 && u < 0x7f && u != '\'')
        buf[0] = '\'', buf[1] = (char)u, buf[2] = '\'', buf[3] = '\0';
    else
        (void)snprintf(buf, 8, "0x%02x", u);
    return buf;
}

static int clip(size_t len)
{
    return (int)(len > 100 ? 100 : len);
}

bool promc__name_legacy_metric(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(is_alpha_(p[i]) || p[i] == ':' || (i > 0 && is_digit(p[i]))))
            return false;
    return true;
}

bool promc__name_legacy_label(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(is_alpha_(p[i]) || (i > 0 && is_digit(p[i]))))
            return false;
    return true;
}

/* A UTF-8 name (Prometheus 3): non-empty, valid UTF-8, no NUL. */
static int check_utf8_name(int code, const char *what, const char *p, size_t n)
{
    if (n == 0)
        return promc__err(code, "%s is empty", what);
    const char *nul = memchr(p, '\0', n);
    if (nul)
        return promc__err(code, "%s '%.*s': NUL byte at offset %zu", what, clip(n), p,
                          (size_t)(nul - p));
    size_t bad = promc__utf8_invalid_at(p, n);
    if (bad < n)
        return promc__err(PROMC_EUTF8, "%s: invalid UTF-8 at byte offset %zu", what, bad);
    return 0;
}

int promc__name_check_metric_as(const char *what, const char *name, bool legacy)
{
    if (legacy)
        return promc__name_check_metric(what, name);
    return check_utf8_name(PROMC_ENAME, what, name, strlen(name));
}

int promc__name_check_label_as(const char *name, size_t len, bool legacy)
{
    if (legacy)
        return promc__name_check_label(name, len);
    int rc = check_utf8_name(PROMC_ELABELNAME, "label name", name, len);
    if (rc == 0 && len >= 2 && name[0] == '_' && name[1] == '_')
        rc = promc__err(PROMC_ERESERVED, "label name '%.*s': the __ prefix is reserved", clip(len),
                        name);
    return rc;
}

int promc__name_check_metric(const char *what, const char *name)
{
    if (!name[0])
        return promc__err(PROMC_ENAME, "%s is empty", what);
    for (size_t i = 0; name[i]; i++) {
        char c = name[i];
        if (!(is_alpha_(c) || c == ':' || (i > 0 && is_digit(c)))) {
            char b[8];
            return promc__err(PROMC_ENAME, "%s '%.100s': invalid character %s at offset %zu", what,
                              name, show_char(c, b), i);
        }
    }
    return 0;
}

int promc__name_check_label(const char *name, size_t len)
{
    if (len == 0)
        return promc__err(PROMC_ELABELNAME, "label name is empty");
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!(is_alpha_(c) || (i > 0 && is_digit(c)))) {
            char b[8];
            return promc__err(PROMC_ELABELNAME,
                              "label name '%.*s': invalid character %s at offset %zu", clip(len),
                              name, show_char(c, b), i);
        }
    }
    if (len >= 2 && name[0] == '_' && name[1] == '_')
        return promc__err(PROMC_ERESERVED, "label name '%.*s': the __ prefix is reserved",
                          clip(len), name);
    return 0;
}

/* The characters of a unit and of a suffix: [a-zA-Z0-9_:]; the offset of the first other one, or
 * SIZE_MAX. */
static size_t bad_tail_char(const char *s)
{
    for (size_t i = 0; s[i]; i++)
        if (!(is_alpha_(s[i]) || is_digit(s[i]) || s[i] == ':'))
            return i;
    return (size_t)-1;
}

int promc__name_check_unit(const char *owner, const char *unit)
{
    size_t i = bad_tail_char(unit);
    if (i == (size_t)-1)
        return 0;
    char b[8];
    return promc__err(PROMC_EUNIT, "unit '%.100s' of '%.100s': invalid character %s at offset %zu",
                      unit, owner, show_char(unit[i], b), i);
}

int promc__name_check_suffix(const char *owner, const char *suffix)
{
    size_t i = bad_tail_char(suffix);
    if (i == (size_t)-1)
        return 0;
    char b[8];
    return promc__err(PROMC_ENAME,
                      "sample suffix '%.100s' of '%.100s': invalid character %s at offset %zu",
                      suffix, owner, show_char(suffix[i], b), i);
}

bool promc__name_has_unit(const char *name, size_t len, const char *unit)
{
    size_t ul = strlen(unit);
    return len > ul && name[len - ul - 1] == '_' && memcmp(name + len - ul, unit, ul) == 0;
}

int promc__name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return (alen > blen) - (alen < blen);
}

int promc__name_join(const char *ns, const char *subsystem, const char *name, bool counter,
                     size_t extra, char **out)
{
    ns = ns ? ns : "";
    subsystem = subsystem ? subsystem : "";
    size_t len = strlen(ns) + strlen(subsystem) + strlen(name) + extra + 3;
    char *full = promc__malloc(len);
    if (!full)
        return promc__err(PROMC_ENOMEM, "metric name");
    full[0] = '\0';
    if (ns[0])
        strcat(strcat(full, ns), "_");
    if (subsystem[0])
        strcat(strcat(full, subsystem), "_");
    strcat(full, name);
    size_t fl = strlen(full);
    if (counter && fl >= 6 && strcmp(full + fl - 6, "_total") == 0)
        full[fl - 6] = '\0';
    *out = full;
    return 0;
}
