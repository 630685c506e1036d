/* The process collector: process_* metrics of the calling process, read at every scrape.
 *
 * Facts from proc(5): in /proc/self/stat the command name (field 2) is in parentheses and may hold
 * spaces and parentheses itself, so fields are counted from the last ')'; after it come state (3),
 * ..., utime (14) and stime (15) in clock ticks, num_threads (20), starttime (22) in clock ticks
 * since boot, vsize (23) in bytes and rss (24) in pages.  The boot time is the "btime" line of
 * /proc/stat.  Each value is emitted only when it was read; a failed read leaves its family out. */
#include <promc/process.h>

#include <stdbool.h>
#include <stddef.h>

#include "common/common.h"

static const char *const process_names[] = {
    "process_virtual_memory_bytes",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
    "process_cpu_seconds_total",
    "process_open_fds",
    "process_max_fds",
    "process_virtual_memory_max_bytes",
    "process_threads",
};
#define PROCESS_NAME_COUNT (sizeof process_names / sizeof process_names[0])

#ifdef __linux__

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static pthread_once_t consts_once = PTHREAD_ONCE_INIT;
static double clk_tck;   /* 0: unknown */
static double page_size; /* 0: unknown */
static double boot_time; /* 0: unknown */

/* Reads a whole small file from /proc into buf (NUL-terminated).  Returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

static void read_consts(void)
{
    long t = sysconf(_SC_CLK_TCK);
    clk_tck = t > 0 ? (double)t : 0;
    long p = sysconf(_SC_PAGESIZE);
    page_size = p > 0 ? (double)p : 0;
    /* /proc/stat grows with the CPU count; btime follows the per-CPU lines. */
    FILE *f = fopen("/proc/stat", "re");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long long bt;
        if (strncmp(line, "btime ", 6) == 0 && sscanf(line + 6, "%llu", &bt) == 1) {
            boot_time = (double)bt;
            break;
        }
    }
    fclose(f);
}

static int gauge(promc_emit_t *e, const char *name, const char *help, double v)
{
    int rc = promc_emit_family(e, name, help, PROMC_GAUGE, NULL);
    return rc ? rc : promc_emit_sample(e, "", NULL, 0, v);
}

/* Splits the fields after the command name; returns how many were found (at most `max`). */
static size_t stat_fields(char *buf, char **fields, size_t max)
{
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    p++;
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(p, " \n", &save); tok && n < max; tok = strtok_r(NULL, " \n", &save))
        fields[n++] = tok;
    return n;
}

/* Field k of proc(5)'s numbering (k >= 3), as a double; false when missing or not a number. */
static bool stat_field(char **fields, size_t n, size_t k, double *out)
{
    if (k < 3 || k - 3 >= n)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(fields[k - 3], &end, 10);
    if (end == fields[k - 3] || *end != '\0' || errno != 0)
        return false;
    *out = (double)v;
    return true;
}

static bool count_fds(double *out)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return false;
    int own = dirfd(d);
    long n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (atoi(de->d_name) == own) /* the directory stream's own descriptor */
            continue;
        n++;
    }
    closedir(d);
    *out = (double)n;
    return true;
}

static int collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    int rc;
    pthread_once(&consts_once, read_consts);

    char buf[1024];
    char *fields[64];
    size_t nf = 0;
    if (read_small("/proc/self/stat", buf, sizeof buf) > 0)
        nf = stat_fields(buf, fields, sizeof fields / sizeof fields[0]);

    double vsize, rss, start, utime, stime, threads;
    if (stat_field(fields, nf, 23, &vsize) &&
        (rc = gauge(e, "process_virtual_memory_bytes", "Virtual memory size in bytes.", vsize)))
        return rc;
    if (page_size > 0 && stat_field(fields, nf, 24, &rss) &&
        (rc = gauge(e, "process_resident_memory_bytes", "Resident memory size in bytes.",
                    rss * page_size)))
        return rc;
    if (clk_tck > 0 && boot_time > 0 && stat_field(fields, nf, 22, &start) &&
        (rc = gauge(e, "process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds.",
                    start / clk_tck + boot_time)))
        return rc;
    if (clk_tck > 0 && stat_field(fields, nf, 14, &utime) && stat_field(fields, nf, 15, &stime)) {
        if ((rc = promc_emit_family(e, "process_cpu_seconds",
                                    "Total user and system CPU time spent in seconds.",
                                    PROMC_COUNTER, NULL)) ||
            (rc = promc_emit_sample(e, "_total", NULL, 0, (utime + stime) / clk_tck)))
            return rc;
    }

    double fds;
    if (count_fds(&fds) &&
        (rc = gauge(e, "process_open_fds", "Number of open file descriptors.", fds)))
        return rc;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        (rc = gauge(e, "process_max_fds", "Maximum number of open file descriptors.",
                    (double)rl.rlim_cur)))
        return rc;
    if (getrlimit(RLIMIT_AS, &rl) == 0 &&
        (rc = gauge(e, "process_virtual_memory_max_bytes",
                    "Maximum amount of virtual memory available in bytes.", (double)rl.rlim_cur)))
        return rc;
    if (stat_field(fields, nf, 20, &threads) &&
        (rc = gauge(e, "process_threads", "Number of OS threads in the process.", threads)))
        return rc;
    return 0;
}

#else /* not Linux: nothing to read */

static int collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    (void)e;
    return 0;
}

#endif

int promc_process_collector_new(promc_collector_t **out)
{
    if (out == NULL)
        return promc__err(PROMC_EINVAL, "promc_process_collector_new: NULL argument");
    return promc_collector_new(out, collect, NULL, process_names, PROCESS_NAME_COUNT);
}

int promc_process_collector_register(promc_registry_t *r, promc_collector_t **out)
{
    if (r == NULL)
        r = promc_registry_default();
    if (r == NULL)
        return promc__err(PROMC_ENOMEM, "default registry");
    promc_collector_t *c;
    int rc = promc_process_collector_new(&c);
    if (rc != 0)
        return rc;
    rc = promc_registry_register_collector(r, c);
    if (rc != 0) {
        promc_collector_free(c);
        return rc;
    }
    if (out)
        *out = c;
    return 0;
}
