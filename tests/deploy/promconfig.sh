#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# promtool checks of the ConfigMap's prometheus.yml (kubernetes_sd -> file_sd copy) and of
# deploy/prometheus/prometheus.yml, the kubernetes_sd fields, and broken copies that must be
# rejected (prom_config_checks.py).   Usage: promconfig.sh SOURCE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
src=$1
work=$(workdir promconfig)
need_kubectl
need promtool prometheus
pick_python yaml
kubectl kustomize "$src/deploy/k8s" >"$work/base.yaml"
promtool --version 2>&1 | head -1
cd "$here"
"$PY" prom_config_checks.py "$work/base.yaml" "$src/deploy/prometheus" "$work"
