#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""promc's OpenMetrics output for every corpus script parses with client_python's strict parser.

usage: om_parse.py --cdriver PATH --corpus DIR

For each corpus/*.ops script, runs cdriver and feeds its openmetrics.txt to
prometheus_client.openmetrics.parser.text_string_to_metric_families(), consuming every family.  The
parse must succeed and yield every sample line of the body, except for scripts marked
`# @om-reject TEXT`: their content is outside what OpenMetrics allows (client_python writes it all
the same, and promc writes what client_python writes), and the parser must reject them with an
error containing TEXT.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

DRIVER_TIMEOUT = 120


def directive(script, key):
    """The text after `# @key` in the script, '' for a bare `# @key`, None when absent."""
    with open(script, "rb") as f:
        for raw in f.read().decode("utf-8").splitlines():
            line = raw.strip()
            if line == f"# @{key}":
                return ""
            if line.startswith(f"# @{key} "):
                return line[len(f"# @{key} "):]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cdriver", required=True)
    ap.add_argument("--corpus", required=True)
    args = ap.parse_args()
    try:
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    except Exception as e:
        print(f"om_parse.py: FAIL: cannot import client_python's parser with {sys.executable}: {e}",
              file=sys.stderr)
        return 1

    if not os.access(args.cdriver, os.X_OK):
        print(f"om_parse.py: FAIL: no driver at {args.cdriver} (did the build fail?)", file=sys.stderr)
        return 1
    scripts = sorted(f for f in os.listdir(args.corpus) if f.endswith(".ops"))
    if not scripts:
        print(f"om_parse.py: FAIL: no scripts in {args.corpus}", file=sys.stderr)
        return 1
    failures = 0
    parsed = rejected = 0
    work = tempfile.mkdtemp(prefix="promc-om-parse-")
    try:
        for s in scripts:
            script = os.path.join(args.corpus, s)
            out = os.path.join(work, s[:-4])
            os.makedirs(out)
            try:
                p = subprocess.run([args.cdriver, script, out], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=DRIVER_TIMEOUT)
            except subprocess.TimeoutExpired:
                print(f"FAIL {s}: cdriver timed out")
                failures += 1
                continue
            if p.returncode != 0:
                print(f"FAIL {s}: cdriver exit {p.returncode}: {p.stderr.decode(errors='replace')}")
                failures += 1
                continue
            with open(os.path.join(out, "openmetrics.txt"), "rb") as f:
                body = f.read()
            expect_reject = directive(script, "om-reject")
            try:
                text = body.decode("utf-8")
                families = list(text_string_to_metric_families(text))
                error = None
            except Exception as e:
                error = f"{type(e).__name__}: {e}"
            if expect_reject is not None:
                if error is None:
                    print(f"FAIL {s}: marked @om-reject '{expect_reject}' but the parser accepted it")
                    failures += 1
                elif expect_reject not in error:
                    print(f"FAIL {s}: rejected, but not for '{expect_reject}': {error}")
                    failures += 1
                else:
                    print(f"ok   {s}: rejected as expected ({error.splitlines()[0][:100]})")
                    rejected += 1
                continue
            if error is not None:
                print(f"FAIL {s}: {error}")
                failures += 1
                continue
            lines = [ln for ln in text.split("\n") if ln and not ln.startswith("#")]
            samples = sum(len(fam.samples) for fam in families)
            if samples != len(lines):
                print(f"FAIL {s}: {len(lines)} sample lines but the parser yielded {samples} "
                      "(it drops repeated series silently: duplicate series in the output?)")
                failures += 1
                continue
            print(f"ok   {s}: {len(families)} families, {samples} samples")
            parsed += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"om_parse.py: {parsed} parsed, {rejected} rejected as marked, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
