/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: UTF-8 validation of the text that goes into an exposition (label values, HELP, info
 * labels, enum states).  Strict, as Prometheus' parsers are: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing past U+10FFFF, no stray continuation byte, no truncated sequence.
 * NUL is a valid character. */
#ifndef PROMC_COMMON_UTF8_H
#define PROMC_COMMON_UTF8_H

#include <stddef.h>

/* The offset of the first byte of p[0..n) that does not start a valid UTF-8 sequence, or n when
 * the whole is valid. */
size_t promc__utf8_invalid_at(const char *p, size_t n);

/* promc__utf8_invalid_at() as a call's error: 0, or PROMC_EUTF8 with a message naming `what`
 * (printf-style, then the offset and the byte: "label value 1: invalid UTF-8 at byte 3 (0xff)"). */
int promc__utf8_check(const char *p, size_t n, const char *what_fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
