#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every C source and header of the repository is clang-formatted (.clang-format); a diff fails.
set -euo pipefail
cd "$1"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git ls-files '*.c' '*.h')
else
    files=$(find include src service examples tests bench -name '*.[ch]')
fi
bad=0
for f in $files; do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "not clang-formatted: $f (run: clang-format -i $f)"
        bad=$((bad + 1))
    fi
done
n=$(wc -w <<<"$files")
echo "format_check: $n files, $bad not formatted"
echo "$((n - bad)) passed, $bad failed"
[ "$bad" = 0 ]
