/* SPDX-License-Identifier: Apache-2.0 */
/* Routing: the route table (the application's routes, then the built-in endpoints the lifecycle
 * adds, then the fallback) and the dispatch of each request to the first route whose path is the
 * request's.  Nothing here knows what any route serves. */
#include "http_internal.h"

#include <string.h>

#include <event2/http.h>
#include <event2/http_struct.h> /* the request's HTTP version */

#include "alloc.h"
#include "err.h"

void promc__http_on_request(struct evhttp_request *ev, void *arg)
{
    promc__http_worker_t *w = arg;
    promc_http_server_t *srv = w->srv;
    promc__http_request_arrived(w, ev);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
    promc_http_request_t r;
    r.ev = ev;
    r.srv = srv;
    r.w = w;
    r.path = uri ? evhttp_uri_get_path(uri) : NULL;
    r.query = uri ? evhttp_uri_get_query(uri) : NULL;
    r.method = (int)evhttp_request_get_command(ev);
    r.answered = false;
    if (r.path == NULL || r.path[0] == '\0')
        r.path = "/";
    /* evhttp takes any "HTTP/d.d" and answers in the same version: "HTTP/0.0 200 OK" for a
     * request line that says HTTP/0.0, "HTTP/1.9 200 OK" for 1.9, "HTTP/1.-1" for 1.-1 (found by
     * fuzz_http).  A later 1.x is answered as 1.1, the highest we speak (RFC 9110, 2.5); another
     * major version gets a 505 in HTTP/1.0, which closes the connection after it. */
    if (ev->major == 1 && ev->minor != 0)
        ev->minor = 1; /* 1.2, 1.10 and (evhttp reads a sign) 1.-1 alike */
    if (ev->major != 1) {
        ev->major = 1;
        ev->minor = 0;
        promc__http_answer_plain(&r, 505, "505 HTTP version not supported\n");
        return;
    }

    if (!promc__http_secure_gate(&r))
        return;
    const promc__http_route_t *route = NULL;
    for (size_t i = 0; i < srv->route_count; i++) {
        const char *p = srv->routes[i].path;
        if (p && strcmp(p, r.path) == 0) {
            route = &srv->routes[i];
            break;
        }
    }
    if (route) {
        route->fn(route->ud, &r);
    } else if (srv->fallback) {
        srv->fallback->fn(srv->fallback->ud, &r);
    } else {
        promc__http_answer_plain(&r, 404, "404 page not found\n");
    }
    if (!r.answered)
        promc__http_answer_plain(&r, 500, "500 the handler did not answer\n");
}

/* Checks one application route against those before it. */
static int check_route(const promc_http_route_t *routes, size_t i)
{
    const promc_http_route_t *in = &routes[i];
    if (in->fn == NULL)
        return promc__err(PROMC_EINVAL, "route %zu has no handler", i);
    if (in->path != NULL && in->path[0] != '/')
        return promc__err(PROMC_EINVAL, "route path '%s' does not start with '/'", in->path);
    for (size_t j = 0; j < i; j++) {
        const char *p = routes[j].path;
        if ((p == NULL && in->path == NULL) || (p && in->path && strcmp(p, in->path) == 0))
            return promc__err(PROMC_EINVAL, "two routes for path '%s'",
                              in->path ? in->path : "(fallback)");
    }
    return 0;
}

static int add_route(promc_http_server_t *srv, const promc_http_route_t *in)
{
    promc__http_route_t *r = &srv->routes[srv->route_count];
    r->path = NULL;
    if (in->path && !(r->path = promc__strdup(in->path)))
        return promc__err(PROMC_ENOMEM, "route path");
    r->fn = in->fn;
    r->ud = in->ud;
    srv->route_count++;
    if (in->path == NULL)
        srv->fallback = r;
    return 0;
}

int promc__http_routes_init(promc_http_server_t *srv, const promc_http_route_t *routes, size_t n,
                            const promc_http_route_t *extra, size_t n_extra)
{
    if (n && routes == NULL)
        return promc__err(PROMC_EINVAL, "route_count %zu but routes is NULL", n);
    for (size_t i = 0; i < n; i++) {
        int rc = check_route(routes, i);
        if (rc)
            return rc;
    }
    if (n + n_extra == 0)
        return 0;
    srv->routes = promc__calloc(n + n_extra, sizeof *srv->routes);
    if (srv->routes == NULL)
        return promc__err(PROMC_ENOMEM, "routes");
    for (size_t i = 0; i < n; i++) {
        int rc = add_route(srv, &routes[i]);
        if (rc)
            return rc;
    }
    /* An application route for the same path comes first and wins. */
    for (size_t i = 0; i < n_extra; i++) {
        int rc = add_route(srv, &extra[i]);
        if (rc)
            return rc;
    }
    return 0;
}
