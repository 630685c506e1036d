#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The protobuf exposition against client_golang 1.14's: one scenario (counters with and without
labels, exemplars, gauges, histograms with classic buckets and exemplars on finite and +Inf
buckets, a histogram with negative bounds, summaries with and without quantiles, UTF-8 and quoted
label values, a counter of 300 children) run by promc (protobuf_scenario) and by client_golang
(golang_protobuf/main.go); both outputs decoded with python3-protobuf from the metrics.proto that
promc is built from, and compared field by field.

The deliberate differences, each checked as such rather than ignored:
  - promc writes _created as created_timestamp (Counter 3, Summary 4, Histogram 15, as later
    client_model versions number it); client_golang 1.14 has no such field.  Decoded here with
    the Debian .proto plus those three fields; promc must carry them, client_golang must not.
  - order: client_golang sorts families by name and metrics by labels; promc writes registration
    and creation order.  Both are sorted before comparing.
  - a family of more than 256 metrics is several consecutive messages in promc's output (bounded
    memory); they are merged, and the split is checked to have happened.
  - exemplar timestamps: the time of the update, so only checked to be recent in both.
  - quantile values: both within their stated error on the observations (the algorithm's
    guarantee), not equal.
  - a native histogram's sample_sum after its buckets were reduced (limited_seconds,
    widened_seconds): equal to 1e-12 relative.  promc's first observing thread adds to a sum of
    its own without a compare-and-swap, and a reduction's merge adds the earlier sum beside it, so
    the additions after a reduction happen in another order than client_golang's single sum.
    Every other sum is compared exactly.
