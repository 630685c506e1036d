#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's API tour compiles (with our warnings, as errors) and runs: the two ```c blocks
# after "## API tour" are extracted as they stand, each a program of its own.
set -euo pipefail
readme=$1 include=$2 lib=$3 cc=${4:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^## API tour/{tour=1} tour && /^```c$/{on=1; next} on && /^```$/{exit} on{print}' "$readme" >"$work/tour.c"
awk '/^## API tour/{tour=1} tour && /^```c$/{n++; if (n == 2) {on=1; next}} on && /^```$/{exit} on{print}' "$readme" >"$work/tour2.c"
[ -s "$work/tour.c" ] || { echo "readme_tour: no C block under '## API tour'"; exit 1; }
"$cc" -std=c11 -Wall -Wextra -Werror -I"$include" "$work/tour.c" "$lib" \
    $(pkg-config --libs zlib libevent_openssl libevent_core libevent_extra libevent_pthreads libssl libcrypto yaml-0.1 libcrypt libprotobuf-c libcurl) -lpthread -lm -o "$work/tour"
"$work/tour" >"$work/out"
grep -q '^hello_worlds_requests_total 12.0$' "$work/out"
grep -q '^hello_world_exceptions_total 2.0$' "$work/out"
grep -q '^http_requests_total{code="200",method="GET"} 1.0$' "$work/out"
grep -q '^serving /metrics on port [1-9]' "$work/out"
[ -s "$work/tour2.c" ] || { echo "readme_tour: no second C block under '## API tour'"; exit 1; }
"$cc" -std=c11 -Wall -Wextra -Werror -I"$include" "$work/tour2.c" "$lib" \
    $(pkg-config --libs zlib libevent_openssl libevent_core libevent_extra libevent_pthreads libssl libcrypto yaml-0.1 libcrypt libprotobuf-c libcurl) -lpthread -lm -o "$work/tour2"
(cd "$work" && ./tour2) >"$work/out2"
grep -qx 'queue_length = 3, lint problems: 0' "$work/out2"
grep -qx 'push: PROMC_ECONNECT' "$work/out2"
grep -qx 'handler: 200 text/plain; version=0.0.4; charset=utf-8' "$work/out2"
grep -qx 'queue_length{service="checkout"} 3.0' "$work/out2"
grep -qx 'job_duration_seconds_bucket{le="0.01",region="eu",service="checkout"} 0.0' "$work/tour.prom"
grep -qx 'job_duration_seconds_bucket{le="0.1",region="eu",service="checkout"} 1.0' "$work/tour.prom"
echo "readme_tour: $(cat "$work/tour.c" "$work/tour2.c" | wc -l) lines in two programs compiled with -Wall -Wextra -Werror and ran"
echo "1 passed, 0 failed"
