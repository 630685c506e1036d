/* SPDX-License-Identifier: Apache-2.0 */
/* Timers: a monotonic start time and the seconds since, for the *_since() updates and the timing
 * macros of <promc/metric.h>. */
#include <promc/metric.h>
#include "clock.h"

promc_timer_t promc_timer_start(void)
{
    promc_timer_t t = {promc__now_mono_ns()};
    return t;
}

double promc_timer_elapsed(promc_timer_t t)
{
    return (double)(promc__now_mono_ns() - t.start_ns) / 1e9;
}
