# The two set-up commands are `make run` and `make test`; the rest are conveniences.
SHELL := /bin/bash
JOBS ?= $(shell nproc)

.PHONY: run test build release deps bench format clean

deps:
	@scripts/install-deps

release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target poste -j $(JOBS)

build: deps
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

# Builds a release binary and serves on 127.0.0.1:8080 with SQLite in ./data.
# Logs are JSON lines by default (for collectors); a person at a terminal reads text more easily.
run: release
	@POSTE_LOG__FORMAT=$${POSTE_LOG__FORMAT:-text} ./build/release/src/app/poste serve $(ARGS)

# Builds the dev preset (ASan + UBSan), starts the test services, runs every tier, stops the services.
test: build
	@scripts/run-tests

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@bench/http/run

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	@rm -rf build
