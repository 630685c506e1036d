/* SPDX-License-Identifier: Apache-2.0 */
/* A native histogram with exemplars: request latency in sparse exponential buckets (growth factor
 * 1.1, at most 160 buckets), each request's trace ID attached to its observation.  Prometheus
 * reads the native buckets over protobuf (docs/native-histograms.md); the text formats carry the
 * count, the sum and, in OpenMetrics, the latest exemplar on the +Inf bucket.  The example
 * serves nothing: it writes one protobuf scrape's size and the OpenMetrics text. */
#include <stdio.h>
#include <promc/promc.h>

int main(void)
{
    promc_histogram_t *latency;
    int rc = promc_histogram_new(&latency, &(promc_metric_opts_t){
                                               .name = "request_latency",
                                               .unit = "seconds",
                                               .help = "Request latency.",
                                               .native_bucket_factor = 1.1,
                                               .native_max_buckets = 160,
                                               .native_min_reset_duration = 3600,
                                           });
    if (rc) {
        fprintf(stderr, "native_histogram: %s\n", promc_last_error());
        return 1;
    }
    for (int i = 1; i <= 100; i++) {
        char trace[40];
        snprintf(trace, sizeof trace, "%016x%016x", i * 2654435761u, i);
        promc_label_t ex[] = {{PROMC_STR("trace_id"), promc_str(trace)}};
        /* The exemplar path checks its labels: at most 128 characters, UTF-8. */
        if ((rc = promc_histogram_observe_exemplar(latency, i / 400.0, ex, 1)) != 0) {
            fprintf(stderr, "native_histogram: %s\n", promc_last_error());
            return 1;
        }
    }
    char *out;
    size_t len;
    promc_expose_opts_t pb = {.format = PROMC_FORMAT_PROTOBUF};
    if ((rc = promc_registry_write_buf(promc_registry_default(), &pb, &out, &len)) != 0) {
        fprintf(stderr, "native_histogram: %s\n", promc_last_error());
        return 1;
    }
    printf("protobuf scrape: %zu bytes (%s)\n", len, promc_format_content_type(pb.format));
    promc_buf_free(out);
    promc_expose_opts_t om = {.format = PROMC_FORMAT_OPENMETRICS};
    if ((rc = promc_registry_write_buf(promc_registry_default(), &om, &out, &len)) != 0) {
        fprintf(stderr, "native_histogram: %s\n", promc_last_error());
        return 1;
    }
    fputs(out, stdout);
    promc_buf_free(out);
    promc_histogram_free(latency);
    return 0;
}
