#!/usr/bin/env bash
# Only promc_* symbols leave the shared library (hidden visibility plus PROMC_API), and every
# function the public headers declare is among them.
set -euo pipefail
lib=$1
include_dir=$2
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
stray=$(grep -v '^promc_' <<<"$exported" || true)
if [ -n "$stray" ]; then
    echo "symbols exported without the promc_ prefix:"
    echo "$stray"
    exit 1
fi
declared=$(grep -hoE 'PROMC_API[^;(]*\bpromc_[a-z0-9_]+\(' "$include_dir"/promc/*.h |
    grep -oE 'promc_[a-z0-9_]+\($' | tr -d '(' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [ -n "$missing" ]; then
    echo "declared in the headers but not exported:"
    echo "$missing"
    exit 1
fi
echo "check_symbols: $(wc -l <<<"$exported") symbols, all promc_*, all $(wc -l <<<"$declared") declared functions exported"
echo "1 passed, 0 failed"
