/* promc_registry_register is "any thread": two threads registering the same metric (or collector)
 * into two registries at the same time must not both succeed.  A metric in two registries is
 * detached from only one by promc_metric_free, and the other then scrapes freed memory.  Exactly
 * one registration wins; the other gets PROMC_ESTATE.  (Under ThreadSanitizer the unsynchronised
 * check of the object's registry is also reported as a race whichever thread wins.) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <promc/promc.h>
#include "check.h"

#define ROUNDS 3000

static promc_registry_t *regs[2];
static promc_metric_t *metric;
static promc_collector_t *coll;
static pthread_barrier_t start, end;
static atomic_int spin;
static int rcs[2], crcs[2];

static int collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    (void)e;
    return 0;
}

static void *registrar(void *arg)
{
    int k = (int)(long)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_barrier_wait(&start);
        /* A spinning rendezvous: both threads leave it within a few nanoseconds. */
        atomic_fetch_add(&spin, 1);
        while (atomic_load(&spin) < 2 * (i + 1))
            ;
        rcs[k] = promc_registry_register(regs[k], metric);
        crcs[k] = promc_registry_register_collector(regs[k], coll);
        pthread_barrier_wait(&end);
        pthread_barrier_wait(&end); /* main checks and unregisters in between */
    }
    return NULL;
}

int main(void)
{
    for (int k = 0; k < 2; k++)
        CHECK_RC(promc_registry_new(&regs[k]), 0);
    promc_gauge_t *g;
    CHECK_RC(
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "g", .help = "h", .no_register = 1}), 0);
    metric = promc_gauge_metric(g);
    const char *names[] = {"c"};
    CHECK_RC(promc_collector_new(&coll, collect, NULL, names, 1), 0);
    pthread_barrier_init(&start, NULL, 3);
    pthread_barrier_init(&end, NULL, 3);
    pthread_t t[2];
    for (long k = 0; k < 2; k++)
        pthread_create(&t[k], NULL, registrar, (void *)k);
    int both = 0, cboth = 0, neither = 0;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&end);
        both += rcs[0] == 0 && rcs[1] == 0;
        cboth += crcs[0] == 0 && crcs[1] == 0;
        neither += (rcs[0] != 0 && rcs[1] != 0) || (crcs[0] != 0 && crcs[1] != 0);
        for (int k = 0; k < 2; k++) {
            if (rcs[k] == 0)
                CHECK_RC(promc_registry_unregister(regs[k], metric), 0);
            else
                CHECK_RC(rcs[k], PROMC_ESTATE);
            if (crcs[k] == 0)
                CHECK_RC(promc_registry_unregister_collector(regs[k], coll), 0);
            else
                CHECK_RC(crcs[k], PROMC_ESTATE);
        }
        pthread_barrier_wait(&end);
    }
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    if (both || cboth)
        fprintf(stderr, "registered in both registries: metric %d times, collector %d times\n",
                both, cboth);
    CHECK(both == 0);
    CHECK(cboth == 0);
    CHECK(neither == 0);
    promc_gauge_free(g);
    promc_collector_free(coll);
    for (int k = 0; k < 2; k++)
        promc_registry_free(regs[k]);
    return check_report("test_review_register_race");
}
