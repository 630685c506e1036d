#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Push and textfile benchmarks, side by side in one run:
#   push:     a 100,000-child gauge family PUT to the local prometheus-pushgateway, promc against
#             client_golang's push package (its default, protobuf), the group deleted after each
#             push (not timed) so that every push meets an empty Pushgateway;
#   textfile: the same family written for node_exporter, promc_registry_write_textfile against
#             client_python's write_to_textfile.
# The implementations alternate round by round; each figure is the median of ROUNDS x 3 runs.
#   bench/push-textfile.sh BUILD_DIR [N] [ROUNDS]      (defaults 100000 and 5)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$1
n=${2:-100000}
rounds=${3:-5}
mkdir -p "$build"
build=$(cd "$build" && pwd)
peers="$build/bench-peers"
mkdir -p "$peers"
for tool in go prometheus-pushgateway /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "push-textfile.sh: $tool is missing (scripts/deps.sh bench)" >&2; exit 1; }
done
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build "$build" -j "$(nproc)" --target bench_push_textfile >/dev/null
export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$peers/gocache" GOFLAGS=
(cd "$src/bench/peers/push_go" && go build -o "$peers/bench_push_go" .)

work=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
prometheus-pushgateway --web.listen-address=127.0.0.1:"$port" \
    --persistence.file="$work/pg.data" >"$work/pg.log" 2>&1 &
pg=$!
trap 'kill $pg 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/-/ready" && break
    sleep 0.1
done
url="http://127.0.0.1:$port"
: >"$work/times"
for r in $(seq "$rounds"); do
    echo "push-textfile: round $r of $rounds" >&2
    "$build/bench/bench_push_textfile" push "$url" "$n" 3 >>"$work/times"
    "$peers/bench_push_go" "$url" "$n" 3 >>"$work/times"
    "$build/bench/bench_push_textfile" textfile "$work/promc.prom" "$n" 3 >>"$work/times"
    /usr/bin/python3 "$src/bench/peers/textfile_py.py" "$work/python.prom" "$n" 3 >>"$work/times"
done
/usr/bin/python3 - "$work/times" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    kind, impl, n, *ms = line.split()
    t.setdefault((kind, impl), []).extend(float(x) for x in ms)
def med(k): return statistics.median(t[k])
print("| workload (%s series) | promc ms | peer | peer ms | promc / peer |" % n)
print("|---|---|---|---|---|")
for kind, peer in (("push", "go"), ("textfile", "python")):
    a, b = med((kind, "promc")), med((kind, peer))
    print("| %s | %.1f | %s | %.1f | %.2f |" % (kind, a, {"go": "client_golang push", "python": "client_python write_to_textfile"}[peer], b, a / b))
PY
