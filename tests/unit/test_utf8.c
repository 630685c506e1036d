/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 validation (src/common/utf8.c) and its use at every entry point that takes text for the
 * exposition: label values, HELP, info labels, enum states, a collector's HELP and label values.
 * A refused call returns PROMC_EUTF8 with the byte offset in the message and changes nothing. */
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>
#include "check.h"
#include "utf8.h"

static size_t at(const char *s, size_t n)
{
    return promc__utf8_invalid_at(s, n);
}

#define AT(lit) at(lit, sizeof(lit) - 1)

/* The boundaries of Table 3-7 of the Unicode standard, each side. */
static void validator_boundaries(void)
{
    CHECK(AT("") == 0);
    CHECK(AT("plain ascii, longer than eight bytes") == 36);
    CHECK(AT("nul \0 inside") == 12);
    CHECK(AT("\x7f") == 1);
    CHECK(AT("\xc2\x80") == 2);         /* U+0080 */
    CHECK(AT("\xdf\xbf") == 2);         /* U+07FF */
    CHECK(AT("\xe0\xa0\x80") == 3);     /* U+0800 */
    CHECK(AT("\xed\x9f\xbf") == 3);     /* U+D7FF */
    CHECK(AT("\xee\x80\x80") == 3);     /* U+E000 */
    CHECK(AT("\xef\xbf\xbf") == 3);     /* U+FFFF */
    CHECK(AT("\xf0\x90\x80\x80") == 4); /* U+10000 */
    CHECK(AT("\xf4\x8f\xbf\xbf") == 4); /* U+10FFFF */
    CHECK(AT("gr\xc3\xbc\xc3\x9f dich \xe2\x82\xac \xf0\x9f\x98\x80") == 20);
    /* Bad lead bytes. */
    CHECK(AT("\x80") == 0);
    CHECK(AT("\xbf") == 0);
    CHECK(AT("ab\xff\xfe") == 2);
    CHECK(AT("\xf5\x80\x80\x80") == 0);
    /* Overlong forms. */
    CHECK(AT("\xc0\xaf") == 0);
    CHECK(AT("\xc1\xbf") == 0);
    CHECK(AT("\xe0\x9f\xbf") == 0);
    CHECK(AT("\xf0\x8f\xbf\xbf") == 0);
    /* Surrogates and past U+10FFFF. */
    CHECK(AT("x\xed\xa0\x80") == 1);
    CHECK(AT("\xed\xbf\xbf") == 0);
    CHECK(AT("\xf4\x90\x80\x80") == 0);
    /* Truncated sequences, at the end and before another character. */
    CHECK(AT("abc\xc3") == 3);
    CHECK(AT("\xe2\x82") == 0);
    CHECK(AT("\xf0\x9f\x98") == 0);
    CHECK(AT("\xe2\x82x") == 0);
    CHECK(AT("\xc3\xbc\xc3") == 2);
    /* A bad byte after a long ASCII run (the eight-byte path). */
    CHECK(AT("0123456789abcdef\xff") == 16);
    CHECK(AT("01234567\x80") == 8);
}

/* Every 1- to 3-byte sequence against a direct decoder. */
static size_t decode_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;
    if (!len || len > n || p[0] > 0xF4)
        return 0;
    unsigned long cp = p[0] & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3F);
    }
    static const unsigned long min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static void validator_exhaustive(void)
{
    unsigned bad = 0;
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++)
            for (unsigned c = 0; c < 256; c += (a >= 0xE0 && a <= 0xF4) ? 1 : 255) {
                unsigned char s[3] = {(unsigned char)a, (unsigned char)b, (unsigned char)c};
                /* Reference: decode from the start. */
                size_t i = 0, want;
                while (i < 3) {
                    size_t l = decode_len(s + i, 3 - i);
                    if (!l)
                        break;
                    i += l;
                }
                want = i;
                if (at((const char *)s, 3) != want && bad++ < 5)
                    fprintf(stderr, "%02x %02x %02x: %zu, wanted %zu\n", a, b, c,
                            at((const char *)s, 3), want);
            }
    CHECK(bad == 0);
}

static char *render(promc_registry_t *r)
{
    char *t = NULL;
    size_t n;
    CHECK_RC(promc_registry_write_buf(r, NULL, &t, &n), 0);
    return t;
}

