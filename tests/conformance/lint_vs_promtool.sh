#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# lint_vs_promtool.sh PROGRAM PROMTOOL: promc_registry_lint() reports exactly what the real
# `promtool check metrics` reports for the same exposition, line for line (order aside).
set -uo pipefail
prog=$1 promtool=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$prog" "$work" || { echo "FAIL: $prog failed"; exit 1; }
"$promtool" check metrics <"$work/metrics.txt" >"$work/promtool.txt" 2>&1
rc=$?
[ "$rc" = 3 ] || [ "$rc" = 1 ] || { echo "FAIL: promtool exited $rc:"; cat "$work/promtool.txt"; exit 1; }
sort "$work/promtool.txt" | sed '/^$/d' >"$work/a"
sort "$work/lint.txt" | sed '/^$/d' >"$work/b"
if ! diff -u "$work/a" "$work/b"; then
    echo "FAIL: promc_registry_lint (+) and promtool check metrics (-) differ"
    exit 1
fi
[ "$(wc -l <"$work/a")" -ge 8 ] || { echo "FAIL: too few problems to compare"; exit 1; }
echo "lint_vs_promtool: $(wc -l <"$work/a") problems, the same in promtool and promc"
echo "1 passed, 0 failed"
