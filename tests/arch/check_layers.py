#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The layering of src/, checked on the include graph and on the symbol graph.

Layers, from the bottom (CMakeLists.txt, docs/architecture.md):
    common < registry < metric < expose < http, process   (http and process are siblings)

Checked:
  - every quoted #include in src/ names a header of the file's own layer or of a layer the build
    lets it see (PROMC_LAYER_BELOW_<layer> in CMakeLists.txt), with no directory in the name;
  - every <promc/...> include in src/ and include/promc/ names the public header of the file's own
    module or of a lower one (never the umbrella promc.h);
  - file names are unique across src/ (the objects of libpromc.a are named after them);
  - in the static library, no object uses a symbol defined by an object of a higher (or sibling)
    layer, and the objects' dependency graph has no cycle.

Usage: check_layers.py --src DIR --lib libpromc.a --nm nm      (the real tree)
       check_layers.py --selftest                             (the checks on made-up trees)
Prints one line per finding and closes with "N passed, N failed".
"""
import argparse
import os
import re
import subprocess
import sys

RANK = {"common": 0, "registry": 1, "metric": 2, "expose": 3, "http": 4, "process": 4, "push": 4}
PUBLIC = {"version.h": "common", "base.h": "common", "errors.h": "common", "alloc.h": "common",
          "registry.h": "registry", "metric.h": "metric", "expose.h": "expose", "http.h": "http",
          "process.h": "process", "testutil.h": "expose", "handler.h": "expose", "push.h": "push"}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.M)


# Generated at build time (cmake/protobuf.cmake: protoc-c over client_model's metrics.proto) for
# the expose layer: its headers, and the objects it adds to the library.
GENERATED_HEADERS = {"metrics.pb-c.h": ["expose"], "promc_pb_names.h": ["expose"]}
GENERATED_OBJECTS = {"metrics.pb-c.c.o": "expose", "timestamp.pb-c.c.o": "expose"}


def may_use(user, used):
    """Whether layer `user` may depend on layer `used`."""
    return user == used or RANK[used] < RANK[user]


def parse_below(cmake_text):
    below = {}
    for m in re.finditer(r"set\(PROMC_LAYER_BELOW_(\w+)\s*([^)]*)\)", cmake_text):
        below[m.group(1)] = [x for x in m.group(2).replace('"', " ").split() if x]
    return below


def check_includes(files, below):
    """files: {relative path: text}.  Returns a list of findings."""
    found = []
    headers = {}
    for path in files:
        parts = path.split("/")
        if parts[0] == "src" and path.endswith(".h"):
            headers.setdefault(parts[2], []).append(parts[1])
    for path, text in sorted(files.items()):
        parts = path.split("/")
        if parts[0] == "src":
            layer = parts[1]
            visible = [layer] + below.get(layer, [])
        else:
            layer = PUBLIC.get(parts[-1])
            visible = []
            if layer is None:
                continue  # the umbrella header includes them all
        for kind, name in INCLUDE_RE.findall(text):
            if kind == "<" and name.startswith("promc/"):
                mod = PUBLIC.get(name[len("promc/"):])
                if mod is None:
                    found.append(f"{path}: includes <{name}>, which is not a module header")
                elif not may_use(layer, mod):
                    found.append(f"{path}: a {layer} file includes <{name}> of the {mod} layer")
            elif kind == '"':
                if parts[0] != "src":
                    found.append(f'{path}: a public header includes "{name}"')
                    continue
                if "/" in name:
                    found.append(f'{path}: includes "{name}": internal headers are named without '
                                 f"a directory, so that only the include path decides")
                    continue
                owners = headers.get(name, []) or GENERATED_HEADERS.get(name, [])
                if not owners:
                    found.append(f'{path}: includes "{name}", which is no header of src/')
                elif not any(o in visible for o in owners):
                    found.append(f'{path}: a {layer} file includes "{name}" of the '
                                 f"{'/'.join(owners)} layer")
    return found


def check_unique(files):
    seen = {}
    found = []
    for path in sorted(files):
        if path.startswith("src/"):
            base = os.path.basename(path)
            if base in seen:
                found.append(f"{path}: file name also used by {seen[base]}")
            seen[base] = path
    return found


def parse_nm(text):
    """nm -A output of an archive -> {object: (defined set, undefined set)}."""
    objs = {}
    for line in text.splitlines():
        m = re.match(r"^[^:]*:([^:]+\.o):\s*(?:[0-9a-fA-F]+)?\s+([A-Za-z])\s+(\S+)$", line)
        if not m:
            continue
        obj, t, sym = m.groups()
        d, u = objs.setdefault(obj, (set(), set()))
        if t in "Uw":
            u.add(sym)
        elif t.isupper() or t in "uvw":
            d.add(sym)
    return objs


def find_cycles(edges):
    """Tarjan's strongly connected components of size > 1 (or with a self edge)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def check_symbols(objs, layer_of):
    """objs: {object: (defined, undefined)}; layer_of: {object: layer}.  Returns findings and the
    number of edges."""
    found = []
    definer = {}
    for obj, (d, _) in objs.items():
        for s in d:
            definer[s] = obj
    edges = {}
    for obj, (_, u) in sorted(objs.items()):
        for s in sorted(u):
            dep = definer.get(s)
            if dep is None or dep == obj:
                continue
            edges.setdefault(obj, set()).add(dep)
            a, b = layer_of.get(obj), layer_of.get(dep)
            if a and b and not may_use(a, b):
                found.append(f"{obj} ({a}) uses {s} of {dep} ({b}): a call up the layers")
    for comp in find_cycles(edges):
        found.append("a dependency cycle between " + ", ".join(comp))
    return found, sum(len(v) for v in edges.values())


