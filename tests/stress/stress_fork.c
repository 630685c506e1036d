/* SPDX-License-Identifier: Apache-2.0 */
/* fork() while other threads use every lock of the library: threads create and remove children
 * (metric locks, the reclamation pool), create, register and free metrics (the registry and metric
 * lists, registry locks), scrape (registry locks, info labels under the metric lock) and set info
 * labels.  The main thread forks WORKERS children one after another; each child must be able to use
 * promc at once from its own thread and from a new one: create a metric, resolve and remove
 * children, set info labels, scrape.  A child that hangs on a lock left held by a thread it does
 * not have is killed by its alarm and fails the test.  The parent's values stay exact. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <promc/promc.h>

#define WORKERS       40
#define CHILD_SECONDS 10

static promc_registry_t *reg;
static promc_counter_t *churn, *steady;
static promc_info_t *info;
static atomic_bool done;
static atomic_long steady_incs;

static int discard(void *ud, const void *p, size_t n)
{
    (void)ud;
    (void)p;
    (void)n;
    return 0;
}

static void *churner(void *arg)
{
    long id = (long)arg;
    for (long i = 0; !atomic_load(&done); i++) {
        char key[32];
        snprintf(key, sizeof key, "k-%ld-%ld", id, i % 300);
        promc_str_t v[] = {promc_str(key)};
        if (promc_counter_labels_inc(churn, v, 1) != 0)
            abort();
        if (promc_metric_remove(promc_counter_metric(churn), v, 1) != 0)
            abort();
        promc_counter_inc(steady);
        atomic_fetch_add(&steady_incs, 1);
    }
    return NULL;
}

static void *registrar(void *arg)
{
    (void)arg;
    for (long i = 0; !atomic_load(&done); i++) {
        promc_gauge_t *g;
        if (promc_gauge_new(&g, &(promc_metric_opts_t){
                                    .name = "temporary", .help = "T.", .registry = reg}) != 0)
            abort();
        promc_gauge_set(g, (double)i);
        promc_gauge_free(g);
        promc_registry_t *r2;
        if (promc_registry_new(&r2) != 0)
            abort();
        promc_registry_free(r2);
    }
    return NULL;
}

static void *scraper(void *arg)
{
    (void)arg;
    while (!atomic_load(&done))
        if (promc_registry_write(reg, NULL, discard, NULL) != 0)
            abort();
    return NULL;
}

static void *info_setter(void *arg)
{
    (void)arg;
    for (long i = 0; !atomic_load(&done); i++) {
        char ver[32];
        snprintf(ver, sizeof ver, "1.%ld", i);
        promc_label_t l[] = {{PROMC_STR("version"), promc_str(ver)}};
        if (promc_info_set(info, l, 1) != 0)
            abort();
    }
    return NULL;
}

/* What a forked worker does first: everything, from its own thread and a new one. */
static int use_promc(void)
{
    promc_registry_t *r;
    if (promc_registry_new(&r))
        return 10;
    const char *ln[] = {"job"};
    promc_counter_t *c, *k;
    if (promc_counter_new(&c, &(promc_metric_opts_t){.name = "worker_jobs",
                                                     .help = "J.",
                                                     .label_names = ln,
                                                     .label_count = 1,
                                                     .registry = r}))
        return 11;
    for (int i = 0; i < 600; i++) {
        char key[16];
        snprintf(key, sizeof key, "j%d", i);
        promc_str_t v[] = {promc_str(key)};
        if (promc_counter_labels(c, v, 1, &k))
            return 12;
        promc_counter_inc(k);
        if (i % 2 && promc_metric_remove(promc_counter_metric(c), v, 1))
            return 13;
    }
    /* The parent's metrics: its values at the fork, updated here on their own. */
    promc_str_t v[] = {PROMC_STR("in-child")};
    if (promc_counter_labels_inc(churn, v, 1))
        return 14;
    promc_label_t l[] = {{PROMC_STR("version"), PROMC_STR("child")}};
    if (promc_info_set(info, l, 1))
        return 15;
    char *out;
    size_t len;
    if (promc_registry_write_buf(reg, NULL, &out, &len))
        return 16;
    int ok = strstr(out, "churn_total{key=\"in-child\"} ") != NULL &&
             strstr(out, "version=\"child\"") != NULL;
    promc_buf_free(out);
    if (!ok)
        return 17;
    if (promc_registry_write_buf(r, NULL, &out, &len))
        return 18;
    promc_buf_free(out);
    promc_counter_free(c);
    promc_registry_free(r);
    return 0;
}

static void *child_thread(void *arg)
{
    *(int *)arg = use_promc();
    return NULL;
}

int main(void)
{
    if (promc_registry_new(&reg))
        return 1;
    const char *ln[] = {"key"};
    if (promc_counter_new(&churn, &(promc_metric_opts_t){.name = "churn",
                                                         .help = "C.",
                                                         .label_names = ln,
                                                         .label_count = 1,
                                                         .registry = reg}) ||
        promc_counter_new(
            &steady, &(promc_metric_opts_t){.name = "steady", .help = "S.", .registry = reg}) ||
        promc_info_new(&info,
                       &(promc_metric_opts_t){.name = "build", .help = "B.", .registry = reg}))
        return 1;
    pthread_t th[5];
    pthread_create(&th[0], NULL, churner, (void *)0L);
    pthread_create(&th[1], NULL, churner, (void *)1L);
    pthread_create(&th[2], NULL, registrar, NULL);
    pthread_create(&th[3], NULL, scraper, NULL);
    pthread_create(&th[4], NULL, info_setter, NULL);
    int hung = 0, failed = 0;
    for (int w = 0; w < WORKERS; w++) {
        usleep(5000);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(CHILD_SECONDS);
            int rc = use_promc();
            if (rc)
                _exit(rc);
            int trc = -1;
            pthread_t t;
            if (pthread_create(&t, NULL, child_thread, &trc) != 0)
                _exit(20);
            pthread_join(t, NULL);
            _exit(trc ? 20 + trc : 0);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid) {
            failed++;
            continue;
        }
        if (WIFSIGNALED(st)) {
            fprintf(stderr, "worker %d: killed by signal %d (hung on a lock?)\n", w, WTERMSIG(st));
            hung++;
        } else if (WEXITSTATUS(st) != 0) {
            fprintf(stderr, "worker %d: exit status %d\n", w, WEXITSTATUS(st));
            failed++;
        }
    }
    atomic_store(&done, true);
    for (int i = 0; i < 5; i++)
        pthread_join(th[i], NULL);
    int fails = hung + failed;
    if (promc_counter_value(steady) != (double)atomic_load(&steady_incs)) {
        fprintf(stderr, "steady: %f != %ld\n", promc_counter_value(steady),
                atomic_load(&steady_incs));
        fails++;
    }
    printf("stress_fork: %d workers forked beside 5 busy threads: %d hung, %d failed\n", WORKERS,
           hung, failed);
    promc_counter_free(churn);
    promc_counter_free(steady);
    promc_info_free(info);
    promc_registry_free(reg);
    printf("%d passed, %d failed\n", fails ? 0 : 1, fails ? 1 : 0);
    return fails ? 1 : 0;
}
