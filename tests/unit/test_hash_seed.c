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

int main(int argc, char **argv)
{
    if (argc > 1) { /* the child: print one hash */
        printf("%016" PRIx64 "\n", hash2("GET", "/hello"));
        return 0;
    }
    CHECK(hash2("GET", "/hello") == hash2("GET", "/hello"));
    CHECK(hash2("ab", "c") != hash2("a", "bc"));
    CHECK(hash2("", "x") != hash2("x", ""));
    /* Two processes (this program again) hash the same values with different seeds. */
    char got[2][32] = {"", ""};
    for (int i = 0; i < 2; i++) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "'%s' child", argv[0]);
        FILE *p = popen(cmd, "r");
        CHECK(p != NULL);
        if (p == NULL)
            break;
        if (fgets(got[i], sizeof got[i], p) == NULL)
            got[i][0] = '\0';
        CHECK(pclose(p) == 0);
        CHECK(strlen(got[i]) == 17);
    }
    if (strcmp(got[0], got[1]) == 0)
        fprintf(stderr, "two processes hashed (GET, /hello) alike: %s", got[0]);
    CHECK(strcmp(got[0], got[1]) != 0);
    return check_report("test_hash_seed");
}
