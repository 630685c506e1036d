#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Textfile collector: the real prometheus-node-exporter reads a file that promc rewrites in a
loop with promc_registry_write_textfile(), and no scrape of node_exporter ever sees an error or a
partial file: node_textfile_scrape_error stays 0, the rewrite counter only goes up, and all 2,000
gauges are there every time.

The control: the same file written the naive way (truncate, then write in two halves) is caught
by the same checks, so the test can fail.
"""

import os
import shutil
import subprocess
import threading
import time

import e2e_common as e
from e2e_common import check, fail, log


def exporter_bin():
    for p in ("/usr/bin/prometheus-node-exporter", shutil.which("prometheus-node-exporter") or "",
              shutil.which("node_exporter") or ""):
        if p and os.access(p, os.X_OK):
            return p
    fail("prometheus-node-exporter is not installed (Debian: prometheus-node-exporter; "
         "scripts/deps.sh test installs it)")


def scrape(port):
    r = e.http_get(port, "/metrics", timeout=5)
    check(r.status == 200, "node_exporter answered %d" % r.status)
    return e.parse_samples(r.text)


def inspect(samples):
    """(error flag, rewrites or None, number of shard gauges) of one node_exporter scrape."""
    err = samples.get("node_textfile_scrape_error", -1)
    writes = samples.get("textfile_writes_total")
    shards = sum(1 for k in samples if k.startswith("textfile_shard_size_bytes{"))
    return err, writes, shards


def body(args):
    writer = os.path.join(os.path.dirname(args.service), "..", "tests", "e2e", "textfile_writer")
    writer = os.path.normpath(writer)
    if not os.access(writer, os.X_OK):
        fail("textfile_writer is not built at %s" % writer)
    d = e.mktemp_dir("textfile")
    port = e.free_port()
    p = e.spawn([exporter_bin(), "--web.listen-address=127.0.0.1:%d" % port,
                 "--collector.disable-defaults", "--collector.textfile",
                 "--collector.textfile.directory=" + d])
    e.on_cleanup(lambda: e.kill_group(p))
    e.wait_until(lambda: e.http_get(port, "/metrics", timeout=1).status == 200, 15,
                 "node_exporter to serve")
    path = os.path.join(d, "promc.prom")

    # promc: rewrites for 4 s while this thread scrapes as fast as node_exporter answers.
    w = subprocess.Popen([writer, path, "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    scrapes, bad, last = 0, [], -1
    t_end = time.monotonic() + 6
    while w.poll() is None and time.monotonic() < t_end:
        err, writes, shards = inspect(scrape(port))
        if writes is None and err == 0 and shards == 0:
            continue  # before the first file
        scrapes += 1
        if err != 0 or writes is None or shards != 2000 or writes < last:
            bad.append((err, writes, shards))
        last = writes if writes is not None else last
    out, errout = w.communicate(timeout=10)
    check(w.returncode == 0, "textfile_writer failed: %s" % errout.decode(errors="replace"))
    rewrites = int(out.decode().strip() or 0)
    log("promc: %d rewrites, %d node_exporter scrapes, %d bad" % (rewrites, scrapes, len(bad)))
    check(rewrites >= 20 and scrapes >= 20, "too few rewrites (%d) or scrapes (%d) to prove much"
          % (rewrites, scrapes))
    check(not bad, "scrapes saw errors or partial files: %r" % bad[:5])
    err, writes, shards = inspect(scrape(port))
    check(err == 0 and writes == rewrites and shards == 2000,
          "after the loop: error %r, rewrites %r (wrote %d), %d shards" % (err, writes, rewrites,
                                                                          shards))

    # The control: a naive writer (truncate, then two halves) is caught by the same checks.
    text = open(path, "rb").read()
    half = len(text) // 2
    stop = threading.Event()

    def naive():
        while not stop.is_set():
            with open(path, "wb") as f:
                f.write(text[:half])
                f.flush()
                time.sleep(0.002)
                f.write(text[half:])

    t = threading.Thread(target=naive)
    t.start()
    try:
        caught = 0
        for _ in range(200):
            err, writes, shards = inspect(scrape(port))
            if err != 0 or writes is None or shards != 2000:
                caught += 1
            if caught >= 3:
                break
    finally:
        stop.set()
        t.join()
    log("naive writer: %d bad scrapes caught" % caught)
    check(caught >= 3, "the checks did not catch a naive writer's torn files: they prove nothing")


if __name__ == "__main__":
    e.main("textfile", body)
