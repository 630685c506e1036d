/* SPDX-License-Identifier: Apache-2.0 */
/* example-001: the tutorial's Python web service, in C on promc.
 *
 *   GET /hello  -> 200 "Hello World", counts hello_worlds_requests_total; then one request in five
 *                  (--fail-rate) "fails" after answering and counts hello_world_exceptions_total
 *   other paths -> 404, counts wrong_requests_total
 *   :8000/metrics (and /healthz, /readyz) from promc's HTTP server with the process collector.
 *
 * Stopping (SIGTERM/SIGINT): /readyz turns 503; both ports go on serving for --shutdown-delay
 * seconds (0 by default); then the /hello listeners close and requests in flight get up to
 * --drain-seconds, and the metrics port stops the same way with the time left.
 *
 * Both ports are promc HTTP servers: the /hello one with a route and a fallback handler and no
 * built-in endpoints.  That keeps this program on <promc/...> alone and gives /hello the same
 * thread-per-core SO_REUSEPORT event loops, connection limits and draining as /metrics.
 *
 * Whether a /hello request fails is a hash of (seed, the request's sequence number from one
 * atomic counter), so a given seed fails the same requests in the same order however many
 * threads serve them.  Signals are taken synchronously: SIGTERM and SIGINT are blocked in every
 * thread and the main thread waits for them with sigwait(). */
#define _GNU_SOURCE /* getrandom(), sigwait(), getopt_long() under -std=c11 */
#include <promc/promc.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define PROG "example-001"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
static const char *const level_names[] = {"error", "warn", "info", "debug"};

typedef struct config {
    unsigned port;
    unsigned metrics_port;
    const char *bind;
    double fail_rate;
    uint64_t seed;
    bool seeded;
    unsigned threads;
    bool sched_batch;
    int log_level;
    double drain_seconds;
    double shutdown_delay;
    const char *web_config_file; /* NULL: plain HTTP on the metrics port */
} config_t;

static config_t cfg;
static promc_counter_t *hello_requests, *wrong_requests, *hello_exceptions;
static atomic_uint_fast64_t hello_seq;         /* /hello requests answered 200, in order */
static atomic_uint_fast64_t failures;          /* failures decided */
static atomic_uint_fast64_t failures_unlogged; /* since the last failure line */
static _Atomic int64_t last_failure_log_sec = -1;

/* ---- logging ------------------------------------------------------------------------------- */

static void logf_(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(int level, const char *fmt, ...)
{
    if (level > cfg.log_level)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, PROG ": %s: %s\n", level_names[level], line);
}

/* The metrics server's own lines (its web configuration re-read, or failing to). */
static void log_server_line(void *ud, bool error, const char *message)
{
    (void)ud;
    logf_(error ? LOG_ERROR : LOG_INFO, "%s", message);
}

static int64_t mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* At most one line a second; the lines in between are counted and the count goes on the next. */
static void log_failure(uint64_t seq)
{
    int64_t now = mono_seconds();
    int64_t last = atomic_load_explicit(&last_failure_log_sec, memory_order_relaxed);
    if (now != last && atomic_compare_exchange_strong(&last_failure_log_sec, &last, now)) {
        uint64_t skipped = atomic_exchange(&failures_unlogged, 0);
        if (skipped)
            logf_(LOG_ERROR,
                  "exception serving /hello (request %" PRIu64 "); %" PRIu64
                  " more since the last line were not logged",
                  seq + 1, skipped);
        else
            logf_(LOG_ERROR, "exception serving /hello (request %" PRIu64 ")", seq + 1);
    } else {
        atomic_fetch_add(&failures_unlogged, 1);
    }
}

/* ---- the /hello server --------------------------------------------------------------------- */

/* splitmix64's finaliser: a bijection of 64-bit integers with good avalanche. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* The tutorial's `if random.random() < 0.2: raise Exception`: 0, or -1 for a failure. */
static int after_hello(uint64_t seq)
{
    if (cfg.fail_rate <= 0)
        return 0;
    double u = (double)(mix64(cfg.seed ^ mix64(seq + 0x9e3779b97f4a7c15ULL)) >> 11) * 0x1.0p-53;
    return u < cfg.fail_rate ? -1 : 0;
}

