#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""promtool and structure checks of the two Prometheus configurations in deploy/:

  1. the prometheus.yml inside the ConfigMap prometheus-server-conf (extracted from the rendered
     manifests).  Debian's Prometheus is built without Kubernetes discovery, so promtool checks a
     copy in which each kubernetes_sd_configs block is swapped for file_sd_configs reading targets
     that describe the Deployment's pod as kubernetes_sd would (the relabel rules stay and are
     checked); the kubernetes_sd blocks' own fields are checked here: keys, role, namespaces, and
     that every __meta_kubernetes_* label the rules read is one that role gives, naming labels and
     annotations the pod template really has;
  2. deploy/prometheus/prometheus.yml as it is, and that its jobs and relabel rules are the
     ConfigMap's;
  3. broken copies, each of which must be rejected (by promtool or by these checks).

Usage: prom_config_checks.py RENDERED_BASE.yaml DEPLOY_PROMETHEUS_DIR WORKDIR
"""

import copy
import os
import re
import subprocess
import sys

import yaml

import deploylib as dl

SD_KEYS = {"api_server", "role", "kubeconfig_file", "namespaces", "selectors", "attach_metadata",
           # HTTP client settings every discovery accepts
           "basic_auth", "authorization", "oauth2", "bearer_token", "bearer_token_file",
           "tls_config", "proxy_url", "no_proxy", "proxy_from_environment",
           "proxy_connect_header", "follow_redirects", "enable_http2"}
SD_ROLES = {"node", "service", "pod", "endpoints", "endpointslice", "ingress"}
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def promtool(path):
    res = subprocess.run(["promtool", "check", "config", path], capture_output=True, text=True,
                         timeout=60)
    return res.returncode, (res.stdout + res.stderr).strip()


def meta_label_errors(job, dep):
    """__meta_kubernetes_* labels read by the job's rules that role pod does not give, or that name
    a pod label or annotation the Deployment's pod template does not have."""
    tmeta = dep["spec"]["template"]["metadata"]
    have = {"__meta_kubernetes_pod_label_" + dl.sanitize(k) for k in tmeta.get("labels") or {}}
    have |= {"__meta_kubernetes_pod_labelpresent_" + dl.sanitize(k)
             for k in tmeta.get("labels") or {}}
    have |= {"__meta_kubernetes_pod_annotation_" + dl.sanitize(k)
             for k in tmeta.get("annotations") or {}}
    have |= {"__meta_kubernetes_pod_annotationpresent_" + dl.sanitize(k)
             for k in tmeta.get("annotations") or {}}
    errs = []
    for i, rule in enumerate(job.get("relabel_configs") or []):
        for lab in rule.get("source_labels") or []:
            if not lab.startswith("__meta_kubernetes_"):
                continue
            if lab in dl.POD_META_FIXED:
                continue
            if lab.startswith(dl.POD_META_PREFIXES):
                if lab not in have:
                    errs.append("rule %d reads %s, which the pod template of %s does not give" %
                                (i, lab, dep["metadata"]["name"]))
                continue
            errs.append("rule %d reads %s, which role pod does not give" % (i, lab))
    return errs


def port_rule_errors(job, dep):
    """The keep rule on the container port name must keep the port named metrics and drop http."""
    names = [p.get("name") for c in dep["spec"]["template"]["spec"]["containers"]
             for p in c.get("ports") or []]
    rules = [r for r in job.get("relabel_configs") or []
             if r.get("source_labels") == ["__meta_kubernetes_pod_container_port_name"]
             and r.get("action") == "keep"]
    if len(rules) != 1:
        return ["want one keep rule on __meta_kubernetes_pod_container_port_name, have %d" %
                len(rules)]
    rx = re.compile(r"(?:%s)\Z" % rules[0].get("regex", "(.*)"))
    kept = [n for n in names if rx.match(n or "")]
    if kept != ["metrics"]:
        return ["the port-name rule keeps %r of the Deployment's ports %r, want ['metrics']" %
                (kept, names)]
    return []


def sd_block_errors(block, namespaces):
    errs = []
    unknown = set(block) - SD_KEYS
    if unknown:
        errs.append("kubernetes_sd_configs: unknown fields %s" % sorted(unknown))
    if block.get("role") not in SD_ROLES:
        errs.append("kubernetes_sd_configs: role %r is not one of %s" %
                    (block.get("role"), sorted(SD_ROLES)))
    elif block["role"] != "pod":
        errs.append("kubernetes_sd_configs: role %r, the job is written for role pod" %
                    block["role"])
    ns = block.get("namespaces")
    if ns is None:
        errs.append("kubernetes_sd_configs: no namespaces (would need cluster-wide pod access)")
    else:
        if set(ns) - {"names", "own_namespace"}:
            errs.append("kubernetes_sd_configs.namespaces: unknown fields %s" %
                        sorted(set(ns) - {"names", "own_namespace"}))
        names = ns.get("names") or []
        for n in names:
            if not isinstance(n, str) or not DNS_LABEL.fullmatch(n):
                errs.append("kubernetes_sd_configs.namespaces: %r is not a namespace name" % n)
        if sorted(names) != sorted(namespaces):
            errs.append("kubernetes_sd_configs.namespaces.names %r, the manifests deploy to %r" %
                        (names, namespaces))
    for s in block.get("selectors") or []:
        if s.get("role") not in SD_ROLES or set(s) - {"role", "label", "field"}:
            errs.append("kubernetes_sd_configs.selectors: bad selector %r" % s)
    return errs


