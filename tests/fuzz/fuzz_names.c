/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: metric, label and unit names from the input.  A constructor either refuses with an
 * error code, or accepts a name that matches the legacy Prometheus rules; it never crashes and a
 * refusal leaves the registry empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "expo_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid_metric_name(const char *s)
{
    if (!*s)
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                 (i && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Split the input on '\n' into: type, name, unit, label names... */
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *parts[8] = {"", "", "", NULL};
    size_t np = 0;
    char *p = buf;
    while (np < 8) {
        parts[np++] = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    promc_registry_t *r;
    if (promc_registry_new(&r)) {
        free(buf);
        return 0;
    }
    bool legacy = np && ((unsigned char)parts[0][0] & 0x40);
    promc_registry_set_legacy_names(r, legacy);
    int type = np ? (unsigned char)parts[0][0] % 6 : 0;
    const char *labels[5];
    size_t nl = np > 3 ? np - 3 : 0;
    for (size_t i = 0; i < nl; i++)
        labels[i] = parts[3 + i];
    const char *states[] = {"a", "b"};
    promc_metric_opts_t o = {.name = np > 1 ? parts[1] : "",
                             .help = "h",
                             .unit = np > 2 ? parts[2] : NULL,
                             .label_names = labels,
                             .label_count = nl,
                             .registry = r,
                             .states = states,
                             .state_count = 2};
    void *h = NULL;
    int rc;
    switch (type) {
    case 0:
        rc = promc_counter_new((promc_counter_t **)&h, &o);
        break;
    case 1:
        rc = promc_gauge_new((promc_gauge_t **)&h, &o);
        break;
    case 2:
        rc = promc_histogram_new((promc_histogram_t **)&h, &o);
        break;
    case 3:
        rc = promc_summary_new((promc_summary_t **)&h, &o);
        break;
    case 4:
        rc = promc_info_new((promc_info_t **)&h, &o);
        break;
    default:
        rc = promc_enum_new((promc_enum_t **)&h, &o);
        break;
    }
    char *out;
    size_t len;
    if (promc_registry_write_buf(r, NULL, &out, &len) != 0)
        abort();
    if (rc == 0) {
        promc_metric_t *m = promc_counter_metric((promc_counter_t *)h);
        if (legacy && !valid_metric_name(promc_metric_name(m)))
            abort();
        if (!legacy) {
            for (int e = PROMC_ESCAPING_UNDERSCORES; e <= PROMC_ESCAPING_VALUES; e++) {
                char *t;
                size_t tl;
                promc_expose_opts_t eo = {.escaping = (promc_escaping_t)e};
                if (promc_registry_write_buf(r, &eo, &t, &tl) != 0)
                    abort();
                char err[256];
                if (e != PROMC_ESCAPING_ALLOW_UTF8 && expo_check(t, tl, 0, err, sizeof err) != 0) {
                    fprintf(stderr, "escaping %d: %s\n%.*s\n", e, err, (int)tl, t);
                    abort();
                }
                promc_buf_free(t);
            }
        }
        promc_metric_free(m);
    } else if (rc >= 0 || len != 0) {
        abort(); /* a refusal must be an error code and leave nothing behind */
    }
    promc_buf_free(out);
    promc_registry_free(r);
    free(buf);
    return 0;
}