/* Answers with a plain-text body.  A failure leaves nothing to do: the server has answered 500
 * itself (no memory for the body) or sent the response without one of its headers. */
static void respond(promc_http_request_t *req, int status, const char *body, size_t len)
{
    int rc = promc_http_request_respond(req, status, "text/plain; charset=utf-8", body, len);
    (void)rc;
}

static void on_hello(void *ud, promc_http_request_t *req)
{
    (void)ud;
    const char *method = promc_http_request_method(req);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        promc_counter_inc(wrong_requests);
        int rc = promc_http_request_set_header(req, "Allow", "GET, HEAD");
        (void)rc; /* out of memory: the 405 goes out without it */
        respond(req, 405, "Method Not Allowed\n", 19);
        return;
    }
    promc_counter_inc(hello_requests);
    respond(req, 200, "Hello World", 11);

    /* After the answer, as in the tutorial: the failure does not touch the response. */
    uint64_t seq = atomic_fetch_add_explicit(&hello_seq, 1, memory_order_relaxed);
    if (promc_counter_count_errors(hello_exceptions, after_hello(seq)) < 0) {
        atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
        log_failure(seq);
    }
    if (cfg.log_level >= LOG_DEBUG)
        logf_(LOG_DEBUG, "%s /hello 200", method);
}

static void on_other(void *ud, promc_http_request_t *req)
{
    (void)ud;
    promc_counter_inc(wrong_requests);
    if (cfg.log_level >= LOG_DEBUG) /* before answering, while the path is sure to be valid */
        logf_(LOG_DEBUG, "%s %s 404", promc_http_request_method(req), promc_http_request_path(req));
    respond(req, 404, "Not Found\n", 10);
}

/* ---- command line -------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " PROG " [options]\n"
            "The tutorial's web service: GET /hello answers \"Hello World\"; Prometheus metrics\n"
            "are on another port at /metrics (also /healthz and /readyz).\n"
            "\n"
            "  -p, --port N            /hello port (EXAMPLE001_PORT; default 8001; 0: any free)\n"
            "      --metrics-port N    /metrics port (EXAMPLE001_METRICS_PORT; default 8000)\n"
            "      --bind ADDR         numeric address of both ports, not a host name\n"
            "                          (EXAMPLE001_BIND; default 0.0.0.0; :: for IPv6)\n"
            "      --fail-rate F       share of /hello requests that fail after answering, 0..1\n"
            "                          (EXAMPLE001_FAIL_RATE; default 0.2)\n"
            "      --seed N            seed of the failure sequence (EXAMPLE001_SEED; default "
            "random)\n"
            "      --threads N         event loops serving /hello (EXAMPLE001_THREADS; default:\n"
            "                          the number of online CPUs)\n"
            "      --scheduler P       batch or normal: the Linux policy of the /hello threads\n"
            "                          (EXAMPLE001_SCHEDULER; default batch: under load they\n"
            "                          handle more requests per wake-up, see docs/PERFORMANCE.md)\n"
            "      --log-level L       error, warn, info or debug (EXAMPLE001_LOG_LEVEL; info)\n"
            "      --shutdown-delay S  after SIGTERM/SIGINT, /readyz answers 503 while both\n"
            "                          ports keep serving for S seconds before the drain\n"
            "                          (EXAMPLE001_SHUTDOWN_DELAY; default 0; 5 suits\n"
            "                          Kubernetes, which takes a few seconds to stop routing)\n"
            "      --drain-seconds S   time in-flight requests get once the listeners close\n"
            "                          (EXAMPLE001_DRAIN_SECONDS; default 5)\n"
            "      --web-config-file F the exporter-toolkit web configuration of the metrics\n"
            "                          port: TLS, client certificates, basic auth\n"
            "                          (EXAMPLE001_WEB_CONFIG_FILE; default: none, plain HTTP)\n"
            "  -h, --help              this text\n");
}

/* Each parser returns true and sets *out, or prints one line naming `what` and returns false. */
static bool bad(const char *what, const char *value, const char *want)
{
    fprintf(stderr, PROG ": %s: invalid value '%s' (%s)\n", what, value, want);
    return false;
}

