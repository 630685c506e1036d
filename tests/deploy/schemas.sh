#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Validates every rendered object (deploy/k8s and deploy/k8s/operator) against the Kubernetes
# OpenAPI schemas of kubernetes-models and the PodMonitor schema of
# @kubernetes-models/prometheus-operator (versions pinned in package-lock.json, installed by the
# deploy_npm fixture), then checks that a deliberately broken copy (a string port, an unknown field)
# is rejected.  Usage: schemas.sh SOURCE_DIR NODE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
src=$1
node_dir=$2
work=$(workdir schemas)
need_kubectl
need node nodejs
pick_python yaml
[ -d "$node_dir/node_modules/kubernetes-models" ] ||
    die "$node_dir/node_modules has no kubernetes-models (the deploy_npm fixture runs npm ci)"
cp "$here/validate.mjs" "$node_dir/"

to_json() { # YAML files -> one JSON array
    "$PY" -c 'import json, sys, yaml
json.dump([d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d], sys.stdout)' "$@"
}
kubectl kustomize "$src/deploy/k8s" >"$work/base.yaml"
kubectl kustomize "$src/deploy/k8s/operator" >"$work/operator.yaml"
kubectl kustomize "$src/deploy/k8s-tls" >"$work/tls.yaml"
to_json "$work/base.yaml" "$work/operator.yaml" "$work/tls.yaml" >"$work/objects.json"

section "kubernetes-models $(cd "$node_dir" && node -p 'require("./node_modules/kubernetes-models/package.json").version') (Kubernetes 1.34 schemas), node $(node --version)"
node "$node_dir/validate.mjs" "$work/objects.json" || die "the rendered manifests do not validate"

section "a broken copy: containerPort as a string, an unknown field in the probe"
"$PY" - "$work/base.yaml" >"$work/broken.json" <<'PYEOF'
import json, sys, yaml
objs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
dep = next(o for o in objs if o["kind"] == "Deployment")
c = dep["spec"]["template"]["spec"]["containers"][0]
c["ports"][0]["containerPort"] = "8001"
c["livenessProbe"]["httpGet"]["paht"] = "/healthz"
json.dump([dep], sys.stdout)
PYEOF
set +e
out=$(node "$node_dir/validate.mjs" "$work/broken.json")
rc=$?
set -e
echo "$out"
[ $rc = 1 ] || die "kubernetes-models accepted the broken copy (exit $rc)"
grep -q 'containerPort must be integer' <<<"$out" ||
    die "the broken copy was rejected, but not for its string port"
echo "rejected for the string port; the unknown field is caught by the strict walk of" \
    "k8s_checks.py (kubernetes-models allows unknown fields), checked by deploy_manifests"
echo "PASS: every object validates; the broken copy is rejected"
