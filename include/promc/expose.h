/* SPDX-License-Identifier: Apache-2.0 */
/* promc — exposition: Prometheus text 0.0.4 and OpenMetrics 1.0.0.
 *
 * Output is written in pieces to a caller-supplied sink, so a scrape of any size never needs one
 * contiguous buffer.  Formatting does not depend on the C locale. */
#ifndef PROMC_EXPOSE_H
#define PROMC_EXPOSE_H

#include <stdbool.h>
#include <promc/metric.h>
#include <promc/registry.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An exposition format (the 0.0.1, text 1.0.0 and protobuf values since 0.2).  Since: 0.1 */
typedef enum promc_format {
    PROMC_FORMAT_TEXT = 0,              /* text/plain; version=0.0.4 */
    PROMC_FORMAT_OPENMETRICS = 1,       /* application/openmetrics-text; version=1.0.0 */
    PROMC_FORMAT_OPENMETRICS_0_0_1 = 2, /* application/openmetrics-text; version=0.0.1 */
    PROMC_FORMAT_TEXT_1_0_0 = 3,        /* text/plain; version=1.0.0 (Prometheus 3) */
    /* application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
     * encoding=delimited: length-delimited MetricFamily messages (docs/protobuf.md).  A family
     * with many children is written as several consecutive messages of the same name (at most
     * 256 metrics each), which readers take as one family. */
    PROMC_FORMAT_PROTOBUF = 4
} promc_format_t;

/* How a metric or label name outside the legacy character set ([a-zA-Z_:][a-zA-Z0-9_:]*) is
 * written, as Prometheus 3 negotiates it with escaping= (client_golang's model.EscapingScheme):
 *   UNDERSCORES  each character outside the set becomes '_' (the default, and what every old
 *                scraper reads): http.server.requests -> http_server_requests
 *   ALLOW_UTF8   the name as it is, quoted: {"http.server.requests",code="200"} 1
 *   DOTS         '_' -> "__", '.' -> "_dot_", others outside the set -> "__", applied to every
 *                name, legacy or not
 *   VALUES       a legacy name unchanged; others "U__" then each character: itself if in the
 *                set, '_' -> "__", others "_<hex code point>_"
 * A sample's suffix (_total, _bucket, ...) is appended after the family name is escaped.
 * Since: 0.2 */
typedef enum promc_escaping {
    PROMC_ESCAPING_UNDERSCORES = 0,
    PROMC_ESCAPING_ALLOW_UTF8 = 1,
    PROMC_ESCAPING_DOTS = 2,
    PROMC_ESCAPING_VALUES = 3
} promc_escaping_t;

/* Chooses a format from an HTTP Accept header: the acceptable media type with the highest q-value
 * that we can write (ties: the order in the header); OpenMetrics without a version means 1.0.0;
 * protobuf only with proto=io.prometheus.client.MetricFamily and encoding=delimited (since 0.2);
 * an unknown, NULL or empty header gives PROMC_FORMAT_TEXT.
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API promc_format_t promc_format_negotiate(const char *accept);

/* As promc_format_negotiate(), and the escaping= parameter of the winning media range: set in
 * *escaping (PROMC_ESCAPING_UNDERSCORES when it has none, or one promc does not know), *asked
 * telling whether it had one.  escaping and asked may be NULL.
 * Thread-safety: any thread.  Since: 0.2 */
PROMC_API promc_format_t promc_format_negotiate_escaping(const char *accept,
                                                         promc_escaping_t *escaping, bool *asked);

/* The Content-Type for a format and escaping: that of promc_format_content_type(), with
 * "; escaping=<scheme>" appended for OpenMetrics 1.0.0, text 1.0.0 and protobuf when
 * with_escaping is set
 * (as the handler does when the Accept header named one).  Static storage.
 * Thread-safety: any thread.  Since: 0.2 */
PROMC_API const char *promc_content_type(promc_format_t f, promc_escaping_t e, bool with_escaping);

/* The escaping scheme's name as escaping= writes it ("allow-utf-8", ...).  Static storage.
 * Thread-safety: any thread.  Since: 0.2 */
PROMC_API const char *promc_escaping_name(promc_escaping_t e);

/* The Content-Type for a format, with version and charset (static storage).
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API const char *promc_format_content_type(promc_format_t f);

/* Whether an Accept-Encoding header accepts gzip (q > 0).
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API bool promc_gzip_accepted(const char *accept_encoding);

/* ---- Metrics computed at scrape time ----------------------------------------------------------
 * A gauge or counter whose value a callback returns at every scrape (client_python's
 * set_function(), client_golang's GaugeFunc and CounterFunc): for values the program already keeps
 * (a queue length, bytes a library has sent).  The callback runs on the scraping thread, possibly
 * on several at once, and must not call into the registry being scraped; a counter's callback
 * must return a value that never goes down.  Since: 0.2 */
typedef double (*promc_value_fn)(void *ud);

