/* SPDX-License-Identifier: Apache-2.0 */
/* The label-value hash: stable within a process, length-aware, and seeded differently in every
 * process (so values crafted to collide in one process do not collide in another). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <promc/promc.h>
#include "check.h"
#include "hash.h"

static uint64_t hash2(const char *a, const char *b)
{
    promc_str_t v[2] = {promc_str(a), promc_str(b)};
    return promc__hash_values(v, 2);
}

/* Same values, same hash; the lengths are part of what is hashed. */
static void stable_and_length_aware(void)
{
    CHECK(hash2("GET", "/hello") == hash2("GET", "/hello"));
    CHECK(hash2("ab", "c") != hash2("a", "bc"));
    CHECK(hash2("", "x") != hash2("x", ""));
}

/* Two processes (this program again, told by the environment to print one hash) hash the same
 * values with different seeds. */
static void seeded_per_process(void)
{
    char got[2][32] = {"", ""};
    for (int i = 0; i < 2; i++) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "PROMC_TEST_HASH_CHILD=1 '%s'", check_argv0);
        FILE *p = popen(cmd, "r");
        REQUIRE(p != NULL);
        if (fgets(got[i], sizeof got[i], p) == NULL)
            got[i][0] = '\0';
        CHECK(pclose(p) == 0);
        CHECK(strlen(got[i]) == 17);
    }
    if (strcmp(got[0], got[1]) == 0)
        fprintf(stderr, "two processes hashed (GET, /hello) alike: %s", got[0]);
    CHECK(strcmp(got[0], got[1]) != 0);
}

static const check_case_t cases[] = {CHECK_CASE(stable_and_length_aware),
                                     CHECK_CASE(seeded_per_process)};

int main(int argc, char **argv)
{
    if (getenv("PROMC_TEST_HASH_CHILD")) {
        printf("%016" PRIx64 "\n", hash2("GET", "/hello"));
        return 0;
    }
    return CHECK_MAIN("test_hash", cases, argc, argv);
}
