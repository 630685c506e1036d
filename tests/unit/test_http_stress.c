/* SPDX-License-Identifier: Apache-2.0 */
/* Concurrent scrapes over several server threads while other threads update the metrics, then a
 * stop with clients still connected (label: stress; run under TSan).  Every scrape must answer 200
 * with the counter never going down, and the final scrape must show every update.  Then servers
 * start and stop on several threads at once over one registry. */
#define _GNU_SOURCE
#include <promc/promc.h>

#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "http_client.h"

enum { UPDATERS = 2, SCRAPERS = 4, UPDATES = 200000 };
#define RUN_SECONDS 2.0

static promc_counter_t *hits;
static promc_gauge_t *level;
static promc_histogram_t *lat;
static unsigned port;
static atomic_bool stop_scraping, server_stopping;
static atomic_int scrape_ok, scrape_bad;

static void *updater(void *arg)
{
    (void)arg;
    for (int i = 0; i < UPDATES; i++) {
        promc_counter_inc(hits);
        promc_gauge_set(level, i);
        promc_histogram_observe(lat, (i % 100) / 100.0);
    }
    return NULL;
}

static double counter_in(const char *body)
{
    const char *p = body ? strstr(body, "\nstress_hits_total ") : NULL; /* not the HELP line */
    return p ? strtod(p + 19, NULL) : -1;
}

