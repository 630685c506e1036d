/* One scrape never exposes the same series twice.  A child removed while a scrape walks the
 * children and created again with the same label values is appended at the end of the list; the
 * scrape had already written the old one and, walking on, reached the new one too: two samples for
 * one series (client_python's OpenMetrics parser rejects that exposition, Prometheus drops one as a
 * "duplicate sample").  The sink, called once the output passes the 64 KiB chunk, removes and
 * re-creates the first child, deterministically in the middle of the walk. */
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "check.h"

#define CHILDREN 10000

static promc_gauge_t *gauge;
static int churned;
static const char *churn_key; /* a child near the head of the list */

typedef struct {
    char *p;
    size_t n, cap;
} acc_t;

static int sink(void *ud, const void *p, size_t n)
{
    acc_t *a = ud;
    if (!churned) {
        churned = 1;
        promc_str_t v[] = {promc_str(churn_key)};
        promc_gauge_t *c;
        CHECK_RC(promc_metric_remove(promc_gauge_metric(gauge), v, 1), 0);
        CHECK_RC(promc_gauge_labels(gauge, v, 1, &c), 0);
        promc_gauge_set(c, 2);
    }
    if (a->n + n + 1 > a->cap) {
        a->cap = (a->n + n + 1) * 2;
        a->p = realloc(a->p, a->cap);
    }
    memcpy(a->p + a->n, p, n);
    a->n += n;
    a->p[a->n] = '\0';
    return 0;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

int main(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    const char *ln[] = {"k"};
    CHECK_RC(promc_gauge_new(
                 &gauge,
                 &(promc_metric_opts_t){
                     .name = "g", .help = "h", .label_names = ln, .label_count = 1, .registry = r}),
             0);
    for (int i = 0; i < CHILDREN; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%05d", i);
        promc_str_t v[] = {promc_str(k)};
        promc_gauge_t *c;
        CHECK_RC(promc_gauge_labels(gauge, v, 1, &c), 0);
        promc_gauge_set(c, 1);
    }
    for (int f = 0; f < 2; f++) {
        acc_t a = {0};
        churned = 0;
        churn_key = f == 0 ? "k00000" : "k00001"; /* the first round moved k00000 to the end */
        CHECK_RC(promc_registry_write(r, &(promc_expose_opts_t){.format = f}, sink, &a), 0);
        CHECK(churned);
        char series[32];
        snprintf(series, sizeof series, "g{k=\"%s\"}", churn_key);
        size_t dups = a.p ? count(a.p, series) : 0;
        if (dups != 1)
            fprintf(stderr, "format %d: %s written %zu times in one scrape\n", f, series, dups);
        CHECK(dups == 1);
        free(a.p);
    }
    promc_gauge_free(gauge);
    promc_registry_free(r);
    return check_report("test_review_scrape_dup");
}
