/* SPDX-License-Identifier: Apache-2.0 */
/* Registries (src/registry/): the default registry and registration from several threads. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "check.h"

static char *render(promc_registry_t *r, promc_format_t f)
{
    char *out = NULL;
    size_t len = 0;
    int rc = promc_registry_write_buf(r, &(promc_expose_opts_t){.format = f}, &out, &len);
    CHECK_RC(rc, 0);
    CHECK(!out || out[len] == '\0');
    return out;
}

static bool contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

/* The default registry: metrics land there without .registry; freeing it is a no-op. */
static void default_registry(void)
{
    promc_counter_t *c;
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "hello_worlds_requests",
                                                          .help = "Hello Worlds requested."}),
             0);
    promc_counter_inc(c);
    char *t = render(promc_registry_default(), PROMC_FORMAT_TEXT);
    CHECK(contains(t, "# HELP hello_worlds_requests_total Hello Worlds requested.\n"
                      "# TYPE hello_worlds_requests_total counter\n"
                      "hello_worlds_requests_total 1.0\n"));
    promc_buf_free(t);
    promc_registry_free(promc_registry_default()); /* a no-op by contract */
    promc_counter_free(c);
    t = render(promc_registry_default(), PROMC_FORMAT_TEXT);
    CHECK_STR(t, "");
    promc_buf_free(t);
}

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

/* promc_registry_register is "any thread": two threads registering the same metric (or collector)
 * into two registries at the same time must not both succeed.  A metric in two registries is
 * detached from only one by promc_metric_free, and the other then scrapes freed memory.  Exactly
 * one registration wins; the other gets PROMC_ESTATE.  (Under ThreadSanitizer the unsynchronised
 * check of the object's registry is also reported as a race whichever thread wins.) */
static void register_race_one_winner(void)
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
}

static int labelled_collector(void *ud, promc_emit_t *e)
{
    const char *label = ud;
    promc_label_t l = {promc_str(label), PROMC_STR("v")};
    int rc = promc_emit_family(e, "coll", "C.", PROMC_GAUGE, NULL);
    return rc ? rc : promc_emit_sample(e, "", &l, 1, 2);
}

static double forty_two(void *ud)
{
    (void)ud;
    return 42;
}

/* promc_registry_set_const_labels(): every sample carries them, metrics and collectors alike;
 * set once, before anything is registered; clashes refused. */
static void registry_const_labels(void)
{
    promc_registry_t *r = NULL;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_registry_set_created(r, false);
    promc_registry_set_legacy_names(r, true); /* "a-b" is a bad name under the legacy rules */
    promc_label_t bad1[] = {{PROMC_STR("a-b"), PROMC_STR("x")}};
    promc_label_t bad2[] = {{PROMC_STR("__x"), PROMC_STR("x")}};
    promc_label_t bad3[] = {{PROMC_STR("a"), PROMC_STR("x")}, {PROMC_STR("a"), PROMC_STR("y")}};
    promc_label_t bad4[] = {{PROMC_STR("a"), {"\xff", 1}}};
    CHECK_RC(promc_registry_set_const_labels(r, bad1, 1), PROMC_ELABELNAME);
    CHECK_RC(promc_registry_set_const_labels(r, bad2, 1), PROMC_ERESERVED);
    CHECK_RC(promc_registry_set_const_labels(r, bad3, 2), PROMC_ELABELNAME);
    CHECK_RC(promc_registry_set_const_labels(r, bad4, 1), PROMC_EUTF8);
    CHECK_RC(promc_registry_set_const_labels(NULL, bad1, 1), PROMC_EINVAL);
    CHECK_RC(promc_registry_set_const_labels(r, NULL, 1), PROMC_EINVAL);
    promc_label_t svc[] = {{PROMC_STR("service"), PROMC_STR("checkout")},
                           {PROMC_STR("le"), PROMC_STR("x")}};
    REQUIRE_RC(promc_registry_set_const_labels(r, svc, 2), 0);
    CHECK_RC(promc_registry_set_const_labels(r, svc, 1), PROMC_ESTATE);

    const char *ln[] = {"path"};
    promc_label_t own[] = {{PROMC_STR("region"), PROMC_STR("eu")}};
    promc_counter_t *c, *k;
    REQUIRE_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "hits",
                                                            .help = "H.",
                                                            .label_names = ln,
                                                            .label_count = 1,
                                                            .const_labels = own,
                                                            .const_label_count = 1,
                                                            .registry = r}),
               0);
    promc_str_t v = PROMC_STR("/a");
    REQUIRE_RC(promc_counter_labels(c, &v, 1, &k), 0);
    promc_counter_inc(k);
    /* A label of the registry's name: refused at creation; "le" on a histogram: reserved. */
    const char *clash[] = {"service"};
    promc_gauge_t *g;
    CHECK_RC(promc_gauge_new(&g, &(promc_metric_opts_t){.name = "g",
                                                        .help = "G.",
                                                        .label_names = clash,
                                                        .label_count = 1,
                                                        .registry = r}),
             PROMC_ELABELNAME);
    promc_histogram_t *h;
    CHECK_RC(
        promc_histogram_new(&h, &(promc_metric_opts_t){.name = "h", .help = "H.", .registry = r}),
        PROMC_ERESERVED);
    promc_collector_t *fn = NULL, *col = NULL;
    REQUIRE_RC(promc_gauge_func_new(
                   &fn, &(promc_metric_opts_t){.name = "answer", .help = "A.", .registry = r},
                   forty_two, NULL),
               0);
    REQUIRE_RC(promc_collector_new(&col, labelled_collector, (void *)"x", NULL, 0), 0);
    REQUIRE_RC(promc_registry_register_collector(r, col), 0);
    CHECK_RC(promc_registry_compare(
                 r, NULL,
                 "# HELP hits_total H.\n# TYPE hits_total counter\n"
                 "hits_total{le=\"x\",path=\"/a\",region=\"eu\",service=\"checkout\"} 1.0\n"
                 "# HELP answer A.\n# TYPE answer gauge\n"
                 "answer{le=\"x\",service=\"checkout\"} 42.0\n"
                 "# HELP coll C.\n# TYPE coll gauge\n"
                 "coll{le=\"x\",service=\"checkout\",x=\"v\"} 2.0\n"),
             0);
    /* A collector sample with the registry's label name: that scrape fails, naming it. */
    promc_collector_t *bad = NULL;
    REQUIRE_RC(promc_collector_new(&bad, labelled_collector, (void *)"service", NULL, 0), 0);
    REQUIRE_RC(promc_registry_register_collector(r, bad), 0);
    char *t = NULL;
    size_t len;
    CHECK_RC(promc_registry_write_buf(r, NULL, &t, &len), PROMC_ELABELNAME);
    CHECK(strstr(promc_last_error(), "service") != NULL);
    promc_buf_free(t);
    promc_collector_free(bad);
    promc_collector_free(col);
    promc_collector_free(fn);
    promc_counter_free(c);
    /* A registry that holds something already. */
    promc_registry_t *r2 = NULL;
    REQUIRE_RC(promc_registry_new(&r2), 0);
    REQUIRE_RC(
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "g", .help = "G.", .registry = r2}), 0);
    CHECK_RC(promc_registry_set_const_labels(r2, svc, 1), PROMC_ESTATE);
    promc_gauge_free(g);
    promc_registry_free(r2);
    promc_registry_free(r);
}

static const check_case_t cases[] = {
    CHECK_CASE(default_registry),
    CHECK_CASE(register_race_one_winner),
    CHECK_CASE(registry_const_labels),
};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_registry", cases, argc, argv);
}
