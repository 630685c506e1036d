/* promc_registry_write reports PROMC_ESINK only when the caller's sink refused something
 * (include/promc/expose.h).  An allocation failing inside the scrape - here in the side buffer
 * that holds a collector's _created lines for text 0.0.4 - is PROMC_ENOMEM, even though that
 * buffer is filled through an internal sink.  Each allocation of a scrape fails in turn, with a
 * sink that accepts everything. */
#include <stdlib.h>
#include <promc/promc.h>
#include "check.h"
#include "failalloc.h"

static int collect(void *ud, promc_emit_t *e)
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

int main(void)
{
    promc_registry_t *r;
    promc_collector_t *c;
    CHECK_RC(promc_registry_new(&r), 0);
    CHECK_RC(promc_collector_new(&c, collect, NULL, NULL, 0), 0);
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
    return check_report("test_review_side_oom");
}
