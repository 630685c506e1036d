#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Negative controls for the conformance machinery: it must be able to fail.

usage: selftest.py --cdriver PATH

1. Both drivers refuse the same malformed scripts (exit status 2), so the two readers of the
   script format agree on what is a script.
2. compare.py fails when a line is marked `!` but both sides accept it.
3. compare.py fails, with a diff, when promc's output differs by one byte (a wrapper around the
   real cdriver changes its output).
4. compare.py fails when a `_created` value is not a time within the run.
5. compare.py passes on a small well-formed script (so 2-4 fail for their own reason).
"""

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

MALFORMED = {
    "unterminated.ops": b'gauge g g "no end\n',
    "bad-escape.ops": b'gauge g g "\\q"\n',
    "short-hex.ops": b'gauge g g "\\x4"\n',
    "quote-in-bare.ops": b'gauge g a"b h\n',
    "after-quote.ops": b'gauge g "a"b h\n',
    "unknown-op.ops": b"frobnicate g\n",
    "missing-help.ops": b"gauge g name\n",
    "hex-number.ops": b"gauge g g h\nset g 0 0x10\n",
    "underscore-number.ops": b"gauge g g h\nset g 0 1_000\n",
    "option-for-other-type.ops": b"counter c c h buckets 1 1\n",
    "option-twice.ops": b"gauge g g h ns a ns b\n",
    "unknown-var.ops": b"inc nobody 0\n",
    "trailing-token.ops": b"gauge g g h\nset g 0 1 2\n",
    "bad-count.ops": b"gauge g g h labels x a\n",
    "lone-bang.ops": b"!\n",
}

GOOD = b"""# a comment with "quotes" and \\ backslashes
gauge g selftest_gauge "Self-test." labels 1 k
set g 1 "a\\"b" 1.5
counter c selftest_total "Self-test counter."
inc c 0
"""


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)


def compare(cdriver, corpus):
    """compare.py on the one script of `corpus`.  --only skips the corpus-wide check that every
    deliberate difference is exercised, which a one-script corpus would fail for that reason."""
    only = [f[:-4] for f in os.listdir(corpus) if f.endswith(".ops")]
    return run([sys.executable, os.path.join(HERE, "compare.py"), "--cdriver", cdriver,
                "--corpus", corpus] + [a for o in only for a in ("--only", o)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cdriver", required=True)
    args = ap.parse_args()
    if not os.access(args.cdriver, os.X_OK):
        print(f"selftest.py: FAIL: no driver at {args.cdriver} (did the build fail?)", file=sys.stderr)
        return 1
    failures = []
    work = tempfile.mkdtemp(prefix="promc-conformance-selftest-")
    try:
        # 1. malformed scripts
        for name, content in MALFORMED.items():
            script = os.path.join(work, name)
            with open(script, "wb") as f:
                f.write(content)
            for label, cmd in (("pydriver", [sys.executable, os.path.join(HERE, "pydriver.py")]),
                               ("cdriver", [args.cdriver])):
                out = os.path.join(work, "out-" + label + "-" + name)
                os.makedirs(out)
                p = run(cmd + [script, out])
                if p.returncode != 2:
                    failures.append(f"{label} on {name}: exit {p.returncode}, expected 2 "
                                    f"(stderr: {p.stderr.decode(errors='replace').strip()})")
        print(f"1. malformed scripts: {len(MALFORMED)} scripts checked on both drivers")

        def corpus_with(name, content):
            d = os.path.join(work, "corpus-" + name)
            os.makedirs(d)
            with open(os.path.join(d, name + ".ops"), "wb") as f:
                f.write(content)
            return d

        # 5 first: the good script passes.
        good = corpus_with("good", GOOD)
        p = compare(args.cdriver, good)
        if p.returncode != 0:
            failures.append("compare.py fails on a good script:\n" + p.stdout.decode(errors="replace"))
        print(f"5. good script: compare.py exit {p.returncode}")

        # 2. a wrong `!` mark
        wrong = corpus_with("wrongmark", GOOD + b"! gauge ok selftest_fine \"Accepted.\"\n")
        p = compare(args.cdriver, wrong)
        text = p.stdout.decode(errors="replace")
        if p.returncode == 0 or "marked '!' but was accepted" not in text:
            failures.append(f"compare.py did not catch a wrong '!' mark (exit {p.returncode})")
        print(f"2. wrong '!' mark: compare.py exit {p.returncode}")

        # 3 and 4. wrappers around the real cdriver that tamper with its output
        def wrapper(name, python_edit):
            path = os.path.join(work, name)
            with open(path, "w") as f:
                f.write(f"#!{sys.executable}\n"
                        "import subprocess, sys\n"
                        f"r = subprocess.run([{args.cdriver!r}] + sys.argv[1:]).returncode\n"
                        "p = sys.argv[2] + '/text.txt'\n"
                        "b = open(p, 'rb').read()\n"
                        f"{python_edit}\n"
                        "open(p, 'wb').write(b)\n"
                        "sys.exit(r)\n")
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
            return path

        onebyte = wrapper("onebyte", "b = b.replace(b'selftest_gauge{k=\"a\\\\\"b\"} 1.5', "
                                     "b'selftest_gauge{k=\"a\\\\\"b\"} 1.6')")
        p = compare(onebyte, good)
        text = p.stdout.decode(errors="replace")
        if p.returncode == 0 or "+selftest_gauge" not in text:
            failures.append(f"compare.py did not catch a one-byte change (exit {p.returncode}):\n{text}")
        print(f"3. one byte changed: compare.py exit {p.returncode}")

        oldtime = wrapper("oldtime", "import re\n"
                                     "b = re.sub(rb'(selftest_created) \\S+', rb'\\1 1.0e+09', b)")
        p = compare(oldtime, good)
        text = p.stdout.decode(errors="replace")
        if p.returncode == 0 or "is not a time within this run" not in text:
            failures.append(f"compare.py did not catch a bad _created value (exit {p.returncode}):\n{text}")
        print(f"4. bad _created value: compare.py exit {p.returncode}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    for f in failures:
        print("FAIL " + f)
    print(f"selftest.py: {'FAIL' if failures else 'OK'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
