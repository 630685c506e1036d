#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the image deploy_image_build made, without a Docker engine (podman + runc, host network,
# only 127.0.0.1 and ports of this test's own):
#   1. podman run --read-only with the image's own USER: "Hello World", a /metrics that promtool
#      accepts, uid 65534, memory after bursts of load against the Deployment's requests and
#      limits, SIGTERM -> exit 0;
#   2. podman kube play --network host on a test copy of the rendered Deployment (one replica,
#      no containerPorts, no probes, local image name, ports the kernel picks): the pod answers too,
#      with the securityContext and memory limit the manifest asks for, and stops with exit 0.
# If the container runtime cannot start any container here, the test says so in a banner and
# FAILS (a skip would count as a pass in the suite's closing tally); set
# PROMC_DEPLOY_ALLOW_NO_RUNTIME=1 to report it as skipped instead (exit 77) on such a machine.
# Usage: image_run.sh SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
src=$1
image=${PROMC_DEPLOY_IMAGE:?}
work=$(workdir image-run)
need podman podman
need runc runc
need catatonit catatonit
need promtool prometheus
need wrk wrk
need curl curl
need_kubectl
pick_python yaml

# runc, and limits explicit enough for this kind of machine (crun fails on its cgroups/rlimits).
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=1024:1024"]
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$work/containers.conf"

name="promc-deploy-run-$$"
kube="$work/kube-play.yaml"
cleanup() {
    podman rm -f -t 5 "$name" >/dev/null 2>&1 || true
    if [ -f "$kube" ]; then podman kube down "$kube" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

podman image exists "$image" || die "no image $image: deploy_image_build makes it"
# The service binds port 0 and prints the ports it got: no other user of the machine can take them.
ports_of() { # CONTAINER -> "HTTP_PORT METRICS_PORT" once it has printed both
    local i log h m
    for ((i = 0; i < 150; i++)); do
        log=$(podman logs "$1" 2>&1 || true)
        h=$(sed -n 's/^HTTP server available on port \([0-9]*\).*/\1/p' <<<"$log" | tail -1)
        m=$(sed -n 's/^Prometheus metrics available on port: \([0-9]*\).*/\1/p' <<<"$log" | tail -1)
        if [ -n "$h" ] && [ -n "$m" ]; then
            echo "$h $m"
            return 0
        fi
        sleep 0.2
    done
    echo "$log" | tail -20 >&2
    die "$1 did not print its ports within 30 s"
}
get() { curl -sS --max-time 5 "$@"; }
wait_healthy() { # URL SECONDS CONTAINER
    local i
    for ((i = 0; i < $2 * 5; i++)); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1/healthz")" = 200 ] && return 0
        sleep 0.2
    done
    podman logs "$3" 2>&1 | tail -20 || true
    die "$1/healthz did not answer 200 within $2 s"
}
status_of() { # PID -> "uid capeff nonewprivs seccomp"
    awk '/^Uid:/ {u=$2} /^CapEff:/ {c=$2} /^NoNewPrivs:/ {n=$2} /^Seccomp:/ {s=$2}
         END {print u, c, n, s}' "/proc/$1/status"
}
kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
check_service() { # HTTP_BASE METRICS_BASE
    local body metrics
    body=$(get "$1/hello")
    [ "$body" = "Hello World" ] || die "GET /hello answered '$body'"
    echo "GET /hello -> $body"
    [ "$(get -o /dev/null -w '%{http_code}' "$2/readyz")" = 200 ] || die "/readyz is not 200"
    echo "GET /readyz -> 200"
    metrics=$(get "$2/metrics")
    if ! promtool check metrics <<<"$metrics" 2>"$work/promtool.err"; then
        cat "$work/promtool.err"
        die "promtool check metrics rejects /metrics"
    fi
    grep -Eq '^hello_worlds_requests_total 1(\.0)?$' <<<"$metrics" ||
        die "/metrics lacks hello_worlds_requests_total 1: $(grep hello_worlds <<<"$metrics")"
    echo "GET /metrics -> $(wc -l <<<"$metrics") lines, promtool check metrics: clean;" \
        "$(grep -E '^hello_worlds_requests_total ' <<<"$metrics")"
}

