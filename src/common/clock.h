/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the clocks. */
#ifndef PROMC_COMMON_CLOCK_H
#define PROMC_COMMON_CLOCK_H

#include <stdint.h>

/* CLOCK_REALTIME in seconds, and in microseconds. */
double promc__now_unix(void);
int64_t promc__now_unix_us(void);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t promc__now_mono_ns(void);

#endif
