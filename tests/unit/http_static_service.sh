#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# PROMC_STATIC_SERVICE=ON: configures the source tree in a build directory of its own, builds
# example-001, and checks that it is one static PIE (no interpreter, no NEEDED entry) that serves
# /hello and /metrics (process_* included) and exits 0 on SIGTERM; also that the option is OFF by
# default (the surrounding build's example-001 links libpromc.so).
#   http_static_service.sh SOURCE_DIR WORK_DIR DEFAULT_EXAMPLE_001 C_COMPILER
set -eu
src=$1
work=$2
default_bin=$3
cc=$4

fail() {
    echo "http_static_service: FAIL: $*" >&2
    exit 1
}

# The option's default: the build this test belongs to did not set it.
readelf -dW "$default_bin" | grep -q 'NEEDED.*libpromc' ||
    fail "$default_bin does not link libpromc.so: PROMC_STATIC_SERVICE must default to OFF"

build=$work/static-service-build
mkdir -p "$build"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" \
    -DPROMC_STATIC_SERVICE=ON -DPROMC_BUILD_TESTS=OFF -DPROMC_BUILD_BENCH=OFF \
    >"$work/static-service-cmake.log" 2>&1 || {
    cat "$work/static-service-cmake.log" >&2
    fail "configure with -DPROMC_STATIC_SERVICE=ON"
}
cmake --build "$build" --target example-001 -j 2 >"$work/static-service-build.log" 2>&1 || {
    tail -50 "$work/static-service-build.log" >&2
    fail "build of example-001 with -DPROMC_STATIC_SERVICE=ON"
}
bin=$build/service/example-001

hdr=$(readelf -hW "$bin")
echo "$hdr" | grep -q 'Type: *DYN' || fail "not a position-independent executable: $hdr"
if readelf -lW "$bin" | grep -q 'Requesting program interpreter'; then
    fail "has a program interpreter (not static)"
fi
if readelf -dW "$bin" | grep -q NEEDED; then
    readelf -dW "$bin" | grep NEEDED >&2
    fail "needs shared libraries"
fi
echo "static PIE: $(wc -c <"$bin") bytes, no interpreter, no NEEDED"

out=$work/static-service.out
err=$work/static-service.err
# Created here, before the background start: the loop below must never read a file the child has
# not opened yet.
: >"$out"
: >"$err"
"$bin" --port 0 --metrics-port 0 --bind 127.0.0.1 --fail-rate 0 --drain-seconds 2 \
    >"$out" 2>"$err" &
pid=$!
trap 'kill -KILL $pid 2>/dev/null || true' EXIT
i=0
while [ "$(grep -c 'port' "$out" || true)" -lt 2 ]; do
    i=$((i + 1))
    [ $i -le 200 ] || fail "no ports printed within 20 s: $(cat "$err")"
    kill -0 $pid 2>/dev/null || fail "exited at start: $(cat "$err")"
    sleep 0.1
done
mport=$(sed -n 's/^Prometheus metrics available on port: \([0-9]*\) \/metrics$/\1/p' "$out")
hport=$(sed -n 's/^HTTP server available on port \([0-9]*\)$/\1/p' "$out")
[ -n "$mport" ] && [ -n "$hport" ] || fail "cannot read the ports from: $(cat "$out")"

body=$(curl -sS --noproxy '*' --max-time 10 "http://127.0.0.1:$hport/hello")
[ "$body" = "Hello World" ] || fail "/hello answered '$body'"
metrics=$(curl -sS --noproxy '*' --max-time 10 "http://127.0.0.1:$mport/metrics")
for want in 'hello_worlds_requests_total 1.0' 'process_resident_memory_bytes ' \
    'process_open_fds ' 'process_start_time_seconds ' 'process_cpu_seconds_total '; do
    case "$metrics" in
    *"$want"*) ;;
    *) fail "/metrics lacks '$want'" ;;
    esac
done
kill -TERM $pid
rc=0
wait $pid || rc=$?
trap - EXIT
[ $rc -eq 0 ] || fail "exit $rc after SIGTERM: $(cat "$err")"
grep -q '^example-001: stopped: hello=1 wrong=0 failures=0$' "$err" ||
    fail "no stopped line: $(cat "$err")"
echo "serves /hello and /metrics (process_* included), SIGTERM -> exit 0"
