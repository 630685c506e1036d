/* SPDX-License-Identifier: Apache-2.0 */
/* promc_http_server_new() under memory exhaustion, the way libuv's test-loop-oom.c drives it: the
 * allocator fails after n successful allocations, for n = 0, 1, 2, ... until the start succeeds.
 * Every failed start must return PROMC_ENOMEM, free all it allocated and leave nothing
 * registered; the start that succeeds must serve.  (libevent's own allocations do not go through
 * promc's allocator and are not exercised here.) */
#define _GNU_SOURCE
#include <promc/promc.h>

#include <stdatomic.h>

#include "check.h"
#include "failalloc.h"
#include "http_client.h"

static void hello(void *ud, promc_http_request_t *req)
{
    (void)ud;
    int rc = promc_http_request_respond(req, 200, "text/plain", "hi", 2);
    (void)rc; /* the test checks the answer the client gets */
}

static void server_new_fails_cleanly(void)
{
    CHECK_RC(failalloc_install(), 0);
    promc_registry_t *reg;
    CHECK_RC(promc_registry_new(&reg), 0);
    promc_counter_t *c;
    CHECK_RC(promc_counter_new(
                 &c, &(promc_metric_opts_t){.name = "oom_c", .help = "Counter.", .registry = reg}),
             0);
    const promc_http_route_t routes[] = {{.path = "/hi", .fn = hello}};
    promc_http_opts_t opts = {
        .address = "127.0.0.1", .registry = reg, .threads = 2, .routes = routes, .route_count = 1};
    long baseline = failalloc_live();
    promc_http_server_t *s = NULL;
    long n;
    int failures = 0;
    for (n = 0; n < 100000; n++) {
        failalloc_budget(n);
        int rc = promc_http_server_new(&s, &opts);
        failalloc_off();
        if (rc == 0)
            break;
        failures++;
        CHECK_RC(rc, PROMC_ENOMEM);
        CHECK(s == NULL);
        CHECK(failalloc_live() == baseline);
        if (failalloc_live() != baseline)
            fprintf(stderr, "after failing at allocation %ld: %ld blocks not freed\n", n,
                    failalloc_live() - baseline);
        /* Nothing of ours is left in the registry. */
        char *text = NULL;
        size_t len;
        CHECK_RC(promc_registry_write_buf(reg, NULL, &text, &len), 0);
        CHECK(text && strstr(text, "promhttp_") == NULL);
        promc_buf_free(text);
    }
    printf("promc_http_server_new failed cleanly at each of its first %d allocations\n", failures);
    CHECK(failures >= 5);
    CHECK(s != NULL);
    if (s) {
        hc_response_t r;
        CHECK_RC(hc_get(promc_http_server_port(s), "/hi", "", &r), 0);
        CHECK(r.status == 200);
        hc_response_free(&r);
        CHECK_RC(hc_get(promc_http_server_port(s), "/metrics", "", &r), 0);
        CHECK(r.status == 200 && strstr(r.body, "oom_c_total 0.0") != NULL);
        hc_response_free(&r);
        /* Out of memory when a connection is accepted: it is served all the same (neither
         * counted nor drained), and stopping while it is still open frees everything. */
        failalloc_budget(0);
        int fd = hc_connect(promc_http_server_port(s));
        CHECK(fd >= 0);
        CHECK(hc_send_str(fd, "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n"));
        CHECK_RC(hc_read_response(fd, &r, 20000, false), 0);
        CHECK(r.status == 200 && r.body && strcmp(r.body, "hi") == 0);
        hc_response_free(&r);
        failalloc_off();
        /* And one accepted normally, left open too. */
        int fd2 = hc_connect(promc_http_server_port(s));
        CHECK(fd2 >= 0);
        CHECK(hc_send_str(fd2, "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n"));
        CHECK_RC(hc_read_response(fd2, &r, 20000, false), 0);
        CHECK(r.status == 200);
        hc_response_free(&r);
        CHECK_RC(hc_close_server(s, 1), 0);
        close(fd);
        close(fd2);
        /* Stopping frees everything the start allocated. */
        CHECK(failalloc_live() == baseline);
    }
    promc_counter_free(c);
    promc_registry_free(reg);
}

static const check_case_t cases[] = {CHECK_CASE(server_new_fails_cleanly)};

int main(int argc, char **argv)
{
    return CHECK_MAIN("test_http_oom", cases, argc, argv);
}
