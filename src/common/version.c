/* SPDX-License-Identifier: Apache-2.0 */
/* The version of the library as built, for programs that check what they loaded. */
#include <promc/version.h>

const char *promc_version_string(void)
{
    return PROMC_VERSION_STRING;
}

unsigned promc_version_number(void)
{
    return PROMC_VERSION_NUMBER;
}
