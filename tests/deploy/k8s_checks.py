#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks of the rendered deploy/k8s manifests that need no cluster:

  schema   every object walked strictly over the Kubernetes models of Debian's python3-kubernetes:
           unknown fields and wrong types are errors (kubernetes-models, run by validate.mjs, checks
           required fields, enums and formats but lets unknown fields through);
  pss      the Deployment's pod spec against the Pod Security Standard "restricted" (and
           baseline, which restricted includes), plus readOnlyRootFilesystem;
  shape    what the issue asks of the objects and what ties them together: names, replicas,
           named ports, probes, resources, grace period vs drain, annotations vs the scrape job,
           Service ports, the image named in one place.

Each family also runs on deliberately broken copies and must reject every one of them, so a
check that stopped biting fails the test.

Usage: k8s_checks.py RENDERED_BASE.yaml KUSTOMIZATION_DIR
"""

import copy
import re
import sys

import yaml

import deploylib as dl

# ---- Strict schema walk -----------------------------------------------------------------------


def model_for(obj):
    import kubernetes.client as kc
    api = obj.get("apiVersion", "")
    version = api.split("/")[-1]
    name = version[0].upper() + version[1:] + obj.get("kind", "")
    cls = getattr(kc, name, None)
    if cls is None:
        raise dl.CheckError("no Kubernetes model %s for %s %s" % (name, api, obj.get("kind")))
    return cls


# Fields newer than Debian's python3-kubernetes models (Kubernetes 1.22), each added by hand from
# the Kubernetes API reference with its own small schema.  kubernetes-models (Kubernetes 1.34, run
# by validate.mjs) validates them fully; this keeps the unknown-field check on everything else.
NEWER_FIELDS = {
    # LifecycleHandler.sleep: PodLifecycleSleepAction, beta and on by default since 1.30.
    ("V1Handler", "sleep"): {"seconds": "int"},
}


def _walk(value, typ, path, errors, parent_key=""):
    import kubernetes.client as kc
    if isinstance(typ, dict):  # a NEWER_FIELDS schema
        if not isinstance(value, dict):
            errors.append("%s: expected an object, got %s" % (path, type(value).__name__))
            return
        for k, v in value.items():
            if k not in typ:
                errors.append("%s: unknown field %r" % (path, k))
            else:
                _walk(v, typ[k], "%s.%s" % (path, k), errors, k)
        return
    if value is None:
        return
    if typ.startswith("list["):
        if not isinstance(value, list):
            errors.append("%s: expected a list, got %s" % (path, type(value).__name__))
            return
        for i, v in enumerate(value):
            _walk(v, typ[5:-1], "%s[%d]" % (path, i), errors)
        return
    if typ.startswith("dict("):
        if not isinstance(value, dict):
            errors.append("%s: expected a map, got %s" % (path, type(value).__name__))
            return
        inner = typ[5:-1].split(", ", 1)[1]
        for k, v in value.items():
            if inner == "str" and parent_key in ("limits", "requests") and \
                    isinstance(v, (int, float)) and not isinstance(v, bool):
                continue  # a resource quantity may be written as a number
            _walk(v, inner, "%s.%s" % (path, k), errors)
        return
    simple = {"str": str, "int": int, "bool": bool, "float": (int, float), "datetime": str}
    if typ in simple:
        ok = isinstance(value, simple[typ]) and not (typ in ("int", "float")
                                                     and isinstance(value, bool))
        if not ok:
            errors.append("%s: expected %s, got %s %r" % (path, typ, type(value).__name__, value))
        return
    if typ == "object":  # IntOrString and free-form fields
        return
    cls = getattr(kc, typ, None)
    if cls is None:
        errors.append("%s: unknown model type %s" % (path, typ))
        return
    if not isinstance(value, dict):
        errors.append("%s: expected an object (%s), got %s" % (path, typ, type(value).__name__))
        return
    json_to_attr = {j: a for a, j in cls.attribute_map.items()}
    for k, v in value.items():
        if (typ, k) in NEWER_FIELDS:
            _walk(v, NEWER_FIELDS[(typ, k)], "%s.%s" % (path, k), errors, k)
            continue
        if k not in json_to_attr:
            errors.append("%s: unknown field %r in %s" % (path, k, typ))
            continue
        _walk(v, cls.openapi_types[json_to_attr[k]], "%s.%s" % (path, k), errors, k)


def schema_errors(obj):
    errors = []
    where = "%s/%s" % (obj.get("kind"), (obj.get("metadata") or {}).get("name"))
    _walk(obj, model_for(obj).__name__, where, errors)
    return errors


# ---- Pod Security Standard "restricted" --------------------------------------------------------

RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}


def pss_violations(pod_spec):
    """Rule names broken by a pod spec, with where; empty when it meets "restricted" and has a
    read-only root filesystem."""
    v = []
    psc = pod_spec.get("securityContext") or {}
    for ns in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(ns):
            v.append("host-namespaces: spec.%s is true" % ns)
    if psc.get("windowsOptions", {}).get("hostProcess"):
        v.append("host-process: pod windowsOptions.hostProcess")
    for vol in pod_spec.get("volumes") or []:
        kinds = set(vol) - {"name"}
        if "hostPath" in kinds:
            v.append("host-path-volumes: volume %s" % vol.get("name"))
        if not kinds <= RESTRICTED_VOLUMES:
            v.append("volume-types: volume %s is %s" % (vol.get("name"), sorted(kinds)))
    for s in psc.get("sysctls") or []:
        if s.get("name") not in SAFE_SYSCTLS:
            v.append("sysctls: %s" % s.get("name"))
    if psc.get("seLinuxOptions", {}).get("user") or psc.get("seLinuxOptions", {}).get("role"):
        v.append("selinux: pod seLinuxOptions user/role")
    pod_nonroot = psc.get("runAsNonRoot") is True
    if psc.get("runAsUser") == 0:
        v.append("run-as-user: pod runAsUser 0")
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")
    if pod_seccomp not in (None, "RuntimeDefault", "Localhost"):
        v.append("seccomp: pod seccompProfile %s" % pod_seccomp)
    containers = []
    for key in ("initContainers", "containers", "ephemeralContainers"):
        containers += [(key, c) for c in pod_spec.get(key) or []]
    if not containers:
        v.append("containers: none")
    for key, c in containers:
        where = "%s %s" % (key, c.get("name"))
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            v.append("privileged: " + where)
        if sc.get("allowPrivilegeEscalation") is not False:
            v.append("allow-privilege-escalation: %s must set it false" % where)
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            v.append("capabilities: %s must drop ALL" % where)
        extra = set(caps.get("add") or []) - {"NET_BIND_SERVICE"}
        if extra:
            v.append("capabilities: %s adds %s" % (where, sorted(extra)))
        if sc.get("runAsNonRoot") is False or not (pod_nonroot or sc.get("runAsNonRoot") is True):
            v.append("run-as-non-root: " + where)
        if sc.get("runAsUser") == 0:
            v.append("run-as-user: %s runAsUser 0" % where)
        seccomp = (sc.get("seccompProfile") or {}).get("type")
        if seccomp not in (None, "RuntimeDefault", "Localhost") or (seccomp is None
                                                                    and pod_seccomp is None):
            v.append("seccomp: %s needs RuntimeDefault or Localhost" % where)
        if sc.get("procMount") not in (None, "Default"):
            v.append("proc-mount: " + where)
        if sc.get("seLinuxOptions", {}).get("user") or sc.get("seLinuxOptions", {}).get("role"):
            v.append("selinux: " + where)
        if sc.get("windowsOptions", {}).get("hostProcess"):
            v.append("host-process: " + where)
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                v.append("host-ports: %s hostPort %s" % (where, p["hostPort"]))
        if sc.get("readOnlyRootFilesystem") is not True:
            v.append("read-only-root: %s must set readOnlyRootFilesystem" % where)
    return v


def pss_breakers():
    """(rule, mutation) pairs: each mutation of a good pod spec must be caught as that rule."""
    def c0(p):
        return p["containers"][0]

    def sc(p):
        return c0(p).setdefault("securityContext", {})
    return [
        ("host-namespaces", lambda p: p.update(hostNetwork=True)),
        ("host-namespaces", lambda p: p.update(hostPID=True)),
        ("host-namespaces", lambda p: p.update(hostIPC=True)),
        ("host-path-volumes", lambda p: p.setdefault("volumes", []).append(
            {"name": "h", "hostPath": {"path": "/"}})),
        ("privileged", lambda p: sc(p).update(privileged=True)),
        ("allow-privilege-escalation", lambda p: sc(p).pop("allowPrivilegeEscalation")),
        ("allow-privilege-escalation", lambda p: sc(p).update(allowPrivilegeEscalation=True)),
        ("capabilities", lambda p: sc(p).update(capabilities={"drop": ["NET_RAW"]})),
        ("capabilities", lambda p: sc(p)["capabilities"].update(add=["SYS_ADMIN"])),
        ("run-as-non-root", lambda p: (p["securityContext"].pop("runAsNonRoot"),
                                       sc(p).pop("runAsNonRoot", None))),
        ("run-as-non-root", lambda p: sc(p).update(runAsNonRoot=False)),
        ("run-as-user", lambda p: p["securityContext"].update(runAsUser=0)),
        ("seccomp", lambda p: p["securityContext"].update(seccompProfile={"type": "Unconfined"})),
        ("seccomp", lambda p: (p["securityContext"].pop("seccompProfile"),
                               sc(p).pop("seccompProfile", None))),
        ("host-ports", lambda p: c0(p)["ports"][0].update(hostPort=8001)),
        ("proc-mount", lambda p: sc(p).update(procMount="Unmasked")),
        ("read-only-root", lambda p: sc(p).update(readOnlyRootFilesystem=False)),
        ("volume-types", lambda p: p.setdefault("volumes", []).append(
            {"name": "n", "nfs": {"server": "x", "path": "/"}})),
        ("sysctls", lambda p: p["securityContext"].update(
            sysctls=[{"name": "kernel.msgmax", "value": "1"}])),
    ]


# ---- Shape and cross-object consistency ------------------------------------------------------------

def quantity(q):
    """A Kubernetes quantity in base units (bytes, cores)."""
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(q))
    if not m:
        raise dl.CheckError("bad quantity %r" % q)
    n, unit = float(m.group(1)), m.group(2)
    mult = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1024, "Mi": 1024 ** 2,
            "Gi": 1024 ** 3}
    if unit not in mult:
        raise dl.CheckError("unknown quantity unit in %r" % q)
    return n * mult[unit]


def shape_errors(objs, kustomization):
    e = []

    def need(cond, msg):
        if not cond:
            e.append(msg)

    kinds = sorted("%s/%s" % (o["kind"], o["metadata"]["name"]) for o in objs)
    for want in ("Namespace/monitoring", "Deployment/example-001v1", "Service/example-001v1",
                 "ConfigMap/prometheus-server-conf", "ServiceAccount/prometheus-server",
                 "ClusterRole/prometheus-server-discovery"):
        need(want in kinds, "missing %s (have %s)" % (want, kinds))
    for o in objs:
        if o["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            need(o["metadata"].get("namespace") == "monitoring",
                 "%s/%s is not in namespace monitoring" % (o["kind"], o["metadata"]["name"]))
    if e:
        return e
    dep = dl.find(objs, "Deployment", "example-001v1")
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    tmeta = spec["template"]["metadata"]
    need(spec.get("replicas") == 2, "Deployment replicas %r, want 2" % spec.get("replicas"))
    sel = spec["selector"]["matchLabels"]
    need(all(tmeta.get("labels", {}).get(k) == v for k, v in sel.items()),
         "Deployment selector %r does not match its pod labels" % sel)
    need(len(pod["containers"]) == 1, "want one container")
    c = pod["containers"][0]
    ports = {p.get("name"): p for p in c.get("ports") or []}
    need(ports.get("http", {}).get("containerPort") == 8001, "no port http 8001: %r" % ports)
    need(ports.get("metrics", {}).get("containerPort") == 8000, "no port metrics 8000: %r" % ports)
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                        ("startupProbe", "/healthz")):
        get = (c.get(probe) or {}).get("httpGet") or {}
        need(get.get("path") == path and get.get("port") in ("metrics", 8000),
             "%s must GET %s on the metrics port, is %r" % (probe, path, get))
    res = c.get("resources") or {}
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            need(r in (res.get(kind) or {}), "resources.%s.%s missing" % (kind, r))
    if not e:
        need(quantity(res["requests"]["memory"]) <= quantity(res["limits"]["memory"]),
             "memory request above its limit")
        need(quantity(res["requests"]["cpu"]) <= quantity(res["limits"]["cpu"]),
             "cpu request above its limit")
    env = {x["name"]: x.get("value") for x in c.get("env") or []}
    drain = float(env.get("EXAMPLE001_DRAIN_SECONDS", 5))  # the service's default is 5 s
    pre_stop = (((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}) \
        .get("seconds", 0)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    need(grace > pre_stop + drain, "terminationGracePeriodSeconds %s not above the preStop "
         "sleep (%s s) plus the drain time (%s s)" % (grace, pre_stop, drain))
    for var, port in (("EXAMPLE001_PORT", 8001), ("EXAMPLE001_METRICS_PORT", 8000)):
        if var in env:
            need(env[var] == str(port), "%s=%s disagrees with the container port %d" %
                 (var, env[var], port))
    ann = tmeta.get("annotations") or {}
    need(ann.get("prometheus.io/scrape") == "true", "annotation prometheus.io/scrape != 'true'")
    need(ann.get("prometheus.io/port") == "8000",
         "annotation prometheus.io/port %r is not the metrics port" % ann.get("prometheus.io/port"))
    need(ann.get("prometheus.io/path") == "/metrics", "annotation prometheus.io/path")

    svc = dl.find(objs, "Service", "example-001v1")
    need(svc["spec"].get("selector") == sel, "Service selector differs from the Deployment's")
    sp = {p["name"]: p for p in svc["spec"]["ports"]}
    for name, num in (("http", 8001), ("metrics", 8000)):
        need(sp.get(name, {}).get("port") == num and sp[name].get("targetPort") in (name, num),
             "Service port %s must be %d -> %s" % (name, num, name))

    rb = [o for o in objs if o["kind"] in ("RoleBinding", "ClusterRoleBinding")
          and o["roleRef"]["name"] == "prometheus-server-discovery"]
    need(len(rb) == 1 and {"kind": "ServiceAccount", "name": "prometheus-server",
                           "namespace": "monitoring"} in rb[0]["subjects"],
         "no binding of prometheus-server-discovery to ServiceAccount monitoring/prometheus-server")
    role = dl.find(objs, "ClusterRole", "prometheus-server-discovery")
    granted = {(r, v) for rule in role["rules"] if "" in rule.get("apiGroups", [])
               for r in rule.get("resources", []) for v in rule.get("verbs", [])}
    for verb in ("list", "watch"):
        need(("pods", verb) in granted, "ClusterRole does not grant %s on pods" % verb)

    # The image: named once, in kustomization.yaml's images:, and used by the Deployment.
    with open(kustomization) as f:
        kz = yaml.safe_load(f)
    imgs = kz.get("images") or []
    need(len(imgs) == 1 and imgs[0].get("name") == "example-001", "kustomize images: %r" % imgs)
    if len(imgs) == 1:
        want = "%s:%s" % (imgs[0].get("newName", "example-001"), imgs[0].get("newTag", "latest"))
        need(c["image"] == want, "Deployment image %r, kustomize says %r" % (c["image"], want))
    return e


# ---- Driver -------------------------------------------------------------------------------------

def expect_rejected(label, errors, must_contain):
    hit = [x for x in errors if must_contain in x]
    if not hit:
        raise dl.CheckError("%s: the broken copy was NOT rejected for %r (errors: %r)" %
                            (label, must_contain, errors))
    dl.log("  broken copy rejected as expected (%s): %s" % (label, hit[0]))


def tls_overlay_errors(objs):
    """deploy/k8s-tls's own promises: the Secret mounted read-only where EXAMPLE001_WEB_CONFIG_FILE
    points, readable by the service's group only, and probes that need no password."""
    errs = []
    dep = dl.find(objs, "Deployment", "example-001v1")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    path = env.get("EXAMPLE001_WEB_CONFIG_FILE") or ""
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = [m for m in c.get("volumeMounts", []) if path.startswith(m["mountPath"] + "/")]
    if not mounts:
        errs.append("EXAMPLE001_WEB_CONFIG_FILE %r is under no volume mount" % path)
    for m in mounts:
        v = vols.get(m["name"], {})
        if not m.get("readOnly") or "secret" not in v:
            errs.append("the web config mount %s is not a read-only Secret" % m["name"])
        elif v["secret"].get("defaultMode", 0o644) & 0o007 or \
                pod.get("securityContext", {}).get("fsGroup") != 65534:
            errs.append("the Secret's files are readable by others, or not by group 65534")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        p = c.get(probe, {})
        if "httpGet" in p or p.get("tcpSocket", {}).get("port") != "metrics":
            errs.append("%s is not a tcpSocket probe of the port named metrics: %r" % (probe, p))
    return errs


