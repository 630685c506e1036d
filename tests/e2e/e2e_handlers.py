#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""/metrics from servers that are not promc's: examples/handler_evhttp.c (libevent evhttp),
handler_microhttpd.c (libmicrohttpd) and handler_socket.c (a blocking accept() loop) each serve
promc's transport-agnostic handler.  The real Prometheus scrapes all three: every target is up,
the example's counter reads 42, and the handler's own promhttp_metric_handler_requests_total
{code="200"} counts Prometheus's scrapes.  Then each server, asked directly, negotiates
OpenMetrics, gzips, filters by name[] (percent-encoded too) and refuses POST with 405 - the
same answers from the three, since it is one code path.
"""

import gzip
import os
import time

import e2e_common as e
from e2e_common import check, fail, log

SERVERS = ("evhttp", "microhttpd", "socket")


def start(binary, tag):
    port = e.free_port()
    p = e.spawn([binary, str(port)])
    e.on_cleanup(lambda: e.kill_group(p))

    def ready():
        if p.poll() is not None:
            fail("%s exited with status %s at start" % (tag, p.returncode))
        try:
            return e.http_get(port, "/metrics", timeout=1).status == 200
        except OSError:
            return False

    e.wait_until(ready, 15, tag + " to serve /metrics")
    return port


def direct_checks(tag, port):
    r = e.http_get(port, "/metrics?name%5B%5D=demo_events_total&x=1&name[]=nothing_here")
    check(r.status == 200, "%s: name[] scrape answered %d" % (tag, r.status))
    check(r.text == "# HELP demo_events_total Events handled.\n# TYPE demo_events_total counter\n"
          "demo_events_total 42.0\n", "%s: name[] filter gave %r" % (tag, r.text))
    r = e.http_get(port, "/metrics", headers={
        "Accept": "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5",
        "Accept-Encoding": "gzip"})
    check(r.status == 200, "%s: OpenMetrics scrape answered %d" % (tag, r.status))
    ct = r.headers.get("Content-Type")
    check(ct == "application/openmetrics-text; version=1.0.0; charset=utf-8",
          "%s: Content-Type %r" % (tag, ct))
    check(r.headers.get("Content-Encoding") == "gzip", "%s: no Content-Encoding: gzip" % tag)
    text = gzip.decompress(r.body).decode()
    check(text.endswith("# EOF\n") and "demo_events_total 42.0\n" in text,
          "%s: OpenMetrics body %r" % (tag, text[-200:]))
    r = e.http_request(port, "/metrics", method="POST", body=b"")
    check(r.status == 405, "%s: POST answered %d, not 405" % (tag, r.status))
    check(r.headers.get("Allow") == "GET, HEAD", "%s: Allow %r" % (tag, r.headers.get("Allow")))


def body(args):
    bindir = os.path.normpath(os.path.join(os.path.dirname(args.service), "..", "examples"))
    ports = {}
    for s in SERVERS:
        binary = os.path.join(bindir, "example_handler_" + s)
        if not os.access(binary, os.X_OK):
            fail("%s is not built (examples/handler_%s.c)" % (binary, s))
        ports[s] = start(binary, s)
    prom = e.Prometheus([{"job_name": s, "static_configs": [{"targets": ["%s:%d" % (e.HOST, p)]}]}
                         for s, p in ports.items()], tag="prom-handlers")
    for s in SERVERS:
        prom.wait_up(s)
    for s in SERVERS:
        def scraped():
            v = prom.query_one('demo_events_total{job="%s"}' % s)
            n = prom.query_one('promhttp_metric_handler_requests_total{job="%s",code="200"}' % s)
            return (v, n) if v is not None and n is not None and n >= 2 else None

        v, n = e.wait_until(scraped, 30, "prometheus to store two scrapes of " + s)
        check(v == 42, "%s: Prometheus read demo_events_total %r, not 42" % (s, v))
        t = prom.target(s)
        check(t["health"] == "up" and not t["lastError"], "%s target: %r" % (s, t))
        log("%s: up, demo_events_total %g, %g scrapes counted by the handler" % (s, v, n))
    for s in SERVERS:
        direct_checks(s, ports[s])
    log("direct checks: OpenMetrics, gzip, name[] and 405 the same from all three")


if __name__ == "__main__":
    e.main("handlers", body)
