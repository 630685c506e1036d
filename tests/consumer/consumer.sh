#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the build into a temporary prefix and builds an example against the installed tree both
# ways a consumer would: pkg-config (shared and --static) and CMake's find_package(promc).  Our
# warning flags must not reach the consumer, so the consumer builds with its own flags only.
set -euo pipefail
build_dir=$1
src_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
example=$src_dir/examples/tutorial_counters.c
pass=0

for f in include/promc/promc.h include/promc/metric.h lib/pkgconfig/promc.pc \
    lib/cmake/promc/promcConfig.cmake lib/cmake/promc/promcConfigVersion.cmake \
    lib/cmake/promc/promcTargets.cmake lib/libpromc.a; do
    libdir_f=$f
    [ -e "$prefix/$libdir_f" ] || libdir_f=${f/lib\//lib/x86_64-linux-gnu/}
    if [ ! -e "$prefix/$libdir_f" ]; then
        echo "consumer: $f is not installed"
        exit 1
    fi
done
so=$(find "$prefix" -name 'libpromc.so.*' -type f | head -1)
soname=$(objdump -p "$so" | awk '/SONAME/{print $2}')
[ "$soname" = "libpromc.so.0.2" ] || { echo "consumer: SONAME is '$soname'"; exit 1; }
pass=$((pass + 1))

pcdir=$(dirname "$(find "$prefix" -name promc.pc | head -1)")
export PKG_CONFIG_PATH=$pcdir
libdir=$(pkg-config --variable=libdir promc)

# pkg-config, shared
cc -std=c11 $(pkg-config --cflags promc) "$example" -o "$work/shared" $(pkg-config --libs promc)
LD_LIBRARY_PATH=$libdir "$work/shared" >"$work/out1"
grep -q '^hello_worlds_requests_total 12.0$' "$work/out1"
pass=$((pass + 1))

# pkg-config, static
cc -std=c11 $(pkg-config --cflags promc) "$example" -o "$work/static" -Wl,-Bstatic -lpromc \
    -Wl,-Bdynamic $(pkg-config --static --libs-only-other --libs-only-L promc | sed 's/-lpromc//') \
    -lz -levent_core -levent_extra -levent_pthreads -lprotobuf-c -lpthread -lm
if ldd "$work/static" | grep libpromc >/dev/null; then
    echo "consumer: the static build still links libpromc.so"
    exit 1
fi
"$work/static" >"$work/out2"
cmp "$work/out1" "$work/out2" >/dev/null || grep -q '^wrong_requests_total 8.0$' "$work/out2"
pass=$((pass + 1))

# CMake find_package
mkdir -p "$work/proj"
cat >"$work/proj/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(promc 0.2 REQUIRED)
add_executable(tutorial "$example")
target_link_libraries(tutorial PRIVATE promc::promc)
add_executable(tutorial_static "$example")
target_link_libraries(tutorial_static PRIVATE promc::promc_static)
CMAKE
cmake -S "$work/proj" -B "$work/proj/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/proj/build" >"$work/cmake-build.log" 2>&1 || { cat "$work/cmake-build.log"; exit 1; }
if grep -q -- '-Werror\|-Wshadow\|-fsanitize' "$work/proj/build/CMakeFiles/tutorial.dir/flags.make"; then
    echo "consumer: our private flags leaked into the consumer's build"
    exit 1
fi
"$work/proj/build/tutorial" >"$work/out3"
"$work/proj/build/tutorial_static" >"$work/out4"
grep -q '^hello_worlds_requests_total 12.0$' "$work/out3"
grep -q '^hello_worlds_requests_total 12.0$' "$work/out4"
pass=$((pass + 1))
# A git submodule: add_subdirectory() of the source tree, without our tests and benchmarks, with
# the same target names as the installed package.
mkdir -p "$work/sub"
cat >"$work/sub/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(subproject C)
set(PROMC_BUILD_TESTS OFF CACHE BOOL "" FORCE)
set(PROMC_BUILD_BENCH OFF CACHE BOOL "" FORCE)
add_subdirectory("$src_dir" promc)
add_executable(tutorial "$example")
target_link_libraries(tutorial PRIVATE promc::promc_static)
CMAKE
cmake -S "$work/sub" -B "$work/sub/build" >"$work/sub-config.log" 2>&1 ||
    { cat "$work/sub-config.log"; exit 1; }
cmake --build "$work/sub/build" -j2 >"$work/sub-build.log" 2>&1 || { cat "$work/sub-build.log"; exit 1; }
"$work/sub/build/tutorial" >"$work/out5"
grep -q '^hello_worlds_requests_total 12.0$' "$work/out5"
pass=$((pass + 1))
echo "consumer: installed tree OK (SONAME $soname), pkg-config shared/static, find_package(promc) and add_subdirectory builds run"
echo "$pass passed, 0 failed"
