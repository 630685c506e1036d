/* SPDX-License-Identifier: Apache-2.0 */
/* Exemplars: what is refused (and then not counted), where they are written (OpenMetrics only,
 * a counter's latest, a histogram's per bucket), and that a scrape never sees a torn one while
 * threads write them (a stress case, run under TSan too). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <promc/promc.h>
#include "check.h"

static promc_registry_t *fresh(void)
{
    promc_registry_t *r = NULL;
    CHECK_RC(promc_registry_new(&r), 0);
    if (r)
        promc_registry_set_created(r, false);
    return r;
}

static char *om(promc_registry_t *r)
{
    char *t = NULL;
    size_t len;
    promc_expose_opts_t o = {.format = PROMC_FORMAT_OPENMETRICS};
    return promc_registry_write_buf(r, &o, &t, &len) == 0 ? t : NULL;
}

static void refusals(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_counter_t *c;
    REQUIRE_RC(
        promc_counter_new(&c, &(promc_metric_opts_t){.name = "jobs", .help = "J.", .registry = r}),
        0);
    char big[130];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    promc_label_t too_long[] = {{PROMC_STR("t"), promc_str(big)}};
    /* 128 characters exactly pass: "t" and 127 x; multi-byte characters count once. */
    promc_label_t just[] = {{PROMC_STR("t"), {big, 127}}};
    static const char e_acute[] = "\xc3\xa9";
    char wide[2 * 127 + 1];
    for (int i = 0; i < 127; i++)
        memcpy(wide + 2 * i, e_acute, 2);
    promc_label_t wide_ok[] = {{PROMC_STR("t"), {wide, 254}}};
    promc_label_t bad_name[] = {{PROMC_STR("trace.id"), PROMC_STR("a")}};
    promc_label_t reserved[] = {{PROMC_STR("__id"), PROMC_STR("a")}};
    promc_label_t bad_utf8[] = {{PROMC_STR("id"), {"\xff", 1}}};
    promc_label_t twice[] = {{PROMC_STR("id"), PROMC_STR("a")}, {PROMC_STR("id"), PROMC_STR("b")}};
    CHECK_RC(promc_counter_add_exemplar(c, 1, too_long, 1), PROMC_ETOOBIG);
    CHECK(strstr(promc_last_error(), "128 characters") != NULL);
    CHECK_RC(promc_counter_add_exemplar(c, 1, bad_name, 1), PROMC_ELABELNAME);
    CHECK_RC(promc_counter_add_exemplar(c, 1, reserved, 1), PROMC_ERESERVED);
    CHECK_RC(promc_counter_add_exemplar(c, 1, bad_utf8, 1), PROMC_EUTF8);
    CHECK_RC(promc_counter_add_exemplar(c, 1, twice, 2), PROMC_ELABELNAME);
    CHECK_RC(promc_counter_add_exemplar(c, 1, NULL, 1), PROMC_EINVAL);
    CHECK_RC(promc_counter_add_exemplar(NULL, 1, just, 1), PROMC_EINVAL);
    CHECK_RC(promc_counter_add_exemplar(c, -1, just, 1), PROMC_ENEGATIVE);
    CHECK(promc_counter_value(c) == 0); /* nothing refused was counted */
    char *t = om(r);
    CHECK(t && strstr(t, "jobs_total 0.0\n"));
    promc_buf_free(t);
    CHECK_RC(promc_counter_add_exemplar(c, 1, just, 1), 0);
    CHECK_RC(promc_counter_add_exemplar(c, 2, wide_ok, 1), 0);
    CHECK(promc_counter_value(c) == 3);
    t = om(r);
    CHECK(t && strstr(t, "jobs_total 3.0 # {t=\"\xc3\xa9\xc3\xa9"));
    promc_buf_free(t);
    promc_histogram_t *h;
    REQUIRE_RC(
        promc_histogram_new(&h, &(promc_metric_opts_t){.name = "h", .help = "H.", .registry = r}),
        0);
    CHECK_RC(promc_histogram_observe_exemplar(h, 0.0 / 0.0, just, 1), PROMC_EINVAL);
    CHECK_RC(promc_histogram_observe_exemplar(h, 1, too_long, 1), PROMC_ETOOBIG);
    CHECK(promc_histogram_count(h) == 0);
    promc_histogram_free(h);
    promc_counter_free(c);
    promc_registry_free(r);
}

