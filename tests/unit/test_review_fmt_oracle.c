/* promc_format_double against client_python's own floatToGoString, run by Debian's Python, over
 * several hundred thousand doubles: random bit patterns, subnormals, every power of two and of ten
 * with their neighbours, both sides of the fixed/scientific switches (1e-4, 1e6, 1e16), integers
 * around 2^53, and short decimals of every length.  The one deliberate difference (client_python
 * 0.16 writes "1e+010" for exponents 10..15, promc "1e+10") is applied to the oracle's answer.
 *
 * The oracle is /usr/bin/python3 (Debian's, which has python3-prometheus-client), or
 * $PROMC_TEST_PYTHON.  Without it the test fails loudly: it never skips. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <promc/promc.h>
#include "check.h"

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

int main(void)
{
    build_inputs();
    char dir[] = "/tmp/promc-fmt-oracle-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    char in_path[256], py_path[256], cmd[1024];
    snprintf(in_path, sizeof in_path, "%s/in.hex", dir);
    snprintf(py_path, sizeof py_path, "%s/oracle.py", dir);
    FILE *f = fopen(in_path, "w");
    FILE *py = fopen(py_path, "w");
    if (!f || !py) {
        perror("fopen");
        return 2;
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
        return 2;
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
    return check_report("test_review_fmt_oracle");
}
