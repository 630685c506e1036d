# SPDX-License-Identifier: Apache-2.0
"""Shared helpers for the end-to-end tests of example-001 (standard library only).

Every test script starts its own example-001 on ports picked by the kernel (port 0, read back from
the two lines the service prints), its own Prometheus on a free port with its own temporary storage,
and stops everything it started when it ends, whether it passes, fails or is killed: children run in
their own process group, get SIGKILL from the kernel if the test process dies (PR_SET_PDEATHSIG), and
are killed group-wise by the cleanup that runs on normal exit, on an exception and on SIGTERM/SIGINT.

HTTP requests to our own servers go through http.client rather than urllib, so a proxy set in the
environment can never redirect them off the loopback interface; curl is called with --noproxy '*'.
"""

import argparse
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HOST = "127.0.0.1"

_children = []  # Popen objects, each the leader of its own process group
_tmpdirs = []
_cleanups = []  # extra callables run at cleanup, last registered first
_failed = False


class TestFailure(Exception):
    """Raised by fail(); main() turns it into exit status 1 after cleanup."""


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def fail(msg):
    raise TestFailure(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


# ---------------------------------------------------------------------------------------------
# Processes and cleanup


def _set_pdeathsig():
    # PR_SET_PDEATHSIG = 1: the kernel sends SIGKILL to the child when this test process dies, so
    # a test killed by ctest's timeout cannot leave a service or a Prometheus behind.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def spawn(argv, **kw):
    """Starts argv in a new session (its own process group) tied to this process's lifetime."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(argv, start_new_session=True, preexec_fn=_set_pdeathsig, **kw)
    _children.append(p)
    return p


def kill_group(p, sig=signal.SIGKILL):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def mktemp_dir(tag):
    d = tempfile.mkdtemp(prefix="promc-e2e-%s-" % tag)
    _tmpdirs.append(d)
    return d


def on_cleanup(fn):
    _cleanups.append(fn)


def cleanup():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # cleanup must go on whatever one step does
            log("cleanup step failed: %r" % (e,))
    for p in _children:
        if p.poll() is None:
            kill_group(p, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for p in _children:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        # The group may hold grandchildren (chromium's helpers) even when the leader is gone.
        kill_group(p, signal.SIGKILL)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log("process %d did not die after SIGKILL" % p.pid)
    _children.clear()
    for d in _tmpdirs:
        if _failed and os.environ.get("PROMC_E2E_KEEP"):
            log("keeping %s (PROMC_E2E_KEEP is set)" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    _tmpdirs.clear()


def _on_signal(signum, _frame):
    raise TestFailure("killed by signal %d" % signum)


def main(name, body, extra_args=None):
    """Runs body(args) with the common arguments parsed; prints PASS/FAIL; always cleans up."""
    global _failed
    ap = argparse.ArgumentParser(description="promc end-to-end test: " + name)
    ap.add_argument("--service", required=True, help="path to the example-001 binary")
    ap.add_argument("--workdir", default=os.getcwd(), help="where to leave artefacts")
    if extra_args:
        extra_args(ap)
    args = ap.parse_args()
    if not os.access(args.service, os.X_OK):
        print("FAIL %s: service binary %s is missing or not executable" % (name, args.service))
        sys.exit(1)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _on_signal)
    t0 = time.monotonic()
    rc = 0
    try:
        body(args)
    except TestFailure as e:
        _failed = True
        rc = 1
        print("FAIL %s: %s" % (name, e), flush=True)
    except Exception:
        _failed = True
        rc = 1
        import traceback

        traceback.print_exc()
        print("FAIL %s: unexpected exception (above)" % name, flush=True)
    finally:
        # A second signal must not cut the cleanup short.
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if _failed:
            _dump_diagnostics()
        cleanup()
    if rc == 0:
        print("PASS %s (%.1f s)" % (name, time.monotonic() - t0), flush=True)
    sys.exit(rc)


_diagnostics = []  # (title, callable returning text)


def on_failure_show(title, fn):
    _diagnostics.append((title, fn))


def _dump_diagnostics():
    states = process_states()
    if states:
        print("---- processes:%s" % states)
    for title, fn in _diagnostics:
        try:
            text = fn()
        except Exception as e:
            text = "(unavailable: %r)" % (e,)
        lines = (text or "").splitlines()
        print("---- %s (last %d lines) ----" % (title, min(40, len(lines))))
        for line in lines[-40:]:
            print("    " + line)
    sys.stdout.flush()


def wait_until(fn, timeout, what, interval=0.1):
    """Polls fn() until it returns a true value, which is returned; fails after timeout seconds
    with `what` (a string, or a callable giving one) in the message."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except (OSError, http.client.HTTPException, ValueError) as e:
            last_exc = e
        if time.monotonic() >= deadline:
            if callable(what):
                what = what()
            fail("timed out after %.0f s waiting for %s%s"
                 % (timeout, what, " (last error: %r)" % (last_exc,) if last_exc else ""))
        time.sleep(interval)


def free_port():
    """A port the kernel just handed out on the loopback interface (for programs that cannot take
    port 0 and report back, i.e. Prometheus).  Callers retry if someone takes it in between."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# HTTP


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage (case-insensitive get)
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def http_request(port, path, method="GET", headers=None, body=None, timeout=10, host=HOST):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return Response(r.status, r.headers, r.read())
    finally:
        c.close()


def http_get(port, path, **kw):
    return http_request(port, path, "GET", **kw)


def curl(url, *extra, timeout=10):
    """Runs curl like the tutorial does; returns (http_code, body)."""
    argv = ["curl", "-sS", "--noproxy", "*", "--max-time", str(timeout), "-o", "-",
            "-w", "\n%{http_code}", *extra, url]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 5)
    if r.returncode != 0:
        fail("curl %s failed (exit %d): %s" % (url, r.returncode, r.stderr.decode(errors="replace")))
    out = r.stdout.decode("utf-8", "replace")
    body, _, code = out.rpartition("\n")
    return int(code), body


# ---------------------------------------------------------------------------------------------
# The exposition: a parser small enough to trust for our own metrics (names, optional labels,
# one value, optional timestamp).

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+\S+)?$')


def parse_samples(text):
    """Returns {"name{labels}": float} for every sample line; fails on a line it cannot read."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            fail("unparsable exposition line: %r" % line)
        key = m.group(1) + (m.group(2) or "")
        if key in out:
            fail("duplicate sample %s in exposition" % key)
        out[key] = float(m.group(3))
    return out


# ---------------------------------------------------------------------------------------------
# example-001


_services = []


def describe_exit(rc):
    if rc is None:
        return "running"
    if rc < 0:
        return "killed by signal %d (%s)" % (-rc, signal.Signals(-rc).name)
    return "exited with status %d" % rc


def process_states():
    """' [example-001 TAG pid N: running | exited ... | killed by signal ...]' for each service."""
    return "".join(" [example-001 %s pid %d: %s]" % (s.tag, s.proc.pid, describe_exit(s.proc.poll()))
                   for s in _services)


class Service:
    """One example-001 process on kernel-chosen ports."""

    METRICS_LINE = re.compile(r"^Prometheus metrics available on port: (\d+) /metrics$")
    HTTP_LINE = re.compile(r"^HTTP server available on port (\d+)$")

    def __init__(self, binary, *extra, tag="svc", bind=HOST, start_timeout=20):
        self.binary = binary
        d = mktemp_dir(tag)
        self.stderr_path = os.path.join(d, "stderr.txt")
        self.stdout_lines = []
        self.argv = [binary, "--port", "0", "--metrics-port", "0", "--bind", bind, *extra]
        self._stderr_f = open(self.stderr_path, "wb")
        self.proc = spawn(self.argv, stdout=subprocess.PIPE, stderr=self._stderr_f)
        self.tag = tag
        _services.append(self)
        on_failure_show("example-001 %s stdout" % tag, lambda: "\n".join(self.stdout_lines))
        on_failure_show("example-001 %s stderr" % tag, self.stderr)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        self.port = None
        self.metrics_port = None
        wait_until(self._ports_known, start_timeout, "example-001 to print its two ports")
        log("example-001 (%s) pid %d: /hello on %d, /metrics on %d"
            % (tag, self.proc.pid, self.port, self.metrics_port))

    def _read_stdout(self):
        for raw in self.proc.stdout:
            self.stdout_lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def _ports_known(self):
        for line in list(self.stdout_lines):
            m = self.METRICS_LINE.match(line)
            if m:
                self.metrics_port = int(m.group(1))
            m = self.HTTP_LINE.match(line)
            if m:
                self.port = int(m.group(1))
        if self.port and self.metrics_port:
            return True
        if self.proc.poll() is not None:
            fail("example-001 exited with status %d before printing its ports; stderr: %s"
                 % (self.proc.returncode, self.stderr().strip()))
        return False

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def metrics(self, accept=None):
        h = {"Accept": accept} if accept else {}
        r = http_get(self.metrics_port, "/metrics", headers=h)
        check(r.status == 200, "GET /metrics returned %d" % r.status)
        return r

    def samples(self):
        return parse_samples(self.metrics().text)

    def stop(self, timeout=15):
        """SIGTERM, then waits; returns (exit status, seconds it took, stderr)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(self.proc)
            fail("example-001 did not exit within %.0f s of SIGTERM" % timeout)
        took = time.monotonic() - t0
        self._reader.join(timeout=5)
        self._stderr_f.close()
        return rc, took, self.stderr()

    STOPPED_LINE = re.compile(r"^example-001: stopped: hello=(\d+) wrong=(\d+) failures=(\d+)$", re.M)

    @classmethod
    def parse_stopped(cls, stderr):
        m = cls.STOPPED_LINE.search(stderr)
        if not m:
            fail("no 'example-001: stopped: hello=N wrong=M failures=K' line on stderr: %r"
                 % stderr[-500:])
        return int(m.group(1)), int(m.group(2)), int(m.group(3))


def settled_value(svc, name, quiet=0.5, timeout=10):
    """Reads a sample until it has not changed for `quiet` seconds.  The service counts a failure
    just after it has answered, so the last request's failure can land a moment after the client
    has its response; reading once would race with it."""
    deadline = time.monotonic() + timeout
    last = svc.samples().get(name)
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        v = svc.samples().get(name)
        if v != last:
            last, since = v, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return v
    fail("%s kept changing for %.0f s" % (name, timeout))


# ---------------------------------------------------------------------------------------------
# Prometheus


class Prometheus:
    """A real Prometheus (Debian's 2.42) on a free loopback port with its own temporary storage."""

    def __init__(self, scrape_configs, tag="prom", attempts=3, extra_args=()):
        self.extra_args = list(extra_args)
        self.dir = mktemp_dir(tag)
        self.log_path = os.path.join(self.dir, "prometheus.log")
        on_failure_show("prometheus log", self._log_text)
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "scrape_configs": scrape_configs,
        }
        # JSON is YAML, so the config needs no YAML writer.
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            json.dump(config, f, indent=1)
        for attempt in range(1, attempts + 1):
            self.port = free_port()
            if self._start():
                return
            log("prometheus could not start on port %d (attempt %d), retrying" % (self.port, attempt))
        fail("prometheus did not start after %d attempts" % attempts)

    def _log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _start(self):
        storage = os.path.join(self.dir, "data")
        argv = ["prometheus", "--config.file=" + os.path.join(self.dir, "prometheus.yml"),
                "--storage.tsdb.path=" + storage, "--web.listen-address=%s:%d" % (HOST, self.port),
                "--log.level=info"] + self.extra_args
        with open(self.log_path, "ab") as logf:
            self.proc = spawn(argv, stdout=logf, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if "address already in use" in self._log_text():
                    return False
                fail("prometheus exited with status %d at start" % self.proc.returncode)
            try:
                if http_get(self.port, "/-/ready", timeout=2).status == 200:
                    log("prometheus pid %d ready on port %d" % (self.proc.pid, self.port))
                    return True
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        fail("prometheus was not ready within 30 s")

    def api(self, path, **params):
        q = ("?" + urllib.parse.urlencode(params)) if params else ""
        r = http_get(self.port, "/api/v1/" + path + q)
        check(r.status == 200, "prometheus %s returned %d: %s" % (path, r.status, r.text[:300]))
        doc = json.loads(r.body)
        check(doc.get("status") == "success", "prometheus %s: %s" % (path, r.text[:300]))
        return doc["data"]

    def target(self, job):
        for t in self.api("targets")["activeTargets"]:
            if t["labels"].get("job") == job:
                return t
        return None

    def wait_up(self, job, timeout=30):
        # The first scrape comes 5-7 s after start whatever the interval (see TESTING-INFRA.md).
        def up():
            t = self.target(job)
            return t if t and t["health"] == "up" else None

        t = wait_until(up, timeout, "prometheus to report job %s up" % job, interval=0.25)
        log("prometheus: job %s is up (%s, last scrape %s)" % (job, t["scrapeUrl"], t["lastScrape"]))
        return t

    def query(self, expr):
        """Instant query; returns {labels-json: float} for a vector result."""
        data = self.api("query", query=expr)
        check(data["resultType"] == "vector", "query %s gave %s" % (expr, data["resultType"]))
        return {json.dumps(s["metric"], sort_keys=True): float(s["value"][1]) for s in data["result"]}

    def query_one(self, expr):
        res = self.query(expr)
        if len(res) != 1:
            return None
        return next(iter(res.values()))
