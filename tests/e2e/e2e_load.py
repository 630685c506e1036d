#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Load: wrk over 50 keep-alive connections sends at least 200,000 GET /hello; afterwards
hello_worlds_requests_total must equal the responses wrk counted, plus at most the requests that
were in flight when wrk stopped (one per connection, so at most 50).  Meanwhile /metrics is scraped
ten times a second and must answer every time with a counter that never goes down.

A 2 s calibration run measures the rate first, so the measured run lasts just long enough on this
machine (at most 25 s); if even 25 s could not reach the goal, the test fails and says so.
"""

import math
import re
import subprocess
import threading
import time

import e2e_common as e
from e2e_common import check, fail, log

CONNECTIONS = 50
THREADS = 2
MAX_SECONDS = 25
NAME = "hello_worlds_requests_total"


def wrk(url, seconds):
    argv = ["wrk", "-t%d" % THREADS, "-c%d" % CONNECTIONS, "-d%ds" % seconds, "--timeout", "10s",
            url]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=seconds + 60)
    out = r.stdout.decode("utf-8", "replace")
    if r.returncode != 0:
        fail("wrk exited %d:\n%s" % (r.returncode, out))
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+)(m?s|m)\b", out, re.M)
    if not m:
        fail("no 'N requests in' line in wrk's summary:\n%s" % out)
    n = int(m.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockerr = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return n, out, int(non2xx.group(1)) if non2xx else 0, sockerr


class Scraper(threading.Thread):
    """Scrapes /metrics every 100 ms while the load runs."""

    def __init__(self, svc):
        super().__init__(daemon=True)
        self.svc = svc
        self.stop_ev = threading.Event()
        self.values = []
        self.errors = []

    def run(self):
        while not self.stop_ev.wait(0.1):
            try:
                r = e.http_get(self.svc.metrics_port, "/metrics", timeout=5)
                if r.status != 200:
                    self.errors.append("status %d" % r.status)
                    continue
                self.values.append(e.parse_samples(r.text)[NAME])
            except Exception as ex:  # recorded and reported by the main thread
                self.errors.append(repr(ex))


def body(args):
    svc = e.Service(args.service, "--fail-rate", "0", tag="load")
    url = "http://%s:%d/hello" % (e.HOST, svc.port)
    check(e.http_get(svc.port, "/hello").body == b"Hello World", "/hello does not answer")

    n, out, _, _ = wrk(url, 2)
    rate = n / 2.0
    log("calibration: %d requests in 2 s (%.0f/s)" % (n, rate))
    need = args.min_requests * 1.6  # room for a machine that slows down after calibrating
    if rate * MAX_SECONDS < need:
        fail("example-001 answers %.0f requests/s here: %d requests would take more than %d s"
             % (rate, args.min_requests, MAX_SECONDS))
    seconds = max(3, min(MAX_SECONDS, math.ceil(need / rate)))

    before = e.settled_value(svc, NAME)
    scraper = Scraper(svc)
    scraper.start()
    n, out, non2xx, sockerr = wrk(url, seconds)
    scraper.stop_ev.set()
    scraper.join(timeout=10)
    after = e.settled_value(svc, NAME)
    log("wrk, %d connections, %d s:\n%s" % (CONNECTIONS, seconds, out.rstrip()))

    check(n >= args.min_requests, "wrk completed only %d requests in %d s (goal %d)"
          % (n, seconds, args.min_requests))
    check(non2xx == 0, "%d responses were not 2xx" % non2xx)
    counted = after - before
    log("%s went from %d to %d: +%d for %d responses counted by wrk (in flight at the end: %d)"
        % (NAME, before, after, counted, n, counted - n))
    check(n <= counted <= n + CONNECTIONS,
          "the counter rose by %d but wrk counted %d responses (allowed: up to %d more)"
          % (counted, n, CONNECTIONS))
    if sockerr:
        log("wrk socket errors: %s" % sockerr.group(0))
        connect_err = int(sockerr.group(1))
        check(connect_err == 0, "wrk could not connect %d times" % connect_err)

    check(not scraper.errors, "/metrics failed under load: %s" % scraper.errors[:5])
    check(len(scraper.values) >= seconds * 3,
          "only %d scrapes answered in %d s" % (len(scraper.values), seconds))
    check(all(a <= b for a, b in zip(scraper.values, scraper.values[1:])),
          "the counter went down between scrapes")
    log("%d scrapes of /metrics during the load, all 200, counter monotonic"
        % len(scraper.values))

    samples = svc.samples()
    check(samples["hello_world_exceptions_total"] == 0, "failures at --fail-rate 0")
    check(samples["wrong_requests_total"] == 0, "wrong requests during a /hello load")
    rc, took, err = svc.stop()
    check(rc == 0, "example-001 exited %d after SIGTERM" % rc)
    hello, _, _ = e.Service.parse_stopped(err)
    check(hello == after, "service reported hello=%d, /metrics said %d" % (hello, after))


def extra(ap):
    ap.add_argument("--min-requests", type=int, default=200000,
                    help="responses wrk must count (default 200000)")


if __name__ == "__main__":
    e.main("e2e_load", body, extra)
