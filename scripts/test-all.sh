#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every ctest label in the build that fits it, and prints one closing line for the whole suite.
set -uo pipefail
cd "$(dirname "$0")/.."

total_pass=0
total_fail=0
run() { # run BUILD_DIR CTEST_ARGS...
    local dir=$1
    shift
    local log
    log=$(mktemp)
    ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 | tee "$log"
    local line
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "test-all: no ctest summary from $dir $*" >&2
        total_fail=$((total_fail + 1))
    else
        local failed out_of
        failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
        out_of=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
        total_fail=$((total_fail + failed))
        total_pass=$((total_pass + out_of - failed))
    fi
    rm -f "$log"
}

echo "== Release, -Werror: every test"
run build-test
echo "== ASan+UBSan: unit and conformance"
run build-asan -L 'unit|conformance'
echo "== TSan: stress"
run build-tsan -L stress

echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
