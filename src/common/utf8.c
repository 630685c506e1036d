/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 validation (utf8.h): an ASCII run eight bytes at a time, then one sequence at a time by
 * the table of well-formed byte sequences of the Unicode standard (Table 3-7). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "err.h"
#include "utf8.h"

size_t promc__utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* Eight ASCII bytes at once. */
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* The lead byte sets the length and the range of the first continuation byte. */
        size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0; /* overlong below U+0800 */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90; /* overlong below U+10000 */
            else if (c == 0xF4)
                hi = 0x8F; /* past U+10FFFF */
        } else {
            return i; /* a continuation byte, C0/C1 (overlong), or F5..FF */
        }
        if (n - i < len)
            return i; /* truncated */
        if (p[i + 1] < lo || p[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF)
                return i;
        i += len;
    }
    return n;
}

int promc__utf8_check(const char *p, size_t n, const char *what_fmt, ...)
{
    size_t at = promc__utf8_invalid_at(p, n);
    if (at == n)
        return 0;
    char what[128];
    va_list ap;
    va_start(ap, what_fmt);
    vsnprintf(what, sizeof what, what_fmt, ap);
    va_end(ap);
    return promc__err(PROMC_EUTF8, "%s: invalid UTF-8 at byte %zu (0x%02x)", what, at,
                      (unsigned)(unsigned char)p[at]);
}
