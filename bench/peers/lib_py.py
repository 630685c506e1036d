#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Library micro-benchmarks L1-L6 for client_python (Debian python3-prometheus-client), the same
workloads and inputs as bench/lib_promc.c, printing the same RESULT line.

Usage: lib_py.py WORKLOAD N   (run.sh gives Python smaller N: the per-operation figures compare)
"""
import gc
import math
import os
import sys
import threading
import time

# client_golang and prometheus-cpp have no _created sample: turn it off here too (read at import).
os.environ["PROMETHEUS_DISABLE_CREATED_SERIES"] = "True"

from prometheus_client import CollectorRegistry, Counter, Histogram  # noqa: E402
from prometheus_client.exposition import generate_latest  # noqa: E402

VALUES = 1000
OBS_VALUES = 4096


def status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def reset_peak():
    """Resets VmHWM to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def result(w, n, ns, ok):
    print("RESULT impl=client_python workload=%s n=%d ns_op=%.3f ms=%.3f check=%s peak_rss_kb=%d"
          % (w, n, ns / n, ns / 1e6, "ok" if ok else "WRONG", status_kb("VmHWM")), flush=True)


def l1(n):
    c = Counter("bench_l1", "Benchmark counter.", registry=CollectorRegistry())
    inc = c.inc
    t0 = time.perf_counter_ns()
    for _ in range(n):
        inc()
    t = time.perf_counter_ns() - t0
    result("L1", n, t, c._value.get() == n)


def l2(n):
    c = Counter("bench_l2", "Benchmark counter.", registry=CollectorRegistry())

    def work():
        inc = c.inc
        for _ in range(n):
            inc()

    threads = [threading.Thread(target=work) for _ in range(2)]
    t0 = time.perf_counter_ns()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t = time.perf_counter_ns() - t0
    result("L2", 2 * n, t, c._value.get() == 2 * n)


def l3(n, kept):
    c = Counter("bench_l3", "Benchmark counter.", ["id"], registry=CollectorRegistry())
    vals = ["v%d" % i for i in range(VALUES)]
    if kept:
        child = c.labels(vals[7])
        inc = child.inc
        t0 = time.perf_counter_ns()
        for _ in range(n):
            inc()
        t = time.perf_counter_ns() - t0
        result("L3k", n, t, child._value.get() == n)
        return
    labels = c.labels
    t0 = time.perf_counter_ns()
    for i in range(n):
        labels(vals[i % VALUES]).inc()
    t = time.perf_counter_ns() - t0
    want = (n + VALUES - 1) // VALUES
    result("L3", n, t, c.labels(vals[0])._value.get() == want)


def l6(n):
    h = Histogram("bench_l6", "Benchmark histogram.", registry=CollectorRegistry())
    v = [0.001 * math.pow(10.0, 4.0 * (((i * 2654435761) & 0xFFFFFFFF) / 4294967296.0))
         for i in range(OBS_VALUES)]
    observe = h.observe
    t0 = time.perf_counter_ns()
    for i in range(n):
        observe(v[i & (OBS_VALUES - 1)])
    t = time.perf_counter_ns() - t0
    count = sum(b.get() for b in h._buckets)
    result("L6", n, t, count == n)


def render(w, n):
    rss0 = status_kb("VmRSS")
    reg = CollectorRegistry()
    c = Counter("bench_render", "Benchmark counter.", ["id"], registry=reg)
    s0 = time.perf_counter_ns()
    for i in range(n):
        c.labels(str(i)).inc()
    setup = time.perf_counter_ns() - s0
    gc.collect()
    rss1 = status_kb("VmRSS")
    peak_setup = status_kb("VmHWM")
    approx = "" if reset_peak() else "~"
    # What the exposition server does for a scrape: the whole body as one bytes object.
    t0 = time.perf_counter_ns()
    body = generate_latest(reg)
    t = time.perf_counter_ns() - t0
    peak_render = status_kb("VmHWM")
    print("RESULT impl=client_python workload=%s n=%d ns_op=%.3f ms=%.3f check=ok peak_rss_kb=%d "
          "bytes=%d setup_ms=%.1f setup_kb=%d bytes_per_child=%.1f render_growth_kb=%s%d"
          % (w, n, t / n, t / 1e6, max(peak_setup, peak_render), len(body), setup / 1e6,
             rss1 - rss0, (rss1 - rss0) * 1024.0 / n, approx, peak_render - rss1), flush=True)


def l7(n):
    """Churn cycles: create the child for a new value, increment it, remove it."""
    c = Counter("bench_l7", "Benchmark counter.", ["id"], registry=CollectorRegistry())
    gc.collect()
    rss0 = status_kb("VmRSS")
    labels, remove = c.labels, c.remove
    t0 = time.perf_counter_ns()
    for i in range(n):
        s = "c%d" % i
        labels(s).inc()
        remove(s)
    t = time.perf_counter_ns() - t0
    gc.collect()
    rss1 = status_kb("VmRSS")
    ok = len(c._metrics) == 0
    print("RESULT impl=client_python workload=L7 n=%d ns_op=%.3f ms=%.3f check=%s peak_rss_kb=%d "
          "growth_kb=%d" % (n, t / n, t / 1e6, "ok" if ok else "WRONG", status_kb("VmHWM"),
                            rss1 - rss0), flush=True)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: lib_py.py L1|L2|L3|L3k|L6|L4|L5|L7 N")
    w, n = sys.argv[1], int(sys.argv[2])
    if n <= 0:
        sys.exit("lib_py.py: N must be positive")
    table = {"L1": l1, "L2": l2, "L3": lambda n: l3(n, False), "L3k": lambda n: l3(n, True),
             "L6": l6, "L4": lambda n: render("L4", n), "L5": lambda n: render("L5", n),
             "L7": l7}
    if w not in table:
        sys.exit("lib_py.py: unknown workload %r" % w)
    table[w](n)


if __name__ == "__main__":
    main()
