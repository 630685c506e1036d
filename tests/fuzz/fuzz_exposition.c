/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: bytes from the input become label values, HELP texts, info labels and a collector's
 * family, first as they are and then with every byte that breaks UTF-8 replaced by '?'.  The
 * invariants:
 *   - text that is valid UTF-8 is accepted, text that is not is refused with PROMC_EUTF8;
 *   - whatever was accepted, both formats come out valid by the strict checker (expo_check.h):
 *     the library never writes an exposition a Prometheus parser rejects. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "expo_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool valid_utf8(const char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t l = expo_utf8_len((const unsigned char *)p + i, n - i);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

/* Accepted iff valid: anything else is a bug. */
static void expect(int rc, bool valid)
{
    if (valid ? rc != 0 : rc != PROMC_EUTF8)
        abort();
}

typedef struct {
    const char *help;
    promc_str_t v;
} collect_in_t;

static int collect(void *ud, promc_emit_t *e)
{
    collect_in_t *in = ud;
    int rc = promc_emit_family(e, "fam", in->help, PROMC_GAUGE, NULL);
    if (rc)
        return rc;
    promc_label_t l = {PROMC_STR("k"), in->v};
    return promc_emit_sample(e, "", &l, 1, 1);
}

static void one(const char *bytes, size_t size)
{
    promc_registry_t *r;
    if (promc_registry_new(&r))
        return;
    size_t half = size / 2;
    promc_str_t v1 = {bytes, half};
    promc_str_t v2 = {bytes + half, size - half};
    bool ok1 = valid_utf8(v1.ptr, v1.len), ok2 = valid_utf8(v2.ptr, v2.len);
    /* HELP is a C string: up to the first NUL of the first half. */
    char *help = malloc(half + 1);
    if (!help) {
        promc_registry_free(r);
        return;
    }
    memcpy(help, bytes, half);
    help[half] = '\0';
    bool okh = valid_utf8(help, strlen(help));
    const char *ln[] = {"b", "a"};
    promc_counter_t *c = NULL, *cc;
    promc_histogram_t *h = NULL, *hc;
    promc_info_t *in = NULL;
    double value = 0;
    if (size >= 8)
        memcpy(&value, bytes, 8);
    int rc = promc_counter_new(
        &c, &(promc_metric_opts_t){
                .name = "c", .help = help, .label_names = ln, .label_count = 2, .registry = r});
    expect(rc, okh);
    if (!rc) {
        rc = promc_counter_labels(c, (promc_str_t[]){v1, v2}, 2, &cc);
        expect(rc, ok1 && ok2);
        if (!rc)
            promc_counter_add(cc, value);
    }
    rc = promc_histogram_new(
        &h, &(promc_metric_opts_t){
                .name = "h", .help = "", .label_names = ln, .label_count = 1, .registry = r});
    if (rc)
        abort();
    rc = promc_histogram_labels(h, &v2, 1, &hc);
    expect(rc, ok2);
    if (!rc)
        promc_histogram_observe(hc, value);
    if (promc_info_new(&in, &(promc_metric_opts_t){.name = "i", .help = "", .registry = r}))
        abort();
    promc_label_t l = {PROMC_STR("k"), v1};
    expect(promc_info_set(in, &l, 1), ok1);
    collect_in_t cin = {help, v2};
    promc_collector_t *col = NULL;
    if (promc_collector_new(&col, collect, &cin, NULL, 0) ||
        promc_registry_register_collector(r, col))
        abort();
    for (int om = 0; om < 2; om++) {
        char *out;
        size_t len;
        rc = promc_registry_write_buf(r, &(promc_expose_opts_t){.format = (promc_format_t)om}, &out,
                                      &len);
        /* The collector's text is checked at the scrape: refused as a whole when invalid (and the
         * collector is then dropped for the next format). */
        if (col)
            expect(rc, okh && ok2);
        else if (rc)
            abort();
        if (rc) {
            promc_collector_free(col);
            col = NULL;
            rc = promc_registry_write_buf(r, &(promc_expose_opts_t){.format = (promc_format_t)om},
                                          &out, &len);
            if (rc)
                abort();
        }
        char err[512];
        if (expo_check(out, len, om, err, sizeof err) != 0) {
            fprintf(stderr, "fuzz_exposition: %s\n", err);
            abort();
        }
        promc_buf_free(out);
    }
    promc_collector_free(col);
    promc_registry_free(r);
    promc_counter_free(c);
    promc_histogram_free(h);
    promc_info_free(in);
    free(help);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one((const char *)data, size);
    /* The same with the bytes that break UTF-8 replaced, so that valid multi-byte text (and its
     * escaping) is reached as well. */
    char *fixed = malloc(size + 1);
    if (!fixed)
        return 0;
    for (size_t i = 0; i < size;) {
        size_t l = expo_utf8_len(data + i, size - i);
        if (l) {
            memcpy(fixed + i, data + i, l);
            i += l;
        } else {
            fixed[i++] = '?';
        }
    }
    one(fixed, size);
    free(fixed);
    return 0;
}
