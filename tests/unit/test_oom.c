/* SPDX-License-Identifier: Apache-2.0 */
/* Out of memory is a tested path: a whole scenario (registry, every metric type with children,
 * info labels, a custom collector, plain and gzip scrapes) is replayed with the N-th allocation
 * failing, for every N until the scenario needs no more.  Each failure must surface as
 * PROMC_ENOMEM from the call that hit it, never a crash; the ASan build's leak checker proves that
 * every partial construction was undone.  Cases:
 *   every_allocation_fails_cleanly: the scenario above;
 *   scrape_side_buffer_enomem: an allocation failing inside a scrape is PROMC_ENOMEM, not ESINK. */
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "check.h"
#include "failalloc.h"

static int collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    int rc = promc_emit_family(e, "c", "C.", PROMC_COUNTER, NULL);
    promc_label_t l = {PROMC_STR("k"), PROMC_STR("v")};
    rc = rc ? rc : promc_emit_sample(e, "_total", &l, 1, 1);
    rc = rc ? rc : promc_emit_sample(e, "_created", &l, 1, 1);
    return rc;
}

#define STEP(expr)                                                                                 \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_) {                                                                                 \
            result = rc_;                                                                          \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

/* Returns 0 when the scenario completed, else the first error. */
static int scenario(void)
{
    int result = 0;
    promc_registry_t *r = NULL;
    promc_counter_t *c = NULL, *ck;
    promc_histogram_t *h = NULL, *hk;
    promc_info_t *in = NULL;
    promc_enum_t *en = NULL;
    promc_collector_t *col = NULL;
    char *out = NULL;
    size_t len;
    const char *ln[] = {"a", "b"};
    const char *st[] = {"x", "y"};
    STEP(promc_registry_new(&r));
    STEP(promc_counter_new(
        &c, &(promc_metric_opts_t){
                .name = "req", .help = "R.", .label_names = ln, .label_count = 2, .registry = r}));
    for (int i = 0; i < 40; i++) {
        char buf[8];
        snprintf(buf, sizeof buf, "%d", i);
        promc_str_t v[] = {promc_str(buf), PROMC_STR("q\"")};
        STEP(promc_counter_labels(c, v, 2, &ck));
        promc_counter_inc(ck);
    }
    STEP(promc_histogram_new(
        &h, &(promc_metric_opts_t){
                .name = "lat", .help = "L.", .label_names = ln, .label_count = 1, .registry = r}));
    promc_str_t hv = PROMC_STR("x");
    STEP(promc_histogram_labels(h, &hv, 1, &hk));
    promc_histogram_observe(hk, 0.2);
    STEP(promc_info_new(&in, &(promc_metric_opts_t){.name = "build", .help = "B.", .registry = r}));
    promc_label_t il = {PROMC_STR("version"), PROMC_STR("1")};
    STEP(promc_info_set(in, &il, 1));
    STEP(promc_enum_new(
        &en, &(promc_metric_opts_t){
                 .name = "st", .help = "S.", .states = st, .state_count = 2, .registry = r}));
    const char *names[] = {"c_total", "c_created"};
    STEP(promc_collector_new(&col, collect, NULL, names, 2));
    STEP(promc_registry_register_collector(r, col));
    STEP(promc_registry_write_buf(r, NULL, &out, &len));
    promc_buf_free(out);
    out = NULL;
    STEP(promc_registry_write_buf(
        r, &(promc_expose_opts_t){.format = PROMC_FORMAT_OPENMETRICS, .gzip = true}, &out, &len));
    STEP(promc_metric_remove(promc_counter_metric(c),
                             (promc_str_t[]){PROMC_STR("3"), PROMC_STR("q\"")}, 2));
    /* clear() cannot fail: without memory for a fresh table it empties the old one. */
    promc_metric_clear(promc_counter_metric(c));
    promc_buf_free(out);
    out = NULL;
    STEP(promc_registry_write_buf(r, NULL, &out, &len));
    if (strstr(out, "req_total{"))
        result = PROMC_ESTATE;
out:
    promc_buf_free(out);
    promc_collector_free(col);
    promc_enum_free(en);
    promc_info_free(in);
    promc_histogram_free(h);
    promc_counter_free(c);
    promc_registry_free(r);
    return result;
}

static void every_allocation_fails_cleanly(void)
{
    CHECK_RC(promc_allocator_set(&(promc_allocator_t){.malloc_fn = malloc, .free_fn = free}),
             PROMC_EINVAL);
    CHECK_RC(failalloc_install(), 0);
    long n;
    int unexpected = 0;
    for (n = 1;; n++) {
        failalloc_fail_nth(n);
        int rc = scenario();
        if (rc == 0 && failalloc_count() < n)
            break; /* the scenario no longer reaches the failing allocation */
        if (rc != PROMC_ENOMEM && rc != 0) {
            fprintf(stderr, "failing allocation %ld: got %s (%s)\n", n, promc_err_name(rc),
                    promc_last_error());
            unexpected++;
        }
    }
    CHECK(unexpected == 0);
    CHECK(n > 50); /* the scenario really allocates */
    printf("test_oom: %ld failing allocations exercised\n", n - 1);
    failalloc_off();
    CHECK(failalloc_live() == 0);
    CHECK_RC(failalloc_uninstall(), 0);
    CHECK_RC(scenario(), 0);
}

static int side_collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    promc_label_t l = {PROMC_STR("k"), PROMC_STR("v")};
    int rc = promc_emit_family(e, "c", "C.", PROMC_COUNTER, NULL);
    rc = rc ? rc : promc_emit_sample(e, "_total", &l, 1, 1);
    rc = rc ? rc : promc_emit_sample(e, "_created", &l, 1, 1);
    return rc;
}

static int accept_all(void *ud, const void *p, size_t n)
{
    (void)ud;
    (void)p;
    (void)n;
    return 0;
}

/* promc_registry_write reports PROMC_ESINK only when the caller's sink refused something
 * (include/promc/expose.h).  An allocation failing inside the scrape - here in the side buffer
 * that holds a collector's _created lines for text 0.0.4 - is PROMC_ENOMEM, even though that
 * buffer is filled through an internal sink.  Each allocation of a scrape fails in turn, with a
 * sink that accepts everything. */
static void scrape_side_buffer_enomem(void)
{
    promc_registry_t *r;
    promc_collector_t *c;
    CHECK_RC(promc_registry_new(&r), 0);
    CHECK_RC(promc_collector_new(&c, side_collect, NULL, NULL, 0), 0);
    CHECK_RC(promc_registry_register_collector(r, c), 0);
    CHECK_RC(failalloc_install(), 0);
    long n;
    int wrong = 0;
    for (n = 1;; n++) {
        failalloc_fail_nth(n);
        int rc = promc_registry_write(r, NULL, accept_all, NULL);
        if (rc == 0 && failalloc_count() < n)
            break;
        if (rc != PROMC_ENOMEM) {
            fprintf(stderr, "failing allocation %ld of the scrape: %s (%s)\n", n,
                    promc_err_name(rc), promc_last_error());
            wrong++;
        }
    }
    failalloc_off();
    CHECK(wrong == 0);
    CHECK(n > 3); /* the scrape really allocates */
    CHECK_RC(failalloc_uninstall(), 0);
    promc_collector_free(c);
    promc_registry_free(r);
}

static const check_case_t cases[] = {
    CHECK_CASE(every_allocation_fails_cleanly),
    CHECK_CASE(scrape_side_buffer_enomem),
};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_oom", cases, argc, argv);
}
