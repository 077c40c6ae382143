# finegrain — the front door. CMake does the building; this file names the tasks.
#   make            Release build of the library and the fg-* programs (into build/)
#   make test       build, then unit tests and end-to-end tests of the programs
#   make demo       the whole chain on flowers12 with SqueezeNet (see README)
#   make bench      build and run the benchmarks in bench/
#   make install    install programs, model specs and pipelines under PREFIX
#   make deps       install the Debian packages the build needs (as root)
#   make check-asan build with AddressSanitizer + UBSan and run the tests
#   make format     apply .clang-format to the C++ sources; make format-check: fail if one differs

PREFIX ?= /usr/local
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
# Where models and datasets live (read in place). Default: ../shared beside the project.
FINEGRAIN_ASSETS ?= $(abspath $(CURDIR)/../shared)
export FINEGRAIN_ASSETS

DEB_PACKAGES = g++ cmake make pkg-config libopencv-dev libsvm-dev libsvm-tools \
               libeigen3-dev libboost-program-options-dev doctest-dev libomp-dev help2man libopenblas-dev

.PHONY: all build test demo bench install deps check-asan clean format format-check

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
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	bash pipelines/demo.sh

bench: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DFG_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	bash bench/run.sh $(BUILD)

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
	rm -rf $(BUILD) build-asan
