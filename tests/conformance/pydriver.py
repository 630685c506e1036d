#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Replays an operation script on client_python (usage: pydriver.py SCRIPT OUTDIR).

Runs every operation of SCRIPT (format: corpus/README.md) on a fresh CollectorRegistry() and writes
    OUTDIR/text.txt         prometheus_client.generate_latest(registry)
    OUTDIR/openmetrics.txt  prometheus_client.openmetrics.exposition.generate_latest(registry)
    OUTDIR/errors.txt       the line number of every operation that raised, one a line
    OUTDIR/details.txt      the same lines with the exception, for humans
    OUTDIR/deliberate.txt   "LINE ID" for every place where a deliberate difference (listed at the
                            top of compare.py) changed what client_python would have done
Exit status: 0 done, 2 malformed script, 3 client_python raised while writing the exposition.

Operations use client_python's public API the way an application would: `labels(*values)` then the
method, or the method on the metric itself when the script gives no label values.  The only
departures are the behavioural deliberate differences of compare.py, each tagged by its ID below.
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from opscript import ScriptError, parse_script  # noqa: E402

from prometheus_client import (  # noqa: E402
    CollectorRegistry, Counter, Enum, Gauge, Histogram, Info, Summary, generate_latest,
)
from prometheus_client.metrics_core import (  # noqa: E402
    METRIC_LABEL_NAME_RE, RESERVED_METRIC_LABEL_NAME_RE,
)
from prometheus_client.openmetrics.exposition import (  # noqa: E402
    generate_latest as generate_latest_openmetrics,
)

CLASSES = {
    "counter": Counter,
    "gauge": Gauge,
    "histogram": Histogram,
    "summary": Summary,
    "info": Info,
    "enum": Enum,
}


class DeliberateRefusal(Exception):
    """client_python would have accepted this; promc refuses it on purpose (see compare.py)."""

    def __init__(self, ident, why):
        super().__init__(f"[deliberate {ident}] {why}")
        self.ident = ident


class FailedVariable(Exception):
    """An operation on a variable whose creation failed."""


class NotUTF8(ScriptError):
    """A token that is not UTF-8.  client_python cannot take it (its strings are Unicode); promc
    refuses it with PROMC_EUTF8.  On a `!` line that is the expected failure; elsewhere the script
    is unusable for this test."""