def check_configmap(objs, work):
    """Returns the list of defects of the ConfigMap's prometheus.yml; writes the swapped copy."""
    dep = dl.find(objs, "Deployment", "example-001v1")
    namespaces = sorted({o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"})
    text = dl.prometheus_config_text(objs)
    orig = os.path.join(work, "configmap-prometheus.yml")
    with open(orig, "w") as f:
        f.write(text)
    cfg = yaml.safe_load(text)
    errs = []

    rc, out = promtool(orig)
    if rc == 0:
        dl.log("  promtool accepts the ConfigMap's prometheus.yml as it is (Kubernetes SD built in)")
    elif "kubernetes_sd_configs not found" in out:
        dl.log("  promtool without Kubernetes SD, as expected of Debian's: %s" %
               out.splitlines()[-1].strip())
    else:
        errs.append("promtool rejects the ConfigMap's prometheus.yml: " + out)

    targets = os.path.join(work, "kubernetes-pods.targets.json")
    pods = []
    for i in range(2):
        pods += dl.pod_targets(dep, "example-001v1-5c5684868b-p%d" % i, "10.10.1.%d" % (220 + i),
                               {})
    dl.write_json(targets, pods)
    swapped, removed = dl.swap_kubernetes_sd(cfg, lambda job: [targets])
    if not removed:
        errs.append("the ConfigMap's prometheus.yml has no kubernetes_sd_configs")
    path = os.path.join(work, "configmap-prometheus.file_sd.yml")
    with open(path, "w") as f:
        yaml.safe_dump(swapped, f, sort_keys=False)
    rc, out = promtool(path)
    if rc != 0:
        errs.append("promtool rejects the file_sd copy: " + out)
    else:
        dl.log("  promtool check config (kubernetes_sd -> file_sd copy): " +
               out.splitlines()[-1].strip())

    for job_name, blocks in removed.items():
        j = dl.job(cfg, job_name)
        for b in blocks:
            errs += ["job %s: %s" % (job_name, e) for e in sd_block_errors(b, namespaces)]
        errs += ["job %s: %s" % (job_name, e) for e in meta_label_errors(j, dep)]
        errs += ["job %s: %s" % (job_name, e) for e in port_rule_errors(j, dep)]
    dl.log("  kubernetes_sd blocks checked: %s" %
           ", ".join("%s (%d)" % (k, len(v)) for k, v in removed.items()))
    job_names = [j["job_name"] for j in cfg.get("scrape_configs") or []]
    for want in ("example-001v1", "kubernetes-pods"):
        if want not in job_names:
            errs.append("no job %s (jobs: %s)" % (want, job_names))
    return errs, cfg, swapped, path


def check_local(prom_dir, cm_cfg, dep):
    errs = []
    path = os.path.join(prom_dir, "prometheus.yml")
    rc, out = promtool(path)
    if rc != 0:
        errs.append("promtool rejects deploy/prometheus/prometheus.yml: " + out)
    else:
        dl.log("  promtool check config deploy/prometheus/prometheus.yml: " +
               out.splitlines()[-1].strip())
    with open(path) as f:
        local = yaml.safe_load(f)
    a = [j["job_name"] for j in cm_cfg["scrape_configs"]]
    b = [j["job_name"] for j in local["scrape_configs"]]
    if a != b:
        errs.append("jobs differ: ConfigMap %r, deploy/prometheus %r" % (a, b))
    for name in a:
        if name in b and (dl.job(cm_cfg, name).get("relabel_configs") !=
                          dl.job(local, name).get("relabel_configs")):
            errs.append("job %s: relabel_configs differ between the ConfigMap and "
                        "deploy/prometheus/prometheus.yml" % name)
    # The local targets file must describe the pod as the manifests do (same annotations, labels,
    # port names), or the shared rules would be tested on a fiction.
    with open(os.path.join(prom_dir, "example-001.targets.yml")) as f:
        local_targets = yaml.safe_load(f)
    sim = dl.pod_targets(dep, "x", "127.0.0.1", {})
    want = {(t["labels"]["__meta_kubernetes_pod_container_port_name"],
             t["labels"]["__meta_kubernetes_pod_container_port_number"]) for t in sim}
    have = {(t["labels"].get("__meta_kubernetes_pod_container_port_name"),
             t["labels"].get("__meta_kubernetes_pod_container_port_number")) for t in local_targets}
    if want != have:
        errs.append("example-001.targets.yml ports %r, the Deployment's %r" % (have, want))
    for t in local_targets:
        for k, v in t["labels"].items():
            if k.startswith(("__meta_kubernetes_pod_annotation_", "__meta_kubernetes_pod_label_")) \
                    and sim[0]["labels"].get(k) != v:
                errs.append("example-001.targets.yml: %s=%r, the pod template gives %r" %
                            (k, v, sim[0]["labels"].get(k)))
    return errs


def bite(objs, cfg, swapped, work):
    """Broken copies that must be rejected; returns the list of those that were not."""
    missed = []
    dep = dl.find(objs, "Deployment", "example-001v1")
    namespaces = sorted({o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"})

    def promtool_rejects(label, mutate, expect):
        c = copy.deepcopy(swapped)
        mutate(c)
        p = os.path.join(work, "broken-%s.yml" % re.sub(r"\W+", "-", label))
        with open(p, "w") as f:
            yaml.safe_dump(c, f, sort_keys=False)
        rc, out = promtool(p)
        if rc == 0 or expect not in out:
            missed.append("%s: promtool said rc=%d %r" % (label, rc, out[-300:]))
        else:
            dl.log("  broken copy rejected as expected (%s): %s" % (label, out.splitlines()[-1]
                                                                     .strip()))

    pods = lambda c: dl.job(c, "kubernetes-pods")  # noqa: E731
    promtool_rejects("unknown relabel action",
                     lambda c: pods(c)["relabel_configs"][0].update(action="keeep"),
                     "unknown relabel action")
    promtool_rejects("bad relabel regex",
                     lambda c: pods(c)["relabel_configs"][1].update(regex="metrics("),
                     "error parsing regexp")
    promtool_rejects("bad target label",
                     lambda c: pods(c)["relabel_configs"][-1].update(target_label="app-name"),
                     "is invalid 'target_label'")

    sd = dl.job(cfg, "kubernetes-pods")["kubernetes_sd_configs"][0]
    for label, mutate, expect in [
            ("sd role typo", lambda b: b.update(role="pods"), "role 'pods' is not one of"),
            ("sd namespaces typo", lambda b: b.update(namespaces={"name": ["monitoring"]}),
             "namespaces: unknown fields ['name']"),
            ("sd wrong namespace", lambda b: b.update(namespaces={"names": ["default"]}),
             "the manifests deploy to"),
            ("sd unknown field", lambda b: b.update(rolee="pod"), "unknown fields ['rolee']")]:
        b = copy.deepcopy(sd)
        mutate(b)
        errs = sd_block_errors(b, namespaces)
        if not any(expect in e for e in errs):
            missed.append("%s: not rejected (%r)" % (label, errs))
        else:
            dl.log("  broken copy rejected as expected (%s): %s" %
                   (label, [e for e in errs if expect in e][0]))

    j = copy.deepcopy(dl.job(cfg, "kubernetes-pods"))
    j["relabel_configs"][0]["source_labels"] = \
        ["__meta_kubernetes_pod_annotation_prometheus_io_scrap"]
    j["relabel_configs"][-1]["source_labels"] = ["__meta_kubernetes_pod_containr_name"]
    errs = meta_label_errors(j, dep)
    for expect in ("prometheus_io_scrap, which the pod template", "containr_name, which role pod"):
        if not any(expect in e for e in errs):
            missed.append("meta label typo %r not caught (%r)" % (expect, errs))
        else:
            dl.log("  broken copy rejected as expected (meta label): %s" %
                   [e for e in errs if expect in e][0])
    j = copy.deepcopy(dl.job(cfg, "kubernetes-pods"))
    j["relabel_configs"][1]["regex"] = "metrics|http"
    if not port_rule_errors(j, dep):
        missed.append("a port-name rule keeping http too was not caught")
    else:
        dl.log("  broken copy rejected as expected (port rule): %s" % port_rule_errors(j, dep)[0])
    return missed


def main():
    rendered, prom_dir, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    with open(rendered) as f:
        objs = dl.load_docs(f.read())
    dl.log("== ConfigMap prometheus-server-conf: prometheus.yml")
    errs, cfg, swapped, _ = check_configmap(objs, work)
    dl.log("== deploy/prometheus/prometheus.yml")
    errs += check_local(prom_dir, cfg, dl.find(objs, "Deployment", "example-001v1"))
    for e in errs:
        dl.log("  ERROR " + e)
    dl.log("== broken copies")
    missed = bite(objs, cfg, swapped, work)
    for m in missed:
        dl.log("  NOT CAUGHT " + m)
    if errs or missed:
        dl.fail("%d defects, %d broken copies not caught" % (len(errs), len(missed)))
    dl.log("PASS: both Prometheus configurations check out")


if __name__ == "__main__":
    try:
        main()
    except dl.CheckError as ex:
        dl.fail(str(ex))
