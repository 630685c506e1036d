#!/usr/bin/env python3
"""Writes docs/api.md from the public headers: per header, its opening comment, then each declaration
with the comment block above it.  `--check` fails if docs/api.md is not what the headers give, so the
reference never drifts from the contract (run by the test suite)."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADERS = ["promc.h", "version.h", "base.h", "errors.h", "alloc.h", "metric.h", "registry.h", "expose.h", "http.h",
           "process.h"]


def clean_comment(text):
    text = re.sub(r"^/\*+\s?", "", text.strip())
    text = re.sub(r"\s*\*/$", "", text)
    lines = [re.sub(r"^\s*\* ?", "", ln) for ln in text.splitlines()]
    return "\n".join(lines).strip()


def render_header(name):
    path = os.path.join(ROOT, "include", "promc", name)
    if not os.path.exists(path):
        return ""
    src = open(path, encoding="utf-8").read()
    out = [f"## `<promc/{name}>`\n"]
    m = re.match(r"\s*(/\*.*?\*/)", src, re.S)
    if m:
        out.append(clean_comment(m.group(1)) + "\n")
    # Declarations: a comment block followed by PROMC_API lines or a typedef/define block.
    pattern = re.compile(r"(/\*(?:(?!\*/).)*\*/)\s*\n((?:(?:PROMC_API|typedef|#define PROMC_[A-Z_]+\()"
                         r"(?:[^;{]|\{[^}]*\})*;?\n?)+)", re.S)
    for cm in pattern.finditer(src):
        if cm.start() == (m.start(1) if m else -1):
            continue
        comment = clean_comment(cm.group(1))
        decl = cm.group(2).strip()
        decl = re.sub(r"PROMC_API |PROMC_NODISCARD ", "", decl)
        if not decl:
            continue
        out.append("```c\n" + decl + "\n```\n")
        out.append(comment + "\n")
    return "\n".join(out)


def main():
    body = ["# promc API reference\n",
            "Generated from `include/promc/*.h` by `scripts/gen-api-doc.py` (the test suite checks that it",
            "is current). The headers are the contract: every function states what it does, its return",
            "codes, ownership, its thread-safety level (see threading.md) and the version it appeared in.\n"]
    for h in HEADERS:
        part = render_header(h)
        if part:
            body.append(part)
    text = "\n".join(body).rstrip() + "\n"
    dest = os.path.join(ROOT, "docs", "api.md")
    if "--check" in sys.argv:
        cur = open(dest, encoding="utf-8").read() if os.path.exists(dest) else ""
        if cur != text:
            print("docs/api.md is stale: run scripts/gen-api-doc.py")
            sys.exit(1)
        print("api_doc: docs/api.md matches the headers\n1 passed, 0 failed")
        return
    open(dest, "w", encoding="utf-8").write(text)


main()
