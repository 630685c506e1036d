/* SPDX-License-Identifier: Apache-2.0 */
/* The protobuf exposition, decoded by protobuf-c's own unpacking: negotiation and Content-Type,
 * info and enum as client_golang-style gauges, a collector's families through the emit API, the
 * library's own families, escaped and UTF-8 names, gzip, a large family split into bounded
 * messages through a sink, and a sink that refuses.  Field-by-field agreement with client_golang
 * is tests/conformance/protobuf_vs_golang.py. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <promc/promc.h>
#include "check.h"
#include "promc_pb_names.h"
#include "metrics.pb-c.h"

typedef Io__Prometheus__Client__MetricFamily fam_t;

typedef struct {
    fam_t *f[4096];
    size_t n;
} fams_t;

static size_t varint(const unsigned char *p, size_t n, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < n && i < 10; i++) {
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            return i + 1;
    }
    return 0;
}

/* Splits a delimited stream into families; false on a malformed one. */
static bool decode(const unsigned char *p, size_t n, fams_t *out)
{
    out->n = 0;
    size_t pos = 0;
    while (pos < n) {
        uint64_t len;
        size_t k = varint(p + pos, n - pos, &len);
        if (!k || len > n - pos - k || out->n == 4096)
            return false;
        pos += k;
        fam_t *f = io__prometheus__client__metric_family__unpack(NULL, len, p + pos);
        if (!f)
            return false;
        out->f[out->n++] = f;
        pos += len;
    }
    return true;
}

static void fams_free(fams_t *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        io__prometheus__client__metric_family__free_unpacked(fs->f[i], NULL);
    fs->n = 0;
}

static fam_t *find(const fams_t *fs, const char *name)
{
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(fs->f[i]->name, name))
            return fs->f[i];
    return NULL;
}

static const char *label(const Io__Prometheus__Client__Metric *m, const char *name)
{
    for (size_t i = 0; i < m->n_label; i++)
        if (!strcmp(m->label[i]->name, name))
            return m->label[i]->value;
    return NULL;
}

static bool scrape(promc_registry_t *r, promc_escaping_t esc, fams_t *out)
{
    char *buf = NULL;
    size_t len;
    promc_expose_opts_t o = {.format = PROMC_FORMAT_PROTOBUF, .escaping = esc};
    if (promc_registry_write_buf(r, &o, &buf, &len) != 0)
        return false;
    bool ok = decode((const unsigned char *)buf, len, out);
    promc_buf_free(buf);
    return ok;
}

static promc_registry_t *fresh(void)
{
    promc_registry_t *r = NULL;
    CHECK_RC(promc_registry_new(&r), 0);
    if (r)
        promc_registry_set_created(r, false);
    return r;
}

static void negotiation(void)
{
    /* Prometheus 2.42 with --enable-feature=native-histograms. */
    const char *p242 = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                       "encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,"
                       "application/openmetrics-text;version=0.0.1;q=0.75,"
                       "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    CHECK(promc_format_negotiate(p242) == PROMC_FORMAT_PROTOBUF);
    /* Prometheus 3 with scrape_protocols [PrometheusProto, ...] and escaping. */
    promc_escaping_t e;
    bool asked;
    const char *p3 = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                     "encoding=delimited;escaping=allow-utf-8,"
                     "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5";
    CHECK(promc_format_negotiate_escaping(p3, &e, &asked) == PROMC_FORMAT_PROTOBUF);
    CHECK(e == PROMC_ESCAPING_ALLOW_UTF8 && asked);
    CHECK_STR(promc_content_type(PROMC_FORMAT_PROTOBUF, e, asked),
              "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
              "encoding=delimited; escaping=allow-utf-8");
    CHECK_STR(promc_format_content_type(PROMC_FORMAT_PROTOBUF),
              "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
              "encoding=delimited");
    /* Only the delimited MetricFamily stream is ours: text encoding, another message, none. */
    CHECK(promc_format_negotiate("application/vnd.google.protobuf;"
                                 "proto=io.prometheus.client.MetricFamily;encoding=text") ==
          PROMC_FORMAT_TEXT);
    CHECK(promc_format_negotiate("application/vnd.google.protobuf;proto=other.Message;"
                                 "encoding=delimited") == PROMC_FORMAT_TEXT);
    CHECK(promc_format_negotiate("application/vnd.google.protobuf") == PROMC_FORMAT_TEXT);
    /* q decides, as for the text formats. */
    CHECK(promc_format_negotiate("application/vnd.google.protobuf;"
                                 "proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.2,"
                                 "text/plain;version=0.0.4;q=0.3") == PROMC_FORMAT_TEXT);
    CHECK(promc_format_negotiate("APPLICATION/VND.GOOGLE.PROTOBUF; "
                                 "proto=\"io.prometheus.client.MetricFamily\"; "
                                 "encoding=delimited") == PROMC_FORMAT_PROTOBUF);
}

