#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The tutorial's "see Prometheus UI" step, by a real browser.

A real Prometheus scrapes example-001 (job example-001); headless Chromium loads Prometheus's
Status -> Targets page (/classic/targets in 2.42), the test reads the rendered DOM (--dump-dom) and
checks that the job is shown as "example-001 (1/1 up)" with our endpoint in state UP, then Chromium
takes a screenshot of the same page (prometheus-targets.png in --workdir; --save-to copies it, which
is how docs/images/prometheus-targets.png is made).
"""

import html.parser
import os
import shutil
import struct
import subprocess

import e2e_common as e
from e2e_common import check, fail, log

JOB = "example-001"
WIDTH, HEIGHT = 1280, 420


class TextOf(html.parser.HTMLParser):
    """The visible text of a page, one string per text node, scripts and styles left out."""

    def __init__(self):
        super().__init__()
        self.chunks = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.chunks.append(" ".join(data.split()))


def chromium(workdir, *extra, timeout=60):
    profile = e.mktemp_dir("chromium-profile")
    argv = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-proxy-server", "--user-data-dir=" + profile,
            "--window-size=%d,%d" % (WIDTH, HEIGHT), *extra]
    out = os.path.join(e.mktemp_dir("chromium-out"), "stdout")
    errp = out + ".err"
    # Chromium writes caches and crash reports under HOME and the XDG directories: point them
    # into the throwaway profile, so a run leaves nothing behind and needs no writable home.
    env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=os.path.join(profile, "config"),
               XDG_CACHE_HOME=os.path.join(profile, "cache"))
    with open(out, "wb") as o, open(errp, "wb") as er:
        p = e.spawn(argv, stdout=o, stderr=er, cwd=workdir, env=env)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            e.kill_group(p)
            fail("chromium did not finish within %d s: %s" % (timeout, " ".join(argv)))
    # Chromium leaves helper processes in its group now and then; they go with the group.
    e.kill_group(p)
    with open(out, "rb") as o, open(errp, "rb") as er:
        stdout, stderr = o.read().decode("utf-8", "replace"), er.read().decode("utf-8", "replace")
    if rc != 0:
        fail("chromium exited %d; stderr:\n%s" % (rc, stderr[-2000:]))
    return stdout, stderr


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", "%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


def body(args):
    svc = e.Service(args.service, "--fail-rate", "0", tag="browser-svc")
    target = "%s:%d" % (e.HOST, svc.metrics_port)
    prom = e.Prometheus([{"job_name": JOB, "static_configs": [{"targets": [target]}]}])
    prom.wait_up(JOB)
    # Some traffic, so the graph in a later look at this Prometheus is not empty.
    for _ in range(12):
        check(e.http_get(svc.port, "/hello").status == 200, "/hello failed")

    url = "http://%s:%d/classic/targets" % (e.HOST, prom.port)

    def dom_shows_up():
        dom, _ = chromium(args.workdir, "--dump-dom", url)
        p = TextOf()
        p.feed(dom)
        text = p.chunks
        dom_shows_up.text = text
        return ("%s (1/1 up)" % JOB) in text and text

    # The page shows what the last scrape found; the target is already up, so this should hold on
    # the first load, but a loaded machine may need a retry.
    text = e.wait_until(dom_shows_up, 60, lambda: "the targets page to show '%s (1/1 up)'; text: %s"
                        % (JOB, getattr(dom_shows_up, "text", None)), interval=1)
    endpoint = "http://%s/metrics" % target
    check(endpoint in text, "endpoint %s not on the page: %s" % (endpoint, text))
    i = text.index(endpoint)
    # The state cell follows the endpoint cell; the page writes "up" and its CSS shows it as UP.
    check(text[i + 1:i + 2] == ["up"], "endpoint %s is not shown as up: %s" % (endpoint, text[i:i + 8]))
    log("chromium DOM: %r, then %s in state %s" % ("%s (1/1 up)" % JOB, endpoint, text[i + 1]))

    shot = os.path.join(args.workdir, "prometheus-targets.png")
    if os.path.exists(shot):
        os.unlink(shot)
    chromium(args.workdir, "--hide-scrollbars", "--screenshot=" + shot, url)
    check(os.path.exists(shot), "chromium wrote no screenshot")
    size = png_size(shot)
    check(size == (WIDTH, HEIGHT), "screenshot is %dx%d, want %dx%d" % (*size, WIDTH, HEIGHT))
    check(os.path.getsize(shot) > 10000, "screenshot is suspiciously small (%d bytes)"
          % os.path.getsize(shot))
    log("screenshot %s: %dx%d, %d bytes" % (shot, *size, os.path.getsize(shot)))
    if args.save_to:
        shutil.copyfile(shot, args.save_to)
        log("copied to %s" % args.save_to)


def extra(ap):
    ap.add_argument("--save-to", help="also copy the screenshot here (docs/images/...)")


if __name__ == "__main__":
    e.main("e2e_browser", body, extra)
