/* SPDX-License-Identifier: Apache-2.0 */
/* Timing and in-progress scopes (<promc/metric.h>): what the macros record when their block or
 * scope ends.  A file of its own: it calls the types' updates, which call the timers. */
#include <promc/metric.h>

void promc_scope_end(promc_scope_t *s)
{
    if (s->histogram)
        promc_histogram_observe_since(s->histogram, s->start);
    if (s->summary)
        promc_summary_observe_since(s->summary, s->start);
    if (s->gauge)
        promc_gauge_set_since(s->gauge, s->start);
    if (s->inprogress)
        promc_gauge_dec(s->inprogress);
}
