#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages a make target needs: as root with apt-get, otherwise prints the exact
# command to run and fails.  Usage: scripts/deps.sh build|test|bench ...
set -euo pipefail

build_pkgs="gcc make cmake pkg-config libevent-dev zlib1g-dev libcurl4-openssl-dev libssl-dev
  libyaml-dev libcrypt-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  golang-github-prometheus-client-model-dev"
test_pkgs="python3 python3-prometheus-client python3-protobuf prometheus curl jq wrk chromium valgrind clang
  libclang-rt-14-dev clang-format musl-tools podman buildah runc catatonit mmdebstrap yamllint
  python3-yaml python3-kubernetes iproute2 procps locales binutils prometheus-node-exporter
  libmicrohttpd-dev prometheus-pushgateway openssl dpkg-dev debhelper lintian golang-go
  golang-github-prometheus-client-golang-dev golang-github-prometheus-exporter-toolkit-dev apache2-utils"
bench_pkgs="golang-go golang-github-prometheus-client-golang-dev golang-github-prometheus-exporter-toolkit-dev
  openssl prometheus-cpp-dev g++ nginx-light
  python3-prometheus-client wrk"

want=""
for group in "$@"; do
    case "$group" in
    build) want="$want $build_pkgs" ;;
    test) want="$want $build_pkgs $test_pkgs" ;;
    bench) want="$want $build_pkgs $bench_pkgs" ;;
    *) echo "deps.sh: unknown group '$group' (build, test, bench)" >&2; exit 2 ;;
    esac
done

missing=""
for p in $want; do
    case " $missing " in *" $p "*) continue ;; esac
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
# Node.js and npm (for the offline Kubernetes schema check): any install that gives both will do
# (Debian's packages, or a machine's own Node.js that ships npm).
case " $* " in *" test "*)
    command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
    # kubectl (kustomize rendering): any package that gives it; Debian's is kubernetes-client.
    command -v kubectl >/dev/null 2>&1 || missing="$missing kubernetes-client" ;;
esac
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    echo "deps.sh: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    # shellcheck disable=SC2086
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "deps.sh: missing Debian packages. Run:" >&2
    echo "  sudo apt-get install -y$missing" >&2
    exit 1
fi
