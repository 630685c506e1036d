/* SPDX-License-Identifier: Apache-2.0 */
/* cdriver: replays a conformance operation script on promc (usage: cdriver SCRIPT OUTDIR).
 *
 * The C twin of pydriver.py: the same script format (corpus/README.md), the same output files
 *     OUTDIR/text.txt         the registry in text 0.0.4
 *     OUTDIR/openmetrics.txt  the registry in OpenMetrics 1.0.0
 *     OUTDIR/errors.txt       the line number of every operation that returned an error
 *     OUTDIR/details.txt      the same lines with the error name and promc_last_error()
 * and the same exit status: 0 done, 2 malformed script, 3 the exposition failed (1: out of memory
 * or an I/O error in the driver itself).
 *
 * Every operation maps onto promc's public API as an application would use it.  An operation on
 * a labelled metric resolves the child with promc_<type>_labels() first, also when the script gives
 * no label values: promc then answers PROMC_ELABELCOUNT, the C form of client_python's refusal.
 * (promc also accepts updates through the handle of a labelled metric and never exposes them, but
 * that hot path cannot report anything by design, so there is nothing to compare.)  An operation a
 * type does not have (dec on a counter) fails after the child is resolved, as in client_python,
 * where labels() creates the child before the missing method is looked up. */
#include <promc/promc.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 256

typedef struct token {
    char *p; /* NUL-terminated copy; the token itself may contain NUL bytes */
    size_t len;
} token_t;

typedef struct var {
    char *name;
    promc_type_t type;
    promc_metric_t *m; /* NULL: the creation failed */
    void *handle;      /* the typed handle (promc_counter_t * and so on) */
} var_t;

typedef struct driver {
    const char *script;
    promc_registry_t *reg;
    var_t *vars;
    size_t nvars, capvars;
    promc_metric_t **metrics; /* every metric created, freed at the end */
    size_t nmetrics, capmetrics;
    FILE *errors, *details;
    /* the line being run */
    size_t lineno;
    token_t tok[MAX_TOKENS];
    size_t ntok, pos;
} driver_t;

/* Why the last operation failed, for details.txt.  Set by fail(). */
static char g_reason[512];

static void die_oom(void)
{
    fprintf(stderr, "cdriver: out of memory\n");
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die_oom();
    return q;
}

static _Noreturn void script_error(const driver_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static _Noreturn void script_error(const driver_t *d, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "cdriver: %s: line %zu: ", d->script, d->lineno);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* Records why an operation failed and returns -1. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_reason, sizeof(g_reason), fmt, ap);
    va_end(ap);
    return -1;
}

/* A promc result: 0 passes through; an error is recorded with its name and details. */
static int check(int rc, const char *what)
{
    if (rc == 0)
        return 0;
    return fail("%s: %s (%s) %s", what, promc_err_name(rc), promc_strerror(rc), promc_last_error());
}

/* ---- Tokenizer: the twin of opscript.tokenize() --------------------------------------------- */

/* The escapes of a quoted token and the bytes they stand for, position by position. */
static const char SIMPLE_ESCAPES[] = "\\\"ntr0";
static const char SIMPLE_VALUES[] = "\\\"\n\t\r"; /* and '\0' last, the array's terminator */

