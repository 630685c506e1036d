#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS benchmarks, promc and the exporter-toolkit side by side in one run (never beside another
# benchmark: the machine has two cores).
#   small:  keep-alive TLS scrapes/s of a small registry (the tutorial's three counters, the
#           process collector, a 10-child family): bench/scrape_bench against bench/peers/go_hello
#           (client_golang's promhttp behind exporter-toolkit's web.Serve), wrk 1 thread,
#           4 connections, each figure the median of ROUNDS runs of SECONDS, alternating; the
#           same over plain HTTP for reference;
#   big:    one scrape of a 100,000-child family over TLS (new connection each, as Prometheus
#           opens one per target and keeps it), median of 15 curl runs, alternating;
#   hello:  /hello req/s of example-001 with and without --web-config-file on its metrics port,
#           wrk 1 thread, 50 connections, alternating.
# Both servers get the same web configuration (TLS 1.2-1.3, an EC P-256 certificate).
#   bench/tls.sh BUILD_DIR [ROUNDS] [SECONDS]        (defaults 5 and 5)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$1
rounds=${2:-5}
secs=${3:-5}
mkdir -p "$build"
build=$(cd "$build" && pwd)
peers="$build/bench-peers"
mkdir -p "$peers"
for tool in go wrk curl openssl /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "tls.sh: $tool is missing (scripts/deps.sh bench)" >&2; exit 1; }
done
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build "$build" -j "$(nproc)" --target scrape_bench example-001 >/dev/null
export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$peers/gocache" GOFLAGS=
(cd "$src/bench/peers/go_hello" && go build -o "$peers/go_hello" .)

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/tls.key" \
    -out "$work/tls.crt" -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
printf 'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n' >"$work/web.yml"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "tls.sh: nothing listens on $1" >&2
    exit 1
}
# start NAME CHILDREN TLS(0/1): starts a metrics server, sets $port and $pid.
start() {
    local name=$1 children=$2 tls=$3 web=()
    port=$(free_port)
    [ "$tls" = 1 ] && web=(--web-config-file "$work/web.yml")
    if [ "$name" = promc ]; then
        "$build/bench/scrape_bench" --children "$children" --port "$port" "${web[@]}" >/dev/null &
    else
        "$peers/go_hello" --bench-children "$children" --metrics-port "$port" --port 0 \
            --bind 127.0.0.1 "${web[@]}" >/dev/null 2>&1 &
    fi
    pid=$!
    pids+=("$pid")
    wait_port "$port"
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rps() { wrk -t1 -c"$2" -d"${secs}s" "$1" 2>/dev/null | awk '/Requests\/sec/ {print $2}'; }

echo "== small registry, keep-alive scrapes/s (wrk -t1 -c4, ${secs} s x $rounds)"
for scheme in https http; do
    : >"$work/promc.$scheme"
    : >"$work/go.$scheme"
    for _ in $(seq "$rounds"); do
        for impl in promc go; do
            start "$impl" 10 "$([ $scheme = https ] && echo 1 || echo 0)"
            curl -sk -o /dev/null "$scheme://127.0.0.1:$port/metrics"
            rps "$scheme://127.0.0.1:$port/metrics" 4 >>"$work/$impl.$scheme"
            stop
        done
    done
    p=$(median <"$work/promc.$scheme")
    g=$(median <"$work/go.$scheme")
    awk -v s="$scheme" -v p="$p" -v g="$g" 'BEGIN {
        printf "%-5s promc %9.0f /s   exporter-toolkit + client_golang %9.0f /s   promc/go %.2fx\n", s, p, g, p / g }'
done

echo "== one scrape of a 100,000-child family over TLS (median of 15 curl runs)"
for impl in promc go; do
    start "$impl" 100000 1
    eval "port_$impl=$port pid_$impl=$pid"
    curl -sk -o /dev/null "https://127.0.0.1:$port/metrics"
done
: >"$work/big.promc"
: >"$work/big.go"
for _ in $(seq 15); do
    for impl in promc go; do
        eval "p=\$port_$impl"
        curl -sk -o /dev/null -w '%{time_total}\n' "https://127.0.0.1:$p/metrics" >>"$work/big.$impl"
    done
done
rss_promc=$(awk '/VmHWM/ {print $2}' "/proc/$pid_promc/status")
rss_go=$(awk '/VmHWM/ {print $2}' "/proc/$pid_go/status")
kill "$pid_promc" "$pid_go" 2>/dev/null || true
p=$(median <"$work/big.promc")
g=$(median <"$work/big.go")
awk -v p="$p" -v g="$g" -v rp="$rss_promc" -v rg="$rss_go" 'BEGIN {
    printf "promc %.1f ms (peak RSS %.1f MB)   exporter-toolkit + client_golang %.1f ms (%.1f MB)   promc/go %.2fx\n",
        p * 1000, rp / 1024, g * 1000, rg / 1024, p / g }'

echo "== example-001 /hello req/s, with and without TLS on the metrics port (wrk -t1 -c50, ${secs} s x $rounds)"
: >"$work/hello.plain"
: >"$work/hello.tls"
for _ in $(seq "$rounds"); do
    for mode in plain tls; do
        hp=$(free_port)
        mp=$(free_port)
        web=()
        [ "$mode" = tls ] && web=(--web-config-file "$work/web.yml")
        "$build/service/example-001" --port "$hp" --metrics-port "$mp" --bind 127.0.0.1 \
            --threads 1 "${web[@]}" >/dev/null 2>&1 &
        pid=$!
        pids+=("$pid")
        wait_port "$hp"
        rps "http://127.0.0.1:$hp/hello" 50 >>"$work/hello.$mode"
        stop
    done
done
p=$(median <"$work/hello.plain")
t=$(median <"$work/hello.tls")
awk -v p="$p" -v t="$t" 'BEGIN {
    printf "plain metrics port %.0f /s   TLS metrics port %.0f /s   change %+.1f %%\n", p, t, (t - p) / p * 100 }'
