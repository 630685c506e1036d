/* SPDX-License-Identifier: Apache-2.0 */
/* The harness (check.h) itself, driven by tests/unit/CMakeLists.txt: a failing CHECK makes the run
 * fail and the case go on; a failing REQUIRE ends its case there and the next case still runs; an
 * unknown case name is an error rather than an empty pass. */
#include <stdio.h>
#include <promc/promc.h>
#include "check.h"

static void passes(void)
{
    CHECK(1 + 1 == 2);
    CHECK_RC(0, 0);
}

static void check_goes_on(void)
{
    CHECK(1 == 2);
    printf("after the failed CHECK\n");
}

static void require_ends_case(void)
{
    REQUIRE(1 == 2);
    printf("after the failed REQUIRE\n");
}

static const check_case_t cases[] = {CHECK_CASE(passes), CHECK_CASE(check_goes_on),
                                     CHECK_CASE(require_ends_case)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("harness_selftest", cases, argc, argv);
}
