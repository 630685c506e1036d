/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the Accept and Accept-Encoding parsers see raw client headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    promc_format_t f = promc_format_negotiate(s);
    if (f != PROMC_FORMAT_TEXT && f != PROMC_FORMAT_OPENMETRICS)
        abort();
    (void)promc_gzip_accepted(s);
    free(s);
    return 0;
}
