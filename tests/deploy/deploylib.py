# SPDX-License-Identifier: Apache-2.0
"""Shared helpers of the deploy/ checks: rendering, the Prometheus config inside the ConfigMap, the
kubernetes_sd -> file_sd swap, simulated pod targets, processes and the Prometheus HTTP API.

Standard library and PyYAML only (Debian's python3-yaml), so the checks run with /usr/bin/python3.
"""

import copy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml


class CheckError(Exception):
    """A check found a defect; the message says which and where."""


def log(msg):
    print(msg, flush=True)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


# ---- Rendering and objects ------------------------------------------------------------------------

def kubectl():
    return os.environ.get("KUBECTL", "kubectl")


def render(kustomize_dir):
    """kubectl kustomize DIR, offline; returns the YAML text."""
    res = subprocess.run([kubectl(), "kustomize", kustomize_dir], capture_output=True, text=True,
                         timeout=120)
    if res.returncode != 0:
        raise CheckError("kubectl kustomize %s failed:\n%s" % (kustomize_dir, res.stderr))
    return res.stdout


def load_docs(text):
    return [d for d in yaml.safe_load_all(text) if d is not None]


def find(objs, kind, name=None):
    hits = [o for o in objs if o.get("kind") == kind
            and (name is None or o.get("metadata", {}).get("name") == name)]
    if len(hits) != 1:
        raise CheckError("expected exactly one %s%s in the rendered manifests, found %d" %
                         (kind, " " + name if name else "", len(hits)))
    return hits[0]


def prometheus_config_text(objs):
    """The prometheus.yml inside the ConfigMap prometheus-server-conf."""
    cm = find(objs, "ConfigMap", "prometheus-server-conf")
    data = cm.get("data") or {}
    if "prometheus.yml" not in data:
        raise CheckError("ConfigMap prometheus-server-conf has no key prometheus.yml")
    return data["prometheus.yml"]


def job(cfg, name):
    hits = [j for j in cfg.get("scrape_configs") or [] if j.get("job_name") == name]
    if len(hits) != 1:
        raise CheckError("expected one scrape job %r, found %d" % (name, len(hits)))
    return hits[0]


def swap_kubernetes_sd(cfg, files_for_job):
    """A copy of cfg in which each job's kubernetes_sd_configs is replaced by file_sd_configs
    reading files_for_job(job_name) (a list of paths).  Returns (copy, {job: [sd blocks]})."""
    out = copy.deepcopy(cfg)
    removed = {}
    for j in out.get("scrape_configs") or []:
        if "kubernetes_sd_configs" in j:
            removed[j["job_name"]] = j.pop("kubernetes_sd_configs")
            j["file_sd_configs"] = [{"files": files_for_job(j["job_name"]),
                                     "refresh_interval": "1s"}]
    return out, removed


# ---- kubernetes_sd, role pod, simulated ---------------------------------------------------------
# The meta labels Prometheus' Kubernetes discovery gives a target of role "pod" (one target per
# container port), from Prometheus' documentation of kubernetes_sd_config.

POD_META_FIXED = {
    "__meta_kubernetes_namespace", "__meta_kubernetes_pod_name", "__meta_kubernetes_pod_ip",
    "__meta_kubernetes_pod_container_init", "__meta_kubernetes_pod_container_name",
    "__meta_kubernetes_pod_container_id", "__meta_kubernetes_pod_container_image",
    "__meta_kubernetes_pod_container_port_name", "__meta_kubernetes_pod_container_port_number",
    "__meta_kubernetes_pod_container_port_protocol", "__meta_kubernetes_pod_ready",
    "__meta_kubernetes_pod_phase", "__meta_kubernetes_pod_node_name",
    "__meta_kubernetes_pod_host_ip", "__meta_kubernetes_pod_uid",
    "__meta_kubernetes_pod_controller_kind", "__meta_kubernetes_pod_controller_name",
}
POD_META_PREFIXES = (
    "__meta_kubernetes_pod_label_", "__meta_kubernetes_pod_labelpresent_",
    "__meta_kubernetes_pod_annotation_", "__meta_kubernetes_pod_annotationpresent_",
)


def sanitize(name):
    """Label and annotation names become label-name suffixes as Prometheus writes them."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def pod_targets(deployment, pod_name, ip, port_map):
    """file_sd entries describing one pod of `deployment` as kubernetes_sd (role pod) would: one
    target per container port, with the pod template's labels and annotations.  port_map maps the
    manifest's port numbers to the ports the stand-in process really listens on (annotations
    naming a mapped port are mapped too), so the rules see the manifest's names and values."""
    tmpl = deployment["spec"]["template"]
    meta = tmpl.get("metadata") or {}
    labels = {
        "__meta_kubernetes_namespace": deployment["metadata"].get("namespace", "default"),
        "__meta_kubernetes_pod_name": pod_name,
        "__meta_kubernetes_pod_ip": ip,
        "__meta_kubernetes_pod_ready": "true",
        "__meta_kubernetes_pod_phase": "Running",
        "__meta_kubernetes_pod_node_name": "node-1",
        "__meta_kubernetes_pod_host_ip": ip,
        "__meta_kubernetes_pod_controller_kind": "ReplicaSet",
        "__meta_kubernetes_pod_controller_name": deployment["metadata"]["name"] + "-5c5684868b",
    }
    for k, v in (meta.get("labels") or {}).items():
        labels["__meta_kubernetes_pod_label_" + sanitize(k)] = str(v)
        labels["__meta_kubernetes_pod_labelpresent_" + sanitize(k)] = "true"
    for k, v in (meta.get("annotations") or {}).items():
        v = str(v)
        if v.isdigit() and int(v) in port_map:
            v = str(port_map[int(v)])
        labels["__meta_kubernetes_pod_annotation_" + sanitize(k)] = v
        labels["__meta_kubernetes_pod_annotationpresent_" + sanitize(k)] = "true"
    out = []
    for c in tmpl["spec"]["containers"]:
        for p in c.get("ports") or []:
            real = port_map.get(p["containerPort"], p["containerPort"])
            lab = dict(labels)
            lab.update({
                "__meta_kubernetes_pod_container_init": "false",
                "__meta_kubernetes_pod_container_name": c["name"],
                "__meta_kubernetes_pod_container_image": c["image"],
                "__meta_kubernetes_pod_container_port_name": p.get("name", ""),
                "__meta_kubernetes_pod_container_port_number": str(real),
                "__meta_kubernetes_pod_container_port_protocol": p.get("protocol", "TCP"),
            })
            out.append({"targets": ["%s:%d" % (ip, real)], "labels": lab})
    return out


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)  # file_sd must never read a half-written file


