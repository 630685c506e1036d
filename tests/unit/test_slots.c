/* SPDX-License-Identifier: Apache-2.0 */
/* Thread slots (src/metric/slots.c): the per-thread stripes of counters and histograms.
 *
 * fork_frees_slots_and_lock: fork() in a process whose other threads update counters.  The child
 * keeps only the forking thread, so (1) the slots the other threads held must go back to the pool
 * there, and (2) the slot lock, which another thread may hold at the moment of fork(), must be
 * usable in the child: otherwise the child's first new thread to update a counter waits forever.
 *
 * For (2) the test makes a thread stop while it holds the lock: it provides its own
 * pthread_setspecific(), which the library calls under the lock when a thread takes a slot, and
 * which can be told to wait there.
 *
 * update_after_slot_release_is_counted: A counter update made by a thread after its counter slot
 * went back (from a later thread-exit destructor of the program's own: another library's TLS
 * cleanup, a C++ thread_local) must not write the cell of the slot it gave up: a new thread may own
 * that cell by then, and the two plain load/store updates would lose counts (and race, which
 * ThreadSanitizer reports).
 *
 * Thread A updates a striped counter (taking slot s), then at its exit, in a destructor that runs
 * after the counter slot's (it re-arms itself once, so it runs in the second destructor round
 * whatever the key order), it waits for thread B, started after A gave its slot back (so B takes
 * s), and both add ITER increments at the same time.  Every increment must be counted. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
#include <promc/promc.h>
#include "check.h"
#include "slots.h"

#define HOLDERS (PROMC__MAX_SLOTS - 1) /* with the main thread: every slot taken */

static promc_counter_t *ctr;

/* The ThreadSanitizer build compiles this file a second time with PROMC_TEST_NO_INTERPOSER, for
 * the second case only: an executable's own pthread_setspecific() and TSan's thread teardown do
 * not mix. */
#ifndef PROMC_TEST_NO_INTERPOSER
static pthread_barrier_t held, release;

static void *holder(void *arg)
{
    (void)arg;
    promc_counter_inc(ctr); /* takes a slot, kept until this thread exits */
    pthread_barrier_wait(&held);
    pthread_barrier_wait(&release);
    return NULL;
}

static void *child_worker(void *arg)
{
    promc_counter_inc(ctr);
    *(unsigned *)arg = promc__tls_slot;
    return NULL;
}

/* In a child: HOLDERS threads alive at once, each must get a slot of its own. */
static int child_gets_slots(void)
{
    pthread_t t[HOLDERS];
    unsigned slot[HOLDERS];
    int bad = 0;
    for (int i = 0; i < HOLDERS; i++)
        if (pthread_create(&t[i], NULL, child_worker, &slot[i]) != 0)
            return 2;
    for (int i = 0; i < HOLDERS; i++) {
        pthread_join(t[i], NULL);
        bad |= slot[i] == 0 || slot[i] > PROMC__MAX_SLOTS;
    }
    return bad;
}

static void *one_update(void *arg)
{
    (void)arg;
    promc_counter_inc(ctr);
    return NULL;
}

/* pthread_setspecific, passed through to the C library's, except that while `trap` is set the
 * call stops (with the library's slot lock held) until `go` is posted. */
static atomic_bool trap;
static sem_t inside, go;

int pthread_setspecific(pthread_key_t key, const void *value)
{
    static int (*real)(pthread_key_t, const void *);
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "pthread_setspecific");
    if (atomic_exchange(&trap, false)) {
        sem_post(&inside);
        while (sem_wait(&go) != 0) {
        }
    }
    return real(key, value);
}

static void *late_release(void *arg)
{
    (void)arg;
    usleep(300000); /* well after fork() has been called */
    sem_post(&go);
    return NULL;
}

static void fork_frees_slots_and_lock(void)
{
    promc_registry_t *reg;
    CHECK_RC(promc_registry_new(&reg), 0);
    CHECK_RC(promc_counter_new(&ctr, &(promc_metric_opts_t){.name = "forked",
                                                            .help = "Updated around fork().",
                                                            .registry = reg}),
             0);
    promc_counter_inc(ctr); /* the main thread's slot */

    /* (1) Every slot held by a live thread, then fork(): the child's threads get slots. */
    pthread_t h[HOLDERS];
    pthread_barrier_init(&held, NULL, HOLDERS + 1);
    pthread_barrier_init(&release, NULL, HOLDERS + 1);
    for (int i = 0; i < HOLDERS; i++)
        CHECK(pthread_create(&h[i], NULL, holder, NULL) == 0);
    pthread_barrier_wait(&held);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10);
        _exit(child_gets_slots());
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "the child's threads found no free slot (status %#x)\n", st);
    pthread_barrier_wait(&release);
    for (int i = 0; i < HOLDERS; i++)
        pthread_join(h[i], NULL);

    /* (2) A thread stopped inside the slot lock while the main thread forks.  With the lock taken
     * around fork(), fork() waits until the thread has let go (late_release frees it); without,
     * the child gets the lock held for good and its new thread hangs until the alarm. */
    sem_init(&inside, 0, 0);
    sem_init(&go, 0, 0);
    atomic_store(&trap, true);
    pthread_t taker, releaser;
    CHECK(pthread_create(&taker, NULL, one_update, NULL) == 0);
    while (sem_wait(&inside) != 0) {
    }
    CHECK(pthread_create(&releaser, NULL, late_release, NULL) == 0);
    pid = fork();
    if (pid == 0) {
        alarm(5);
        pthread_t t;
        if (pthread_create(&t, NULL, one_update, NULL) != 0)
            _exit(2);
        pthread_join(t, NULL);
        _exit(0);
    }
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "the child forked beside a held slot lock did not finish (status %#x)\n",
                st);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    pthread_join(taker, NULL);
    pthread_join(releaser, NULL);

    promc_counter_free(ctr);
    promc_registry_free(reg);
}
#endif /* PROMC_TEST_NO_INTERPOSER */

#define ITER   2000000
#define ROUNDS 3

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

static void update_after_slot_release_is_counted(void)
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
}

static const check_case_t cases[] = {
#ifndef PROMC_TEST_NO_INTERPOSER
    CHECK_CASE(fork_frees_slots_and_lock),
#endif
    CHECK_CASE(update_after_slot_release_is_counted),
};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_slots", cases, argc, argv);
}
