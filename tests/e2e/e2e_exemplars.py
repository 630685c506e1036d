#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Exemplars into the real Prometheus (Debian 2.42, --enable-feature=exemplar-storage): it
scrapes promc over OpenMetrics, and /api/v1/query_exemplars gives back the trace IDs that
tests/e2e/exemplar_server.c attached to its counter and to the 1.0 bucket of its histogram,
with their values.  The same scrape in text 0.0.4 carries no exemplar."""

import os
import re
import time

import e2e_common as e
from e2e_common import check, fail, log


def body(args):
    prog = os.path.normpath(os.path.join(os.path.dirname(args.service), "..", "tests", "e2e",
                                         "exemplar_server"))
    if not os.access(prog, os.X_OK):
        fail("exemplar_server is not built at %s" % prog)
    port = e.free_port()
    p = e.spawn([prog, str(port)])
    e.on_cleanup(lambda: e.kill_group(p))
    e.wait_until(lambda: e.http_get(port, "/metrics", timeout=1).status == 200, 15,
                 "exemplar_server to serve")
    om = e.http_get(port, "/metrics", headers={"Accept": "application/openmetrics-text"}).text
    check(re.search(r'^demo_jobs_total \S+ # \{trace_id="trace-\d+"\} 1\.0 \S+$', om, re.M),
          "no exemplar on demo_jobs_total in OpenMetrics:\n" + om[:800])
    plain = e.http_get(port, "/metrics").text
    check(" # {" not in plain, "an exemplar in text 0.0.4:\n" + plain[:800])
    prom = e.Prometheus([{"job_name": "ex", "static_configs": [{"targets": ["%s:%d" % (e.HOST, port)]}]}],
                        tag="prom-ex", extra_args=["--enable-feature=exemplar-storage"])
    prom.wait_up("ex")

    def exemplars(query):
        data = prom.api("query_exemplars", query=query, start="0", end="9999999999")
        out = []
        for series in data:
            for ex in series.get("exemplars", []):
                out.append((series["seriesLabels"], ex["labels"], float(ex["value"])))
        return out or None

    got = e.wait_until(lambda: exemplars("demo_jobs_total"), 30, "exemplars of demo_jobs_total")
    check(all(x[1].get("trace_id", "").startswith("trace-") and x[2] == 1.0 for x in got),
          "counter exemplars: %r" % got[:3])
    log("demo_jobs_total: %d exemplars stored, e.g. %r" % (len(got), got[-1][1]))
    got = e.wait_until(lambda: exemplars("demo_latency_seconds_bucket"), 30,
                       "exemplars of demo_latency_seconds_bucket")
    check(all(x[0].get("le") == "1.0" and x[2] == 0.5 for x in got),
          "histogram exemplars not on the 1.0 bucket with 0.5: %r" % got[:3])
    log("demo_latency_seconds_bucket{le=\"1.0\"}: %d exemplars, value 0.5" % len(got))


if __name__ == "__main__":
    e.main("exemplars", body)
