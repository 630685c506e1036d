#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Only public promc_* symbols leave the shared library (hidden visibility plus PROMC_API): no
# internal promc__* name and nothing without the prefix; every exported symbol is a function the
# public headers declare, and every declared function is exported.
set -euo pipefail
lib=$1
include_dir=$2
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
stray=$(grep -vE '^promc_[a-z0-9]' <<<"$exported" || true)
if [ -n "$stray" ]; then
    echo "symbols exported that are not public promc_* names (promc__* is internal):"
    echo "$stray"
    exit 1
fi
# Declarations may span lines (clang-format breaks after the return type): read the headers whole.
declared=$(cat "$include_dir"/promc/*.h | tr '\n' ' ' | grep -oE 'PROMC_API[^;(]*\bpromc_[a-z0-9_]+\(' |
    grep -oE 'promc_[a-z0-9_]+\($' | tr -d '(' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [ -n "$missing" ]; then
    echo "declared in the headers but not exported:"
    echo "$missing"
    exit 1
fi
undeclared=$(comm -13 <(echo "$declared") <(echo "$exported"))
if [ -n "$undeclared" ]; then
    echo "exported but declared in no public header:"
    echo "$undeclared"
    exit 1
fi
echo "check_symbols: $(wc -l <<<"$exported") symbols, all promc_*, all $(wc -l <<<"$declared") declared functions exported"
echo "1 passed, 0 failed"
