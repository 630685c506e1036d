/* SPDX-License-Identifier: Apache-2.0 */
/* The process collector against what the test can see for itself: getrlimit(), its own file
 * descriptors and threads, CPU time it burns, the clock. */
#define _GNU_SOURCE
#include <promc/promc.h>

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* The value of the sample line "name value" in text, or NAN. */
static double sample(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    }
    return NAN;
}

static char *scrape(promc_registry_t *r)
{
    char *text = NULL;
    size_t len = 0;
    CHECK_RC(promc_registry_write_buf(r, NULL, &text, &len), 0);
    return text;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
            n++;
    if (d)
        closedir(d);
    return n;
}

/* Threads as the kernel counts them (sanitizer runtimes may add their own). */
static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

/* The descriptor the collector keeps open on /proc/PID/stat, found by its link; -1 when none. */
static int kept_stat_fd(void)
{
    char want[64];
    snprintf(want, sizeof want, "/proc/%ld/stat", (long)getpid());
    DIR *d = opendir("/proc/self/fd");
    int found = -1;
    struct dirent *de;
    while (d && found < 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[300], link[128];
        snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0) {
            link[n] = '\0';
            if (strcmp(link, want) == 0)
                found = atoi(de->d_name);
        }
    }
    if (d)
        closedir(d);
    return found;
}

/* A stat line of another process (pid 1, 77 threads, huge CPU times): read by mistake, it would
 * show at once. */
static const char FOREIGN_STAT[] =
    "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 999999 999999 0 0 20 0 77 0 5 4096 1\n";

/* The application closes the collector's descriptor behind its back and gives the number to a file
 * of its own: the collector must neither read that file nor close it. */
static void test_kept_descriptor_taken(promc_registry_t *reg)
{
    char *text = scrape(reg);
    free(text);
    int kept = kept_stat_fd();
    CHECK(kept >= 0);
    if (kept < 0)
        return;
    char tmpl[] = "/tmp/promc-process-test-XXXXXX";
    int tf = mkstemp(tmpl);
    CHECK(tf >= 0);
    if (tf < 0)
        return;
    unlink(tmpl);
    CHECK(write(tf, FOREIGN_STAT, sizeof FOREIGN_STAT - 1) == (ssize_t)(sizeof FOREIGN_STAT - 1));
    CHECK(dup2(tf, kept) == kept);
    close(tf);

    text = scrape(reg);
    CHECK(sample(text, "process_threads") == (double)count_threads());
    CHECK(sample(text, "process_cpu_seconds_total") < 1000);
    CHECK(sample(text, "process_open_fds") == (double)count_fds());
    free(text);
    /* The application's file is still open under its number, untouched. */
    char head[8] = {0};
    CHECK(fcntl(kept, F_GETFD) != -1);
    CHECK(pread(kept, head, 7, 0) == 7 && memcmp(head, "1 (init", 7) == 0);
    int again = kept_stat_fd();
    CHECK(again >= 0 && again != kept);
    close(kept);

    /* Closed and left unused: opened again. */
    if (again >= 0)
        close(again);
    text = scrape(reg);
    CHECK(sample(text, "process_threads") == (double)count_threads());
    CHECK(sample(text, "process_open_fds") == (double)count_fds());
    free(text);
    CHECK(kept_stat_fd() >= 0);
}

static atomic_bool stop_thread;

static void *idle_thread(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_thread)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* After fork() the child reads its own /proc entry, not the parent's through the inherited
 * descriptor: the parent has an extra thread, the child has only the one that forked. */