static void label_values_refused(void)
{
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    const char *ln[] = {"a", "b"};
    promc_counter_t *c, *k;
    REQUIRE_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "u",
                                                            .help = "h",
                                                            .label_names = ln,
                                                            .label_count = 2,
                                                            .registry = r}),
               0);
    promc_str_t ok[] = {PROMC_STR("gr\xc3\xbc\xc3\x9f"), PROMC_STR("\xe2\x82\xac")};
    REQUIRE_RC(promc_counter_labels(c, ok, 2, &k), 0);
    promc_counter_inc(k);
    char *before = render(r);
    promc_str_t bad[] = {PROMC_STR("fine"), PROMC_STR("ab\xff\xfe")};
    CHECK_RC(promc_counter_labels(c, bad, 2, &k), PROMC_EUTF8);
    CHECK(strstr(promc_last_error(), "label 'b'") != NULL);
    CHECK(strstr(promc_last_error(), "byte 2 (0xff)") != NULL);
    CHECK_RC(promc_counter_labels_inc(c, bad, 2), PROMC_EUTF8);
    CHECK_RC(promc_metric_remove(promc_counter_metric(c), bad, 2), PROMC_EUTF8);
    promc_str_t sur[] = {PROMC_STR("\xed\xa0\x80"), PROMC_STR("x")};
    CHECK_RC(promc_counter_labels(c, sur, 2, &k), PROMC_EUTF8);
    char *after = render(r);
    CHECK(before && after && strcmp(before, after) == 0);
    CHECK(after && strstr(after, "u_total{a=\"gr\xc3\xbc\xc3\x9f\",b=\"\xe2\x82\xac\"} 1.0\n"));
    promc_buf_free(before);
    promc_buf_free(after);
    promc_counter_free(c);
    promc_registry_free(r);
}

static int bad_collector(void *ud, promc_emit_t *e)
{
    int which = *(int *)ud;
    promc_label_t l = {PROMC_STR("k"), which == 1 ? PROMC_STR("\xc0\xaf") : PROMC_STR("v")};
    int rc = promc_emit_family(e, "fam", which == 0 ? "bad \xf5 help" : "h", PROMC_GAUGE, NULL);
    if (rc)
        return rc;
    return promc_emit_sample(e, "", &l, 1, 1);
}

static void help_info_states_collectors(void)
{
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_gauge_t *g;
    CHECK_RC(
        promc_gauge_new(&g, &(promc_metric_opts_t){.name = "g", .help = "caf\xc3", .registry = r}),
        PROMC_EUTF8);
    CHECK(strstr(promc_last_error(), "help: invalid UTF-8 at byte 3") != NULL);
    CHECK_RC(promc_gauge_new(
                 &g, &(promc_metric_opts_t){.name = "g", .help = "caf\xc3\xa9", .registry = r}),
             0);
    promc_info_t *in;
    REQUIRE_RC(
        promc_info_new(&in, &(promc_metric_opts_t){.name = "build", .help = "B.", .registry = r}),
        0);
    promc_label_t good[] = {{PROMC_STR("version"), PROMC_STR("1.0")}};
    CHECK_RC(promc_info_set(in, good, 1), 0);
    promc_label_t bad[] = {{PROMC_STR("branch"), PROMC_STR("ok")},
                           {PROMC_STR("version"), PROMC_STR("2\x80")}};
    CHECK_RC(promc_info_set(in, bad, 2), PROMC_EUTF8);
    CHECK(strstr(promc_last_error(), "label 'version': invalid UTF-8 at byte 1 (0x80)") != NULL);
    char *t = render(r);
    CHECK(t && strstr(t, "build_info{version=\"1.0\"} 1.0\n") && !strstr(t, "branch"));
    promc_buf_free(t);
    promc_enum_t *en;
    const char *states[] = {"ok", "\xff"};
    CHECK_RC(promc_enum_new(&en, &(promc_metric_opts_t){.name = "st",
                                                        .help = "S.",
                                                        .states = states,
                                                        .state_count = 2,
                                                        .registry = r}),
             PROMC_EUTF8);
    CHECK(strstr(promc_last_error(), "state 1") != NULL);
    /* A collector's HELP and label values: the scrape fails with the code, nothing half-written. */
    for (int which = 0; which < 2; which++) {
        promc_registry_t *cr;
        REQUIRE_RC(promc_registry_new(&cr), 0);
        promc_collector_t *col;
        REQUIRE_RC(promc_collector_new(&col, bad_collector, &which, NULL, 0), 0);
        REQUIRE_RC(promc_registry_register_collector(cr, col), 0);
        char *out = NULL;
        size_t len;
        CHECK_RC(promc_registry_write_buf(cr, NULL, &out, &len), PROMC_EUTF8);
        CHECK(out == NULL);
        promc_collector_free(col);
        promc_registry_free(cr);
    }
    promc_gauge_free(g);
    promc_info_free(in);
    promc_registry_free(r);
}

static const check_case_t cases[] = {
    CHECK_CASE(validator_boundaries),
    CHECK_CASE(validator_exhaustive),
    CHECK_CASE(label_values_refused),
    CHECK_CASE(help_info_states_collectors),
};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_utf8", cases, argc, argv);
}
