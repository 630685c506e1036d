/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: number formatting for the exposition formats, independent of the C locale. */
#ifndef PROMC_COMMON_FMT_H
#define PROMC_COMMON_FMT_H

#include <stddef.h>
#include <stdint.h>

/* client_python's floatToGoString with its 1e10..1e16 exponent bug fixed; buf >= 32 bytes.
 * Returns the length. */
size_t promc__fmt_double(double v, char *buf);

/* A time in microseconds as promc__fmt_double((double)us / 1e6) would write it, from integers. */
size_t promc__fmt_micros(int64_t us, char *buf);

/* Decimal digits of an unsigned integer; buf >= 21 bytes.  Returns the length. */
size_t promc__fmt_u64(uint64_t v, char *buf);

#endif
