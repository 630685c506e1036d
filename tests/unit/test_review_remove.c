/* promc_metric_remove's argument checks match promc_*_labels': a count without its array, or a
 * value with a length but no bytes, is PROMC_EINVAL (docs/errors.md), never a crash. */
#include <promc/promc.h>
#include "check.h"

int main(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    const char *ln[] = {"a"};
    promc_counter_t *c, *child;
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "rm",
                                                          .help = "h",
                                                          .label_names = ln,
                                                          .label_count = 1,
                                                          .registry = r}),
             0);
    promc_str_t v[] = {PROMC_STR("x")};
    CHECK_RC(promc_counter_labels(c, v, 1, &child), 0);
    promc_metric_t *m = promc_counter_metric(c);
    CHECK_RC(promc_metric_remove(m, NULL, 1), PROMC_EINVAL);
    promc_str_t bad[] = {{NULL, 3}};
    CHECK_RC(promc_counter_labels(c, bad, 1, &child), PROMC_EINVAL);
    CHECK_RC(promc_metric_remove(m, bad, 1), PROMC_EINVAL);
    /* The child is still there, and goes with the right values. */
    CHECK_RC(promc_metric_remove(m, v, 1), 0);
    CHECK_RC(promc_metric_remove(m, v, 1), PROMC_ENOENT);
    promc_counter_free(c);
    promc_registry_free(r);
    return check_report("test_review_remove");
}
