/* SPDX-License-Identifier: Apache-2.0 */
/* /metrics from a plain blocking accept() loop, one request per connection, the response
 * streamed and ended by closing the connection (HTTP/1.0 style): the least a program can have.
 * Usage: handler_socket [PORT]  (default 8000; serves until killed) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <promc/promc.h>

/* ---- the glue: 9 statements (12 lines as formatted) ---- */
static int on_write(void *fd, const promc_handler_head_t *head, const void *data, size_t len)
{
    char hd[512];
    int n = 0;
    if (head) {
        n = snprintf(hd, sizeof hd, "HTTP/1.0 %d %s\r\nConnection: close\r\n", head->status,
                     head->status == 200 ? "OK" : "Error");
        for (size_t i = 0; i < head->header_count; i++)
            n += snprintf(hd + n, sizeof hd - (size_t)n, "%s: %s\r\n", head->headers[i].name,
                          head->headers[i].value);
        n += snprintf(hd + n, sizeof hd - (size_t)n,
                      head->complete ? "Content-Length: %zu\r\n\r\n" : "\r\n", len);
    }
    return (n && write(*(int *)fd, hd, (size_t)n) != n) ||
           (len && write(*(int *)fd, data, len) != (ssize_t)len);
}
/* ---- end of the glue ---- */

int main(int argc, char **argv)
{
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 8000;
    promc_counter_t *events;
    promc_handler_t *handler;
    if (promc_counter_new(&events, &(promc_metric_opts_t){.name = "demo_events",
                                                          .help = "Events handled."}) != 0 ||
        promc_handler_new(&handler, NULL) != 0) {
        fprintf(stderr, "handler_socket: %s\n", promc_last_error());
        return 1;
    }
    promc_counter_add(events, 42);
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 64) != 0) {
        perror("handler_socket: bind");
        return 1;
    }
    printf("handler_socket: serving http://127.0.0.1:%u/metrics\n", port);
    fflush(stdout);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        char req[8192];
        size_t got = 0;
        ssize_t r;
        while (fd >= 0 && got < sizeof req - 1 &&
               (r = read(fd, req + got, sizeof req - 1 - got)) > 0) {
            got += (size_t)r;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        if (fd < 0 || got == 0 || !strstr(req, "\r\n\r\n")) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        /* The program's own small HTTP parser, not glue: "GET /metrics?name[]=x HTTP/1.1",
         * then the headers it wants, each line cut in place. */
        char *accept = NULL, *accept_encoding = NULL, *scrape_timeout = NULL;
        char *line = strstr(req, "\r\n"), *next;
        *line = '\0';
        for (; line[2] != '\r' && (next = strstr(line + 2, "\r\n")) != NULL; line = next) {
            char *name = line + 2, *v = strchr(name, ':');
            *next = '\0';
            if (v == NULL)
                continue;
            for (*v++ = '\0'; *v == ' ';)
                v++;
            if (strcasecmp(name, "Accept") == 0)
                accept = v;
            else if (strcasecmp(name, "Accept-Encoding") == 0)
                accept_encoding = v;
            else if (strcasecmp(name, "X-Prometheus-Scrape-Timeout-Seconds") == 0)
                scrape_timeout = v;
        }
        char *target = strchr(req, ' '), *q;
        if (target == NULL || strchr(target + 1, ' ') == NULL) {
            close(fd);
            continue;
        }
        *target++ = '\0';
        *strchr(target, ' ') = '\0';
        if ((q = strchr(target, '?')) != NULL)
            *q++ = '\0';
        promc_handler_request_t hr = {.method = req,
                                      .path = target,
                                      .query = q,
                                      .accept = accept,
                                      .accept_encoding = accept_encoding,
                                      .scrape_timeout = scrape_timeout};
        if (strcmp(target, "/metrics") == 0 &&
            promc_handler_serve(handler, &hr, on_write, &fd) != 0)
            fprintf(stderr, "scrape: %s\n", promc_last_error()); /* a streamed body cut short */
        else if (strcmp(target, "/metrics") != 0)
            (void)!write(fd, "HTTP/1.0 404 Not Found\r\nConnection: close\r\n\r\n", 45);
        close(fd);
    }
}
