#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The API contract of include/promc/*.h, checked, and docs/api.md generated from it.

    scripts/gen-api-doc.py            writes docs/api.md
    scripts/gen-api-doc.py --check    fails if a header breaks the contract or docs/api.md is stale
    scripts/gen-api-doc.py --selftest shows that each rule of the contract can fail

The headers are read as a sequence of comment blocks and declarations (functions marked PROMC_API,
typedefs, PROMC_* macros).  Declarations that follow one another without a blank line form a group,
governed by the comment block right above the first of them.  The contract:

  1. Every declaration is governed by a comment, and that comment says `Since: MAJOR.MINOR` once.
  2. The comment of a function group carries exactly one `Thread-safety: TAG`, TAG taken from the
     vocabulary below (docs/threading.md explains each); the tag may be followed by `;` or ` (` and
     more words, or end the sentence.
  3. A function returning int returns an error code, and is PROMC_NODISCARD, unless NODISCARD_EXEMPT
     names it with the reason.
  4. Each declaration is in the header of its own module (MODULE_RULES).
  5. docs/api.md is this script's output: every function, type and macro, with its comment.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADERS = ["promc.h", "version.h", "base.h", "errors.h", "alloc.h", "metric.h", "registry.h",
           "expose.h", "handler.h", "http.h", "process.h", "push.h",
           "testutil.h"]

THREAD_TAGS = [
    "any thread, lock-free",
    "any thread, lock-free when the child exists",
    "any thread, takes the metric's lock",
    "any thread, takes the registry lock",
    "any thread",
    "any thread but the server's own",
    "the handler's thread only",
    "the collecting thread only",
    "not thread-safe",
    "async-signal-safe",
    "as the function named",
]

# int-returning functions that return something other than an error code, or whose error code the
# caller may drop; each with the reason.
NODISCARD_EXEMPT = {
    "promc_counter_add": "the only error is PROMC_EINVAL for a negative or NaN amount, a bug in the "
                         "caller that the update path reports without a branch the caller must "
                         "write; GCC also ignores (void) casts on warn_unused_result, so marking it "
                         "would make every intentional drop a warning",
    "promc_http_server_port": "returns the bound port, not an error code",
    "promc_counter_count_errors": "returns its own argument, for `return f(c, work());`",
}

# Which header a public name belongs in: the first pattern that matches the name decides.
MODULE_RULES = [
    (r"^PROMC_(VERSION_\w+|API|NODISCARD|DEPRECATED)$|^promc_version_", "version.h"),
    (r"^PROMC_STR$|^promc_(str|str_t|label_t|registry_t|metric_t|emit_t)$", "base.h"),
    (r"^PROMC_ERRNO_MAP$|^promc_(err_\w+|strerror|last_error|errno_t)$", "errors.h"),
    (r"^promc_(allocator_\w+|set_allocator)$", "alloc.h"),
    (r"^promc_registry_(sample_value|compare|lint)$", "testutil.h"),
    (r"^promc_(registry_write\w*|emit_\w+|format_\w+|gzip_\w+|buf_free|expose_\w+|sink_fn|emit_t"
     r"|escaping_t|escaping_name|content_type"
     r"|gauge_func_new|counter_func_new|value_fn)$",
     "expose.h"),
    (r"^promc_handler(_\w+)?$", "handler.h"),
    (r"^promc_(registry_\w+|collector_\w+|collect_fn)$", "registry.h"),
    (r"^promc_http_\w+$|^PROMC_HTTP_\w+$", "http.h"),
    (r"^promc_process_\w+$", "process.h"),
    (r"^promc_push(_\w+)?$", "push.h"),
    (r"^promc_(counter|gauge|histogram|summary|info|enum|metric|timer|type|limit|scope|buckets|quantile)(_\w+)?$"
     r"|^PROMC_(HISTOGRAM|SUMMARY|GAUGE)_TIME$|^PROMC_GAUGE_TRACK_INPROGRESS$|^PROMC_OVERFLOW_VALUE$"
     r"|^PROMC_TIME_SCOPE_(HISTOGRAM|SUMMARY|GAUGE)$|^PROMC_INPROGRESS_SCOPE$", "metric.h"),
]


def clean_comment(text):
    text = re.sub(r"^/\*+\s?", "", text.strip())
    text = re.sub(r"\s*\*/$", "", text)
    lines = [re.sub(r"^\s*\* ?", "", ln) for ln in text.splitlines()]
    return "\n".join(lines).strip()


class Decl:
    def __init__(self, kind, name, text, line):
        self.kind, self.name, self.text, self.line = kind, name, text, line


class Group:
    def __init__(self, comment, line):
        self.comment, self.line, self.decls = comment, line, []