/* Creates the metric from opts (name, help, ns, subsystem, unit and registry as for
 * promc_gauge_new(); no label names) as a collector, registered unless opts->no_register, and sets
 * *out: free it with promc_collector_free().  Returns 0, PROMC_EINVAL (no callback, label names
 * given), PROMC_ENAME, PROMC_EUNIT, PROMC_EUTF8, PROMC_EDUPLICATE or PROMC_ENOMEM; nothing is
 * registered on failure.  Thread-safety: any thread, takes the registry lock.  Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_gauge_func_new(promc_collector_t **out,
                                                   const promc_metric_opts_t *opts,
                                                   promc_value_fn fn, void *ud);
PROMC_API PROMC_NODISCARD int promc_counter_func_new(promc_collector_t **out,
                                                     const promc_metric_opts_t *opts,
                                                     promc_value_fn fn, void *ud);

/* ---- Custom collectors' output ----------------------------------------------------------------
 * A collector's callback (<promc/registry.h>) writes its families through the emitter it is
 * handed. */

/* Starts a family.  `name` is the family name as client_python's Metric takes it (a counter without
 * _total; info without _info); `unit` may be NULL or "", and otherwise is appended to the name as
 * "_unit" unless the name already ends so, as Metric does (samples then take the full name).
 * Returns 0, PROMC_ENAME (name not [a-zA-Z_:][a-zA-Z0-9_:]*), PROMC_EUNIT (unit outside
 * [a-zA-Z0-9_:]), PROMC_EINVAL or PROMC_ENOMEM (stop then).
 * Thread-safety: the collecting thread only.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_emit_family(promc_emit_t *e, const char *name, const char *help,
                                                promc_type_t type, const char *unit);

/* Emits a sample of the current family: name = family name + suffix ("_total", "_bucket", "", ...),
 * the labels (any order; written sorted by name) and the value.  Returns 0 or a negative code:
 * PROMC_ENAME for a suffix outside [a-zA-Z0-9_:], PROMC_ELABELNAME / PROMC_ERESERVED for a bad
 * label name or one given twice, PROMC_ESTATE before promc_emit_family.
 * Thread-safety: the collecting thread only.  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_emit_sample(promc_emit_t *e, const char *suffix,
                                                const promc_label_t *labels, size_t n,
                                                double value);

/* Receives output.  Returns 0 to go on, non-zero to abort (the write returns PROMC_ESINK).
 * Since: 0.1 */
typedef int (*promc_sink_fn)(void *ud, const void *data, size_t len);

/* What promc_registry_write() writes; zero-initialised it is text 0.0.4, everything, no gzip.
 * Since: 0.1 */
typedef struct promc_expose_opts {
    promc_format_t format;
    /* name[] filtering: only samples with one of these names ("x_total", "x_bucket", ...).
     * NULL/0: everything. */
    const char *const *names;
    size_t name_count;
    bool gzip;      /* compress the output (zlib, gzip wrapper) */
    int gzip_level; /* 0: default (Z_DEFAULT_COMPRESSION is not 0; 0 here means "default") */
    promc_escaping_t escaping; /* names outside the legacy set (since 0.2); 0: underscores */
} promc_expose_opts_t;

/* Writes the registry to the sink.  Returns 0, PROMC_ESINK (only when the sink returned non-zero),
 * PROMC_ENOMEM, PROMC_ETOOBIG (an internal buffer at its cap), PROMC_EZLIB, PROMC_EINVAL (bad
 * options) or a custom collector's code.  opts NULL: text 0.0.4, everything, no gzip.
 * Thread-safety: any thread, takes the registry lock (only to copy its list: scrapes run
 * concurrently with each other and with updates).  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_registry_write(promc_registry_t *r,
                                                   const promc_expose_opts_t *opts,
                                                   promc_sink_fn sink, void *ud);

/* The same into one malloc'ed buffer (free() it, or with the allocator set by
 * promc_allocator_set() the matching free).  *out is NUL-terminated (NUL not counted in *len).
 * Returns as promc_registry_write(), except that the buffer's own failures are PROMC_ENOMEM and
 * PROMC_ETOOBIG (past 4 GiB), never PROMC_ESINK.
 * Thread-safety: any thread, takes the registry lock (as promc_registry_write()).  Since: 0.1 */
PROMC_API PROMC_NODISCARD int promc_registry_write_buf(promc_registry_t *r,
                                                       const promc_expose_opts_t *opts, char **out,
                                                       size_t *len);

/* Writes the registry in text 0.0.4 to `path` for node_exporter's textfile collector (name it
 * *.prom in the collector's directory), as client_python's write_to_textfile does, and so that a
 * reader never sees half a file: the text goes to a hidden temporary file in the same directory,
 * which is flushed to disk (fsync), made readable by all (0644, the collector often runs as
 * another user) and renamed over `path`; the directory is synced too.  On any failure the
 * temporary file is removed and `path` is left as it was.  Returns 0, PROMC_EINVAL, PROMC_ESYS
 * (the message names the system call, the file and errno's text) or what promc_registry_write()
 * returns.  Thread-safety: any thread, takes the registry lock (as promc_registry_write()).
 * Since: 0.2 */
PROMC_API PROMC_NODISCARD int promc_registry_write_textfile(promc_registry_t *r, const char *path);

/* Frees a buffer from promc_registry_write_buf(); NULL is a no-op.
 * Thread-safety: any thread.  Since: 0.1 */
PROMC_API void promc_buf_free(char *buf);

/* Formats a sample value as the exposition does ("+Inf", "-Inf", "NaN", "12.0", "1e+10",
 * "1.6849306030837066e+09") into buf (at least 32 bytes); returns its length.
 * Thread-safety: any thread, lock-free.  Since: 0.1 */
PROMC_API size_t promc_format_double(double v, char *buf);

#ifdef __cplusplus
}
#endif
#endif
