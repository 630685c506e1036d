/* SPDX-License-Identifier: Apache-2.0 */
/* Exposition (src/expose/): gzip, sinks that refuse, name[] filtering, and what a scrape promises
 * while the registry changes under it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include <promc/promc.h>
#include "check.h"

static int refuse_sink(void *ud, const void *p, size_t n)
{
    (void)ud;
    (void)p;
    (void)n;
    return -1;
}

/* gzip output inflates to the plain output; a refusing sink stops the write with PROMC_ESINK. */
static void gzip_and_sink_refusal(void)
{
    /* gzip output inflates to the plain output; a refusing sink stops the write. */
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    const char *ln[] = {"id"};
    promc_counter_t *c;
    CHECK_RC(promc_counter_new(&c, &(promc_metric_opts_t){.name = "n",
                                                          .help = "N.",
                                                          .label_names = ln,
                                                          .label_count = 1,
                                                          .registry = r}),
             0);
    for (int i = 0; i < 20000; i++) {
        char b[16];
        snprintf(b, sizeof b, "id%d", i);
        promc_counter_t *k;
        promc_str_t v = promc_str(b);
        CHECK_RC(promc_counter_labels(c, &v, 1, &k), 0);
        promc_counter_add(k, i);
    }
    char *plain, *gz;
    size_t plen, glen;
    CHECK_RC(promc_registry_write_buf(r, NULL, &plain, &plen), 0);
    CHECK_RC(promc_registry_write_buf(r, &(promc_expose_opts_t){.gzip = true}, &gz, &glen), 0);
    CHECK(plen > 64 * 1024 * 4 && glen < plen / 3);
    char *back = malloc(plen + 1);
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK(inflateInit2(&z, 16 + 15) == Z_OK);
    z.next_in = (Bytef *)gz;
    z.avail_in = (uInt)glen;
    z.next_out = (Bytef *)back;
    z.avail_out = (uInt)plen + 1;
    CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
    CHECK(z.total_out == plen && memcmp(back, plain, plen) == 0);
    inflateEnd(&z);
    free(back);
    promc_buf_free(plain);
    promc_buf_free(gz);
    CHECK_RC(promc_registry_write(r, NULL, refuse_sink, NULL), PROMC_ESINK);
    CHECK_RC(promc_registry_write(r, &(promc_expose_opts_t){.format = (promc_format_t)7},
                                  refuse_sink, NULL),
             PROMC_EINVAL);
    promc_counter_free(c);
    promc_registry_free(r);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* name[] filtering (promc_expose_opts_t.names) selects samples by their full name, whatever its
 * length: a metric name is not limited in length, so neither is a name in the filter. */
static void filter_long_names(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    /* Names on both sides of the length where a fixed buffer would end. */
    static const size_t lens[] = {10, 500, 505, 506, 511, 512, 600, 5000};
    enum { N = sizeof lens / sizeof lens[0] };
    promc_counter_t *ctr[N];
    for (size_t k = 0; k < N; k++) {
        size_t n = lens[k];
        char *name = malloc(n + 1);
        memset(name, 'a', n);
        name[0] = (char)('a' + k);
        name[n] = '\0';
        CHECK_RC(promc_counter_new(
                     &ctr[k], &(promc_metric_opts_t){.name = name, .help = "h", .registry = r}),
                 0);
        promc_counter_inc(ctr[k]);
        /* Ask for name_total only: that family, that sample, nothing else. */
        char *want = malloc(n + 7);
        memcpy(want, name, n);
        memcpy(want + n, "_total", 7);
        const char *names[] = {want};
        char *t = NULL;
        size_t len;
        CHECK_RC(promc_registry_write_buf(r,
                                          &(promc_expose_opts_t){.format = PROMC_FORMAT_TEXT,
                                                                 .names = names,
                                                                 .name_count = 1},
                                          &t, &len),
                 0);
        char *line = malloc(n + 16);
        snprintf(line, n + 16, "\n%s 1.0\n", want);
        if (!t || !strstr(t, line))
            fprintf(stderr, "name of %zu characters: its _total sample was filtered out\n", n);
        CHECK(t && strstr(t, line));
        CHECK(t && count(t, "# TYPE ") == 1);
        promc_buf_free(t);
        free(line);
        free(want);
        free(name);
    }
    for (size_t k = 0; k < N; k++)
        promc_counter_free(ctr[k]);
    promc_registry_free(r);
}

#define CHILDREN 10000

static promc_gauge_t *gauge;
static int churned;
static const char *churn_key; /* a child near the head of the list */

typedef struct {
    char *p;
    size_t n, cap;
} acc_t;

static int churn_sink(void *ud, const void *p, size_t n)
{
    acc_t *a = ud;
    if (!churned) {
        churned = 1;
        promc_str_t v[] = {promc_str(churn_key)};
        promc_gauge_t *c;
        CHECK_RC(promc_metric_remove(promc_gauge_metric(gauge), v, 1), 0);
        CHECK_RC(promc_gauge_labels(gauge, v, 1, &c), 0);
        promc_gauge_set(c, 2);
    }
    if (a->n + n + 1 > a->cap) {
        a->cap = (a->n + n + 1) * 2;
        a->p = realloc(a->p, a->cap);
    }
    memcpy(a->p + a->n, p, n);
    a->n += n;
    a->p[a->n] = '\0';
    return 0;
}

/* One scrape never exposes the same series twice.  A child removed while a scrape walks the
 * children and created again with the same label values is appended at the end of the list; the
 * scrape had already written the old one and, walking on, reached the new one too: two samples for
 * one series (client_python's OpenMetrics parser rejects that exposition, Prometheus drops one as a
 * "duplicate sample").  The sink, called once the output passes the 64 KiB chunk, removes and
 * re-creates the first child, deterministically in the middle of the walk. */
static void scrape_never_repeats_a_series(void)
{
    promc_registry_t *r;
    CHECK_RC(promc_registry_new(&r), 0);
    const char *ln[] = {"k"};
    CHECK_RC(promc_gauge_new(
                 &gauge,
                 &(promc_metric_opts_t){
                     .name = "g", .help = "h", .label_names = ln, .label_count = 1, .registry = r}),
             0);
    for (int i = 0; i < CHILDREN; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%05d", i);
        promc_str_t v[] = {promc_str(k)};
        promc_gauge_t *c;
        CHECK_RC(promc_gauge_labels(gauge, v, 1, &c), 0);
        promc_gauge_set(c, 1);
    }
    for (int f = 0; f < 2; f++) {
        acc_t a = {0};
        churned = 0;
        churn_key = f == 0 ? "k00000" : "k00001"; /* the first round moved k00000 to the end */
        CHECK_RC(promc_registry_write(r, &(promc_expose_opts_t){.format = f}, churn_sink, &a), 0);
        CHECK(churned);
        char series[32];
        snprintf(series, sizeof series, "g{k=\"%s\"}", churn_key);
        size_t dups = a.p ? count(a.p, series) : 0;
        if (dups != 1)
            fprintf(stderr, "format %d: %s written %zu times in one scrape\n", f, series, dups);
        CHECK(dups == 1);
        free(a.p);
    }
    promc_gauge_free(gauge);
    promc_registry_free(r);
}

#define INFO_CHILDREN 2000

static promc_info_t *info, *child0;
static sem_t go, finished;
static int sink_calls, blocked;
static int worker_rc = -1;

static void *worker(void *arg)
{
    (void)arg;
    sem_wait(&go);
    promc_label_t l[] = {{PROMC_STR("version"), PROMC_STR("2.0")}};
    int rc = promc_info_set(child0, l, 1);
    promc_info_t *c;
    promc_str_t v[] = {PROMC_STR("new-child")};
    if (!rc)
        rc = promc_info_labels(info, v, 1, &c);
    worker_rc = rc;
    sem_post(&finished);
    return NULL;
}

static int info_sink(void *ud, const void *p, size_t n)
{
    (void)ud;
    (void)p;
    (void)n;
    if (sink_calls++ == 0) {
        sem_post(&go);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 10;
        if (sem_timedwait(&finished, &deadline) != 0)
            blocked = 1; /* the worker is stuck behind a lock the scrape holds */
    }
    return 0;
}

/* A scrape must not hold an info metric's lock while it calls the sink (user code, which in the
 * HTTP server writes to a client socket that may be slow): docs/threading.md promises that no
 * library mutex is held while calling user code, and promc_info_set / promc_info_labels take that
 * lock.  The info metric here writes more than the 64 KiB chunk, so the sink is called in the
 * middle of its children; from the sink, another thread calls promc_info_set and
 * promc_info_labels, which must finish while the sink waits for them. */
static void info_scrape_holds_no_lock_in_sink(void)
{
    promc_registry_t *reg;
    CHECK_RC(promc_registry_new(&reg), 0);
    const char *ln[] = {"host"};
    CHECK_RC(promc_info_new(&info, &(promc_metric_opts_t){.name = "build",
                                                          .help = "h",
                                                          .label_names = ln,
                                                          .label_count = 1,
                                                          .registry = reg}),
             0);
    promc_label_t l[] = {{PROMC_STR("version"), PROMC_STR("1.0")}};
    for (int i = 0; i < INFO_CHILDREN; i++) {
        char host[64];
        snprintf(host, sizeof host, "host-%04d-with-a-fairly-long-name-to-fill-the-chunk", i);
        promc_str_t v[] = {promc_str(host)};
        promc_info_t *c;
        CHECK_RC(promc_info_labels(info, v, 1, &c), 0);
        CHECK_RC(promc_info_set(c, l, 1), 0);
        if (i == INFO_CHILDREN - 1)
            child0 = c;
    }
    sem_init(&go, 0, 0);
    sem_init(&finished, 0, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker, NULL) == 0);
    CHECK_RC(promc_registry_write(reg, NULL, info_sink, NULL), 0);
    if (blocked)
        sem_wait(&finished); /* the scrape has let go of the lock now */
    pthread_join(t, NULL);
    CHECK(sink_calls >= 2); /* the first call came before the end of the info family */
    CHECK(!blocked);
    CHECK_RC(worker_rc, 0);
    promc_info_free(info);
    promc_registry_free(reg);
    sem_destroy(&go);
    sem_destroy(&finished);
}

