#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A/B of two example-001 command lines on /hello: alternating wrk runs, medians of each side.
#
#   bench/ab-hello.sh REPS SECONDS 'COMMAND A' 'COMMAND B'
#   e.g. bench/ab-hello.sh 6 5 'build-bench/service/example-001 --scheduler normal' \
#                              'build-bench/service/example-001'
#
# Each run starts the command (with --fail-rate 0 appended; it must serve /hello on port 8001),
# warms it with 2 s of load, then runs `wrk -t1 -c50 -dSECONDS --latency` and reads the server's
# CPU time from /proc/PID/stat.  Prints every run and the medians.  A quick tool for deciding
# whether one change is worth keeping; bench/run.sh is the measurement of record.
set -euo pipefail
[ $# -eq 4 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
reps=$1 secs=$2
tck=$(getconf CLK_TCK)
one() {
    local cmd=$1
    # shellcheck disable=SC2086 # the command line is split on purpose
    $cmd --fail-rate 0 >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:8001/hello && break; sleep 0.1; done
    wrk -t1 -c50 -d2s http://127.0.0.1:8001/hello >/dev/null
    local a b c d out
    read -r a b < <(awk '{print $14, $15}' "/proc/$pid/stat")
    out=$(wrk -t1 -c50 -d"${secs}s" --latency http://127.0.0.1:8001/hello)
    read -r c d < <(awk '{print $14, $15}' "/proc/$pid/stat")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    local req p99
    req=$(awk '/requests in/ {print $1}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    python3 -c "r=$req; print('req/s %.0f cpu_us %.2f user_us %.2f p99 %s' % (r / $secs, (($c - $a) + ($d - $b)) / $tck / r * 1e6, ($c - $a) / $tck / r * 1e6, '$p99'))"
}
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for i in $(seq "$reps"); do
    echo "A $(one "$3")" | tee -a "$results"
    echo "B $(one "$4")" | tee -a "$results"
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for side in "AB":
    r = [x for x in rows if x[0] == side]
    col = lambda k: statistics.median(float(x[x.index(k) + 1]) for x in r)
    print(f"{side}: median req/s {col('req/s'):.0f}, CPU per request {col('cpu_us'):.2f} µs "
          f"(user {col('user_us'):.2f}), over {len(r)} runs")
PY
