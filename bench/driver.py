#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the promc benchmarks beside the Debian-packaged peers and prints markdown tables.

Called by bench/run.sh once everything is built; see docs/PERFORMANCE.md.  Standard library only.

  driver.py --src SRC --build BUILD --peers PEERS_DIR [lib] [service]

Environment:
  BENCH_QUICK=1            smoke mode: small N, 2 s load runs, one repetition (numbers meaningless)
  BENCH_REPS=N             repetitions per measurement (default 3; the median is reported)
  BENCH_DURATION=S         seconds per wrk run (default 10)
  BENCH_IMPLS=a,b          only these implementations (names as in the tables)
  BENCH_WORKLOADS=L6,L10   only these library workloads
  BENCH_SCRAPE_INTERVAL=S  pause between scrapes of the concurrent scrape loop (default 0.1)
  EXAMPLE001_SCHEDULER     passed on to example-001 like every EXAMPLE001_* variable (normal
                           measures it without SCHED_BATCH); the report names the one in force

Every run is sequential: one implementation, one workload, one load generator at a time.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
REPS = int(os.environ.get("BENCH_REPS", "1" if QUICK else "3"))
DURATION = int(os.environ.get("BENCH_DURATION", "2" if QUICK else "10"))
SCRAPE_INTERVAL = float(os.environ.get("BENCH_SCRAPE_INTERVAL", "0.1"))
ONLY = [s.strip() for s in os.environ.get("BENCH_IMPLS", "").split(",") if s.strip()]
# BENCH_WORKLOADS=L6,L10: only these library workloads (the table leaves the others empty).
WORKLOADS = [s.strip() for s in os.environ.get("BENCH_WORKLOADS", "").split(",") if s.strip()]
CLK_TCK = os.sysconf("SC_CLK_TCK")
NPROC = os.cpu_count() or 1
BIG_CHILDREN = 100000
PYTHON = "/usr/bin/python3"  # Debian's interpreter, the one that has prometheus_client

failures = []  # every check that failed, printed at the end; any entry makes the run fail


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def fail(msg):
    failures.append(msg)
    log("FAILED: " + msg)


def wanted(impl):
    return not ONLY or impl in ONLY


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---- Formatting ----------------------------------------------------------------------------------

def fmt_num(v, digits=3):
    """A number with `digits` significant digits and thousands separators, '—' for None."""
    if v is None:
        return "—"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 10 ** (digits - 1):
        return "{:,.0f}".format(v)
    decimals = digits - 1 - int(f"{a:e}".split("e")[1])
    return "{:,.{}f}".format(v, max(decimals, 0))


def fmt_ratio(r):
    return "—" if r is None else fmt_num(r, 2) + "×"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


# ---- Machine -------------------------------------------------------------------------------------

def cmd_first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unavailable"


def pkg_version(pkg):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                             text=True, timeout=30)
        return out.stdout.strip() or "not installed"
    except OSError:
        return "unknown"


def machine_info(build):
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    cflags = "unknown"
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_C_FLAGS_RELEASE:"):
                    cflags = line.split("=", 1)[1].strip()
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": model,
        "cores": NPROC,
        "memory": "{:.1f} GiB".format(mem_kb / 1048576),
        "kernel": platform.release(),
        "loadavg_start": " ".join(open("/proc/loadavg").read().split()[:3]),
        "gcc": cmd_first_line(["gcc", "--version"]),
        "g++": cmd_first_line(["g++", "--version"]),
        "go": cmd_first_line(["go", "version"]),
        "python": cmd_first_line([PYTHON, "--version"]),
        "promc C flags (Release)": cflags,
        "client_golang": pkg_version("golang-github-prometheus-client-golang-dev"),
        "prometheus-cpp": pkg_version("prometheus-cpp-dev"),
        "client_python": pkg_version("python3-prometheus-client"),
        "nginx": pkg_version("nginx-light"),
        "wrk": pkg_version("wrk"),
        "mode": "QUICK SMOKE RUN: numbers are not measurements" if QUICK else "full",
        "repetitions": REPS,
    }


# ---- A. Library micro-benchmarks -----------------------------------------------------------------

LIB_IMPLS = ["promc", "client_golang", "prometheus-cpp", "client_python"]

