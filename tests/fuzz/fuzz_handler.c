/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the transport-agnostic /metrics handler.  The input is split at NUL bytes into
 * method, query, Accept, Accept-Encoding and the scrape-timeout header (missing fields: absent);
 * the handler answers through a write callback that checks the contract: a head first and only
 * once, a status of 200/405/500/503, a Content-Type first among the headers, a 200's body the
 * registry's exposition as promc_registry_write() gives it for the same options (without gzip). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <promc/promc.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    int heads, status;
    bool gzip;
    char *body;
    size_t len;
} seen_t;

static int on_write(void *ud, const promc_handler_head_t *head, const void *data, size_t len)
{
    seen_t *s = ud;
    if (head) {
        if (++s->heads != 1 || s->len != 0)
            abort();
        s->status = head->status;
        if (head->status != 200 && head->status != 405 && head->status != 500 &&
            head->status != 503)
            abort();
        if (head->header_count == 0 || strcmp(head->headers[0].name, "Content-Type") != 0)
            abort();
        for (size_t i = 0; i < head->header_count; i++)
            if (strcmp(head->headers[i].name, "Content-Encoding") == 0)
                s->gzip = true;
    } else if (s->heads != 1) {
        abort();
    }
    char *b = realloc(s->body, s->len + len + 1);
    if (!b)
        abort();
    if (len)
        memcpy(b + s->len, data, len);
    s->body = b;
    s->len += len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static promc_registry_t *r;
    static promc_handler_t *h;
    if (r == NULL) {
        static const char *const ln[] = {"path"};
        promc_counter_t *c, *k;
        promc_str_t v = PROMC_STR("/a");
        if (promc_registry_new(&r) != 0 ||
            promc_counter_new(&c, &(promc_metric_opts_t){.name = "req",
                                                         .help = "R.",
                                                         .label_names = ln,
                                                         .label_count = 1,
                                                         .registry = r}) != 0 ||
            promc_counter_labels(c, &v, 1, &k) != 0 ||
            promc_handler_new(&h, &(promc_handler_opts_t){.registry = r, .no_instrument = true}))
            abort();
        promc_registry_set_created(r, false);
        promc_counter_inc(k);
    }
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    const char *f[5] = {NULL, NULL, NULL, NULL, NULL};
    size_t nf = 0;
    for (char *p = s; nf < 5 && p <= s + size; p += strlen(p) + 1)
        f[nf++] = p;
    promc_handler_request_t req = {.method = f[0],
                                   .query = f[1],
                                   .accept = f[2],
                                   .accept_encoding = f[3],
                                   .scrape_timeout = f[4]};
    seen_t seen = {0};
    if (promc_handler_serve(h, &req, on_write, &seen) != 0 || seen.heads != 1)
        abort();
    if (seen.status == 200 && !seen.gzip && (req.scrape_timeout == NULL)) {
        /* Without a filter the body is the whole exposition in the negotiated format. */
        if (req.query == NULL || strstr(req.query, "name") == NULL) {
            char *want;
            size_t want_len;
            promc_escaping_t esc;
            promc_expose_opts_t o = {.format =
                                         promc_format_negotiate_escaping(req.accept, &esc, NULL)};
            o.escaping = esc;
            if (promc_registry_write_buf(r, &o, &want, &want_len) != 0)
                abort();
            if (want_len != seen.len || memcmp(want, seen.body, want_len) != 0)
                abort();
            promc_buf_free(want);
        }
    }
    free(seen.body);
    free(s);
    return 0;
}