def tls_overlay(rendered_path):
    """deploy/k8s-tls rendered: the schema walk, Pod Security restricted, its own promises, and
    broken copies that must be rejected."""
    with open(rendered_path) as f:
        objs = dl.load_docs(f.read())
    errs = [x for o in objs for x in schema_errors(o)]
    errs += pss_violations(dl.find(objs, "Deployment", "example-001v1")["spec"]["template"]["spec"])
    errs += tls_overlay_errors(objs)
    for x in errs:
        dl.log("  ERROR " + x)
    if errs:
        dl.fail("deploy/k8s-tls has the defects listed above")
    broken = copy.deepcopy(objs)
    pod = dl.find(broken, "Deployment", "example-001v1")["spec"]["template"]["spec"]
    pod["containers"][0]["readinessProbe"] = {"httpGet": {"path": "/readyz", "port": "metrics"}}
    pod["volumes"][-1]["secret"]["defaultMode"] = 0o444
    errs = tls_overlay_errors(broken)
    expect_rejected("tls probe", errs, "readinessProbe")
    expect_rejected("tls secret mode", errs, "readable by others")
    dl.log("PASS: deploy/k8s-tls: schema, Pod Security restricted, Secret mount, probes")


def main():
    if sys.argv[1] == "--tls-overlay":
        return tls_overlay(sys.argv[2])
    rendered_path, kustomization = sys.argv[1], sys.argv[2]
    with open(rendered_path) as f:
        objs = dl.load_docs(f.read())
    dl.log("%d objects: %s" % (len(objs), ", ".join("%s/%s" % (o["kind"], o["metadata"]["name"])
                                                    for o in objs)))
    failed = False

    dl.log("== strict schema walk (python3-kubernetes models)")
    for o in objs:
        errs = schema_errors(o)
        for x in errs:
            dl.log("  ERROR " + x)
        failed |= bool(errs)
    dep = dl.find(objs, "Deployment", "example-001v1")
    broken = copy.deepcopy(dep)
    c = broken["spec"]["template"]["spec"]["containers"][0]
    c["ports"][0]["containerPort"] = "8001"
    c["livenessProbe"]["httpGet"]["paht"] = "/healthz"
    c["lifecycle"]["preStop"]["sleep"]["second"] = 5
    errs = schema_errors(broken)
    expect_rejected("unknown field in a newer field", errs, "unknown field 'second'")
    expect_rejected("string port", errs, "containerPort: expected int, got str")
    expect_rejected("unknown field", errs, "unknown field 'paht'")
    broken = copy.deepcopy(dep)
    broken["spec"]["template"]["spec"]["securityContext"]["runAsNonroot"] = True
    expect_rejected("misspelt field", schema_errors(broken), "unknown field 'runAsNonroot'")

    dl.log("== Pod Security Standard restricted (+ readOnlyRootFilesystem)")
    pod = dep["spec"]["template"]["spec"]
    v = pss_violations(pod)
    for x in v:
        dl.log("  VIOLATION " + x)
    failed |= bool(v)
    if not v:
        dl.log("  Deployment/example-001v1 meets restricted")
        for rule, mutate in pss_breakers():
            p = copy.deepcopy(pod)
            mutate(p)
            expect_rejected("pss " + rule, pss_violations(p), rule + ":")

    dl.log("== shape and consistency")
    e = shape_errors(objs, kustomization)
    for x in e:
        dl.log("  ERROR " + x)
    failed |= bool(e)
    if not e:
        broken = copy.deepcopy(objs)
        d = dl.find(broken, "Deployment", "example-001v1")
        d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 5
        d["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] = "8001"
        errs = shape_errors(broken, kustomization)
        expect_rejected("grace period", errs, "terminationGracePeriodSeconds")
        expect_rejected("annotation port", errs, "prometheus.io/port")
        dl.log("  ok")

    if failed:
        dl.fail("the rendered manifests have the defects listed above")
    dl.log("PASS: schema, Pod Security restricted and consistency checks")


if __name__ == "__main__":
    try:
        main()
    except dl.CheckError as ex:
        dl.fail(str(ex))