# Workload -> (N for the compiled implementations, N for Python), full and quick.
LIB_N = {
    "L1": ((50_000_000, 2_000_000), (2_000_000, 100_000)),
    "L2": ((20_000_000, 1_000_000), (1_000_000, 50_000)),
    "L3": ((10_000_000, 1_000_000), (500_000, 50_000)),
    "L3k": ((50_000_000, 2_000_000), (2_000_000, 100_000)),
    "L6": ((20_000_000, 1_000_000), (1_000_000, 50_000)),
    "L4": ((100_000, 100_000), (100_000, 100_000)),
    "L5": ((1_000_000, 250_000), (200_000, 50_000)),
    "L7": ((1_000_000, 200_000), (100_000, 20_000)),
    "L8": ((10_000_000, 1_000_000), (500_000, 50_000)),
    "L9": ((10_000_000, 1_000_000), (500_000, 50_000)),
    "L10": ((20_000_000, 1_000_000), (1_000_000, 50_000)),
    "L10m": ((10_000_000, 1_000_000), (500_000, 50_000)),
    "L11": ((1_000_000, 250_000), (200_000, 50_000)),
}
# Workloads only some peers have (exemplars, quantiles, native histograms and protobuf are not
# in every client): the others are not run, and their cells say so.
LIB_ONLY = {
    "L8": ("promc", "client_golang"),
    "L9": ("promc", "client_golang", "prometheus-cpp"),
    "L10": ("promc", "client_golang"),
    "L10m": ("promc", "client_golang"),
    "L11": ("promc", "client_golang"),
}

LIB_LABEL = {
    "L1": "L1 inc, 1 thread, one counter",
    "L2": "L2 inc, 2 threads, one counter (ns = wall / all incs)",
    "L3": "L3 labelled inc, lookup by value, 1,000 values",
    "L3k": "L3' labelled inc on a kept child",
    "L6": "L6 histogram observe, default buckets",
    "L4": "L4 render {n} children",
    "L5": "L5 render {n} children",
    "L7": "L7 churn: new child, inc, remove",
    "L8": "L8 histogram observe with an exemplar",
    "L9": "L9 summary observe, 3 quantiles",
    "L10": "L10 native histogram observe (factor 1.1), 1 thread",
    "L10m": "L10m native histogram observe, 2 threads (ns = wall / all)",
    "L11": "L11 protobuf render {n} children",
}

# Target: ratio of promc to the best peer (lower is better for times).
LIB_TARGET = {"L1": 1.0, "L2": 0.33, "L3": 0.5, "L3k": 1.0, "L6": 0.7, "L4": 0.3, "L5": 0.25,
              "L7": 1.0, "L8": 1.0, "L9": 0.5, "L10": 0.5, "L10m": 0.5, "L11": 0.25}


def lib_cmd(impl, src, build, peers, workload, n):
    if impl == "promc":
        return [os.path.join(build, "bench", "bench_promc"), workload, str(n)]
    if impl == "client_golang":
        return [os.path.join(peers, "bench_go"), workload, str(n)]
    if impl == "prometheus-cpp":
        return [os.path.join(peers, "bench_cpp"), workload, str(n)]
    return [PYTHON, os.path.join(src, "bench", "peers", "lib_py.py"), workload, str(n)]


def parse_result(text):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            out = {}
            for kv in line.split()[1:]:
                k, _, v = kv.partition("=")
                out[k] = v
            return out
    return None


def num(v):
    if v is None:
        return None
    try:
        return float(v.lstrip("~"))
    except ValueError:
        return None


def run_lib(src, build, peers):
    impls = [i for i in LIB_IMPLS if wanted(i)]
    results = {}  # (impl, workload) -> list of RESULT dicts
    for workload, (full, quick) in LIB_N.items():
        if WORKLOADS and workload not in WORKLOADS:
            continue
        n_compiled, n_python = quick if QUICK else full
        for rep in range(REPS):
            # Implementations take turns inside each repetition, so a drift in machine load
            # spreads over all of them instead of landing on one.
            for impl in impls:
                if workload in LIB_ONLY and impl not in LIB_ONLY[workload]:
                    continue
                n = n_python if impl == "client_python" else n_compiled
                cmd = lib_cmd(impl, src, build, peers, workload, n)
                log(f"lib {workload} {impl} n={n} rep {rep + 1}/{REPS}")
                try:
                    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                except (OSError, subprocess.TimeoutExpired) as e:
                    fail(f"lib {workload} {impl}: {e}")
                    continue
                r = parse_result(p.stdout)
                if p.returncode != 0 or r is None:
                    fail(f"lib {workload} {impl}: exit {p.returncode}: {p.stderr.strip()[-400:]}")
                    continue
                if r.get("check") != "ok":
                    fail(f"lib {workload} {impl}: final value wrong ({r})")
                results.setdefault((impl, workload), []).append(r)
    return impls, results