static void info_enum_and_created(void)
{
    promc_registry_t *r = NULL;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_info_t *i;
    const char *ln[] = {"host"};
    REQUIRE_RC(promc_info_new(&i, &(promc_metric_opts_t){.name = "build",
                                                         .help = "Build.",
                                                         .registry = r,
                                                         .label_names = ln,
                                                         .label_count = 1}),
               0);
    promc_info_t *ic;
    REQUIRE_RC(promc_info_labels(i, (promc_str_t[]){PROMC_STR("h1")}, 1, &ic), 0);
    promc_label_t il[] = {{PROMC_STR("version"), PROMC_STR("1.2")},
                          {PROMC_STR("arch"), PROMC_STR("x86")}};
    REQUIRE_RC(promc_info_set(ic, il, 2), 0);
    promc_enum_t *en;
    const char *states[] = {"starting", "running", "stopped"};
    REQUIRE_RC(promc_enum_new(&en, &(promc_metric_opts_t){.name = "phase",
                                                          .help = "Phase.",
                                                          .registry = r,
                                                          .states = states,
                                                          .state_count = 3}),
               0);
    REQUIRE_RC(promc_enum_set(en, 1), 0);
    promc_counter_t *c;
    REQUIRE_RC(
        promc_counter_new(&c, &(promc_metric_opts_t){.name = "jobs", .help = "J.", .registry = r}),
        0);
    REQUIRE_RC(promc_counter_add(c, 3), 0);
    promc_gauge_t *unused;
    REQUIRE_RC(promc_gauge_new(&unused, &(promc_metric_opts_t){.name = "empty",
                                                               .help = "E.",
                                                               .registry = r,
                                                               .label_names = ln,
                                                               .label_count = 1}),
               0);
    fams_t fs;
    REQUIRE(scrape(r, PROMC_ESCAPING_UNDERSCORES, &fs));
    /* Info: a gauge name_info of value 1, its labels merged and sorted. */
    fam_t *f = find(&fs, "build_info");
    REQUIRE(f != NULL);
    CHECK(f->type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE && f->n_metric == 1);
    CHECK(f->metric[0]->gauge && f->metric[0]->gauge->value == 1.0);
    REQUIRE(f->metric[0]->n_label == 3);
    CHECK_STR(f->metric[0]->label[0]->name, "arch");
    CHECK_STR(f->metric[0]->label[1]->name, "host");
    CHECK_STR(f->metric[0]->label[2]->name, "version");
    /* Enum: one gauge per state, the metric's own name as the label. */
    f = find(&fs, "phase");
    REQUIRE(f != NULL);
    CHECK(f->type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__GAUGE && f->n_metric == 3);
    for (size_t k = 0; k < f->n_metric && k < 3; k++) {
        CHECK_STR(label(f->metric[k], "phase"), states[k]);
        CHECK(f->metric[k]->gauge->value == (k == 1 ? 1.0 : 0.0));
    }
    /* A counter: name_total, with its creation time; a vector without children: nothing. */
    f = find(&fs, "jobs_total");
    REQUIRE(f != NULL);
    CHECK(f->type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER);
    CHECK(f->metric[0]->counter->value == 3.0);
    CHECK(f->metric[0]->counter->base.n_unknown_fields == 1);
    if (f->metric[0]->counter->base.n_unknown_fields == 1)
        CHECK(f->metric[0]->counter->base.unknown_fields[0].tag == 3);
    CHECK(find(&fs, "empty") == NULL);
    fams_free(&fs);
    /* Without _created, no created_timestamp. */
    promc_registry_set_created(r, false);
    REQUIRE(scrape(r, PROMC_ESCAPING_UNDERSCORES, &fs));
    f = find(&fs, "jobs_total");
    REQUIRE(f != NULL);
    CHECK(f->metric[0]->counter->base.n_unknown_fields == 0);
    fams_free(&fs);
    promc_counter_free(c);
    promc_gauge_free(unused);
    promc_enum_free(en);
    promc_info_free(i);
    promc_registry_free(r);
}

