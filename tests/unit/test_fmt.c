/* SPDX-License-Identifier: Apache-2.0 */
/* Sample value formatting: client_python's floatToGoString, with the 1e10..1e16 exponent fixed, and
 * independent of the C locale.  CTest runs the cases a second time under a German locale (whose
 * LC_NUMERIC uses a comma), named by $PROMC_TEST_LOCALE. */
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <stdio.h>
#include <stdint.h>
#include <inttypes.h>
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

/* Python repr for the common cases, Go's exponents where client_python 0.16 is wrong. */
static void python_repr(void)
{
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
}

/* Every double printed reads back exactly. */
static void round_trip(void)
{
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
}

/* Creation times format from integer microseconds exactly as their double would. */
static void micros(void)
{
    srand(43);
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
}

/* client_python_oracle: promc_format_double against client_python's own floatToGoString, run by
 * Debian's Python, over several hundred thousand doubles: random bit patterns, subnormals, every
 * power of two and of ten with their neighbours, both sides of the fixed/scientific switches (1e-4,
 * 1e6, 1e16), integers around 2^53, and short decimals of every length.  The one deliberate
 * difference (client_python 0.16 writes "1e+010" for exponents 10..15, promc "1e+10") is applied to
 * the oracle's answer.
 *
 * The oracle is /usr/bin/python3 (Debian's, which has python3-prometheus-client), or
 * $PROMC_TEST_PYTHON.  Without it the test fails loudly: it never skips. */
#define _POSIX_C_SOURCE 200809L
static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static double *vals;
static size_t nvals, capvals;

static void add(double v)
{
    if (nvals == capvals) {
        capvals = capvals ? capvals * 2 : 4096;
        vals = realloc(vals, capvals * sizeof *vals);
        if (!vals) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
    }
    vals[nvals++] = v;
}

/* v and its neighbours up to k ulps away on each side, both signs. */
static void add_around(double v, int k)
{
    uint64_t b = to_bits(fabs(v));
    for (int d = -k; d <= k; d++) {
        uint64_t x = b + (uint64_t)(int64_t)d;
        double y = from_bits(x);
        if (isnan(y))
            continue;
        add(y);
        add(-y);
    }
}

static void build_inputs(void)
{
    /* Special values. */
    add(0.0);
    add(-0.0);
    add(INFINITY);
    add(-INFINITY);
    add(NAN);
    /* Every power of two, normal and subnormal, with neighbours. */
    for (int e = -1074; e <= 1023; e++)
        add_around(ldexp(1.0, e), 2);
    /* Every power of ten the C library reads, with neighbours, and multiples of it. */
    for (int e = -324; e <= 308; e++) {
        char s[32];
        snprintf(s, sizeof s, "1e%d", e);
        double p = strtod(s, NULL);
        if (p == 0 || isinf(p))
            continue;
        add_around(p, 3);
        for (int m = 2; m <= 9; m++) {
            snprintf(s, sizeof s, "%de%d", m, e);
            add_around(strtod(s, NULL), 1);
        }
    }
    /* The edges where the notation changes. */
    static const double edges[] = {1e-4, 1e-5, 1e6, 1e7, 1e10, 1e15, 1e16, 1e17, 999999.5};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        add_around(edges[i], 64);
    /* Integers around 2^53 and 1e16 (where the integer shortcut stops). */
    for (int64_t d = -300; d <= 300; d++) {
        add((double)((INT64_C(1) << 53) + d));
        add(1e16 + (double)d * 2);
        add(1e15 + (double)d);
    }
    /* Random bit patterns: every exponent alike. */
    for (int i = 0; i < 100000; i++) {
        double v = from_bits(rnd());
        if (!isnan(v))
            add(v);
    }
    /* Random subnormals. */
    for (int i = 0; i < 20000; i++)
        add(from_bits(rnd() & ((UINT64_C(1) << 52) - 1)));
    /* Random integers of every size. */
    for (int i = 0; i < 20000; i++)
        add((double)(rnd() >> (rnd() % 64)));
    /* Random short decimals (1 to 17 digits) at exponents around the switches and everywhere. */
    for (int i = 0; i < 100000; i++) {
        int digits = 1 + (int)(rnd() % 17);
        uint64_t m = rnd() % 100000000000000000ULL;
        for (int k = digits; k < 17; k++)
            m /= 10;
        int e = (i % 2) ? (int)(rnd() % 40) - 20 : (int)(rnd() % 600) - 300;
        char s[64];
        snprintf(s, sizeof s, "%" PRIu64 "e%d", m, e);
        double v = strtod(s, NULL);
        add(v);
        add(-v);
    }
    /* Values a program actually exposes: durations, ratios, byte counts. */
    for (int i = 0; i < 20000; i++) {
        add((double)(rnd() % 1000000) / 1000.0);
        add((double)(rnd() % 1000) / 7.0);
        add((double)(rnd() % 100000000000ULL) * 0.001);
    }
}

