/* name[] filtering (promc_expose_opts_t.names) selects samples by their full name, whatever its
 * length: a metric name is not limited in length, so neither is a name in the filter. */
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "check.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_long_names(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    /* Names on both sides of the length where a fixed buffer would end. */
    static const size_t lens[] = {10, 500, 505, 506, 511, 512, 600, 5000};
    enum { N = sizeof lens / sizeof lens[0] };
    promc_counter_t *ctr[N];
    for (size_t k = 0; k < N; k++) {
        size_t n = lens[k];
        char *name = malloc(n + 1);
        memset(name, 'a', n);
        name[0] = (char)('a' + k);
        name[n] = '\0';
        CHECK_RC(promc_counter_new(
                     &ctr[k], &(promc_metric_opts_t){.name = name, .help = "h", .registry = r}),
                 0);
        promc_counter_inc(ctr[k]);
        /* Ask for name_total only: that family, that sample, nothing else. */
        char *want = malloc(n + 7);
        memcpy(want, name, n);
        memcpy(want + n, "_total", 7);
        const char *names[] = {want};
        char *t = NULL;
        size_t len;
        CHECK_RC(promc_registry_write_buf(r,
                                          &(promc_expose_opts_t){.format = PROMC_FORMAT_TEXT,
                                                                 .names = names,
                                                                 .name_count = 1},
                                          &t, &len),
                 0);
        char *line = malloc(n + 16);
        snprintf(line, n + 16, "\n%s 1.0\n", want);
        if (!t || !strstr(t, line))
            fprintf(stderr, "name of %zu characters: its _total sample was filtered out\n", n);
        CHECK(t && strstr(t, line));
        CHECK(t && count(t, "# TYPE ") == 1);
        promc_buf_free(t);
        free(line);
        free(want);
        free(name);
    }
    for (size_t k = 0; k < N; k++)
        promc_counter_free(ctr[k]);
    promc_registry_free(r);
}

int main(void)
{
    test_long_names();
    return check_report("test_review_filter");
}
