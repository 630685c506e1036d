/* SPDX-License-Identifier: Apache-2.0 */
/* Number formatting for the exposition formats, independent of the C locale.
 *
 * client_python writes a sample value as floatToGoString(v): Python's repr(v) (the shortest decimal
 * that reads back as v, in fixed notation for decimal exponents -4..15 and scientific otherwise),
 * except that a positive value of 1e6 or more written in fixed notation is rewritten in Go's
 * scientific form, "1.6849306030837066e+09".  client_python 0.16 pads that exponent with a literal
 * "0", giving "1e+010" from 1e10 up to 1e16; we write the exponent with two digits as Go does.
 *
 * The shortest digits come from the C library: the 15-significant-digit rounding of v reads back as
 * v whenever any decimal of 15 or fewer digits does (DBL_DIG), and then it is that decimal padded
 * with zeros; otherwise the correctly rounded 16 digits are tried, and 17 always read back.  The
 * read-back string is built without a decimal point ("123e-2"), so strtod's locale does not matter,
 * and the digits are taken from snprintf's output by skipping whatever decimal point the locale
 * printed.  Integral values, the common case for counters, never reach snprintf. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fmt.h"

size_t promc__fmt_u64(uint64_t v, char *buf)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

static bool reads_back(const char *digits, size_t nd, int exp10, double v)
{
    char back[48];
    snprintf(back, sizeof back, "%.*se%d", (int)nd, digits, exp10 - (int)(nd - 1));
    return strtod(back, NULL) == v;
}

/* Adds one unit in the last place to nd decimal digits; a carry out of the first digit gives
 * "100..0" and one more in the exponent. */
static void digits_inc(char *digits, size_t nd, int *exp10)
{
    size_t i = nd;
    while (i > 0 && digits[i - 1] == '9')
        digits[--i] = '0';
    if (i > 0) {
        digits[i - 1]++;
    } else {
        digits[0] = '1';
        (*exp10)++;
    }
}

/* Shortest round-trip digits of a finite, non-zero |v|: writes them to digits (no trailing zeros,
 * NUL-terminated) and returns the decimal exponent x with v = d.ddd × 10^x.
 *
 * At 16 digits the correctly rounded decimal is not always the one that reads back: at an exact
 * power of two the doubles below are twice as dense as those above, so the interval that rounds
 * to v reaches only a quarter ulp down and half an ulp up.  When the nearest 16-digit decimal lies
 * below v outside that quarter, the next one up may still lie within the half above, and it is
 * then the shortest (Python's repr picks it: 2^-24 is 5.960464477539063e-08, not the 17 digits
 * 5.9604644775390625e-08).  15 digits need no such care (DBL_DIG: a 15-digit decimal that reads
 * back as v is v rounded to 15 digits), and 17 always read back. */
static int shortest_digits(double v, char digits[20])
{
    static const int precisions[] = {15, 16, 17};
    char out[40];
    int exp10 = 0;
    size_t nd = 0;
    /* An exact power of two: no mantissa bits (v is positive, finite, non-zero). */
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bool pow2 = (bits & 0xFFFFFFFFFFFFFull) == 0;
    /* Subnormals carry fewer significant bits, so the DBL_DIG shortcut does not hold: try every
     * precision from 1 up.  Their spacing is uniform, so the nearest decimal is the one to try. */
    bool subnormal = v < 2.2250738585072014e-308;
    for (int k = 0; k < (subnormal ? 17 : 3); k++) {
        int prec = subnormal ? k + 1 : precisions[k];
        snprintf(out, sizeof out, "%.*e", prec - 1, v);
        nd = 0;
        const char *p = out;
        while (*p && *p != 'e') {
            if (*p >= '0' && *p <= '9')
                digits[nd++] = *p;
            p++;
        }
        exp10 = *p == 'e' ? atoi(p + 1) : 0;
        bool ok = prec == 17 || reads_back(digits, nd, exp10, v);
        if (!ok && prec == 16 && pow2 && !subnormal) {
            digits_inc(digits, nd, &exp10);
            ok = reads_back(digits, nd, exp10, v);
        }
        while (nd > 1 && digits[nd - 1] == '0')
            nd--;
        digits[nd] = '\0';
        if (ok)
            break;
    }
    return exp10;
}

