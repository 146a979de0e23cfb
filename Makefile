# k8c — thin wrapper over CMake. `make` builds build/k8c; `make test` runs every test
# (unit + storage under ASan/UBSan, fuzz smoke under clang, e2e with the real kubectl);
# `make demo` starts a one-node cluster with the seed's web app (`make demo NODES=3`: the
# seed's app on three nodes); `make bench` measures.
JOBS ?= $(shell nproc)
DEPS_STAMP := build/.deps-ok

.PHONY: all deps build test test-unit test-fuzz test-e2e fuzz demo bench clean format format-check codegen codegen-check

all: build

$(DEPS_STAMP): scripts/install-deps.sh
	bash scripts/install-deps.sh
	mkdir -p build && touch $@

deps: $(DEPS_STAMP)

build: $(DEPS_STAMP)
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j$(JOBS)

build-asan/CMakeCache.txt: $(DEPS_STAMP)
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DK8C_SANITIZE=ON >/dev/null

build-fuzz/CMakeCache.txt: $(DEPS_STAMP)
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DK8C_FUZZ=ON >/dev/null

test: build format-check codegen-check test-unit test-fuzz test-e2e

test-unit: build-asan/CMakeCache.txt
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -L unit -j$(JOBS)

test-fuzz: build-fuzz/CMakeCache.txt
	cmake --build build-fuzz -j$(JOBS)
	cd build-fuzz && ctest --output-on-failure -L fuzz

test-e2e: build
	cd build && ctest --output-on-failure -L e2e

# Open-ended fuzzing (make test runs a fixed, reproducible amount): FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 300
fuzz: build-fuzz/CMakeCache.txt
	cmake --build build-fuzz -j$(JOBS)
	for f in build-fuzz/fuzz_*; do [ -x "$$f" ] || continue; n=$$(basename $$f); \
	  mkdir -p build-fuzz/fuzz-corpus/$$n; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 build-fuzz/fuzz-corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

codegen:
	python3 tools/codegen/gen.py

codegen-check:
	bash tools/codegen/check.sh

demo: build
	bash scripts/demo.sh $(if $(NODES),--nodes $(NODES))

bench: build
	bash bench/run.sh

FORMAT_FILES = $$(git ls-files -co --exclude-standard 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 'bench/*.h' | grep -v '/gen/')

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format-check: sources are clang-formatted"

clean:
	rm -rf build build-asan build-fuzz