def parse(src):
    """Returns (opening comment, [Group]) of one header."""
    lines = src.split("\n")
    i, n = 0, len(lines)
    opening = None
    groups = []
    comment = None        # (text, line) of the last comment block, while it may still govern
    group = None          # the group being extended
    guard = None
    while i < n:
        ln = lines[i]
        s = ln.strip()
        if s == "":
            comment, group = None, None
            i += 1
            continue
        if s.startswith("/*"):
            start = i
            while "*/" not in lines[i]:
                i += 1
            text = "\n".join(lines[start:i + 1])
            i += 1
            if "SPDX-License-Identifier:" in text and start == i - 1:
                continue  # the license line of every file, not documentation
            if opening is None and not groups and guard is None:
                opening = clean_comment(text)
                continue
            comment, group = (clean_comment(text), start + 1), None
            continue
        if s.startswith("#ifndef ") and guard is None:
            guard = s.split()[1]
            i += 1
            continue
        if re.match(r"#\s*(if|ifdef|ifndef|elif|else|endif|include)\b", s) or s in (
                'extern "C" {', "}"):
            i += 1
            continue
        m = re.match(r"#\s*define\s+(\w+)", s)
        if m:
            start = i
            while lines[i].rstrip().endswith("\\"):
                i += 1
            text = "\n".join(lines[start:i + 1])
            i += 1
            if m.group(1) == guard:
                continue
            add(groups, comment, group, Decl("macro", m.group(1), text, start + 1))
            group = groups[-1]
            continue
        if s.startswith("typedef") or s.startswith("PROMC_API"):
            start, depth, text = i, 0, []
            while True:
                text.append(lines[i])
                code = re.sub(r"/\*.*?\*/", "", lines[i])
                depth += code.count("{") - code.count("}")
                i += 1
                if depth == 0 and code.rstrip().endswith(";"):
                    break
                if i >= n:
                    raise SyntaxError(f"line {start + 1}: unterminated declaration")
            body = "\n".join(text)
            code = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
            if s.startswith("typedef"):
                fp = "{" not in code and re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", code)
                name = fp.group(1) if fp else re.findall(r"(\w+)\s*;\s*$", code)[-1]
                kind = "type"
            else:
                name = re.search(r"(\w+)\s*\(", code.replace("PROMC_DEPRECATED(", "")).group(1)
                kind = "function"
            add(groups, comment, group, Decl(kind, name, body, start + 1))
            group = groups[-1]
            continue
        raise SyntaxError(f"line {i + 1}: cannot read {s[:60]!r}")
    return opening, groups


def add(groups, comment, group, decl):
    if group is None:
        g = Group(comment[0] if comment else None, comment[1] if comment else decl.line)
        groups.append(g)
        group = g
    group.decls.append(decl)


def module_of(name):
    for pattern, header in MODULE_RULES:
        if re.search(pattern, name):
            return header
    return None


def check_header(name, groups):
    """The contract violations of one header, as 'header:line: message' strings."""
    errs = []
    for g in groups:
        where = f"{name}:{g.line}"
        names = ", ".join(d.name for d in g.decls)
        if not g.comment:
            errs.append(f"{where}: {names}: no comment above the declaration")
            continue
        since = re.findall(r"Since: \d+\.\d+", g.comment)
        if len(since) != 1:
            errs.append(f"{where}: {names}: the comment says `Since: X.Y` {len(since)} times, not once")
        funcs = [d for d in g.decls if d.kind == "function"]
        tags = re.findall(r"Thread-safety: ([^.;(]*?)(?=\s*(?:[.;(]|$))", g.comment, re.M)
        if funcs:
            if len(tags) != 1:
                errs.append(f"{where}: {names}: {len(tags)} Thread-safety tags, not one")
            elif tags[0].strip() not in THREAD_TAGS:
                errs.append(f"{where}: {names}: Thread-safety tag {tags[0].strip()!r} is not in the "
                            f"vocabulary ({'; '.join(THREAD_TAGS)})")
        elif tags:
            errs.append(f"{where}: {names}: a Thread-safety tag on a comment without functions")
        for d in g.decls:
            if d.name.endswith("_"):
                continue  # a macro's own helper (PROMC_T_): shown with the macro, not indexed
            home = module_of(d.name)
            if home is None:
                errs.append(f"{name}:{d.line}: {d.name}: no module rule names it (MODULE_RULES)")
            elif home != name:
                errs.append(f"{name}:{d.line}: {d.name} belongs in {home}")
            if d.kind == "function":
                head = re.sub(r"/\*.*?\*/", "", d.text, flags=re.S).split(d.name + "(")[0]
                returns_int = re.search(r"\bint\s*$", head) is not None
                if returns_int and "PROMC_NODISCARD" not in head and d.name not in NODISCARD_EXEMPT:
                    errs.append(f"{name}:{d.line}: {d.name} returns an error code without "
                                "PROMC_NODISCARD")
    return errs


def render(name, opening, groups):
    out = [f"## `<promc/{name}>`\n"]
    if opening:
        out.append(opening + "\n")
    for g in groups:
        code = "\n".join(d.text for d in g.decls)
        code = re.sub(r"PROMC_API ", "", code)
        out.append("```c\n" + code.strip() + "\n```\n")
        if g.comment:
            out.append(g.comment + "\n")
    return "\n".join(out)


