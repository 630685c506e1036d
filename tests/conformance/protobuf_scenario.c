/* SPDX-License-Identifier: Apache-2.0 */
/* promc's side of the protobuf differential test (protobuf_vs_golang.py): runs the scenario file
 * given (its lines are described in golang_protobuf/main.go, which runs the same file on
 * client_golang) and writes the registry as PROMC_FORMAT_PROTOBUF to stdout.
 * Usage: protobuf_scenario FILE */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>

#define MAX_METRICS 64
#define MAX_LABELS  8

typedef struct {
    char name[128];
    promc_type_t type;
    void *h;
} metric_t;

static metric_t metrics[MAX_METRICS];
static size_t nmetrics;

static void die(const char *what, const char *line)
{
    fprintf(stderr, "protobuf_scenario: %s: %s (%s)\n", what, line, promc_last_error());
    exit(1);
}

/* Splits s at ',' into at most MAX_LABELS pieces ("-": none). */
static size_t split(char *s, char **out)
{
    if (!strcmp(s, "-"))
        return 0;
    size_t n = 0;
    for (char *p = strtok(s, ","); p && n < MAX_LABELS; p = strtok(NULL, ","))
        out[n++] = p;
    return n;
}

static metric_t *find(const char *name)
{
    for (size_t i = 0; i < nmetrics; i++)
        if (!strcmp(metrics[i].name, name))
            return &metrics[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: protobuf_scenario FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f)
        die("cannot open", argv[1]);
    promc_registry_t *r;
    if (promc_registry_new(&r))
        die("registry", "");
    static const promc_quantile_t q3[] = {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};
    char line[4096], copy[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        memcpy(copy, line, sizeof copy);
        char *t[6] = {0};
        size_t nt = 0;
        for (char *p = strtok(line, " "); p && nt < 6; p = strtok(NULL, " "))
            t[nt++] = p;
        if (nt < 4)
            die("short line", copy);
        char *names_or_values = t[3];
        if (!strcmp(t[0], "nhistogram")) {
            /* NAME HELP LABELNAMES FACTOR ZERO_THRESHOLD MAX_BUCKETS MAX_ZERO_THRESHOLD BOUNDS|- */
            char *fl[9] = {0};
            size_t nf = 0;
            char tmp[4096];
            snprintf(tmp, sizeof tmp, "%s", copy);
            for (char *p = strtok(tmp, " "); p && nf < 9; p = strtok(NULL, " "))
                fl[nf++] = p;
            if (nf != 9)
                die("nhistogram needs 9 fields", copy);
            char *ln[MAX_LABELS];
            char lnames[1024];
            snprintf(lnames, sizeof lnames, "%s", fl[3]);
            double b[64];
            size_t nb = 0;
            if (strcmp(fl[8], "-"))
                for (char *p = strtok(fl[8], ","); p && nb < 64; p = strtok(NULL, ","))
                    b[nb++] = strtod(p, NULL);
            size_t n = split(lnames, ln);
            metric_t *m = &metrics[nmetrics++];
            snprintf(m->name, sizeof m->name, "%s", fl[1]);
            m->type = PROMC_HISTOGRAM;
            promc_metric_opts_t o = {.name = fl[1],
                                     .help = fl[2],
                                     .registry = r,
                                     .label_names = (const char *const *)ln,
                                     .label_count = n,
                                     .buckets = nb ? b : NULL,
                                     .bucket_count = nb,
                                     .native_bucket_factor = strtod(fl[4], NULL),
                                     .native_zero_threshold = strtod(fl[5], NULL),
                                     .native_max_buckets = (uint32_t)strtoul(fl[6], NULL, 10),
                                     .native_max_zero_threshold = strtod(fl[7], NULL)};
            if (promc_histogram_new((promc_histogram_t **)&m->h, &o))
                die("cannot create", copy);
            continue;
        }
        if (!strcmp(t[0], "counter") || !strcmp(t[0], "gauge") || !strcmp(t[0], "histogram") ||
            !strcmp(t[0], "summary") || !strcmp(t[0], "summaryq")) {
            char *ln[MAX_LABELS];
            char bounds_copy[1024] = "";
            if (!strcmp(t[0], "histogram")) {
                if (nt < 5)
                    die("histogram without bounds", copy);
                snprintf(bounds_copy, sizeof bounds_copy, "%s", t[4]);
            }
            size_t n = split(names_or_values, ln);
            promc_metric_opts_t o = {.name = t[1],
                                     .help = t[2],
                                     .registry = r,
                                     .label_names = (const char *const *)ln,
                                     .label_count = n};
            metric_t *m = &metrics[nmetrics++];
            snprintf(m->name, sizeof m->name, "%s", t[1]);
            int rc;
            if (!strcmp(t[0], "counter")) {
                m->type = PROMC_COUNTER;
                rc = promc_counter_new((promc_counter_t **)&m->h, &o);
            } else if (!strcmp(t[0], "gauge")) {
                m->type = PROMC_GAUGE;
                rc = promc_gauge_new((promc_gauge_t **)&m->h, &o);
            } else if (!strcmp(t[0], "histogram")) {
                double b[64];
                size_t nb = 0;
                for (char *p = strtok(bounds_copy, ","); p && nb < 64; p = strtok(NULL, ","))
                    b[nb++] = strtod(p, NULL);
                o.buckets = b;
                o.bucket_count = nb;
                m->type = PROMC_HISTOGRAM;
                rc = promc_histogram_new((promc_histogram_t **)&m->h, &o);
            } else {
                if (!strcmp(t[0], "summaryq")) {
                    o.quantiles = q3;
                    o.quantile_count = 3;
                }
                o.max_age = 3600;
                m->type = PROMC_SUMMARY;
                rc = promc_summary_new((promc_summary_t **)&m->h, &o);
            }
            if (rc)
                die("cannot create", copy);
            continue;
        }
        metric_t *m = find(t[1]);
        if (!m || nt < 4)
            die("unknown metric", copy);
        char *lv[MAX_LABELS];
        size_t n = split(t[2], lv);
        promc_str_t vals[MAX_LABELS];
        for (size_t i = 0; i < n; i++)
            vals[i] = promc_str(lv[i]);
        double x = strtod(t[3], NULL);
        promc_label_t ex[MAX_LABELS];
        size_t nex = 0;
        if (!strcmp(t[0], "exemplar")) {
            if (nt < 5)
                die("exemplar without labels", copy);
            for (char *p = strtok(t[4], ","); p && nex < MAX_LABELS; p = strtok(NULL, ",")) {
                char *eq = strchr(p, '=');
                if (!eq)
                    die("bad exemplar label", copy);
                *eq = '\0';
                ex[nex].name = promc_str(p);
                ex[nex].value = promc_str(eq + 1);
                nex++;
            }
        }
        int rc = 0;
        switch (m->type) {
        case PROMC_COUNTER: {
            promc_counter_t *c;
            c = m->h;
            rc = n ? promc_counter_labels(m->h, vals, n, &c) : 0;
            if (!rc)
                rc = nex ? promc_counter_add_exemplar(c, x, ex, nex) : promc_counter_add(c, x);
            break;
        }
        case PROMC_GAUGE: {
            promc_gauge_t *g;
            g = m->h;
            rc = n ? promc_gauge_labels(m->h, vals, n, &g) : 0;
            if (!rc) {
                if (!strcmp(t[0], "set"))
                    promc_gauge_set(g, x);
                else
                    promc_gauge_add(g, x);
            }
            break;
        }
        case PROMC_HISTOGRAM: {
            promc_histogram_t *h;
            h = m->h;
            rc = n ? promc_histogram_labels(m->h, vals, n, &h) : 0;
            if (!rc && nex)
                rc = promc_histogram_observe_exemplar(h, x, ex, nex);
            else if (!rc)
                promc_histogram_observe(h, x);
            break;
        }
        case PROMC_SUMMARY: {
            promc_summary_t *s;
            s = m->h;
            rc = n ? promc_summary_labels(m->h, vals, n, &s) : 0;
            if (!rc)
                promc_summary_observe(s, x);
            break;
        }
        default:
            break;
        }
        if (rc)
            die("update failed", copy);
    }
    fclose(f);
    char *out;
    size_t len;
    if (promc_registry_write_buf(r, &(promc_expose_opts_t){.format = PROMC_FORMAT_PROTOBUF}, &out,
                                 &len))
        die("write", "");
    fwrite(out, 1, len, stdout);
    promc_buf_free(out);
    return 0;
}
