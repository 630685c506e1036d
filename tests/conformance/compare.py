#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Differential conformance test: promc against client_python 0.16, byte for byte.

usage: compare.py --cdriver PATH --corpus DIR [--only NAME ...] [--keep DIR]

For every corpus/*.ops script, runs pydriver.py (client_python) and cdriver (promc), each on a fresh
registry, and requires from both:
  - the same text 0.0.4 body and the same OpenMetrics 1.0.0 body,
  - the same failed lines, which must also be exactly the lines the script marks with `!`,
except for
  - the VALUES of `_created` samples (times of creation): on both sides they are checked to lie
    within the run and replaced by <created>;
  - the deliberate differences below, applied to client_python's side.
Any other difference is printed as a unified diff and fails the test.

DELIBERATE DIFFERENCES (client_python 0.16 is wrong, promc is right)
---------------------------------------------------------------------
Output, rewritten here in client_python's output:

  three-digit-exponent   floatToGoString() writes values in [1e10, 1e16) with a three-digit
      exponent ("1e+010", "9.007199254740992e+015"): it pastes "e+0" before the digit count.
      Go and Prometheus write "1e+10"; client_python fixed this in a later release.  promc writes
      "1e+10".  Applied to sample values and to histogram `le` labels.
  negative-bucket-count   For a histogram whose first bound is negative, client_python leaves out
      _sum (right: it would not be a counter) but still writes _count.  OpenMetrics 1.0 says the
      +Inf bucket value appears as _count "if and only if" a Sum value is present, and
      client_python's own parser rejects its output ("_sum/_gsum must be present if _count is
      present").  In OpenMetrics promc writes neither; in text 0.0.4, which has no such rule, it
      writes _count as client_python does.  Applied by dropping those _count lines from
      client_python's OpenMetrics output.

Behaviour, applied by pydriver.py where client_python would otherwise accept the operation
(each marked with its ID there; a refusal is listed in the driver's deliberate.txt):

  counter-nan-inc   Counter.inc(NaN) is accepted (its check is `amount < 0`, false for NaN) and
      the counter is NaN for good; client_python's own OpenMetrics parser then rejects the output
      ("Counter-like samples cannot be NaN").  promc refuses the increment (PROMC_ENEGATIVE).
  bucket-order   Histogram(buckets=...) only checks `bounds == sorted(bounds)`: a repeated bound
      (1, 1, 2 or +Inf twice) and NaN bounds pass, giving duplicate or le="NaN" series that its own
      parser rejects.  promc requires strictly increasing bounds (PROMC_EBUCKETS).
  dup-labelnames   labelnames=['a', 'a'] is accepted; the values are later zipped into a dict, so
      one label and one value silently disappear and distinct children collide in the output.
      promc refuses a repeated label name.
  info-keys   Info.info() does not validate its keys: 'a-b', '__x' or '' are written into the
      exposition as label names, making it unparseable.  promc validates them as label names.
  enum-register-then-raise   Enum() registers itself before it checks its states and its name
      against its label names: a refused Enum stays in the registry, holds its name, and makes
      every later scrape raise AttributeError.  promc registers nothing when a constructor fails.
      pydriver unregisters what the failed constructor left behind.
  enum-dup-states   Enum(states=['a', 'a']) is accepted and writes two series with the same labels
      and different values (1 and 0).  promc refuses a repeated state.
  enum-overlap-full-name   Enum() compares its label names with the name as given instead of the
      full name (namespace_subsystem_name), while the children it creates compare with the full
      name.  So Enum('x', namespace='ns', labelnames=['ns_x']) is accepted and then every
      labels() call raises, and Enum('y', namespace='ns', labelnames=['y']) is refused although
      `ns_y{ns_y=..., y=...}` is a valid series.  promc checks the full name (PROMC_EOVERLAP).
      pydriver passes the joined full name to Enum().

  counter-exact-integers   A counter is one double in client_python, rounded after every
      increment.  promc keeps whole increments as an exact integer and the rest in a double, added
      when read (client_golang's split): an increment is one atomic add, and counts stay exact past
      2^53.  Where whole and fractional increments mix, the last digit can differ (0.7, 1, 1, 0.1
      gives 2.8000000000000003 in client_python, 2.8 in promc; 2^53, 1, 2 gives
      9.007199254740994e+15 there, the exact 9.007199254740996e+15 here).  pydriver mirrors
      promc's arithmetic for counters and lists the lines where the two differ.

Every entry is checked both ways on each run: a probe confirms the installed client_python still
behaves as described (otherwise the entry is stale: remove it), and the corpus must trigger the
entry at least once (otherwise it is untested).
"""

import argparse
import difflib
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from opscript import ScriptError, parse_script  # noqa: E402

OUTPUT_DIFFERENCES = ("three-digit-exponent", "negative-bucket-count")
BEHAVIOUR_DIFFERENCES = (
    "counter-nan-inc",
    "bucket-order",
    "dup-labelnames",
    "info-keys",
    "enum-register-then-raise",
    "enum-dup-states",
    "enum-overlap-full-name",
    "counter-exact-integers",
)
DRIVER_TIMEOUT = 120  # seconds per driver run; generous for a loaded machine and ASan


# ---- Probes: does the installed client_python still behave as the list says? --------------------

def probe_differences():
    """Returns {id: True if client_python still shows the behaviour}."""
    from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram, Info
    from prometheus_client.utils import floatToGoString

    def accepts(fn):
        try:
            fn()
            return True
        except ValueError:
            return False

    def enum_left_registered():
        r = CollectorRegistry()
        try:
            Enum("probe", "probe", states=[], registry=r)
        except ValueError:
            pass
        return bool(r._collector_to_names)

    def mixed_counter():
        c = Counter("probe", "p", registry=None)
        for amount in (0.7, 1, 1, 0.1):
            c.inc(amount)
        return c._value.get()

    def count_without_sum():
        from prometheus_client.openmetrics.exposition import generate_latest
        r = CollectorRegistry()
        Histogram("probe", "p", registry=r, buckets=[-1, 0])
        body = generate_latest(r)
        return b"probe_count " in body and b"probe_sum " not in body

    return {
        "three-digit-exponent": floatToGoString(1e10) == "1e+010",
        "negative-bucket-count": count_without_sum(),
        "counter-nan-inc": accepts(lambda: Counter("probe", "p", registry=None).inc(math.nan)),
        "bucket-order": accepts(lambda: Histogram("probe", "p", registry=None, buckets=[1, 1, 2]))
        and accepts(lambda: Histogram("probe", "p", registry=None, buckets=[1, math.nan, 2])),
        "dup-labelnames": accepts(lambda: Gauge("probe", "p", ["a", "a"], registry=None)),
        "info-keys": accepts(lambda: Info("probe", "p", registry=None).info({"a-b": "x"})),
        "enum-register-then-raise": enum_left_registered(),
        "enum-dup-states": accepts(lambda: Enum("probe", "p", registry=None, states=["a", "a"])),
        "enum-overlap-full-name": accepts(lambda: Enum("x", "p", namespace="ns", registry=None,
                                                       labelnames=["ns_x"], states=["a"]))
        and not accepts(lambda: Enum("y", "p", namespace="ns", registry=None, labelnames=["y"],
                                     states=["a"])),
        "counter-exact-integers": mixed_counter() == 2.8000000000000003,
    }


# ---- Normalisation ----------------------------------------------------------------------------

CREATED = b"<created>"
BUGGY_EXPONENT = re.compile(rb"^(-?[0-9](?:\.[0-9]+)?)e\+0(1[0-5])$")
LE_LABEL = re.compile(rb'([{,]le=")([^"\\]*)(")')


class Problems:
    def __init__(self):
        self.items = []

    def add(self, msg):
        self.items.append(msg)


def family_types(lines, text_format):
    """{sample-name base: type} for the families that have _created samples."""
    bases = {}
    for line in lines:
        if line.startswith(b"# TYPE "):
            parts = line.split(b" ")
            if len(parts) != 4:
                continue
            name, typ = parts[2], parts[3]
            if typ == b"counter" and text_format:
                if name.endswith(b"_total"):
                    bases[name[:-6]] = typ
            elif typ in (b"counter", b"histogram", b"summary"):
                bases[name] = typ
    return bases


def drop_count_without_sum(lines, applied):
    """negative-bucket-count: removes the _count samples of OpenMetrics histogram families that
    have no _sum sample (client_python leaves _sum out for all children of a histogram whose
    first bound is negative, never for some only)."""
    histograms = set()
    with_sum = set()
    for line in lines:
        if line.startswith(b"# TYPE ") and line.endswith(b" histogram"):
            histograms.add(line.split(b" ")[2])
        elif line and not line.startswith(b"#"):
            name = split_sample(line)[0]
            if name.endswith(b"_sum"):
                with_sum.add(name[:-4])
    out = []
    for line in lines:
        if line and not line.startswith(b"#"):
            name = split_sample(line)[0]
            if name.endswith(b"_count") and name[:-6] in histograms and name[:-6] not in with_sum:
                applied["negative-bucket-count"] += 1
                continue
        out.append(line)
    return out


def split_sample(line):
    """(name, middle, value) of a sample line: name, the label part with its space, the value."""
    cut = len(line)
    for sep in (b"{", b" "):
        i = line.find(sep)
        if i != -1:
            cut = min(cut, i)
    space = line.rfind(b" ")
    return line[:cut], line[cut:space + 1], line[space + 1:]


def normalise(body, text_format, window, side, problems, applied):
    """Replaces _created values (checked against the time window) and, on client_python's side,
    applies the output deliberate differences, counting each application in `applied`."""
    lines = body.split(b"\n")
    bases = family_types(lines, text_format)
    if side == "client_python" and not text_format:
        lines = drop_count_without_sum(lines, applied)
    family_type = None
    out = []
    for line in lines:
        if line.startswith(b"#") or not line:
            if line.startswith(b"# TYPE "):
                parts = line.split(b" ")
                family_type = parts[3] if len(parts) == 4 else None
            out.append(line)
            continue
        name, middle, value = split_sample(line)
        if name.endswith(b"_created") and name[:-8] in bases:
            try:
                t = float(value)
                ok = window[0] - 5 <= t <= window[1] + 5
            except ValueError:
                ok = False
            if not ok:
                problems.add(f"{side}: _created value {value!r} is not a time within this run")
            value = CREATED
        elif side == "client_python":
            m = BUGGY_EXPONENT.match(value)
            if m:
                value = m.group(1) + b"e+" + m.group(2)
                applied["three-digit-exponent"] += 1
            if family_type == b"histogram" and name.endswith(b"_bucket"):
                def fix_le(mm):
                    fixed = BUGGY_EXPONENT.match(mm.group(2))
                    if not fixed:
                        return mm.group(0)
                    applied["three-digit-exponent"] += 1
                    return mm.group(1) + fixed.group(1) + b"e+" + fixed.group(2) + mm.group(3)
                middle = LE_LABEL.sub(fix_le, middle)
        out.append(name + middle + value)
    return b"\n".join(out)


# ---- Reporting ----------------------------------------------------------------------------------

def visible(line):
    """A line of bytes as printable text: control bytes and invalid UTF-8 shown escaped."""
    s = line.decode("utf-8", "backslashreplace")
    return "".join(c if (c >= " " and c != "\x7f") or c == "\t" else f"\\x{ord(c):02x}" for c in s)


def unified(a, b, name_a, name_b):
    la = [visible(x) for x in a.split(b"\n")]
    lb = [visible(x) for x in b.split(b"\n")]
    return "\n".join(difflib.unified_diff(la, lb, name_a, name_b, lineterm="", n=2))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def read_lines(path):
    return [int(x) for x in read(path).split()]


def read_details(path):
    d = {}
    for line in read(path).decode("utf-8", "backslashreplace").splitlines():
        n, _, rest = line.partition(": ")
        d[int(n)] = rest
    return d


# ---- Running ----------------------------------------------------------------------------------

def run_driver(cmd, env=None):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=DRIVER_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {DRIVER_TIMEOUT} s: {' '.join(cmd)}"
    if p.returncode != 0:
        return None, (f"exit status {p.returncode}: {' '.join(cmd)}\n"
                      + p.stderr.decode("utf-8", "backslashreplace")
                      + p.stdout.decode("utf-8", "backslashreplace"))
    return p, None


def compare_one(script, cdriver, workdir, applied, verbose):
    """Returns a list of problem strings for one script (empty: identical)."""
    name = os.path.basename(script)
    problems = Problems()
    try:
        ops = parse_script(read(script))
    except ScriptError as e:
        return [f"{name}: malformed script: {e}"]
    expected_fail = sorted(op.lineno for op in ops if op.expect_fail)

    pyout = os.path.join(workdir, "client_python")
    cout = os.path.join(workdir, "promc")
    os.makedirs(pyout)
    os.makedirs(cout)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PROMETHEUS_DISABLE_CREATED_SERIES", "PROMETHEUS_MULTIPROC_DIR",
                        "prometheus_multiproc_dir")}
    t0 = time.time()
    _, err = run_driver([sys.executable, os.path.join(HERE, "pydriver.py"), script, pyout], env)
    if err:
        return [f"{name}: pydriver failed: {err}"]
    _, err = run_driver([cdriver, script, cout])
    if err:
        return [f"{name}: cdriver failed: {err}"]
    t1 = time.time()

    for n_line in read(os.path.join(pyout, "deliberate.txt")).decode().splitlines():
        applied[n_line.split()[1]] += 1

    # Failed lines: both sides alike, and exactly the `!` lines.
    py_err = read_lines(os.path.join(pyout, "errors.txt"))
    c_err = read_lines(os.path.join(cout, "errors.txt"))
    py_det = read_details(os.path.join(pyout, "details.txt"))
    c_det = read_details(os.path.join(cout, "details.txt"))
    if py_err != c_err:
        msg = [f"{name}: failed lines differ"]
        for n in sorted(set(py_err) ^ set(c_err)):
            msg.append(f"  line {n}: client_python: {py_det.get(n, 'accepted')}")
            msg.append(f"  {' ' * len(str(n))}       promc: {c_det.get(n, 'accepted')}")
        problems.add("\n".join(msg))
    for side, got, det in (("client_python", py_err, py_det), ("promc", c_err, c_det)):
        if got != expected_fail:
            unexpected = sorted(set(got) - set(expected_fail))
            missing = sorted(set(expected_fail) - set(got))
            msg = [f"{name}: {side} does not fail exactly on the lines marked '!'"]
            for n in unexpected:
                msg.append(f"  line {n} failed unexpectedly: {det.get(n, '')}")
            for n in missing:
                msg.append(f"  line {n} is marked '!' but was accepted")
            problems.add("\n".join(msg))

    for fname, text_format in (("text.txt", True), ("openmetrics.txt", False)):
        py = normalise(read(os.path.join(pyout, fname)), text_format, (t0, t1), "client_python",
                       problems, applied)
        c = normalise(read(os.path.join(cout, fname)), text_format, (t0, t1), "promc", problems,
                      applied)
        if py != c:
            problems.add(f"{name}: {fname} differs (- client_python, + promc)\n"
                         + unified(py, c, f"client_python/{fname}", f"promc/{fname}"))
        elif verbose:
            print(f"   {fname}: {len(c)} bytes identical")
    return [p if p.startswith(name) else f"{name}: {p}" for p in problems.items]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cdriver", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--only", action="append", default=[], help="run only these scripts")
    ap.add_argument("--keep", help="keep the drivers' outputs under this directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    try:
        import prometheus_client  # noqa: F401
        from importlib.metadata import version
        pc_version = version("prometheus_client")
    except Exception as e:  # loud: the test cannot run without the reference implementation
        print(f"compare.py: FAIL: cannot import client_python with {sys.executable}: {e}\n"
              "  install the Debian package python3-prometheus-client (scripts/deps.sh test)",
              file=sys.stderr)
        return 1
    print(f"client_python {pc_version} ({sys.executable}); promc driver {args.cdriver}")
    if not pc_version.startswith("0.16."):
        print(f"compare.py: NOTE: written against client_python 0.16, running {pc_version}; "
              "the probes below tell which deliberate differences still hold")
    if not os.access(args.cdriver, os.X_OK):
        print(f"compare.py: FAIL: no driver at {args.cdriver}", file=sys.stderr)
        return 1

    failures = []
    probes = probe_differences()
    for ident, still in probes.items():
        if not still:
            failures.append(f"deliberate difference '{ident}' no longer reproduces in "
                            f"client_python {pc_version}: remove it from compare.py/pydriver.py")

    scripts = sorted(f for f in os.listdir(args.corpus) if f.endswith(".ops"))
    if args.only:
        wanted = {o if o.endswith(".ops") else o + ".ops" for o in args.only}
        unknown = wanted - set(scripts)
        if unknown:
            print(f"compare.py: FAIL: no such scripts: {sorted(unknown)}", file=sys.stderr)
            return 1
        scripts = [s for s in scripts if s in wanted]
    if not scripts:
        print(f"compare.py: FAIL: no .ops scripts in {args.corpus}", file=sys.stderr)
        return 1

    applied = {ident: 0 for ident in OUTPUT_DIFFERENCES + BEHAVIOUR_DIFFERENCES}
    base = args.keep or tempfile.mkdtemp(prefix="promc-conformance-")
    try:
        for s in scripts:
            workdir = os.path.join(base, s[:-4])
            shutil.rmtree(workdir, ignore_errors=True)
            problems = compare_one(os.path.join(args.corpus, s), args.cdriver, workdir, applied,
                                   args.verbose)
            print(f"{'ok  ' if not problems else 'FAIL'} {s}")
            for p in problems:
                print("     " + p.replace("\n", "\n     "))
            failures.extend(problems)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    print("deliberate differences applied to client_python's side:")
    for ident, n in applied.items():
        print(f"  {ident}: {n}")
        if n == 0 and not args.only:
            failures.append(f"deliberate difference '{ident}' is never exercised by the corpus")
    if failures:
        print(f"\ncompare.py: FAIL: {len(failures)} problem(s) in {len(scripts)} script(s)")
        for f in failures:
            if "\n" not in f:
                print("  " + f)
        return 1
    print(f"\ncompare.py: OK: {len(scripts)} scripts, promc and client_python agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
