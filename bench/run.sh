#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds promc's benchmark programs and the Debian-packaged peers, then runs every workload for every
# implementation in one invocation (bench/driver.py) and prints the side-by-side tables.
#
#   bench/run.sh BUILD_DIR [lib|service]...      (make bench: bench/run.sh build-bench)
#
# BUILD_DIR is (re)configured Release with -O2, the level the C++ peers are compiled with.
# BENCH_QUICK=1 is a smoke run (small N, 2 s load runs, one repetition): it proves the harness works
# end to end and measures nothing.  Other knobs: see the top of bench/driver.py.
# The report is printed and also written to BUILD_DIR/bench-results.{md,json}.
set -euo pipefail

usage() {
    echo "usage: bench/run.sh BUILD_DIR [lib|service]..." >&2
    exit 2
}
[ $# -ge 1 ] || usage
src=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
for part in "$@"; do
    case "$part" in lib | service) ;; *) usage ;; esac
done
mkdir -p "$build"
build=$(cd "$build" && pwd)
peers="$build/bench-peers"
mkdir -p "$peers"

# Every tool must be there: a missing peer is a failure, never a silently shorter table.
missing=""
for tool in cmake g++ go wrk nginx /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || missing="$missing python3-prometheus-client"
[ -d /usr/share/gocode/src/github.com/prometheus/client_golang ] ||
    missing="$missing golang-github-prometheus-client-golang-dev"
[ -f /usr/include/prometheus/exposer.h ] || missing="$missing prometheus-cpp-dev"
if [ -n "$missing" ]; then
    echo "bench/run.sh: missing:$missing — run scripts/deps.sh bench (as root) first" >&2
    exit 1
fi

step() { echo "bench: $*" >&2; }

# example-001 is measured as it ships in deploy/Dockerfile's image: one static executable
# (BENCH_STATIC_SERVICE=OFF measures the dynamically linked build instead).
step "configuring $build (Release, -O2, static example-001: ${BENCH_STATIC_SERVICE:-ON})"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DPROMC_STATIC_SERVICE="${BENCH_STATIC_SERVICE:-ON}" \
    >"$build/bench-cmake.log" 2>&1 || {
    cat "$build/bench-cmake.log" >&2
    exit 1
}
targets="bench_promc"
# The service benchmark needs the service and the scrape program; both exist once the HTTP module
# does (the driver fails loudly for whatever is not built).
if grep -q '^scrape_bench' <(cmake --build "$build" --target help 2>/dev/null | sed 's/^\.\.\. //'); then
    targets="$targets scrape_bench"
fi
if grep -q '^example-001' <(cmake --build "$build" --target help 2>/dev/null | sed 's/^\.\.\. //'); then
    targets="$targets example-001"
fi
step "building $targets"
# shellcheck disable=SC2086
cmake --build "$build" -j "$(nproc)" --target $targets >&2

step "building the C++ peers (g++ -O2, prometheus-cpp)"
g++ -O2 -std=c++17 -o "$peers/bench_cpp" "$src/bench/peers/lib_cpp.cpp" -lprometheus-cpp-core \
    -lpthread
g++ -O2 -std=c++17 -o "$peers/cpp_hello" "$src/bench/peers/cpp_hello.cpp" \
    -lprometheus-cpp-pull -lprometheus-cpp-core -lcivetweb -lpthread

step "building the Go peers (client_golang from Debian's GOPATH)"
export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$peers/gocache" GOFLAGS=
(cd "$src/bench/peers/lib_go" && go build -o "$peers/bench_go" .)
(cd "$src/bench/peers/go_hello" && go build -o "$peers/go_hello" .)

step "running (sequentially; keep the machine otherwise idle for real numbers)"
exec /usr/bin/python3 "$src/bench/driver.py" --src "$src" --build "$build" --peers "$peers" \
    --out "$build/bench-results" "$@"