section "can the container runtime start a container here? ($(runc --version | head -1))"
# The image's own --help: exit 0 shows the runtime works.  podman's 125-127 with an OCI runtime
# message means the runtime could not start the container; any other failure is the image's.
set +e
out=$(podman run --rm --pull=never --network none "$image" --help 2>&1)
rc=$?
set -e
if [ $rc != 0 ]; then
    if [ $rc -ge 125 ] && grep -qiE 'OCI|runc|runtime|cgroup|rlimit' <<<"$out"; then
        {
            echo "######################################################################"
            echo "## The container runtime cannot start containers on this machine:"
            echo "##   podman run --rm $image --help  (exit $rc)"
            sed 's/^/##   /' <<<"$out" | head -20
            echo "## The image build was checked by deploy_image_build; running it was NOT."
            echo "######################################################################"
        } | tee /dev/stderr
        if [ "${PROMC_DEPLOY_ALLOW_NO_RUNTIME:-}" = 1 ]; then
            echo "SKIPPED (PROMC_DEPLOY_ALLOW_NO_RUNTIME=1)"
            exit 77
        fi
        die "no container runtime (set PROMC_DEPLOY_ALLOW_NO_RUNTIME=1 to report a skip instead)"
    fi
    echo "$out"
    die "the image's example-001 --help failed (exit $rc)"
fi
echo "yes: example-001 --help ran in a container"

kubectl kustomize "$src/deploy/k8s" >"$work/base.yaml"
read -r mem_req mem_lim < <("$PY" - "$work/base.yaml" <<'EOF'
import sys, yaml
units = {"Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3}
dep = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "Deployment")
res = dep["spec"]["template"]["spec"]["containers"][0]["resources"]
def b(q):
    q = str(q)
    return int(float(q[:-2]) * units[q[-2:]]) if q[-2:] in units else int(q)
print(b(res["requests"]["memory"]), b(res["limits"]["memory"]))
EOF
)

section "podman run --network host --read-only $image (its own USER)"
podman run -d --name "$name" --pull=never --network host --read-only --cap-drop=ALL \
    --security-opt no-new-privileges "$image" \
    --bind 127.0.0.1 --port 0 --metrics-port 0 --drain-seconds 2 >/dev/null ||
    die "podman run failed"
read -r hp mp < <(ports_of "$name")
wait_healthy "http://127.0.0.1:$mp" 30 "$name"
pid=$(podman inspect --format '{{.State.Pid}}' "$name")
read -r uid capeff nnp seccomp < <(status_of "$pid")
echo "process $pid: uid $uid, CapEff $capeff, NoNewPrivs $nnp"
[ "$uid" = 65534 ] || die "the container runs as uid $uid, not 65534"
check_service "http://127.0.0.1:$hp" "http://127.0.0.1:$mp"
echo "RSS idle: $(kib "$pid" VmRSS) kB"
wrk -t2 -c200 -d3s "http://127.0.0.1:$hp/hello" | grep -E 'Requests/sec|requests in'
hwm=$(kib "$pid" VmHWM)
echo "peak RSS after 3 s at 200 connections: $hwm kB; the Deployment requests $((mem_req / 1024)) kB"
[ $((hwm * 1024)) -lt "$mem_req" ] || die "peak RSS $hwm kB is above the memory request"
(ulimit -n 4096 && wrk -t2 -c1100 -d3s "http://127.0.0.1:$hp/hello" | grep -E 'Requests/sec|requests in')
hwm=$(kib "$pid" VmHWM)
echo "peak RSS after 3 s at 1100 connections (past the 1024 cap): $hwm kB; the limit is" \
    "$((mem_lim / 1024)) kB"
