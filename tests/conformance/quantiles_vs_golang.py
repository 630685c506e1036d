#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Summary quantiles against client_golang: the same observations (three distributions, 100,000
each, plus 300 for the exact small-window path) into a promc summary and a client_golang one
with the objectives 0.5:0.05, 0.9:0.01, 0.99:0.001.  For each quantile q with error e, both
answers must lie within the stated error: their rank in the sorted observations between
(q - e) n and (q + e) n.  The values need not be equal (the streams are merged in a different
order); both must keep the guarantee.
Usage: quantiles_vs_golang.py SUMMARY_QUANTILES_BIN WORKDIR"""
import bisect
import os
import subprocess
import sys

prog, work = sys.argv[1], sys.argv[2]
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golang_summary")
os.makedirs(work, exist_ok=True)
env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode",
           GOCACHE=os.path.join(work, "gocache"), GOFLAGS="")
gobin = os.path.join(work, "golang_summary")
r = subprocess.run(["go", "build", "-o", gobin, "."], cwd=src, env=env,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
if r.returncode != 0:
    print("FAIL: cannot build the client_golang side (golang-go, "
          "golang-github-prometheus-client-golang-dev):\n" + r.stdout.decode())
    sys.exit(1)
errors = {0.5: 0.05, 0.9: 0.01, 0.99: 0.001}
bad = 0
for dist, n in (("uniform", 100000), ("exp", 100000), ("mixed", 100000), ("uniform", 300)):
    data = os.path.join(work, "%s-%d.txt" % (dist, n))
    outs = {}
    for name, argv in (("promc", [prog, dist, str(n), data]), ("golang", [gobin, data])):
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if p.returncode != 0:
            print("FAIL: %s: %s" % (name, p.stderr.decode()))
            sys.exit(1)
        outs[name] = {float(a): float(b) for a, b in (l.split() for l in p.stdout.decode().splitlines())}
    values = sorted(float(l) for l in open(data))
    for q, e in errors.items():
        lo, hi = (q - e) * n, (q + e) * n
        for name in ("promc", "golang"):
            v = outs[name].get(q)
            if v is None:
                print("FAIL: %s gave no %g quantile for %s" % (name, q, dist))
                bad += 1
                continue
            # v's rank range in the data: [first index, last index + 1]
            r0 = bisect.bisect_left(values, v)
            r1 = bisect.bisect_right(values, v)
            ok = r1 >= lo and r0 <= hi
            print("%-8s n=%-6d q=%-4g %-6s %.6g  rank %d..%d  allowed %.0f..%.0f  %s"
                  % (dist, n, q, name, v, r0, r1, lo, hi, "ok" if ok else "OUT OF ERROR"))
            bad += not ok
print("%d quantiles out of their error" % bad)
print("%d passed, %d failed" % (24 - bad, bad))
sys.exit(1 if bad else 0)