size_t promc__fmt_double(double v, char *buf)
{
    if (isnan(v)) {
        memcpy(buf, "NaN", 4);
        return 3;
    }
    if (isinf(v)) {
        memcpy(buf, v > 0 ? "+Inf" : "-Inf", 5);
        return 4;
    }
    char *o = buf;
    if (v == 0) {
        if (signbit(v))
            *o++ = '-';
        memcpy(o, "0.0", 4);
        return (size_t)(o - buf) + 3;
    }
    char digits[20];
    int x;
    size_t nd;
    double a = fabs(v);
    if (a < 1e16 && a == (double)(uint64_t)a) {
        /* Integral: the digits of the integer, without its trailing zeros. */
        char tmp[24];
        size_t n = promc__fmt_u64((uint64_t)a, tmp);
        x = (int)n - 1;
        nd = n;
        while (nd > 1 && tmp[nd - 1] == '0')
            nd--;
        memcpy(digits, tmp, nd);
        digits[nd] = '\0';
    } else {
        x = shortest_digits(a, digits);
        nd = strlen(digits);
    }
    if (v < 0)
        *o++ = '-';
    if (v > 0 && x >= 6 && x < 16) {
        /* Go's form for what Python would write as 1234567.0 and up. */
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, nd - 1);
            o += nd - 1;
        }
        o += sprintf(o, "e+%02d", x);
        return (size_t)(o - buf);
    }
    if (x >= -4 && x < 16) {
        /* Python's fixed notation, always with a fractional part. */
        if (x >= 0) {
            for (int i = 0; i <= x; i++)
                *o++ = (size_t)i < nd ? digits[i] : '0';
            *o++ = '.';
            if (nd > (size_t)x + 1) {
                memcpy(o, digits + x + 1, nd - (size_t)x - 1);
                o += nd - (size_t)x - 1;
            } else {
                *o++ = '0';
            }
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -x - 1; i++)
                *o++ = '0';
            memcpy(o, digits, nd);
            o += nd;
        }
        *o = '\0';
        return (size_t)(o - buf);
    }
    /* Python's scientific notation: "1e+16", "1.5e-05". */
    *o++ = digits[0];
    if (nd > 1) {
        *o++ = '.';
        memcpy(o, digits + 1, nd - 1);
        o += nd - 1;
    }
    o += sprintf(o, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    return (size_t)(o - buf);
}

/* (double)us / 1e6 is the double nearest the decimal us × 10^-6, and below 2^33 seconds no shorter
 * decimal lies within half an ulp of it (an ulp there is under 2e-6), so the shortest round-trip
 * digits are exactly those of `us` without trailing zeros.  Creation times are kept in microseconds
 * so that a scrape writes each one with integer work only. */
size_t promc__fmt_micros(int64_t us, char *buf)
{
    if (us < 1000000000000LL || us >= 8000000000000000LL) /* outside [1e6 s, 8e9 s) */
        return promc__fmt_double((double)us / 1e6, buf);
    char tmp[24];
    size_t n = promc__fmt_u64((uint64_t)us, tmp);
    int x = (int)n - 7;
    size_t nd = n;
    while (nd > 1 && tmp[nd - 1] == '0')
        nd--;
    char *o = buf;
    *o++ = tmp[0];
    if (nd > 1) {
        *o++ = '.';
        memcpy(o, tmp + 1, nd - 1);
        o += nd - 1;
    }
    *o++ = 'e';
    *o++ = '+';
    *o++ = (char)('0' + x / 10);
    *o++ = (char)('0' + x % 10);
    *o = '\0';
    return (size_t)(o - buf);
}