def lib_median(results, impl, workload, key):
    runs = results.get((impl, workload), [])
    return median([num(r.get(key)) for r in runs])


def lib_n(results, impl, workload):
    runs = results.get((impl, workload), [])
    return int(runs[0]["n"]) if runs else None


def short_n(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def lib_report(impls, results):
    peers = [i for i in impls if i != "promc"]
    header = ["workload"] + impls + ["best peer", "promc / best peer", "target", "met"]
    rows = []

    def row(label, workload, key, unit_scale, target, lower_better=True, digits=3, best_col=True):
        cells = [label]
        vals = {}
        # The N every compiled implementation ran; Python runs fewer operations (marked), which
        # still compares per operation but not in total time, size or memory.
        ref_n = lib_n(results, "promc", workload)
        if ref_n is None:
            ns = [lib_n(results, i, workload) for i in impls if i != "client_python"]
            ns = [n for n in ns if n is not None]
            ref_n = max(set(ns), key=ns.count) if ns else None
        for impl in impls:
            v = lib_median(results, impl, workload, key)
            v = None if v is None else v * unit_scale
            vals[impl] = v
            cell = fmt_num(v, digits)
            n = lib_n(results, impl, workload)
            if v is not None and n != ref_n:
                cell += f" (n={short_n(n)})"
            cells.append(cell)
        comparable = [i for i in peers if vals.get(i) is not None and
                      (key == "ns_op" or lib_n(results, i, workload) == ref_n)]
        best = None
        if comparable and best_col:
            best = (min if lower_better else max)(comparable, key=lambda i: vals[i])
        ratio = None
        if best is not None and vals.get("promc") is not None and vals[best]:
            ratio = vals["promc"] / vals[best]
        met = "—"
        if ratio is not None and target is not None:
            met = "yes" if ratio <= target else "**no**"
        cells += [f"{best} {fmt_num(vals[best], digits)}" if best else "—", fmt_ratio(ratio),
                  f"≤ {target}×" if target is not None else "report", met]
        rows.append(cells)

    for w in ("L1", "L2", "L3", "L3k", "L6"):
        row(LIB_LABEL[w] + ", ns/op", w, "ns_op", 1, LIB_TARGET[w])
    for w in ("L4", "L5"):
        n_compiled = LIB_N[w][1 if QUICK else 0][0]
        row(LIB_LABEL[w].format(n=short_n(n_compiled)) + ", ms", w, "ms", 1, LIB_TARGET[w])
        row(f"{w} output, MB", w, "bytes", 1e-6, None, best_col=False)
        row(f"{w} RSS added by the render, MB", w, "render_growth_kb", 1 / 1024, None)
        row(f"{w} peak RSS, MB", w, "peak_rss_kb", 1 / 1024, None)
    row("memory per labelled child (RSS after L4 setup / 100k), bytes", "L4", "bytes_per_child",
        1, None)
    row(LIB_LABEL["L7"] + ", ns/op", "L7", "ns_op", 1, LIB_TARGET["L7"])
    row("L7 RSS growth over the cycles, MB", "L7", "growth_kb", 1 / 1024, None)
    for w in ("L8", "L9", "L10", "L10m"):
        row(LIB_LABEL[w] + ", ns/op", w, "ns_op", 1, LIB_TARGET[w])
    n11 = LIB_N["L11"][1 if QUICK else 0][0]
    row(LIB_LABEL["L11"].format(n=short_n(n11)) + ", ms", "L11", "ms", 1, LIB_TARGET["L11"])
    row("L11 output, MB", "L11", "bytes", 1e-6, None, best_col=False)
    row("L11 RSS added by the render, MB", "L11", "render_growth_kb", 1 / 1024, None)

    # Absolute targets that are not ratios.
    notes = []
    g5 = lib_median(results, "promc", "L5", "render_growth_kb")
    if g5 is not None:
        ok = g5 / 1024 <= 16
        notes.append(f"- L5: the render adds {fmt_num(g5 / 1024)} MB to promc's RSS "
                     f"(target ≤ 16 MB): {'met' if ok else '**not met**'}.")
    g11 = lib_median(results, "promc", "L11", "render_growth_kb")
    if g11 is not None:
        ok = g11 / 1024 <= 16
        notes.append(f"- L11: the protobuf render adds {fmt_num(g11 / 1024)} MB to promc's RSS "
                     f"(target ≤ 16 MB): {'met' if ok else '**not met**'}.")
    l9cpp, l9 = lib_median(results, "prometheus-cpp", "L9", "ns_op"), lib_median(results, "promc", "L9", "ns_op")
    if l9cpp and l9 is not None:
        r9 = l9 / l9cpp
        notes.append(f"- L9 against prometheus-cpp: {fmt_ratio(r9)} (target ≤ 0.05×): "
                     f"{'met' if r9 <= 0.05 else '**not met**'}.")
    bpc = lib_median(results, "promc", "L4", "bytes_per_child")
    if bpc is not None:
        ok = bpc <= 160
        notes.append(f"- Memory per labelled child: {fmt_num(bpc)} bytes (target ≤ 160): "
                     f"{'met' if ok else '**not met**'}.")
    g7 = lib_median(results, "promc", "L7", "growth_kb")
    if g7 is not None:
        ok = g7 / 1024 <= 8
        notes.append(f"- L7: {short_n(lib_n(results, 'promc', 'L7'))} churn cycles grow promc's RSS "
                     f"by {fmt_num(g7 / 1024)} MB (target ≤ 8 MB): {'met' if ok else '**not met**'}.")
    return table(header, rows) + ("\n\n" + "\n".join(notes) if notes else "")


# ---- B. Service benchmarks -----------------------------------------------------------------------

SERVICE_IMPLS = ["example-001", "tutorial (Python)", "client_golang", "prometheus-cpp", "nginx"]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_tree(pid):
    """The pid and all its descendants (nginx's workers)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_seconds(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def tree_kb(pids, key):
    vals = [status_kb(p, key) for p in pids]
    vals = [v for v in vals if v is not None]
    return sum(vals) if vals else None


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def wait_port(port, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def http_get(port, path, timeout=60):
    """Returns (status, body bytes, seconds from connect to the last byte)."""
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        return r.status, body, time.perf_counter() - t0
    finally:
        c.close()


def hello_counter(port):
    status, body, _ = http_get(port, "/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    m = re.search(rb"^hello_worlds_requests_total(?:\{\})? (\S+)$", body, re.M)
    if not m:
        raise RuntimeError("no hello_worlds_requests_total sample in /metrics")
    return float(m.group(1))


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def parse_latency(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def run_wrk(url, connections, duration):
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    out = p.stdout
    if p.returncode != 0:
        raise RuntimeError(f"wrk exit {p.returncode}: {p.stderr.strip()}")
    r = {"raw": out}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    r["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    m = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    r["p99_ms"] = parse_latency(m.group(1)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["errors"] = tuple(int(x) for x in m.groups()) if m else (0, 0, 0, 0)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    if r["requests"] is None or r["rps"] is None:
        raise RuntimeError("cannot parse wrk output:\n" + out)
    return r


class Service:
    """One running server: its process, ports and log files."""

    def __init__(self, impl, paths, tmp, children=0):
        self.impl = impl
        self.port = free_port()
        self.mport = free_port()
        while self.mport == self.port:
            self.mport = free_port()
        self.tmp = tmp
        src, build, peers = paths
        common = ["--port", str(self.port), "--metrics-port", str(self.mport),
                  "--bind", "127.0.0.1", "--fail-rate", "0.2"]
        if impl == "example-001":
            if children:
                argv = [os.path.join(build, "bench", "scrape_bench"), "--children", str(children),
                        "--port", str(self.mport)]
            else:
                argv = [os.path.join(build, "service", "example-001")] + common + [
                    "--threads", str(NPROC), "--drain-seconds", "1"]
        elif impl == "tutorial (Python)":
            argv = [PYTHON, os.path.join(src, "bench", "peers", "python_hello.py")] + common
        elif impl == "client_golang":
            argv = [os.path.join(peers, "go_hello")] + common
        elif impl == "prometheus-cpp":
            argv = [os.path.join(peers, "cpp_hello")] + common
        elif impl == "nginx":
            argv = self.nginx_argv()
        else:
            raise ValueError(impl)
        if children and impl != "example-001":
            argv += ["--bench-children", str(children)]
        self.argv = argv
        tag = re.sub(r"\W+", "_", impl) + ("_big" if children else "")
        self.out = open(os.path.join(tmp, tag + ".out"), "w")
        self.err = open(os.path.join(tmp, tag + ".err"), "w")
        log("start " + " ".join(argv))
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        self.has_metrics = impl != "nginx"
        self.has_hello = not children

    def nginx_argv(self):
        d = os.path.join(self.tmp, "nginx")
        os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes {NPROC};
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {d}/tmp;
    proxy_temp_path {d}/tmp;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{ return 200 "Hello World"; }}
    }}
}}
""")
        return ["nginx", "-p", d, "-c", conf, "-g", "daemon off;"]

    def ready(self, timeout):
        ports = ([self.port] if self.has_hello else []) + ([self.mport] if self.has_metrics else [])
        return all(wait_port(p, self.proc, timeout) for p in ports)

    def pids(self):
        return proc_tree(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log(f"{self.impl} did not stop on SIGTERM; killing it")
                for p in reversed(self.pids()):
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
                self.proc.wait(timeout=15)
        self.out.close()
        self.err.close()


class RssSampler(threading.Thread):
    """Samples the server's RSS while a load run goes on; keeps the maximum."""

    def __init__(self, svc):
        super().__init__(daemon=True)
        self.svc, self.max_kb, self.stop_evt = svc, 0, threading.Event()

    def run(self):
        while not self.stop_evt.wait(0.25):
            kb = tree_kb(self.svc.pids(), "VmRSS")
            if kb:
                self.max_kb = max(self.max_kb, kb)


class ScrapeLoop(threading.Thread):
    """Scrapes /metrics over and over, SCRAPE_INTERVAL apart, while /hello is under load."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.ok, self.bad, self.stop_evt = port, 0, 0, threading.Event()

    def run(self):
        while not self.stop_evt.is_set():
            try:
                status, _, _ = http_get(self.port, "/metrics", timeout=10)
                if status == 200:
                    self.ok += 1
                else:
                    self.bad += 1
            except OSError:
                self.bad += 1
            self.stop_evt.wait(SCRAPE_INTERVAL)


def pending_requests(port):
    """TCP connections to `port` that may still deliver a request to the server: on the server's
    side established (accepted or in the accept queue) or CLOSE_WAIT; on the client's side
    established, SYN_SENT or FIN_WAIT1.  The last is a client that sent its request and closed
    while the server's kernel had not completed the handshake (the tutorial's single-threaded
    server has a 5-deep backlog): the SYN-ACK retransmitted seconds later completes it, and the
    server then counts a request the load generator has long given up on.  The server's half-open
    SYN_RECV entries are not listed in /proc/net/tcp, hence the client's side."""
    n = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local = int(fields[1].rsplit(":", 1)[1], 16)
                    remote = int(fields[2].rsplit(":", 1)[1], 16)
                    st = fields[3]
                    if (local == port and st in ("01", "08")) or \
                            (remote == port and st in ("01", "02", "04")):
                        n += 1
        except OSError:
            pass
    return n


