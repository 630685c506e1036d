# SPDX-License-Identifier: Apache-2.0
# Sourced by the tests/deploy drivers: loud failures, tool checks, a private work directory.
# shellcheck shell=bash disable=SC2034

die() {
    echo "FAIL: $*" >&2
    exit 1
}

section() {
    echo
    echo "== $*"
}

# need CMD DEBIAN_PACKAGE: the tool must be there (scripts/deps.sh test installs it).
need() {
    command -v "$1" >/dev/null 2>&1 ||
        die "$1 is not installed (Debian package $2; run scripts/deps.sh test)"
}

# kubectl: the machine's own, or Debian's kubernetes-client installed now (as root).
need_kubectl() {
    command -v kubectl >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ]; then
        echo "kubectl missing: installing Debian's kubernetes-client"
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
            --no-install-recommends kubernetes-client >/dev/null ||
            die "could not install kubernetes-client"
    fi
    command -v kubectl >/dev/null 2>&1 || die "kubectl is not installed (Debian: kubernetes-client)"
}

# A Python 3 with PyYAML (and, for the schema walk, the kubernetes models): Debian's first, as the
# python3 first on PATH may be another interpreter without Debian's modules.
pick_python() {
    local mods=$1 p
    for p in /usr/bin/python3 python3; do
        if command -v "$p" >/dev/null 2>&1 && "$p" -c "import $mods" 2>/dev/null; then
            PY=$p # used by the scripts that source this file
            return 0
        fi
    done
    die "no python3 that can import $mods (Debian: python3-yaml python3-kubernetes)"
}

# workdir NAME: a fresh directory under the build tree's deploy work area (kept for inspection
# after a failure, replaced on the next run).
workdir() {
    local base=${PROMC_DEPLOY_WORK:?PROMC_DEPLOY_WORK must name a work directory}
    rm -rf "${base:?}/$1"
    mkdir -p "$base/$1"
    echo "$base/$1"
}