static int failing_collect(void *ud, promc_emit_t *e)
{
    (void)ud;
    (void)e;
    return PROMC_ECOLLECT;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

/* The textfile writer: the file holds what a scrape writes, is world-readable, and a failed write
 * leaves the old file and no temporary behind. */
static void textfile(void)
{
    char dir[] = "/tmp/promc-textfile-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/app.prom", dir);
    promc_registry_t *r;
    REQUIRE_RC(promc_registry_new(&r), 0);
    promc_gauge_t *g;
    REQUIRE_RC(promc_gauge_new(&g, &(promc_metric_opts_t){.name = "batch_last_success_seconds",
                                                          .help = "Last success.",
                                                          .registry = r}),
               0);
    promc_gauge_set(g, 1700000000);
    CHECK_RC(promc_registry_write_textfile(r, path), 0);
    char *want = NULL;
    size_t len;
    CHECK_RC(promc_registry_write_buf(r, NULL, &want, &len), 0);
    char *got = slurp(path);
    CHECK(got && want && strcmp(got, want) == 0);
    free(got);
    promc_buf_free(want);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK(count_entries(dir) == 1);
    /* A failing scrape: the old file stays, the temporary goes. */
    promc_collector_t *col;
    REQUIRE_RC(promc_collector_new(&col, failing_collect, NULL, NULL, 0), 0);
    REQUIRE_RC(promc_registry_register_collector(r, col), 0);
    promc_gauge_set(g, 2);
    CHECK_RC(promc_registry_write_textfile(r, path), PROMC_ECOLLECT);
    got = slurp(path);
    CHECK(got && strstr(got, "batch_last_success_seconds 1.7e+09\n"));
    free(got);
    CHECK(count_entries(dir) == 1);
    promc_collector_free(col);
    /* A directory that does not exist: PROMC_ESYS naming the call. */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/app.prom", dir);
    CHECK_RC(promc_registry_write_textfile(r, bad), PROMC_ESYS);
    CHECK(strstr(promc_last_error(), "mkostemp") && strstr(promc_last_error(), "No such file"));
    CHECK_RC(promc_registry_write_textfile(r, ""), PROMC_EINVAL);
    unlink(path);
    rmdir(dir);
    promc_gauge_free(g);
    promc_registry_free(r);
}

static const check_case_t cases[] = {
    CHECK_CASE(textfile),
    CHECK_CASE(gzip_and_sink_refusal),
    CHECK_CASE(filter_long_names),
    CHECK_CASE(scrape_never_repeats_a_series),
    CHECK_CASE(info_scrape_holds_no_lock_in_sink),
};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_expose", cases, argc, argv);
}