# ---- Processes ------------------------------------------------------------------------------------

def free_port():
    """A port the kernel just gave out on 127.0.0.1 (the race with other users is accepted: the
    caller's server fails loudly if the port was taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    """Processes this test started; stop_all() ends each by its own pid."""

    def __init__(self):
        self.procs = []

    def start(self, argv, log_path, env=None):
        f = open(log_path, "wb")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env)
        p.log_path = log_path
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.time() + 15
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def tail(path, n=30):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return "(no log: %s)" % e


def wait_until(what, fn, timeout, interval=0.2):
    """Polls fn() until it returns a true value; returns it, or raises CheckError after timeout."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError, KeyError, urllib.error.URLError) as e:
            last = e
        time.sleep(interval)
    raise CheckError("timed out after %.0f s waiting for %s (last: %r)" % (timeout, what, last))


def http_get(url, timeout=5):
    """(status, body) of a GET; HTTP errors give their status instead of raising."""
    req = urllib.request.Request(url, headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


# ---- Prometheus -----------------------------------------------------------------------------------

class Prometheus:
    def __init__(self, procs, binary, config, workdir, name="prometheus", port=None):
        self.port = port or free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        data = os.path.join(workdir, name + "-data")
        os.makedirs(data, exist_ok=True)
        self.proc = procs.start([binary, "--config.file=" + config,
                                 "--storage.tsdb.path=" + data,
                                 "--web.listen-address=127.0.0.1:%d" % self.port,
                                 "--log.level=warn"],
                                os.path.join(workdir, name + ".log"))
        wait_until("%s ready" % name, self._ready, 30)

    def _ready(self):
        if self.proc.poll() is not None:
            raise CheckError("Prometheus exited (%s):\n%s" % (self.proc.returncode,
                                                             tail(self.proc.log_path)))
        return http_get(self.base + "/-/ready", timeout=2)[0] == 200

    def api(self, path, **params):
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, body = http_get(url, timeout=10)
        if status != 200:
            raise CheckError("GET %s: HTTP %d %s" % (url, status, body[:300]))
        doc = json.loads(body)
        if doc.get("status") != "success":
            raise CheckError("GET %s: %s" % (url, body[:300]))
        return doc["data"]

    def targets(self):
        return self.api("/api/v1/targets")

    def active(self, job_name):
        return [t for t in self.targets()["activeTargets"] if t["labels"].get("job") == job_name]

    def query(self, promql):
        return self.api("/api/v1/query", query=promql)["result"]

    def scalar(self, promql):
        """The single value of an instant query, or None when it returns nothing."""
        res = self.query(promql)
        if not res:
            return None
        if len(res) != 1:
            raise CheckError("%s: expected one series, got %d" % (promql, len(res)))
        return float(res[0]["value"][1])


# ---- example-001 ------------------------------------------------------------------------------------

class Service:
    """One example-001 process on 127.0.0.1.  It binds port 0 for both servers and prints the ports
    the kernel gave it, so no other user of the machine can take them in between."""

    def __init__(self, procs, binary, workdir, name, extra=()):
        self.name = name
        self.proc = procs.start([binary, "--bind", "127.0.0.1", "--port", "0",
                                 "--metrics-port", "0"] + list(extra),
                                os.path.join(workdir, name + ".log"))
        self.metrics_port, self.http_port = wait_until("%s to print its ports" % name,
                                                       self._ports, 30)
        self.http = "http://127.0.0.1:%d" % self.http_port
        self.metrics = "http://127.0.0.1:%d" % self.metrics_port
        wait_until("%s healthy" % name, self._healthy, 30)

    def _ports(self):
        self._alive()
        with open(self.proc.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        m = re.search(r"metrics available on port: (\d+)", text)
        h = re.search(r"HTTP server available on port (\d+)", text)
        return (int(m.group(1)), int(h.group(1))) if m and h else None

    def _alive(self):
        if self.proc.poll() is not None:
            raise CheckError("%s exited (%s):\n%s" % (self.name, self.proc.returncode,
                                                     tail(self.proc.log_path)))

    def _healthy(self):
        self._alive()
        return http_get(self.metrics + "/healthz", timeout=2)[0] == 200
