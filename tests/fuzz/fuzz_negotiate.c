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
    if ((unsigned)f > PROMC_FORMAT_TEXT_1_0_0)
        abort();
    promc_escaping_t e;
    bool asked;
    if (promc_format_negotiate_escaping(s, &e, &asked) != f ||
        (unsigned)e > PROMC_ESCAPING_VALUES || (!asked && e != PROMC_ESCAPING_UNDERSCORES))
        abort();
    if (promc_content_type(f, e, asked) == NULL)
        abort();
    (void)promc_gzip_accepted(s);
    free(s);
    return 0;
}
