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

.PHONY: all deps build run test test-release test-asan test-tsan bench fuzz install format format-check clean

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

# Every fuzz target for FUZZ_SECONDS (default 60) each, new inputs kept in build-fuzz/corpus-new/
# (copy the interesting ones into tests/fuzz/corpus/ by hand).
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/deps.sh test
	$(CMAKE) -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROMC_FUZZ=ON -DPROMC_SANITIZE=address -DCMAKE_C_COMPILER=clang -DPROMC_BUILD_BENCH=OFF
	$(CMAKE) --build build-fuzz -j $(JOBS) --target fuzz_negotiate fuzz_names fuzz_exposition fuzz_handler fuzz_http fuzz_tls fuzz_webconfig
	@set -e; for t in negotiate names exposition handler http tls webconfig; do \
	  mkdir -p build-fuzz/corpus-new/$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  build-fuzz/tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    build-fuzz/corpus-new/$$t tests/fuzz/corpus/$$t 2>&1 | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==.*ERROR|SUMMARY)' ; \
	done

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-test build-asan build-tsan build-bench build-fuzz
