#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The tutorial's "Verify metrics" step, automated.

Like the tutorial: 12 x GET /hello and 8 x GET /helliss with curl, then GET /metrics with curl.
Checks the three counters, the exact HELP/TYPE lines and the _created gauges of the tutorial's
output block (text format 0.0.4, what curl's "Accept: */*" gets), the same counters in OpenMetrics
when that is asked for, that the exceptions counter equals the failures the service reports when it
stops (0 at --fail-rate 0, 12 at --fail-rate 1, the same count on every run with a fixed --seed),
and /healthz, /readyz and the process_* metrics.
"""

import os
import re
import subprocess

import e2e_common as e
from e2e_common import check, fail, log

HELLO = 12
WRONG = 8

# The tutorial's output block, minus the values (checked separately): the family order, the HELP
# and TYPE lines and the sample names must match it line for line.
TUTORIAL_BLOCK = [
    "# HELP hello_worlds_requests_total Hello Worlds requested.",
    "# TYPE hello_worlds_requests_total counter",
    "hello_worlds_requests_total {hello}",
    "# HELP hello_worlds_requests_created Hello Worlds requested.",
    "# TYPE hello_worlds_requests_created gauge",
    "hello_worlds_requests_created {created}",
    "# HELP wrong_requests_total Wrong Requests received.",
    "# TYPE wrong_requests_total counter",
    "wrong_requests_total {wrong}",
    "# HELP wrong_requests_created Wrong Requests received.",
    "# TYPE wrong_requests_created gauge",
    "wrong_requests_created {created}",
    "# HELP hello_world_exceptions_total Exceptions serving Hello World.",
    "# TYPE hello_world_exceptions_total counter",
    "hello_world_exceptions_total {exceptions}",
    "# HELP hello_world_exceptions_created Exceptions serving Hello World.",
    "# TYPE hello_world_exceptions_created gauge",
    "hello_world_exceptions_created {created}",
]

# A Unix time in the tutorial's notation (1.6849306030837066e+09): seconds with a fraction.
CREATED = r"[1-9]\.[0-9]+e\+09"


def block_regex(exceptions):
    lines = []
    for line in TUTORIAL_BLOCK:
        if "{" in line:
            name = line.split(" ")[0]
            value = line.split(" ")[1].format(hello=re.escape("%d.0" % HELLO),
                                              wrong=re.escape("%d.0" % WRONG),
                                              exceptions=re.escape("%d.0" % exceptions),
                                              created=CREATED)
            lines.append(re.escape(name + " ") + value)
        else:
            lines.append(re.escape(line))
    return re.compile("^" + r"\n".join(lines) + "$", re.M)


def send_tutorial_requests(svc):
    base = "http://%s:%d" % (e.HOST, svc.port)
    for i in range(HELLO):
        code, body = e.curl(base + "/hello")
        check(code == 200 and body == "Hello World",
              "/hello #%d answered %d %r, want 200 'Hello World'" % (i + 1, code, body))
    for i in range(WRONG):
        code, _ = e.curl(base + "/helliss")
        check(code == 404, "/helliss #%d answered %d, want 404" % (i + 1, code))


def run_once(service, fail_rate, seed=None, full_checks=False):
    """One service run through the tutorial; returns the failure count it reported."""
    extra = ["--fail-rate", str(fail_rate)] + (["--seed", str(seed)] if seed is not None else [])
    svc = e.Service(service, *extra, tag="tutorial")
    send_tutorial_requests(svc)

    # Let the last request's failure (counted after the answer) land before reading.
    exceptions = e.settled_value(svc, "hello_world_exceptions_total")
    code, text = e.curl("http://%s:%d/metrics" % (e.HOST, svc.metrics_port))
    check(code == 200, "curl /metrics answered %d" % code)
    m = block_regex(int(exceptions)).search(text)
    if not m:
        fail("the tutorial's block (HELP/TYPE/values, hello=%d wrong=%d exceptions=%d) is not in "
             "/metrics; got:\n%s" % (HELLO, WRONG, exceptions, text))
    samples = e.parse_samples(text)
    if full_checks:
        full_exposition_checks(svc, text, samples)

    rc, took, err = svc.stop()
    check(rc == 0, "example-001 exited %d after SIGTERM (stderr %r)" % (rc, err[-300:]))
    hello, wrong, failures = e.Service.parse_stopped(err)
    check((hello, wrong) == (HELLO, WRONG),
          "service reported hello=%d wrong=%d, want %d and %d" % (hello, wrong, HELLO, WRONG))
    check(failures == exceptions,
          "hello_world_exceptions_total is %g but the service reported failures=%d"
          % (exceptions, failures))
    log("fail-rate %s seed %s: hello_world_exceptions_total %g == failures=%d (stopped in %.2f s)"
        % (fail_rate, seed, exceptions, failures, took))
    check(samples["hello_world_exceptions_total"] == failures, "exceptions/failures mismatch")
    return failures


def full_exposition_checks(svc, text, samples):
    # promtool is Prometheus's own parser and linter for the text format.
    r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    check(r.returncode == 0, "promtool check metrics exited %d: %s"
          % (r.returncode, r.stderr.decode(errors="replace")))
    log("promtool check metrics: clean")

    ct = svc.metrics().headers.get("Content-Type", "")
    check(ct.startswith("text/plain") and "version=0.0.4" in ct,
          "default /metrics Content-Type is %r, want text/plain; version=0.0.4" % ct)

    # OpenMetrics when asked: one counter family per metric, _total and _created samples, # EOF.
    om = svc.metrics(accept="application/openmetrics-text; version=1.0.0; charset=utf-8")
    ct = om.headers.get("Content-Type", "")
    check(ct.startswith("application/openmetrics-text") and "version=1.0.0" in ct,
          "OpenMetrics Content-Type is %r" % ct)
    omt = om.text
    check(omt.endswith("# EOF\n"), "OpenMetrics output does not end with '# EOF\\n'")
    for fam, help_, value in (("hello_worlds_requests", "Hello Worlds requested.", HELLO),
                              ("wrong_requests", "Wrong Requests received.", WRONG)):
        want = re.compile("^" + re.escape("# TYPE %s counter\n# HELP %s %s\n%s_total %d.0\n"
                                          % (fam, fam, help_, fam, value))
                          + re.escape(fam + "_created ") + CREATED + "$", re.M)
        want_alt = re.compile("^" + re.escape("# HELP %s %s\n# TYPE %s counter\n%s_total %d.0\n"
                                              % (fam, help_, fam, fam, value))
                              + re.escape(fam + "_created ") + CREATED + "$", re.M)
        check(want.search(omt) or want_alt.search(omt),
              "OpenMetrics family %s (counter, _total %d.0, _created) not found in:\n%s"
              % (fam, value, omt))
    check("# TYPE hello_worlds_requests_created gauge" not in omt,
          "OpenMetrics output must not expose _created as a separate gauge family")
    log("OpenMetrics: counter families with _total/_created and # EOF")

    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                 "process_start_time_seconds", "process_open_fds"):
        check(name in samples, "%s missing from /metrics" % name)
    check(samples["process_resident_memory_bytes"] > 0, "process_resident_memory_bytes is 0")
    check(samples["process_open_fds"] >= 3, "process_open_fds < 3")
    created = samples["hello_worlds_requests_created"]
    check(abs(created - samples["process_start_time_seconds"]) < 60,
          "hello_worlds_requests_created %f is not near the process start time %f"
          % (created, samples["process_start_time_seconds"]))

    for path in ("/healthz", "/readyz"):
        r = e.http_get(svc.metrics_port, path)
        check(r.status == 200, "GET %s answered %d while running" % (path, r.status))
    log("/healthz and /readyz: 200; process_* metrics present")


def http_thread_policies(pid):
    """The scheduling policy (field 41 of /proc/PID/task/TID/stat) of each promc-http thread."""
    policies = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() != "promc-http":
                    continue
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        policies.append(int(fields[41 - 3]))
    return sorted(policies)


def scheduler_checks(service):
    """--scheduler: the /hello threads run under SCHED_BATCH (3) by default and under the normal
    policy (0) with --scheduler normal; the metrics server's thread stays normal either way."""
    for extra, want in (([], [0, 3, 3]), (["--scheduler", "normal"], [0, 0, 0])):
        svc = e.Service(service, "--threads", "2", *extra, tag="scheduler")
        code, _ = e.curl("http://%s:%d/hello" % (e.HOST, svc.port))
        check(code == 200, "/hello answered %d" % code)
        got = http_thread_policies(svc.proc.pid)
        check(got == want, "%s: promc-http thread policies %s, want %s"
              % (" ".join(["--threads", "2"] + extra), got, want))
        log("--threads 2 %s: promc-http thread policies %s" % (" ".join(extra), got))
        rc, _, err = svc.stop()
        check(rc == 0, "example-001 exited %d after SIGTERM (stderr %r)" % (rc, err[-300:]))


def body(args):
    scheduler_checks(args.service)
    check(run_once(args.service, 0, full_checks=True) == 0, "failures at --fail-rate 0")
    check(run_once(args.service, 1) == HELLO, "--fail-rate 1 must fail every /hello")
    # The tutorial's 20 % rate with a fixed seed: the same count on every run.
    counts = [run_once(args.service, 0.2, seed=20230524) for _ in range(3)]
    check(len(set(counts)) == 1, "a fixed --seed gave different failure counts: %s" % counts)
    log("--fail-rate 0.2 --seed 20230524: %d failures on each of %d runs" % (counts[0], len(counts)))


if __name__ == "__main__":
    e.main("e2e_tutorial", body)
