#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The real Prometheus (Debian 2.42) scrapes example-001's metrics port secured by
--web-config-file, as an exporter's users configure it:

- the web configuration and the scrape job that docs/DEPLOY.md shows ("TLS and basic auth"), read
  from that page: https with basic_auth (password_file) and tls_config (ca_file, server_name):
  the target is up, and hello_worlds_requests_total equals the /hello requests made; the same
  target with a wrong password is down with a 401;
- mTLS (client_auth_type RequireAndVerifyClientCert): with cert_file/key_file in tls_config the
  target is up and counts right; without a client certificate it is down;
- plain http against the TLS port is down.
"""

import json
import os
import re
import shutil

import yaml

import e2e_common as e
import e2e_tls as t
from e2e_common import check, log

HELLOS = 7
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def deploy_block(name):
    """The YAML between <!-- NAME:begin --> and <!-- NAME:end --> in docs/DEPLOY.md."""
    with open(os.path.join(SRC, "docs", "DEPLOY.md")) as f:
        text = f.read()
    m = re.search(r"<!-- %s:begin -->\n```yaml\n(.*?)```\n<!-- %s:end -->" % (name, name), text,
                  re.S)
    check(m, "docs/DEPLOY.md has no %s block" % name)
    return m.group(1)


def body(args):
    d = e.mktemp_dir("tls-prom")
    c = t.make_certs(d)
    # The Secret of docs/DEPLOY.md as a directory: its web-config.yml, tls.crt and tls.key.
    secret = os.path.join(d, "secret")
    os.makedirs(secret)
    with open(os.path.join(secret, "web-config.yml"), "w") as f:
        f.write(deploy_block("web-config"))
    shutil.copy(c["server.crt"], os.path.join(secret, "tls.crt"))
    shutil.copy(c["server.key"], os.path.join(secret, "tls.key"))
    auth_cfg = os.path.join(secret, "web-config.yml")
    pw = t.bcrypt("scrape-secret", rounds=1024)  # cost 10, as htpasswd -B makes them
    tls = "tls_server_config:\n  cert_file: %s\n  key_file: %s\n" % (c["server.crt"],
                                                                     c["server.key"])
    users = "basic_auth_users:\n  prometheus: %s\n" % pw
    mtls_cfg = os.path.join(d, "web-mtls.yml")
    with open(mtls_cfg, "w") as f:
        f.write(tls + "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: %s\n"
                % c["ca.crt"] + users)
    a = e.Service(args.service, "--web-config-file", auth_cfg, "--fail-rate", "0", tag="auth")
    b = e.Service(args.service, "--web-config-file", mtls_cfg, "--fail-rate", "0", tag="mtls")
    for svc in (a, b):
        for _ in range(HELLOS):
            code, _ = e.curl("http://%s:%d/hello" % (e.HOST, svc.port))
            check(code == 200, "/hello answered %d" % code)

    def job(name, svc, password="scrape-secret", cert=False, scheme="https"):
        j = {"job_name": name, "scheme": scheme,
             "static_configs": [{"targets": ["%s:%d" % (e.HOST, svc.metrics_port)]}]}
        if scheme == "https":
            j["tls_config"] = {"ca_file": c["ca.crt"]}
            if cert:
                j["tls_config"].update(cert_file=c["client.crt"], key_file=c["client.key"])
        if password:
            j["basic_auth"] = {"username": "prometheus", "password": password}
        return j

    # The scrape job of docs/DEPLOY.md, with this test's target and files.
    with open(os.path.join(d, "password"), "w") as f:
        f.write("change-me\n")
    documented = yaml.safe_load(deploy_block("scrape-config"))[0]
    documented["job_name"] = "tls_auth"
    documented["tls_config"]["ca_file"] = c["ca.crt"]
    documented["basic_auth"]["password_file"] = os.path.join(d, "password")
    documented["static_configs"] = [{"targets": ["%s:%d" % (e.HOST, a.metrics_port)]}]
    log("the scrape job of docs/DEPLOY.md: %s" % json.dumps(documented))
    prom = e.Prometheus([documented,
                         job("tls_wrong_password", a, password="guess"),
                         job("tls_plain_http", a, scheme="http"),
                         job("mtls", b, cert=True), job("mtls_no_cert", b)], tag="prom-tls")
    for name in ("tls_auth", "mtls"):
        prom.wait_up(name)
        v = e.wait_until(lambda: prom.query_one('hello_worlds_requests_total{job="%s"}' % name),
                         15, "hello_worlds_requests_total of job %s" % name)
        check(v == HELLOS, "job %s: hello_worlds_requests_total is %s, want %d" % (name, v, HELLOS))
        log("job %s: up, hello_worlds_requests_total %g" % (name, v))

    def down(name):
        tg = prom.target(name)
        return tg if tg and tg["health"] == "down" and tg["lastError"] else None

    for name, want in (("tls_wrong_password", "401"), ("mtls_no_cert", "certificate"),
                       ("tls_plain_http", "")):
        tg = e.wait_until(lambda: down(name), 30, "job %s to be down" % name, interval=0.25)
        check(want.lower() in tg["lastError"].lower(),
              "job %s is down, but not for %r: %s" % (name, want, tg["lastError"]))
        log("job %s: down (%s)" % (name, tg["lastError"]))


if __name__ == "__main__":
    e.main("tls_prometheus", body)
