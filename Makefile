# SPDX-License-Identifier: Apache-2.0
# promc — the two commands a newcomer types: `make run` and `make test`.
# Everything builds with CMake; this file only names the steps.

JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
BUILD   ?= build
PREFIX  ?= /usr/local
ARGS    ?=
PROMETHEUS ?= 0
CMAKE   ?= cmake
CTEST   ?= ctest

.PHONY: all deps build run test test-release test-asan test-tsan bench install format format-check clean

all: build

deps:
	@scripts/deps.sh build

$(BUILD)/CMakeCache.txt:
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	$(CMAKE) --build $(BUILD) -j $(JOBS)

# Builds and starts example-001 in the foreground: /hello on :8001, /metrics on :8000.
# PROMETHEUS=1 also starts Prometheus on 127.0.0.1:9090 with deploy/prometheus/prometheus.yml.
run: build
	@PROMETHEUS=$(PROMETHEUS) scripts/run.sh $(BUILD)/service/example-001 $(ARGS)

# The whole suite: Release with -Werror (unit, conformance, e2e, deploy checks), then the unit and
# conformance tests under ASan+UBSan, then the stress tests under TSan.
test:
	@scripts/deps.sh test
	$(CMAKE) -S . -B build-test -DCMAKE_BUILD_TYPE=Release -DPROMC_WERROR=ON
	$(CMAKE) --build build-test -j $(JOBS)
	$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPROMC_WERROR=ON -DPROMC_SANITIZE=address -DCMAKE_C_COMPILER=clang
	$(CMAKE) --build build-asan -j $(JOBS)
	$(CMAKE) -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROMC_WERROR=ON -DPROMC_SANITIZE=thread -DCMAKE_C_COMPILER=clang
	$(CMAKE) --build build-tsan -j $(JOBS)
	scripts/test-all.sh

# Benchmarks side by side with the peers (bench/run.sh configures build-bench as Release itself).
bench:
	@scripts/deps.sh bench
	bench/run.sh build-bench

install: build
	$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-test build-asan build-tsan build-bench
