#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A/B of two builds of the library benchmark: bench_promc of build A and of build B run
# alternately (A, B, A, B, ...) on each workload, so that a drift of the machine's speed during the
# run falls on both sides alike.  Prints each side's minimum and median and B's change against A.
#
#   bench/ab-lib.sh REPS BUILD_A BUILD_B [WORKLOAD...]
#   e.g. git worktree add /tmp/old 0665f4e && cmake -S /tmp/old -B /tmp/old/b \
#          -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" && \
#        cmake --build /tmp/old/b --target bench_promc && \
#        bench/ab-lib.sh 10 /tmp/old/b build-bench
#
# Workloads default to L1 L2 L3 L3k L6 L4 L5 at bench/run.sh's sizes.  A quick tool for deciding
# whether a change costs anything; bench/run.sh (with the peers) is the measurement of record.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
reps=$1 a=$2/bench/bench_promc b=$3/bench/bench_promc
shift 3
[ -x "$a" ] && [ -x "$b" ] || { echo "ab-lib: no bench/bench_promc in $2 or $3" >&2; exit 2; }
[ $# -gt 0 ] || set -- L1 L2 L3 L3k L6 L4 L5
declare -A size=([L1]=50000000 [L2]=20000000 [L3]=10000000 [L3k]=50000000 [L6]=20000000
                 [L4]=100000 [L5]=1000000)
stats() { sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%s %s", v[1], m}'; }
printf '%-5s %-6s %10s %10s %10s %10s %8s\n' workload unit "A min" "A median" "B min" "B median" "B/A med"
for w in "$@"; do
    n=${size[$w]:?unknown workload $w}
    ra=() rb=()
    for _ in $(seq "$reps"); do
        ra+=("$("$a" "$w" "$n" | sed -nE 's/^RESULT .*ns_op=([0-9.e+-]+).*/\1/p')")
        rb+=("$("$b" "$w" "$n" | sed -nE 's/^RESULT .*ns_op=([0-9.e+-]+).*/\1/p')")
    done
    read -r amin amed <<<"$(printf '%s\n' "${ra[@]}" | stats)"
    read -r bmin bmed <<<"$(printf '%s\n' "${rb[@]}" | stats)"
    printf '%-8s %-6s %10.4g %10.4g %10.4g %10.4g %+7.1f%%\n' "$w" ns/op "$amin" "$amed" "$bmin" "$bmed" \
        "$(awk -v a="$amed" -v b="$bmed" 'BEGIN {print (b / a - 1) * 100}')"
done