def text(b, lineno):
    """A script token as the str client_python takes."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        raise NotUTF8(f"line {lineno}: {b!r} is not UTF-8; client_python cannot take it") from None


class Driver:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.vars = {}  # var -> (verb, metric) or (verb, None) after a failed creation
        self.deliberate = []  # (lineno, ident)

    def exact_integers(self, op, counter, amount):
        """counter-exact-integers: promc keeps a counter's whole increments as an exact integer and
        the rest in a double, adding the two when read (as client_golang does); client_python adds
        every increment to one double.  Mirror promc's arithmetic and record where the value
        differs from what client_python computed."""
        # Kept on the child itself: an id() could be reused by a child created after a removal.
        parts = counter.__dict__.setdefault("_promc_exact_parts", [0, 0.0])
        if amount < 2.0 ** 53 and amount == math.floor(amount):
            parts[0] += int(amount)
        else:
            parts[1] += amount
        exact = float(parts[0]) + parts[1]
        if exact != counter._value.get():
            counter._value.set(exact)
            self.deliberate.append((op.lineno, "counter-exact-integers"))

    def refuse(self, op, ident, why):
        self.deliberate.append((op.lineno, ident))
        raise DeliberateRefusal(ident, why)

    def create(self, op):
        # Bind the variable to "failed" first, so that later operations fail if this one raises.
        self.vars[op.var] = (op.verb, None)
        t = lambda b: text(b, op.lineno)  # noqa: E731
        kwargs = {"registry": self.registry}
        if "ns" in op.opts:
            kwargs["namespace"] = t(op.opts["ns"])
        if "sub" in op.opts:
            kwargs["subsystem"] = t(op.opts["sub"])
        if "unit" in op.opts:
            kwargs["unit"] = t(op.opts["unit"])
        if "labels" in op.opts:
            labelnames = [t(b) for b in op.opts["labels"]]
            kwargs["labelnames"] = labelnames
            # dup-labelnames: client_python keeps a repeated label name and later zips the values
            # into a dict, silently dropping all but the last.
            if len(set(labelnames)) != len(labelnames):
                self.refuse(op, "dup-labelnames", f"label name repeated in {labelnames}")
        if "buckets" in op.opts:
            bounds = op.opts["buckets"]
            kwargs["buckets"] = bounds
            # bucket-order: client_python only checks `bounds == sorted(bounds)`, which lets equal
            # neighbours and NaN through.  Where its own check refuses, let it refuse.
            if bounds == sorted(bounds):
                if any(math.isnan(b) for b in bounds):
                    self.refuse(op, "bucket-order", f"NaN bucket bound in {bounds}")
                if any(a >= b for a, b in zip(bounds, bounds[1:])):
                    self.refuse(op, "bucket-order", f"bounds not strictly increasing: {bounds}")
        name = t(op.name)
        if "states" in op.opts:
            states = [t(b) for b in op.opts["states"]]
            kwargs["states"] = states
            # enum-dup-states: a repeated state gives duplicate series with conflicting values.
            if len(set(states)) != len(states):
                self.refuse(op, "enum-dup-states", f"state repeated in {states}")
        if op.verb == "enum" and ("namespace" in kwargs or "subsystem" in kwargs):
            # enum-overlap-full-name: Enum() compares its label names with the name as given, not
            # with the full name (its children do use the full name).  Giving it the full name,
            # joined as client_python joins it, makes the check use the full name.
            full = "".join(part + "_" for part in (kwargs.pop("namespace", ""),
                                                   kwargs.pop("subsystem", "")) if part) + name
            labelnames = kwargs.get("labelnames", [])
            if (name in labelnames) != (full in labelnames):
                self.deliberate.append((op.lineno, "enum-overlap-full-name"))
            name = full

        before = set(self.registry._collector_to_names)
        try:
            metric = CLASSES[op.verb](name, t(op.help), **kwargs)
        except Exception:
            # enum-register-then-raise: Enum() registers itself before it checks its states and
            # its name against the label names; the refused object stays registered and makes
            # every later scrape raise.  Undo what the failed constructor left behind.
            left = [c for c in self.registry._collector_to_names if c not in before]
            for c in left:
                self.registry.unregister(c)
                self.deliberate.append((op.lineno, "enum-register-then-raise"))
            raise
        self.vars[op.var] = (op.verb, metric)

    def lookup(self, op):
        if op.var not in self.vars:
            raise ScriptError(f"line {op.lineno}: variable {op.var!r} was never created")
        verb, metric = self.vars[op.var]
        if metric is None:
            raise FailedVariable(f"variable {op.var!r}: its creation failed")
        return verb, metric

    def update(self, op):
        verb, metric = self.lookup(op)
        values = [text(b, op.lineno) for b in op.labelvalues]
        if op.verb == "remove":
            metric.remove(*values)
            return
        target = metric.labels(*values) if values else metric
        if op.verb == "inc":
            if op.amount is None:
                target.inc()
                if verb == "counter":
                    self.exact_integers(op, target, 1.0)
                return
            # counter-nan-inc: Counter.inc() tests `amount < 0`, which is false for NaN, so the
            # counter would become NaN for good.
            if verb == "counter" and math.isnan(op.amount):
                self.refuse(op, "counter-nan-inc", "NaN increment of a counter")
            target.inc(op.amount)
            if verb == "counter":
                self.exact_integers(op, target, op.amount)
        elif op.verb == "dec":
            if op.amount is None:
                target.dec()
            else:
                target.dec(op.amount)
        elif op.verb == "set":
            target.set(op.amount)
        elif op.verb == "observe":
            target.observe(op.amount)
        elif op.verb == "info":
            pairs = {text(k, op.lineno): text(v, op.lineno) for k, v in op.info}
            if len(pairs) != len(op.info):
                raise ScriptError(f"line {op.lineno}: info key repeated (a dict cannot say that)")
            if verb == "info":
                # info-keys: Info.info() does not validate its keys, and writes invalid or
                # reserved label names into the exposition as they are.  Where client_python
                # refuses on its own (keys overlapping the label names; info() on the parent of a
                # labelled metric), let it.
                bad = [k for k in pairs
                       if not METRIC_LABEL_NAME_RE.match(k) or RESERVED_METRIC_LABEL_NAME_RE.match(k)]
                refuses_anyway = ((metric._labelnames and not values)
                                  or set(metric._labelnames).intersection(pairs))
                if bad and not refuses_anyway:
                    self.refuse(op, "info-keys", f"invalid info key(s) {bad}")
            target.info(pairs)
        elif op.verb == "state":
            target.state(text(op.state, op.lineno))
        else:
            raise AssertionError(op.verb)

    def run(self, op):
        if op.create:
            self.create(op)
        elif op.verb == "clear":
            self.lookup(op)[1].clear()
        elif op.verb == "unregister":
            self.registry.unregister(self.lookup(op)[1])
        elif op.verb == "register":
            self.registry.register(self.lookup(op)[1])
        else:
            self.update(op)


def main(argv):
    if len(argv) != 3:
        print("usage: pydriver.py SCRIPT OUTDIR", file=sys.stderr)
        return 2
    script, outdir = argv[1], argv[2]
    try:
        with open(script, "rb") as f:
            ops = parse_script(f.read())
    except ScriptError as e:
        print(f"pydriver: {script}: {e}", file=sys.stderr)
        return 2

    driver = Driver()
    errors = []
    details = []
    for op in ops:
        try:
            driver.run(op)
        except NotUTF8 as e:
            if not op.expect_fail:
                print(f"pydriver: {script}: {e}", file=sys.stderr)
                return 2
            # The deliberate difference: promc refuses what client_python cannot express.
            errors.append(op.lineno)
            details.append(f"{op.lineno}: NotUTF8: {e}")
        except ScriptError as e:
            print(f"pydriver: {script}: {e}", file=sys.stderr)
            return 2
        except Exception as e:  # an operation client_python refused (or one we refuse on purpose)
            errors.append(op.lineno)
            details.append(f"{op.lineno}: {type(e).__name__}: {e}")

    try:
        text_out = generate_latest(driver.registry)
        om_out = generate_latest_openmetrics(driver.registry)
    except Exception as e:
        print(f"pydriver: {script}: client_python raised while exposing: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 3

    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "text.txt"), "wb") as f:
        f.write(text_out)
    with open(os.path.join(outdir, "openmetrics.txt"), "wb") as f:
        f.write(om_out)
    with open(os.path.join(outdir, "errors.txt"), "w") as f:
        f.writelines(f"{n}\n" for n in errors)
    with open(os.path.join(outdir, "details.txt"), "w", encoding="utf-8", errors="backslashreplace") as f:
        f.writelines(f"{d}\n" for d in details)
    with open(os.path.join(outdir, "deliberate.txt"), "w") as f:
        f.writelines(f"{n} {ident}\n" for n, ident in driver.deliberate)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
