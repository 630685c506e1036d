#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The textfile benchmark for client_python (Debian python3-prometheus-client): a Gauge of N
children written with write_to_textfile() REPS times, as bench/push_textfile.c does for promc.
Prints one line: "textfile python N ms1 ms2 ...".  Usage: textfile_py.py PATH N REPS"""
import sys
import time

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

path, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
reg = CollectorRegistry()
g = Gauge("push_series", "Many.", ["id"], registry=reg)
for i in range(n):
    g.labels(str(i)).set(i)
out = ["textfile python %d" % n]
for _ in range(reps):
    t0 = time.perf_counter()
    write_to_textfile(path, reg)
    out.append("%.2f" % ((time.perf_counter() - t0) * 1000))
print(" ".join(out))
