/* SPDX-License-Identifier: Apache-2.0 */
/* The process collector: process_* metrics of the calling process, read at every scrape.
 *
 * Facts from proc(5): in /proc/self/stat the command name (field 2) is in parentheses and may hold
 * spaces and parentheses itself, so fields are counted from the last ')'; after it come state (3),
 * ..., utime (14) and stime (15) in clock ticks, num_threads (20), starttime (22) in clock ticks
 * since boot, vsize (23) in bytes and rss (24) in pages.  The boot time is the "btime" line of
 * /proc/stat.  Each value is emitted only when it was read; a failed read leaves its family out.
 *
 * Cost per scrape.  Opening /proc/self/stat and listing /proc/self/fd were most of a small
 * scrape's CPU time (the listing builds a dentry per descriptor).  So /proc/self/stat is opened
 * once and re-read with pread() at offset 0, which makes the kernel generate it afresh; and the
 * open descriptors are counted from stat("/proc/self/fd"), whose st_size is that count since
 * Linux 6.2 (older kernels say 0, and the directory is then listed as before).  The kept
 * descriptor is checked on every use, since the application may have closed it (a daemon that
 * closes every descriptor) and even reused its number: the text must start with our own pid,
 * otherwise it is forgotten (not closed: the number may be the application's now) and the file
 * opened again.  After fork() the child holds a copy that names the parent's file: it is closed
 * and reopened.  The kept descriptor is a real open file and counts in process_open_fds. */
#include <promc/expose.h>
#include <promc/process.h>

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "fork.h"

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
#include <sys/stat.h>
#include <unistd.h>

static pthread_once_t consts_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t stat_lock = PTHREAD_MUTEX_INITIALIZER;
static int stat_fd = -1; /* /proc/self/stat, opened by stat_pid; under stat_lock */
static pid_t stat_pid;
static double clk_tck;   /* 0: unknown */
static double page_size; /* 0: unknown */
static double boot_time; /* 0: unknown */

/* pread()s the whole file from offset 0 into buf (NUL-terminated).  Returns its length or -1. */
static ssize_t pread_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = pread(fd, buf + len, cap - 1 - len, (off_t)len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return (ssize_t)len;
}

/* True when buf is a /proc/PID/stat text of process `pid`: "PID (comm) ...". */
static bool is_stat_of(const char *buf, pid_t pid)
{
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    return errno == 0 && end != buf && v == (long)pid && end[0] == ' ' && end[1] == '(';
}

/* /proc/self/stat into buf through the kept descriptor (see the file comment).  Returns the
 * length, or -1 when it cannot be read. */
static ssize_t read_self_stat(char *buf, size_t cap)
{
    pid_t pid = getpid();
    ssize_t len = -1;
    pthread_mutex_lock(&stat_lock);
    if (stat_fd >= 0 && stat_pid != pid) {
        close(stat_fd); /* inherited across fork(): our copy, naming the parent's file */
        stat_fd = -1;
    }
    for (int attempt = 0; attempt < 2 && len < 0; attempt++) {
        bool fresh = stat_fd < 0;
        if (fresh) {
            stat_fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
            stat_pid = pid;
            if (stat_fd < 0)
                break;
        }
        len = pread_all(stat_fd, buf, cap);
        if (len <= 0 || !is_stat_of(buf, pid)) {
            /* Just opened: ours to close.  Kept: closed behind our back or no longer ours, so
             * forgotten and left alone. */
            if (fresh)
                close(stat_fd);
            stat_fd = -1;
            len = -1;
        }
    }
    pthread_mutex_unlock(&stat_lock);
    return len;
}

/* fork() while another thread reads /proc/self/stat would leave the child a copy of stat_lock held
 * by a thread it does not have: taken around fork() and released on both sides. */
static void stat_prefork(void)
{
    pthread_mutex_lock(&stat_lock);
}

static void stat_postfork(void)
{
    pthread_mutex_unlock(&stat_lock);
}

static void read_consts(void)
{
    (void)promc__atfork_add(PROMC__FORK_PROCESS, stat_prefork, stat_postfork, stat_postfork);
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
    struct stat st;
    if (stat("/proc/self/fd", &st) == 0 && st.st_size > 0) {
        *out = (double)st.st_size;
        return true;
    }
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
    if (read_self_stat(buf, sizeof buf) > 0)
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
