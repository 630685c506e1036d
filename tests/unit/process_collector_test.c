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

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
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
        return check_report("process_collector_test");
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
    return check_report("process_collector_test");
}