Usage: protobuf_vs_golang.py PROTOBUF_SCENARIO_BIN WORKDIR"""
import bisect
import importlib.util
import os
import random
import re
import subprocess
import sys
import time

prog, work = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
os.makedirs(work, exist_ok=True)
model = os.environ.get("PROMC_CLIENT_MODEL_DIR", "/usr/share/gocode/src/github.com/prometheus/client_model")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


# ---- the decoder: Debian's metrics.proto plus the created_timestamp fields ---------------------
src = open(os.path.join(model, "io/prometheus/client/metrics.proto")).read()
ext = src
for msg, num in (("Counter", 3), ("Summary", 4), ("Histogram", 15)):
    ext, n = re.subn(r"(message %s \{)" % msg,
                     r"\1\n  optional google.protobuf.Timestamp created_timestamp = %d;" % num, ext, count=1)
    if n != 1:
        print("FAIL: no message %s in %s" % (msg, model))
        sys.exit(1)
pdir = os.path.join(work, "proto")
os.makedirs(os.path.join(pdir, "io/prometheus/client"), exist_ok=True)
open(os.path.join(pdir, "io/prometheus/client/metrics.proto"), "w").write(ext)
r = subprocess.run(["protoc", "-I" + pdir, "-I" + os.path.join(root, "src/expose/proto"),
                    "--python_out=" + pdir, "io/prometheus/client/metrics.proto"],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
if r.returncode:
    print("FAIL: protoc (protobuf-compiler): " + r.stdout.decode())
    sys.exit(1)
spec = importlib.util.spec_from_file_location(
    "metrics_pb2", os.path.join(pdir, "io/prometheus/client/metrics_pb2.py"))
pb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pb)
from google.protobuf.internal.decoder import _DecodeVarint32  # noqa: E402
from google.protobuf.json_format import MessageToDict  # noqa: E402


def decode(data):
    fams, pos = [], 0
    while pos < len(data):
        n, pos = _DecodeVarint32(data, pos)
        f = pb.MetricFamily()
        f.ParseFromString(data[pos:pos + n])
        pos += n
        fams.append(f)
    return fams


# ---- the scenario ------------------------------------------------------------------------------
rnd = random.Random(12)
lines = []
obs = {}  # (metric, label values) -> observations, for the quantile check


def op(kind, name, values, x, ex=None):
    lines.append("%s %s %s %r%s" % (kind, name, values, x, " " + ex if ex else ""))
    if kind == "observe":
        obs.setdefault((name, values), []).append(x)


lines.append("counter requests Requests. code,method")
for code, method in (("200", "GET"), ("500", "POST"), ("404", "GET")):
    for _ in range(rnd.randint(1, 20)):
        op("add", "requests", code + "," + method, rnd.choice([1.0, 2.0, 0.5, 1e-3]))
op("exemplar", "requests", "200,GET", 1.0, "trace_id=abc123,span_id=42")
op("exemplar", "requests", "500,POST", 2.5, 'trace_id=q"uote')
lines.append("counter plain Plain. -")
op("add", "plain", "-", 1.0)
op("add", "plain", "-", 2.5)
lines.append("gauge temperature Temperature. room")
op("set", "temperature", "kitchen", 21.5)
op("set", "temperature", "küche", -3.25)
op("add", "temperature", "küche", 1.0)
op("set", "temperature", 'a"b\\c', 1e300)
lines.append("histogram latency_seconds Latency. method 0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10")
for _ in range(2000):
    op("observe", "latency_seconds", rnd.choice(["GET", "POST"]), rnd.expovariate(4.0))
op("exemplar", "latency_seconds", "GET", 0.07, "trace_id=t1")
op("exemplar", "latency_seconds", "GET", 42.0, "trace_id=t-inf")
op("exemplar", "latency_seconds", "POST", 0.003, "trace_id=t2")
lines.append("histogram offsets Offsets. - -1,0,1")
for x in (-5.0, -0.5, 0.0, 0.5, 3.0):
    op("observe", "offsets", "-", x)
lines.append("summary rpc_seconds RPC. -")
for _ in range(100):
    op("observe", "rpc_seconds", "-", rnd.uniform(0, 2))
lines.append("summaryq rpcq_seconds RPC. service")
for _ in range(3000):
    op("observe", "rpcq_seconds", rnd.choice(["a", "b"]), rnd.gauss(10, 3))
# Native histograms: schema from the factor, the zero bucket, both signs, a gap-filled span, a
# native-only one with an exemplar (on the +Inf bucket, as client_golang 1.14 writes it), one
# with classic buckets too, and the bucket limit: halving the resolution (no widening allowed),
# and widening the zero bucket first.
lines.append("nhistogram rtt_seconds RTT. path 1.1 0 0 0 -")
for _ in range(3000):
    x = rnd.lognormvariate(-3, 1.5) * rnd.choice([1, 1, 1, -1])
    op("observe", "rtt_seconds", rnd.choice(["/a", "/b"]), x)
for x in (0.0, 1e-40, -1e-40, 1.0, 2.0, 0.5, float("inf")):
    op("observe", "rtt_seconds", "/a", x)
op("exemplar", "rtt_seconds", "/a", 0.042, "trace_id=n1")
lines.append("nhistogram both_seconds Both. - 2 1e-6 0 0 0.1,1,10")
for _ in range(500):
    op("observe", "both_seconds", "-", rnd.expovariate(1.0))
op("observe", "both_seconds", "-", 5e-7)
for factor, schema_hint in (("1.0001", 8), ("1.5", 1), ("4", -1), ("1e6", -4)):
    name = "f%d_seconds" % (len(lines))
    lines.append("nhistogram %s F. - %s 0 0 0 -" % (name, factor))
    for _ in range(200):
        op("observe", name, "-", rnd.lognormvariate(0, 3))
lines.append("nhistogram limited_seconds Limited. - 1.01 0 20 0 -")
for _ in range(2000):
    op("observe", "limited_seconds", "-", rnd.lognormvariate(0, 2))
lines.append("nhistogram widened_seconds Widened. - 1.1 1e-9 12 0.01 -")
for _ in range(400):
    op("observe", "widened_seconds", "-", rnd.choice([1e-5, 3e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2.0]) * rnd.uniform(0.9, 1.1))
lines.append("counter many Many. id")
for i in range(300):
    op("add", "many", str(i), float(i + 1))
scen = os.path.join(work, "scenario.txt")
open(scen, "w").write("\n".join(lines) + "\n")

# ---- both sides --------------------------------------------------------------------------------
env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode",
           GOCACHE=os.path.join(work, "gocache"), GOFLAGS="")
gobin = os.path.join(work, "golang_protobuf")
r = subprocess.run(["go", "build", "-o", gobin, "."], cwd=os.path.join(here, "golang_protobuf"),
                   env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
if r.returncode:
    print("FAIL: cannot build the client_golang side (golang-go, "
          "golang-github-prometheus-client-golang-dev):\n" + r.stdout.decode())
    sys.exit(1)
out = {}
t0 = time.time()
for name, argv in (("promc", [prog, scen]), ("golang", [gobin, scen])):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if p.returncode:
        print("FAIL: %s: %s" % (name, p.stderr.decode()))
        sys.exit(1)
    out[name] = decode(p.stdout)
    print("%s: %d bytes, %d messages" % (name, len(p.stdout), len(out[name])))
t1 = time.time()

# ---- promc's own promises, then normalisation ------------------------------------------------
many = [f for f in out["promc"] if f.name == "many_total"]
if len(many) != 2 or [len(f.metric) for f in many] != [256, 44]:
    fail("300 children should be 2 messages of 256 and 44 metrics, got %s" % [len(f.metric) for f in many])


def labels_key(m):
    return tuple((l.name, l.value) for l in m.label)


def merge(fams):
    by = {}
    for f in fams:
        if f.name in by:
            g = by[f.name]
            if (g.help, g.type) != (f.help, f.type):
                fail("%s: messages of one family disagree on help or type" % f.name)
            g.metric.extend(f.metric)
        else:
            by[f.name] = f
    return by


fam = {k: merge(v) for k, v in out.items()}
if sorted(fam["promc"]) != sorted(fam["golang"]):
    fail("families differ: promc %s, golang %s" % (sorted(fam["promc"]), sorted(fam["golang"])))


def check_created(side, m, f):
    for kind in ("counter", "summary", "histogram"):
        if m.HasField(kind):
            sub = getattr(m, kind)
            has = sub.HasField("created_timestamp")
            if side == "promc":
                ct = sub.created_timestamp.seconds + sub.created_timestamp.nanos / 1e9
                if not has or not (t0 - 600 < ct <= t1 + 1):
                    fail("%s %s: promc's created_timestamp %s is not the creation time" %
                         (f, labels_key(m), ct if has else "missing"))
            elif has:
                fail("%s: client_golang 1.14 wrote a created_timestamp" % f)
            sub.ClearField("created_timestamp")


def check_exemplars(side, f, d):
    """Exemplar timestamps: present and recent; then dropped for the comparison."""
    def walk(x):
        if isinstance(x, dict):
            if "exemplar" in x:
                ts = x["exemplar"].pop("timestamp", None)
                if ts is None:
                    fail("%s: %s exemplar without a timestamp" % (f, side))
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(d)


def quantiles_ok(side, fname, m, d):
    """Quantile values within their error on the observations; then only the keys compared."""
    errors = {0.5: 0.05, 0.9: 0.01, 0.99: 0.001}
    base = fname
    values = tuple(l.value for l in m.label) or ("-",)
    data = sorted(obs.get((base, ",".join(values)), []))
    for q in d.get("summary", {}).get("quantile", []):
        qq, v = q["quantile"], q.pop("value")
        n = len(data)
        e = errors.get(qq)
        if e is None or not n:
            fail("%s %s: quantile %s without data or objective" % (side, fname, qq))
            continue
        r0, r1 = bisect.bisect_left(data, v), bisect.bisect_right(data, v)
        if not (r1 >= (qq - e) * n and r0 <= (qq + e) * n):
            fail("%s %s %s: quantile %g = %g is outside its error" % (side, fname, values, qq, v))


compared = 0
for name in sorted(set(fam["promc"]) & set(fam["golang"])):
    a, b = fam["promc"][name], fam["golang"][name]
    if (a.help, a.type) != (b.help, b.type):
        fail("%s: help/type %r/%s vs %r/%s" % (name, a.help, a.type, b.help, b.type))
    ma = sorted(a.metric, key=labels_key)
    mb = sorted(b.metric, key=labels_key)
    if [labels_key(m) for m in ma] != [labels_key(m) for m in mb]:
        fail("%s: label sets differ" % name)
        continue
    for x, y in zip(ma, mb):
        check_created("promc", x, name)
        check_created("golang", y, name)
        dx = MessageToDict(x, preserving_proto_field_name=True)
        dy = MessageToDict(y, preserving_proto_field_name=True)
        check_exemplars("promc", name, dx)
        check_exemplars("golang", name, dy)
        quantiles_ok("promc", name, x, dx)
        quantiles_ok("golang", name, y, dy)
        compared += 1
        if name in ("limited_seconds", "widened_seconds"):
            hx, hy = dx.get("histogram", {}), dy.get("histogram", {})
            a_, b_ = hx.pop("sample_sum", None), hy.pop("sample_sum", None)
            if a_ is None or b_ is None or abs(a_ - b_) > 1e-12 * max(abs(a_), abs(b_)):
                fail("%s: sample_sum %r vs %r beyond 1e-12 relative" % (name, a_, b_))
        if dx != dy:
            fail("%s %s:\n  promc  %s\n  golang %s" % (name, labels_key(x), dx, dy))
print("%d metrics compared field by field in %d families" % (compared, len(fam["golang"])))
if compared < 300:
    fail("only %d metrics compared" % compared)
print("%d passed, %d failed" % (compared - len(failures), len(failures)))
sys.exit(1 if failures else 0)