static void where_written(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    const char *ln[] = {"path"};
    promc_counter_t *c, *k;
    promc_histogram_t *h;
    double b[] = {0.1, 1};
    REQUIRE_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "req",
                                                            .help = "R.",
                                                            .label_names = ln,
                                                            .label_count = 1,
                                                            .registry = r}),
               0);
    promc_str_t v = PROMC_STR("/a");
    REQUIRE_RC(promc_counter_labels(c, &v, 1, &k), 0);
    REQUIRE_RC(promc_histogram_new(&h, &(promc_metric_opts_t){.name = "lat",
                                                              .help = "L.",
                                                              .buckets = b,
                                                              .bucket_count = 2,
                                                              .registry = r}),
               0);
    promc_label_t a[] = {{PROMC_STR("trace_id"), PROMC_STR("a\"b\\c")}};
    promc_label_t z[] = {{PROMC_STR("trace_id"), PROMC_STR("z")},
                         {PROMC_STR("span"), PROMC_STR("1")}};
    CHECK_RC(promc_counter_add_exemplar(k, 2, a, 1), 0);
    CHECK_RC(promc_counter_add_exemplar(k, 3, z, 2), 0); /* the latest stays */
    CHECK_RC(promc_histogram_observe_exemplar(h, 0.5, a, 1), 0);
    CHECK_RC(promc_histogram_observe_exemplar(h, 7, z, 2), 0);
    promc_histogram_observe(h, 0.05); /* a plain observation: no exemplar for that bucket */
    char *t = om(r);
    REQUIRE(t != NULL);
    CHECK(strstr(t, "req_total{path=\"/a\"} 5.0 # {trace_id=\"z\",span=\"1\"} 3.0 "));
    CHECK(strstr(t, "lat_bucket{le=\"0.1\"} 1.0\n"));
    CHECK(strstr(t, "lat_bucket{le=\"1.0\"} 2.0 # {trace_id=\"a\\\"b\\\\c\"} 0.5 "));
    CHECK(strstr(t, "lat_bucket{le=\"+Inf\"} 3.0 # {trace_id=\"z\",span=\"1\"} 7.0 "));
    CHECK(!strstr(t, "lat_count 3.0 #"));
    promc_buf_free(t);
    char *plain = NULL;
    size_t len;
    REQUIRE_RC(promc_registry_write_buf(r, NULL, &plain, &len), 0);
    CHECK(strstr(plain, " # {") == NULL);
    promc_buf_free(plain);
    promc_histogram_free(h);
    promc_counter_free(c);
    promc_registry_free(r);
}

/* Writers put trace_id="N" with value N; a scrape must never show an exemplar whose value is not
 * its label's. */
static promc_counter_t *race_counter;
static atomic_bool race_stop;

static void *writer(void *arg)
{
    unsigned long base = (unsigned long)(uintptr_t)arg;
    for (unsigned long i = 1; !atomic_load(&race_stop); i++) {
        char id[32];
        unsigned long n = base + (i % 100000);
        snprintf(id, sizeof id, "%lu", n);
        promc_label_t l[] = {{PROMC_STR("n"), promc_str(id)}};
        if (promc_counter_add_exemplar(race_counter, (double)n, l, 1) != 0)
            return (void *)1;
    }
    return NULL;
}

static void exemplar_race(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    REQUIRE_RC(
        promc_counter_new(&race_counter,
                          &(promc_metric_opts_t){.name = "race", .help = "R.", .registry = r}),
        0);
    pthread_t th[2];
    atomic_store(&race_stop, false);
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&th[i], NULL, writer, (void *)(uintptr_t)(i * 1000000)) == 0);
    /* The value is added before the exemplar is stored: wait until a scrape shows the first one
     * (a few milliseconds at most; ten seconds is a hang). */
    for (int w = 0;; w++) {
        char *t = om(r);
        bool shown = t && strstr(t, "# {n=\"") != NULL;
        promc_buf_free(t);
        if (shown)
            break;
        REQUIRE(w < 10000);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    int seen = 0, bad = 0;
    for (int s = 0; s < 300; s++) {
        char *t = om(r);
        const char *p = t ? strstr(t, "# {n=\"") : NULL;
        if (p) {
            unsigned long n = strtoul(p + 6, NULL, 10);
            const char *q = strstr(p, "} ");
            double v = q ? strtod(q + 2, NULL) : -1;
            seen++;
            if (v != (double)n) {
                bad++;
                fprintf(stderr, "torn: %.60s\n", p);
            }
        }
        promc_buf_free(t);
    }
    atomic_store(&race_stop, true);
    for (int i = 0; i < 2; i++) {
        void *rv;
        pthread_join(th[i], &rv);
        CHECK(rv == NULL);
    }
    /* Every scrape shows a whole exemplar, even with two writers in a tight loop. */
    if (seen < 300 || bad || getenv("PROMC_TEST_VERBOSE"))
        fprintf(stderr, "exemplar_race: %d exemplars seen, %d torn\n", seen, bad);
    CHECK(seen == 300 && bad == 0);
    promc_counter_free(race_counter);
    promc_registry_free(r);
}

static const check_case_t cases[] = {CHECK_CASE(refusals), CHECK_CASE(where_written),
                                     CHECK_CASE(exemplar_race)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_exemplars", cases, argc, argv);
}
