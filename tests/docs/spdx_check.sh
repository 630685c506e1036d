#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# spdx_check.sh ROOT: every source file of the repository carries the SPDX line of LICENSE in its
# first lines, and LICENSE is the Apache License 2.0.
set -uo pipefail
root=$1
cd "$root" || exit 2
grep -q "Apache License" LICENSE && grep -q "Version 2.0, January 2004" LICENSE ||
    { echo "FAIL: LICENSE is not the Apache License 2.0"; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git ls-files '*.c' '*.h' '*.cpp' '*.go' '*.mjs' '*.py' '*.sh' '*.cmake' 'CMakeLists.txt' \
        '*/CMakeLists.txt' Makefile .ci/run deploy/Dockerfile)
else
    files=$(find . -path ./build\* -prune -o \( -name '*.[ch]' -o -name '*.py' -o -name '*.sh' \
        -o -name CMakeLists.txt \) -print)
fi
missing=0 n=0
for f in $files; do
    n=$((n + 1))
    if ! head -n 3 "$f" | grep -q "SPDX-License-Identifier: Apache-2.0"; then
        echo "FAIL: no SPDX line: $f"
        missing=$((missing + 1))
    fi
done
echo "spdx_check: $n files, $missing without the SPDX line"
[ "$missing" = 0 ] && [ "$n" -gt 100 ]
