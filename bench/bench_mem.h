/* SPDX-License-Identifier: Apache-2.0 */
/* Resident memory of the calling process, read from /proc/self/status (Linux).  Shared by the C
 * benchmark and the C++ peer, so both measure memory the same way.
 *
 * The peak (VmHWM) can be reset to the current RSS by writing "5" to /proc/self/clear_refs
 * (Linux >= 4.0); the render workloads do that just before rendering, so that the peak read after
 * the render minus the RSS before it is what the render itself added. */
#ifndef PROMC_BENCH_MEM_H
#define PROMC_BENCH_MEM_H

#include <stdio.h>
#include <string.h>

static inline long bench_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long kb = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            sscanf(line + klen + 1, "%ld", &kb);
            break;
        }
    }
    fclose(f);
    return kb;
}

static inline long bench_rss_kb(void)
{
    return bench_status_kb("VmRSS");
}

static inline long bench_peak_rss_kb(void)
{
    return bench_status_kb("VmHWM");
}

/* Returns 0 when the peak was reset, -1 when the kernel refused (the growth is then an upper
 * bound that includes the setup's own peak, and is printed with a "~"). */
static inline int bench_reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f == NULL)
        return -1;
    int ok = fputs("5", f) >= 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

#endif