def real(args):
    root = args.src
    files = {}
    for top in ("src", "include/promc"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    p = os.path.join(dirpath, n)
                    files[os.path.relpath(p, root)] = open(p, encoding="utf-8").read()
    below = parse_below(open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8").read())
    results = []
    missing = [layer for layer in RANK if layer not in below]
    results.append(("the build names what each layer sees", [f"no PROMC_LAYER_BELOW_{m}"
                                                              for m in missing]))
    for layer, lows in below.items():
        bad = [f"the build lets {layer} see {b}" for b in lows if not may_use(layer, b) or b == layer]
        results.append((f"the include path of {layer} holds only lower layers", bad))
    results.append(("includes follow the layers", check_includes(files, below)))
    results.append(("file names are unique in src/", check_unique(files)))
    nm = subprocess.run([args.nm, "-A", args.lib], capture_output=True, text=True, check=True)
    objs = parse_nm(nm.stdout)
    layer_of = {}
    for path in files:
        if path.startswith("src/") and path.endswith(".c"):
            layer_of[os.path.basename(path) + ".o"] = path.split("/")[1]
    layer_of.update(GENERATED_OBJECTS)
    unknown = [o for o in objs if o not in layer_of]
    results.append(("every object of the library comes from a layer", unknown))
    sym_found, nedges = check_symbols(objs, layer_of)
    results.append((f"calls follow the layers and form no cycle ({len(objs)} objects, "
                    f"{nedges} dependencies)", sym_found))
    if len(objs) < 20 or nedges < 20:
        results.append(("the symbol graph was read", [f"only {len(objs)} objects, {nedges} edges"]))
    return results


def selftest():
    below = {"common": [], "registry": ["common"], "metric": ["common", "registry"],
             "expose": ["common", "registry", "metric"], "http": ["common"],
             "process": ["common"]}
    good = {"src/common/a.h": "", "src/registry/r.h": '#include "a.h"\n',
            "src/metric/m.c": '#include "r.h"\n#include <promc/registry.h>\n',
            "include/promc/metric.h": "#include <promc/base.h>\n"}
    bad = {"src/common/a.h": "", "src/registry/r.h": "", "src/metric/m.h": "",
           "src/common/x.c": '#include "r.h"\n',               # up one layer
           "src/registry/y.c": '#include "../metric/m.h"\n',   # a path around the rule
           "src/http/z.c": '#include "m.h"\n',                 # not on http's path
           "src/process/w.c": "#include <promc/http.h>\n",     # a sibling's public header
           "include/promc/registry.h": "#include <promc/metric.h>\n"}
    results = [("selftest: a layered tree passes the include check", check_includes(good, below))]
    f = check_includes(bad, below)
    results.append(("selftest: five bad includes are all found",
                    [] if len(f) == 5 else [f"found {len(f)}: {f}"]))
    objs = {"a.c.o": ({"fa"}, {"fb"}), "b.c.o": ({"fb"}, {"fc"}), "c.c.o": ({"fc"}, {"fa"}),
            "d.c.o": ({"fd"}, {"fe"}), "e.c.o": ({"fe"}, set())}
    lay = {"a.c.o": "metric", "b.c.o": "metric", "c.c.o": "metric", "d.c.o": "common",
           "e.c.o": "expose"}
    sf, _ = check_symbols(objs, lay)
    cyc = [x for x in sf if "cycle" in x]
    up = [x for x in sf if "up the layers" in x]
    results.append(("selftest: a three-file cycle and a call up are found",
                    [] if len(cyc) == 1 and len(up) == 1 else [f"got {sf}"]))
    ok, _ = check_symbols({"a.c.o": ({"fa"}, {"fb"}), "b.c.o": ({"fb"}, set())},
                          {"a.c.o": "expose", "b.c.o": "common"})
    results.append(("selftest: a call down passes", ok))
    nm = ("libx.a:a.c.o:0000000000000000 T promc_a\nlibx.a:a.c.o:                 U promc_b\n"
          "libx.a:b.c.o:0000000000000010 T promc_b\n")
    parsed = parse_nm(nm)
    results.append(("selftest: nm output is parsed",
                    [] if parsed.get("a.c.o") == ({"promc_a"}, {"promc_b"}) else [str(parsed)]))
    results.append(("selftest: a duplicate file name is found",
                    [] if len(check_unique({"src/a/x.c": "", "src/b/x.c": ""})) == 1 else ["no"]))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src")
    ap.add_argument("--lib")
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--selftest", action="store_true")
    args = ap.parse_args()
    results = selftest() if args.selftest else real(args)
    passed = failed = 0
    for title, findings in results:
        if findings:
            failed += 1
            print(f"FAIL: {title}")
            for x in findings:
                print(f"    {x}")
        else:
            passed += 1
            print(f"ok: {title}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