static int collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    promc_label_t a[] = {{PROMC_STR("job"), PROMC_STR("a")}};
    int rc = promc_emit_family(e, "queue", "Queue.", PROMC_COUNTER, NULL);
    rc = rc ? rc : promc_emit_sample(e, "_total", a, 1, 7);
    rc = rc ? rc : promc_emit_sample(e, "_created", a, 1, 1700000000.25);
    rc = rc ? rc : promc_emit_family(e, "wait_seconds", "Wait.", PROMC_HISTOGRAM, NULL);
    const char *les[] = {"0.1", "1.0", "+Inf"};
    const double cum[] = {2, 5, 6};
    for (int k = 0; k < 3 && !rc; k++) {
        promc_label_t l[] = {{PROMC_STR("job"), PROMC_STR("a")},
                             {PROMC_STR("le"), promc_str(les[k])}};
        rc = promc_emit_sample(e, "_bucket", l, 2, cum[k]);
    }
    rc = rc ? rc : promc_emit_sample(e, "_count", a, 1, 6);
    rc = rc ? rc : promc_emit_sample(e, "_sum", a, 1, 3.5);
    rc = rc ? rc : promc_emit_family(e, "lat", "Lat.", PROMC_SUMMARY, NULL);
    promc_label_t q[] = {{PROMC_STR("quantile"), PROMC_STR("0.5")}};
    rc = rc ? rc : promc_emit_sample(e, "", q, 1, 0.25);
    rc = rc ? rc : promc_emit_sample(e, "_count", NULL, 0, 10);
    rc = rc ? rc : promc_emit_sample(e, "_sum", NULL, 0, 4);
    rc = rc ? rc : promc_emit_family(e, "temp", "Temp.", PROMC_GAUGE, NULL);
    promc_label_t r1[] = {{PROMC_STR("room"), PROMC_STR("x")}};
    promc_label_t r2[] = {{PROMC_STR("room"), PROMC_STR("y")}};
    rc = rc ? rc : promc_emit_sample(e, "", r1, 1, 20);
    rc = rc ? rc : promc_emit_sample(e, "", r2, 1, 21);
    rc = rc ? rc : promc_emit_family(e, "nothing", "N.", PROMC_GAUGE, NULL);
    rc = rc ? rc : promc_emit_family(e, "raw", "R.", PROMC_UNTYPED, NULL);
    rc = rc ? rc : promc_emit_sample(e, "", NULL, 0, 5);
    return rc;
}

