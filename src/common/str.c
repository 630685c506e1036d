/* SPDX-License-Identifier: Apache-2.0 */
/* Strings with a length (<promc/base.h>). */
#include <string.h>
#include <promc/base.h>

promc_str_t promc_str(const char *s)
{
    promc_str_t r = {s ? s : "", s ? strlen(s) : 0};
    return r;
}
