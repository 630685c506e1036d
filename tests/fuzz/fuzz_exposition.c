/* Fuzz target: label values, HELP text and values from the input go through both writers.  Every
 * output line must be a comment or a sample whose quoted label values contain no raw newline (they
 * are escaped), and the OpenMetrics output ends with "# EOF". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lines(const char *out, size_t len, int om)
{
    /* A newline may only end a line: count lines against samples + comments. */
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += out[i] == '\n';
    if (len && out[len - 1] != '\n')
        abort();
    if (om && (len < 6 || memcmp(out + len - 6, "# EOF\n", 6) != 0))
        abort();
    /* Each line starts with '#' or a metric name character. */
    const char *p = out;
    while (p < out + len) {
        char c = *p;
        if (!(c == '#' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ':'))
            abort();
        const char *nl = memchr(p, '\n', (size_t)(out + len - p));
        p = nl + 1;
    }
    (void)lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    promc_registry_t *r;
    if (promc_registry_new(&r))
        return 0;
    size_t half = size / 2;
    promc_str_t v1 = {(const char *)data, half};
    promc_str_t v2 = {(const char *)data + half, size - half};
    char *help = malloc(half + 1);
    if (!help) {
        promc_registry_free(r);
        return 0;
    }
    memcpy(help, data, half);
    help[half] = '\0';
    const char *ln[] = {"b", "a"};
    promc_counter_t *c = NULL, *cc;
    promc_histogram_t *h = NULL, *hc;
    promc_info_t *in = NULL;
    double value = 0;
    if (size >= 8)
        memcpy(&value, data, 8);
    if (promc_counter_new(&c, &(promc_metric_opts_t){.name = "c",
                                                     .help = help,
                                                     .label_names = ln,
                                                     .label_count = 2,
                                                     .registry = r}) == 0 &&
        promc_counter_labels(c, (promc_str_t[]){v1, v2}, 2, &cc) == 0)
        promc_counter_add(cc, value);
    if (promc_histogram_new(&h, &(promc_metric_opts_t){.name = "h",
                                                       .help = help,
                                                       .label_names = ln,
                                                       .label_count = 1,
                                                       .registry = r}) == 0 &&
        promc_histogram_labels(h, &v2, 1, &hc) == 0)
        promc_histogram_observe(hc, value);
    if (promc_info_new(&in, &(promc_metric_opts_t){.name = "i", .help = "", .registry = r}) == 0) {
        promc_label_t l = {PROMC_STR("k"), v1};
        if (promc_info_set(in, &l, 1) != 0)
            abort(); /* a label "k" with any value bytes is valid */
    }
    for (int om = 0; om < 2; om++) {
        char *out;
        size_t len;
        if (promc_registry_write_buf(r, &(promc_expose_opts_t){.format = (promc_format_t)om}, &out,
                                     &len) != 0)
            abort();
        check_lines(out, len, om);
        promc_buf_free(out);
    }
    promc_registry_free(r);
    promc_counter_free(c);
    promc_histogram_free(h);
    promc_info_free(in);
    free(help);
    return 0;
}
