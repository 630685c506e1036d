#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""No lock-out by idle connections: 10,000 idle TCP connections held open on each of
example-001's two ports (two helper processes, one per port, each under its own descriptor
limit), then a new client asks for /hello and /metrics and must be answered within 500 ms each.

The server runs with RLIMIT_NOFILE raised to its hard limit, and its default connection cap
follows it; with 20,000 descriptors and 20,000 connections offered, the process runs out of
descriptors before either cap, so the answer depends on both ways in: at the cap, and at EMFILE,
the longest-idle connection is closed to admit the newcomer.  The test also states the server's
RSS per idle connection (goal: at most 4 KiB), from the RSS before and after the first 10,000.

Then the same over TLS, on a metrics port with --web-config-file: 2,000 connections that each
completed a handshake and sit idle; the RSS per idle TLS connection is stated and bounded (at
most 48 KiB), and a new TLS client gets /metrics within 500 ms.
"""

import os
import resource
import socket
import subprocess
import sys
import textwrap
import time

import e2e_common as e
import e2e_tls as t
from e2e_common import check, fail, log

PER_PORT = 10000
HOLDER = textwrap.dedent("""
    import resource, socket, sys, time
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port, n = int(sys.argv[1]), int(sys.argv[2])
    socks, failed = [], 0
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            failed += 1
            s.close()
            continue
        socks.append(s)
    print("opened %d failed %d" % (len(socks), failed), flush=True)
    sys.stdin.readline()
    # How many the server closed meanwhile (end of stream).
    import select
    closed = 0
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    for fd, ev in poller.poll(0):
        try:
            if socket.socket(fileno=fd).recv(1) == b"":
                closed += 1
        except OSError:
            closed += 1
    print("closed %d" % closed, flush=True)
""")


TLS_CONNS = 2000
TLS_HOLDER = textwrap.dedent("""
    import socket, ssl, sys
    port, n, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ctx = ssl.create_default_context(cafile=ca)
    socks = []
    for i in range(n):
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                            server_hostname="127.0.0.1")
        socks.append(s)
    print("opened %d TLS" % len(socks), flush=True)
    sys.stdin.readline()
""")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def hold(port, n):
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(port), str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    e.on_cleanup(lambda: p.kill())
    line = p.stdout.readline().strip()
    check(line.startswith("opened"), "holder for port %d said %r" % (port, line))
    return p, line


def timed_get(port, path):
    t0 = time.monotonic()
    r = e.http_get(port, path, timeout=5)
    return r.status, time.monotonic() - t0


def body(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 2 * PER_PORT:
        fail("RLIMIT_NOFILE hard limit %d is below %d: this test needs it (TESTING-INFRA.md)"
             % (hard, 2 * PER_PORT))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by example-001
    svc = e.Service(args.service, tag="idle")
    pid = svc.proc.pid
    for _ in range(3):
        timed_get(svc.port, "/hello")
        timed_get(svc.metrics_port, "/metrics")
    time.sleep(0.5)
    rss0, fds0 = rss_kib(pid), fd_count(pid)
    h1, said1 = hold(svc.port, PER_PORT)
    e.wait_until(lambda: fd_count(pid) >= fds0 + PER_PORT * 0.98, 30,
                 "example-001 to accept the first 10,000", interval=0.2)
    time.sleep(0.5)
    rss1, fds1 = rss_kib(pid), fd_count(pid)
    per_conn = (rss1 - rss0) * 1024.0 / (fds1 - fds0)
    log("port %d: %s; example-001 holds %d more descriptors, RSS %d -> %d KiB: %.0f bytes per "
        "idle connection" % (svc.port, said1, fds1 - fds0, rss0, rss1, per_conn))
    h2, said2 = hold(svc.metrics_port, PER_PORT)
    time.sleep(2)
    log("port %d: %s; example-001 now holds %d descriptors (limit %d)"
        % (svc.metrics_port, said2, fd_count(pid), hard))
    results = []
    for _ in range(3):
        for port, path in ((svc.port, "/hello"), (svc.metrics_port, "/metrics")):
            status, took = timed_get(port, path)
            results.append((path, status, took))
    for path, status, took in results:
        log("new client: GET %s -> %d in %.1f ms" % (path, status, took * 1000))
        check(status == 200 and took < 0.5, "GET %s: %d in %.3f s with 20,000 idle connections "
              "held (limit 0.5 s)" % (path, status, took))
    closed = []
    for h in (h1, h2):
        out, _ = h.communicate("\n", timeout=60)
        closed.append(out.strip())
    log("holders: %s (connections the server closed to make room)" % "; ".join(closed))
    check(per_conn <= 4096, "RSS per idle connection %.0f bytes, above the 4 KiB goal" % per_conn)
    check(svc.proc.poll() is None, "example-001 died")
    svc.stop()
    tls_idle(args)


def tls_idle(args):
    d = e.mktemp_dir("idle-tls")
    c = t.make_certs(d)
    cfg = os.path.join(d, "web.yml")
    with open(cfg, "w") as f:
        f.write("tls_server_config:\n  cert_file: %s\n  key_file: %s\n" % (c["server.crt"],
                                                                         c["server.key"]))
    svc = e.Service(args.service, "--web-config-file", cfg, tag="idle-tls")
    pid = svc.proc.pid
    ca = ["--cacert", c["ca.crt"]]
    for _ in range(3):
        e.curl("https://127.0.0.1:%d/metrics" % svc.metrics_port, *ca)
    time.sleep(0.5)
    rss0, fds0 = rss_kib(pid), fd_count(pid)
    p = subprocess.Popen([sys.executable, "-c", TLS_HOLDER, str(svc.metrics_port),
                          str(TLS_CONNS), c["ca.crt"]],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    e.on_cleanup(lambda: p.kill())
    said = p.stdout.readline().strip()
    check(said == "opened %d TLS" % TLS_CONNS, "TLS holder said %r" % said)
    time.sleep(0.5)
    rss1, fds1 = rss_kib(pid), fd_count(pid)
    per_conn = (rss1 - rss0) * 1024.0 / max(1, fds1 - fds0)
    log("TLS metrics port: %s; example-001 holds %d more descriptors, RSS %d -> %d KiB: %.0f "
        "bytes per idle TLS connection" % (said, fds1 - fds0, rss0, rss1, per_conn))
    t0 = time.monotonic()
    code, _ = e.curl("https://127.0.0.1:%d/metrics" % svc.metrics_port, *ca)
    took = time.monotonic() - t0
    log("new TLS client: GET /metrics -> %d in %.1f ms (a new process, handshake included)"
        % (code, took * 1000))
    check(code == 200 and took < 0.5, "TLS /metrics with %d idle TLS connections: %d in %.3f s"
          % (TLS_CONNS, code, took))
    check(per_conn <= 48 * 1024, "RSS per idle TLS connection %.0f bytes, above 48 KiB" % per_conn)
    p.communicate("\n", timeout=60)
    svc.stop()


if __name__ == "__main__":
    e.main("idle", body)
