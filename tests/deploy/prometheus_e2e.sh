#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A real Prometheus with deploy/'s configurations scraping real example-001 processes on 127.0.0.1
# (prom_e2e.py).   Usage: prometheus_e2e.sh relabel|scaleout SOURCE_DIR EXAMPLE001_BINARY
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
mode=$1
src=$2
bin=$3
work=$(workdir "prometheus-$mode")
need_kubectl
need prometheus prometheus
pick_python yaml
[ -x "$bin" ] || die "no example-001 binary at $bin (build the example-001 target)"
kubectl kustomize "$src/deploy/k8s" >"$work/base.yaml"
cd "$here"
"$PY" prom_e2e.py "$mode" "$bin" "$work/base.yaml" "$src/deploy/prometheus" "$work"
