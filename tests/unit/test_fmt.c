/* Sample value formatting: client_python's floatToGoString, with the 1e10..1e16 exponent fixed, and
 * independent of the C locale.  Run a second time under a German locale (LC_NUMERIC uses a comma)
 * by CTest when that locale can be built. */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <promc/promc.h>
#include "check.h"
#include "fmt.h"

static void one(double v, const char *want)
{
    char buf[64];
    size_t n = promc_format_double(v, buf);
    CHECK(n == strlen(buf));
    CHECK_STR(buf, want);
}

/* promc__fmt_u64 against printf: every value below 100,000, each power of ten and its
 * neighbours, and a spread of large values up to UINT64_MAX. */
static void u64_digits(void)
{
    char got[32], want[32];
    unsigned bad = 0;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (uint64_t i = 0; i < 200000 && bad < 5; i++) {
        uint64_t v;
        if (i < 100000) {
            v = i;
        } else if (i < 100000 + 60) {
            uint64_t p = 1;
            for (unsigned k = 0; k < (i - 100000) / 3; k++)
                p *= 10;
            v = p + (i % 3) - 1; /* 10^k - 1, 10^k, 10^k + 1 */
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v = x >> (i % 64);
        }
        size_t n = promc__fmt_u64(v, got);
        snprintf(want, sizeof want, "%llu", (unsigned long long)v);
        if (n != strlen(want) || strcmp(got, want) != 0) {
            fprintf(stderr, "fmt_u64(%s) gave '%s'\n", want, got);
            bad++;
        }
    }
    promc__fmt_u64(UINT64_MAX, got);
    CHECK_STR(got, "18446744073709551615");
    CHECK(bad == 0);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        /* The locale run: the locale must really be in force, or the run proves nothing. */
        if (!setlocale(LC_ALL, argv[1])) {
            fprintf(stderr, "test_fmt: cannot set locale %s\n", argv[1]);
            return 1;
        }
        char probe[16];
        snprintf(probe, sizeof probe, "%.1f", 0.5);
        CHECK_STR(probe, "0,5");
    }
    u64_digits();
    /* Python repr for the common cases. */
    one(0.0, "0.0");
    one(-0.0, "-0.0");
    one(1.0, "1.0");
    one(12.0, "12.0");
    one(-3.0, "-3.0");
    one(0.1, "0.1");
    one(0.1 + 0.2, "0.30000000000000004");
    one(1.5, "1.5");
    one(107.3, "107.3");
    one(0.0001, "0.0001");
    one(0.00001, "1e-05");
    one(1.5e-7, "1.5e-07");
    one(5e-324, "5e-324");
    one(123456.7, "123456.7");
    one(999999.0, "999999.0");
    /* Go's exponent form from 1e6 on (positive values only). */
    one(1e6, "1e+06");
    one(1234567.0, "1.234567e+06");
    one(1234567.5, "1.2345675e+06");
    one(1684930603.0837066, "1.6849306030837066e+09");
    one(-1234567.0, "-1234567.0");
    /* client_python 0.16 writes 1e+010 and 9.007199254740992e+015 here; Go and we do not. */
    one(1e10, "1e+10");
    one(9007199254740992.0, "9.007199254740992e+15");
    one(1e15, "1e+15");
    one(-1e15, "-1000000000000000.0");
    /* Python's scientific notation from 1e16. */
    one(1e16, "1e+16");
    one(1e22, "1e+22");
    one(-1e22, "-1e+22");
    one(1.7976931348623157e308, "1.7976931348623157e+308");
    one(12345678901234567890.0, "1.2345678901234567e+19");
    one(INFINITY, "+Inf");
    one(-INFINITY, "-Inf");
    one(NAN, "NaN");
    /* Shortest round trip with 16 and 17 digits. */
    one(0.3, "0.3");
    one(2.0 / 3.0, "0.6666666666666666");
    one(1.0 / 3.0, "0.3333333333333333");
    one(5e-5, "5e-05");
    /* Every double printed reads back exactly. */
    srand(42);
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    for (int i = 0; i < 20000; i++) {
        union {
            unsigned long long u;
            double d;
        } x;
        x.u = ((unsigned long long)rand() << 42) ^ ((unsigned long long)rand() << 21) ^ rand();
        if (isnan(x.d) || isinf(x.d))
            continue;
        char buf[64];
        promc_format_double(x.d, buf);
        double back = strtod_l(buf, NULL, c_locale);
        CHECK(back == x.d);
        if (back != x.d) {
            fprintf(stderr, "round trip failed: %s\n", buf);
            break;
        }
    }
    freelocale(c_locale);
    /* Creation times format from integer microseconds exactly as their double would. */
    int micro_bad = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t us = 1000000000000LL + (((int64_t)rand() << 31) ^ rand()) % 7000000000000000LL;
        if (i == 0)
            us = 1795648373241581LL;
        if (i == 1)
            us = 1700000000000000LL;
        char a[64], b[64];
        promc__fmt_micros(us, a);
        promc__fmt_double((double)us / 1e6, b);
        if (strcmp(a, b) != 0 && micro_bad++ < 5)
            fprintf(stderr, "micros %lld: %s != %s\n", (long long)us, a, b);
    }
    CHECK(micro_bad == 0);
    char m[64];
    promc__fmt_micros(1700000000000000LL, m);
    CHECK_STR(m, "1.7e+09");
    promc__fmt_micros(5, m);
    CHECK_STR(m, "5e-06");
    return check_report(argc > 1 ? "test_fmt (locale)" : "test_fmt");
}
