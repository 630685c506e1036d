#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The Pushgateway client against the real Debian prometheus-pushgateway (tests/e2e/push_client.c
makes each call):

- push (PUT) into a group of job + instance "db/primary 1" (a '/', so @base64) + zone "" (empty,
  so @base64/=): the Pushgateway's API shows exactly those grouping labels and the value;
- push_add (POST) adds a metric to the group, push (PUT) replaces the group, delete removes it;
- a metric pushed with another type than the same name has elsewhere: PROMC_EHTTP with the
  Pushgateway's 400 text in the message;
- a port nobody listens on: PROMC_ECONNECT at once; a server that accepts and never answers:
  PROMC_ETIMEDOUT within the timeout (plus slack), no hang;
- a Pushgateway behind a web-config (TLS with our CA, a client certificate required, bcrypt basic
  auth): the right password and certificate push, a wrong password gets PROMC_EHTTP 401, a missing
  CA fails verification;
- a bearer token and the Content-Type reach the server (a small recording server here: the
  Pushgateway does not check tokens);
- bad options never reach the network: PROMC_EINVAL, PROMC_ELABELNAME, PROMC_EUTF8.
"""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # libxcrypt's crypt(3), bcrypt included; Python 3.11 still has it
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import e2e_common as e
from e2e_common import check, fail, log


def gateway_bin():
    for p in ("/usr/bin/prometheus-pushgateway", shutil.which("prometheus-pushgateway") or ""):
        if p and os.access(p, os.X_OK):
            return p
    fail("prometheus-pushgateway is not installed (Debian: prometheus-pushgateway; "
         "scripts/deps.sh test installs it)")


class Gateway:
    def __init__(self, d, web_config=None, scheme="http"):
        self.port = e.free_port()
        self.scheme = scheme
        argv = [gateway_bin(), "--web.listen-address=127.0.0.1:%d" % self.port,
                "--persistence.file=" + os.path.join(d, "pg-%d.data" % self.port)]
        if web_config:
            argv.append("--web.config.file=" + web_config)
        self.log = os.path.join(d, "pg-%d.log" % self.port)
        with open(self.log, "wb") as f:
            self.proc = e.spawn(argv, stdout=f, stderr=subprocess.STDOUT)
        e.on_cleanup(lambda: e.kill_group(self.proc))
        e.on_failure_show("pushgateway log %d" % self.port, lambda: open(self.log).read())

        def up():
            if self.proc.poll() is not None:
                fail("pushgateway exited at start: %s" % open(self.log).read()[-500:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        e.wait_until(up, 15, "the pushgateway to listen")
        self.url = "%s://127.0.0.1:%d" % (scheme, self.port)

    def groups(self):
        r = e.http_get(self.port, "/api/v1/metrics")
        check(r.status == 200, "pushgateway API answered %d" % r.status)
        return json.loads(r.body)["data"]

    def group(self, labels):
        for g in self.groups():
            if g["labels"] == labels:
                return g
        return None


def run(client, *args, expect_ok=True):
    r = subprocess.run([client, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = r.stdout.decode(errors="replace").strip()
    if expect_ok and r.returncode != 0:
        fail("push_client %s: exit %d: %s %s" % (" ".join(args), r.returncode, out,
                                                r.stderr.decode(errors="replace")))
    parts = out.split(" ", 2)
    code, secs, msg = parts[0][3:], float(parts[1]), parts[2] if len(parts) > 2 else ""
    return code, secs, msg


def value_of(group, metric):
    m = group.get(metric) if group else None
    return float(m["metrics"][0]["value"]) if m else None


def plain_gateway(client, d):
    g = Gateway(d)
    labels = {"job": "nightly backup", "instance": "db/primary 1", "zone": ""}
    args = [g.url, "nightly backup", "instance=db/primary 1", "zone="]
    run(client, "--metric", "backup_rows", "--value", "7", "put", *args)
    grp = g.group(labels)
    check(grp is not None, "no group %r in %r" % (labels, [x["labels"] for x in g.groups()]))
    check(value_of(grp, "backup_rows") == 7, "backup_rows: %r" % grp.get("backup_rows"))
    log("push: group %r holds backup_rows 7" % labels)

    run(client, "--metric", "backup_bytes", "--value", "99", "post", *args)
    grp = g.group(labels)
    check(value_of(grp, "backup_rows") == 7 and value_of(grp, "backup_bytes") == 99,
          "push_add did not add: %r" % grp)
    run(client, "--metric", "backup_rows", "--value", "8", "put", *args)
    grp = g.group(labels)
    check(value_of(grp, "backup_rows") == 8 and "backup_bytes" not in grp,
          "push did not replace the group: %r" % grp)
    log("push_add added backup_bytes; push replaced the group")
    run(client, "delete", *args)
    check(g.group(labels) is None, "delete left the group")
    log("delete removed the group")

    # A job name with a '/' goes as job@base64; values of every length modulo 3 (base64url
    # without padding), UTF-8 and '%' percent-encoded.
    run(client, "--metric", "slash_job", "put", g.url, "a/b", "p=x/", "q=/ab/", "r=été 100%")
    want = {"job": "a/b", "p": "x/", "q": "/ab/", "r": "été 100%"}
    check(g.group(want) is not None, "group %r not found in %r" % (want, [x["labels"] for x in g.groups()]))

    # The same name with another type in another group (a counter kind_clash is exposed as
    # kind_clash_total): the Pushgateway's 400.
    run(client, "--metric", "kind_clash_total", "--type", "gauge", "put", g.url, "one")
    code, _, msg = run(client, "--metric", "kind_clash", "--type", "counter", "put", g.url, "two",
                       expect_ok=False)
    check(code == "PROMC_EHTTP" and "answered 400" in msg, "type clash gave %s: %s" % (code, msg))
    log("type clash: %s: %s" % (code, msg[:160]))

    # Bad options: refused before any request.
    for extra, want in ((["put", "", "j"], "PROMC_EINVAL"), (["put", g.url, ""], "PROMC_EINVAL"),
                        (["put", g.url, "j", "bad-name=x"], "PROMC_ELABELNAME"),
                        (["put", g.url, "j", "job=x"], "PROMC_EINVAL"),
                        (["put", g.url, "j", "__x=1"], "PROMC_ERESERVED"),
                        (["put", g.url, "j", "ok=\udcff"], "PROMC_EUTF8")):  # byte 0xff
        code, _, msg = run(client, *extra, expect_ok=False)
        check(code == want, "%r gave %s (%s), not %s" % (extra, code, msg, want))
    code, _, msg = run(client, "--user", "u", "put", g.url, "j", expect_ok=False)
    check(code == "PROMC_EINVAL" and "password" in msg, "user without password: %s %s" % (code, msg))
    code, _, msg = run(client, "put", "ftp://127.0.0.1/", "j", expect_ok=False)
    check(code == "PROMC_EINVAL", "an ftp URL gave %s: %s" % (code, msg))
    log("bad options: refused with their codes, nothing sent")
    return g


def unreachable(client):
    port = e.free_port()
    code, secs, msg = run(client, "--timeout", "2", "put", "http://127.0.0.1:%d" % port, "j",
                          expect_ok=False)
    check(code == "PROMC_ECONNECT" and secs < 1.5, "closed port: %s in %.2f s: %s"
          % (code, secs, msg))
    log("closed port: %s in %.3f s" % (code, secs))
    # Accepts, reads, never answers.
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        ls.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(ls.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        code, secs, msg = run(client, "--timeout", "1", "put",
                              "http://127.0.0.1:%d" % ls.getsockname()[1], "j", expect_ok=False)
    finally:
        stop.set()
        t.join()
        for s in held:
            s.close()
        ls.close()
    check(code == "PROMC_ETIMEDOUT" and 0.9 <= secs < 2.5,
          "silent server: %s in %.2f s: %s" % (code, secs, msg))
    log("silent server: %s in %.3f s (timeout 1 s)" % (code, secs))


def make_certs(d):
    def ossl(*a):
        r = subprocess.run(["openssl", *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=d)
        check(r.returncode == 0, "openssl %s: %s" % (a[0], r.stderr.decode(errors="replace")))

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
         "-days", "2", "-subj", "/CN=promc test CA")
    for name in ("server", "client"):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
             name + ".csr", "-subj", "/CN=" + ("127.0.0.1" if name == "server" else "pusher"))
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n" if name == "server"
                    else "extendedKeyUsage=clientAuth\n")
        ossl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext")
    return {n: os.path.join(d, n) for n in ("ca.crt", "server.crt", "server.key", "client.crt",
                                            "client.key")}


def secured_gateway(client, d):
    c = make_certs(d)
    hashed = crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH))
    cfg = os.path.join(d, "web.yml")
    with open(cfg, "w") as f:
        json.dump({"tls_server_config": {"cert_file": c["server.crt"], "key_file": c["server.key"],
                                         "client_auth_type": "RequireAndVerifyClientCert",
                                         "client_ca_file": c["ca.crt"]},
                   "basic_auth_users": {"pusher": hashed}}, f)
    g = Gateway(d, web_config=cfg, scheme="https")
    tls = ["--ca", c["ca.crt"], "--cert", c["client.crt"], "--key", c["client.key"]]
    run(client, *tls, "--user", "pusher", "--password", "s3cret", "--metric", "secure_rows",
        "--value", "3", "put", g.url, "secure")
    r = subprocess.run(["curl", "-sS", "--cacert", c["ca.crt"], "--cert", c["client.crt"], "--key",
                        c["client.key"], "-u", "pusher:s3cret", g.url + "/api/v1/metrics"],
                       stdout=subprocess.PIPE, timeout=20)
    data = json.loads(r.stdout)["data"]
    grp = next((x for x in data if x["labels"] == {"job": "secure"}), None)
    check(value_of(grp, "secure_rows") == 3, "secured push not stored: %r" % data)
    log("https + client certificate + basic auth: pushed secure_rows 3")
    code, _, msg = run(client, *tls, "--user", "pusher", "--password", "wrong", "put", g.url,
                       "secure", expect_ok=False)
    check(code == "PROMC_EHTTP" and "401" in msg, "wrong password: %s %s" % (code, msg))
    code, _, msg = run(client, "--cert", c["client.crt"], "--key", c["client.key"], "--user",
                       "pusher", "--password", "s3cret", "put", g.url, "secure", expect_ok=False)
    check(code == "PROMC_ESYS" and "certificate" in msg.lower(),
          "no CA: %s %s" % (code, msg))
    code, _, msg = run(client, "--ca", c["ca.crt"], "--user", "pusher", "--password", "s3cret",
                       "put", g.url, "secure", expect_ok=False)
    check(code != "0", "no client certificate was accepted")
    log("wrong password: 401; no CA: verification failed; no client certificate: %s" % code)


def bearer(client):
    seen = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_PUT(self):
            n = int(self.headers.get("Content-Length", 0))
            seen.append((self.command, self.path, dict(self.headers), self.rfile.read(n)))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        run(client, "--bearer", "tok-123", "--metric", "bearer_rows", "put",
            "http://127.0.0.1:%d/prefix/" % srv.server_port, "j", "instance=x y")
    finally:
        srv.shutdown()
        srv.server_close()
    check(len(seen) == 1, "recorded %d requests" % len(seen))
    method, path, headers, body = seen[0]
    check(method == "PUT" and path == "/prefix/metrics/job/j/instance/x%20y", "path %r" % path)
    check(headers.get("Authorization") == "Bearer tok-123", "Authorization %r"
          % headers.get("Authorization"))
    check(headers.get("Content-Type") == "text/plain; version=0.0.4; charset=utf-8",
          "Content-Type %r" % headers.get("Content-Type"))
    check(b"bearer_rows 1.0\n" in body, "body %r" % body[:200])
    log("bearer token, Content-Type, a path prefix and %20 reached the server")


def body(args):
    client = os.path.normpath(os.path.join(os.path.dirname(args.service), "..", "tests", "e2e",
                                           "push_client"))
    if not os.access(client, os.X_OK):
        fail("push_client is not built at %s" % client)
    d = e.mktemp_dir("push")
    plain_gateway(client, d)
    unreachable(client)
    secured_gateway(client, d)
    bearer(client)


if __name__ == "__main__":
    e.main("push", body)
