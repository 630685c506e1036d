/* SPDX-License-Identifier: Apache-2.0 */
/* Labels, and the other metric types: a child resolved once and kept, a histogram timing a block,
 * a gauge tracking work in progress, an info and an enum, rendered as OpenMetrics. */
#include <stdio.h>
#include <promc/promc.h>

int main(void)
{
    const char *labels[] = {"method", "code"};
    promc_counter_t *http;
    promc_histogram_t *latency;
    promc_gauge_t *inprogress;
    promc_info_t *build;
    promc_enum_t *state;
    const char *states[] = {"starting", "running", "stopped"};
    int rc = promc_counter_new(&http, &(promc_metric_opts_t){.name = "http_requests_total",
                                                             .help = "HTTP requests.",
                                                             .label_names = labels,
                                                             .label_count = 2});
    rc = rc ? rc
            : promc_histogram_new(&latency, &(promc_metric_opts_t){.name = "request_latency",
                                                                   .help = "Request latency.",
                                                                   .unit = "seconds"});
    rc = rc ? rc
            : promc_gauge_new(&inprogress, &(promc_metric_opts_t){.name = "inprogress_requests",
                                                                  .help = "Requests in progress."});
    rc =
        rc ? rc : promc_info_new(&build, &(promc_metric_opts_t){.name = "build", .help = "Build."});
    rc = rc ? rc
            : promc_enum_new(&state, &(promc_metric_opts_t){.name = "task_state",
                                                            .help = "Task state.",
                                                            .states = states,
                                                            .state_count = 3});
    if (rc) {
        fprintf(stderr, "promc: %s: %s\n", promc_strerror(rc), promc_last_error());
        return 1;
    }

    /* Resolve once, keep the handle: each increment is then one atomic step. */
    promc_counter_t *get_ok;
    promc_str_t values[] = {PROMC_STR("GET"), PROMC_STR("200")};
    if (promc_counter_labels(http, values, 2, &get_ok))
        return 1;
    for (int i = 0; i < 3; i++) {
        PROMC_GAUGE_TRACK_INPROGRESS(inprogress)
        {
            PROMC_HISTOGRAM_TIME(latency)
            {
                promc_counter_inc(get_ok);
            }
        }
    }
    promc_label_t info[] = {{PROMC_STR("version"), PROMC_STR(PROMC_VERSION_STRING)}};
    if (promc_info_set(build, info, 1) || promc_enum_set_state(state, "running"))
        return 1;

    char *text;
    size_t len;
    promc_expose_opts_t opts = {.format = PROMC_FORMAT_OPENMETRICS};
    if (promc_registry_write_buf(promc_registry_default(), &opts, &text, &len))
        return 1;
    fwrite(text, 1, len, stdout);
    promc_buf_free(text);
    return promc_counter_value(get_ok) == 3 && promc_histogram_count(latency) == 3 ? 0 : 1;
}
