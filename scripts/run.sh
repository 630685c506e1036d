#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make run`: example-001 in the foreground.  With PROMETHEUS=1, and Debian's prometheus installed,
# also a Prometheus on 127.0.0.1:9090 scraping it with deploy/prometheus/prometheus.yml (the same
# jobs and relabelling as the Kubernetes ConfigMap); it stops when example-001 does.
set -uo pipefail
bin=$1
shift
if [ "${PROMETHEUS:-0}" = 1 ]; then
    if command -v prometheus >/dev/null 2>&1; then
        mkdir -p build/prometheus-data
        prometheus --config.file=deploy/prometheus/prometheus.yml \
            --storage.tsdb.path=build/prometheus-data --web.listen-address=127.0.0.1:9090 \
            >build/prometheus.log 2>&1 &
        prom=$!
        trap 'kill "$prom" 2>/dev/null; wait "$prom" 2>/dev/null' EXIT
        echo "Prometheus on http://127.0.0.1:9090 (Status -> Targets: /classic/targets; log: build/prometheus.log)"
    else
        echo "PROMETHEUS=1: prometheus is not installed; run: sudo apt-get install -y prometheus" >&2
        exit 1
    fi
fi
"$bin" "$@"