def steady_counter(svc):
    """The hello counter once it stays put for 0.3 s (requests being handled have finished)."""
    deadline = time.monotonic() + 30
    last = hello_counter(svc.mport)
    while True:
        time.sleep(0.3)
        cur = hello_counter(svc.mport)
        if cur == last:
            return cur
        if time.monotonic() > deadline:
            raise RuntimeError(f"{svc.impl}: the hello counter keeps moving with no load")
        last = cur


def hello_run(svc, conns, with_scrapes=False):
    """One wrk run on /hello; returns its figures and checks the counter against wrk's count."""
    pids = svc.pids()
    before = steady_counter(svc) if svc.has_metrics else None
    # Requests of an earlier run that the server may still count during this one.
    leftover = pending_requests(svc.port)
    cpu0 = cpu_seconds(pids)
    sampler = RssSampler(svc)
    sampler.start()
    loop = ScrapeLoop(svc.mport) if with_scrapes else None
    if loop:
        loop.start()
    try:
        r = run_wrk(f"http://127.0.0.1:{svc.port}/hello", conns, DURATION)
    finally:
        sampler.stop_evt.set()
        if loop:
            loop.stop_evt.set()
            loop.join()
        sampler.join()
    # CPU per request: the server's CPU time during the run over the responses wrk received (at
    # most one request per connection is left over, out of tens of thousands).
    cpu = cpu_seconds(svc.pids()) - cpu0
    r["loaded_rss_kb"] = sampler.max_kb
    r["cpu_us_per_req"] = cpu / r["requests"] * 1e6 if r["requests"] else None
    if svc.has_metrics:
        delta = steady_counter(svc) - before
        # wrk stops with up to one request in flight per connection (more after timeouts): those
        # may have been counted by the server but not by wrk, and so may the leftovers of the run
        # before.  Anything outside the bracket is a lost or invented increment.
        slack = conns + r["errors"][3] + leftover
        r["counter_delta"] = delta
        r["exact"] = r["requests"] <= delta <= r["requests"] + slack
        if not r["exact"]:
            fail(f"{svc.impl}: hello counter moved by {delta:.0f}, wrk completed "
                 f"{r['requests']} (+ up to {slack} in flight)")
    if r["non2xx"]:
        fail(f"{svc.impl}: {r['non2xx']} non-2xx answers to /hello")
    if loop:
        r["scrapes_ok"], r["scrapes_bad"] = loop.ok, loop.bad
        if loop.bad:
            fail(f"{svc.impl}: {loop.bad} failed scrapes during the /hello load")
    del r["raw"]
    return r