static const char *oracle_python(void)
{
    const char *p = getenv("PROMC_TEST_PYTHON");
    if (p && *p)
        return p;
    if (access("/usr/bin/python3", X_OK) == 0)
        return "/usr/bin/python3";
    return "python3";
}

static const char oracle_src[] = "import re, struct, sys\n"
                                 "from prometheus_client.utils import floatToGoString\n"
                                 "out = sys.stdout\n"
                                 "for line in open(sys.argv[1]):\n"
                                 "    d = struct.unpack('>d', bytes.fromhex(line.strip()))[0]\n"
                                 "    s = floatToGoString(d)\n"
                                 /* the deliberate difference: e+010..e+015 become e+10..e+15 */
                                 "    s = re.sub(r'e\\+0(\\d\\d)$', r'e+\\1', s)\n"
                                 "    out.write(s + '\\n')\n";

static void client_python_oracle(void)
{
    build_inputs();
    char dir[] = "/tmp/promc-fmt-oracle-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        REQUIRE(!"cannot set up the oracle run");
    }
    char in_path[256], py_path[256], cmd[1024];
    snprintf(in_path, sizeof in_path, "%s/in.hex", dir);
    snprintf(py_path, sizeof py_path, "%s/oracle.py", dir);
    FILE *f = fopen(in_path, "w");
    FILE *py = fopen(py_path, "w");
    if (!f || !py) {
        perror("fopen");
        REQUIRE(!"cannot set up the oracle run");
    }
    for (size_t i = 0; i < nvals; i++) {
        /* the bits as a big-endian hex number, as struct '>d' reads them */
        fprintf(f, "%016" PRIx64 "\n", to_bits(vals[i]));
    }
    fputs(oracle_src, py);
    fclose(f);
    fclose(py);
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s'", oracle_python(), py_path, in_path);
    FILE *p = popen(cmd, "r");
    if (!p) {
        perror("popen");
        REQUIRE(!"cannot set up the oracle run");
    }
    char line[128];
    size_t i = 0, mismatches = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        if (i >= nvals)
            break;
        char got[64];
        promc_format_double(vals[i], got);
        if (strcmp(got, line) != 0) {
            if (mismatches < 20)
                fprintf(stderr, "%a (%.17g): promc '%s', client_python '%s'\n", vals[i], vals[i],
                        got, line);
            mismatches++;
        }
        i++;
    }
    int st = pclose(p);
    unlink(in_path);
    unlink(py_path);
    rmdir(dir);
    if (st != 0 || i != nvals) {
        fprintf(stderr,
                "ORACLE FAILED: '%s' with prometheus_client exited with status %d after %zu of "
                "%zu values (install Debian's python3-prometheus-client, or set "
                "PROMC_TEST_PYTHON)\n",
                oracle_python(), st, i, nvals);
        CHECK(!"the Python oracle ran");
    }
    printf("compared %zu values, %zu mismatches\n", i, mismatches);
    CHECK(mismatches == 0);
    CHECK(i > 400000);
}

static const check_case_t cases[] = {
    CHECK_CASE(u64_digits), CHECK_CASE(python_repr),          CHECK_CASE(round_trip),
    CHECK_CASE(micros),     CHECK_CASE(client_python_oracle),
};

int main(int argc, char **argv)
{
    const char *loc = getenv("PROMC_TEST_LOCALE");
    if (loc && *loc) {
        /* The locale run: the locale must really be in force, or the run proves nothing. */
        if (!setlocale(LC_ALL, loc)) {
            fprintf(stderr, "test_fmt: cannot set locale %s\n", loc);
            return 1;
        }
        char probe[16];
        snprintf(probe, sizeof probe, "%.1f", 0.5);
        REQUIRE(strcmp(probe, "0,5") == 0);
    }
    return CHECK_MAIN("test_fmt", cases, argc, argv);
}