static bool parse_uint(const char *what, const char *s, unsigned long long max,
                       unsigned long long *out)
{
    char *end;
    errno = 0;
    if (s[0] < '0' || s[0] > '9')
        return bad(what, s, "want a whole number");
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno != 0 || v > max) {
        char want[64];
        snprintf(want, sizeof want, "want a whole number up to %llu", max);
        return bad(what, s, want);
    }
    *out = v;
    return true;
}

static bool parse_port(const char *what, const char *s, unsigned *out)
{
    unsigned long long v;
    if (!parse_uint(what, s, 65535, &v))
        return false;
    *out = (unsigned)v;
    return true;
}

static bool parse_double(const char *what, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi) {
        char want[64];
        snprintf(want, sizeof want, "want a number from %g to %g", lo, hi);
        return bad(what, s, want);
    }
    *out = v;
    return true;
}

static bool parse_level(const char *what, const char *s, int *out)
{
    for (int i = 0; i <= LOG_DEBUG; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = i;
            return true;
        }
    return bad(what, s, "want error, warn, info or debug");
}

static bool parse_scheduler(const char *what, const char *s, bool *batch)
{
    if (strcmp(s, "batch") == 0 || strcmp(s, "normal") == 0) {
        *batch = s[0] == 'b';
        return true;
    }
    return bad(what, s, "want batch or normal");
}

enum opt_id {
    OPT_PORT = 'p',
    OPT_HELP = 'h',
    OPT_METRICS_PORT = 256,
    OPT_BIND,
    OPT_FAIL_RATE,
    OPT_SEED,
    OPT_THREADS,
    OPT_SCHEDULER,
    OPT_LOG_LEVEL,
    OPT_DRAIN,
    OPT_SHUTDOWN_DELAY,
    OPT_WEB_CONFIG
};

static const struct option long_opts[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"metrics-port", required_argument, NULL, OPT_METRICS_PORT},
    {"bind", required_argument, NULL, OPT_BIND},
    {"fail-rate", required_argument, NULL, OPT_FAIL_RATE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"scheduler", required_argument, NULL, OPT_SCHEDULER},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"drain-seconds", required_argument, NULL, OPT_DRAIN},
    {"shutdown-delay", required_argument, NULL, OPT_SHUTDOWN_DELAY},
    {"web-config-file", required_argument, NULL, OPT_WEB_CONFIG},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* One setting from a flag or its environment variable. */
static bool apply(int id, const char *what, const char *v)
{
    unsigned long long u;
    switch (id) {
    case OPT_PORT:
        return parse_port(what, v, &cfg.port);
    case OPT_METRICS_PORT:
        return parse_port(what, v, &cfg.metrics_port);
    case OPT_BIND:
        if (v[0] == '\0')
            return bad(what, v, "want an address");
        cfg.bind = v;
        return true;
    case OPT_FAIL_RATE:
        return parse_double(what, v, 0, 1, &cfg.fail_rate);
    case OPT_SEED:
        if (!parse_uint(what, v, UINT64_MAX, &u))
            return false;
        cfg.seed = u;
        cfg.seeded = true;
        return true;
    case OPT_THREADS:
        if (!parse_uint(what, v, 256, &u))
            return false;
        if (u == 0)
            return bad(what, v, "want 1 to 256");
        cfg.threads = (unsigned)u;
        return true;
    case OPT_SCHEDULER:
        return parse_scheduler(what, v, &cfg.sched_batch);
    case OPT_LOG_LEVEL:
        return parse_level(what, v, &cfg.log_level);
    case OPT_DRAIN:
        return parse_double(what, v, 0, 3600, &cfg.drain_seconds);
    case OPT_SHUTDOWN_DELAY:
        return parse_double(what, v, 0, 3600, &cfg.shutdown_delay);
    case OPT_WEB_CONFIG:
        cfg.web_config_file = v[0] ? v : NULL; /* "": none, so that the variable can be unset */
        return true;
    default:
        return false;
    }
}

