# The README's two commands: `make run` and `make test`. Both install what is
# missing (Debian packages), configure and build with meson.
BUILD ?= build
PORT ?= 8080

.PHONY: all deps build run test bench format clean

all: build

deps:
	@scripts/install-deps

build: deps
	@test -f $(BUILD)/build.ninja || meson setup $(BUILD) -Dwerror=true
	meson compile -C $(BUILD)

run: build
	scripts/demo $(BUILD)

test: deps
	scripts/run-tests

bench: build
	meson devenv -C $(BUILD) /usr/bin/python3 $(CURDIR)/tests/bench/asr_bench.py

format: deps
	scripts/check-format --fix

clean:
	rm -rf build build-asan