static void *scraper(void *arg)
{
    int id = (int)(intptr_t)arg;
    static const char *const variants[] = {
        "",
        "Accept-Encoding: gzip\r\n",
        "Accept: application/openmetrics-text; version=1.0.0\r\n",
    };
    double last = 0;
    int fd = -1, n = 0;
    while (!atomic_load(&stop_scraping)) {
        if (fd < 0)
            fd = hc_connect(port);
        char raw[512];
        const char *path = (n % 4 == 3) ? "/metrics?name[]=stress_hits_total" : "/metrics";
        snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n", path,
                 variants[(n + id) % 3]);
        hc_response_t r;
        if (fd < 0 || !hc_send_str(fd, raw) || hc_read_response(fd, &r, 30000, false) != 0) {
            if (atomic_load(&server_stopping))
                break; /* expected from here on */
            atomic_fetch_add(&scrape_bad, 1);
            if (fd >= 0)
                close(fd);
            fd = -1;
            continue;
        }
        char *text = r.body;
        size_t len = r.body_len;
        char enc[32];
        char *unz = NULL;
        if (hc_header(&r, "Content-Encoding", enc, sizeof enc)) {
            unz = hc_gunzip(r.body, r.body_len, &len);
            text = unz;
        }
        double v = counter_in(text);
        if (r.status == 200 && v >= last) {
            atomic_fetch_add(&scrape_ok, 1);
            last = v;
        } else {
            fprintf(stderr, "scraper %d: status %d, counter %g after %g\n", id, r.status, v, last);
            atomic_fetch_add(&scrape_bad, 1);
        }
        free(unz);
        hc_response_free(&r);
        if (++n % 5 == 0) { /* now and then a new connection */
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* Servers starting and stopping at once on one registry share its promhttp_* metrics. */
enum { CYCLERS = 3, CYCLES = 15 };
static promc_registry_t *cycle_reg;
static atomic_int cycle_bad;

static void *cycler(void *arg)
{
    (void)arg;
    for (int i = 0; i < CYCLES; i++) {
        promc_http_server_t *s = NULL;
        int rc = promc_http_server_new(
            &s, &(promc_http_opts_t){.address = "127.0.0.1", .registry = cycle_reg});
        if (rc != 0) {
            fprintf(stderr, "cycle start: %s (%s)\n", promc_strerror(rc), promc_last_error());
            atomic_fetch_add(&cycle_bad, 1);
            continue;
        }
        hc_response_t r;
        if (hc_get(promc_http_server_port(s), "/metrics", "", &r) != 0 || r.status != 200 ||
            !strstr(r.body, "promhttp_metric_handler_requests_in_flight"))
            atomic_fetch_add(&cycle_bad, 1);
        hc_response_free(&r);
        if (hc_close_server(s, 1) != 0)
            atomic_fetch_add(&cycle_bad, 1);
    }
    return NULL;
}

static void start_stop_cycles(void)
{
    CHECK_RC(promc_registry_new(&cycle_reg), 0);
    pthread_t th[CYCLERS];
    for (int i = 0; i < CYCLERS; i++)
        pthread_create(&th[i], NULL, cycler, NULL);
    for (int i = 0; i < CYCLERS; i++)
        pthread_join(th[i], NULL);
    CHECK(atomic_load(&cycle_bad) == 0);
    char *text = NULL;
    size_t len;
    CHECK_RC(promc_registry_write_buf(cycle_reg, NULL, &text, &len), 0);
    CHECK(text && strstr(text, "promhttp_") == NULL); /* the last stop took them away */
    promc_buf_free(text);
    promc_registry_free(cycle_reg);
}

static void scrapes_updates_and_stop(void)
{
    promc_registry_t *reg;
    CHECK_RC(promc_registry_new(&reg), 0);
    CHECK_RC(promc_counter_new(&hits, &(promc_metric_opts_t){.name = "stress_hits",
                                                             .help = "Updates.",
                                                             .registry = reg}),
             0);
    CHECK_RC(promc_gauge_new(
                 &level,
                 &(promc_metric_opts_t){.name = "stress_level", .help = "Level.", .registry = reg}),
             0);
    CHECK_RC(promc_histogram_new(&lat, &(promc_metric_opts_t){.name = "stress_latency_seconds",
                                                              .help = "Latency.",
                                                              .registry = reg}),
             0);
    promc_collector_t *proc = NULL;
    CHECK_RC(promc_process_collector_register(reg, &proc), 0);
    promc_http_server_t *s = NULL;
    CHECK_RC(promc_http_server_new(&s, &(promc_http_opts_t){.address = "127.0.0.1",
                                                            .registry = reg,
                                                            .threads = 2,
                                                            .max_in_flight = 64}),
             0);
    if (s == NULL)
        return;
    port = promc_http_server_port(s);

    pthread_t up[UPDATERS], sc[SCRAPERS];
    for (int i = 0; i < SCRAPERS; i++)
        pthread_create(&sc[i], NULL, scraper, (void *)(intptr_t)i);
    for (int i = 0; i < UPDATERS; i++)
        pthread_create(&up[i], NULL, updater, NULL);
    for (int i = 0; i < UPDATERS; i++)
        pthread_join(up[i], NULL);
    double until = hc_now() + RUN_SECONDS;
    while (hc_now() < until)
        hc_sleep_ms(20);

    /* The final count is exact once the updaters are done. */
    hc_response_t r;
    CHECK_RC(hc_get(port, "/metrics?name[]=stress_hits_total", "", &r), 0);
    CHECK(counter_in(r.body) == (double)UPDATERS * UPDATES);
    hc_response_free(&r);

    /* Stop while the scrapers are still at it: they see closed connections, nothing hangs. */
    atomic_store(&server_stopping, true);
    CHECK_RC(hc_close_server(s, 2), 0);
    atomic_store(&stop_scraping, true);
    for (int i = 0; i < SCRAPERS; i++)
        pthread_join(sc[i], NULL);
    printf("scrapes: %d answered 200, %d failed before the stop\n", atomic_load(&scrape_ok),
           atomic_load(&scrape_bad));
    CHECK(atomic_load(&scrape_ok) >= SCRAPERS * 5);
    CHECK(atomic_load(&scrape_bad) == 0);

    promc_collector_free(proc);
    promc_counter_free(hits);
    promc_gauge_free(level);
    promc_histogram_free(lat);
    promc_registry_free(reg);
}

static const check_case_t cases[] = {CHECK_CASE(scrapes_updates_and_stop),
                                     CHECK_CASE(start_stop_cycles)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_http_stress", cases, argc, argv);
}