static int is_sep(char c)
{
    return c == ' ' || c == '\t';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void free_tokens(driver_t *d)
{
    for (size_t i = 0; i < d->ntok; i++)
        free(d->tok[i].p);
    d->ntok = 0;
    d->pos = 0;
}

static void push_token(driver_t *d, const char *buf, size_t len)
{
    if (d->ntok == MAX_TOKENS)
        script_error(d, "more than %d tokens", MAX_TOKENS);
    token_t *t = &d->tok[d->ntok++];
    t->p = xrealloc(NULL, len + 1);
    if (len)
        memcpy(t->p, buf, len);
    t->p[len] = '\0';
    t->len = len;
}

static void tokenize(driver_t *d, const char *line, size_t n)
{
    char *buf = xrealloc(NULL, n + 1); /* a token is never longer than its line */
    size_t i = 0;
    for (;;) {
        while (i < n && is_sep(line[i]))
            i++;
        if (i >= n)
            break;
        size_t len = 0;
        if (line[i] == '"') {
            i++;
            for (;;) {
                if (i >= n)
                    script_error(d, "unterminated string");
                char c = line[i];
                if (c == '"') {
                    i++;
                    break;
                }
                if (c != '\\') {
                    buf[len++] = c;
                    i++;
                    continue;
                }
                if (i + 1 >= n)
                    script_error(d, "backslash at end of line");
                char e = line[i + 1];
                i += 2;
                const char *simple = strchr(SIMPLE_ESCAPES, e);
                if (e != '\0' && simple) {
                    buf[len++] = SIMPLE_VALUES[simple - SIMPLE_ESCAPES];
                } else if (e == 'x') {
                    int hi = i < n ? hexval(line[i]) : -1;
                    int lo = i + 1 < n ? hexval(line[i + 1]) : -1;
                    if (hi < 0 || lo < 0)
                        script_error(d, "\\x needs two hex digits");
                    buf[len++] = (char)(hi * 16 + lo);
                    i += 2;
                } else {
                    script_error(d, "unknown escape \\%c", e);
                }
            }
            if (i < n && !is_sep(line[i]))
                script_error(d, "text right after a closing quote");
        } else {
            while (i < n && !is_sep(line[i])) {
                if (line[i] == '"')
                    script_error(d, "quote inside a bare token");
                buf[len++] = line[i++];
            }
        }
        push_token(d, buf, len);
    }
    free(buf);
}

/* ---- Reading arguments ----------------------------------------------------------------------- */

static int more(const driver_t *d)
{
    return d->pos < d->ntok;
}

static const token_t *take(driver_t *d, const char *what)
{
    if (d->pos >= d->ntok)
        script_error(d, "missing %s", what);
    return &d->tok[d->pos++];
}

static int all_digits(const token_t *t)
{
    if (t->len == 0)
        return 0;
    for (size_t i = 0; i < t->len; i++)
        if (t->p[i] < '0' || t->p[i] > '9')
            return 0;
    return 1;
}

static size_t take_count(driver_t *d, const char *what)
{
    const token_t *t = take(d, what);
    if (!all_digits(t) || t->len > 6)
        script_error(d, "%s must be a count, got '%s'", what, t->p);
    return (size_t)strtoul(t->p, NULL, 10);
}

/* A number as opscript.parse_number() reads it: what both float() and strtod() take alike. */
static double take_number(driver_t *d, const char *what)
{
    const token_t *t = take(d, what);
    int ok = t->len > 0 && strlen(t->p) == t->len;
    for (size_t i = 0; ok && i < t->len; i++) {
        unsigned char c = (unsigned char)t->p[i];
        /* no blanks, underscores, hex floats or nan(...) payloads */
        if (c <= ' ' || c >= 0x7f || c == '_' || c == 'x' || c == 'X' || c == '(')
            ok = 0;
    }
    char *end = NULL;
    double v = 0;
    if (ok) {
        errno = 0;
        v = strtod(t->p, &end);
        ok = end == t->p + t->len; /* ERANGE is fine: float() rounds to 0 or inf alike */
    }
    if (!ok)
        script_error(d, "bad %s '%s'", what, t->p);
    return v;
}

/* A token that promc takes as a C string: it must not contain NUL. */
static const char *cstr(driver_t *d, const token_t *t, const char *what)
{
    if (strlen(t->p) != t->len)
        script_error(d, "NUL byte in %s: promc takes it as a C string", what);
    return t->p;
}

static const char *take_cstr(driver_t *d, const char *what)
{
    return cstr(d, take(d, what), what);
}

/* Label values (any bytes) as promc_str_t; the array points into the tokens. */
static promc_str_t *take_values(driver_t *d, size_t *n)
{
    *n = take_count(d, "label count");
    promc_str_t *v = xrealloc(NULL, (*n ? *n : 1) * sizeof(*v));
    for (size_t i = 0; i < *n; i++) {
        const token_t *t = take(d, "label value");
        v[i] = (promc_str_t){t->p, t->len};
    }
    return v;
}

static void done(driver_t *d)
{
    if (more(d))
        script_error(d, "unexpected '%s'", d->tok[d->pos].p);
}

/* ---- Variables ------------------------------------------------------------------------------- */

static var_t *find_var(driver_t *d, const char *name)
{
    for (size_t i = 0; i < d->nvars; i++)
        if (strcmp(d->vars[i].name, name) == 0)
            return &d->vars[i];
    return NULL;
}

static var_t *bind_var(driver_t *d, const char *name, promc_type_t type)
{
    var_t *v = find_var(d, name);
    if (!v) {
        if (d->nvars == d->capvars) {
            d->capvars = d->capvars ? 2 * d->capvars : 16;
            d->vars = xrealloc(d->vars, d->capvars * sizeof(*d->vars));
        }
        v = &d->vars[d->nvars++];
        v->name = xrealloc(NULL, strlen(name) + 1);
        strcpy(v->name, name);
    }
    v->type = type;
    v->m = NULL;
    v->handle = NULL;
    return v;
}

static void keep_metric(driver_t *d, promc_metric_t *m)
{
    if (d->nmetrics == d->capmetrics) {
        d->capmetrics = d->capmetrics ? 2 * d->capmetrics : 16;
        d->metrics = xrealloc(d->metrics, d->capmetrics * sizeof(*d->metrics));
    }
    d->metrics[d->nmetrics++] = m;
}

static const char *type_name(promc_type_t t)
{
    switch (t) {
    case PROMC_COUNTER:
        return "counter";
    case PROMC_GAUGE:
        return "gauge";
    case PROMC_HISTOGRAM:
        return "histogram";
    case PROMC_SUMMARY:
        return "summary";
    case PROMC_INFO:
        return "info";
    case PROMC_ENUM:
        return "enum";
    case PROMC_UNTYPED:
        return "untyped";
    }
    return "?";
}

/* ---- Operations ------------------------------------------------------------------------------ */

static int op_create(driver_t *d, const char *verb, const char *varname)
{
    static const struct {
        const char *verb;
        promc_type_t type;
        const char *options; /* which options the type takes, as opscript.TYPE_OPTIONS */
    } kinds[] = {
        {"counter", PROMC_COUNTER, " ns sub unit labels "},
        {"gauge", PROMC_GAUGE, " ns sub unit labels "},
        {"histogram", PROMC_HISTOGRAM, " ns sub unit labels buckets "},
        {"summary", PROMC_SUMMARY, " ns sub unit labels "},
        {"info", PROMC_INFO, " ns sub unit labels "},
        {"enum", PROMC_ENUM, " ns sub unit labels states "},
    };
    size_t k = 0;
    while (strcmp(kinds[k].verb, verb) != 0)
        k++;
    promc_type_t type = kinds[k].type;

    /* Bind first: if the creation fails, later operations on the variable fail too. */
    var_t *v = bind_var(d, varname, type);

    promc_metric_opts_t o = {0};
    o.registry = d->reg;
    o.name = take_cstr(d, "name");
    o.help = take_cstr(d, "help");
    const char **labels = NULL, **states = NULL;
    double *buckets = NULL;
    static const double no_buckets[1] = {0};
    char seen[64] = " ";
    while (more(d)) {
        const char *key = take_cstr(d, "option");
        char word[32];
        snprintf(word, sizeof(word), " %s ", key);
        if (strlen(key) > 20 || !strstr(kinds[k].options, word))
            script_error(d, "option '%s' is not for %s", key, verb);
        if (strstr(seen, word))
            script_error(d, "option '%s' given twice", key);
        strncat(seen, word + 1, sizeof(seen) - strlen(seen) - 1);
        if (strcmp(key, "ns") == 0) {
            o.ns = take_cstr(d, "ns");
        } else if (strcmp(key, "sub") == 0) {
            o.subsystem = take_cstr(d, "sub");
        } else if (strcmp(key, "unit") == 0) {
            o.unit = take_cstr(d, "unit");
        } else if (strcmp(key, "labels") == 0) {
            size_t n = take_count(d, "labels count");
            labels = xrealloc(NULL, (n ? n : 1) * sizeof(*labels));
            for (size_t i = 0; i < n; i++)
                labels[i] = take_cstr(d, "label name");
            o.label_names = labels;
            o.label_count = n;
        } else if (strcmp(key, "states") == 0) {
            size_t n = take_count(d, "states count");
            states = xrealloc(NULL, (n ? n : 1) * sizeof(*states));
            for (size_t i = 0; i < n; i++)
                states[i] = take_cstr(d, "state");
            o.states = states;
            o.state_count = n;
        } else { /* buckets */
            size_t n = take_count(d, "bucket count");
            buckets = xrealloc(NULL, (n ? n : 1) * sizeof(*buckets));
            for (size_t i = 0; i < n; i++)
                buckets[i] = take_number(d, "bucket");
            /* An explicit empty list is passed as an empty array, not NULL (NULL asks for the
             * default buckets): `buckets 0` is client_python's buckets=[]. */
            o.buckets = n ? buckets : no_buckets;
            o.bucket_count = n;
        }
    }

    int rc = 0;
    void *h = NULL;
    promc_metric_t *m = NULL;
    switch (type) {
    case PROMC_COUNTER: {
        promc_counter_t *c = NULL;
        rc = promc_counter_new(&c, &o);
        h = c;
        m = rc ? NULL : promc_counter_metric(c);
        break;
    }
    case PROMC_GAUGE: {
        promc_gauge_t *g = NULL;
        rc = promc_gauge_new(&g, &o);
        h = g;
        m = rc ? NULL : promc_gauge_metric(g);
        break;
    }
    case PROMC_HISTOGRAM: {
        promc_histogram_t *hi = NULL;
        rc = promc_histogram_new(&hi, &o);
        h = hi;
        m = rc ? NULL : promc_histogram_metric(hi);
        break;
    }
    case PROMC_SUMMARY: {
        promc_summary_t *s = NULL;
        rc = promc_summary_new(&s, &o);
        h = s;
        m = rc ? NULL : promc_summary_metric(s);
        break;
    }
    case PROMC_INFO: {
        promc_info_t *i = NULL;
        rc = promc_info_new(&i, &o);
        h = i;
        m = rc ? NULL : promc_info_metric(i);
        break;
    }
    case PROMC_ENUM: {
        promc_enum_t *e = NULL;
        rc = promc_enum_new(&e, &o);
        h = e;
        m = rc ? NULL : promc_enum_metric(e);
        break;
    }
    case PROMC_UNTYPED:
        break;
    }
    free(labels);
    free(states);
    free(buckets);
    if (rc)
        return check(rc, "create");
    if (!m)
        return fail("create: success but no metric behind the handle");
    keep_metric(d, m);
    v->m = m;
    v->handle = h;
    return 0;
}

static var_t *lookup(driver_t *d, const char *varname)
{
    var_t *v = find_var(d, varname);
    if (!v)
        script_error(d, "variable '%s' was never created", varname);
    return v;
}

/* The series an update goes to: the child for these label values, or the metric itself. */
static int resolve(var_t *v, const promc_str_t *vals, size_t n, void **child)
{
    if (n == 0 && promc_metric_label_count(v->m) == 0) {
        *child = v->handle;
        return 0;
    }
    int rc = PROMC_EINVAL;
    switch (v->type) {
    case PROMC_COUNTER: {
        promc_counter_t *c = NULL;
        rc = promc_counter_labels(v->handle, vals, n, &c);
        *child = c;
        break;
    }
    case PROMC_GAUGE: {
        promc_gauge_t *g = NULL;
        rc = promc_gauge_labels(v->handle, vals, n, &g);
        *child = g;
        break;
    }
    case PROMC_HISTOGRAM: {
        promc_histogram_t *h = NULL;
        rc = promc_histogram_labels(v->handle, vals, n, &h);
        *child = h;
        break;
    }
    case PROMC_SUMMARY: {
        promc_summary_t *s = NULL;
        rc = promc_summary_labels(v->handle, vals, n, &s);
        *child = s;
        break;
    }
    case PROMC_INFO: {
        promc_info_t *i = NULL;
        rc = promc_info_labels(v->handle, vals, n, &i);
        *child = i;
        break;
    }
    case PROMC_ENUM: {
        promc_enum_t *e = NULL;
        rc = promc_enum_labels(v->handle, vals, n, &e);
        *child = e;
        break;
    }
    case PROMC_UNTYPED:
        break;
    }
    if (rc == 0 && *child == NULL)
        return fail("labels: success but no child");
    return check(rc, "labels");
}

static int op_update(driver_t *d, const char *verb, const char *varname)
{
    var_t *v = lookup(d, varname);
    size_t n = 0;
    promc_str_t *vals = take_values(d, &n);

    /* Read the rest of the line before acting, so a malformed line is a script error whether or
     * not the variable is usable. */
    int has_amount = 0;
    double amount = 0;
    promc_label_t *pairs = NULL;
    size_t npairs = 0;
    const char *state = NULL;
    if (strcmp(verb, "inc") == 0 || strcmp(verb, "dec") == 0) {
        if (more(d)) {
            has_amount = 1;
            amount = take_number(d, "amount");
        }
    } else if (strcmp(verb, "set") == 0 || strcmp(verb, "observe") == 0) {
        amount = take_number(d, "value");
    } else if (strcmp(verb, "info") == 0) {
        npairs = take_count(d, "info pair count");
        pairs = xrealloc(NULL, (npairs ? npairs : 1) * sizeof(*pairs));
        for (size_t i = 0; i < npairs; i++) {
            const token_t *key = take(d, "info key");
            const token_t *val = take(d, "info value");
            pairs[i].name = (promc_str_t){key->p, key->len};
            pairs[i].value = (promc_str_t){val->p, val->len};
        }
        for (size_t i = 0; i < npairs; i++)
            for (size_t j = 0; j < i; j++)
                if (pairs[i].name.len == pairs[j].name.len &&
                    memcmp(pairs[i].name.ptr, pairs[j].name.ptr, pairs[i].name.len) == 0)
                    script_error(d, "info key repeated (a dict cannot say that)");
    } else if (strcmp(verb, "state") == 0) {
        state = take_cstr(d, "state");
    }
    done(d);

    int rc;
    void *child = NULL;
    if (!v->m) {
        rc = fail("variable '%s': its creation failed", varname);
    } else if (strcmp(verb, "remove") == 0) {
        rc = check(promc_metric_remove(v->m, vals, n), "remove");
    } else if ((rc = resolve(v, vals, n, &child)) != 0) {
        /* recorded by resolve() */
    } else if (strcmp(verb, "inc") == 0 && v->type == PROMC_COUNTER) {
        if (has_amount)
            rc = check(promc_counter_add(child, amount), "counter add");
        else
            promc_counter_inc(child);
    } else if (strcmp(verb, "inc") == 0 && v->type == PROMC_GAUGE) {
        if (has_amount)
            promc_gauge_add(child, amount);
        else
            promc_gauge_inc(child);
    } else if (strcmp(verb, "dec") == 0 && v->type == PROMC_GAUGE) {
        if (has_amount)
            promc_gauge_sub(child, amount);
        else
            promc_gauge_dec(child);
    } else if (strcmp(verb, "set") == 0 && v->type == PROMC_GAUGE) {
        promc_gauge_set(child, amount);
    } else if (strcmp(verb, "observe") == 0 && v->type == PROMC_HISTOGRAM) {
        promc_histogram_observe(child, amount);
    } else if (strcmp(verb, "observe") == 0 && v->type == PROMC_SUMMARY) {
        promc_summary_observe(child, amount);
    } else if (strcmp(verb, "info") == 0 && v->type == PROMC_INFO) {
        rc = check(promc_info_set(child, pairs, npairs), "info set");
    } else if (strcmp(verb, "state") == 0 && v->type == PROMC_ENUM) {
        rc = check(promc_enum_set_state(child, state), "enum set state");
    } else {
        rc = fail("a %s has no '%s'", type_name(v->type), verb);
    }
    free(vals);
    free(pairs);
    return rc;
}

static int run_line(driver_t *d)
{
    const char *verb = take_cstr(d, "operation");
    const char *varname = take_cstr(d, "variable");
    static const char *const create_ops[] = {"counter", "gauge", "histogram",
                                             "summary", "info",  "enum"};
    int creating = 0;
    for (size_t i = 0; i < sizeof(create_ops) / sizeof(create_ops[0]); i++)
        if (strcmp(verb, create_ops[i]) == 0)
            creating = 1;
    /* `info VAR COUNT ...` is the update, `info VAR NAME ...` the creation. */
    if (strcmp(verb, "info") == 0 && more(d) && all_digits(&d->tok[d->pos]))
        creating = 0;
    if (creating) {
        int rc = op_create(d, verb, varname);
        done(d);
        return rc;
    }
    if (strcmp(verb, "clear") == 0 || strcmp(verb, "unregister") == 0 ||
        strcmp(verb, "register") == 0) {
        var_t *v = lookup(d, varname);
        done(d);
        if (!v->m)
            return fail("variable '%s': its creation failed", varname);
        if (strcmp(verb, "clear") == 0) {
            promc_metric_clear(v->m);
            return 0;
        }
        if (strcmp(verb, "register") == 0)
            return check(promc_registry_register(d->reg, v->m), "register");
        return check(promc_registry_unregister(d->reg, v->m), "unregister");
    }
    static const char *const update_ops[] = {"inc",  "dec",   "set",   "observe",
                                             "info", "state", "remove"};
    for (size_t i = 0; i < sizeof(update_ops) / sizeof(update_ops[0]); i++)
        if (strcmp(verb, update_ops[i]) == 0)
            return op_update(d, verb, varname);
    script_error(d, "unknown operation '%s'", verb);
}

/* ---- Main ------------------------------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = xrealloc(NULL, cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = xrealloc(buf, cap *= 2);
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cdriver: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return f;
}

static void close_out(FILE *f)
{
    if (ferror(f) || fclose(f) != 0) {
        fprintf(stderr, "cdriver: write error\n");
        exit(1);
    }
}

static int expose(driver_t *d, const char *outdir, const char *file, promc_format_t format)
{
    promc_expose_opts_t opts = {0};
    opts.format = format;
    char *buf = NULL;
    size_t len = 0;
    int rc = promc_registry_write_buf(d->reg, &opts, &buf, &len);
    if (rc) {
        fprintf(stderr, "cdriver: %s: exposition failed: %s %s\n", d->script, promc_err_name(rc),
                promc_last_error());
        return 3;
    }
    FILE *f = open_out(outdir, file);
    if (len && fwrite(buf, 1, len, f) != len) {
        fprintf(stderr, "cdriver: write error\n");
        exit(1);
    }
    close_out(f);
    promc_buf_free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cdriver SCRIPT OUTDIR\n");
        return 2;
    }
    driver_t d = {0};
    d.script = argv[1];
    const char *outdir = argv[2];
    size_t size = 0;
    char *text = read_file(d.script, &size);
    if (!text) {
        fprintf(stderr, "cdriver: cannot read %s: %s\n", d.script, strerror(errno));
        return 2;
    }
    int rc = promc_registry_new(&d.reg);
    if (rc) {
        fprintf(stderr, "cdriver: promc_registry_new: %s\n", promc_err_name(rc));
        return 1;
    }
    /* client_python 0.16 has the legacy name rules; promc's default, UTF-8 names as in
     * Prometheus 3, is tested in tests/unit/test_names.c. */
    promc_registry_set_legacy_names(d.reg, true);
    d.errors = open_out(outdir, "errors.txt");
    d.details = open_out(outdir, "details.txt");

    size_t start = 0;
    for (d.lineno = 1; start <= size; d.lineno++) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - text) : size;
        size_t first = start;
        while (first < end && is_sep(text[first]))
            first++;
        if (first < end && text[first] != '#') /* a comment is skipped whatever it contains */
            tokenize(&d, text + start, end - start);
        start = end + 1;
        if (d.ntok == 0) {
            free_tokens(&d);
            if (!nl)
                break;
            continue;
        }
        if (strcmp(d.tok[0].p, "!") == 0 && d.tok[0].len == 1) {
            d.pos = 1; /* the expected-failure mark is for compare.py */
            if (d.ntok == 1)
                script_error(&d, "'!' without an operation");
        }
        g_reason[0] = '\0';
        if (run_line(&d) != 0) {
            fprintf(d.errors, "%zu\n", d.lineno);
            fprintf(d.details, "%zu: %s\n", d.lineno, g_reason);
        }
        free_tokens(&d);
        if (!nl)
            break;
    }
    close_out(d.errors);
    close_out(d.details);
    free(text);

    int status = expose(&d, outdir, "text.txt", PROMC_FORMAT_TEXT);
    if (status == 0)
        status = expose(&d, outdir, "openmetrics.txt", PROMC_FORMAT_OPENMETRICS);

    /* Metrics first: each unregisters itself from the registry it is in. */
    for (size_t i = 0; i < d.nmetrics; i++)
        promc_metric_free(d.metrics[i]);
    promc_registry_free(d.reg);
    for (size_t i = 0; i < d.nvars; i++)
        free(d.vars[i].name);
    free(d.vars);
    free(d.metrics);
    return status;
}
