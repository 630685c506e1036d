/* A counter update made by a thread after its counter slot went back (from a later thread-exit
 * destructor of the program's own: another library's TLS cleanup, a C++ thread_local) must not
 * write the cell of the slot it gave up: a new thread may own that cell by then, and the two plain
 * load/store updates would lose counts (and race, which ThreadSanitizer reports).
 *
 * Thread A updates a striped counter (taking slot s), then at its exit, in a destructor that runs
 * after the counter slot's (it re-arms itself once, so it runs in the second destructor round
 * whatever the key order), it waits for thread B, started after A gave its slot back (so B takes
 * s), and both add ITER increments at the same time.  Every increment must be counted. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <promc/promc.h>
#include "check.h"

#define ITER   2000000
#define ROUNDS 3

static promc_counter_t *ctr;
static pthread_key_t late_key;
static pthread_barrier_t both;
static sem_t a_released;

static void hammer(void)
{
    pthread_barrier_wait(&both);
    for (int i = 0; i < ITER; i++)
        promc_counter_inc(ctr);
}

static void late_dtor(void *v)
{
    if ((uintptr_t)v == 1) {
        /* First round: the counter slot's destructor may not have run yet; come back once more. */
        pthread_setspecific(late_key, (void *)(uintptr_t)2);
        return;
    }
    sem_post(&a_released);
    hammer();
}

static void *thread_a(void *arg)
{
    (void)arg;
    promc_counter_inc(ctr);
    pthread_setspecific(late_key, (void *)(uintptr_t)1);
    return NULL;
}

static void *thread_b(void *arg)
{
    (void)arg;
    hammer();
    return NULL;
}

int main(void)
{
    promc_registry_t *reg;
    CHECK_RC(promc_registry_new(&reg), 0);
    CHECK_RC(promc_counter_new(&ctr,
                               &(promc_metric_opts_t){
                                   .name = "late", .help = "h", .registry = reg, .stripes = 8}),
             0);
    promc_counter_inc(ctr); /* the main thread keeps a slot of its own */
    CHECK(pthread_key_create(&late_key, late_dtor) == 0);
    CHECK(sem_init(&a_released, 0, 0) == 0);
    double want = 1;
    for (int r = 0; r < ROUNDS; r++) {
        CHECK(pthread_barrier_init(&both, NULL, 2) == 0);
        pthread_t a, b;
        CHECK(pthread_create(&a, NULL, thread_a, NULL) == 0);
        sem_wait(&a_released);
        CHECK(pthread_create(&b, NULL, thread_b, NULL) == 0);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        pthread_barrier_destroy(&both);
        want += 1 + 2.0 * ITER;
        double got = promc_counter_value(ctr);
        if (got != want)
            fprintf(stderr, "round %d: counter %.0f, wanted %.0f (%.0f increments lost)\n", r, got,
                    want, want - got);
        CHECK(got == want);
        want = got; /* judge each round on its own */
    }
    promc_counter_free(ctr);
    promc_registry_free(reg);
    pthread_key_delete(late_key);
    sem_destroy(&a_released);
    return check_report("test_review_counter_slots");
}