/* Returns -1 to go on, or the exit status (0 after --help, 2 for a bad flag). */
static int parse_args(int argc, char **argv)
{
    static const struct {
        int id;
        const char *env;
    } envs[] = {
        {OPT_PORT, "EXAMPLE001_PORT"},
        {OPT_METRICS_PORT, "EXAMPLE001_METRICS_PORT"},
        {OPT_BIND, "EXAMPLE001_BIND"},
        {OPT_FAIL_RATE, "EXAMPLE001_FAIL_RATE"},
        {OPT_SEED, "EXAMPLE001_SEED"},
        {OPT_THREADS, "EXAMPLE001_THREADS"},
        {OPT_SCHEDULER, "EXAMPLE001_SCHEDULER"},
        {OPT_LOG_LEVEL, "EXAMPLE001_LOG_LEVEL"},
        {OPT_DRAIN, "EXAMPLE001_DRAIN_SECONDS"},
        {OPT_SHUTDOWN_DELAY, "EXAMPLE001_SHUTDOWN_DELAY"},
        {OPT_WEB_CONFIG, "EXAMPLE001_WEB_CONFIG_FILE"},
    };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg = (config_t){
        .port = 8001,
        .metrics_port = 8000,
        .bind = "0.0.0.0",
        .fail_rate = 0.2,
        .threads = ncpu < 1     ? 1
                   : ncpu > 256 ? 256
                                : (unsigned)ncpu,
        .sched_batch = true,
        .log_level = LOG_INFO,
        .drain_seconds = 5,
    };
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        const char *v = getenv(envs[i].env);
        if (v && !apply(envs[i].id, envs[i].env, v))
            return 2;
    }
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":p:h", long_opts, NULL)) != -1) {
        char what[48];
        if (c == OPT_HELP) {
            usage(stdout);
            return 0;
        }
        if (c == '?' || c == ':') {
            const char *arg = argv[optind - 1];
            fprintf(stderr, PROG ": %s option '%s' (see --help)\n",
                    c == ':' ? "missing value for" : "unknown", arg);
            return 2;
        }
        const char *name = "?";
        for (const struct option *o = long_opts; o->name; o++)
            if (o->val == c)
                name = o->name;
        snprintf(what, sizeof what, "--%s", name);
        if (!apply(c, what, optarg))
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (!cfg.seeded) {
        uint64_t s;
        if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            s = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid());
        }
        cfg.seed = s;
    }
    return -1;
}

/* ---- main ---------------------------------------------------------------------------------- */

