#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Misuse: bad requests on both ports, slow clients, a client that never reads, bad command lines, a
port in use, SIGTERM while busy.

Requests go over raw sockets, since curl cannot send a broken request line.  Every bad request must
get a 4xx status (405 for POST /metrics) or a closed connection, never a hang or a 2xx; after each
one the service must still answer /hello.  Then: a bad flag exits 2 with one line on stderr; a port
in use exits non-zero with one line; SIGTERM exits 0 within the drain time, and /readyz answers 503
while the service drains.
"""

import http.client
import re
import socket
import subprocess
import threading
import time

import e2e_common as e
from e2e_common import check, fail, log

IO_TIMEOUT = 10  # seconds a misbehaving exchange may take before we call it a hang


def raw_exchange(port, data, wait=IO_TIMEOUT):
    """Sends data, reads until the server closes or `wait` passes.
    Returns (status or None, closed, response bytes)."""
    s = socket.create_connection((e.HOST, port), timeout=wait)
    got = b""
    closed = False
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            # The server may give up and close before it has read everything we send.
            pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            got += chunk
            # A complete response (headers and Content-Length body) is enough, closed or not.
            head, sep, rest = got.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(rest) >= int(m.group(1)):
                    break
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", got)
    return (int(m.group(1)) if m else None), closed, got


def expect_rejected(what, port, data, allowed=range(400, 500)):
    status, closed, got = raw_exchange(port, data)
    if status is not None:
        check(status in allowed, "%s: answered %d, want %s: %r"
              % (what, status, "/".join(str(a) for a in allowed) if len(allowed) < 5 else "4xx",
                 got[:200]))
        log("%s: %d%s" % (what, status, " and closed" if closed else ""))
    else:
        check(closed, "%s: no answer and the connection still open after %d s (got %r)"
              % (what, IO_TIMEOUT, got[:200]))
        check(not got, "%s: closed after sending something that is not HTTP: %r" % (what, got[:200]))
        log("%s: connection closed without an answer" % what)
    return status, got


def still_serves(svc):
    r = e.http_get(svc.port, "/hello", timeout=IO_TIMEOUT)
    check(r.status == 200 and r.body == b"Hello World", "/hello broke: %d %r" % (r.status, r.body))
    r = e.http_get(svc.metrics_port, "/metrics", timeout=IO_TIMEOUT)
    check(r.status == 200, "/metrics broke: %d" % r.status)


def bad_requests(svc):
    # A TLS ClientHello's first bytes (someone pointed https:// at us), ended by a blank line: a
    # real ClientHello has no line end and is only a slow client, which slow_clients() covers.
    tls_hello = bytes.fromhex("160301020001000200fc03") + b"\x01" * 32 + b"\r\n\r\n"
    big = b"GET %s HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n"
    for name, port in (("http", svc.port), ("metrics", svc.metrics_port)):
        path = b"/hello" if port == svc.port else b"/metrics"
        expect_rejected("%s: request line 'GARBAGE'" % name, port, b"GARBAGE\r\n\r\n")
        expect_rejected("%s: TLS handshake bytes" % name, port, tls_hello)
        expect_rejected("%s: request line with a bad version" % name, port,
                        b"GET " + path + b" HTTP/9\r\nHost: x\r\n\r\n")
        still_serves(svc)
        expect_rejected("%s: a 64 KiB header" % name, port, big.replace(b"%s", path))
        still_serves(svc)
    status, got = expect_rejected("metrics: POST /metrics", svc.metrics_port,
                                  b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                  b"Connection: close\r\n\r\nabc", allowed=(405,))
    check(status == 405, "POST /metrics closed without a 405")
    allow = re.search(rb"(?im)^allow:\s*(.*?)\r$", got)
    log("POST /metrics: Allow: %s" % (allow.group(1).decode() if allow else "(none)"))
    check(allow and b"GET" in allow.group(1), "405 without an Allow header naming GET")
    still_serves(svc)


def slow_clients(svc, count, limit):
    """`count` clients send part of their headers and then nothing.  Others must be served at once
    meanwhile, and the service must drop the slow ones within `limit` seconds."""
    socks = []
    for i in range(count):
        port = svc.port if i % 2 == 0 else svc.metrics_port
        s = socket.create_connection((e.HOST, port), timeout=IO_TIMEOUT)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Unfinished: ")
        socks.append(s)
    t0 = time.monotonic()
    still_serves(svc)
    check(time.monotonic() - t0 < 5, "requests waited behind the slow clients")
    log("%d slow clients hold half-sent headers; /hello and /metrics still answer at once" % count)
    results = []
    for s in socks:
        remaining = limit - (time.monotonic() - t0)
        s.settimeout(max(0.1, remaining))
        try:
            data = s.recv(65536)
            results.append(("closed" if not data else data.split(b"\r\n", 1)[0].decode(errors="replace"),
                            time.monotonic() - t0))
        except socket.timeout:
            fail("a slow client was still connected %d s after it stopped sending" % limit)
        except ConnectionResetError:
            results.append(("reset", time.monotonic() - t0))
        finally:
            s.close()
    for what, when in results:
        check(what in ("closed", "reset") or re.match(r"HTTP/1\.[01] 4\d\d", what),
              "a slow client got %r" % what)
    log("slow clients dropped after %.1f-%.1f s: %s" % (min(r[1] for r in results),
                                                       max(r[1] for r in results),
                                                       sorted(set(r[0] for r in results))))
    still_serves(svc)


def run_cli(service, *argv, timeout=15):
    r = subprocess.run([service, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def one_line(s):
    return s.endswith("\n") and s.count("\n") == 1 and s.strip() != ""


def bad_command_lines(service):
    for argv in (["--no-such-flag"], ["--port"], ["--port", "eighty"], ["--port", "70000"],
                 ["--fail-rate", "1.5"], ["--fail-rate", "x"], ["--log-level", "loud"],
                 ["--threads", "0"], ["--scheduler", "fifo"], ["stray-argument"]):
        rc, out, err = run_cli(service, *argv)
        check(rc == 2, "%s: exit %d, want 2 (stderr %r)" % (" ".join(argv), rc, err))
        check(one_line(err), "%s: want exactly one line on stderr, got %r" % (" ".join(argv), err))
        check(out == "", "%s: wrote to stdout: %r" % (" ".join(argv), out))
        log("%-24s -> exit 2: %s" % (" ".join(argv), err.strip()))
    rc, out, err = run_cli(service, "--help")
    check(rc == 0 and "--metrics-port" in out, "--help: exit %d, stdout %r" % (rc, out[:200]))
    log("--help -> exit 0, usage on stdout")


def port_in_use(service):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind((e.HOST, 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        for flag, other in (("--port", "--metrics-port"), ("--metrics-port", "--port")):
            t0 = time.monotonic()
            rc, out, err = run_cli(service, flag, str(port), other, "0", "--bind", e.HOST)
            check(rc != 0, "%s %d (in use): exit 0" % (flag, port))
            check(one_line(err), "%s %d (in use): want one line on stderr, got %r" % (flag, port, err))
            check(time.monotonic() - t0 < 10, "%s in use: took %.1f s to give up"
                  % (flag, time.monotonic() - t0))
            log("%s %d in use -> exit %d: %s" % (flag, port, rc, err.strip()))


class Pipeliner:
    """A client that pipelines GET /hello as fast as it can and never reads a response, with a
    4 KiB receive buffer: the service's answers back up at once.  It stops sending after `limit`
    bytes, or when stop() is called."""

    REQ = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n" * 1024

    def __init__(self, port, limit):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((e.HOST, port))
        self.sock.settimeout(0.2)
        self.limit = limit
        self.sent = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self):
        while not self._stop.is_set() and self.sent < self.limit:
            try:
                self.sent += self.sock.send(self.REQ)
            except socket.timeout:
                continue  # the service has stopped reading: keep trying until told to stop
            except OSError:
                return

    def stop(self):
        self._stop.set()
        self.thread.join(timeout=5)

    def close(self):
        self.stop()
        self.sock.close()


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1)) / 1024.0


def slow_reader(svc, seconds, max_growth_mib):
    """A client that sends requests and never reads the answers must neither delay other clients
    nor make the service buffer without bound: the service has to stop reading from it (its
    answers cannot go anywhere), so its memory stays within max_growth_mib."""
    pid = svc.proc.pid
    base = rss_mib(pid)
    client = Pipeliner(svc.port, limit=1 << 40)
    e.on_cleanup(client.close)
    t0 = time.monotonic()
    peak = base
    worst_hello = 0.0
    try:
        while time.monotonic() - t0 < seconds:
            peak = max(peak, rss_mib(pid))
            if peak - base > max_growth_mib:
                break  # stop before the machine suffers
            t1 = time.monotonic()
            r = e.http_get(svc.port, "/hello", timeout=IO_TIMEOUT)
            check(r.status == 200, "/hello answered %d beside the slow reader" % r.status)
            worst_hello = max(worst_hello, time.monotonic() - t1)
            time.sleep(0.1)
    finally:
        client.close()
    log("slow reader: sent %.1f MiB of pipelined requests in %.1f s without reading; service RSS "
        "%.1f -> %.1f MiB; /hello beside it answered within %.3f s"
        % (client.sent / 1048576.0, time.monotonic() - t0, base, peak, worst_hello))
    check(peak - base <= max_growth_mib,
          "the service's memory grew by %.0f MiB (from %.0f MiB) while one client pipelined %.0f MiB "
          "of requests without reading the answers: it buffers a connection's input without bound"
          % (peak - base, base, client.sent / 1048576.0))
    check(worst_hello < 2, "/hello took %.1f s beside the slow reader" % worst_hello)
    still_serves(svc)


def sigterm(service, drain):
    # Idle: exits at once.
    svc = e.Service(service, "--drain-seconds", str(drain), tag="term-idle")
    still_serves(svc)
    rc, took, err = svc.stop(timeout=drain + 10)
    check(rc == 0, "idle service: exit %d after SIGTERM" % rc)
    check(took < drain + 1, "idle service took %.1f s to stop (drain %d s)" % (took, drain))
    e.Service.parse_stopped(err)
    log("idle: SIGTERM -> exit 0 in %.2f s" % took)

    # Busy: a client that does not read its answers keeps a response in flight, so the service
    # drains for the whole drain time; /readyz must answer 503 meanwhile.  (A half-sent request
    # does not hold a drain: the server closes idle and unfinished connections at once.)
    svc = e.Service(service, "--drain-seconds", str(drain), tag="term-busy")
    for _ in range(3):
        still_serves(svc)
    holder = Pipeliner(svc.port, limit=4 << 20)
    e.on_cleanup(holder.close)
    # Once the counter stands still the kernel's buffers are full and an answer waits in the
    # service's own output buffer: from then on a response is in flight for good.  (Signalled
    # earlier, the service may find the connection between two pipelined requests, idle, and close
    # it at once; that is allowed, but would leave nothing to observe.)
    stalled = e.settled_value(svc, "hello_worlds_requests_total", quiet=0.5, timeout=20)
    log("busy: a client that does not read holds %d answered /hello in the kernel's buffers"
        % stalled)
    statuses = []
    stop = threading.Event()

    def poll_readyz():
        while not stop.is_set():
            try:
                statuses.append(e.http_get(svc.metrics_port, "/readyz", timeout=2).status)
            except Exception:  # refused, reset or cut off: the port is closing
                statuses.append("no answer")
            time.sleep(0.05)

    check(e.http_get(svc.metrics_port, "/readyz").status == 200, "/readyz not 200 before SIGTERM")
    poller = threading.Thread(target=poll_readyz, daemon=True)
    poller.start()
    time.sleep(0.3)
    n_before = len(statuses)
    rc, took, err = svc.stop(timeout=drain + 10)
    stop.set()
    poller.join(timeout=5)
    holder.close()
    during = statuses[n_before:]
    check(rc == 0, "busy service: exit %d after SIGTERM" % rc)
    check(took <= drain + 2, "busy service took %.1f s to stop, drain time %d s" % (took, drain))
    check(took >= drain * 0.8, "busy service stopped after %.1f s: it did not give the response in "
          "flight its drain time of %d s" % (took, drain))
    hello, wrong, failures = e.Service.parse_stopped(err)
    check(hello >= 3 and wrong == 0, "stopped line hello=%d wrong=%d" % (hello, wrong))
    summary = sorted(set(map(str, during)))
    log("busy: SIGTERM -> exit 0 in %.2f s (drain %d s); /readyz during the drain: %d polls, %s"
        % (took, drain, len(during), summary))
    check(503 in during, "/readyz never answered 503 while the service drained (saw %s)" % summary)
    check(200 not in during, "/readyz answered 200 after SIGTERM")


def body(args):
    # The parts are independent: each runs even when an earlier one failed, so one run reports
    # every problem; the test fails if any part did.
    failed = []

    def part(name, fn, *a):
        try:
            fn(*a)
        except (e.TestFailure, OSError, http.client.HTTPException) as x:
            failed.append(name)
            log("FAILED (%s): %s%s" % (name, x, e.process_states()))

    part("bad command lines", bad_command_lines, args.service)
    part("port in use", port_in_use, args.service)
    svc = e.Service(args.service, tag="misuse")
    part("bad requests", bad_requests, svc)
    part("slow clients", slow_clients, svc, 6, args.slow_limit)
    part("slow reader", slow_reader, svc, 3, 64)
    rc, _, err = svc.stop()
    check(rc == 0, "exit %d after SIGTERM" % rc)
    hello, wrong, _ = e.Service.parse_stopped(err)
    log("after the misuse the service counted hello=%d wrong=%d" % (hello, wrong))
    part("SIGTERM", sigterm, args.service, 3)
    if failed:
        fail("failed parts: %s (details above)" % ", ".join(failed))


def extra(ap):
    ap.add_argument("--slow-limit", type=float, default=40,
                    help="seconds within which the service must drop a client that stopped "
                         "sending its headers")


if __name__ == "__main__":
    e.main("e2e_misuse", body, extra)
