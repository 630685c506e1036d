# SPDX-License-Identifier: Apache-2.0
"""Test certificates and web-config helpers for the TLS e2e tests (openssl(1) from Debian's openssl,
bcrypt through crypt(3)), and the exporter-toolkit reference server built from Debian's
golang-github-prometheus-exporter-toolkit-dev."""

import os
import socket
import subprocess
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # libxcrypt's crypt(3), bcrypt included; Python 3.11 still has it

import e2e_common as e
from e2e_common import check, fail

HERE = os.path.dirname(os.path.abspath(__file__))


def _ossl(d, *a):
    r = subprocess.run(["openssl", *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=d)
    check(r.returncode == 0, "openssl %s: %s" % (a[0], r.stderr.decode(errors="replace")))


def _signed(d, name, cn, ext, ca="ca"):
    _ossl(d, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
          name + ".csr", "-subj", "/CN=" + cn)
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(ext)
    _ossl(d, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
          "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext")


def _expired(d, name, cn, ext):
    """A certificate of our CA valid only on 2020-01-01 (openssl ca takes explicit dates)."""
    os.makedirs(os.path.join(d, "ca-db"), exist_ok=True)
    open(os.path.join(d, "ca-db", "index.txt"), "w").close()
    with open(os.path.join(d, "ca-db", "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(d, name + ".cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = test\n[test]\ndatabase = ca-db/index.txt\nserial = ca-db/serial\n"
                "new_certs_dir = ca-db\ndefault_md = sha256\npolicy = any\ncopy_extensions = none\n"
                "x509_extensions = exts\n[any]\ncommonName = supplied\n[exts]\n" + ext)
    _ossl(d, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
          name + ".csr", "-subj", "/CN=" + cn)
    _ossl(d, "ca", "-batch", "-config", name + ".cnf", "-cert", "ca.crt", "-keyfile", "ca.key",
          "-in", name + ".csr", "-out", name + ".crt", "-startdate", "20200101000000Z",
          "-enddate", "20200102000000Z")


def make_certs(d):
    """CA, server (127.0.0.1 and localhost), client, a client of another CA, expired server and
    client certificates, and a key that matches nothing.  Returns {name: path}."""
    _ossl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
          "-days", "2", "-subj", "/CN=promc test CA")
    _ossl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out",
          "other-ca.crt", "-days", "2", "-subj", "/CN=another CA")
    # The Service name is the one docs/DEPLOY.md has Prometheus check (server_name).
    server_ext = ("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:example-001v1.monitoring.svc\n"
                  "extendedKeyUsage=serverAuth\n")
    client_ext = "extendedKeyUsage=clientAuth\n"
    _signed(d, "server", "localhost", server_ext)
    _signed(d, "server2", "localhost", server_ext)  # for rotation
    _signed(d, "client", "scraper", client_ext)
    _signed(d, "stranger", "stranger", client_ext, ca="other-ca")
    _expired(d, "expired-server", "localhost", server_ext)
    _expired(d, "expired-client", "scraper", client_ext)
    _ossl(d, "genrsa", "-out", "other.key", "2048")
    names = ["ca.crt", "other-ca.crt", "server.crt", "server.key", "server2.crt", "server2.key",
             "client.crt", "client.key", "stranger.crt", "stranger.key", "expired-server.crt",
             "expired-server.key", "expired-client.crt", "expired-client.key", "other.key"]
    return {n: os.path.join(d, n) for n in names}


def bcrypt(password, rounds=16):
    """A $2b$ hash (crypt(3)); rounds 16 is cost 4, fast for tests."""
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=rounds))


def build_toolkit_server(work):
    """Builds tests/e2e/toolkit_server; returns its path."""
    out = os.path.join(work, "toolkit_server")
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode",
               GOCACHE=os.path.join(work, "gocache"), GOFLAGS="")
    r = subprocess.run(["go", "build", "-o", out, "."], cwd=os.path.join(HERE, "toolkit_server"),
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        fail("cannot build the exporter-toolkit server (Debian: golang-go, "
             "golang-github-prometheus-exporter-toolkit-dev; scripts/deps.sh test installs "
             "them):\n" + r.stdout.decode(errors="replace"))
    return out


class ToolkitServer:
    """The reference server on a free port; `exited` is its status when it refused to start."""

    def __init__(self, binary, config, d):
        self.port = e.free_port()
        self.log = os.path.join(d, "toolkit-%d.log" % self.port)
        argv = [binary, "-listen", "127.0.0.1:%d" % self.port, "-web-config", config]
        with open(self.log, "wb") as f:
            self.proc = e.spawn(argv, stdout=f, stderr=subprocess.STDOUT)
        e.on_cleanup(lambda: e.kill_group(self.proc))
        self.exited = None

        def up():
            if self.proc.poll() is not None:
                self.exited = self.proc.returncode
                return True
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        e.wait_until(up, 20, "the toolkit server to listen")
        if self.exited is None:
            # It listens before it reads the file: a bad file makes it exit right after.
            try:
                self.exited = self.proc.wait(timeout=0.3)
            except subprocess.TimeoutExpired:
                pass

    def output(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        e.kill_group(self.proc)
