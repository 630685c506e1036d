/* A scrape must not hold an info metric's lock while it calls the sink (user code, which in the
 * HTTP server writes to a client socket that may be slow): docs/threading.md promises that no
 * library mutex is held while calling user code, and promc_info_set / promc_info_labels take that
 * lock.  The info metric here writes more than the 64 KiB chunk, so the sink is called in the
 * middle of its children; from the sink, another thread calls promc_info_set and
 * promc_info_labels, which must finish while the sink waits for them. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <semaphore.h>
#include <time.h>
#include <promc/promc.h>
#include "check.h"

#define CHILDREN 2000

static promc_info_t *info, *child0;
static sem_t go, finished;
static int sink_calls, blocked;
static int worker_rc = -1;

static void *worker(void *arg)
{
    (void)arg;
    sem_wait(&go);
    promc_label_t l[] = {{PROMC_STR("version"), PROMC_STR("2.0")}};
    int rc = promc_info_set(child0, l, 1);
    promc_info_t *c;
    promc_str_t v[] = {PROMC_STR("new-child")};
    if (!rc)
        rc = promc_info_labels(info, v, 1, &c);
    worker_rc = rc;
    sem_post(&finished);
    return NULL;
}

static int sink(void *ud, const void *p, size_t n)
{
    (void)ud;
    (void)p;
    (void)n;
    if (sink_calls++ == 0) {
        sem_post(&go);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 10;
        if (sem_timedwait(&finished, &deadline) != 0)
            blocked = 1; /* the worker is stuck behind a lock the scrape holds */
    }
    return 0;
}

int main(void)
{
    promc_registry_t *reg;
    CHECK_RC(promc_registry_new(&reg), 0);
    const char *ln[] = {"host"};
    CHECK_RC(promc_info_new(&info, &(promc_metric_opts_t){.name = "build",
                                                          .help = "h",
                                                          .label_names = ln,
                                                          .label_count = 1,
                                                          .registry = reg}),
             0);
    promc_label_t l[] = {{PROMC_STR("version"), PROMC_STR("1.0")}};
    for (int i = 0; i < CHILDREN; i++) {
        char host[64];
        snprintf(host, sizeof host, "host-%04d-with-a-fairly-long-name-to-fill-the-chunk", i);
        promc_str_t v[] = {promc_str(host)};
        promc_info_t *c;
        CHECK_RC(promc_info_labels(info, v, 1, &c), 0);
        CHECK_RC(promc_info_set(c, l, 1), 0);
        if (i == CHILDREN - 1)
            child0 = c;
    }
    sem_init(&go, 0, 0);
    sem_init(&finished, 0, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
    CHECK_RC(promc_registry_write(reg, NULL, sink, NULL), 0);
    if (blocked)
        sem_wait(&finished); /* the scrape has let go of the lock now */
    pthread_join(t, NULL);
    CHECK(sink_calls >= 2); /* the first call came before the end of the info family */
    CHECK(!blocked);
    CHECK_RC(worker_rc, 0);
    promc_info_free(info);
    promc_registry_free(reg);
    sem_destroy(&go);
    sem_destroy(&finished);
    return check_report("test_review_info_sink");
}