static void test_fork(promc_registry_t *reg)
{
    atomic_store(&stop_thread, false);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, idle_thread, NULL) == 0);
    char *text = scrape(reg);
    double parent_threads = sample(text, "process_threads");
    CHECK(parent_threads == (double)count_threads() && parent_threads >= 2);
    free(text);
    CHECK(kept_stat_fd() >= 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        char *t = NULL;
        size_t l = 0;
        int bad = 0;
        if (promc_registry_write_buf(reg, NULL, &t, &l) != 0 || t == NULL) {
            bad = 1;
        } else {
            double th_child = sample(t, "process_threads");
            if (th_child != (double)count_threads() || th_child >= parent_threads)
                bad = 2;
            if (sample(t, "process_open_fds") != (double)count_fds())
                bad = 3;
            if (kept_stat_fd() < 0)
                bad = 4;
            if (bad)
                fprintf(stderr, "child: threads %g (parent %g), fds %g vs %d\n", th_child,
                        parent_threads, sample(t, "process_open_fds"), count_fds());
        }
        _exit(bad);
    }
    int status = 0;
    if (child > 0) {
        CHECK(waitpid(child, &status, 0) == child);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fprintf(stderr, "fork child: status %d\n", status);
    }
    atomic_store(&stop_thread, true);
    pthread_join(th, NULL);
    /* The parent still reads its own. */
    text = scrape(reg);
    CHECK(sample(text, "process_threads") == (double)count_threads());
    free(text);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void standard_metrics(void)
{
    promc_registry_t *reg;
    CHECK_RC(promc_registry_new(&reg), 0);
    promc_collector_t *c = NULL;
    CHECK_RC(promc_process_collector_register(reg, &c), 0);
    CHECK(c != NULL);

#ifdef __linux__
    char *text = scrape(reg);
    CHECK(text != NULL);
    if (text == NULL)
        return;
    /* Standard names, HELP texts and types. */
    static const char *const lines[] = {
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
        "# TYPE process_cpu_seconds_total counter\n",
        "# HELP process_open_fds Number of open file descriptors.\n"
        "# TYPE process_open_fds gauge\n",
        "# HELP process_max_fds Maximum number of open file descriptors.\n"
        "# TYPE process_max_fds gauge\n",
        "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
        "# TYPE process_virtual_memory_bytes gauge\n",
        "# HELP process_virtual_memory_max_bytes Maximum amount of virtual memory available in "
        "bytes.\n# TYPE process_virtual_memory_max_bytes gauge\n",
        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
        "# TYPE process_resident_memory_bytes gauge\n",
        "# HELP process_start_time_seconds Start time of the process since unix epoch in "
        "seconds.\n# TYPE process_start_time_seconds gauge\n",
        "# HELP process_threads Number of OS threads in the process.\n"
        "# TYPE process_threads gauge\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        CHECK(strstr(text, lines[i]) != NULL);
        if (!strstr(text, lines[i]))
            fprintf(stderr, "missing:\n%s", lines[i]);
    }

    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(sample(text, "process_max_fds") == (double)rl.rlim_cur);
    CHECK(getrlimit(RLIMIT_AS, &rl) == 0);
    CHECK(sample(text, "process_virtual_memory_max_bytes") == (double)rl.rlim_cur);
    CHECK(sample(text, "process_open_fds") == (double)count_fds());
    CHECK(sample(text, "process_resident_memory_bytes") > 100000);
    CHECK(sample(text, "process_virtual_memory_bytes") >=
          sample(text, "process_resident_memory_bytes"));
    int threads0 = count_threads();
    CHECK(threads0 >= 1 && sample(text, "process_threads") == threads0);
    double start = sample(text, "process_start_time_seconds");
    time_t now = time(NULL);
    /* Started within the last 10 minutes (start times have clock-tick resolution). */
    CHECK(start <= (double)now + 1 && start > (double)now - 600);
    double cpu0 = sample(text, "process_cpu_seconds_total");
    CHECK(cpu0 >= 0);
    free(text);

    /* Two more descriptors, one more thread, and a quarter second of CPU show up. */
    int a = open("/dev/null", O_RDONLY), b = dup(a);
    pthread_t th;
    pthread_create(&th, NULL, idle_thread, NULL);
    double until = cpu_now() + 0.25;
    unsigned long spins = 0;
    while (cpu_now() < until)
        spins++;
    CHECK(spins > 0);
    text = scrape(reg);
    CHECK(sample(text, "process_open_fds") == (double)count_fds());
    int threads1 = count_threads();
    CHECK(threads1 >= threads0 + 1 && sample(text, "process_threads") == threads1);
    double cpu1 = sample(text, "process_cpu_seconds_total");
    CHECK(cpu1 >= cpu0 + 0.2 && cpu1 <= cpu_now() + 0.05);
    if (!(cpu1 >= cpu0 + 0.2))
        fprintf(stderr, "cpu %.3f -> %.3f\n", cpu0, cpu1);
    free(text);
    atomic_store(&stop_thread, true);
    pthread_join(th, NULL);
    close(a);
    close(b);

    /* name[] filtering reaches the collector's samples. */
    const char *only[] = {"process_threads"};
    promc_expose_opts_t o = {.names = only, .name_count = 1};
    size_t len;
    CHECK_RC(promc_registry_write_buf(reg, &o, &text, &len), 0);
    char want[256];
    snprintf(want, sizeof want,
             "# HELP process_threads Number of OS threads in the process.\n"
             "# TYPE process_threads gauge\nprocess_threads %d.0\n",
             count_threads());
    CHECK_STR(text, want);
    free(text);

    test_kept_descriptor_taken(reg);
    test_fork(reg);
#else
    char *text = scrape(reg);
    CHECK(text && strstr(text, "process_") == NULL);
    free(text);
#endif

    /* A second one in the same registry: its names are taken. */
    promc_collector_t *c2 = NULL;
    CHECK_RC(promc_process_collector_register(reg, &c2), PROMC_EDUPLICATE);
    CHECK(c2 == NULL);
    CHECK_RC(promc_process_collector_new(NULL), PROMC_EINVAL);

    promc_collector_free(c);
    text = scrape(reg);
    CHECK(text && strstr(text, "process_") == NULL);
    free(text);
    promc_registry_free(reg);
}

static const check_case_t cases[] = {CHECK_CASE(standard_metrics)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_process", cases, argc, argv);
}
