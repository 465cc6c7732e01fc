# Convenience wrapper around CMake. CI runs `make test` then `make sanitize`.
#
#   make deps       install missing Debian packages (scripts/deps.sh)
#   make build      configure + build ./build (RelWithDebInfo, -Werror)
#   make demo       build, then run $(DEMO) (needs root)
#   make test       build, then every ctest suite except fuzz and slow (the
#                   soak test: ctest -L slow by hand); runtime needs root
#   make sanitize   clang ASan+UBSan build in ./build-asan, libFuzzer target;
#                   runs the unit, golden, cli and fuzz suites
#   make install    build, then install into $(DESTDIR)$(PREFIX) (PREFIX=/usr/local):
#                   bin/trace, share/man/man8/trace.8, bash completion
#   make package    build, then a Debian package in ./build (cpack -G DEB)
#   make bench      bench/run.sh
#   make format     clang-format the C sources in place
#   make clean
#
# Variables: PREFIX, DESTDIR (install), BUILD, ASAN_BUILD, BUILD_TYPE, WERROR, JOBS, FUZZ_SECONDS, CTEST_ARGS, DEMO.

SHELL := /bin/bash

BUILD        ?= build
ASAN_BUILD   ?= build-asan
BUILD_TYPE   ?= RelWithDebInfo
WERROR       ?= ON
JOBS         ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CTEST_ARGS   ?=
SAN_CC       ?= clang
SAN_CXX      ?= clang++

PREFIX       ?= /usr/local

DEMO ?= ./$(BUILD)/trace -e 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); } interval:s:5 { exit(); }'

export ASAN_OPTIONS  ?= detect_leaks=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

.PHONY: all deps configure build demo test sanitize sanitize-build bench format clean install package

all: build

deps:
	@scripts/deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DWERROR=$(WERROR)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	$(DEMO)

test: build
	@rm -f $(BUILD)/tests/gen/summary.txt $(BUILD)/tests/vm/summary.txt
	@mkdir -p $(BUILD)/tests/vm
	ctest --test-dir $(BUILD) --output-on-failure -LE 'fuzz|slow' $(CTEST_ARGS); rc=$$?; \
	cat $(BUILD)/tests/gen/summary.txt $(BUILD)/tests/vm/summary.txt 2>/dev/null; exit $$rc

# -O1: fast enough to fuzz, asserts kept (Debug leaves NDEBUG undefined).
sanitize-build: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
		-DCMAKE_C_COMPILER=$(SAN_CC) -DCMAKE_CXX_COMPILER=$(SAN_CXX) \
		-DSANITIZE=ON -DFUZZ=ON -DWERROR=$(WERROR) -DFUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)

sanitize: sanitize-build
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -L 'unit|golden|cli|fuzz' $(CTEST_ARGS)

# DESTDIR is read from the environment (or the make command line) by cmake --install.
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

package: build
	cd $(BUILD) && cpack -G DEB

bench: build
	@if [ -x bench/run.sh ]; then bench/run.sh ./$(BUILD)/trace; \
	elif [ -f bench/run.sh ]; then bash bench/run.sh ./$(BUILD)/trace; \
	else echo "bench/run.sh is not there yet"; fi

format:
	@files=$$(git ls-files '*.c' '*.h'); \
	if [ -n "$$files" ]; then clang-format -i $$files; fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