static int new_counter(promc_counter_t **c, const char *name, const char *help)
{
    int rc = promc_counter_new(c, &(promc_metric_opts_t){.name = name, .help = help});
    if (rc != 0)
        fprintf(stderr, PROG ": cannot create the counter %s: %s\n", name, promc_strerror(rc));
    return rc;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The shutdown delay: both servers go on serving (only /readyz has turned 503) so that a load
 * balancer polling readiness, or Kubernetes updating its endpoints, stops sending new
 * connections before the listeners close, and Prometheus can scrape the last counts.  Returns
 * early when a second SIGTERM/SIGINT arrives: whoever sends it wants the process gone now. */
static void shutdown_delay(const sigset_t *stop_signals, double seconds)
{
    double end = now_seconds() + seconds;
    for (;;) {
        double left = end - now_seconds();
        if (left <= 0)
            return;
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        int sig = sigtimedwait(stop_signals, NULL, &ts);
        if (sig > 0) {
            logf_(LOG_INFO, "%s during the shutdown delay: draining now",
                  sig == SIGINT ? "SIGINT" : "SIGTERM");
            return;
        }
        /* EAGAIN: the time is up (checked above); EINTR: another signal, go on waiting. */
    }
}

int main(int argc, char **argv)
{
    int st = parse_args(argc, argv);
    if (st >= 0)
        return st;

    /* Blocked before any thread exists, so every thread inherits the mask and sigwait() below
     * is the only place these signals are taken. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    /* A closed stdout or stderr pipe must not kill the process while it reports. */
    signal(SIGPIPE, SIG_IGN);

    /* The tutorial's three counters, in its order, in the default registry. */
    if (new_counter(&hello_requests, "hello_worlds_requests", "Hello Worlds requested.") ||
        new_counter(&wrong_requests, "wrong_requests", "Wrong Requests received.") ||
        new_counter(&hello_exceptions, "hello_world_exceptions", "Exceptions serving Hello World."))
        return 1;
    promc_collector_t *process = NULL;
    int rc = promc_process_collector_register(NULL, &process);
    if (rc != 0) {
        fprintf(stderr, PROG ": cannot register the process collector: %s\n", promc_strerror(rc));
        return 1;
    }

    promc_http_server_t *metrics = NULL, *hello = NULL;
    rc = promc_http_server_new(&metrics, &(promc_http_opts_t){
                                             .address = cfg.bind,
                                             .port = cfg.metrics_port,
                                             .start_unready = true,
                                             .web_config_file = cfg.web_config_file,
                                             .log_fn = log_server_line,
                                         });
    if (rc == PROMC_ECONFIG) {
        fprintf(stderr, PROG ": %s\n", promc_last_error());
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, PROG ": cannot serve metrics on %s port %u: %s (%s)\n", cfg.bind,
                cfg.metrics_port, promc_strerror(rc), promc_last_error());
        return 1;
    }
    const promc_http_route_t routes[] = {
        {.path = "/hello", .fn = on_hello},
        {.path = NULL, .fn = on_other},
    };
    rc = promc_http_server_new(&hello, &(promc_http_opts_t){
                                           .address = cfg.bind,
                                           .port = cfg.port,
                                           .no_builtin = true,
                                           .routes = routes,
                                           .route_count = 2,
                                           .threads = cfg.threads,
                                           .sched_batch = cfg.sched_batch,
                                       });
    if (rc != 0) {
        char detail[256];
        snprintf(detail, sizeof detail, "%s", promc_last_error());
        promc_http_server_free(metrics);
        fprintf(stderr, PROG ": cannot serve /hello on %s port %u: %s (%s)\n", cfg.bind, cfg.port,
                promc_strerror(rc), detail);
        return 1;
    }

    printf("Prometheus metrics available on port: %u /metrics\n", promc_http_server_port(metrics));
    printf("HTTP server available on port %u\n", promc_http_server_port(hello));
    fflush(stdout);
    logf_(LOG_INFO,
          "serving /hello on %s:%u with %u threads (%s scheduling), /metrics on %s:%u; "
          "fail rate %g",
          cfg.bind, promc_http_server_port(hello), cfg.threads,
          cfg.sched_batch ? "batch" : "normal", cfg.bind, promc_http_server_port(metrics),
          cfg.fail_rate);
    promc_http_server_set_ready(metrics, true);

    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0) {
    }

    /* /readyz turns 503 at once; both ports keep serving for the shutdown delay; then /hello
     * drains first, and /metrics gets what time is left. */
    promc_http_server_set_ready(metrics, false);
    if (cfg.shutdown_delay > 0) {
        logf_(LOG_INFO, "%s: not ready; serving for %g s more, then draining for up to %g s",
              sig == SIGINT ? "SIGINT" : "SIGTERM", cfg.shutdown_delay, cfg.drain_seconds);
        shutdown_delay(&stop_signals, cfg.shutdown_delay);
    } else {
        logf_(LOG_INFO, "%s: draining for up to %g s", sig == SIGINT ? "SIGINT" : "SIGTERM",
              cfg.drain_seconds);
    }
    double t0 = now_seconds();
    /* Stopping fails only from a server's own thread, which this is not. */
    if (promc_http_server_stop(hello, cfg.drain_seconds) == 0)
        promc_http_server_free(hello);
    double left = cfg.drain_seconds - (now_seconds() - t0);
    if (promc_http_server_stop(metrics, left > 0 ? left : 0) == 0)
        promc_http_server_free(metrics);

    uint64_t unlogged = atomic_load(&failures_unlogged);
    if (unlogged)
        logf_(LOG_ERROR, "%" PRIu64 " more exceptions serving /hello were not logged", unlogged);
    fprintf(stderr, PROG ": stopped: hello=%.0f wrong=%.0f failures=%" PRIu64 "\n",
            promc_counter_value(hello_requests), promc_counter_value(wrong_requests),
            (uint64_t)atomic_load(&failures));
    promc_collector_free(process);
    promc_counter_free(hello_requests);
    promc_counter_free(wrong_requests);
    promc_counter_free(hello_exceptions);
    return 0;
}