def exact_check(svc, total=None):
    """Exactly `total` /hello requests from 50 concurrent keep-alive clients; the counter must
    move by exactly that much.  (wrk cannot say how many requests it sent in all.)"""
    total = total or (1000 if QUICK else 5000)
    per = total // 50
    total = per * 50
    before = steady_counter(svc)
    errors = []

    def client():
        c = None
        for _ in range(per):
            if c is None:
                # Connecting may be refused under a full backlog; nothing was sent, so retry.
                for attempt in range(50):
                    try:
                        c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30)
                        c.connect()
                        break
                    except OSError as e:
                        c = None
                        if attempt == 49:
                            errors.append("connect: " + repr(e))
                            return
                        time.sleep(0.05)
            try:
                c.request("GET", "/hello")
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
                if r.will_close:
                    c.close()
                    c = None
            except (OSError, http.client.HTTPException) as e:
                # Sent but not answered: whether it was counted is unknown, so it is an error.
                errors.append(repr(e))
                c.close()
                c = None
        if c is not None:
            c.close()

    threads = [threading.Thread(target=client) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    delta = steady_counter(svc) - before
    ok = delta == total and not errors
    if not ok:
        fail(f"{svc.impl}: exact check: {total} requests sent, counter moved by {delta:.0f}, "
             f"errors {errors[:5]}")
    return {"sent": total, "delta": delta, "ok": ok}


def big_scrape(impl, paths, tmp):
    """Starts the implementation with a 100k-child family; times single scrapes of it."""
    svc = Service(impl, paths, tmp, children=BIG_CHILDREN)
    try:
        if not svc.ready(300):
            raise RuntimeError(f"{impl} with {BIG_CHILDREN} children did not start "
                               f"(see {svc.err.name})")
        pid = svc.proc.pid
        times, growth, sizes = [], [], []
        for _ in range(REPS):
            time.sleep(0.2)
            rss0 = status_kb(pid, "VmRSS")
            reset = reset_peak(pid)
            status, body, secs = http_get(svc.mport, "/metrics", timeout=300)
            if status != 200:
                raise RuntimeError(f"{impl}: big scrape answered {status}")
            found = body.count(b"\nbench_children_total{")
            if found != BIG_CHILDREN:
                raise RuntimeError(f"{impl}: big scrape has {found} children, not {BIG_CHILDREN}")
            hwm = status_kb(pid, "VmHWM")
            times.append(secs * 1e3)
            sizes.append(len(body))
            if reset and rss0 is not None and hwm is not None:
                growth.append(hwm - rss0)
        return {"ms": median(times), "growth_kb": median(growth), "bytes": median(sizes),
                "all_ms": times}
    finally:
        svc.stop()


def run_service(src, build, peers):
    paths = (src, build, peers)
    impls = [i for i in SERVICE_IMPLS if wanted(i)]
    binaries = {"example-001": os.path.join(build, "service", "example-001")}
    res = {}
    tmp = tempfile.mkdtemp(prefix="promc-bench-")
    log(f"service logs in {tmp}")
    for impl in impls:
        if impl in binaries and not os.access(binaries[impl], os.X_OK):
            fail(f"{impl}: {binaries[impl]} is not built")
            continue
        r = res[impl] = {"hello": [], "hello_scrape": [], "metrics": []}
        svc = Service(impl, paths, tmp)
        try:
            if not svc.ready(60):
                fail(f"{impl}: did not start (see {svc.err.name})")
                continue
            # Idle: after one request per port, so lazily built state is counted, then a pause.
            http_get(svc.port, "/hello")
            if svc.has_metrics:
                http_get(svc.mport, "/metrics")
            time.sleep(1.0)
            r["idle_rss_kb"] = tree_kb(svc.pids(), "VmRSS")
            if svc.has_metrics:
                # First, while no earlier load can leave requests behind (see pending_requests).
                log(f"service {impl} exact count check")
                r["exact"] = exact_check(svc)
            for rep in range(REPS):
                # The /hello runs with and without the scrape loop alternate in order (A B, then
                # B A), so a drift of the machine over the run weighs on both alike.
                plain_first = rep % 2 == 0 or not svc.has_metrics
                if plain_first:
                    log(f"service {impl} /hello rep {rep + 1}/{REPS}")
                    r["hello"].append(hello_run(svc, 50))
                if svc.has_metrics:
                    log(f"service {impl} /hello with a scrape loop rep {rep + 1}/{REPS}")
                    r["hello_scrape"].append(hello_run(svc, 50, with_scrapes=True))
                    if not plain_first:
                        log(f"service {impl} /hello rep {rep + 1}/{REPS}")
                        r["hello"].append(hello_run(svc, 50))
                    log(f"service {impl} /metrics rep {rep + 1}/{REPS}")
                    m = run_wrk(f"http://127.0.0.1:{svc.mport}/metrics", 10, DURATION)
                    if m["non2xx"]:
                        fail(f"{impl}: {m['non2xx']} non-2xx answers to /metrics")
                    del m["raw"]
                    r["metrics"].append(m)
            r["loaded_rss_kb"] = max(x["loaded_rss_kb"] for x in r["hello"])
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
            fail(f"{impl}: {e}")
        finally:
            svc.stop()
        if svc.has_metrics:
            log(f"service {impl} one scrape of a {BIG_CHILDREN}-child family")
            try:
                r["big"] = big_scrape(impl, paths, tmp)
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
                fail(f"{impl} big scrape: {e}")
    if failures:
        log(f"service logs kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return impls, res


def service_report(impls, res):
    peers = [i for i in impls if i != "example-001"]

    def med(impl, part, key):
        runs = res.get(impl, {}).get(part, [])
        return median([x.get(key) for x in runs])

    def val(impl, what):
        r = res.get(impl, {})
        if what == "rps":
            return med(impl, "hello", "rps")
        if what == "cpu":
            return med(impl, "hello", "cpu_us_per_req")
        if what == "p99":
            return med(impl, "hello", "p99_ms")
        if what == "p99s":
            return med(impl, "hello_scrape", "p99_ms")
        if what == "p99d":
            a, b = med(impl, "hello", "p99_ms"), med(impl, "hello_scrape", "p99_ms")
            return (b - a) / a * 100 if a and b is not None else None
        if what == "scrapes":
            return med(impl, "metrics", "rps")
        if what == "big_ms":
            return r.get("big", {}).get("ms")
        if what == "big_mb":
            g = r.get("big", {}).get("growth_kb")
            return None if g is None else g / 1024
        if what == "big_out":
            b = r.get("big", {}).get("bytes")
            return None if b is None else b / 1e6
        if what == "idle":
            v = r.get("idle_rss_kb")
            return None if v is None else v / 1024
        if what == "loaded":
            v = r.get("loaded_rss_kb")
            return None if v is None else v / 1024
        raise ValueError(what)

    # (label, key, higher is better, target ratio text, check(promc, best, vals) -> bool or None)
    def vs(peer_name):
        return lambda v: v.get(peer_name)

    rows_def = [
        ("/hello req/s (wrk -t1 -c50)", "rps", True, "≥ 1.2× Go and ≥ 0.7× nginx",
         lambda p, v: p >= 1.2 * v["client_golang"] and p >= 0.7 * v["nginx"]),
        ("server CPU per /hello, µs", "cpu", False, "≤ 0.65× Go",
         lambda p, v: p <= 0.65 * v["client_golang"]),
        ("/hello p99, ms", "p99", False, "≤ Go", lambda p, v: p <= v["client_golang"]),
        ("/hello p99 with a scrape loop, ms", "p99s", False, "—", None),
        ("p99 change from the scrape loop, %", "p99d", False, "≤ +10 %", lambda p, v: p <= 10),
        ("/metrics scrapes/s (wrk -c10)", "scrapes", True, "≥ 2× the best",
         lambda p, v: p >= 2 * max(v[i] for i in peers if i != "nginx" and v.get(i))),
        (f"one scrape of a {BIG_CHILDREN // 1000}k-child family, ms", "big_ms", False,
         "≤ 0.3× the best", lambda p, v: p <= 0.3 * min(v[i] for i in peers if v.get(i))),
        ("RSS added by that scrape, MB", "big_mb", False, "≤ 16 MB", lambda p, v: p <= 16),
        ("size of that scrape, MB", "big_out", False, "—", None),
        ("idle RSS, MB", "idle", False, "≤ 2 MB", lambda p, v: p <= 2),
        ("loaded RSS (max during /hello load), MB", "loaded", False, "report", None),
    ]
    header = ["measure"] + impls + ["best peer", "example-001 / best peer", "target", "met"]
    rows = []
    for label, key, higher, target, check in rows_def:
        vals = {i: val(i, key) for i in impls}
        cells = [label] + [fmt_num(vals[i]) for i in impls]
        cand = [i for i in peers if vals.get(i) is not None]
        best = None
        if cand and key not in ("p99d", "big_mb", "big_out", "idle", "loaded", "p99s"):
            best = (max if higher else min)(cand, key=lambda i: vals[i])
        p = vals.get("example-001")
        ratio = p / vals[best] if best and p is not None and vals[best] else None
        met = "—"
        if check is not None and p is not None:
            try:
                met = "yes" if check(p, vals) else "**no**"
            except (KeyError, TypeError, ValueError):
                met = "— (peer missing)"
        cells += [f"{best} {fmt_num(vals[best])}" if best else "—", fmt_ratio(ratio), target, met]
        rows.append(cells)

    notes = []
    for impl in impls:
        r = res.get(impl, {})
        runs = r.get("hello", []) + r.get("hello_scrape", [])
        if not runs:
            continue
        errs = [x["errors"] for x in runs]
        parts = []
        if any(x.get("exact") is not None for x in runs):
            bad = sum(1 for x in runs if x.get("exact") is False)
            parts.append(f"counter within wrk's count after {len(runs) - bad}/{len(runs)} runs")
        if r.get("exact"):
            e = r["exact"]
            parts.append(f"exact check {e['sent']} sent / {e['delta']:.0f} counted: "
                         f"{'exact' if e['ok'] else '**WRONG**'}")
        if any(sum(e) for e in errs):
            parts.append("wrk socket errors (connect, read, write, timeout): " +
                         ", ".join(str(e) for e in errs))
        p99 = [x.get("p99_ms") for x in r.get("hello", [])]
        p99s = [x.get("p99_ms") for x in r.get("hello_scrape", [])]
        if p99s:
            parts.append("p99 per run (ms) " + ", ".join(fmt_num(x) for x in p99) +
                         "; with the scrape loop " + ", ".join(fmt_num(x) for x in p99s))
        scr = [x.get("scrapes_ok", 0) for x in r.get("hello_scrape", [])]
        if scr:
            parts.append(f"scrapes during those runs: {scr}")
        if impl == "example-001" and "big" in r:
            parts.append("the big scrape is measured on bench/scrape_bench (the promc HTTP "
                         "server serving a 100k-child family), as example-001 has no flag for it")
        if parts:
            notes.append(f"- {impl}: " + "; ".join(parts) + ".")
    return table(header, rows) + "\n\n" + "\n".join(notes)


# ---- Main ----------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--peers", required=True)
    ap.add_argument("--out", help="also write the report (markdown) and raw results (json) here")
    ap.add_argument("parts", nargs="*", default=["lib", "service"])
    a = ap.parse_args()
    for part in a.parts:
        if part not in ("lib", "service"):
            ap.error(f"unknown part {part!r} (lib, service)")

    info = machine_info(a.build)
    raw = {"machine": info}
    report = ["## Machine", ""] + [f"- {k}: {v}" for k, v in info.items()] + [""]
    if "lib" in a.parts:
        impls, results = run_lib(a.src, a.build, a.peers)
        raw["lib"] = {f"{i}/{w}": v for (i, w), v in results.items()}
        report += ["## A. Library micro-benchmarks (median of %d)" % REPS, "",
                   lib_report(impls, results), ""]
    if "service" in a.parts:
        impls, res = run_service(a.src, a.build, a.peers)
        raw["service"] = res
        report += [f"## B. Service benchmarks (wrk -t1 -c50 -d{DURATION}s, median of {REPS})", "",
                   f"Scrape loop: one scraper, {SCRAPE_INTERVAL} s between scrapes. example-001 "
                   f"--threads {NPROC} (scheduler "
                   f"{os.environ.get('EXAMPLE001_SCHEDULER') or 'batch'}), nginx {NPROC} workers, "
                   f"Go GOMAXPROCS={NPROC}, civetweb 64 "
                   "threads (one per connection), the tutorial single-threaded; wrk shares the "
                   "same cores.", "", service_report(impls, res), ""]
    report += [f"- load average at the end: {' '.join(open('/proc/loadavg').read().split()[:3])}"]
    if failures:
        report += ["", "## FAILED CHECKS", ""] + [f"- {f}" for f in failures]
    text = "\n".join(report) + "\n"
    print(text)
    if a.out:
        with open(a.out + ".md", "w") as f:
            f.write(text)
        with open(a.out + ".json", "w") as f:
            json.dump(raw, f, indent=1, default=str)
        log(f"report written to {a.out}.md and {a.out}.json")
    if failures:
        log(f"{len(failures)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