[ $((hwm * 1024)) -lt "$mem_lim" ] || die "peak RSS $hwm kB is above the memory limit"
t0=$(date +%s.%N)
podman stop -t 20 "$name" >/dev/null
rc=$(podman inspect --format '{{.State.ExitCode}}' "$name")
echo "podman stop (SIGTERM): exit code $rc after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
[ "$rc" = 0 ] || die "exit code $rc after SIGTERM"
# Read the whole log first: with pipefail, grep -q closing the pipe early would fail the pipeline.
stop_log=$(podman logs "$name" 2>&1 || true)
grep -q 'SIGTERM' <<<"$stop_log" || die "the log does not mention SIGTERM"
podman rm "$name" >/dev/null

section "podman kube play --network host (a test copy of the rendered Deployment)"
pod="example-001v1-test-$$"
"$PY" - "$work/base.yaml" "$kube" "$image" "$pod" <<'EOF'
import sys, yaml
src, out, image, pod = sys.argv[1:]
dep = next(d for d in yaml.safe_load_all(open(src)) if d and d["kind"] == "Deployment")
dep["metadata"]["name"] = pod
# One replica: with host networking two would want the same ports.
dep["spec"]["replicas"] = 1
spec = dep["spec"]["template"]["spec"]
for c in spec["containers"]:
    c["image"] = image                       # resolved locally
    c.pop("ports", None)                     # host network: podman would try to publish them
    # podman turns HTTP probes into curl run inside the container, which a FROM scratch image
    # cannot run; the test GETs /healthz and /readyz from outside, as the kubelet does.
    for p in ("livenessProbe", "readinessProbe", "startupProbe"):
        c.pop(p, None)
    env = {e["name"]: e for e in c.setdefault("env", [])}
    for k, v in (("EXAMPLE001_PORT", "0"), ("EXAMPLE001_METRICS_PORT", "0"),
                 ("EXAMPLE001_BIND", "127.0.0.1")):
        if k in env:
            env[k]["value"] = v
        else:
            c["env"].append({"name": k, "value": v})
yaml.safe_dump(dep, open(out, "w"), sort_keys=False)
EOF
if ! podman kube play --network host "$kube" >"$work/kube-play.out" 2>"$work/kube-play.err"; then
    cat "$work/kube-play.out" "$work/kube-play.err"
    die "podman kube play failed"
fi
ctr="$pod-pod-0-example-001"
read -r hp mp < <(ports_of "$ctr")
wait_healthy "http://127.0.0.1:$mp" 30 "$ctr"
check_service "http://127.0.0.1:$hp" "http://127.0.0.1:$mp"
pid=$(podman inspect --format '{{.State.Pid}}' "$ctr")
read -r uid capeff nnp seccomp < <(status_of "$pid")
ro=$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$ctr")
mem=$(podman inspect --format '{{.HostConfig.Memory}}' "$ctr")
echo "pod container: uid $uid, CapEff $capeff, NoNewPrivs $nnp, Seccomp $seccomp," \
    "read-only root $ro, memory limit $mem"
[ "$uid" = 65534 ] || die "the pod runs as uid $uid"
[ "$capeff" = 0000000000000000 ] || die "capabilities left: $capeff (the manifest drops ALL)"
[ "$nnp" = 1 ] || die "NoNewPrivs $nnp (allowPrivilegeEscalation: false)"
[ "$seccomp" = 2 ] || die "Seccomp mode $seccomp (RuntimeDefault is a filter, mode 2)"
[ "$ro" = true ] || die "the root filesystem is writable (readOnlyRootFilesystem: true)"
[ "$mem" = "$mem_lim" ] || die "memory limit $mem, the manifest says $mem_lim"
podman pod stop -t 20 "$pod-pod-0" >/dev/null
rc=$(podman inspect --format '{{.State.ExitCode}}' "$ctr")
echo "pod stopped (SIGTERM): exit code $rc"
[ "$rc" = 0 ] || die "exit code $rc after SIGTERM"
podman kube down "$kube" >/dev/null 2>&1 || die "podman kube down failed"
echo "PASS: the image runs, alone and as the Deployment's pod"
