# The two commands the README gives: `make demo` and `make check`. Both
# install what is missing (scripts/install-deps.sh), configure and build.
# `make package` builds BUILD_DIR/cleave_<version>_<arch>.deb (CPack).
# `make bench` builds and runs the benchmarks (BENCH_ARGS go to each one);
# `make check` never runs them. `make fuzz-programs SECONDS=N` checks random
# generated programs against their monoliths for N seconds (GEN_ARGS go to
# test/gen/harness.py). `make fuzz-compiler SECONDS=N` checks the compiler's
# contract on random hostile inputs for N seconds (CONTRACT_ARGS go to
# test/robust/contract.py). `make fuzz SECONDS=N` builds the runtime's
# libFuzzer targets in build-fuzz (clang-19, ASan, UBSan) and runs each for
# N seconds (scripts/fuzz.sh).

BUILD_DIR ?= build
CMAKE_FLAGS ?=
BENCH_ARGS ?=
SECONDS ?= 60
GEN_ARGS ?=
CONTRACT_ARGS ?=

.PHONY: all deps configure build check bench demo package fuzz-programs fuzz-compiler fuzz clean

all: build

deps:
	@scripts/install-deps.sh

# The repository's own build has the tests and the benchmarks; a build
# folder configured without them is given them.
configure: deps
	@if ! test -f $(BUILD_DIR)/build.ninja || \
	    ! grep -q '^CLEAVE_BUILD_TESTS:BOOL=ON' $(BUILD_DIR)/CMakeCache.txt; then \
	  cmake -S . -B $(BUILD_DIR) -G Ninja -DCLEAVE_BUILD_TESTS=ON \
	    -DCLEAVE_BUILD_BENCHMARKS=ON $(CMAKE_FLAGS); \
	fi

build: configure
	@cmake --build $(BUILD_DIR)

check: build
	@scripts/check.sh $(BUILD_DIR)

bench: build
	@scripts/bench.sh $(BUILD_DIR) $(BENCH_ARGS)

demo: build
	@scripts/demo.sh $(BUILD_DIR)

package: build
	@cmake --build $(BUILD_DIR) --target package

fuzz-programs: build
	@scripts/fuzz-programs.sh $(BUILD_DIR) $(SECONDS) $(GEN_ARGS)

fuzz-compiler: build
	@scripts/fuzz-compiler.sh $(BUILD_DIR) $(SECONDS) $(CONTRACT_ARGS)

fuzz: deps
	@scripts/fuzz.sh $(SECONDS)

clean:
	rm -rf $(BUILD_DIR)
