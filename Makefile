# finegrain — the front door. CMake does the building; this file names the tasks.
#   make            Release build of the library and the fg-* programs (into build/)
#   make test       build (and the fuzz targets, with clang-14), then unit tests, end-to-end
#                   tests of the programs and a brief run of every fuzz target
#   make demo       the whole chain on flowers12 with SqueezeNet (see README)
#   make bench      build and run the benchmarks in bench/
#   make bench-compare  portable (default) vs -march=native builds, same run (bench/compare-builds.sh)
#   make install    install programs, model specs and pipelines under PREFIX
#   make deps       install the Debian packages the build needs (as root)
#   make check-asan build with AddressSanitizer + UBSan and run the tests
#   make fuzz       libFuzzer campaigns on every reader (FUZZ_RUNS per target, default
#                   10^6, or FUZZ_SECONDS; FUZZ_TARGETS picks some), built with clang in
#                   build-fuzz/; `make test` builds them too, and its ctest fuzz_brief
#                   replays the regressions and runs each target briefly
#   make format     apply .clang-format to the C++ sources; make format-check: fail if one differs

PREFIX ?= /usr/local
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
# Where models and datasets live (read in place). Default: ../shared beside the project.
FINEGRAIN_ASSETS ?= $(abspath $(CURDIR)/../shared)
export FINEGRAIN_ASSETS

DEB_PACKAGES = g++ cmake make pkg-config libopencv-dev libsvm-dev libsvm-tools \
               libeigen3-dev libjpeg-dev libboost-program-options-dev doctest-dev libomp-dev help2man libopenblas-dev \
               clang-14 libclang-rt-14-dev clang-format slurm-wlm munge parallel procps
# The fuzz targets: clang's libFuzzer, the readers' part of the library instrumented.
FUZZ_BUILD ?= build-fuzz
FUZZ_CXX ?= clang++-14

.PHONY: all build test demo bench bench-compare install deps check-asan clean format format-check \
        fuzz fuzz-build fuzz-brief fuzz-build-if-clang

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	    echo "make deps: installing:" $$missing; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	else \
	    echo "make deps: missing Debian packages. Run as root:"; \
	    echo "  apt-get update && apt-get install -y" $$missing; \
	    exit 1; \
	fi

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DFG_FUZZ_BUILD_DIR=$(abspath $(FUZZ_BUILD)) \
	  $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The ctest fuzz_brief (every fuzz regression input replayed, then a few
# thousand executions per target) runs the clang build in $(FUZZ_BUILD)/, so
# `make test` builds that first. Without clang-14 the test is skipped with a
# message, except in CI (CI=true), where it fails.
test: build
	@$(MAKE) --no-print-directory fuzz-build-if-clang
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

fuzz-build-if-clang:
	@if command -v $(FUZZ_CXX) > /dev/null 2>&1; then \
	  echo "make test: building the fuzz targets in $(FUZZ_BUILD)/ (log: $(FUZZ_BUILD).log)"; \
	  $(MAKE) --no-print-directory fuzz-build > $(FUZZ_BUILD).log 2>&1 || { tail -30 $(FUZZ_BUILD).log; exit 1; }; \
	else \
	  echo "make test: $(FUZZ_CXX) not installed: the fuzz_brief test is skipped (make deps installs it)"; \
	fi

# The fuzz regression check alone (what the ctest fuzz_brief runs).
fuzz-brief: fuzz-build
	bash tests/fuzz/run.sh $(FUZZ_BUILD) --brief

fuzz-build: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Fuzz -DCMAKE_CXX_FLAGS_FUZZ=-O1 \
	  -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) -DFG_FUZZ=ON -DFG_NATIVE=OFF $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz-seeds \
	  $$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$$//')

fuzz: fuzz-build
	bash tests/fuzz/run.sh $(FUZZ_BUILD)

demo: build
	bash pipelines/demo.sh

bench: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DFG_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	bash bench/run.sh $(BUILD)

bench-compare: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DFG_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	cmake -S . -B $(BUILD)-native -DCMAKE_BUILD_TYPE=Release -DFG_BUILD_BENCH=ON -DFG_NATIVE=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD)-native -j $(JOBS) --target fg-mic bench-mic bench-pool bench-pca bench-train
	bash bench/compare-builds.sh $(BUILD)-native $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

check-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFG_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure

CLANG_FORMAT ?= clang-format
format:
	git ls-files -z '*.cpp' '*.hpp' | xargs -0 $(CLANG_FORMAT) -i

format-check:
	git ls-files -z '*.cpp' '*.hpp' | xargs -0 $(CLANG_FORMAT) --dry-run -Werror

clean:
	rm -rf $(BUILD) build-asan $(FUZZ_BUILD) $(FUZZ_BUILD).log
