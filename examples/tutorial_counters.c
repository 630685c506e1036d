/* SPDX-License-Identifier: Apache-2.0 */
/* The tutorial's three counters, as example-001 declares them: the C form of
 *     REQUESTS = Counter('hello_worlds_requests', 'Hello Worlds requested.')
 *     REQUESTS.inc()
 *     with EXCEPTIONS.count_exceptions(): ...
 * and what /metrics then shows. */
#include <stdio.h>
#include <promc/promc.h>

static int serve_hello(int n)
{
    return n % 5 == 4 ? -1 : 0; /* every fifth call fails */
}

int main(void)
{
    promc_counter_t *requests, *wrong, *exceptions;
    int rc =
        promc_counter_new(&requests, &(promc_metric_opts_t){.name = "hello_worlds_requests",
                                                            .help = "Hello Worlds requested."});
    if (!rc)
        rc = promc_counter_new(&wrong, &(promc_metric_opts_t){.name = "wrong_requests",
                                                              .help = "Wrong Requests received."});
    if (!rc)
        rc = promc_counter_new(&exceptions,
                               &(promc_metric_opts_t){.name = "hello_world_exceptions",
                                                      .help = "Exceptions serving Hello World."});
    if (rc) {
        fprintf(stderr, "promc: %s: %s\n", promc_strerror(rc), promc_last_error());
        return 1;
    }
    for (int i = 0; i < 12; i++) {
        promc_counter_inc(requests);
        promc_counter_count_errors(exceptions, serve_hello(i));
    }
    for (int i = 0; i < 8; i++)
        promc_counter_inc(wrong);

    char *text;
    size_t len;
    rc = promc_registry_write_buf(promc_registry_default(), NULL, &text, &len);
    if (rc)
        return 1;
    fwrite(text, 1, len, stdout);
    promc_buf_free(text);
    /* 12 requests, 8 wrong ones, 2 failures (calls 4 and 9). */
    return promc_counter_value(requests) == 12 && promc_counter_value(wrong) == 8 &&
                   promc_counter_value(exceptions) == 2
               ? 0
               : 1;
}
