#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the pinned npm packages of tests/deploy (package-lock.json) into NODE_DIR in the build
# tree, with npm's cache there too; does nothing when that exact lock is already installed.
# Usage: npm_ci.sh NODE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
dir=$1
need node nodejs
need npm npm
mkdir -p "$dir"
if [ -d "$dir/node_modules" ] && cmp -s "$here/package-lock.json" "$dir/package-lock.json"; then
    echo "npm packages already installed from this package-lock.json in $dir"
    exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$dir/"
cd "$dir"
echo "node $(node --version), npm $(npm --version): npm ci in $dir"
# kubernetes-models 5.1 declares node >= 22 and runs on 20 (checked by deploy_schemas): the engine
# warning is expected on Debian 12 machines.
set +e
npm ci --no-audit --no-fund --cache "$dir/.npm-cache" >npm-ci.log 2>&1
rc=$?
set -e
grep -v '^npm warn EBADENGINE' npm-ci.log || true
[ $rc = 0 ] || die "npm ci failed (exit $rc)"
[ -d node_modules/kubernetes-models ] || die "npm ci did not install kubernetes-models"
echo "installed: $(ls node_modules | tr '\n' ' ')"