def build(sources):
    """sources: [(header name, text)] -> (docs/api.md text, violations, declaration count)."""
    parts, errs, index = [], [], []
    for name, src in sources:
        try:
            opening, groups = parse(src)
        except SyntaxError as e:
            errs.append(f"{name}: {e}")
            continue
        errs += check_header(name, groups)
        parts.append(render(name, opening, groups))
        for g in groups:
            since = re.search(r"Since: (\d+\.\d+)", g.comment or "")
            for d in g.decls:
                if d.name.endswith("_"):
                    continue
                index.append((d.name, d.kind, name, since.group(1) if since else "?"))
    seen = {}
    for nm, kind, hdr, _ in index:
        if nm in seen and seen[nm] != hdr:
            errs.append(f"{nm} declared in {seen[nm]} and {hdr}")
        seen.setdefault(nm, hdr)
    uniq = []
    for row in index:
        if row[0] not in [u[0] for u in uniq]:
            uniq.append(row)
    table = ["| name | kind | header | since |", "|---|---|---|---|"]
    for nm, kind, hdr, since in sorted(uniq, key=lambda r: r[0].lower()):
        table.append(f"| `{nm}` | {kind} | `<promc/{hdr}>` | {since} |")
    body = ["# promc API reference\n",
            "Generated from `include/promc/*.h` by `scripts/gen-api-doc.py`, which also checks the",
            "contract every declaration keeps (the test suite runs `--check`): a comment stating what it",
            "does, its return codes and ownership, the version it appeared in (`Since:`), and for functions",
            "exactly one thread-safety tag from the vocabulary of [threading.md](threading.md); every",
            "function returning an error code is `PROMC_NODISCARD`.\n",
            f"## Index ({len(uniq)} declarations)\n", "\n".join(table) + "\n"]
    text = "\n".join(body + parts).rstrip() + "\n"
    return text, errs, len(uniq)


def read_sources():
    out = []
    for h in HEADERS:
        path = os.path.join(ROOT, "include", "promc", h)
        out.append((h, open(path, encoding="utf-8").read()))
    present = sorted(f for f in os.listdir(os.path.join(ROOT, "include", "promc")) if f.endswith(".h"))
    missing = [f for f in present if f not in HEADERS]
    return out, missing


def selftest():
    base = ("/* m */\n#ifndef X_H\n#define X_H\n\n"
            "/* Does it.  Returns 0 or PROMC_EINVAL.\n * Thread-safety: any thread.  Since: 0.1 */\n"
            "PROMC_API PROMC_NODISCARD int promc_counter_reset(promc_counter_t *c);\n\n#endif\n")
    cases = [
        ("a clean header", base, None),
        ("no comment", base.replace("/* Does it.  Returns 0 or PROMC_EINVAL.\n * Thread-safety: "
                                    "any thread.  Since: 0.1 */\n", ""), "no comment"),
        ("no Since", base.replace("  Since: 0.1", ""), "Since"),
        ("two tags", base.replace("Since: 0.1", "Thread-safety: any thread.  Since: 0.1"),
         "2 Thread-safety tags"),
        ("unknown tag", base.replace("any thread.", "mostly safe."), "not in the vocabulary"),
        ("no NODISCARD", base.replace("PROMC_NODISCARD ", ""), "without PROMC_NODISCARD"),
        ("wrong header", base.replace("promc_counter_reset", "promc_registry_reset"),
         "belongs in registry.h"),
        ("unknown module", base.replace("promc_counter_reset", "promc_frob"), "no module rule"),
        ("undocumented type", base.replace("#endif", "typedef int promc_counter_x_t;\n#endif"),
         "no comment"),
    ]
    bad = 0
    for what, src, want in cases:
        _, errs, _ = build([("metric.h", src)])
        ok = (not errs) if want is None else any(want in e for e in errs)
        print(("ok" if ok else "FAIL") + f": {what}: " + ("; ".join(errs) or "no violation"))
        bad += not ok
    print(f"{len(cases) - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)


def main():
    if "--selftest" in sys.argv:
        selftest()
    sources, missing = read_sources()
    text, errs, count = build(sources)
    if missing:
        errs.append(f"headers not in HEADERS (so not in docs/api.md): {', '.join(missing)}")
    dest = os.path.join(ROOT, "docs", "api.md")
    if "--check" in sys.argv:
        cur = open(dest, encoding="utf-8").read() if os.path.exists(dest) else ""
        if cur != text:
            errs.append("docs/api.md is stale: run scripts/gen-api-doc.py")
        for e in errs:
            print("FAIL: " + e)
        print(f"api contract: {count} declarations in {len(sources)} headers, {len(errs)} violations")
        sys.exit(1 if errs else 0)
    for e in errs:
        print("contract: " + e, file=sys.stderr)
    open(dest, "w", encoding="utf-8").write(text)
    sys.exit(1 if errs else 0)


main()
