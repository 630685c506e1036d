/* SPDX-License-Identifier: Apache-2.0 */
/* Gauges and counters computed at scrape time (promc_gauge_func_new, promc_counter_func_new): a
 * collector whose callback emits one family with one sample, the value of the user's callback. */
#include <stdlib.h>
#include <string.h>
#include <promc/expose.h>
#include "alloc.h"
#include "collector.h"
#include "entry.h"
#include "err.h"
#include "names.h"
#include "utf8.h"

typedef struct {
    char *family; /* ns_subsystem_name, a counter's without _total, without the unit */
    char *help;
    char *unit;
    promc_type_t type;
    promc_value_fn fn;
    void *ud;
} func_t;

static void func_free(void *p)
{
    func_t *f = p;
    promc__free(f->family);
    promc__free(f->help);
    promc__free(f->unit);
    promc__free(f);
}

static int func_collect(void *p, promc_emit_t *e)
{
    func_t *f = p;
    int rc = promc_emit_family(e, f->family, f->help, f->type, f->unit);
    if (rc)
        return rc;
    return promc_emit_sample(e, f->type == PROMC_COUNTER ? "_total" : "", NULL, 0, f->fn(f->ud));
}

static int func_new(promc_collector_t **out, const promc_metric_opts_t *o, promc_type_t type,
                    promc_value_fn fn, void *ud)
{
    if (!out || !o || !o->name || !fn)
        return promc__err(PROMC_EINVAL, "func metric: NULL argument");
    if (o->label_count)
        return promc__err(PROMC_EINVAL, "func metric '%.100s' takes no label names", o->name);
    const char *unit = o->unit ? o->unit : "", *help = o->help ? o->help : "";
    int rc = promc__name_check_unit(o->name, unit);
    if (!rc)
        rc = promc__utf8_check(help, strlen(help), "metric '%.100s': help", o->name);
    if (rc)
        return rc;
    func_t *f = promc__calloc(1, sizeof *f);
    char *fam = NULL;
    if (!f || promc__name_join(o->ns, o->subsystem, o->name, type == PROMC_COUNTER, 0, &fam)) {
        promc__free(f);
        return promc__err(PROMC_ENOMEM, "func metric");
    }
    size_t fl = strlen(fam);
    f->family = fam;
    f->help = promc__strdup(help);
    f->unit = promc__strdup(unit);
    f->type = type;
    f->fn = fn;
    f->ud = ud;
    /* The sample names, for the registry's duplicate check: the family with its unit, then its
     * _total for a counter. */
    size_t ul = strlen(unit);
    char *full = promc__malloc(fl + ul + 8);
    char *total = promc__malloc(fl + ul + 8);
    if (!f->help || !f->unit || !full || !total) {
        promc__free(full);
        promc__free(total);
        func_free(f);
        return promc__err(PROMC_ENOMEM, "func metric");
    }
    strcpy(full, fam);
    if (ul && !promc__name_has_unit(fam, fl, unit))
        strcat(strcat(full, "_"), unit);
    rc = promc__name_check_metric_as(
        "metric name", full,
        !o->no_register &&
            promc__registry_legacy_names(o->registry ? o->registry : promc_registry_default()));
    strcat(strcpy(total, full), "_total");
    const char *names[] = {full, total};
    promc_collector_t *c = NULL;
    if (!rc)
        rc = promc_collector_new(&c, func_collect, f, names, type == PROMC_COUNTER ? 2 : 1);
    promc__free(full);
    promc__free(total);
    if (rc) {
        func_free(f);
        return rc;
    }
    promc__collector_own_ud(c, func_free);
    if (!o->no_register) {
        promc_registry_t *r = o->registry ? o->registry : promc_registry_default();
        rc = r ? promc_registry_register_collector(r, c) : promc__err(PROMC_ENOMEM, "registry");
        if (rc) {
            promc_collector_free(c);
            return rc;
        }
    }
    promc__err_clear();
    *out = c;
    return 0;
}

int promc_gauge_func_new(promc_collector_t **out, const promc_metric_opts_t *opts,
                         promc_value_fn fn, void *ud)
{
    return func_new(out, opts, PROMC_GAUGE, fn, ud);
}

int promc_counter_func_new(promc_collector_t **out, const promc_metric_opts_t *opts,
                           promc_value_fn fn, void *ud)
{
    return func_new(out, opts, PROMC_COUNTER, fn, ud);
}
