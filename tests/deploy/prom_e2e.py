#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A real Prometheus (Debian's) scraping real example-001 processes on 127.0.0.1 with deploy/'s
configurations.  Kubernetes discovery is simulated with file_sd_configs: the targets file describes
each process as kubernetes_sd (role pod) would describe a pod of the rendered Deployment, so the
ConfigMap's relabel rules run unchanged.  The only other edits: scrape interval 1 s, and static
targets pointed at this test's ports.

  relabel   one example-001; the ConfigMap's prometheus.yml and deploy/prometheus/prometheus.yml
            each run in a Prometheus; the pod job's targets carry exactly the expected namespace,
            pod, container and app labels, the http port is dropped, the counts match.
  scaleout  three example-001 "pods"; load spread over them; sum(hello_worlds_requests_total)
            equals the requests sent; one instance gets SIGTERM mid-load: it exits 0, its target
            goes down, the other two keep serving every request and their sum stays exact, and
            the count Prometheus held for the stopped one stays queryable.

Usage: prom_e2e.py relabel|scaleout EXAMPLE001_BINARY RENDERED_BASE.yaml DEPLOY_PROMETHEUS_DIR WORK
"""

import http.client
import os
import shutil
import signal
import sys
import threading
import time

import yaml

import deploylib as dl


def test_config(objs, work, prom_port, static_target, pods_file):
    """The ConfigMap's prometheus.yml with file_sd for kubernetes_sd, 1 s scrapes, local targets.
    static_target None removes the static example-001v1 job."""
    cfg = yaml.safe_load(dl.prometheus_config_text(objs))
    cfg, removed = dl.swap_kubernetes_sd(cfg, lambda job: [pods_file])
    if list(removed) != ["kubernetes-pods"]:
        raise dl.CheckError("expected kubernetes_sd only in job kubernetes-pods, got %r" %
                            list(removed))
    cfg["global"]["scrape_interval"] = "1s"
    cfg["global"]["scrape_timeout"] = "1s"
    jobs = []
    for j in cfg["scrape_configs"]:
        name = j["job_name"]
        if name == "prometheus":
            j["static_configs"] = [{"targets": ["127.0.0.1:%d" % prom_port]}]
        elif name == "example-001v1":
            if static_target is None:
                continue
            j["static_configs"] = [{"targets": [static_target]}]
        elif name != "kubernetes-pods":
            raise dl.CheckError("job %s is new to this test: say where it should point" % name)
        jobs.append(j)
    cfg["scrape_configs"] = jobs
    path = os.path.join(work, "prometheus-configmap.yml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return path


def local_config(prom_dir, work, prom_port, svc):
    """deploy/prometheus/prometheus.yml and its targets file with this test's ports in place of
    8000 (metrics), 8001 (http) and 9090 (Prometheus)."""
    d = os.path.join(work, "local")
    os.makedirs(d, exist_ok=True)
    ports = {"8000": str(svc.metrics_port), "8001": str(svc.http_port), "9090": str(prom_port)}

    def swap(s):
        for old, new in ports.items():
            if s == old:
                return new
            if s.endswith(":" + old):
                return s[:-len(old)] + new
        return s
    with open(os.path.join(prom_dir, "prometheus.yml")) as f:
        cfg = yaml.safe_load(f)
    cfg["global"]["scrape_interval"] = "1s"
    cfg["global"]["scrape_timeout"] = "1s"
    for j in cfg["scrape_configs"]:
        for sc in j.get("static_configs") or []:
            sc["targets"] = [swap(t) for t in sc["targets"]]
        for fsd in j.get("file_sd_configs") or []:
            fsd["refresh_interval"] = "1s"
            for name in fsd["files"]:
                with open(os.path.join(prom_dir, name)) as f:
                    groups = yaml.safe_load(f)
                for g in groups:
                    g["targets"] = [swap(t) for t in g["targets"]]
                    g["labels"] = {k: swap(v) if k.endswith(("_port", "_port_number")) else v
                                   for k, v in g["labels"].items()}
                with open(os.path.join(d, name), "w") as f:
                    yaml.safe_dump(groups, f)
    path = os.path.join(d, "prometheus.yml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)
    return path


def hello(base, path="/hello"):
    """One request on a fresh connection; returns the status."""
    host, port = base[len("http://"):].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def wait_pod_targets(prom, job, want, timeout=30):
    """Waits until `job` has exactly the targets `want` (a list of label dicts), all up."""
    def ok():
        act = prom.active(job)
        have = sorted((t["labels"] for t in act), key=lambda l: l.get("pod", ""))
        return have == want and all(t["health"] == "up" for t in act) and act
    try:
        return dl.wait_until("job %s targets up with the expected labels" % job, ok, timeout)
    except dl.CheckError:
        dl.log("  have: %r" % [(t["labels"], t["health"], t.get("lastError"))
                               for t in prom.active(job)])
        dl.log("  want: %r" % want)
        raise


def check_relabel(binary, objs, prom_dir, work, procs):
    dep = dl.find(objs, "Deployment", "example-001v1")
    svc = dl.Service(procs, binary, work, "example-001", ["--seed", "1"])
    sent = {200: 0}
    for _ in range(12):
        st = hello(svc.http)
        sent[st] = sent.get(st, 0) + 1
    for _ in range(8):
        hello(svc.http, "/helliss")
    n_hello = sum(sent.values())
    dl.log("  sent %d /hello (statuses %r) and 8 /helliss to %s" % (n_hello, sent, svc.http))

    pods_file = os.path.join(work, "kubernetes-pods.targets.json")
    pod_name = "example-001v1-9cc6ff6c9-tnskw"
    dl.write_json(pods_file, dl.pod_targets(dep, pod_name, "127.0.0.1",
                                            {8000: svc.metrics_port, 8001: svc.http_port}))
    p1_port, p2_port = dl.free_port(), dl.free_port()
    cm_cfg = test_config(objs, work, p1_port, "127.0.0.1:%d" % svc.metrics_port, pods_file)
    loc_cfg = local_config(prom_dir, work, p2_port, svc)
    prom_cm = dl.Prometheus(procs, "prometheus", cm_cfg, work, "prometheus-configmap", p1_port)
    prom_loc = dl.Prometheus(procs, "prometheus", loc_cfg, work, "prometheus-local", p2_port)

    inst = "127.0.0.1:%d" % svc.metrics_port
    for prom, ns, pod, what in ((prom_cm, "monitoring", pod_name, "ConfigMap prometheus.yml"),
                                (prom_loc, "local", "example-001-local",
                                 "deploy/prometheus/prometheus.yml")):
        dl.log("== %s" % what)
        want = [{"job": "kubernetes-pods", "instance": inst, "namespace": ns, "pod": pod,
                 "container": "example-001", "app": "example-001"}]
        t = wait_pod_targets(prom, "kubernetes-pods", want)
        dl.log("  kubernetes-pods target up: %s scrapeUrl=%s" %
               (t[0]["labels"], t[0]["scrapeUrl"]))
        if not t[0]["scrapeUrl"].endswith(inst + "/metrics"):
            raise dl.CheckError("scrape URL %s" % t[0]["scrapeUrl"])
        dropped = [d["discoveredLabels"] for d in prom.targets()["droppedTargets"]
                   if d["discoveredLabels"].get("job") == "kubernetes-pods"]
        if [d.get("__meta_kubernetes_pod_container_port_name") for d in dropped] != ["http"]:
            raise dl.CheckError("dropped targets of kubernetes-pods: %r (want the http port)" %
                                dropped)
        dl.log("  the http port's target was dropped by the port-name rule")
        static = dl.wait_until("job example-001v1 up", lambda: [
            x for x in prom.active("example-001v1") if x["health"] == "up"], 20)
        dl.log("  static job example-001v1 up: %s" % static[0]["labels"])
        dl.wait_until("prometheus job up", lambda: [
            x for x in prom.active("prometheus") if x["health"] == "up"], 20)
        q = 'hello_worlds_requests_total{job="kubernetes-pods"}'
        res = dl.wait_until(q, lambda: prom.query(q), 20)
        m = res[0]["metric"]
        if len(res) != 1 or (m.get("namespace"), m.get("pod"), m.get("container")) != \
                (ns, pod, "example-001") or float(res[0]["value"][1]) != n_hello:
            raise dl.CheckError("%s gave %r, want one series namespace=%s pod=%s "
                                "container=example-001 value %d" % (q, res, ns, pod, n_hello))
        dl.log("  %s -> %s %s" % (q, {k: m[k] for k in ("namespace", "pod", "container")},
                                  res[0]["value"][1]))
        wrong = prom.scalar('wrong_requests_total{job="kubernetes-pods"}')
        if wrong != 8:
            raise dl.CheckError("wrong_requests_total %r, want 8" % wrong)
        dl.log("  wrong_requests_total{job=\"kubernetes-pods\"} -> %g" % wrong)
    dl.log("PASS: relabelling gives namespace, pod and container; counts match")


class Load:
    """Bounded load over a set of instances: `workers` threads, each sending GET /hello on fresh
    connections round-robin to the instances in `live`, at most `rate` requests a second in all.
    Counts completed responses per instance and connection failures per instance."""

    def __init__(self, services, workers=4, rate=300):
        self.services = services
        self.live = list(range(len(services)))
        self.sent = [0] * len(services)
        self.errors = [0] * len(services)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.rate = rate
        self.next = 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]

    def _run(self):
        interval = len(self.threads) / float(self.rate)
        while not self.stop.is_set():
            t0 = time.time()
            with self.lock:
                if not self.live:
                    return
                i = self.live[self.next % len(self.live)]
                self.next += 1
            try:
                hello(self.services[i].http)
                with self.lock:
                    self.sent[i] += 1
            except OSError:
                with self.lock:
                    self.errors[i] += 1
            time.sleep(max(0.0, interval - (time.time() - t0)))

    def remove(self, i):
        """Stops sending new requests to instance i (as endpoints drop a terminating pod);
        requests already in flight complete."""
        with self.lock:
            self.live.remove(i)

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def check_scaleout(binary, objs, prom_dir, work, procs):
    dep = dl.find(objs, "Deployment", "example-001v1")
    drain = 3
    svcs = [dl.Service(procs, binary, work, "example-001-p%d" % i,
                       ["--seed", str(i + 1), "--drain-seconds", str(drain)]) for i in range(3)]
    names = ["example-001v1-5c5684868b-p%d" % i for i in range(3)]
    pods_file = os.path.join(work, "kubernetes-pods.targets.json")
    targets = []
    for s, n in zip(svcs, names):
        targets += dl.pod_targets(dep, n, "127.0.0.1", {8000: s.metrics_port, 8001: s.http_port})
    dl.write_json(pods_file, targets)
    pport = dl.free_port()
    prom = dl.Prometheus(procs, "prometheus", test_config(objs, work, pport, None, pods_file),
                         work, "prometheus", pport)
    want = sorted(({"job": "kubernetes-pods", "instance": "127.0.0.1:%d" % s.metrics_port,
                    "namespace": "monitoring", "pod": n, "container": "example-001",
                    "app": "example-001"} for s, n in zip(svcs, names)), key=lambda l: l["pod"])
    wait_pod_targets(prom, "kubernetes-pods", want)
    dl.log("  3 instances discovered through file_sd, all up")

    # Phase 1: a fixed number of requests spread round-robin over the three, by four clients.
    total1 = 600
    per = [0] * 3
    lock = threading.Lock()

    def phase1(k):
        for n in range(k, total1, 4):
            hello(svcs[n % 3].http)
            with lock:
                per[n % 3] += 1
    ts = [threading.Thread(target=phase1, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    if sum(per) != total1:
        raise dl.CheckError("phase 1 sent %d of %d requests" % (sum(per), total1))
    dl.log("  phase 1: sent %d requests, %r per instance" % (total1, per))
    q = "sum(hello_worlds_requests_total)"
    got = dl.wait_until("%s == %d" % (q, total1), lambda: prom.scalar(q) == total1 and total1, 20)
    dl.log("  %s -> %d (= requests sent)" % (q, got))
    for i, n in enumerate(names):
        v = prom.scalar('hello_worlds_requests_total{pod="%s"}' % n)
        if v != per[i]:
            raise dl.CheckError("pod %s: Prometheus holds %r, sent %d" % (n, v, per[i]))

    # Phase 2: load on all three; instance 2 is stopped with SIGTERM mid-load.  The load stops
    # sending it new requests first, as the endpoints controller takes a terminating pod out of
    # the Service; requests already in flight to it get the drain time.
    load = Load(svcs, workers=4, rate=300)
    load.start()
    victim = svcs[2]
    q2 = 'hello_worlds_requests_total{pod="%s"}' % names[2]
    held = dl.wait_until("a scrape of %s during the load" % names[2],
                         lambda: (prom.scalar(q2) or 0) > per[2] and prom.scalar(q2), 15)
    load.remove(2)
    victim.proc.send_signal(signal.SIGTERM)
    t_term = time.time()
    dl.log("  phase 2: Prometheus holds %d for pod %s; SIGTERM to it mid-load" %
           (held, names[2]))
    try:
        rc = victim.proc.wait(timeout=drain + 15)
    except Exception:
        raise dl.CheckError("%s did not exit within %d s of SIGTERM" % (victim.name, drain + 15))
    took = time.time() - t_term
    if rc != 0:
        raise dl.CheckError("%s exited %d after SIGTERM, want 0:\n%s" %
                            (victim.name, rc, dl.tail(victim.proc.log_path)))
    dl.log("  %s exited 0 %.1f s after SIGTERM (drain up to %d s)" % (victim.name, took, drain))
    down = dl.wait_until("target of %s down" % names[2], lambda: [
        t for t in prom.active("kubernetes-pods")
        if t["labels"]["pod"] == names[2] and t["health"] == "down"], 20)
    dl.log("  its target is down: %s" % down[0].get("lastError"))
    time.sleep(2)  # the other two keep serving after it is gone
    load.finish()
    if load.errors[0] or load.errors[1]:
        raise dl.CheckError("the surviving instances failed requests: %r" % load.errors)
    if load.sent[0] == 0 or load.sent[1] == 0:
        raise dl.CheckError("phase 2 sent nothing to a surviving instance: %r" % load.sent)
    dl.log("  phase 2: answered %r per instance, connection failures %r" %
           (load.sent, load.errors))
    for i in range(3):
        per[i] += load.sent[i]
    for i in (0, 1):
        if not [t for t in prom.active("kubernetes-pods")
                if t["labels"]["pod"] == names[i] and t["health"] == "up"]:
            raise dl.CheckError("pod %s is not up any more" % names[i])

    q = 'sum(hello_worlds_requests_total{pod=~"%s|%s"})' % (names[0], names[1])
    dl.wait_until("%s == %d" % (q, per[0] + per[1]),
                  lambda: prom.scalar(q) == per[0] + per[1], 20)
    dl.log("  %s -> %d (= requests sent to the two that stayed)" % (q, per[0] + per[1]))
    # The stopped instance's series went stale with its target, but what Prometheus had scraped
    # stays in the TSDB: at least the value it held before SIGTERM, at most what it answered.
    if prom.query(q2):
        raise dl.CheckError("%s still has a current value after its target went down" % q2)
    q = 'max_over_time(%s[10m])' % q2
    v = prom.scalar(q)
    if v is None or not held <= v <= per[2]:
        raise dl.CheckError("%s -> %r, want between %d (held before SIGTERM) and %d (answered)" %
                            (q, v, held, per[2]))
    dl.log("  %s -> %d: still queryable (held %d before SIGTERM, it answered %d in all)" %
           (q, v, held, per[2]))
    dl.log("PASS: scale-out over three instances, one stopped mid-load")


def main():
    mode, binary, rendered, prom_dir, work = sys.argv[1:6]
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        dl.fail("example-001 binary %s does not exist: build the example-001 target" % binary)
    if shutil.which("prometheus") is None:
        dl.fail("prometheus is not installed (Debian package prometheus; scripts/deps.sh test)")
    os.makedirs(work, exist_ok=True)
    with open(rendered) as f:
        objs = dl.load_docs(f.read())
    procs = dl.Procs()
    try:
        {"relabel": check_relabel, "scaleout": check_scaleout}[mode](binary, objs, prom_dir,
                                                                     work, procs)
    except dl.CheckError as e:
        for p in procs.procs:
            dl.log("---- %s (exit %s):\n%s" % (p.log_path, p.poll(), dl.tail(p.log_path, 15)))
        dl.fail(str(e))
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
