/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: web configuration files (the exporter-toolkit YAML) into
 * promc_http_web_config_check().  Every input must load (0) or be refused with PROMC_ECONFIG and a
 * message that names the file; nothing else, and no crash, leak or hang. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <promc/promc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0') {
        snprintf(path, sizeof path, "/tmp/promc-fuzz-webconfig-%d.yml", (int)getpid());
        atexit(remove_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "fuzz_webconfig: cannot write %s\n", path);
        abort();
    }
    int rc = promc_http_web_config_check(path);
    if (rc != 0 && rc != PROMC_ECONFIG && rc != PROMC_ENOMEM) {
        fprintf(stderr, "fuzz_webconfig: %s: %s\n", promc_err_name(rc), promc_last_error());
        abort();
    }
    if (rc == PROMC_ECONFIG && strstr(promc_last_error(), path) == NULL) {
        fprintf(stderr, "fuzz_webconfig: the message does not name the file: %s\n",
                promc_last_error());
        abort();
    }
    return 0;
}
