#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's API tour compiles (with our warnings, as errors) and runs: the first ```c block after
# "## API tour" is extracted as it stands.
set -euo pipefail
readme=$1 include=$2 lib=$3 cc=${4:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^## API tour/{tour=1} tour && /^```c$/{on=1; next} on && /^```$/{exit} on{print}' "$readme" >"$work/tour.c"
[ -s "$work/tour.c" ] || { echo "readme_tour: no C block under '## API tour'"; exit 1; }
"$cc" -std=c11 -Wall -Wextra -Werror -I"$include" "$work/tour.c" "$lib" \
    $(pkg-config --libs zlib libevent_core libevent_extra libevent_pthreads) -lpthread -lm -o "$work/tour"
"$work/tour" >"$work/out"
grep -q '^hello_worlds_requests_total 12.0$' "$work/out"
grep -q '^hello_world_exceptions_total 2.0$' "$work/out"
grep -q '^http_requests_total{code="200",method="GET"} 1.0$' "$work/out"
grep -q '^serving /metrics on port [1-9]' "$work/out"
echo "readme_tour: $(wc -l <"$work/tour.c") lines compiled with -Wall -Wextra -Werror and ran"
echo "1 passed, 0 failed"