static void collector_families(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_collector_t *col;
    REQUIRE_RC(promc_collector_new(&col, collect, NULL, NULL, 0), 0);
    REQUIRE_RC(promc_registry_register_collector(r, col), 0);
    fams_t fs;
    REQUIRE(scrape(r, PROMC_ESCAPING_UNDERSCORES, &fs));
    fam_t *f = find(&fs, "queue_total");
    REQUIRE(f != NULL && f->n_metric == 1);
    CHECK(f->metric[0]->counter->value == 7);
    CHECK_STR(label(f->metric[0], "job"), "a");
    CHECK(f->metric[0]->counter->base.n_unknown_fields == 1);
    f = find(&fs, "wait_seconds");
    REQUIRE(f != NULL && f->n_metric == 1);
    CHECK(f->type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__HISTOGRAM);
    const Io__Prometheus__Client__Histogram *h = f->metric[0]->histogram;
    REQUIRE(h != NULL);
    CHECK(h->sample_count == 6 && h->sample_sum == 3.5);
    REQUIRE(h->n_bucket == 2); /* +Inf is the count */
    CHECK(h->bucket[0]->upper_bound == 0.1 && h->bucket[0]->cumulative_count == 2);
    CHECK(h->bucket[1]->upper_bound == 1.0 && h->bucket[1]->cumulative_count == 5);
    CHECK(f->metric[0]->n_label == 1); /* le is the bucket's, not a label */
    f = find(&fs, "lat");
    REQUIRE(f != NULL && f->n_metric == 1);
    const Io__Prometheus__Client__Summary *s = f->metric[0]->summary;
    REQUIRE(s != NULL && s->n_quantile == 1);
    CHECK(s->quantile[0]->quantile == 0.5 && s->quantile[0]->value == 0.25);
    CHECK(s->sample_count == 10 && s->sample_sum == 4);
    f = find(&fs, "temp");
    REQUIRE(f != NULL);
    CHECK(f->n_metric == 2);
    CHECK(find(&fs, "nothing") == NULL);
    f = find(&fs, "raw");
    REQUIRE(f != NULL);
    CHECK(f->type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__UNTYPED);
    CHECK(f->metric[0]->untyped && f->metric[0]->untyped->value == 5);
    fams_free(&fs);
    promc_collector_free(col);
    promc_registry_free(r);
}

static void names_and_escaping(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_counter_t *c, *cc;
    const char *ln[] = {"http.method"};
    REQUIRE_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "http.server.requests",
                                                            .help = "R.",
                                                            .registry = r,
                                                            .label_names = ln,
                                                            .label_count = 1}),
               0);
    REQUIRE_RC(promc_counter_labels(c, (promc_str_t[]){PROMC_STR("GET")}, 1, &cc), 0);
    promc_counter_inc(cc);
    fams_t fs;
    REQUIRE(scrape(r, PROMC_ESCAPING_UNDERSCORES, &fs));
    fam_t *f = find(&fs, "http_server_requests_total");
    REQUIRE(f != NULL);
    CHECK_STR(f->metric[0]->label[0]->name, "http_method");
    fams_free(&fs);
    /* allow-utf-8: as they are, unquoted (protobuf has no quoting). */
    REQUIRE(scrape(r, PROMC_ESCAPING_ALLOW_UTF8, &fs));
    f = find(&fs, "http.server.requests_total");
    REQUIRE(f != NULL);
    CHECK_STR(f->metric[0]->label[0]->name, "http.method");
    fams_free(&fs);
    REQUIRE(scrape(r, PROMC_ESCAPING_VALUES, &fs));
    CHECK(find(&fs, "U__http_2e_server_2e_requests_total") != NULL);
    fams_free(&fs);
    promc_counter_free(c);
    promc_registry_free(r);
}

static void own_families(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_counter_t *c, *cc;
    const char *ln[] = {"user"};
    REQUIRE_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "logins",
                                                            .help = "L.",
                                                            .registry = r,
                                                            .label_names = ln,
                                                            .label_count = 1,
                                                            .max_children = 1}),
               0);
    REQUIRE_RC(promc_counter_labels(c, (promc_str_t[]){PROMC_STR("a")}, 1, &cc), 0);
    CHECK_RC(promc_counter_labels(c, (promc_str_t[]){PROMC_STR("b")}, 1, &cc), PROMC_ELIMIT);
    fams_t fs;
    REQUIRE(scrape(r, PROMC_ESCAPING_UNDERSCORES, &fs));
    fam_t *f = find(&fs, "promc_metric_children_limited_total");
    REQUIRE(f != NULL && f->n_metric == 1);
    CHECK(f->type == IO__PROMETHEUS__CLIENT__METRIC_TYPE__COUNTER);
    CHECK(f->metric[0]->counter->value == 1);
    CHECK_STR(label(f->metric[0], "action"), "refused");
    CHECK_STR(label(f->metric[0], "metric"), "logins");
    fams_free(&fs);
    promc_counter_free(c);
    promc_registry_free(r);
}

