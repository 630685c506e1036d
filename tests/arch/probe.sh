#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# probe.sh CMAKE BUILD_DIR LAYER GOOD_TARGET [BAD_TARGET:HEADER ...]
# Builds the layer's control probe (must succeed), then each bad probe (must fail, and fail because
# the compiler cannot find HEADER, not for any other reason). Both the GCC wording ("HEADER: No such
# file or directory") and the Clang wording ("'HEADER' file not found") are accepted.
set -uo pipefail
cmake=$1 build=$2 layer=$3 good=$4
shift 4
pass=0 fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if "$cmake" --build "$build" --target "$good" >"$log" 2>&1; then
    echo "ok: $layer may include the headers of the layers below it"
    pass=$((pass + 1))
else
    echo "FAIL: the control probe of $layer does not compile:"
    cat "$log"
    fail=$((fail + 1))
fi
for spec in "$@"; do
    target=${spec%%:*} header=${spec#*:}
    if "$cmake" --build "$build" --target "$target" >"$log" 2>&1; then
        echo "FAIL: $target compiled: $layer can include $header"
        fail=$((fail + 1))
    elif grep -qE "$header: No such file or directory|'$header' file not found" "$log"; then
        echo "ok: $layer cannot include $header ($target fails to compile)"
        pass=$((pass + 1))
    else
        echo "FAIL: $target failed for another reason than the missing $header:"
        cat "$log"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
