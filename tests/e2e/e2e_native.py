#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Native histograms into the real Prometheus (Debian 2.42,
--enable-feature=native-histograms,exemplar-storage), which then asks for protobuf first: it
scrapes tests/e2e/native_server.c, and histogram_count, histogram_sum and histogram_quantile of
the native histogram come out as its observations say, /api/v1/query_exemplars gives back the
trace IDs attached to it, and a histogram with both classic and native buckets (negative values
too) is read as a native one.  The same server answers text 0.0.4 to a plain scrape."""

import os
import subprocess

import e2e_common as e
from e2e_common import check, fail, log

PB = ("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "
      "encoding=delimited")


def body(args):
    prog = os.path.normpath(os.path.join(os.path.dirname(args.service), "..", "tests", "e2e",
                                         "native_server"))
    if not os.access(prog, os.X_OK):
        fail("native_server is not built at %s" % prog)
    port = e.free_port()
    p = e.spawn([prog, str(port)])
    e.on_cleanup(lambda: e.kill_group(p))
    e.wait_until(lambda: e.http_get(port, "/metrics", timeout=1).status == 200, 15,
                 "native_server to serve")
    # What Prometheus 2.42 sends with native histograms on.
    accept = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
              "encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,"
              "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
              "*/*;q=0.1")
    r = e.http_get(port, "/metrics", headers={"Accept": accept})
    check(r.headers.get("content-type") == PB, "protobuf scrape Content-Type: %r" %
          r.headers.get("content-type"))
    plain = e.http_get(port, "/metrics")
    check(plain.headers.get("content-type", "").startswith("text/plain; version=0.0.4"),
          "plain scrape Content-Type: %r" % plain.headers.get("content-type"))
    check('demo_rtt_seconds_bucket{le="+Inf"} ' in plain.text and "demo_rtt_seconds_count " in plain.text,
          "the native-only histogram in text lacks its +Inf bucket or count:\n" + plain.text[:600])
    # Prometheus's own parser and linter for the text formats, and client_python's OpenMetrics
    # parser, on what native histograms write there.
    r = subprocess.run(["promtool", "check", "metrics"], input=plain.body,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    check(r.returncode == 0, "promtool check metrics exited %d: %s" % (r.returncode, r.stdout.decode()))
    om = e.http_get(port, "/metrics", headers={"Accept": "application/openmetrics-text"})
    r = subprocess.run(["/usr/bin/python3", "-c",
                        "import sys\nfrom prometheus_client.openmetrics.parser import "
                        "text_string_to_metric_families as p\n"
                        "print(len(list(p(sys.stdin.read()))))"],
                       input=om.body, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    check(r.returncode == 0, "client_python's OpenMetrics parser refused the output: %s" %
          r.stdout.decode()[-600:])
    log("text 0.0.4 clean for promtool; OpenMetrics parsed by client_python (%s families)" %
        r.stdout.decode().strip())
    prom = e.Prometheus([{"job_name": "nh", "static_configs": [{"targets": ["%s:%d" % (e.HOST, port)]}]}],
                        tag="prom-nh", extra_args=["--enable-feature=native-histograms,exemplar-storage"])
    prom.wait_up("nh")

    def q(expr):
        return prom.query_one(expr)

    count = e.wait_until(lambda: q("histogram_count(demo_rtt_seconds)"), 30,
                         "histogram_count of the native histogram")
    check(count >= 1000, "histogram_count(demo_rtt_seconds) = %r, want >= 1000" % count)
    n_ex = count - 1000  # the exemplar observations, 0.25 each
    s = q("histogram_sum(demo_rtt_seconds)")
    want = 500.5 + 0.25 * n_ex
    check(s is not None and abs(s - want) < 1e-6 * want, "histogram_sum = %r, want %r" % (s, want))
    # The median of 0.001..1.000 (plus some 0.25s) in schema 3 buckets: within one bucket's width
    # (a factor 2^(1/8) = 1.0905) of the true value.
    med = q("histogram_quantile(0.5, demo_rtt_seconds)")
    vals = sorted([i / 1000 for i in range(1, 1001)] + [0.25] * int(n_ex))
    true_med = vals[len(vals) // 2]
    check(med is not None and true_med / 1.0905 <= med <= true_med * 1.0905,
          "histogram_quantile(0.5) = %r, the data's median %r" % (med, true_med))
    log("demo_rtt_seconds: count %g, sum %g, median %g (data %g)" % (count, s, med, true_med))
    # Classic and native: Prometheus 2.42 takes the native one; its count has the 2001 values.
    c2 = q("histogram_count(demo_size_bytes)")
    check(c2 == 2001, "histogram_count(demo_size_bytes) = %r, want 2001" % c2)
    s2 = q("histogram_sum(demo_size_bytes)")
    check(s2 == 0, "histogram_sum(demo_size_bytes) = %r, want 0" % s2)
    frac = q("histogram_fraction(-2000, 0, demo_size_bytes)")
    check(frac is not None and 0.45 < frac < 0.55,
          "histogram_fraction(-2000, 0) = %r: the negative buckets are not there" % frac)

    def exemplars():
        data = prom.api("query_exemplars", query="demo_rtt_seconds", start="0", end="9999999999")
        out = [(x["labels"], float(x["value"])) for series in data for x in series.get("exemplars", [])]
        return out or None

    got = e.wait_until(exemplars, 30, "exemplars of the native histogram")
    check(all(x[0].get("trace_id", "").startswith("trace-") and x[1] == 0.25 for x in got),
          "exemplars: %r" % got[:3])
    log("demo_rtt_seconds: %d exemplars stored, e.g. %r" % (len(got), got[-1][0]))


if __name__ == "__main__":
    e.main("native", body)