typedef struct {
    unsigned char *data;
    size_t len, cap, calls, max_call;
    size_t refuse_after;
} sink_t;

static int sink(void *ud, const void *p, size_t n)
{
    sink_t *s = ud;
    s->calls++;
    if (n > s->max_call)
        s->max_call = n;
    if (s->refuse_after && s->calls > s->refuse_after)
        return 1;
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        s->data = realloc(s->data, s->cap);
        if (!s->data)
            return 1;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    return 0;
}

static void large_family_and_gzip(void)
{
    promc_registry_t *r = fresh();
    REQUIRE(r != NULL);
    promc_gauge_t *g;
    const char *ln[] = {"id", "shard"};
    REQUIRE_RC(promc_gauge_new(&g, &(promc_metric_opts_t){.name = "items",
                                                          .help = "I.",
                                                          .registry = r,
                                                          .label_names = ln,
                                                          .label_count = 2}),
               0);
    enum { N = 100000 };
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        REQUIRE_RC(
            promc_gauge_labels_set(g, (promc_str_t[]){promc_str(id), PROMC_STR("s")}, 2, (double)i),
            0);
    }
    sink_t s = {0};
    REQUIRE_RC(
        promc_registry_write(r, &(promc_expose_opts_t){.format = PROMC_FORMAT_PROTOBUF}, sink, &s),
        0);
    /* Through the 64 KiB chunk buffer: no call larger, many calls. */
    CHECK(s.max_call <= 64 * 1024);
    CHECK(s.calls > 10);
    fams_t fs;
    REQUIRE(decode(s.data, s.len, &fs));
    size_t total = 0;
    bool ordered = true;
    for (size_t k = 0; k < fs.n; k++) {
        CHECK_STR(fs.f[k]->name, "items");
        CHECK(fs.f[k]->n_metric <= 256);
        for (size_t j = 0; j < fs.f[k]->n_metric; j++) {
            const Io__Prometheus__Client__Metric *m = fs.f[k]->metric[j];
            ordered =
                ordered && m->gauge->value == (double)total && atoi(label(m, "id")) == (int)total;
            total++;
        }
    }
    CHECK(total == N && ordered);
    CHECK(fs.n == (N + 255) / 256);
    fams_free(&fs);
    /* gzip: the same bytes once inflated. */
    sink_t z = {0};
    REQUIRE_RC(
        promc_registry_write(
            r, &(promc_expose_opts_t){.format = PROMC_FORMAT_PROTOBUF, .gzip = true}, sink, &z),
        0);
    CHECK(z.len < s.len / 3);
    unsigned char *plain = malloc(s.len + 16);
    REQUIRE(plain != NULL);
    z_stream zs = {0};
    REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
    zs.next_in = z.data;
    zs.avail_in = (uInt)z.len;
    zs.next_out = plain;
    zs.avail_out = (uInt)(s.len + 16);
    CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
    CHECK(zs.total_out == s.len && memcmp(plain, s.data, s.len) == 0);
    inflateEnd(&zs);
    free(plain);
    /* A sink that refuses: PROMC_ESINK, and the registry is as it was. */
    sink_t bad = {.refuse_after = 3};
    CHECK_RC(promc_registry_write(r, &(promc_expose_opts_t){.format = PROMC_FORMAT_PROTOBUF}, sink,
                                  &bad),
             PROMC_ESINK);
    sink_t again = {0};
    REQUIRE_RC(promc_registry_write(r, &(promc_expose_opts_t){.format = PROMC_FORMAT_PROTOBUF},
                                    sink, &again),
               0);
    CHECK(again.len == s.len);
    free(bad.data);
    free(again.data);
    free(z.data);
    free(s.data);
    promc_gauge_free(g);
    promc_registry_free(r);
}

static const check_case_t cases[] = {
    CHECK_CASE(negotiation),        CHECK_CASE(info_enum_and_created),
    CHECK_CASE(collector_families), CHECK_CASE(names_and_escaping),
    CHECK_CASE(own_families),       CHECK_CASE(large_family_and_gzip)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_protobuf", cases, argc, argv);
}
