#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A real Prometheus scrapes example-001: exact counts, and proof that it negotiated OpenMetrics.

Prometheus 2.42 (Debian) scrapes every second.  Once the target is up and Prometheus holds the zero
counts, the test sends a known number of requests and polls /api/v1/query until a scrape after them
has landed; Prometheus must then hold exactly those counts (and never more on the way).

How we prove the format Prometheus negotiated with us, three ways that do not depend on each other:
1. What Prometheus asks for: a pass-through proxy (job example-001-om-proxy) records the Accept
   header of Prometheus's scrape requests and the Content-Type our /metrics answered them with.
2. How Prometheus parsed what we sent, seen through its own API: /api/v1/targets/metadata keeps one
   entry per metric family with the name from the family's TYPE line.  In OpenMetrics our counter is
   the family `hello_worlds_requests` (samples _total and _created); in text 0.0.4 it is the family
   `hello_worlds_requests_total` plus a separate gauge family `hello_worlds_requests_created`.  So the
   directly scraped job must show the OpenMetrics names.
3. A negative control, so check 2 is known to be able to fail: a second proxy path (job
   example-001-text-proxy) forwards the same scrape with "Accept: text/plain; version=0.0.4", and
   that job must show the text names.
"""

import http.server
import json
import threading

import e2e_common as e
from e2e_common import check, fail, log

HELLO = 17
WRONG = 5
JOB = "example-001"
OM_JOB = "example-001-om-proxy"
TEXT_JOB = "example-001-text-proxy"


class ScrapeProxy:
    """Forwards /om/metrics unchanged and /text/metrics with a text-only Accept to the service's
    /metrics, and records what Prometheus sent and what the service answered."""

    def __init__(self, upstream_port):
        self.seen = []  # (path, Accept from Prometheus, Content-Type from the service)
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                accept = self.headers.get("Accept", "")
                if self.path == "/om/metrics":
                    fwd = accept
                elif self.path == "/text/metrics":
                    fwd = "text/plain; version=0.0.4"
                else:
                    self.send_error(404)
                    return
                try:
                    r = e.http_get(upstream_port, "/metrics", headers={"Accept": fwd})
                except OSError:
                    self.send_error(502)
                    return
                ct = r.headers.get("Content-Type", "")
                with proxy.lock:
                    proxy.seen.append((self.path, accept, ct))
                self.send_response(r.status)
                self.send_header("Content-Type", ct)
                self.send_header("Content-Length", str(len(r.body)))
                self.end_headers()
                self.wfile.write(r.body)

        self.server = http.server.ThreadingHTTPServer((e.HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        e.on_cleanup(self.close)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def metadata_names(prom, job):
    data = prom.api("targets/metadata", match_target='{job="%s"}' % job)
    return {m["metric"]: m["type"] for m in data}


def counts(prom, job):
    out = {}
    for name in ("hello_worlds_requests_total", "wrong_requests_total",
                 "hello_world_exceptions_total"):
        out[name] = prom.query_one('%s{job="%s"}' % (name, job))
    return out


def body(args):
    svc = e.Service(args.service, "--fail-rate", "1", tag="prom-svc")
    proxy = ScrapeProxy(svc.metrics_port)
    target = "%s:%d" % (e.HOST, svc.metrics_port)
    via_proxy = "%s:%d" % (e.HOST, proxy.port)
    prom = e.Prometheus([
        {"job_name": JOB, "static_configs": [{"targets": [target]}]},
        {"job_name": OM_JOB, "metrics_path": "/om/metrics",
         "static_configs": [{"targets": [via_proxy]}]},
        {"job_name": TEXT_JOB, "metrics_path": "/text/metrics",
         "static_configs": [{"targets": [via_proxy]}]},
    ])
    t = prom.wait_up(JOB)
    check(t["scrapeUrl"] == "http://%s/metrics" % target, "unexpected scrape URL %s" % t["scrapeUrl"])
    prom.wait_up(OM_JOB)
    prom.wait_up(TEXT_JOB)

    zero = {"hello_worlds_requests_total": 0.0, "wrong_requests_total": 0.0,
            "hello_world_exceptions_total": 0.0}
    e.wait_until(lambda: counts(prom, JOB) == zero, 10, "prometheus to hold the zero counts")
    log("prometheus holds %s" % zero)

    for i in range(HELLO):
        r = e.http_get(svc.port, "/hello")
        check(r.status == 200 and r.body == b"Hello World", "/hello #%d: %d" % (i + 1, r.status))
    for i in range(WRONG):
        r = e.http_get(svc.port, "/nope")
        check(r.status == 404, "/nope #%d: %d" % (i + 1, r.status))
    sent = e.parse_samples(svc.metrics().text)
    log("sent %d /hello (fail-rate 1) and %d /nope; the service itself shows %g, %g"
        % (HELLO, WRONG, sent["hello_worlds_requests_total"], sent["wrong_requests_total"]))

    want = {"hello_worlds_requests_total": float(HELLO), "wrong_requests_total": float(WRONG),
            "hello_world_exceptions_total": float(HELLO)}
    seen = []

    def landed():
        c = counts(prom, JOB)
        seen.append(c)
        for k, v in c.items():
            if v is None or v > want[k]:
                fail("prometheus holds %s=%s, more than the %g requests sent" % (k, v, want[k]))
        return c == want

    e.wait_until(landed, 20, lambda: "a scrape after the requests to land (last: %s)"
                 % (seen[-1] if seen else None), interval=0.25)
    log("prometheus holds exactly %s" % want)
    # One more scrape later the counts must be the same (nothing counted twice or lost).
    scrapes = prom.target(JOB)["lastScrape"]
    e.wait_until(lambda: prom.target(JOB)["lastScrape"] != scrapes, 10, "one more scrape")
    check(counts(prom, JOB) == want, "counts changed after a further scrape: %s" % counts(prom, JOB))

    # Proof 1: Prometheus asks for OpenMetrics and our /metrics answers in OpenMetrics.
    with proxy.lock:
        om_seen = [s for s in proxy.seen if s[0] == "/om/metrics"]
        text_seen = [s for s in proxy.seen if s[0] == "/text/metrics"]
    check(om_seen and text_seen, "the proxy saw no scrapes")
    accept, ctype = om_seen[-1][1], om_seen[-1][2]
    log("Prometheus scrape Accept: %s" % accept)
    log("example-001 answered it with Content-Type: %s" % ctype)
    check("application/openmetrics-text" in accept,
          "Prometheus did not offer OpenMetrics: Accept %r" % accept)
    check(ctype.startswith("application/openmetrics-text") and "version=1.0.0" in ctype,
          "example-001 answered Prometheus's Accept with %r, not OpenMetrics 1.0.0" % ctype)
    check(text_seen[-1][2].startswith("text/plain"),
          "the text-only scrape got %r" % text_seen[-1][2])

    # Proof 2 and its negative control: the metric families Prometheus recorded per job.
    direct = metadata_names(prom, JOB)
    text = metadata_names(prom, TEXT_JOB)
    log("metadata %s: hello_worlds_requests*: %s" % (JOB, {k: v for k, v in direct.items()
                                                          if k.startswith("hello_worlds")}))
    log("metadata %s: hello_worlds_requests*: %s" % (TEXT_JOB, {k: v for k, v in text.items()
                                                               if k.startswith("hello_worlds")}))
    for fam in ("hello_worlds_requests", "wrong_requests", "hello_world_exceptions"):
        check(direct.get(fam) == "counter" and fam + "_total" not in direct
              and fam + "_created" not in direct,
              "job %s: Prometheus did not parse %s as an OpenMetrics counter family; metadata %s"
              % (JOB, fam, json.dumps(direct, sort_keys=True)))
        check(text.get(fam + "_total") == "counter" and text.get(fam + "_created") == "gauge"
              and fam not in text,
              "negative control %s: expected the text-format families %s_total and %s_created; "
              "metadata %s" % (TEXT_JOB, fam, fam, json.dumps(text, sort_keys=True)))
    log("Prometheus parsed %s as OpenMetrics (families without _total) and the text-only control "
        "as text 0.0.4 (_total counter + _created gauge)" % JOB)

    # For the record: whether Prometheus 2.42 stored the OpenMetrics _created samples as series.
    created = prom.query_one('hello_worlds_requests_created{job="%s"}' % JOB)
    log("hello_worlds_requests_created{job=%s} in Prometheus: %s" % (JOB, created))

    rc, took, err = svc.stop()
    check(rc == 0, "example-001 exited %d" % rc)
    hello, wrong, failures = e.Service.parse_stopped(err)
    # The proxy and Prometheus scraped /metrics, which is not /hello: the service's own totals must
    # equal what was sent.
    check((hello, wrong, failures) == (HELLO, WRONG, HELLO),
          "service reported hello=%d wrong=%d failures=%d" % (hello, wrong, failures))


if __name__ == "__main__":
    e.main("e2e_prometheus", body)
