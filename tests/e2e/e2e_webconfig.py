#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""web-config.yml, differentially: every file of a corpus goes to example-001's metrics port
(--web-config-file) and to the exporter-toolkit's own server (tests/e2e/toolkit_server, built from
Debian's golang-github-prometheus-exporter-toolkit-dev 0.8.2), and the same curl and
openssl s_client requests must get the same outcome from both:

- files that must not start (unknown keys, bad hashes, a key that does not match its certificate,
  a CA without client auth, unknown versions, ciphers, curves, headers, unreadable files, bad YAML):
  both refuse, and example-001's message names the field;
- files that start: for each request (no credentials, right and wrong passwords, an unknown user,
  client certificates of our CA, of another CA, expired, none; TLS 1.1, 1.2 and 1.3; a restricted
  cipher; a curve the server does not allow) the HTTP status, or a failed handshake, is the same,
  and so is the negotiated protocol; configured headers come back from both;
- re-reading: a new user, a broken file (500, or refused handshakes), a fixed file, a rotated
  certificate (s_client sees the new serial) reach both servers without a restart;
- promc's table of Go cipher-suite names is exactly Go's tls.CipherSuites().

Deliberate differences, each checked as such: a plain-HTTP request to a TLS port
(Go answers 400, promc closes the connection); a client_ca_file without any certificate (Go starts
and refuses every client certificate, promc refuses to start); promc re-reads within a second,
the toolkit on every request; HTTP/2 (Go negotiates h2, promc speaks HTTP/1.1: the statuses are
compared); a cipher list without AES-128-GCM under http2 (Go refuses it for HTTP/2, promc serves
HTTP/1.1 with it); a hash broken after the start (promc checks hashes at every read and answers
500, the toolkit checks them only at start and answers that user 401).
"""

import os
import re
import subprocess
import time

import e2e_common as e
import e2e_tls as t
from e2e_common import check, fail, log

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# ---- requests -----------------------------------------------------------------------------------

def curl(port, scheme, *opts):
    """The status of GET /metrics, or 'fail' when no HTTP response came; and the headers."""
    argv = ["curl", "-sS", "--noproxy", "*", "--max-time", "10", "-o", "/dev/null", "-D", "-",
            "-w", "\n@@%{http_code}", *opts, "%s://127.0.0.1:%d/metrics" % (scheme, port)]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    out = r.stdout.decode(errors="replace")
    head, _, code = out.rpartition("\n@@")
    headers = {}
    for line in head.split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if r.returncode != 0 or code in ("", "000"):
        return "fail", headers
    return code, headers


def s_client(port, c, *opts):
    """'ok TLSv1.x CIPHER STATUS' when the handshake completes and a request sent over it gets an
    HTTP answer (a TLS 1.3 server refuses a missing client certificate only after the client's
    Finished), else 'fail'."""
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "localhost",
            "-CAfile", c["ca.crt"], "-verify_return_error", "-ign_eof", *opts]
    try:
        r = subprocess.run(argv, input=b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n"
                           b"Connection: close\r\n\r\n", stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=15)
    except subprocess.TimeoutExpired:
        return "timeout"
    out = r.stdout.decode(errors="replace")
    proto = re.search(r"^\s*Protocol\s*: (\S+)", out, re.M)
    cipher = re.search(r"^\s*Cipher\s*: (\S+)", out, re.M)
    status = re.search(r"^HTTP/1\.[01] (\d{3})", out, re.M)
    if not (proto and cipher and status) or cipher.group(1) == "0000":
        return "fail"
    return "ok %s %s %s" % (proto.group(1), cipher.group(1), status.group(1))


def serial_seen(port, c):
    r = subprocess.run("openssl s_client -connect 127.0.0.1:%d -servername localhost -CAfile %s "
                       "</dev/null 2>/dev/null | openssl x509 -noout -serial" % (port, c["ca.crt"]),
                       shell=True, stdout=subprocess.PIPE, timeout=15)
    return r.stdout.decode().strip()


def cert_serial(path):
    r = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", path],
                       stdout=subprocess.PIPE, check=True)
    return r.stdout.decode().strip()


# ---- the corpus ---------------------------------------------------------------------------------

def corpus(c, d):
    alice = t.bcrypt("secret")
    alice_2y = subprocess.run(["htpasswd", "-nbBC", "5", "alice", "secret"], stdout=subprocess.PIPE,
                              check=True).stdout.decode().strip().split(":", 1)[1]
    tls = "tls_server_config:\n  cert_file: %s\n  key_file: %s\n" % (c["server.crt"],
                                                                     c["server.key"])
    users = "basic_auth_users:\n  alice: %s\n" % alice

    def mtls(kind, ca=True):
        return tls + "  client_auth_type: %s\n" % kind + (
            "  client_ca_file: %s\n" % c["ca.crt"] if ca else "")

    good = {
        "empty": "",
        "users_only": users,
        "users_2y": "basic_auth_users:\n  alice: '%s'\n" % alice_2y,
        "tls": tls,
        "tls_relative": "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
        "tls_users": tls + users,
        "no_client_cert": mtls("NoClientCert", ca=False),
        "request": mtls("RequestClientCert", ca=False),
        "require_any": mtls("RequireAnyClientCert", ca=False),
        "verify_if_given": mtls("VerifyClientCertIfGiven"),
        "require_verify": mtls("RequireAndVerifyClientCert") + users,
        "min13": tls + "  min_version: TLS13\n",
        "max12": tls + "  max_version: TLS12\n",
        "min10": tls + "  min_version: TLS10\n",
        # http2 off: Go's HTTP/2 wants an AES-128-GCM suite (see h2_cipher below).
        "cipher": tls + "  max_version: TLS12\n  cipher_suites: "
                        "[TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n"
                        "http_server_config:\n  http2: false\n",
        "curve": tls + "  curve_preferences: [CurveP384]\n",
        "headers": tls + "http_server_config:\n  http2: false\n  headers:\n"
                         "    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n"
                         "    Strict-Transport-Security: max-age=31536000\n" + users,
        "expired_server": "tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
                          % (c["expired-server.crt"], c["expired-server.key"]),
    }
    bad = {
        # name: (file text, what example-001's message must name)
        "unknown_top": ("tls_config:\n  cert_file: x\n", "tls_config"),
        "unknown_tls_key": (tls + "  certfile: x\n", "tls_server_config.certfile"),
        "bad_hash": ("basic_auth_users:\n  alice: plaintext\n", "basic_auth_users.alice"),
        "short_hash": ("basic_auth_users:\n  alice: $2y$10$abc\n", "basic_auth_users.alice"),
        "key_mismatch": ("tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
                         % (c["server.crt"], c["other.key"]), "key_file"),
        "missing_key": ("tls_server_config:\n  cert_file: %s\n" % c["server.crt"], "key_file"),
        "missing_cert": ("tls_server_config:\n  key_file: %s\n" % c["server.key"], "cert_file"),
        "ca_without_auth": (tls + "  client_ca_file: %s\n" % c["ca.crt"], "client_ca_file"),
        "bad_auth_type": (tls + "  client_auth_type: RequireClientCertPlease\n",
                          "client_auth_type"),
        "bad_version": (tls + "  min_version: TLS14\n", "min_version"),
        "bad_cipher": (tls + "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n", "cipher_suites"),
        "bad_curve": (tls + "  curve_preferences: [CurveP224]\n", "curve_preferences"),
        "bad_header": ("http_server_config:\n  headers:\n    Server: promc\n",
                       "http_server_config.headers.Server"),
        "bad_header_value": ("http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
                             "X-Frame-Options"),
        "missing_cert_file": ("tls_server_config:\n  cert_file: %s/nope.crt\n  key_file: %s\n"
                              % (d, c["server.key"]), "cert_file"),
        "not_yaml": ("tls_server_config: [\n", "line"),
        "not_a_mapping": ("- a\n- b\n", "expected a mapping"),
        "bool_type": ("http_server_config:\n  http2: maybe\n", "http_server_config.http2"),
    }
    return good, bad


def probes(c, tls):
    """(name, kind, options) of every request made of a server."""
    scheme = "https" if tls else "http"
    ca = ["--cacert", c["ca.crt"]] if tls else []
    cert = ["--cert", c["client.crt"], "--key", c["client.key"]]
    out = [
        ("anonymous", "curl", scheme, ca),
        ("alice", "curl", scheme, ca + ["-u", "alice:secret"]),
        ("alice_wrong", "curl", scheme, ca + ["-u", "alice:wrong"]),
        ("mallory", "curl", scheme, ca + ["-u", "mallory:secret"]),
        ("bearer", "curl", scheme, ca + ["-H", "Authorization: Bearer secret"]),
    ]
    if tls:
        out += [
            ("cert_alice", "curl", scheme, ca + cert + ["-u", "alice:secret"]),
            ("stranger_alice", "curl", scheme,
             ca + ["--cert", c["stranger.crt"], "--key", c["stranger.key"], "-u", "alice:secret"]),
            ("expired_alice", "curl", scheme, ca + ["--cert", c["expired-client.crt"], "--key",
                                                     c["expired-client.key"], "-u", "alice:secret"]),
            ("tls12_alice", "curl", scheme, ca + ["--tlsv1.2", "--tls-max", "1.2", "-u",
                                                  "alice:secret"]),
            ("plain_http", "curl", "http", []),
            ("s_tls13", "s_client", None, ["-tls1_3"]),
            ("s_tls12", "s_client", None, ["-tls1_2"]),
            ("s_tls11", "s_client", None, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]),
            ("s_tls12_p256", "s_client", None, ["-tls1_2", "-groups", "P-256",
                                                "-cipher", "ECDHE"]),
            ("s_tls13_p256", "s_client", None, ["-tls1_3", "-groups", "P-256"]),
            ("s_tls12_aes128", "s_client", None, ["-tls1_2", "-cipher",
                                                  "ECDHE-RSA-AES128-GCM-SHA256"]),
        ]
    return out


def run_probes(port, c, tls):
    res = {}
    for name, kind, scheme, opts in probes(c, tls):
        if kind == "curl":
            res[name] = curl(port, scheme, *opts)
        else:
            res[name] = (s_client(port, c, *opts), {})
    return res


CONFIGURED = ("x-frame-options", "x-content-type-options", "strict-transport-security")


def compare(name, ours, theirs, mismatches):
    for probe in ours:
        a, ha = ours[probe]
        b, hb = theirs[probe]
        if probe == "plain_http":
            # Listed difference: Go answers 400 on its TLS port, promc closes the connection.
            check(a == "fail" and b == "400", "%s/plain_http: promc %s, toolkit %s" % (name, a, b))
            continue
        if a.startswith("ok") and b.startswith("ok") and name != "cipher":
            # The suite each prefers differs (Go: AES-128 first, OpenSSL: AES-256): protocol and
            # status are compared; the "cipher" file, which allows one suite, compares it too.
            a, b = a.split()[:2] + a.split()[3:], b.split()[:2] + b.split()[3:]
        if a != b:
            mismatches.append("%s/%s: promc %s, toolkit %s" % (name, probe, a, b))
        for h in CONFIGURED + ("www-authenticate",):
            if a == b and (h in ha) != (h in hb) and not (h == "x-content-type-options"
                                                           and a not in ("401",)):
                mismatches.append("%s/%s: header %s: promc %r, toolkit %r" % (
                    name, probe, h, ha.get(h), hb.get(h)))


# ---- the test -----------------------------------------------------------------------------------

def body(args):
    d = e.mktemp_dir("webconfig")
    c = t.make_certs(d)
    # The configs are written beside the certificates: "tls_relative" names them relatively.
    toolkit = t.build_toolkit_server(args.workdir)

    # Go's cipher names, against promc's table (webconfig.c).
    names = subprocess.run([toolkit, "-ciphers"], stdout=subprocess.PIPE, check=True,
                           timeout=30).stdout.decode().split()
    with open(os.path.join(SRC, "src", "http", "webconfig.c")) as f:
        ours = re.findall(r'^\s*\{"(TLS_[A-Z0-9_]+)", ', f.read(), re.M)
    check(sorted(names) == sorted(ours), "cipher tables differ: Go %s, promc %s"
          % (sorted(set(names) - set(ours)), sorted(set(ours) - set(names))))
    log("cipher suites: promc's table is Go's tls.CipherSuites(), %d names" % len(names))

    good, bad = corpus(c, d)

    # Files that must not start.
    for name, (text, field) in sorted(bad.items()):
        path = write(os.path.join(d, "bad-%s.yml" % name), text)
        r = subprocess.run([args.service, "--port", "0", "--metrics-port", "0", "--bind",
                            "127.0.0.1", "--web-config-file", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20)
        msg = r.stderr.decode(errors="replace").strip()
        check(r.returncode == 1, "%s: example-001 exited %d, not 1: %s" % (name, r.returncode, msg))
        check(field in msg, "%s: the message does not name %r: %s" % (name, field, msg))
        g = t.ToolkitServer(toolkit, path, d)
        check(g.exited not in (None, 0), "%s: the toolkit server started with it" % name)
        log("refused by both: %-18s promc: %s" % (name, msg.split(": ", 1)[-1][:110]))
    # Listed difference: with http2 on (the default) Go's net/http refuses a cipher list without
    # an AES-128-GCM suite, which HTTP/2 requires; promc, HTTP/1.1 only, serves it.
    h2 = write(os.path.join(d, "h2-cipher.yml"), "tls_server_config:\n  cert_file: %s\n"
               "  key_file: %s\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n"
               % (c["server.crt"], c["server.key"]))
    g = t.ToolkitServer(toolkit, h2, d)
    check(g.exited not in (None, 0) and "HTTP/2-required" in g.output(),
          "h2_cipher: the toolkit now starts with it: %s" % g.output())
    svc = e.Service(args.service, "--web-config-file", h2, tag="h2-cipher")
    check(curl(svc.metrics_port, "https", "--cacert", c["ca.crt"])[0] == "200", "h2_cipher")
    svc.stop()
    log("listed difference: a cipher list without AES-128-GCM and http2 on: the toolkit refuses "
        "it (HTTP/2), promc serves it")
    # Listed difference: a client_ca_file with no certificate in it.  Go starts and then refuses
    # every client certificate; promc refuses the file at start.
    empty_ca = write(os.path.join(d, "empty-ca.pem"), "")
    noca = write(os.path.join(d, "no-ca.yml"), "tls_server_config:\n  cert_file: %s\n  key_file: "
                 "%s\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: %s\n"
                 % (c["server.crt"], c["server.key"], empty_ca))
    g = t.ToolkitServer(toolkit, noca, d)
    check(g.exited is None, "empty CA: the toolkit now refuses it: %s" % g.output())
    check(curl(g.port, "https", "--cacert", c["ca.crt"], "--cert", c["client.crt"], "--key",
               c["client.key"])[0] == "fail", "empty CA: the toolkit let a client in")
    g.stop()
    r = subprocess.run([args.service, "--port", "0", "--metrics-port", "0", "--bind", "127.0.0.1",
                        "--web-config-file", noca], stderr=subprocess.PIPE, timeout=20)
    check(r.returncode == 1 and b"client_ca_file" in r.stderr, "empty CA: %r" % r.stderr)
    log("listed difference: a client_ca_file without certificates: the toolkit starts and lets "
        "no client in, promc refuses it at start")
    missing = os.path.join(d, "no-such-file.yml")
    r = subprocess.run([args.service, "--web-config-file", missing, "--port", "0",
                        "--metrics-port", "0"], stderr=subprocess.PIPE, timeout=20)
    check(r.returncode == 1 and b"no-such-file.yml" in r.stderr, "a missing file: %r" % r.stderr)
    check(t.ToolkitServer(toolkit, missing, d).exited not in (None, 0), "toolkit: missing file")

    # Files that start: the same requests to both.
    mismatches = []
    table = []
    for name, text in good.items():
        path = write(os.path.join(d, "good-%s.yml" % name), text)
        svc = e.Service(args.service, "--web-config-file", path, tag=name)
        g = t.ToolkitServer(toolkit, path, d)
        check(g.exited is None, "%s: the toolkit server refused it: %s" % (name, g.output()))
        tls = "tls_server_config" in text
        ours = run_probes(svc.metrics_port, c, tls)
        theirs = run_probes(g.port, c, tls)
        compare(name, ours, theirs, mismatches)
        table.append((name, ours))
        svc.stop()
        g.stop()
    for name, ours in table:
        log("%-16s %s" % (name, " ".join("%s=%s" % (p, v[0].replace(" ", "/"))
                                          for p, v in ours.items())))
    check(not mismatches, "promc and the toolkit differ:\n  " + "\n  ".join(mismatches))

    # What the outcomes must be, not only alike.
    by = dict(table)
    expect = [("tls_users", "anonymous", "401"), ("tls_users", "alice", "200"),
              ("tls_users", "alice_wrong", "401"), ("tls_users", "mallory", "401"),
              ("users_only", "alice", "200"), ("users_2y", "alice", "200"),
              ("empty", "anonymous", "200"), ("tls", "anonymous", "200"),
              ("require_verify", "alice", "fail"), ("require_verify", "cert_alice", "200"),
              ("require_verify", "stranger_alice", "fail"),
              ("require_verify", "expired_alice", "fail"),
              ("verify_if_given", "anonymous", "200"), ("verify_if_given", "stranger_alice", "fail"),
              ("require_any", "anonymous", "fail"), ("require_any", "stranger_alice", "200"),
              ("request", "stranger_alice", "200"), ("expired_server", "anonymous", "fail"),
              ("min13", "tls12_alice", "fail"), ("max12", "s_tls13", "fail"),
              ("tls", "s_tls11", "fail"), ("curve", "s_tls13_p256", "fail"),
              ("cipher", "s_tls12_aes128", "fail")]
    for cfg, probe, want in expect:
        got = by[cfg][probe][0]
        check(got == want or (want.startswith("ok") and got.startswith(want)),
              "%s/%s: %s, expected %s" % (cfg, probe, got, want))
    check(by["min10"]["s_tls11"][0].startswith("ok TLSv1.1"), "min10: TLS 1.1 was not served: %s"
          % by["min10"]["s_tls11"][0])
    check(by["cipher"]["s_tls12"][0] == "ok TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 200",
          "cipher: %s" % by["cipher"]["s_tls12"][0])
    h = by["headers"]["alice"][1]
    check(h.get("x-frame-options") == "deny" and h.get("strict-transport-security") ==
          "max-age=31536000", "configured headers: %r" % h)
    log("%d files x %d-%d requests: the same outcome from promc and the toolkit"
        % (len(good), len(probes(c, False)), len(probes(c, True))))

    reload_checks(args, toolkit, c, d)


def reload_checks(args, toolkit, c, d):
    """New users, a broken file, a fixed one and a rotated certificate reach both servers."""
    path = os.path.join(d, "live.yml")
    tls = lambda crt, key: "tls_server_config:\n  cert_file: %s\n  key_file: %s\n" % (crt, key)
    write(path, tls(c["server.crt"], c["server.key"]) + "basic_auth_users:\n  alice: %s\n"
          % t.bcrypt("secret"))
    svc = e.Service(args.service, "--web-config-file", path, tag="reload")
    g = t.ToolkitServer(toolkit, path, d)
    ca = ["--cacert", c["ca.crt"]]

    def both(*opts):
        return curl(svc.metrics_port, "https", *ca, *opts)[0], curl(g.port, "https", *ca, *opts)[0]

    check(both("-u", "bob:pw") == ("401", "401"), "before: bob %r" % (both("-u", "bob:pw"),))
    write(path, tls(c["server.crt"], c["server.key"]) + "basic_auth_users:\n  bob: %s\n"
          % t.bcrypt("pw"))
    e.wait_until(lambda: both("-u", "bob:pw") == ("200", "200"), 5, "bob to be let in by both")
    check(both("-u", "alice:secret") == ("401", "401"), "alice still in after her removal")
    log("re-read: a new user is in and the removed one out, on both")

    write(path, "tls_server_config:\n  cert_file: [\n")
    e.wait_until(lambda: both("-u", "bob:pw") == ("fail", "fail"), 5,
                 lambda: "both to refuse with a broken file: %r" % (both("-u", "bob:pw"),))
    write(path, tls(c["server2.crt"], c["server2.key"]) + "basic_auth_users:\n  bob: %s\n"
          % t.bcrypt("pw"))
    e.wait_until(lambda: both("-u", "bob:pw") == ("200", "200"), 5, "both to serve again")
    want = cert_serial(c["server2.crt"])
    check(serial_seen(svc.metrics_port, c) == want and serial_seen(g.port, c) == want,
          "rotated certificate: promc %s, toolkit %s, want %s" % (
              serial_seen(svc.metrics_port, c), serial_seen(g.port, c), want))
    log("re-read: a broken file refuses handshakes on both, the fixed one serves the rotated "
        "certificate (%s)" % want)
    check("re-read" in svc.stderr(), "no re-read line on example-001's stderr")

    # Plain HTTP with users: a broken file gives 500 on both.
    plain = os.path.join(d, "live-plain.yml")
    write(plain, "basic_auth_users:\n  bob: %s\n" % t.bcrypt("pw"))
    svc2 = e.Service(args.service, "--web-config-file", plain, tag="reload-plain")
    g2 = t.ToolkitServer(toolkit, plain, d)
    both2 = lambda: (curl(svc2.metrics_port, "http", "-u", "bob:pw")[0],
                     curl(g2.port, "http", "-u", "bob:pw")[0])
    write(plain, "basic_auth_users: [\n")
    e.wait_until(lambda: both2() == ("500", "500"), 5,
                 lambda: "500 from both for a broken file: %r" % (both2(),))
    # Listed difference: promc checks the hashes at every read, the toolkit only at start (later
    # a user with a broken hash just fails to log in).
    write(plain, "basic_auth_users: {bob: nohash}\n")
    e.wait_until(lambda: both2() == ("500", "401"), 5,
                 lambda: "a broken hash after the start: %r, not the listed (500, 401)" % (both2(),))
    log("re-read: a broken file over plain HTTP: 500 from both; a broken hash: promc 500, the "
        "toolkit 401 (listed difference)")
    for s in (svc, svc2):
        s.stop()


if __name__ == "__main__":
    e.main("webconfig", body)
