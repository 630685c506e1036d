#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Renders deploy/k8s, deploy/k8s/operator and deploy/k8s-tls with kubectl kustomize (offline), lints every YAML file
# of deploy/ and the rendered output, then runs the strict schema walk, the Pod Security
# "restricted" check and the consistency checks (k8s_checks.py), each with broken copies that must
# be rejected.   Usage: manifests.sh SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
src=$1
work=$(workdir manifests)
need_kubectl
need yamllint yamllint
pick_python "yaml, kubernetes"

section "kubectl kustomize ($(kubectl version --client 2>/dev/null | head -1))"
kubectl kustomize "$src/deploy/k8s" >"$work/base.yaml" || die "kubectl kustomize deploy/k8s failed"
kubectl kustomize "$src/deploy/k8s/operator" >"$work/operator.yaml" ||
    die "kubectl kustomize deploy/k8s/operator failed"
kubectl kustomize "$src/deploy/k8s-tls" >"$work/tls.yaml" || die "kubectl kustomize deploy/k8s-tls failed"
echo "rendered deploy/k8s: $(grep -c '^kind:' "$work/base.yaml") objects;" \
    "deploy/k8s/operator: $(grep -c '^kind:' "$work/operator.yaml") object(s);" \
    "deploy/k8s-tls: $(grep -c '^kind:' "$work/tls.yaml") objects"

section "yamllint (duplicate keys, indentation, truthy values, ...)"
yamllint -s -c "$here/yamllint.yaml" "$src/deploy" "$work/base.yaml" "$work/operator.yaml" \
    "$work/tls.yaml" ||
    die "yamllint found problems"
printf 'a: 1\na: 2\n' >"$work/dup.yaml"
if yamllint -c "$here/yamllint.yaml" "$work/dup.yaml" >/dev/null; then
    die "yamllint let a duplicate key through: the lint does not bite"
fi
echo "clean; a file with a duplicate key is rejected"

section "schema walk, Pod Security restricted, consistency"
cd "$here"
"$PY" k8s_checks.py "$work/base.yaml" "$src/deploy/k8s/kustomization.yaml"
"$PY" k8s_checks.py --tls-overlay "$work/tls.yaml"
