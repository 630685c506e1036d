#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""`promtool check metrics` finds nothing in promc's text output for the lint-clean scripts.

usage: promtool_check.py --cdriver PATH --corpus DIR [--min N]

Checks the corpus scripts marked `# @promtool`: every script whose names and values a
well-behaved application could use (snake_case, counters ending in _total, no type word in a
name, no reserved-looking suffix or label, some HELP).  That includes the awkward label values of
09-label-values (quotes, backslashes, newlines, UTF-8, NUL bytes, control bytes: promtool 2.42
parses them all) and the special floats of 11-float-format.  The scripts left out break a lint
rule on purpose, because that is what they test:
  08-names             colons in names (`a:b_weird:name`), names assembled from odd parts
  10-help              empty HELP ("no help text"); names that spell out their type
  14-unregister        a gauge named `second_bucket`, to show the name is free again
  16-reserved-labels   `le` on a gauge and a summary, `quantile` on a histogram and a gauge
  19-duplicates        gauges named `x_bucket`, `gg_total`, `y_total` next to other types
  21-wrong-ops         names that spell out the type each operation is tried on
promtool reads the body on stdin and must exit 0 with nothing on stderr.

Before that, two negative controls prove promtool really lints and parses here (so the test
cannot pass vacuously): a counter without _total must give exit 3, garbage must give exit 1.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

TIMEOUT = 120


def promtool(exe, body):
    p = subprocess.run([exe, "check", "metrics"], input=body, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def marked(script):
    with open(script, "rb") as f:
        return any(line.strip() == b"# @promtool" for line in f.read().split(b"\n"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cdriver", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--min", type=int, default=5, help="fewest marked scripts to accept")
    args = ap.parse_args()

    if not os.access(args.cdriver, os.X_OK):
        print(f"promtool_check.py: FAIL: no driver at {args.cdriver} (did the build fail?)", file=sys.stderr)
        return 1
    exe = shutil.which("promtool")
    if not exe:
        print("promtool_check.py: FAIL: promtool not found on PATH; it comes with the Debian "
              "package 'prometheus' (scripts/deps.sh test installs it)", file=sys.stderr)
        return 1

    rc, _, err = promtool(exe, b"# HELP bad_requests Requests.\n# TYPE bad_requests counter\n"
                               b"bad_requests 1\n")
    if rc != 3 or "_total" not in err:
        print(f"promtool_check.py: FAIL: negative control (counter without _total) gave exit {rc} "
              f"and {err!r}; expected exit 3 and a lint about _total", file=sys.stderr)
        return 1
    rc, _, err = promtool(exe, b"this is { not metrics\n")
    if rc != 1:
        print(f"promtool_check.py: FAIL: negative control (garbage) gave exit {rc}, expected 1",
              file=sys.stderr)
        return 1
    print(f"{exe}: negative controls ok (lint exit 3, parse error exit 1)")

    scripts = sorted(f for f in os.listdir(args.corpus)
                     if f.endswith(".ops") and marked(os.path.join(args.corpus, f)))
    if len(scripts) < args.min:
        print(f"promtool_check.py: FAIL: only {len(scripts)} scripts marked @promtool, "
              f"expected at least {args.min}", file=sys.stderr)
        return 1
    failures = 0
    work = tempfile.mkdtemp(prefix="promc-promtool-")
    try:
        for s in scripts:
            out = os.path.join(work, s[:-4])
            os.makedirs(out)
            p = subprocess.run([args.cdriver, os.path.join(args.corpus, s), out],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
            if p.returncode != 0:
                print(f"FAIL {s}: cdriver exit {p.returncode}: {p.stderr.decode(errors='replace')}")
                failures += 1
                continue
            with open(os.path.join(out, "text.txt"), "rb") as f:
                body = f.read()
            if not body:
                print(f"FAIL {s}: empty text output")
                failures += 1
                continue
            rc, out_text, err = promtool(exe, body)
            if rc != 0 or err.strip():
                print(f"FAIL {s}: promtool exit {rc}\n{err}{out_text}")
                failures += 1
            else:
                families = sum(1 for ln in body.split(b"\n") if ln.startswith(b"# TYPE "))
                print(f"ok   {s}: {families} families, promtool silent")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"promtool_check.py: {len(scripts) - failures}/{len(scripts)} clean")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
