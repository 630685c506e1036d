#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Shutdown delay: after SIGTERM, example-001 --shutdown-delay S answers 503 on /readyz while both
ports keep accepting new connections for S seconds; then it drains and exits 0 within S + drain.

What a Kubernetes rollout needs: the pod must not refuse connections while the endpoints are being
updated, its readiness probe must fail meanwhile, and Prometheus must still be able to scrape the
last counts.  Checked here with clients that open a new connection for every request during the
delay, a keep-alive connection opened before SIGTERM, and the counter read through /metrics during
the delay.  Also: the environment variable, a second SIGTERM cutting the delay short, bad values,
and the default of 0 (SIGTERM on an idle service exits at once, as before).
"""

import http.client
import os
import signal
import subprocess
import threading
import time

import e2e_common as e
from e2e_common import check, fail, log

GRACE = 0.3  # seconds after SIGTERM before a poll must see the shutdown state (signal delivery)


def request(port, path, timeout=2):
    """One request on a new connection: the status, or a word for how it failed."""
    try:
        return e.http_get(port, path, timeout=timeout).status
    except ConnectionRefusedError:
        return "refused"
    except (OSError, http.client.HTTPException) as x:
        return type(x).__name__


class Poller:
    """Sends `path` to `port` on a new connection every `interval` seconds; records
    (time sent, status) until stopped."""

    def __init__(self, port, path, interval=0.05):
        self.port, self.path, self.interval = port, path, interval
        self.seen = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            t = time.monotonic()
            self.seen.append((t, request(self.port, self.path)))
            time.sleep(self.interval)

    def stop(self):
        self._stop.set()
        self.thread.join(timeout=10)

    def between(self, t0, t1):
        return [s for t, s in self.seen if t0 <= t < t1]


def hello_count(svc):
    return svc.samples().get("hello_worlds_requests_total")


def delay_serves(service, delay, drain):
    svc = e.Service(service, "--shutdown-delay", str(delay), "--drain-seconds", str(drain),
                    "--fail-rate", "0", tag="delay")
    check(request(svc.metrics_port, "/readyz") == 200, "/readyz not 200 before SIGTERM")
    keep = http.client.HTTPConnection(e.HOST, svc.port, timeout=5)
    keep.request("GET", "/hello")
    r = keep.getresponse()
    check(r.status == 200 and r.read() == b"Hello World", "keep-alive /hello before SIGTERM")
    keep_answers = 1

    pollers = {name: Poller(port, path) for name, port, path in (
        ("hello", svc.port, "/hello"), ("readyz", svc.metrics_port, "/readyz"),
        ("healthz", svc.metrics_port, "/healthz"))}
    time.sleep(0.3)
    t0 = time.monotonic()
    svc.proc.send_signal(signal.SIGTERM)

    # Halfway through the delay: the keep-alive connection from before still serves, and a scrape
    # shows every /hello answered so far (what Prometheus would pick up as the last counts).
    time.sleep(delay / 2)
    keep.request("GET", "/hello")
    r = keep.getresponse()
    check(r.status == 200 and r.read() == b"Hello World",
          "keep-alive /hello during the shutdown delay: %d" % r.status)
    keep_answers += 1
    answered = keep_answers + sum(1 for _, s in pollers["hello"].seen if s == 200)
    m = e.http_get(svc.metrics_port, "/metrics")
    check(m.status == 200, "/metrics during the shutdown delay: %d" % m.status)
    counted = e.parse_samples(m.text).get("hello_worlds_requests_total")
    check(counted is not None and counted >= answered,
          "/metrics during the delay shows hello_worlds_requests_total %s, but %d /hello had "
          "been answered" % (counted, answered))
    log("delay: %.1f s after SIGTERM, /metrics shows %d /hello (%d answered to us so far)"
        % (time.monotonic() - t0, counted, answered))
    keep.close()

    # Still running just before the delay ends.
    time.sleep(max(0.0, t0 + delay - GRACE - time.monotonic()))
    check(svc.proc.poll() is None, "example-001 exited %.1f s after SIGTERM, before its shutdown "
          "delay of %g s ended" % (time.monotonic() - t0, delay))
    try:
        rc = svc.proc.wait(timeout=delay + drain + 10)
    except subprocess.TimeoutExpired:
        fail("example-001 did not exit within %g s of SIGTERM" % (delay + drain + 10))
    took = time.monotonic() - t0
    for p in pollers.values():
        p.stop()
    svc._reader.join(timeout=5)
    err = svc.stderr()

    check(rc == 0, "exit %d after SIGTERM" % rc)
    check(delay - GRACE <= took <= delay + drain + 1,
          "exited %.2f s after SIGTERM; want between the delay (%g s) and delay + drain (%g s)"
          % (took, delay, delay + drain))
    window = (t0 + GRACE, t0 + delay - GRACE)
    summary = {}
    for name, p in pollers.items():
        during = p.between(*window)
        summary[name] = (len(during), sorted(set(map(str, during))))
        check(len(during) >= 5, "only %d %s polls during the delay" % (len(during), name))
    for name, want in (("hello", 200), ("readyz", 503), ("healthz", 200)):
        during = pollers[name].between(*window)
        bad = [s for s in during if s != want]
        check(not bad, "/%s during the shutdown delay: want %d from every new connection, got %s"
              % (name, want, sorted(set(map(str, bad)))))
    before = pollers["readyz"].between(0, t0)
    check(before and all(s == 200 for s in before), "/readyz before SIGTERM: %s"
          % sorted(set(map(str, before))))
    after = pollers["hello"].between(t0 + delay + drain + GRACE, float("inf"))
    check(all(s != 200 for s in after), "/hello answered after the delay and the drain")
    log("delay: during the %g s delay %s" % (delay, "; ".join(
        "/%s %d polls %s" % (n, c, s) for n, (c, s) in summary.items())))

    hello, wrong, _ = e.Service.parse_stopped(err)
    ours = keep_answers + sum(1 for _, s in pollers["hello"].seen if s == 200)
    sent = keep_answers + len(pollers["hello"].seen)
    check(ours <= hello <= sent, "stopped line hello=%d, but %d /hello were answered 200 out of "
          "%d sent" % (hello, ours, sent))
    check(wrong == 0, "stopped line wrong=%d" % wrong)
    log("delay: SIGTERM -> exit 0 in %.2f s (delay %g s, drain %g s); hello=%d, %d answered to us"
        % (took, delay, drain, hello, ours))


def env_and_second_signal(service):
    """EXAMPLE001_SHUTDOWN_DELAY sets the delay; a second SIGTERM ends it early."""
    os.environ["EXAMPLE001_SHUTDOWN_DELAY"] = "30"
    try:
        svc = e.Service(service, "--drain-seconds", "2", tag="env")
    finally:
        del os.environ["EXAMPLE001_SHUTDOWN_DELAY"]
    t0 = time.monotonic()
    svc.proc.send_signal(signal.SIGTERM)
    e.wait_until(lambda: request(svc.metrics_port, "/readyz") == 503, 5,
                 "/readyz to answer 503 after SIGTERM")
    time.sleep(0.5)
    check(svc.proc.poll() is None, "exited during a 30 s shutdown delay set by the environment")
    check(request(svc.port, "/hello") == 200, "/hello refused during the shutdown delay")
    rc, took, err = svc.stop(timeout=10)  # the second SIGTERM
    check(rc == 0, "exit %d after a second SIGTERM" % rc)
    check(took < 3, "took %.1f s to exit after a second SIGTERM (idle, drain 2 s)" % took)
    e.Service.parse_stopped(err)
    log("env: EXAMPLE001_SHUTDOWN_DELAY=30 kept it serving; a second SIGTERM %.1f s later ended "
        "it in %.2f s" % (time.monotonic() - t0 - took, took))


def default_is_zero(service):
    svc = e.Service(service, "--drain-seconds", "3", tag="default")
    check(request(svc.port, "/hello") == 200, "/hello")
    rc, took, err = svc.stop(timeout=10)
    check(rc == 0, "exit %d after SIGTERM" % rc)
    check(took < 1, "without --shutdown-delay an idle service took %.2f s to stop" % took)
    log("default: no delay, idle SIGTERM -> exit 0 in %.2f s" % took)


def bad_values(service):
    cases = [(["--shutdown-delay", "-1"], None), (["--shutdown-delay", "soon"], None),
             (["--shutdown-delay", "3601"], None), ([], "x"), ([], "nan")]
    for argv, env_value in cases:
        env = dict(os.environ)
        if env_value is not None:
            env["EXAMPLE001_SHUTDOWN_DELAY"] = env_value
        what = " ".join(argv) or "EXAMPLE001_SHUTDOWN_DELAY=" + env_value
        try:
            p = subprocess.run([service, "--port", "0", "--metrics-port", "0", "--bind", e.HOST,
                                *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=10)
        except subprocess.TimeoutExpired:
            fail("%s: the service started and ran instead of refusing the value" % what)
        err = p.stderr.decode(errors="replace")
        check(p.returncode == 2, "%s: exit %d, want 2 (%r)" % (what, p.returncode, err))
        check(err.startswith("example-001: ") and err.count("\n") == 1,
              "%s: want one line on stderr, got %r" % (what, err))
        check("shutdown-delay" in err or "SHUTDOWN_DELAY" in err,
              "%s: the message does not name the setting: %r" % (what, err))
        check(p.stdout == b"", "%s: wrote to stdout" % what)
        log("%-32s -> exit 2: %s" % (what, err.strip()))


def body(args):
    failed = []

    def part(name, fn, *a):
        try:
            fn(*a)
        except (e.TestFailure, OSError, http.client.HTTPException) as x:
            failed.append(name)
            log("FAILED (%s): %s%s" % (name, x, e.process_states()))

    part("bad values", bad_values, args.service)
    part("default 0", default_is_zero, args.service)
    part("delay serves", delay_serves, args.service, 3, 2)
    part("env and second signal", env_and_second_signal, args.service)
    if failed:
        fail("failed parts: %s (details above)" % ", ".join(failed))


if __name__ == "__main__":
    e.main("e2e_shutdown", body)
